//! Process Rejection's handler, driven with the sample events in `events/`.

use hitl_domain::DecisionInput;
use hitl_domain::testing::RecordingPublisher;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use process_rejection::{RejectionAction, handler};
use serde_json::Value;

fn event(json: &str) -> LambdaEvent<DecisionInput> {
    LambdaEvent::new(serde_json::from_str(json).unwrap(), Context::default())
}

#[tokio::test]
async fn rejection_returns_the_record_with_reviewer_and_comment() {
    let publisher = RecordingPublisher::default();
    let input = include_str!("../../../events/process_rejection.json");
    let record = handler(&RejectionAction, &publisher, event(input))
        .await
        .unwrap();

    let output = serde_json::to_value(&record).unwrap();
    assert_eq!(output["decision"], "rejected");
    assert_eq!(output["expired"], false);
    assert_eq!(output["reviewer"], "Bo Reviewer");
    assert_eq!(output["comment"], "Refund window has closed.");
    let sent: Value = serde_json::from_str(input).unwrap();
    assert_eq!(
        output["review"], sent["review"],
        "the answer passes through untouched"
    );
    assert_eq!(publisher.published()[0].subject, "Rejected: refund-1042");
}

#[tokio::test]
async fn an_expired_review_is_recorded_as_an_expired_rejection() {
    let publisher = RecordingPublisher::default();
    let input = include_str!("../../../events/process_rejection_expired.json");
    let record = handler(&RejectionAction, &publisher, event(input))
        .await
        .unwrap();

    assert!(record.expired);
    assert_eq!(record.reviewer, None);
    let notice = &publisher.published()[0];
    assert_eq!(notice.subject, "Review expired: refund-1042");
    let message: Value = serde_json::from_str(&notice.message).unwrap();
    assert!(
        message["email"]
            .as_str()
            .unwrap()
            .starts_with("The review expired without a decision")
    );
}

#[tokio::test]
async fn an_approval_routed_here_is_refused() {
    let publisher = RecordingPublisher::default();
    let input = include_str!("../../../events/process_approval.json");
    let error = handler(&RejectionAction, &publisher, event(input))
        .await
        .unwrap_err();
    assert_eq!(Diagnostic::from(error).error_type, "DecisionMismatch");
    assert!(publisher.published().is_empty());
}
