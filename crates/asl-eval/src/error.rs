//! Error types shared by every module.
//!
//! * [`EvalError`] is a runtime failure; the interpreter turns it into a state failure
//!   (`error` is the ASL error name, `cause` the text AWS prints *after* its
//!   "An error occurred while executing the state 'X' (entered at the event id #N). " prefix).
//! * [`DefinitionError`] is a problem found while compiling a definition
//!   (CreateStateMachine -> `InvalidDefinition`); the validator adds the location.

/// ASL error names this crate produces.
pub mod names {
    /// Generic runtime error (missing paths, bad ResultPath targets, ...).
    pub const RUNTIME: &str = "States.Runtime";
    /// An intrinsic function failed (bad argument type, bad value).
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    /// A query (JSONata) failed. Reserved for the JSONata mode.
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
}

/// A runtime failure while evaluating an expression.
///
/// `error` is the ASL error name (`States.Runtime`, `States.IntrinsicFailure`, ...);
/// `cause` is AWS's text after the prefix
/// "An error occurred while executing the state 'X' (entered at the event id #N). ",
/// which the interpreter adds. Example cause:
/// `The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{"a":1}'`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct EvalError {
    /// ASL error name.
    pub error: String,
    /// Human-readable cause, without the state prefix.
    pub cause: String,
}

impl EvalError {
    /// An error with the given name and cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            cause: cause.into(),
        }
    }

    /// A `States.Runtime` error.
    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new(names::RUNTIME, cause)
    }

    /// A `States.IntrinsicFailure` error.
    pub fn intrinsic(cause: impl Into<String>) -> Self {
        Self::new(names::INTRINSIC_FAILURE, cause)
    }
}

/// A problem found when the definition is validated (CreateStateMachine -> InvalidDefinition).
///
/// `message` is the problem only; the interpreter's validator prefixes the location
/// (e.g. `/States/Pass/Parameters`) like AWS does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DefinitionError {
    /// What is wrong.
    pub message: String,
}

impl DefinitionError {
    /// A definition error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}
