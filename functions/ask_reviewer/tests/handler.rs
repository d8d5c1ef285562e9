//! Ask Reviewer's handler over the in-memory ports.

use ask_reviewer::{Ports, handler};
use chrono::{TimeZone, Utc};
use hitl_domain::PolicyParameters;
use hitl_domain::policy_flow::memory::{CountingSecrets, FixedClock, MemoryStore, RecordingMailer};
use hitl_domain::policy_flow::{AskReviewerInput, MessageSettings, OpenReviewInput, open_review};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::json;

const ARN: &str = "arn:aws:states:eu-west-1:1:execution:sm:run-1";

async fn ports(endpoint: &str) -> Ports<MemoryStore, RecordingMailer, FixedClock, CountingSecrets> {
    let ports = Ports {
        store: MemoryStore::default(),
        mailer: RecordingMailer::default(),
        clock: FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()),
        secrets: CountingSecrets::default(),
        settings: MessageSettings {
            review_api_endpoint: endpoint.into(),
            region: "eu-west-1".into(),
        },
    };
    let policy = PolicyParameters {
        reviewer_emails: "a@example.com,b@example.com",
        ..PolicyParameters::default()
    }
    .parse();
    open_review(
        &ports.store,
        &ports.clock,
        &policy,
        OpenReviewInput {
            execution_arn: ARN.into(),
            request: json!({"order": 1}),
        },
    )
    .await
    .unwrap();
    ports
}

fn event(reviewer: &str) -> LambdaEvent<AskReviewerInput> {
    let payload = json!({
        "executionArn": ARN, "executionName": "run-1", "reviewer": reviewer,
        "taskToken": "AAAA+token/==", "request": {"order": 1}
    });
    LambdaEvent::new(serde_json::from_value(payload).unwrap(), Context::default())
}

#[tokio::test]
async fn asks_one_reviewer_with_their_own_token_and_links() {
    let ports = ports("https://abc.execute-api.eu-west-1.amazonaws.com").await;
    let output = handler(&ports, event("b@example.com")).await.unwrap();
    assert_eq!(
        serde_json::to_value(&output).unwrap(),
        json!({"state": "asked", "reviewer": "b@example.com"})
    );
    let sent = ports.mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "b@example.com");
    assert!(sent[0].body.contains("Task token: AAAA+token/==\n"));
    assert!(
        sent[0]
            .body
            .contains("https://abc.execute-api.eu-west-1.amazonaws.com/review?d=approve&s=")
    );
}

#[tokio::test]
async fn a_long_endpoint_is_link_too_long() {
    let long = format!("https://{}.example.com", "x".repeat(150));
    let ports = ports(&long).await;
    let error = handler(&ports, event("a@example.com")).await.unwrap_err();
    assert_eq!(Diagnostic::from(error).error_type, "LinkTooLong");
    assert!(ports.mailer.sent().is_empty());
}
