//! What expressions can read.
//!
//! A [`Scope`] bundles `$` (the effective input of the expression) and `$$` (the
//! context object). It is `#[non_exhaustive]` and built with [`Scope::new`], so later
//! additions (workflow variables for `Assign`/`$name`, `$states` for JSONata) are new
//! fields with builder methods and do not break callers.

use serde_json::Value;

/// The values an expression can read. Cheap to copy (two references).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Scope<'a> {
    /// `$`: the effective input (state input after InputPath, or the raw result for ResultSelector).
    pub input: &'a Value,
    /// `$$`: the context object (`Execution`, `State`, `StateMachine`, `Task`, `Map`).
    pub context: &'a Value,
}

impl<'a> Scope<'a> {
    /// A scope reading `$` from `input` and `$$` from `context`.
    pub fn new(input: &'a Value, context: &'a Value) -> Self {
        Self { input, context }
    }

    /// The same context with another `$` (e.g. ResultSelector reads the task result).
    pub fn with_input(self, input: &'a Value) -> Self {
        Self { input, ..self }
    }
}
