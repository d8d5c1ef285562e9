//! DynamoDB's expression languages: condition (ConditionExpression,
//! FilterExpression, KeyConditionExpression), update and projection.
//!
//! Pure: [`Placeholders`] holds a request's `ExpressionAttributeNames` and
//! `ExpressionAttributeValues`; the `parse_*` functions resolve them (and
//! record which were used, for the "unused in expressions" check), and the
//! results evaluate against items.
//!
//! Grammar and messages follow the DynamoDB developer guide ("Condition and
//! filter expressions, operators, and functions", "Update expressions") and the
//! wording AWS returns, as recorded by moto's AWS-verified tests and dynalite's
//! tests against the service, e.g. `Syntax error; token: "<EOF>", near: ","`,
//! `Attribute name is a reserved keyword; reserved keyword: role`,
//! `An expression attribute value used in expression is not defined; attribute value: :v`.
//! A message here lacks the `Invalid ConditionExpression: ` prefix, which the
//! caller adds for the member it parsed.
//!
//! Supported: comparators `= <> < <= > >=`, `BETWEEN … AND …`, `IN (…)`,
//! `AND`, `OR`, `NOT`, parentheses; functions `attribute_exists`,
//! `attribute_not_exists`, `attribute_type`, `begins_with`, `contains`, `size`;
//! document paths `a.b[0]` with `#name` placeholders; updates `SET` (with `+`,
//! `-`, `if_not_exists`, `list_append`), `REMOVE`, `ADD` (numbers and sets),
//! `DELETE` (sets).
//!
//! Layout, in the order an expression passes through it: `lexer` (tokens),
//! `parser` (the shared grammar, into raw trees), `resolve` (placeholders,
//! reserved words, function rules), `ast` (the resolved trees), then one
//! module per language, each with its entry point and evaluation:
//! `condition`, `key`, `projection`, `update`. This module holds the
//! [`Placeholders`] they share.

mod ast;
mod condition;
mod key;
mod lexer;
mod parser;
mod projection;
mod resolve;
#[cfg(test)]
mod test_support;
mod update;

use std::collections::{BTreeMap, BTreeSet};

pub use ast::{
    Action, CmpOp, Condition, KeyCondition, Operand, SetOperand, SetValue, SortCondition, Update,
};
pub use condition::parse_condition;
pub use key::parse_key_condition;
pub use projection::parse_projection;
pub use update::{ApplyError, parse_update};

use crate::value::{Item, Value};

/// A request's placeholders, and which of them the parsed expressions used.
#[derive(Debug, Default)]
pub struct Placeholders {
    names: BTreeMap<String, String>,
    values: Item,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Placeholders {
    pub fn new(names: BTreeMap<String, String>, values: Item) -> Self {
        Self {
            names,
            values,
            ..Self::default()
        }
    }

    /// DynamoDB's check once every expression is parsed: each placeholder
    /// given must be used (names are checked before values).
    pub fn check_all_used(&self) -> Result<(), String> {
        let unused = |given: Vec<&String>, used: &BTreeSet<String>| -> Vec<String> {
            given
                .into_iter()
                .filter(|k| !used.contains(*k))
                .cloned()
                .collect()
        };
        let names = unused(self.names.keys().collect(), &self.used_names);
        if !names.is_empty() {
            return Err(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                names.join(", ")
            ));
        }
        let values = unused(self.values.keys().collect(), &self.used_values);
        if !values.is_empty() {
            return Err(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                values.join(", ")
            ));
        }
        Ok(())
    }

    fn name(&mut self, placeholder: &str) -> Result<String, String> {
        lookup(&self.names, &mut self.used_names, placeholder).ok_or_else(|| {
            format!(
                "An expression attribute name used in the document path is not defined; attribute name: {placeholder}"
            )
        })
    }

    fn value(&mut self, placeholder: &str) -> Result<Value, String> {
        lookup(&self.values, &mut self.used_values, placeholder).ok_or_else(|| {
            format!(
                "An expression attribute value used in expression is not defined; attribute value: {placeholder}"
            )
        })
    }
}

/// What `placeholder` stands for, marking it used.
fn lookup<T: Clone>(
    given: &BTreeMap<String, T>,
    used: &mut BTreeSet<String>,
    placeholder: &str,
) -> Option<T> {
    let found = given.get(placeholder).cloned();
    if found.is_some() {
        used.insert(placeholder.to_owned());
    }
    found
}
