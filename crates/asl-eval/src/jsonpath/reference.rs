//! Reference Paths (`ResultPath`, `ItemsPath`): names and indexes only.

use std::fmt;

use serde_json::{Map, Value};

use super::ast::{Segment, Selector};
use super::eval::index;
use super::{JsonPath, Root, compact, root_doc};
use crate::error::{DefinitionError, EvalError};
use crate::scope::Scope;

/// A Reference Path: `$` or `$$` followed by names and indexes only (no wildcards,
/// filters, slices or scans).
///
/// Used as a write target by `ResultPath` ([`ReferencePath::insert`], `$` only) and as a
/// reader by `ItemsPath` ([`ReferencePath::get`]). Both fail with AWS's
/// `States.ReferencePathConflict` and the cause `Unable to apply step "<key>" to input <json>`
/// (the wording and error name as reported from real executions: ResultPath onto a
/// Parallel state's array output, ItemsPath naming a missing key; not in the recorded
/// suite, so the exact printing of `<json>` (compact, whole document) is our best guess).
#[derive(Debug, Clone)]
pub struct ReferencePath {
    text: String,
    root: Root,
    variable: Option<String>,
    steps: Vec<RefStep>,
}

#[derive(Debug, Clone)]
enum RefStep {
    Key(String),
    Index(i64),
}

impl RefStep {
    fn label(&self) -> String {
        match self {
            RefStep::Key(k) => k.clone(),
            RefStep::Index(i) => i.to_string(),
        }
    }
}

/// Error name AWS uses when a Reference Path cannot be applied.
pub const REFERENCE_PATH_CONFLICT: &str = "States.ReferencePathConflict";

impl ReferencePath {
    /// Compiles a reference path for `ResultPath`: `$` followed by names and indexes.
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        let path = Self::parse_any_root(text)?;
        if path.root != Root::Input {
            return Err(DefinitionError::new(format!(
                "The value for the field must be a valid Reference Path, found '{text}'"
            )));
        }
        Ok(path)
    }

    /// Compiles a reference path that may also read the context object or a variable (`ItemsPath`).
    pub fn parse_any_root(text: &str) -> Result<Self, DefinitionError> {
        let path = JsonPath::parse(text)?;
        let mut steps = Vec::with_capacity(path.segments.len());
        for seg in &path.segments {
            match seg {
                Segment::Child(Selector::Name(n)) => steps.push(RefStep::Key(n.clone())),
                Segment::Child(Selector::Index(i)) => steps.push(RefStep::Index(*i)),
                _ => {
                    return Err(DefinitionError::new(format!(
                        "The value for the field must be a valid Reference Path, found '{text}'"
                    )));
                }
            }
        }
        Ok(Self {
            text: text.to_owned(),
            root: path.root,
            variable: path.variable,
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `true` when the path reads the context object (`$$`).
    pub fn is_context(&self) -> bool {
        self.root == Root::Context
    }

    fn conflict(step: &RefStep, doc: &Value) -> EvalError {
        EvalError::new(
            REFERENCE_PATH_CONFLICT,
            format!(
                "Unable to apply step \"{}\" to input {}",
                step.label(),
                compact(doc)
            ),
        )
    }

    /// Reads the value at this path (ItemsPath semantics).
    pub fn get<'a>(&self, scope: &Scope<'a>) -> Result<&'a Value, EvalError> {
        let Some(doc) = root_doc(self.root, self.variable.as_deref(), scope) else {
            return Err(EvalError::runtime(format!(
                "The variable '{}' is not defined",
                self.variable.as_deref().unwrap_or_default()
            )));
        };
        let mut cur = doc;
        for step in &self.steps {
            let next = match (step, cur) {
                (RefStep::Key(k), Value::Object(m)) => m.get(k),
                (RefStep::Index(i), Value::Array(a)) => index(a.len(), *i).map(|p| &a[p]),
                _ => None,
            };
            cur = next.ok_or_else(|| Self::conflict(step, doc))?;
        }
        Ok(cur)
    }

    /// Writes `value` at this path inside `target` and returns the new document.
    ///
    /// `$` replaces the whole document. Missing (or `null`) intermediate keys become
    /// objects; stepping by name into a non-object, or by index outside an array, is
    /// `States.ReferencePathConflict`, and `target` is reported unchanged.
    pub fn insert(&self, mut target: Value, value: Value) -> Result<Value, EvalError> {
        if self.steps.is_empty() {
            return Ok(value);
        }
        // Check first, without mutating, so the error shows the document as it was.
        {
            let mut cur = Some(&target);
            for step in &self.steps {
                let Some(node) = cur else { break };
                cur = match (step, node) {
                    (RefStep::Key(k), Value::Object(m)) => m.get(k).filter(|v| !v.is_null()),
                    (RefStep::Index(i), Value::Array(a)) => match index(a.len(), *i) {
                        Some(p) => Some(&a[p]),
                        None => return Err(Self::conflict(step, &target)),
                    },
                    _ => return Err(Self::conflict(step, &target)),
                };
            }
        }
        let last = self.steps.len() - 1;
        let mut cur = &mut target;
        for (i, step) in self.steps.iter().enumerate() {
            if cur.is_null() {
                *cur = Value::Object(Map::new());
            }
            let slot = match (step, cur) {
                (RefStep::Key(k), Value::Object(map)) => {
                    if i == last {
                        map.insert(k.clone(), value);
                        break;
                    }
                    map.entry(k.clone())
                        .or_insert_with(|| Value::Object(Map::new()))
                }
                (RefStep::Index(idx), Value::Array(arr)) => {
                    let len = arr.len();
                    let Some(p) = index(len, *idx) else { break };
                    if i == last {
                        arr[p] = value;
                        break;
                    }
                    &mut arr[p]
                }
                // Unreachable after the check above; never panic on evaluation paths.
                _ => break,
            };
            cur = slot;
        }
        Ok(target)
    }
}

impl fmt::Display for ReferencePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
