//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector` (JSONPath mode).
//!
//! Contract:
//! * A template is any JSON value. In objects, a key ending in `.$` holds an expression:
//!   a path `$...`, a context path `$$...`, or an intrinsic call `States.X(...)`; the
//!   output key drops the `.$`. Other values are copied. Nested objects and arrays are
//!   processed recursively (up to [`MAX_DEPTH`] levels). A Pass state's `Result` is
//!   **not** a template: its `.$` keys are kept verbatim (conformance case
//!   `test_state_pass_result_jsonpaths`).
//! * [`Template::compile`]: a `.$` value that is not a string, or neither a valid path
//!   nor a valid intrinsic call, is a [`DefinitionError`].
//! * [`Template::evaluate`]: a definite path that selects nothing fails with
//!   `States.Runtime` and AWS's text (conformance `test_invalid_jsonpath`):
//!   `The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '<input as compact JSON>'`.
//!   The field named is the key itself (not its full location). Indefinite paths give
//!   an array (possibly empty). Intrinsic failures propagate from [`crate::intrinsic`].
//! * Constant subtrees are pre-built at compile time, so evaluation only clones them.

use serde_json::{Map, Value};

use crate::error::{DefinitionError, EvalError};
use crate::intrinsic::Intrinsic;
use crate::jsonpath::JsonPath;
use crate::jsonpath::path_not_found;
use crate::scope::Scope;

/// Maximum nesting depth of a template.
pub const MAX_DEPTH: usize = 256;

/// A compiled payload template.
#[derive(Debug, Clone)]
pub struct Template {
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Constant(Value),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Path { field: String, path: JsonPath },
    Call { field: String, call: Intrinsic },
}

impl Template {
    /// Compiles a template.
    pub fn compile(template: &Value) -> Result<Self, DefinitionError> {
        Ok(Self {
            root: compile(template, 0)?,
        })
    }

    /// `true` when the template contains no expression (evaluation is a clone).
    pub fn is_constant(&self) -> bool {
        matches!(self.root, Node::Constant(_))
    }

    /// Evaluates against `scope`.
    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<Value, EvalError> {
        eval(&self.root, scope)
    }
}

/// Compiles the expression held by a `field.$` key (a path or an intrinsic call).
fn compile_expr(field: &str, value: &Value) -> Result<Node, DefinitionError> {
    let invalid = || {
        DefinitionError::new(format!(
            "The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call"
        ))
    };
    let Some(text) = value.as_str() else {
        return Err(invalid());
    };
    if text.starts_with('$') {
        let path = JsonPath::parse(text).map_err(|e| {
            DefinitionError::new(format!(
                "The value for the field '{field}' must be a valid JSONPath: {}",
                e.message
            ))
        })?;
        Ok(Node::Path {
            field: field.to_owned(),
            path,
        })
    } else if Intrinsic::looks_like_call(text) {
        let call = Intrinsic::parse(text).map_err(|e| {
            DefinitionError::new(format!(
                "The value for the field '{field}' must be a valid intrinsic function call: {}",
                e.message
            ))
        })?;
        Ok(Node::Call {
            field: field.to_owned(),
            call,
        })
    } else {
        Err(invalid())
    }
}

fn compile(v: &Value, depth: usize) -> Result<Node, DefinitionError> {
    if depth > MAX_DEPTH {
        return Err(DefinitionError::new(format!(
            "The payload template is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    match v {
        Value::Object(map) => {
            let mut fields = Vec::with_capacity(map.len());
            let mut dynamic = false;
            for (k, val) in map {
                let node = if let Some(name) = k.strip_suffix(".$") {
                    let node = compile_expr(k, val)?;
                    fields.push((name.to_owned(), node));
                    dynamic = true;
                    continue;
                } else {
                    compile(val, depth + 1)?
                };
                dynamic |= !matches!(node, Node::Constant(_));
                fields.push((k.clone(), node));
            }
            if dynamic {
                Ok(Node::Object(fields))
            } else {
                Ok(Node::Constant(v.clone()))
            }
        }
        Value::Array(items) => {
            let nodes = items
                .iter()
                .map(|i| compile(i, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            if nodes.iter().all(|n| matches!(n, Node::Constant(_))) {
                Ok(Node::Constant(v.clone()))
            } else {
                Ok(Node::Array(nodes))
            }
        }
        other => Ok(Node::Constant(other.clone())),
    }
}

fn eval(node: &Node, scope: &Scope<'_>) -> Result<Value, EvalError> {
    match node {
        Node::Constant(v) => Ok(v.clone()),
        Node::Object(fields) => {
            let mut out = Map::with_capacity(fields.len());
            for (k, n) in fields {
                out.insert(k.clone(), eval(n, scope)?);
            }
            Ok(Value::Object(out))
        }
        Node::Array(items) => items
            .iter()
            .map(|n| eval(n, scope))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Node::Path { field, path } => {
            path.usable()?;
            path.select(scope)
                .map(std::borrow::Cow::into_owned)
                .map_err(|_| path_not_found(path, field, scope))
        }
        Node::Call { field, call } => call.evaluate(scope, field),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(t: Value, input: Value) -> Result<Value, EvalError> {
        let ctx = json!({"Execution": {"Name": "exec"}});
        Template::compile(&t)
            .map_err(|e| EvalError::new("Definition", e.message))?
            .evaluate(&Scope::new(&input, &ctx))
    }

    #[test]
    fn substitutes_paths_context_and_calls() {
        let out = run(
            json!({"a": "lit", "b.$": "$.x", "c.$": "$$.Execution.Name", "d": {"e.$": "States.Format('<{}>', $.x)"},
                   "f": [1, {"g.$": "$.x"}], "h.$": "$.items[*].v"}),
            json!({"x": 7, "items": [{"v": 1}, {"w": 2}]}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"a": "lit", "b": 7, "c": "exec", "d": {"e": "<7>"}, "f": [1, {"g": 7}], "h": [1]})
        );
    }

    #[test]
    fn missing_path_message() {
        let e = run(
            json!({"value.$": "$.no_such_jsonpath"}),
            json!({"int-literal": 0}),
        )
        .unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert_eq!(
            e.cause,
            "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"int-literal\":0}'"
        );
    }

    #[test]
    fn definition_errors() {
        assert!(Template::compile(&json!({"a.$": 1})).is_err());
        assert!(Template::compile(&json!({"a.$": "not a path"})).is_err());
        assert!(Template::compile(&json!({"a.$": "$.["})).is_err());
        assert!(Template::compile(&json!({"a.$": "States.Nope()"})).is_err());
        let mut deep = json!(1);
        for _ in 0..300 {
            deep = json!({ "k": deep });
        }
        assert!(Template::compile(&deep).is_err());
    }

    #[test]
    fn constant_templates_are_detected() {
        assert!(
            Template::compile(&json!({"a": [1, {"b": 2}]}))
                .unwrap()
                .is_constant()
        );
        assert!(
            !Template::compile(&json!({"a": [1, {"b.$": "$"}]}))
                .unwrap()
                .is_constant()
        );
    }
}
