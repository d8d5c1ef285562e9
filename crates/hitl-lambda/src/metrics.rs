//! The workflow's own CloudWatch metric: one `ReviewsExpired` data point per
//! review that expired without a decision, so `ExpiredReviewsAlarm` notices a
//! reviewer who never confirmed the subscription (or unsubscribed) within one
//! review timeout.
//!
//! The metric is a CloudWatch embedded metric format (EMF) document: one JSON
//! object on one line of standard output, which Lambda sends to the function's
//! log group and CloudWatch Logs turns into a metric. It needs no
//! `cloudwatch:PutMetricData` permission and adds no call to the request path.
//! Structure from the EMF specification ("Specification: Embedded metric
//! format", CloudWatch user guide): a root `_aws` member with `Timestamp`
//! (milliseconds since the epoch) and `CloudWatchMetrics` (namespace, dimension
//! sets, metric names and units), and each dimension and metric value as a
//! root member of the same name.

use hitl_domain::DecisionRecord;
use serde_json::json;

/// The namespace of the workflow's own metrics (template.yaml, `ExpiredReviewsAlarm`).
pub const NAMESPACE: &str = "HumanReview";
/// The metric counting expired reviews.
pub const REVIEWS_EXPIRED: &str = "ReviewsExpired";
/// Its one dimension: the state machine's name, the alarm's dimension value.
pub const STATE_MACHINE_DIMENSION: &str = "StateMachineName";

/// The EMF line for a record whose review expired, or `None` when it did not
/// expire or its execution ARN names no state machine
/// (`arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>`).
pub fn expired_review_metric(record: &DecisionRecord, timestamp_ms: i64) -> Option<String> {
    if !record.expired {
        return None;
    }
    let state_machine = state_machine_name(&record.execution_arn)?;
    Some(
        json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[STATE_MACHINE_DIMENSION]],
                    "Metrics": [{"Name": REVIEWS_EXPIRED, "Unit": "Count"}]
                }]
            },
            STATE_MACHINE_DIMENSION: state_machine,
            REVIEWS_EXPIRED: 1,
            // Not a dimension: it only says which execution the point came from.
            "executionName": record.execution_name,
        })
        .to_string(),
    )
}

/// The state machine's name: the execution ARN's seventh field.
fn state_machine_name(execution_arn: &str) -> Option<&str> {
    let mut fields = execution_arn.split(':');
    match (fields.nth(5), fields.next(), fields.next()) {
        (Some("execution"), Some(name), Some(_)) if !name.is_empty() => Some(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hitl_domain::Decision;
    use serde_json::Value;

    const ARN: &str =
        "arn:aws:states:eu-west-1:123456789012:execution:HumanReviewStateMachine-AbC:refund-1042";

    fn record(expired: bool, execution_arn: &str) -> DecisionRecord {
        DecisionRecord {
            decision: Decision::Rejected,
            request: json!({"title": "Refund"}),
            review: json!({"result": false, "expired": expired}),
            decided_at: "2024-01-01T00:00:00Z".to_owned(),
            execution_arn: execution_arn.to_owned(),
            execution_name: "refund-1042".to_owned(),
            reviewer: None,
            comment: None,
            expired,
            votes: None,
            policy: None,
        }
    }

    #[test]
    fn given_an_expired_review_then_one_emf_line_counts_it_per_state_machine() {
        let line = expired_review_metric(&record(true, ARN), 1_700_000_000_000)
            .expect("an expired review is counted");
        assert!(!line.contains('\n'), "one line: {line}");
        let doc: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000_i64);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "HumanReview");
        assert_eq!(directive["Dimensions"], json!([["StateMachineName"]]));
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "ReviewsExpired", "Unit": "Count"}])
        );
        // Every dimension and metric the directive names is a root member.
        assert_eq!(doc["StateMachineName"], "HumanReviewStateMachine-AbC");
        assert_eq!(doc["ReviewsExpired"], 1);
    }

    #[test]
    fn given_an_answered_review_or_a_foreign_arn_then_nothing_is_counted() {
        assert_eq!(expired_review_metric(&record(false, ARN), 0), None);
        assert_eq!(
            expired_review_metric(
                &record(true, "arn:aws:states:eu-west-1:1:stateMachine:x"),
                0
            ),
            None
        );
        assert_eq!(expired_review_metric(&record(true, "refund-1042"), 0), None);
    }
}
