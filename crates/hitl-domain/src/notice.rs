//! The announcement of a decision on the decision topic.
//!
//! A notice is published with SNS `MessageStructure=json`: the `default` message
//! (what queues, functions and HTTP subscribers receive) is the decision record
//! as JSON, and the `email` message is a short text a person can read.
//! See <https://docs.aws.amazon.com/sns/latest/dg/sns-send-custom-platform-specific-payloads-mobile-devices.html>
//! and the `MessageStructure` parameter of the SNS Publish API.
//!
//! SNS limits (Publish API reference): a message is at most 262,144 bytes and a
//! subject is ASCII, without line breaks, and under 100 characters. A request
//! near Step Functions' own 256 KiB limit would not fit twice in a notice, so a
//! request that is too large is replaced by a note pointing at the execution
//! rather than failing the decision after the reviewer answered.

use std::future::Future;

use serde_json::{Value, json};
use thiserror::Error;

use crate::decision::DecisionRecord;

/// SNS's maximum message size in bytes.
pub const SNS_MAX_MESSAGE_BYTES: usize = 262_144;
/// SNS subjects must be shorter than 100 characters.
pub const SNS_MAX_SUBJECT_CHARS: usize = 99;

/// A message ready to publish with `MessageStructure=json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionNotice {
    pub subject: String,
    /// A JSON object with `default` and `email` keys, each a string.
    pub message: String,
}

/// Why a notice could not be published. Carries no payload.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("could not publish the decision: {reason}")]
pub struct PublishError {
    pub reason: String,
}

/// Where decisions are announced: SNS in AWS and local mode, a fake in tests.
pub trait DecisionPublisher {
    fn publish(
        &self,
        notice: &DecisionNotice,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

impl DecisionNotice {
    /// Renders the notice for a record, keeping it within SNS's limits.
    pub fn for_record(record: &DecisionRecord) -> Self {
        let subject = subject_for(record);
        let full = render(record, &record.request);
        if full.len() <= SNS_MAX_MESSAGE_BYTES {
            return Self {
                subject,
                message: full,
            };
        }
        let omitted = Value::String(format!(
            "(omitted: the request is too large for a notification; read it from the input of execution {})",
            record.execution_arn
        ));
        Self {
            subject,
            message: render(record, &omitted),
        }
    }
}

fn subject_for(record: &DecisionRecord) -> String {
    let verb = match (record.decision, record.expired) {
        (crate::Decision::Rejected, true) => "Review expired",
        (crate::Decision::Approved, true) => "Review expired, approved",
        (crate::Decision::Approved, false) => "Approved",
        (crate::Decision::Rejected, false) => "Rejected",
    };
    let subject: String = format!("{verb}: {}", record.execution_name)
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(SNS_MAX_SUBJECT_CHARS)
        .collect();
    subject
}

fn render(record: &DecisionRecord, request: &Value) -> String {
    let mut default = serde_json::to_value(record).unwrap_or(Value::Null);
    default["request"] = request.clone();
    let email = email_text(record, request);
    json!({ "default": default.to_string(), "email": email }).to_string()
}

fn email_text(record: &DecisionRecord, request: &Value) -> String {
    let outcome = match (record.decision, record.expired) {
        // An expiry decides what DecisionOnTimeout says (reject by default).
        (crate::Decision::Rejected, true) => {
            "The review expired without a decision, so the request was rejected."
        }
        (crate::Decision::Approved, true) => {
            "The review expired without a decision, so the request was approved (DecisionOnTimeout is approve)."
        }
        (crate::Decision::Approved, false) => "The request was approved.",
        (crate::Decision::Rejected, false) => "The request was rejected.",
    };
    let mut text = format!(
        "{outcome}\n\nExecution: {}\nDecided at: {}\n",
        record.execution_name, record.decided_at
    );
    if let Some(reviewer) = &record.reviewer {
        text.push_str(&format!("Reviewer: {reviewer}\n"));
    }
    if let Some(comment) = &record.comment {
        text.push_str(&format!("Comment: {comment}\n"));
    }
    if let Some(votes) = record.votes.as_ref().and_then(Value::as_array) {
        text.push_str(&votes_text(votes, record.policy.as_ref()));
    }
    let request = serde_json::to_string_pretty(request).unwrap_or_default();
    text.push_str(&format!(
        "\nRequest:\n{request}\n\nExecution ARN: {}\n",
        record.execution_arn
    ));
    text
}

/// `Votes (2 of 2 approvals required):` then one line per answer.
fn votes_text(votes: &[Value], policy: Option<&Value>) -> String {
    let required = policy
        .and_then(|p| p.get("required"))
        .and_then(Value::as_u64);
    let mut text = match required {
        Some(n) => format!("Votes ({n} approval(s) required):\n"),
        None => "Votes:\n".to_owned(),
    };
    if votes.is_empty() {
        text.push_str("  none\n");
    }
    for vote in votes {
        let field = |name: &str| vote.get(name).and_then(Value::as_str).unwrap_or("");
        let verdict = match vote.get("result").and_then(Value::as_bool) {
            Some(true) => "approved",
            Some(false) => "rejected",
            None => "answered",
        };
        text.push_str(&format!(
            "  {} {verdict} at {} ({})",
            field("reviewer"),
            field("at"),
            field("via")
        ));
        if let Some(comment) = vote.get("comment").and_then(Value::as_str) {
            text.push_str(&format!(": {comment}"));
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decision;

    fn record(request: Value, expired: bool) -> DecisionRecord {
        DecisionRecord {
            decision: Decision::Rejected,
            request,
            review: json!({"result": false}),
            decided_at: "2026-11-25T12:00:00.000Z".into(),
            execution_arn: "arn:aws:states:us-east-1:1:execution:sm:run-1".into(),
            execution_name: "run-1".into(),
            reviewer: Some("Bo".into()),
            comment: Some("too costly".into()),
            expired,
            votes: None,
            policy: None,
        }
    }

    fn parts(notice: &DecisionNotice) -> (Value, String) {
        let message: Value = serde_json::from_str(&notice.message).unwrap();
        let default: Value = serde_json::from_str(message["default"].as_str().unwrap()).unwrap();
        (default, message["email"].as_str().unwrap().to_owned())
    }

    #[test]
    fn default_message_is_the_record_and_email_is_readable() {
        let notice = DecisionNotice::for_record(&record(json!({"order": 1}), false));
        assert_eq!(notice.subject, "Rejected: run-1");
        let (default, email) = parts(&notice);
        assert_eq!(default["decision"], "rejected");
        assert_eq!(default["request"], json!({"order": 1}));
        assert!(email.starts_with("The request was rejected."), "{email}");
        assert!(
            email.contains("Reviewer: Bo\nComment: too costly\n"),
            "{email}"
        );
    }

    #[test]
    fn expired_reviews_say_so() {
        let notice = DecisionNotice::for_record(&record(json!({}), true));
        assert_eq!(notice.subject, "Review expired: run-1");
        assert!(parts(&notice).1.contains("expired without a decision"));
    }

    #[test]
    fn an_expiry_that_approves_says_approved_in_subject_and_text() {
        let mut approved = record(json!({}), true);
        approved.decision = Decision::Approved;
        let notice = DecisionNotice::for_record(&approved);
        assert_eq!(notice.subject, "Review expired, approved: run-1");
        assert!(
            parts(&notice)
                .1
                .starts_with("The review expired without a decision, so the request was approved"),
            "{}",
            parts(&notice).1
        );
    }

    #[test]
    fn the_email_lists_every_vote_in_order_with_the_policy() {
        let mut decided = record(json!({}), false);
        decided.votes = Some(json!([
            {"reviewer": "a@x.com", "result": true, "at": "T1", "via": "cli"},
            {"reviewer": "b@x.com", "result": false, "at": "T2", "via": "link", "comment": "no budget"}
        ]));
        decided.policy = Some(json!({"required": 2, "reviewers": ["a@x.com", "b@x.com"]}));
        let (default, email) = parts(&DecisionNotice::for_record(&decided));
        assert!(
            email.contains(
                "Votes (2 approval(s) required):\n  a@x.com approved at T1 (cli)\n  b@x.com rejected at T2 (link): no budget\n"
            ),
            "{email}"
        );
        assert_eq!(default["policy"]["required"], 2);
        assert_eq!(default["votes"][1]["reviewer"], "b@x.com");
    }

    #[test]
    fn oversized_request_is_replaced_by_a_pointer_to_the_execution() {
        let big = json!({"blob": "x".repeat(200_000)});
        let notice = DecisionNotice::for_record(&record(big, false));
        assert!(notice.message.len() <= SNS_MAX_MESSAGE_BYTES);
        let (default, email) = parts(&notice);
        let note = default["request"].as_str().unwrap();
        assert!(note.contains("execution arn:aws:states"), "{note}");
        assert!(email.contains("(omitted"), "{email}");
    }

    #[test]
    fn subject_is_ascii_and_under_100_characters() {
        let mut long = record(json!({}), false);
        long.execution_name = format!("révision-{}", "n".repeat(120));
        let subject = DecisionNotice::for_record(&long).subject;
        assert!(subject.len() < 100);
        assert!(subject.is_ascii());
        assert!(subject.starts_with("Rejected: r?vision-"), "{subject}");
    }
}
