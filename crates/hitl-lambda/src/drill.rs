//! A failure drill for the failed-action runbook (docs/operations.md).
//!
//! With `HITL_ACTION_FAILURE_DRILL` set on Process Approval or Process
//! Rejection, the function's action fails with that text (error `ActionFailed`)
//! before it runs, so operators can rehearse the whole path: the retries, the
//! alarm topic's message, the FAILED execution, and its redrive once the
//! variable is removed. template.yaml never sets it; local mode's tests do.

use hitl_domain::DecisionRecord;

use crate::flow::{ActionError, DecisionAction};

/// The environment variable that turns the drill on (its value is the failure's text).
pub const DRILL_ENV: &str = "HITL_ACTION_FAILURE_DRILL";

/// An action that fails with `failure` when it is set, and runs `inner` otherwise.
#[derive(Debug, Clone)]
pub struct FailureDrill<A> {
    inner: A,
    failure: Option<String>,
}

impl<A> FailureDrill<A> {
    pub fn new(inner: A, failure: Option<String>) -> Self {
        Self { inner, failure }
    }

    /// Reads [`DRILL_ENV`] once, at cold start; empty means off.
    pub fn from_env(inner: A) -> Self {
        let failure = std::env::var(DRILL_ENV).ok().filter(|v| !v.is_empty());
        if failure.is_some() {
            tracing::warn!("{DRILL_ENV} is set: every action fails with ActionFailed (a drill)");
        }
        Self::new(inner, failure)
    }
}

impl<A: DecisionAction> DecisionAction for FailureDrill<A> {
    async fn on_decision(&self, record: &DecisionRecord) -> Result<(), ActionError> {
        match &self.failure {
            Some(failure) => Err(ActionError(format!("{DRILL_ENV}: {failure}"))),
            None => self.inner.on_decision(record).await,
        }
    }
}
