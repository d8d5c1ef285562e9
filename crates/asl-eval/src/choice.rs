//! Choice rules (JSONPath mode).
//!
//! [`compile_choices`] parses a Choice state's `Choices` array into [`ChoiceRule`]s
//! (top-level rules need `Next`; nested rules inside `And`/`Or`/`Not` must not have
//! one). [`choose`] returns the `Next` of the first matching rule.

use serde_json::Value;

use crate::error::{DefinitionError, EvalError};
use crate::scope::Scope;

/// Maximum nesting of `And`/`Or`/`Not`.
pub const MAX_DEPTH: usize = 64;

/// A boolean condition (a comparison, a type test, or `And`/`Or`/`Not`).
#[derive(Debug, Clone)]
pub struct Condition {
    raw: Value,
}

/// A top-level Choice rule: a condition and the state to go to.
#[derive(Debug, Clone)]
pub struct ChoiceRule {
    condition: Condition,
    next: String,
}

impl Condition {
    /// Parses a nested rule (no `Next` allowed).
    pub fn parse(rule: &Value) -> Result<Self, DefinitionError> {
        Ok(Self { raw: rule.clone() })
    }

    /// Evaluates the condition.
    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<bool, EvalError> {
        let _ = scope;
        Err(EvalError::runtime(format!(
            "choice rules are not implemented yet: {}",
            self.raw
        )))
    }
}

impl ChoiceRule {
    /// Parses a top-level rule (requires `Next`).
    pub fn parse(rule: &Value) -> Result<Self, DefinitionError> {
        let next = rule
            .get("Next")
            .and_then(Value::as_str)
            .ok_or_else(|| DefinitionError::new("Missing field 'Next' in Choice rule"))?
            .to_owned();
        Ok(Self {
            condition: Condition::parse(rule)?,
            next,
        })
    }

    /// The state to go to when the rule matches.
    pub fn next(&self) -> &str {
        &self.next
    }

    /// The rule's condition.
    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// Evaluates the rule's condition.
    pub fn matches(&self, scope: &Scope<'_>) -> Result<bool, EvalError> {
        self.condition.evaluate(scope)
    }
}

/// Parses a Choice state's `Choices` value (a non-empty array of rules).
pub fn compile_choices(choices: &Value) -> Result<Vec<ChoiceRule>, DefinitionError> {
    let arr = choices
        .as_array()
        .ok_or_else(|| DefinitionError::new("'Choices' must be an array"))?;
    arr.iter().map(ChoiceRule::parse).collect()
}

/// The `Next` of the first rule that matches, or `None` (go to `Default`).
pub fn choose<'r>(
    rules: &'r [ChoiceRule],
    scope: &Scope<'_>,
) -> Result<Option<&'r str>, EvalError> {
    for rule in rules {
        if rule.matches(scope)? {
            return Ok(Some(rule.next()));
        }
    }
    Ok(None)
}
