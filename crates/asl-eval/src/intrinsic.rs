//! Intrinsic functions (`States.Format(...)`, `States.Array(...)`, ...).
//!
//! [`Intrinsic::parse`] compiles a call once; [`Intrinsic::evaluate`] runs it against
//! a [`Scope`]. Failures are `States.IntrinsicFailure` (bad argument types/values) or
//! `States.Runtime` (a path argument that selects nothing).

use serde_json::Value;

use crate::error::{DefinitionError, EvalError};
use crate::scope::Scope;

/// Maximum nesting of calls inside calls.
pub const MAX_DEPTH: usize = 32;

/// A compiled intrinsic function call.
#[derive(Debug, Clone)]
pub struct Intrinsic {
    text: String,
}

impl Intrinsic {
    /// `true` when `text` is meant as an intrinsic call (starts with `States.`).
    pub fn looks_like_call(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    /// Compiles `text`, e.g. `States.Format('{}', $.a)`.
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        Ok(Self {
            text: text.to_owned(),
        })
    }

    /// The call as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Evaluates the call. `field` names the field holding it (e.g. `value.$`), used in messages.
    pub fn evaluate(&self, scope: &Scope<'_>, field: &str) -> Result<Value, EvalError> {
        let _ = (scope, field);
        Err(EvalError::intrinsic(format!(
            "intrinsic functions are not implemented yet: {}",
            self.text
        )))
    }
}
