//! Tick: the timer branch's step under an approval policy.
//!
//! Contract (docs/approval-policies.md, "Lambda contracts"): takes
//! [`TickInput`] and handles the next due timer, returning [`TickOutput`]:
//! `waiting` (with the next timer and who was reminded), `escalate` (once) or
//! `decided` (the expiry, or a decision made before it). A reminder goes only
//! to reviewers who have not voted, and at most once.

use hitl_domain::policy_flow::{Clock, ReviewStore, ReviewerMailer, SecretSource};
use hitl_domain::policy_flow::{TickInput, TickOutput};
use hitl_policy_aws::StepError;
use lambda_runtime::LambdaEvent;
use tracing::{info, warn};

/// The ports and settings, built once at cold start.
pub use hitl_policy_aws::MailingPorts as Ports;

/// The Lambda handler.
pub async fn handler(
    ports: &Ports<impl ReviewStore, impl ReviewerMailer, impl Clock, impl SecretSource>,
    event: LambdaEvent<TickInput>,
) -> Result<TickOutput, StepError> {
    let execution = event.payload.execution_arn.clone();
    match ports.tick(event.payload).await {
        Ok(output) => {
            match &output {
                TickOutput::Waiting {
                    next,
                    reminded,
                    failed,
                } => {
                    if !failed.is_empty() {
                        warn!(%execution, failed = ?failed, "reminders not sent (not retried)");
                    }
                    info!(%execution, next = %next.at, reminded = reminded.len(), "tick: waiting");
                }
                TickOutput::Escalate { reviewer, .. } => {
                    info!(%execution, %reviewer, "tick: escalate");
                }
                TickOutput::Decided { record } => {
                    info!(%execution, decision = %record.decision, expired = record.expired, "tick: decided");
                }
            }
            Ok(output)
        }
        Err(error) => {
            warn!(%execution, error_type = error.error_type(), "tick failed");
            Err(error.into())
        }
    }
}
