//! Process Approval's handler, driven with the sample events in `events/`.

use hitl_domain::testing::RecordingPublisher;
use hitl_domain::{DecisionInput, DecisionRecord};
use hitl_lambda::FailureDrill;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use process_approval::{ApprovalAction, handler};
use serde_json::{Value, json};

fn event(json: &str) -> LambdaEvent<DecisionInput> {
    LambdaEvent::new(serde_json::from_str(json).unwrap(), Context::default())
}

const APPROVAL: &str = include_str!("../../../events/process_approval.json");
const REJECTION: &str = include_str!("../../../events/process_rejection.json");
const START: &str = include_str!("../../../events/start_execution.json");
const INVALID_ANSWER: &str = include_str!("../../../events/review_invalid.json");

#[tokio::test]
async fn approval_returns_the_record_and_announces_it() {
    let publisher = RecordingPublisher::default();
    let record = handler(&ApprovalAction, &publisher, event(APPROVAL))
        .await
        .unwrap();

    let output = serde_json::to_value(&record).unwrap();
    assert_eq!(output["decision"], "approved");
    let start: Value = serde_json::from_str(START).unwrap();
    assert_eq!(
        output["request"], start,
        "the request passes through unchanged"
    );
    assert_eq!(output["review"]["reviewer"], "Ana Reviewer");
    assert!(
        chrono::DateTime::parse_from_rfc3339(output["decidedAt"].as_str().unwrap()).is_ok(),
        "decidedAt is RFC 3339"
    );

    let published = publisher.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].subject, "Approved: refund-1042");
    let message: Value = serde_json::from_str(&published[0].message).unwrap();
    let default: DecisionRecord =
        serde_json::from_str(message["default"].as_str().unwrap()).unwrap();
    assert_eq!(default, record, "subscribers get the same record");
}

#[tokio::test]
async fn a_rejection_routed_here_is_refused_and_not_announced() {
    let publisher = RecordingPublisher::default();
    let error = handler(&ApprovalAction, &publisher, event(REJECTION))
        .await
        .unwrap_err();
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "DecisionMismatch");
    assert!(publisher.published().is_empty());
}

#[tokio::test]
async fn an_invalid_answer_is_an_invalid_review() {
    let mut input: Value = serde_json::from_str(APPROVAL).unwrap();
    input["review"] = serde_json::from_str(INVALID_ANSWER).unwrap();
    let publisher = RecordingPublisher::default();
    let error = handler(&ApprovalAction, &publisher, event(&input.to_string()))
        .await
        .unwrap_err();
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "InvalidReview");
    assert!(
        diagnostic
            .error_message
            .contains("must be the boolean true or false"),
        "{}",
        diagnostic.error_message
    );
}

#[tokio::test]
async fn an_sns_failure_is_reported_as_decision_not_published() {
    let publisher = RecordingPublisher::failing("AuthorizationError: not allowed");
    let error = handler(&ApprovalAction, &publisher, event(APPROVAL))
        .await
        .unwrap_err();
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "DecisionNotPublished");
    assert!(diagnostic.error_message.contains("AuthorizationError"));
    assert!(
        !diagnostic.error_message.contains("Refund order"),
        "no payload in errors: {}",
        diagnostic.error_message
    );
}

#[test]
fn the_payload_must_name_the_execution() {
    let missing = json!({"request": {}, "review": {"result": true}});
    assert!(serde_json::from_value::<DecisionInput>(missing).is_err());
}

#[tokio::test]
async fn the_failure_drill_fails_the_action_with_action_failed_and_announces_nothing() {
    // GIVEN the drill is on (HITL_ACTION_FAILURE_DRILL on the function)
    let action = FailureDrill::new(ApprovalAction, Some("the ledger is down".to_owned()));
    let publisher = RecordingPublisher::default();
    // WHEN an approval arrives
    let error = handler(&action, &publisher, event(APPROVAL))
        .await
        .unwrap_err();
    // THEN it fails as a real action would: ActionFailed, which the state
    // machine retries, then reports to the alarm topic
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "ActionFailed");
    assert!(
        diagnostic.error_message.contains("the ledger is down"),
        "{}",
        diagnostic.error_message
    );
    assert!(publisher.published().is_empty(), "no decision is announced");

    // AND with the drill off the same action succeeds
    let action = FailureDrill::new(ApprovalAction, None);
    assert!(handler(&action, &publisher, event(APPROVAL)).await.is_ok());
    assert_eq!(publisher.published().len(), 1);
}
