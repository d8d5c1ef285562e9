//! Process Approval: runs when a reviewer approves a request.
//!
//! The state machine invokes it with a [`DecisionInput`] whose review answer is
//! `{"result": true, ...}`. It returns the decision record, which becomes the
//! execution's output, after running [`ApprovalAction`] and announcing the
//! decision on the decision topic.

use chrono::Utc;
use hitl_domain::{Decision, DecisionInput, DecisionPublisher, DecisionRecord};
use hitl_lambda::{ActionError, DecisionAction, ProcessError, process};
use lambda_runtime::LambdaEvent;

/// What to do when a request is approved.
pub struct ApprovalAction;

impl DecisionAction for ApprovalAction {
    /// Put your own action here: call the system that carries out the approved
    /// request. `record.request` is the execution input, unchanged. It must be
    /// idempotent: Step Functions retries a failed invocation. An error fails
    /// this invocation with `error_type` `ActionFailed`.
    async fn on_decision(&self, _record: &DecisionRecord) -> Result<(), ActionError> {
        Ok(())
    }
}

/// The Lambda handler. `action` is [`ApprovalAction`], in `main` wrapped in
/// [`hitl_lambda::FailureDrill`] (off unless its variable is set).
pub async fn handler(
    action: &impl DecisionAction,
    publisher: &impl DecisionPublisher,
    event: LambdaEvent<DecisionInput>,
) -> Result<DecisionRecord, ProcessError> {
    process(
        Decision::Approved,
        action,
        publisher,
        event.payload,
        Utc::now(),
    )
    .await
}
