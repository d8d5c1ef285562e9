//! Process Rejection: runs when a reviewer rejects a request or the review expires.
//!
//! The state machine invokes it with a [`DecisionInput`] whose review answer is
//! `{"result": false, ...}`, with `"expired": true` when nobody answered in
//! time. It returns the decision record, which becomes the execution's output,
//! after running [`RejectionAction`] and announcing the decision on the
//! decision topic.

use chrono::Utc;
use hitl_domain::{Decision, DecisionInput, DecisionPublisher, DecisionRecord};
use hitl_lambda::{ActionError, DecisionAction, ProcessError, process};
use lambda_runtime::LambdaEvent;

/// What to do when a request is rejected or its review expired.
pub struct RejectionAction;

impl DecisionAction for RejectionAction {
    /// Put your own action here: tell the requester, release what the
    /// request held. `record.expired` says whether anyone answered and
    /// `record.request` is the execution input, unchanged. It must be
    /// idempotent: Step Functions retries a failed invocation. An error fails
    /// this invocation with `error_type` `ActionFailed`.
    async fn on_decision(&self, _record: &DecisionRecord) -> Result<(), ActionError> {
        Ok(())
    }
}

/// The Lambda handler. `action` is [`RejectionAction`], in `main` wrapped in
/// [`hitl_lambda::FailureDrill`] (off unless its variable is set).
pub async fn handler(
    action: &impl DecisionAction,
    publisher: &impl DecisionPublisher,
    event: LambdaEvent<DecisionInput>,
) -> Result<DecisionRecord, ProcessError> {
    process(
        Decision::Rejected,
        action,
        publisher,
        event.payload,
        Utc::now(),
    )
    .await
}
