//! Record Vote's handler over the in-memory ports.

use chrono::Utc;
use hitl_domain::PolicyParameters;
use hitl_domain::policy_flow::memory::{FixedClock, MemoryStore};
use hitl_domain::policy_flow::{OpenReviewInput, RecordVoteInput, RecordVoteOutput, open_review};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use record_vote::handler;
use serde_json::{Value, json};

const ARN: &str = "arn:aws:states:eu-west-1:1:execution:sm:run-1";

fn event(reviewer: &str, answer: Value) -> LambdaEvent<RecordVoteInput> {
    let payload = json!({"executionArn": ARN, "reviewer": reviewer, "answer": answer});
    LambdaEvent::new(serde_json::from_value(payload).unwrap(), Context::default())
}

#[tokio::test]
async fn counted_then_duplicate_then_decided_then_late() {
    let store = MemoryStore::default();
    let clock = FixedClock::at(Utc::now());
    let policy = PolicyParameters {
        reviewer_emails: "a@example.com,b@example.com,c@example.com",
        required_approvals: "2",
        ..PolicyParameters::default()
    }
    .parse();
    open_review(
        &store,
        &clock,
        &policy,
        OpenReviewInput {
            execution_arn: ARN.into(),
            request: json!({}),
        },
    )
    .await
    .unwrap();
    let state = |output: &RecordVoteOutput| serde_json::to_value(output).unwrap()["state"].clone();
    let first = handler(
        &store,
        &clock,
        event("a@example.com", json!({"result": true})),
    )
    .await
    .unwrap();
    assert_eq!(state(&first), "counted");
    let again = handler(
        &store,
        &clock,
        event("a@example.com", json!({"result": true})),
    )
    .await
    .unwrap();
    assert_eq!(state(&again), "duplicate");
    let second = handler(
        &store,
        &clock,
        event("b@example.com", json!({"result": true})),
    )
    .await
    .unwrap();
    let second = serde_json::to_value(&second).unwrap();
    assert_eq!(second["state"], "decided");
    assert_eq!(second["record"]["decision"], "approved");
    assert_eq!(second["record"]["review"], json!({"result": true}));
    let late = handler(
        &store,
        &clock,
        event("c@example.com", json!({"result": false})),
    )
    .await
    .unwrap();
    assert_eq!(state(&late), "late");
}

#[tokio::test]
async fn an_invalid_answer_is_invalid_review_result() {
    let store = MemoryStore::default();
    let clock = FixedClock::at(Utc::now());
    let error = handler(
        &store,
        &clock,
        event("a@example.com", json!({"result": "yes"})),
    )
    .await
    .unwrap_err();
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "InvalidReviewResult");
    assert!(
        diagnostic.error_message.contains("boolean"),
        "{}",
        diagnostic.error_message
    );
}
