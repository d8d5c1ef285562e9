//! Record Vote: counts one reviewer's answer under an approval policy.
//!
//! Contract (docs/approval-policies.md, "Lambda contracts"): takes
//! [`RecordVoteInput`] (the reviewer whose token was answered, and the answer
//! as received) and returns [`RecordVoteOutput`]: `counted`, `decided` with
//! the stored decision record, `late` or `duplicate`. Racing votes are
//! settled by a version-checked write, so the review is decided exactly once.

use hitl_domain::policy_flow::{
    Clock, RecordVoteInput, RecordVoteOutput, ReviewStore, record_vote,
};
use hitl_policy_aws::StepError;
use lambda_runtime::LambdaEvent;
use tracing::{info, warn};

/// The Lambda handler.
pub async fn handler(
    store: &impl ReviewStore,
    clock: &impl Clock,
    event: LambdaEvent<RecordVoteInput>,
) -> Result<RecordVoteOutput, StepError> {
    let execution = event.payload.execution_arn.clone();
    let reviewer = event.payload.reviewer.clone();
    match record_vote(store, clock, event.payload).await {
        Ok(output) => {
            let state = match &output {
                RecordVoteOutput::Counted { .. } => "counted",
                RecordVoteOutput::Decided { .. } => "decided",
                RecordVoteOutput::Late { .. } => "late",
                RecordVoteOutput::Duplicate { .. } => "duplicate",
            };
            info!(%execution, %reviewer, state, "vote recorded");
            Ok(output)
        }
        Err(error) => {
            warn!(%execution, %reviewer, error_type = error.error_type(), "vote not recorded");
            Err(error.into())
        }
    }
}
