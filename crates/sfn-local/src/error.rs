//! API errors: AWS's error code (`__type`) and message.
//!
//! Every variant maps to HTTP 400 with body `{"__type": "<Code>", "message": "..."}`,
//! which the AWS SDKs and CLI turn into typed exceptions (AWS JSON 1.0 protocol), except
//! internal errors, which are HTTP 500 `InternalServerError`, a full disk, HTTP 503
//! `ServiceUnavailable` (AWS's common error for "a temporary failure of the server":
//! the SDKs and CLI retry it, which is safe as nothing was saved), and a body over
//! AWS's 1 MB request quota, HTTP 413 `RequestEntityTooLargeException` (AWS's common
//! error for it).

use crate::store::StoreError;

/// An error returned by a Step Functions operation.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidArn(String),
    #[error("{0}")]
    InvalidName(String),
    /// DescribeMapRun / UpdateMapRun: no map run has the ARN.
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("{0}")]
    InvalidExecutionInput(String),
    #[error("{0}")]
    InvalidOutput(String),
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    TaskDoesNotExist(String),
    #[error("{0}")]
    TaskTimedOut(String),
    #[error("{0}")]
    ExecutionAlreadyExists(String),
    #[error("{0}")]
    ExecutionDoesNotExist(String),
    /// RedriveExecution refused: the message is the `redriveStatusReason`.
    #[error("{0}")]
    ExecutionNotRedrivable(String),
    #[error("{0}")]
    StateMachineDoesNotExist(String),
    #[error("{0}")]
    StateMachineAlreadyExists(String),
    #[error("{0}")]
    MissingRequiredParameter(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    Serialization(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// The disk is full: nothing was saved, retrying later works.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    TooLarge(String),
    /// The state cannot be opened (a damaged database, an unwritable directory).
    #[error("{0}")]
    State(String),
}

impl ApiError {
    /// AWS's error code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidArn(_) => "InvalidArn",
            ApiError::InvalidName(_) => "InvalidName",
            ApiError::ResourceNotFound(_) => "ResourceNotFound",
            ApiError::InvalidDefinition(_) => "InvalidDefinition",
            ApiError::InvalidExecutionInput(_) => "InvalidExecutionInput",
            ApiError::InvalidOutput(_) => "InvalidOutput",
            ApiError::InvalidToken(_) => "InvalidToken",
            ApiError::TaskDoesNotExist(_) => "TaskDoesNotExist",
            ApiError::TaskTimedOut(_) => "TaskTimedOut",
            ApiError::ExecutionAlreadyExists(_) => "ExecutionAlreadyExists",
            ApiError::ExecutionDoesNotExist(_) => "ExecutionDoesNotExist",
            ApiError::ExecutionNotRedrivable(_) => "ExecutionNotRedrivable",
            ApiError::StateMachineDoesNotExist(_) => "StateMachineDoesNotExist",
            ApiError::StateMachineAlreadyExists(_) => "StateMachineAlreadyExists",
            ApiError::MissingRequiredParameter(_) => "MissingRequiredParameter",
            ApiError::Validation(_) => "ValidationException",
            ApiError::UnknownOperation(_) => "UnknownOperationException",
            ApiError::Serialization(_) => "SerializationException",
            ApiError::Internal(_) | ApiError::State(_) => "InternalServerError",
            ApiError::Unavailable(_) => "ServiceUnavailable",
            ApiError::TooLarge(_) => "RequestEntityTooLargeException",
        }
    }

    /// The HTTP status to answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            ApiError::Internal(_) | ApiError::State(_) => 500,
            ApiError::Unavailable(_) => 503,
            ApiError::TooLarge(_) => 413,
            _ => 400,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DiskFull { .. } => ApiError::Unavailable(format!("sfn-local: {e}")),
            // The damage report names the file and what to do.
            StoreError::Damaged { .. } | StoreError::Io { .. } => ApiError::State(e.to_string()),
            e => ApiError::Internal(e.to_string()),
        }
    }
}
