//! Tick's handler over the in-memory ports.

use chrono::{TimeZone, Utc};
use hitl_domain::PolicyParameters;
use hitl_domain::policy_flow::memory::{CountingSecrets, FixedClock, MemoryStore, RecordingMailer};
use hitl_domain::policy_flow::{MessageSettings, OpenReviewInput, TickInput, open_review};
use lambda_runtime::{Context, LambdaEvent};
use review_tick::{Ports, handler};
use serde_json::json;

const ARN: &str = "arn:aws:states:eu-west-1:1:execution:sm:run-1";

fn event() -> LambdaEvent<TickInput> {
    let payload = json!({"executionArn": ARN, "executionName": "run-1", "request": {}});
    LambdaEvent::new(serde_json::from_value(payload).unwrap(), Context::default())
}

#[tokio::test]
async fn waits_then_expires_with_the_decision_on_timeout() {
    let ports = Ports {
        store: MemoryStore::default(),
        mailer: RecordingMailer::default(),
        clock: FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()),
        secrets: CountingSecrets::default(),
        settings: MessageSettings {
            review_api_endpoint: "https://abc.example.com".into(),
            region: "eu-west-1".into(),
        },
    };
    let policy = PolicyParameters {
        reviewer_emails: "a@example.com",
        review_timeout_seconds: "60",
        decision_on_timeout: "approve",
        ..PolicyParameters::default()
    }
    .parse();
    open_review(
        &ports.store,
        &ports.clock,
        &policy,
        OpenReviewInput {
            execution_arn: ARN.into(),
            request: json!({}),
        },
    )
    .await
    .unwrap();
    let waiting = serde_json::to_value(handler(&ports, event()).await.unwrap()).unwrap();
    assert_eq!(waiting["state"], "waiting");
    assert_eq!(
        waiting["next"],
        json!({"kind": "expire", "at": "2026-11-25T12:01:00Z", "remainingSeconds": 60})
    );
    ports.clock.advance(60);
    let decided = serde_json::to_value(handler(&ports, event()).await.unwrap()).unwrap();
    assert_eq!(decided["state"], "decided");
    assert_eq!(decided["record"]["decision"], "approved");
    assert_eq!(decided["record"]["expired"], true);
    assert_eq!(decided["record"]["decidedBy"], "timeout");
}
