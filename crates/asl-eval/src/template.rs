//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector` (JSONPath mode).
//!
//! A template is any JSON value. In objects, a key ending in `.$` holds an expression:
//! a path `$...`, a context path `$$...`, or an intrinsic call `States.X(...)`; the
//! output key drops the `.$`. Other values are copied. Nested objects and arrays are
//! processed recursively. A Pass state's `Result` is **not** a template.
//!
//! Errors: a `.$` value that is not a string, not a valid path or not a valid call is a
//! [`DefinitionError`]; a definite path that selects nothing is `States.Runtime` with
//! AWS's text `The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '<input>'`.

use serde_json::Value;

use crate::error::{DefinitionError, EvalError};
use crate::scope::Scope;

/// Maximum nesting depth of a template.
pub const MAX_DEPTH: usize = 256;

/// A compiled payload template.
#[derive(Debug, Clone)]
pub struct Template {
    raw: Value,
}

impl Template {
    /// Compiles a template.
    pub fn compile(template: &Value) -> Result<Self, DefinitionError> {
        Ok(Self {
            raw: template.clone(),
        })
    }

    /// Evaluates against `scope`.
    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<Value, EvalError> {
        let _ = scope;
        Err(EvalError::runtime(format!(
            "templates are not implemented yet: {}",
            self.raw
        )))
    }
}
