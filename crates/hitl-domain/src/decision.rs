//! The decision: what the outcome functions receive and the record they return.
//!
//! The record is the execution's output contract, relied on by tests and tools:
//! a JSON object with at least `decision` (`"approved"` | `"rejected"`),
//! `request` (the execution input, unchanged), `review` (the answer as received,
//! or `{"result": false, "expired": true}`) and `decidedAt` (RFC 3339, UTC).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::review::{InvalidReview, ReviewAnswer};

/// The outcome of a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approved,
    Rejected,
}

impl Decision {
    /// The decision a review answer's `result` stands for.
    pub fn from_result(result: bool) -> Self {
        if result {
            Self::Approved
        } else {
            Self::Rejected
        }
    }

    /// `"approved"` or `"rejected"`, as in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the state machine passes to Process Approval and Process Rejection
/// (the `Payload` of their `lambda:invoke` task).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionInput {
    /// `$$.Execution.Id`.
    pub execution_arn: String,
    /// `$$.Execution.Name`.
    pub execution_name: String,
    /// The execution input, unchanged.
    pub request: Value,
    /// The deciding answer as received, or `{"result": <decision>, "expired": true}`.
    pub review: Value,
    /// Every answer in the order received (approval policies, issue 14):
    /// `{reviewer, result, at, via, comment?, name?}`. Absent from reviews
    /// started before the policies existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub votes: Option<Value>,
    /// The policy the review ran under: `{required, reviewers}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
}

/// The decision record: the execution's output and the decision topic's message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRecord {
    pub decision: Decision,
    pub request: Value,
    pub review: Value,
    /// When the outcome function recorded the decision, RFC 3339 in UTC.
    pub decided_at: String,
    pub execution_arn: String,
    pub execution_name: String,
    /// `review.reviewer` when it is a string.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reviewer: Option<String>,
    /// `review.comment` when it is a string.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comment: Option<String>,
    /// The review timed out before it was decided (`DecisionOnTimeout` says
    /// whether that approves or rejects).
    pub expired: bool,
    /// Every answer in the order received, as [`DecisionInput::votes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub votes: Option<Value>,
    /// The policy the review ran under, as [`DecisionInput::policy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
}

/// Why a decision could not be recorded. [`DecisionError::error_type`] gives the
/// stable name that the state machine's `Retry`/`Catch` and operators see.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecisionError {
    #[error("invalid review answer: {0}")]
    InvalidReview(#[from] InvalidReview),
    #[error(
        "this function records {expected} decisions, but the review answer means {actual}; \
         check the state machine's Review Decision rules"
    )]
    DecisionMismatch {
        expected: Decision,
        actual: Decision,
    },
}

impl DecisionError {
    /// A stable error name, never a Rust type path.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::InvalidReview(_) => "InvalidReview",
            Self::DecisionMismatch { .. } => "DecisionMismatch",
        }
    }
}

/// Builds the decision record for a function that records `expected` decisions.
///
/// The review must be a valid answer whose `result` matches `expected`: the
/// state machine only routes valid answers here, so anything else is a wiring
/// mistake that must fail loudly rather than record the wrong outcome.
pub fn decide(
    expected: Decision,
    input: DecisionInput,
    now: DateTime<Utc>,
) -> Result<DecisionRecord, DecisionError> {
    let answer = ReviewAnswer::parse(&input.review)?;
    let actual = Decision::from_result(answer.result);
    if actual != expected {
        return Err(DecisionError::DecisionMismatch { expected, actual });
    }
    let reviewer = answer.reviewer.map(str::to_owned);
    let comment = answer.comment.map(str::to_owned);
    let expired = answer.expired;
    Ok(DecisionRecord {
        decision: actual,
        decided_at: now.to_rfc3339_opts(SecondsFormat::Millis, true),
        execution_arn: input.execution_arn,
        execution_name: input.execution_name,
        request: input.request,
        review: input.review,
        reviewer,
        comment,
        expired,
        votes: input.votes,
        policy: input.policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn input(review: Value) -> DecisionInput {
        DecisionInput {
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:run-1".into(),
            execution_name: "run-1".into(),
            request: json!({"order": 42, "review": "not the answer"}),
            review,
            votes: None,
            policy: None,
        }
    }

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    #[test]
    fn given_an_approval_when_recorded_then_the_record_keeps_request_and_review_untouched() {
        let review = json!({"result": true, "reviewer": "Ana", "comment": "fine", "extra": [1]});
        let record = decide(Decision::Approved, input(review.clone()), noon()).unwrap();

        let output = serde_json::to_value(&record).unwrap();
        assert_eq!(output["decision"], "approved");
        assert_eq!(
            output["request"],
            json!({"order": 42, "review": "not the answer"})
        );
        assert_eq!(output["review"], review);
        assert_eq!(output["decidedAt"], "2026-11-25T12:00:00.000Z");
        assert_eq!(output["reviewer"], "Ana");
        assert_eq!(output["comment"], "fine");
        assert_eq!(output["expired"], false);
    }

    #[test]
    fn given_an_expired_review_when_rejected_then_the_record_says_expired() {
        let record = decide(
            Decision::Rejected,
            input(json!({"result": false, "expired": true})),
            noon(),
        )
        .unwrap();
        assert_eq!(record.decision, Decision::Rejected);
        assert!(record.expired);
        let output = serde_json::to_value(&record).unwrap();
        assert!(output.get("reviewer").is_none(), "absent, not null");
    }

    #[test]
    fn given_the_wrong_function_then_it_refuses_with_a_stable_error_type() {
        let error =
            decide(Decision::Approved, input(json!({"result": false})), noon()).unwrap_err();
        assert_eq!(
            error,
            DecisionError::DecisionMismatch {
                expected: Decision::Approved,
                actual: Decision::Rejected
            }
        );
        assert_eq!(error.error_type(), "DecisionMismatch");
    }

    #[test]
    fn given_an_invalid_answer_then_it_is_an_invalid_review() {
        let error = decide(Decision::Rejected, input(json!({"result": "no"})), noon()).unwrap_err();
        assert_eq!(error.error_type(), "InvalidReview");
        assert!(error.to_string().contains("boolean"), "{error}");
    }

    #[test]
    fn given_votes_and_a_policy_then_the_record_carries_them_unchanged() {
        let votes = json!([
            {"reviewer": "a@x.com", "result": true, "at": "2026-11-25T11:00:00.000Z", "via": "cli"},
            {"reviewer": "b@x.com", "result": true, "at": "2026-11-25T11:30:00.000Z", "via": "link", "name": "Bo"}
        ]);
        let policy = json!({"required": 2, "reviewers": ["a@x.com", "b@x.com", "c@x.com"]});
        let mut given = input(json!({"result": true, "reviewer": "Bo"}));
        given.votes = Some(votes.clone());
        given.policy = Some(policy.clone());

        let output =
            serde_json::to_value(decide(Decision::Approved, given, noon()).unwrap()).unwrap();
        assert_eq!(output["votes"], votes);
        assert_eq!(output["policy"], policy);
    }

    #[test]
    fn given_an_expiry_that_approves_then_the_record_is_an_expired_approval() {
        let record = decide(
            Decision::Approved,
            input(json!({"result": true, "expired": true})),
            noon(),
        )
        .unwrap();
        assert_eq!(
            (record.decision, record.expired),
            (Decision::Approved, true)
        );
    }

    #[test]
    fn decision_input_reads_the_state_machine_payload() {
        let payload = json!({
            "executionArn": "arn:x", "executionName": "n",
            "request": {"a": 1}, "review": {"result": true}
        });
        let parsed: DecisionInput = serde_json::from_value(payload).unwrap();
        assert_eq!(parsed.execution_name, "n");
        assert_eq!(parsed.request, json!({"a": 1}));
    }
}
