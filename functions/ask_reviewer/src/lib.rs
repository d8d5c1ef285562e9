//! Ask Reviewer: one reviewer's request, under an approval policy.
//!
//! Contract (docs/approval-policies.md, "Lambda contracts"): invoked by a
//! `waitForTaskToken` task with [`AskReviewerInput`]. Stores the reviewer's
//! token and a short link (its secret only as a hash) and sends that reviewer
//! alone their message. Fails `AlreadyVoted` for a reviewer who voted and
//! `LinkTooLong` when the review endpoint makes a link over 200 characters.
//! The task token is never logged.

use hitl_domain::policy_flow::{AskReviewerInput, AskReviewerOutput};
use hitl_domain::policy_flow::{Clock, ReviewStore, ReviewerMailer, SecretSource};
use hitl_policy_aws::StepError;
use lambda_runtime::LambdaEvent;
use tracing::{info, warn};

/// The ports and settings, built once at cold start.
pub use hitl_policy_aws::MailingPorts as Ports;

/// The Lambda handler.
pub async fn handler(
    ports: &Ports<impl ReviewStore, impl ReviewerMailer, impl Clock, impl SecretSource>,
    event: LambdaEvent<AskReviewerInput>,
) -> Result<AskReviewerOutput, StepError> {
    let execution = event.payload.execution_arn.clone();
    let role = event.payload.role.as_str();
    match ports.ask_reviewer(event.payload).await {
        Ok(output) => {
            let (state, reviewer) = match &output {
                AskReviewerOutput::Asked { reviewer } => ("asked", reviewer),
                AskReviewerOutput::Decided { reviewer } => ("decided", reviewer),
            };
            info!(%execution, %reviewer, role, state, "reviewer asked");
            Ok(output)
        }
        Err(error) => {
            warn!(%execution, role, error_type = error.error_type(), "reviewer not asked");
            Err(error.into())
        }
    }
}
