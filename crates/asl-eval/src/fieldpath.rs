//! Path-valued state fields with AWS's error messages.
//!
//! [`FieldPath`] compiles the value of a field such as `InputPath`, `OutputPath`,
//! `ItemsPath`, `ErrorPath`, `CausePath`, `SecondsPath`, `TimestampPath`,
//! `MaxConcurrencyPath`, `ToleratedFailureCountPath`, `ToleratedFailurePercentagePath`
//! and offers one evaluation method per kind of use, each producing AWS's cause text:
//!
//! * [`FieldPath::select_input`] (InputPath / OutputPath / ItemsPath):
//!   `Invalid path '$.x' : No results for path: $['x']`
//! * [`FieldPath::resolve`] (ErrorPath / CausePath, also intrinsic calls there):
//!   `The JSONPath '$.x' specified for the field 'ErrorPath' could not be found in the input '<input>'`
//! * [`FieldPath::seconds`] (SecondsPath):
//!   `The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5`,
//!   `The SecondsPath parameter references a negative value: $.s == -1`
//! * [`FieldPath::timestamp`] (TimestampPath):
//!   `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == <value>`
//! * [`FieldPath::non_negative_integer`] (MaxConcurrencyPath / ToleratedFailureCountPath):
//!   `The MaxConcurrencyPath field refers to value "x" which is not a valid integer: $.p`,
//!   `ToleratedFailureCount cannot be negative.`

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::error::{DefinitionError, EvalError};
use crate::intrinsic::Intrinsic;
use crate::jsonpath::JsonPath;
use crate::scope::Scope;

/// What a path field holds.
#[derive(Debug, Clone)]
pub enum PathExpr {
    /// A JSONPath (`$...` or `$$...`).
    Path(JsonPath),
    /// An intrinsic call (only where AWS allows it, e.g. ErrorPath / CausePath).
    Intrinsic(Intrinsic),
}

/// A compiled path-valued field, remembering its field name for messages.
#[derive(Debug, Clone)]
pub struct FieldPath {
    field: String,
    expr: PathExpr,
}

impl FieldPath {
    /// Compiles a field that must hold a JSONPath (`InputPath`, `SecondsPath`, ...).
    pub fn compile(field: &str, value: &str) -> Result<Self, DefinitionError> {
        let path = JsonPath::parse(value).map_err(|e| {
            DefinitionError::new(format!(
                "The value for the field '{field}' must be a valid JSONPath: {}",
                e.message
            ))
        })?;
        Ok(Self {
            field: field.to_owned(),
            expr: PathExpr::Path(path),
        })
    }

    /// Compiles a field that may hold a JSONPath or an intrinsic call (`ErrorPath`, `CausePath`).
    pub fn compile_with_intrinsics(field: &str, value: &str) -> Result<Self, DefinitionError> {
        if Intrinsic::looks_like_call(value) {
            Ok(Self {
                field: field.to_owned(),
                expr: PathExpr::Intrinsic(Intrinsic::parse(value)?),
            })
        } else {
            Self::compile(field, value)
        }
    }

    /// The field name (e.g. `InputPath`).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The compiled expression.
    pub fn expr(&self) -> &PathExpr {
        &self.expr
    }

    /// InputPath / OutputPath / ItemsPath semantics.
    pub fn select_input(&self, scope: &Scope<'_>) -> Result<Value, EvalError> {
        match &self.expr {
            PathExpr::Path(p) => p
                .select(scope)
                .map(std::borrow::Cow::into_owned)
                .map_err(|e| {
                    EvalError::runtime(format!("Invalid path '{}' : {}", p.as_str(), e.message))
                }),
            PathExpr::Intrinsic(i) => i.evaluate(scope, &self.field),
        }
    }

    /// ErrorPath / CausePath semantics.
    pub fn resolve(&self, scope: &Scope<'_>) -> Result<Value, EvalError> {
        let _ = scope;
        Err(EvalError::runtime("not implemented yet"))
    }

    /// SecondsPath semantics: a non-negative integer.
    pub fn seconds(&self, scope: &Scope<'_>) -> Result<u64, EvalError> {
        let _ = scope;
        Err(EvalError::runtime("not implemented yet"))
    }

    /// TimestampPath semantics.
    pub fn timestamp(&self, scope: &Scope<'_>) -> Result<DateTime<FixedOffset>, EvalError> {
        let _ = scope;
        Err(EvalError::runtime("not implemented yet"))
    }

    /// MaxConcurrencyPath / ToleratedFailureCountPath semantics.
    pub fn non_negative_integer(&self, scope: &Scope<'_>) -> Result<u64, EvalError> {
        let _ = scope;
        Err(EvalError::runtime("not implemented yet"))
    }
}
