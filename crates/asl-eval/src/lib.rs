//! The expression layer of the Amazon States Language (JSONPath and JSONata).
//!
//! Everything here is pure (no I/O, no async) and split into *compile* (once, at
//! definition time, returning [`DefinitionError`]) and *evaluate* (per execution,
//! returning [`EvalError`] with AWS's error name and cause text). Compiled values are
//! `Clone + Send + Sync` and never re-parse while evaluating.
//!
//! | ASL field | compile | evaluate |
//! |---|---|---|
//! | `Parameters`, `ResultSelector`, `ItemSelector` | [`template::Template::compile`] | [`template::Template::evaluate`] |
//! | `InputPath`, `OutputPath` | [`fieldpath::FieldPath::compile`] | [`fieldpath::FieldPath::select_input`] |
//! | `ItemsPath` | [`fieldpath::FieldPath::compile_reference`] | [`fieldpath::FieldPath::select_input`] |
//! | `ResultPath` (also in `Catch`) | [`jsonpath::ReferencePath::parse`] | [`jsonpath::ReferencePath::insert`] |
//! | `ErrorPath`, `CausePath` | [`fieldpath::FieldPath::compile_with_intrinsics`] | [`fieldpath::FieldPath::resolve`] |
//! | `SecondsPath` | [`fieldpath::FieldPath::compile`] | [`fieldpath::FieldPath::seconds`] |
//! | `TimestampPath` | [`fieldpath::FieldPath::compile`] | [`fieldpath::FieldPath::timestamp`] |
//! | `Timestamp` (Wait literal) | [`timestamp::parse`] | — |
//! | `MaxConcurrencyPath`, `ToleratedFailureCountPath` | [`fieldpath::FieldPath::compile`] | [`fieldpath::FieldPath::non_negative_integer`] |
//! | `ToleratedFailurePercentagePath` | [`fieldpath::FieldPath::compile`] | [`fieldpath::FieldPath::percentage`] |
//! | `Choices` | [`choice::compile_choices`] | [`choice::choose`] |
//! | any `States.*(...)` call | [`intrinsic::Intrinsic::parse`] | [`intrinsic::Intrinsic::evaluate`] |
//! | any JSONPath | [`jsonpath::JsonPath::parse`] | [`jsonpath::JsonPath::select`] |
//!
//! Left to the interpreter: `null` InputPath/OutputPath (`{}`) and ResultPath (discard
//! the result), a Pass state's `Result` (a plain value, *not* a template), the
//! "An error occurred while executing the state 'X' (entered at the event id #N). "
//! prefix on causes, `States.NoChoiceMatched`, and checking that ItemsPath gave an array.
//!
//! What expressions read is a [`Scope`] (`$`, `$$` and workflow variables `$name`).
//!
//! JSONata (`QueryLanguage: JSONata`) lives in [`jsonata`]: `{% ... %}` expressions
//! ([`jsonata::Expr`]) and payloads whose strings may be expressions
//! ([`jsonata::Payload`], for `Arguments`, `Output`, `Assign`, `Items`, `ItemSelector`),
//! read through a [`jsonata::Env`] (`$states.input/result/errorOutput/context` and the
//! variables), failing with `States.QueryEvaluationError`
//! ([`error::names::QUERY_EVALUATION_ERROR`]). The module documents which JSONata crate
//! evaluates them and why.
//!
//! References relied on (each module cites the parts it uses):
//! * AWS-recorded conformance suite (`conformance/` in the repository): the ground truth for
//!   outputs and exact error causes.
//! * Amazon States Language spec: <https://states-language.net/spec.html> (paths,
//!   reference paths, payload templates, Choice rules, timestamps).
//! * AWS Step Functions developer guide: intrinsic functions
//!   (<https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html>),
//!   Fail state (<https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html>),
//!   error names (<https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html>).
//! * Jayway JsonPath (<https://github.com/json-path/JsonPath>), which AWS uses for
//!   JSONPath: definite vs indefinite results and its exception texts.
//!
//! Ground truth: the AWS-recorded conformance suite (`conformance/cases`). The
//! integration test `tests/conformance.rs` replays every case whose machine only uses
//! Pass/Choice/Fail/Succeed/Wait (699 cases) and `tests/definitions_compile.rs` compiles
//! every expression, JSONPath and JSONata, of every definition in the suite.
//!
//! ```
//! use asl_eval::{Scope, template::Template, choice};
//! use serde_json::json;
//!
//! // Compile once (definition time)...
//! let params = Template::compile(&json!({
//!     "greeting.$": "States.Format('Hello, {}!', $.name)",
//!     "execution.$": "$$.Execution.Name"
//! }))?;
//! let rules = choice::compile_choices(&json!([
//!     {"Variable": "$.approved", "BooleanEquals": true, "Next": "Approved"}
//! ]))?;
//!
//! // ...evaluate per execution.
//! let input = json!({"name": "Ada", "approved": true});
//! let context = json!({"Execution": {"Name": "exec-1"}});
//! let scope = Scope::new(&input, &context);
//! assert_eq!(
//!     params.evaluate(&scope)?,
//!     json!({"greeting": "Hello, Ada!", "execution": "exec-1"})
//! );
//! assert_eq!(choice::choose(&rules, &scope)?, Some("Approved"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod choice;
pub mod error;
pub mod fieldpath;
pub mod intrinsic;
pub mod jsonata;
pub mod jsonpath;
pub mod scope;
pub mod template;
pub mod timestamp;

pub use error::{DefinitionError, EvalError};
pub use scope::Scope;

/// The JSON type name AWS's messages use for a value: `null`, `boolean`,
/// `number`, `string`, `array` or `object`.
pub fn json_type_name(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn compiled_values_are_shareable() {
        assert_send_sync::<template::Template>();
        assert_send_sync::<choice::ChoiceRule>();
        assert_send_sync::<jsonpath::JsonPath>();
        assert_send_sync::<jsonpath::ReferencePath>();
        assert_send_sync::<intrinsic::Intrinsic>();
        assert_send_sync::<fieldpath::FieldPath>();
    }
}
