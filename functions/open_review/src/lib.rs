//! Open Review: the first step of a review under an approval policy.
//!
//! Contract (docs/approval-policies.md, "Lambda contracts"): takes
//! [`OpenReviewInput`] and returns [`OpenReviewOutput`] (who to ask, the
//! schedule, the first timer). The review is stored once; a retry returns the
//! stored snapshot. An invalid policy, a `requestedBy` that is not a string,
//! or too few eligible reviewers fail with `InvalidReviewPolicy`,
//! `InvalidRequestedBy` or `NotEnoughEligibleReviewers`.

use hitl_domain::policy_flow::{
    Clock, OpenReviewInput, OpenReviewOutput, ReviewStore, open_review,
};
use hitl_domain::{Policy, PolicyError};
use hitl_lambda::policy::StepError;
use lambda_runtime::LambdaEvent;
use tracing::{info, warn};

/// The Lambda handler. `policy` was read once, at cold start.
pub async fn handler(
    store: &impl ReviewStore,
    clock: &impl Clock,
    policy: &Result<Policy, PolicyError>,
    event: LambdaEvent<OpenReviewInput>,
) -> Result<OpenReviewOutput, StepError> {
    let execution = event.payload.execution_arn.clone();
    match open_review(store, clock, policy, event.payload).await {
        Ok(output) => {
            info!(%execution, eligible = output.eligible.len(), required = output.policy.required, "review open");
            Ok(output)
        }
        Err(error) => {
            warn!(%execution, error_type = error.error_type(), "review not opened");
            Err(error.into())
        }
    }
}
