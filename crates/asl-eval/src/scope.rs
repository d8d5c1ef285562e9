//! What expressions can read.
//!
//! A [`Scope`] bundles `$` (the effective input of the expression), `$$` (the context
//! object) and, optionally, workflow variables (`$name`, set by `Assign`). It is
//! `#[non_exhaustive]` and built with [`Scope::new`] plus builder methods, so later
//! additions (e.g. JSONata's `$states`) are new fields and do not break callers.
//!
//! Variables are read through the [`Variables`] trait so the interpreter can keep its
//! own layered storage (a Map iteration sees the outer scope's variables) without
//! copying it into one map per evaluation.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;

use serde_json::{Map, Value};

/// Read access to workflow variables (`$name` in JSONPath mode).
pub trait Variables: Send + Sync {
    /// The value of variable `name`, if it is set.
    fn get(&self, name: &str) -> Option<&Value>;
}

impl Variables for Map<String, Value> {
    fn get(&self, name: &str) -> Option<&Value> {
        Map::get(self, name)
    }
}

impl<S: BuildHasher + Send + Sync> Variables for HashMap<String, Value, S> {
    fn get(&self, name: &str) -> Option<&Value> {
        HashMap::get(self, name)
    }
}

/// The values an expression can read. Cheap to copy (three references).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Scope<'a> {
    /// `$`: the effective input (state input after InputPath, or the raw result for ResultSelector).
    pub input: &'a Value,
    /// `$$`: the context object (`Execution`, `State`, `StateMachine`, `Task`, `Map`).
    pub context: &'a Value,
    /// `$name`: workflow variables, when the interpreter provides them.
    pub variables: Option<&'a dyn Variables>,
}

impl<'a> Scope<'a> {
    /// A scope reading `$` from `input` and `$$` from `context`, with no variables.
    pub fn new(input: &'a Value, context: &'a Value) -> Self {
        Self {
            input,
            context,
            variables: None,
        }
    }

    /// The same scope with another `$` (e.g. ResultSelector reads the task result).
    pub fn with_input(self, input: &'a Value) -> Self {
        Self { input, ..self }
    }

    /// The same scope with workflow variables readable as `$name`.
    pub fn with_variables(self, variables: &'a dyn Variables) -> Self {
        Self {
            variables: Some(variables),
            ..self
        }
    }

    /// The value of variable `name`, if variables are provided and it is set.
    pub fn variable(&self, name: &str) -> Option<&'a Value> {
        self.variables.and_then(|v| v.get(name))
    }
}

impl fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("input", self.input)
            .field("context", self.context)
            .field("variables", &self.variables.map(|_| ".."))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variables_are_optional_and_layerable() {
        let input = json!({});
        let ctx = json!({});
        let scope = Scope::new(&input, &ctx);
        assert!(scope.variable("x").is_none());
        let mut vars = Map::new();
        vars.insert("x".into(), json!(1));
        let scope = scope.with_variables(&vars);
        assert_eq!(scope.variable("x"), Some(&json!(1)));
        let hm: HashMap<String, Value> = [("y".to_owned(), json!(2))].into();
        assert_eq!(scope.with_variables(&hm).variable("y"), Some(&json!(2)));
    }
}
