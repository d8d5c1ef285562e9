//! The decision flow and its errors.

use std::future::Future;
use std::io::Write;

use chrono::{DateTime, Utc};
use hitl_domain::{
    Decision, DecisionError, DecisionInput, DecisionNotice, DecisionPublisher, DecisionRecord,
    PublishError, decide,
};
use lambda_runtime::Diagnostic;
use thiserror::Error;
use tracing::{info, warn};

use crate::metrics::expired_review_metric;

/// Why a function's own action failed. The message is shown in the execution
/// history, so it must not carry secrets.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ActionError(pub String);

/// The action a function takes on a decision, beside announcing it.
pub trait DecisionAction: Sync {
    fn on_decision(
        &self,
        record: &DecisionRecord,
    ) -> impl Future<Output = Result<(), ActionError>> + Send;
}

/// Why a decision could not be processed.
#[derive(Debug, Error)]
pub enum ProcessError {
    #[error(transparent)]
    Decision(#[from] DecisionError),
    #[error("the action for this decision failed: {0}")]
    Action(ActionError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl ProcessError {
    /// The stable `error_type` Lambda reports and the state machine matches on.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Decision(error) => error.error_type(),
            Self::Action(_) => "ActionFailed",
            Self::Publish(_) => "DecisionNotPublished",
        }
    }
}

impl From<ProcessError> for Diagnostic {
    fn from(error: ProcessError) -> Self {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Records a decision: validates the answer against `expected`, runs `action`,
/// publishes the notice, and logs one line without payloads or tokens. A
/// review that expired is also counted: one embedded-metric-format line on
/// standard output ([`crate::metrics`]), once the decision is recorded.
pub async fn process(
    expected: Decision,
    action: &impl DecisionAction,
    publisher: &impl DecisionPublisher,
    input: DecisionInput,
    now: DateTime<Utc>,
) -> Result<DecisionRecord, ProcessError> {
    let record = decide(expected, input, now)?;
    action
        .on_decision(&record)
        .await
        .map_err(ProcessError::Action)?;
    publisher
        .publish(&DecisionNotice::for_record(&record))
        .await?;
    info!(
        execution = %record.execution_name,
        decision = %record.decision,
        expired = record.expired,
        reviewer = record.reviewer.as_deref().unwrap_or(""),
        "decision recorded"
    );
    if let Some(line) = expired_review_metric(&record, now.timestamp_millis()) {
        // Straight to stdout, not through tracing: EMF needs the document as
        // the whole log line, not as a field of a tracing event.
        if let Err(error) = writeln!(std::io::stdout().lock(), "{line}") {
            warn!(execution = %record.execution_name, error = %error, "the ReviewsExpired metric was not written");
        }
    } else if record.expired {
        warn!(execution = %record.execution_name, "an expired review was not counted: its execution ARN names no state machine");
    }
    Ok(record)
}
