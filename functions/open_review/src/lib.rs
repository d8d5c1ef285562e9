//! Open Review: the first step of a review under an approval policy.
//!
//! Contract (docs/approval-policies.md, "Lambda contracts"): takes
//! [`OpenReviewInput`] and returns [`OpenReviewOutput`] (who to ask, the
//! schedule, the first timer). The review is stored once; a retry returns the
//! stored snapshot. An invalid policy, a `requestedBy` that is not a string,
//! or too few eligible reviewers fail with `InvalidReviewPolicy`,
//! `InvalidRequestedBy` or `NotEnoughEligibleReviewers`; a review topic with a
//! subscription not filtered on `reviewer` fails every execution with
//! `UnfilteredReviewSubscription`, so no email carrying a token is ever sent
//! to it.

use hitl_domain::policy_flow::{
    Clock, OpenReviewInput, OpenReviewOutput, PolicyFlowError, ReviewStore, open_review,
};
use hitl_domain::{Policy, PolicyError};
use hitl_policy_aws::StepError;
use lambda_runtime::LambdaEvent;
use tracing::{info, warn};

/// What the function checks once, at cold start. Both are kept as results:
/// an invalid policy or topic fails each execution with a named error rather
/// than the function's init, so the execution history says why.
#[derive(Debug, Clone)]
pub struct ColdStart {
    /// The policy from the template parameters.
    pub policy: Result<Policy, PolicyError>,
    /// `check_review_subscriptions` of the review topic.
    pub topic: Result<(), PolicyFlowError>,
}

/// The Lambda handler.
pub async fn handler(
    store: &impl ReviewStore,
    clock: &impl Clock,
    checked: &ColdStart,
    event: LambdaEvent<OpenReviewInput>,
) -> Result<OpenReviewOutput, StepError> {
    let execution = event.payload.execution_arn.clone();
    let result = match &checked.topic {
        Err(error) => Err(error.clone()),
        Ok(()) => open_review(store, clock, &checked.policy, event.payload).await,
    };
    match result {
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
