//! JSONata query language: `{% ... %}` expressions, JSONata payloads and AWS's added
//! functions.
//!
//! Contract:
//! * [`Expr::parse_field`]: a string is an expression when it starts with `{%` and ends
//!   with `%}` (AWS: "Any string value ... surrounded by {% %} characters"); the text in
//!   between, trimmed, is what AWS quotes in its messages. A syntax error is a
//!   [`DefinitionError`] (CreateStateMachine refuses the machine).
//! * [`Payload`]: `Arguments`, `Output`, `Assign`, `Items`, `ItemSelector`: any JSON
//!   value whose strings may be expressions, in objects and arrays at any depth.
//! * Evaluation reads `$states` (`input`, `result`, `errorOutput`, `context`) and the
//!   workflow variables (`$name`) from an [`Env`]. Only the variables an expression
//!   names are converted, so a large variable costs nothing where it is not read.
//! * Failures are `States.QueryEvaluationError` with AWS's causes (recorded in the
//!   conformance suite, `assign`, `scenarios`, `intrinsic_functions`):
//!   `The JSONata expression '<expr>' specified for the field '<Field/key>' returned nothing (undefined).`,
//!   `... returned an unsupported result type.` (a function),
//!   `... threw an error during evaluation. <JSONata code>: <message>`.
//!
//! AWS-specific functions (developer guide, "Transforming data with JSONata in Step
//! Functions", section "JSONata functions provided by Step Functions"): `$partition`,
//! `$range`, `$hash`, `$random([seed])`, `$uuid`, `$parse`. They are host functions of the
//! evaluator; everything else is the JSONata library.
//!
//! Which JSONata implementation, and why: `jsonata-core` (2.2.x, MIT). Compared on
//! 2026-11-25 with the other crates.io candidates:
//! * `jsonata-core`: a port of jsonata-js 2.x that passes the reference test suite
//!   (1686/1686 per its README), keeps object keys in insertion order (`IndexMap`; AWS
//!   preserves key order too), supports host functions (so the AWS functions need no
//!   fork) and binding variables, released monthly. Its values are `Rc`-based, so
//!   evaluation happens on the calling thread; compiled ASTs are `Send + Sync`.
//! * `jsonata-rs` (Stedi, 0.3): "an (incomplete) implementation", stores objects in a
//!   `hashbrown::HashMap` (loses key order), arena-allocated values.
//! * `jsonata` (0.0.0): a placeholder with no code.
//!
//! AWS runs JSONata 2.x (the developer guide links the 2.0 docs), so error codes and
//! messages follow jsonata-js (`T1006: Attempted to invoke a non-function`).

use std::sync::Arc;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError};
use jsonata_core::value::JValue;
use serde_json::{Map, Number, Value};

use crate::error::{DefinitionError, EvalError, names};
use crate::scope::Variables;

/// Maximum nesting depth of a JSONata payload.
pub const MAX_DEPTH: usize = 256;

/// A compiled `{% ... %}` expression.
#[derive(Debug, Clone)]
pub struct Expr {
    source: Arc<str>,
    ast: Arc<AstNode>,
    /// The `$name`s the expression mentions (variables to bind; `states` included).
    refs: Arc<[String]>,
}

/// What an expression can read.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// `$states.input`: the state's input.
    pub input: &'a Value,
    /// `$states.context`: the context object.
    pub context: &'a Value,
    /// `$states.result`: the task / branch / iteration results (Output and Assign only).
    pub result: Option<&'a Value>,
    /// `$states.errorOutput`: `{"Error", "Cause"}` (a Catch's Output and Assign only).
    pub error_output: Option<&'a Value>,
    /// Workflow variables.
    pub variables: Option<&'a dyn Variables>,
}

impl<'a> Env<'a> {
    /// `$states.input` and `$states.context` only.
    pub fn new(input: &'a Value, context: &'a Value) -> Self {
        Self {
            input,
            context,
            result: None,
            error_output: None,
            variables: None,
        }
    }

    /// With `$states.result`.
    pub fn with_result(self, result: &'a Value) -> Self {
        Self {
            result: Some(result),
            ..self
        }
    }

    /// With `$states.errorOutput`.
    pub fn with_error_output(self, error_output: &'a Value) -> Self {
        Self {
            error_output: Some(error_output),
            ..self
        }
    }

    /// With workflow variables.
    pub fn with_variables(self, variables: &'a dyn Variables) -> Self {
        Self {
            variables: Some(variables),
            ..self
        }
    }

    fn states(&self) -> JValue {
        let mut m = Map::new();
        m.insert("input".into(), self.input.clone());
        if let Some(r) = self.result {
            m.insert("result".into(), r.clone());
        }
        if let Some(e) = self.error_output {
            m.insert("errorOutput".into(), e.clone());
        }
        m.insert("context".into(), self.context.clone());
        JValue::from(Value::Object(m))
    }
}

/// `true` when `s` is a `{% ... %}` expression.
pub fn is_expression(s: &str) -> bool {
    s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}")
}

fn query_error(cause: impl Into<String>) -> EvalError {
    EvalError::new(names::QUERY_EVALUATION_ERROR, cause)
}

impl Expr {
    /// Compiles `s` if it is a `{% ... %}` expression; `None` for a plain string.
    pub fn parse_field(s: &str) -> Option<Result<Self, DefinitionError>> {
        is_expression(s).then(|| Self::parse(s[2..s.len() - 2].trim()))
    }

    /// Compiles the JSONata text itself (without `{% %}`).
    pub fn parse(source: &str) -> Result<Self, DefinitionError> {
        let ast = jsonata_core::parser::parse(source).map_err(|e| {
            DefinitionError::new(format!(
                "The JSONata expression '{source}' is not valid: {e}"
            ))
        })?;
        let mut refs: Vec<String> = Vec::new();
        let bytes = source.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'$' {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                if j > start {
                    let name = &source[start..j];
                    if !refs.iter().any(|r| r == name) {
                        refs.push(name.to_owned());
                    }
                }
                i = j.max(i + 1);
            } else {
                i += 1;
            }
        }
        Ok(Self {
            source: source.into(),
            ast: Arc::new(ast),
            refs: refs.into(),
        })
    }

    /// The expression text, as AWS quotes it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The expression's value, or `None` when it is undefined.
    fn raw(&self, field: &str, env: &Env<'_>) -> Result<Option<Value>, EvalError> {
        let mut ctx = Context::new();
        for name in self.refs.iter() {
            if name == "states" {
                ctx.bind("states".to_owned(), env.states());
            } else if let Some(v) = env.variables.and_then(|vars| vars.get(name)) {
                ctx.bind(name.clone(), JValue::from(v.clone()));
            }
        }
        let mut ev = Evaluator::with_context(ctx);
        register_aws_functions(&mut ev);
        let out = ev
            .evaluate(&self.ast, &JValue::Undefined)
            .map_err(|e| {
                query_error(format!(
                    "The JSONata expression '{}' specified for the field '{field}' threw an error during evaluation. {}",
                    self.source,
                    js_message(e.message())
                ))
            })?;
        to_json(&out).map_err(|()| {
            query_error(format!(
                "The JSONata expression '{}' specified for the field '{field}' returned an unsupported result type.",
                self.source
            ))
        })
    }

    /// Evaluates; `field` names the location in messages (e.g. `Output/result`).
    pub fn evaluate(&self, field: &str, env: &Env<'_>) -> Result<Value, EvalError> {
        self.raw(field, env)?.ok_or_else(|| {
            query_error(format!(
                "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                self.source
            ))
        })
    }

    /// Evaluates and checks the JSON type (`array`, `string`, `number`, `boolean`,
    /// `object`), with AWS's message:
    /// `... returned an unexpected result type. Expected 'array', but was 'boolean' for value: true`.
    pub fn evaluate_typed(
        &self,
        field: &str,
        env: &Env<'_>,
        expected: &str,
    ) -> Result<Value, EvalError> {
        let v = self.evaluate(field, env)?;
        let got = crate::json_type_name(&v);
        if got == expected {
            Ok(v)
        } else {
            Err(query_error(format!(
                "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected '{expected}', but was '{got}' for value: {}",
                self.source,
                crate::jsonpath::compact(&v)
            )))
        }
    }
}

/// jsonata-js's text for an error: jsonata-core appends the offending token to some
/// messages (`T1006: Attempted to invoke a non-function: $f`), jsonata-js (and AWS,
/// conformance `test_math_random_seeded`) does not.
fn js_message(msg: &str) -> &str {
    const NON_FUNCTION: &str = "T1006: Attempted to invoke a non-function";
    if msg.starts_with(NON_FUNCTION) {
        NON_FUNCTION
    } else {
        msg
    }
}

/// JSONata's value as JSON; `Ok(None)` for undefined, `Err` for functions.
fn to_json(v: &JValue) -> Result<Option<Value>, ()> {
    Ok(Some(match v {
        JValue::Undefined => return Ok(None),
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                if let Some(x) = to_json(item)? {
                    out.push(x);
                }
            }
            Value::Array(out)
        }
        JValue::Object(map) => {
            let mut out = Map::new();
            for (k, item) in map.iter() {
                if let Some(x) = to_json(item)? {
                    out.insert(k.clone(), x);
                }
            }
            Value::Object(out)
        }
        _ => return Err(()),
    }))
}

/// Whole numbers print without a fraction, as AWS prints them.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Value::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

fn arg_error(name: &str, msg: &str) -> EvaluatorError {
    EvaluatorError::EvaluationError(format!("${name}: {msg}"))
}

fn register_aws_functions(ev: &mut Evaluator) {
    // Registration only fails on a clash with a built-in, which these names are not
    // (`$random` replaces the built-in on purpose: AWS's takes an optional seed).
    let _ = ev.register_fn("partition", |args: &[JValue]| {
        let (Some(JValue::Array(items)), Some(JValue::Number(size))) = (args.first(), args.get(1))
        else {
            return Err(arg_error(
                "partition",
                "expects an array and a positive integer",
            ));
        };
        if *size < 1.0 || size.fract() != 0.0 {
            return Err(arg_error(
                "partition",
                "the size must be a positive integer",
            ));
        }
        let chunks = items
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .chunks(*size as usize)
            .map(|c| JValue::array(c.to_vec()))
            .collect();
        Ok(JValue::array(chunks))
    });
    let _ = ev.register_fn("range", |args: &[JValue]| {
        let num = |i: usize| match args.get(i) {
            Some(JValue::Number(n)) if n.fract() == 0.0 => Ok(*n),
            _ => Err(arg_error("range", "expects three integers")),
        };
        let (start, end, step) = (num(0)?, num(1)?, num(2)?);
        if step == 0.0 {
            return Err(arg_error("range", "the step must not be 0"));
        }
        let mut out = Vec::new();
        let mut x = start;
        while (step > 0.0 && x <= end) || (step < 0.0 && x >= end) {
            out.push(JValue::Number(x));
            if out.len() > 1000 {
                return Err(arg_error("range", "the result has more than 1000 items"));
            }
            x += step;
        }
        // AWS returns a JSONata sequence: a single item comes back unwrapped
        // (conformance `test_array_range`: $range(1, 9, 9) is 1).
        Ok(JValue::sequence(out))
    });
    let _ = ev.register_fn("hash", |args: &[JValue]| {
        let (Some(JValue::String(data)), Some(JValue::String(alg))) = (args.first(), args.get(1))
        else {
            return Err(arg_error("hash", "expects a string and an algorithm name"));
        };
        let v = crate::intrinsic::functions::hash(alg, data.as_bytes()).ok_or_else(|| {
            arg_error(
                "hash",
                "the algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512",
            )
        })?;
        Ok(JValue::from(v))
    });
    let _ = ev.register_fn_override("random", |args: &[JValue]| {
        use rand::{Rng, SeedableRng};
        let x: f64 = match args.first() {
            None | Some(JValue::Undefined) => rand::rng().random(),
            Some(JValue::Number(seed)) => {
                rand::rngs::StdRng::seed_from_u64(seed.to_bits()).random()
            }
            Some(JValue::String(seed)) => {
                let h = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                });
                rand::rngs::StdRng::seed_from_u64(h).random()
            }
            Some(_) => return Err(arg_error("random", "the seed must be a number")),
        };
        Ok(JValue::Number(x))
    });
    let _ = ev.register_fn("uuid", |_args: &[JValue]| {
        Ok(JValue::from(uuid::Uuid::new_v4().to_string()))
    });
    let _ = ev.register_fn("parse", |args: &[JValue]| {
        let Some(JValue::String(text)) = args.first() else {
            return Err(arg_error("parse", "expects a string"));
        };
        let v: Value = serde_json::from_str(text)
            .map_err(|e| arg_error("parse", &format!("invalid JSON: {e}")))?;
        Ok(JValue::from(v))
    });
}

/// A JSONata payload: a JSON value whose strings may be `{% %}` expressions.
#[derive(Debug, Clone)]
pub struct Payload {
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Constant(Value),
    Expr(Expr),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
}

fn compile(v: &Value, depth: usize) -> Result<Node, DefinitionError> {
    if depth > MAX_DEPTH {
        return Err(DefinitionError::new("The payload is nested too deeply"));
    }
    let node = match v {
        Value::String(s) => match Expr::parse_field(s) {
            Some(e) => Node::Expr(e?),
            None => Node::Constant(v.clone()),
        },
        Value::Object(m) => {
            let mut fields = Vec::with_capacity(m.len());
            for (k, x) in m {
                fields.push((k.clone(), compile(x, depth + 1)?));
            }
            if fields.iter().all(|(_, n)| matches!(n, Node::Constant(_))) {
                Node::Constant(v.clone())
            } else {
                Node::Object(fields)
            }
        }
        Value::Array(items) => {
            let nodes = items
                .iter()
                .map(|x| compile(x, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            if nodes.iter().all(|n| matches!(n, Node::Constant(_))) {
                Node::Constant(v.clone())
            } else {
                Node::Array(nodes)
            }
        }
        other => Node::Constant(other.clone()),
    };
    Ok(node)
}

impl Payload {
    /// Compiles a payload.
    pub fn compile(v: &Value) -> Result<Self, DefinitionError> {
        Ok(Self {
            root: compile(v, 0)?,
        })
    }

    /// The whole payload is one expression (e.g. `"Output": "{% ... %}"`).
    pub fn as_expr(&self) -> Option<&Expr> {
        match &self.root {
            Node::Expr(e) => Some(e),
            _ => None,
        }
    }

    /// Evaluates; `field` is the top-level field name (`Output`, `Arguments`, ...),
    /// extended with object keys in messages (`Output/result`). Array items keep the
    /// field of their array.
    pub fn evaluate(&self, field: &str, env: &Env<'_>) -> Result<Value, EvalError> {
        eval(&self.root, field, env)
    }

    /// Evaluates an object payload key by key, for `Assign` (each key a variable).
    /// Returns the pairs in definition order.
    pub fn evaluate_entries(
        &self,
        field: &str,
        env: &Env<'_>,
    ) -> Result<Vec<(String, Value)>, EvalError> {
        match &self.root {
            Node::Constant(Value::Object(m)) => {
                Ok(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            Node::Object(fields) => fields
                .iter()
                .map(|(k, n)| Ok((k.clone(), eval(n, &format!("{field}/{k}"), env)?)))
                .collect(),
            other => match eval(other, field, env)? {
                Value::Object(m) => Ok(m.into_iter().collect()),
                _ => Ok(Vec::new()),
            },
        }
    }
}

fn eval(node: &Node, field: &str, env: &Env<'_>) -> Result<Value, EvalError> {
    match node {
        Node::Constant(v) => Ok(v.clone()),
        Node::Expr(e) => e.evaluate(field, env),
        Node::Object(fields) => {
            let mut out = Map::new();
            for (k, n) in fields {
                out.insert(k.clone(), eval(n, &format!("{field}/{k}"), env)?);
            }
            Ok(Value::Object(out))
        }
        Node::Array(items) => items
            .iter()
            .map(|n| eval(n, field, env))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(src: &str, input: Value) -> Result<Value, EvalError> {
        let ctx = json!({"Execution": {"Name": "e1"}});
        let e = Expr::parse(src).map_err(|d| EvalError::runtime(d.message))?;
        e.evaluate("Output", &Env::new(&input, &ctx))
    }

    #[test]
    fn reads_states_input_and_context() {
        assert_eq!(
            run("$states.input.a + 1", json!({"a": 41})).ok(),
            Some(json!(42))
        );
        assert_eq!(
            run("$states.context.Execution.Name", json!({})).ok(),
            Some(json!("e1"))
        );
    }

    #[test]
    fn keeps_object_key_order() {
        let v = run("{'z': 1, 'a': 2, 'm': 3}", json!({})).unwrap_or_default();
        let keys: Vec<&String> = v
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn undefined_and_functions_fail_with_aws_messages() {
        let e = run("$nope", json!({})).err().map(|e| e.cause);
        assert_eq!(
            e.as_deref(),
            Some(
                "The JSONata expression '$nope' specified for the field 'Output' returned nothing (undefined)."
            )
        );
        let e = run("function($x){$x}", json!({})).err().map(|e| e.cause);
        assert!(
            e.as_deref()
                .is_some_and(|c| c.ends_with("returned an unsupported result type.")),
            "{e:?}"
        );
        let e = run("$randomSeeded(1)", json!({})).err();
        assert_eq!(
            e.as_ref().map(|e| e.error.as_str()),
            Some("States.QueryEvaluationError")
        );
        assert!(
            e.as_ref().is_some_and(|e| e
                .cause
                .ends_with("T1006: Attempted to invoke a non-function")),
            "{e:?}"
        );
    }

    #[test]
    fn aws_functions() {
        assert_eq!(
            run("$partition([1,2,3], 2)", json!({})).ok(),
            Some(json!([[1, 2], [3]]))
        );
        assert_eq!(
            run("$range(0, 9, 3)", json!({})).ok(),
            Some(json!([0, 3, 6, 9]))
        );
        assert_eq!(run("$range(1, 9, 9)", json!({})).ok(), Some(json!(1)));
        assert_eq!(
            run("$parse('{\"a\": [1]}')", json!({})).ok(),
            Some(json!({"a": [1]}))
        );
        assert_eq!(
            run("$hash('a', 'SHA-256')", json!({})).ok(),
            Some(json!(
                "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
            ))
        );
        let r = run("$random()", json!({})).ok().and_then(|v| v.as_f64());
        assert!(r.is_some_and(|r| (0.0..1.0).contains(&r)));
        assert_eq!(
            run("$random(7) = $random(7)", json!({})).ok(),
            Some(json!(true))
        );
        let u = run("$uuid()", json!({})).ok();
        assert!(u.is_some_and(|u| u.as_str().is_some_and(|s| s.len() == 36)));
    }

    #[test]
    fn payloads_name_the_failing_key() {
        let p = Payload::compile(&json!({"a": [1, "{% $states.input.x %}"], "b": "{% $nope %}"}))
            .unwrap_or_else(|e| panic!("{e}"));
        let input = json!({"x": 2});
        let ctx = json!({});
        let err = p.evaluate("Output", &Env::new(&input, &ctx)).err();
        assert!(err.is_some_and(|e| e.cause.contains("for the field 'Output/b'")),);
        let p = Payload::compile(&json!({"a": [1, "{% $states.input.x %}"]}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p.evaluate("Output", &Env::new(&input, &ctx)).ok(),
            Some(json!({"a": [1, 2]}))
        );
    }

    #[test]
    fn variables_are_read_by_name() {
        let mut vars = Map::new();
        vars.insert("x".into(), json!({"y": 5}));
        let input = json!({});
        let ctx = json!({});
        let e = Expr::parse("$x.y * 2").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            e.evaluate("Output", &Env::new(&input, &ctx).with_variables(&vars))
                .ok(),
            Some(json!(10))
        );
    }

    #[test]
    fn syntax_errors_are_definition_errors() {
        assert!(Expr::parse_field("{% $states.input. %}").is_some_and(|r| r.is_err()));
        assert!(Expr::parse_field("plain").is_none());
    }
}
