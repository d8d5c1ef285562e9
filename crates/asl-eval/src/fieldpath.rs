//! Path-valued state fields with AWS's error messages.
//!
//! [`FieldPath`] compiles the value of a field such as `InputPath`, `OutputPath`,
//! `ItemsPath`, `ErrorPath`, `CausePath`, `SecondsPath`, `TimestampPath`,
//! `MaxConcurrencyPath`, `ToleratedFailureCountPath`, `ToleratedFailurePercentagePath`
//! and offers one evaluation method per use, each producing AWS's cause text. A `null`
//! InputPath/OutputPath (meaning `{}`) is the interpreter's business, not this type's.
//!
//! Messages recorded from AWS in the conformance cases (`scenarios`, `base`):
//! * [`FieldPath::select_input`] (InputPath / OutputPath; ItemsPath when compiled with
//!   [`FieldPath::compile_reference`] fails with `States.ReferencePathConflict` instead):
//!   `Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']`
//! * [`FieldPath::resolve`] (ErrorPath / CausePath, which may also hold an intrinsic):
//!   `The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '<input>'`
//! * [`FieldPath::seconds`] (SecondsPath):
//!   `The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == 1.5`,
//!   `The SecondsPath parameter references a negative value: $.input.waitSeconds == -1`
//! * [`FieldPath::timestamp`] (TimestampPath):
//!   `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.TimestampValue == 2016-13-05T21:29:29Z`
//! * [`FieldPath::non_negative_integer`] (MaxConcurrencyPath / ToleratedFailureCountPath):
//!   `The MaxConcurrencyPath field refers to value "NoNumber" which is not a valid integer: $.MaxConcurrencyValue`,
//!   `ToleratedFailureCount cannot be negative.`
//!
//! ErrorPath / CausePath may hold an intrinsic (AWS Fail state docs: "You can also specify
//! CausePath using an intrinsic function that returns a string. These intrinsics are:
//! States.Format, States.JsonToString, States.ArrayGetItem, States.Base64Encode,
//! States.Base64Decode, States.Hash, and States.UUID";
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html>).
//!
//! Not recorded (our best guess, same shape): a missing path for SecondsPath,
//! TimestampPath and the Map paths uses the ErrorPath-style "could not be found" text;
//! `ToleratedFailurePercentagePath` uses "... which is not a valid float" and
//! "ToleratedFailurePercentage must be between 0 and 100.".

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::error::{DefinitionError, EvalError};
use crate::intrinsic::Intrinsic;
use crate::jsonpath::path_not_found;
use crate::jsonpath::{JsonPath, ReferencePath, compact};
use crate::scope::Scope;
use crate::timestamp;

/// What a path field holds.
#[derive(Debug, Clone)]
pub enum PathExpr {
    /// A JSONPath (`$...` or `$$...`).
    Path(JsonPath),
    /// A Reference Path (names and indexes only), e.g. `ItemsPath`.
    Reference(ReferencePath),
    /// An intrinsic call (only where AWS allows it, e.g. ErrorPath / CausePath).
    Intrinsic(Intrinsic),
}

/// A compiled path-valued field, remembering its field name for messages.
#[derive(Debug, Clone)]
pub struct FieldPath {
    field: String,
    expr: PathExpr,
}

/// Prints a value the way AWS does after `==` / inside quotes: strings raw, others as JSON.
fn raw_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => compact(other),
    }
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

    /// Compiles a field that must hold a Reference Path (`ItemsPath`): `$`/`$$` followed
    /// by names and indexes only.
    pub fn compile_reference(field: &str, value: &str) -> Result<Self, DefinitionError> {
        let path = ReferencePath::parse_any_root(value).map_err(|e| {
            DefinitionError::new(format!(
                "The value for the field '{field}' must be a valid Reference Path: {}",
                e.message
            ))
        })?;
        Ok(Self {
            field: field.to_owned(),
            expr: PathExpr::Reference(path),
        })
    }

    /// Compiles a field that may hold a JSONPath or an intrinsic call (`ErrorPath`, `CausePath`).
    pub fn compile_with_intrinsics(field: &str, value: &str) -> Result<Self, DefinitionError> {
        if Intrinsic::looks_like_call(value) {
            let call = Intrinsic::parse(value).map_err(|e| {
                DefinitionError::new(format!(
                    "The value for the field '{field}' must be a valid intrinsic function call: {}",
                    e.message
                ))
            })?;
            Ok(Self {
                field: field.to_owned(),
                expr: PathExpr::Intrinsic(call),
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

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        match &self.expr {
            PathExpr::Path(p) => p.as_str(),
            PathExpr::Reference(r) => r.as_str(),
            PathExpr::Intrinsic(i) => i.as_str(),
        }
    }

    /// InputPath / OutputPath semantics (Jayway's message on a miss). For a field
    /// compiled with [`FieldPath::compile_reference`] (ItemsPath) a miss is
    /// `States.ReferencePathConflict` (`Unable to apply step "items" to input {...}`).
    /// Checking that ItemsPath selected an array is the interpreter's job.
    pub fn select_input(&self, scope: &Scope<'_>) -> Result<Value, EvalError> {
        match &self.expr {
            PathExpr::Path(p) => {
                p.usable()?;
                p.select(scope)
                    .map(std::borrow::Cow::into_owned)
                    .map_err(|e| {
                        EvalError::runtime(format!("Invalid path '{}' : {}", p.as_str(), e.message))
                    })
            }
            PathExpr::Reference(r) => r.get(scope).cloned(),
            PathExpr::Intrinsic(i) => i.evaluate(scope, &self.field),
        }
    }

    /// ErrorPath / CausePath semantics ("could not be found in the input" on a miss).
    pub fn resolve(&self, scope: &Scope<'_>) -> Result<Value, EvalError> {
        match &self.expr {
            PathExpr::Path(p) => {
                p.usable()?;
                p.select(scope)
                    .map(std::borrow::Cow::into_owned)
                    .map_err(|_| path_not_found(p, &self.field, scope))
            }
            PathExpr::Reference(r) => r.get(scope).cloned(),
            PathExpr::Intrinsic(i) => i.evaluate(scope, &self.field),
        }
    }

    /// SecondsPath semantics: a non-negative integer number of seconds.
    pub fn seconds(&self, scope: &Scope<'_>) -> Result<u64, EvalError> {
        let v = self.resolve(scope)?;
        let path = self.as_str();
        let Some(n) = v.as_i64() else {
            return Err(EvalError::runtime(format!(
                "The SecondsPath parameter cannot be parsed as a long value: {path} == {}",
                raw_text(&v)
            )));
        };
        u64::try_from(n).map_err(|_| {
            EvalError::runtime(format!(
                "The SecondsPath parameter references a negative value: {path} == {n}"
            ))
        })
    }

    /// TimestampPath semantics: an ISO-8601 extended offset date-time string.
    pub fn timestamp(&self, scope: &Scope<'_>) -> Result<DateTime<FixedOffset>, EvalError> {
        let v = self.resolve(scope)?;
        v.as_str().and_then(timestamp::parse).ok_or_else(|| {
            EvalError::runtime(format!(
                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                self.as_str(),
                raw_text(&v)
            ))
        })
    }

    /// MaxConcurrencyPath / ToleratedFailureCountPath semantics: a non-negative integer.
    /// A string holding an integer is accepted (recorded: `"1"` from a variable works).
    pub fn non_negative_integer(&self, scope: &Scope<'_>) -> Result<u64, EvalError> {
        let v = self.resolve(scope)?;
        let n = match &v {
            Value::String(s) => s.parse::<i64>().ok(),
            other => other.as_i64(),
        };
        let Some(n) = n else {
            return Err(EvalError::runtime(format!(
                "The {} field refers to value \"{}\" which is not a valid integer: {}",
                self.field,
                raw_text(&v),
                self.as_str()
            )));
        };
        u64::try_from(n).map_err(|_| {
            EvalError::runtime(format!(
                "{} cannot be negative.",
                self.field.strip_suffix("Path").unwrap_or(&self.field)
            ))
        })
    }

    /// ToleratedFailurePercentagePath semantics: a number from 0 to 100 (a numeric
    /// string is accepted, as for the count).
    pub fn percentage(&self, scope: &Scope<'_>) -> Result<f64, EvalError> {
        let v = self.resolve(scope)?;
        let p = match &v {
            Value::String(s) => s.parse::<f64>().ok().filter(|f| f.is_finite()),
            other => other.as_f64(),
        };
        let Some(p) = p else {
            return Err(EvalError::runtime(format!(
                "The {} field refers to value \"{}\" which is not a valid float: {}",
                self.field,
                raw_text(&v),
                self.as_str()
            )));
        };
        if !(0.0..=100.0).contains(&p) {
            return Err(EvalError::runtime(format!(
                "{} must be between 0 and 100.",
                self.field.strip_suffix("Path").unwrap_or(&self.field)
            )));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope_eval<T>(
        field: &str,
        path: &str,
        input: Value,
        f: impl Fn(&FieldPath, &Scope<'_>) -> Result<T, EvalError>,
    ) -> Result<T, EvalError> {
        let ctx = json!({"State": {"Name": "S"}});
        let fp = FieldPath::compile_with_intrinsics(field, path).unwrap();
        f(&fp, &Scope::new(&input, &ctx))
    }

    /// Each evaluation, by name, reduced to its failure's cause.
    #[derive(Clone, Copy)]
    enum Use {
        SelectInput,
        Resolve,
        Seconds,
        Timestamp,
        NonNegative,
    }

    fn cause_of(field: &str, path: &str, input: Value, how: Use) -> String {
        let cause = |r: Result<(), EvalError>| r.expect_err("a failure").cause;
        cause(scope_eval(field, path, input, |f, s| match how {
            Use::SelectInput => f.select_input(s).map(drop),
            Use::Resolve => f.resolve(s).map(drop),
            Use::Seconds => f.seconds(s).map(drop),
            Use::Timestamp => f.timestamp(s).map(drop),
            Use::NonNegative => f.non_negative_integer(s).map(drop),
        }))
    }

    #[test]
    fn recorded_messages() {
        // (field, path, input, use, cause AWS recorded)
        let cases = [
            (
                "InputPath",
                "$.NoSuchInputPath",
                json!({"int-literal": 0}),
                Use::SelectInput,
                "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']",
            ),
            (
                "ErrorPath",
                "$.ErrorX",
                json!({"Error": "e"}),
                Use::Resolve,
                "The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '{\"Error\":\"e\"}'",
            ),
            (
                "SecondsPath",
                "$.input.waitSeconds",
                json!({"input": {"waitSeconds": 1.5}}),
                Use::Seconds,
                "The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == 1.5",
            ),
            (
                "SecondsPath",
                "$.input.waitSeconds",
                json!({"input": {"waitSeconds": -1}}),
                Use::Seconds,
                "The SecondsPath parameter references a negative value: $.input.waitSeconds == -1",
            ),
            (
                "TimestampPath",
                "$.TimestampValue",
                json!({"TimestampValue": "2016-12-05T21:29:29"}),
                Use::Timestamp,
                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.TimestampValue == 2016-12-05T21:29:29",
            ),
            (
                "MaxConcurrencyPath",
                "$.MaxConcurrencyValue",
                json!({"MaxConcurrencyValue": {}}),
                Use::NonNegative,
                "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer: $.MaxConcurrencyValue",
            ),
            (
                "ToleratedFailureCountPath",
                "$.ToleratedFailureCount",
                json!({"ToleratedFailureCount": "NoNumber"}),
                Use::NonNegative,
                "The ToleratedFailureCountPath field refers to value \"NoNumber\" which is not a valid integer: $.ToleratedFailureCount",
            ),
            (
                "ToleratedFailureCountPath",
                "$.c",
                json!({"c": -1}),
                Use::NonNegative,
                "ToleratedFailureCount cannot be negative.",
            ),
        ];
        for (field, path, input, how, expected) in cases {
            assert_eq!(
                cause_of(field, path, input, how),
                expected,
                "{field} {path}"
            );
        }
        let ok = scope_eval("MaxConcurrencyPath", "$.m", json!({"m": "1"}), |f, s| {
            f.non_negative_integer(s)
        });
        assert_eq!(ok.unwrap(), 1);
        let ok = scope_eval(
            "ToleratedFailurePercentagePath",
            "$.p",
            json!({"p": "1"}),
            |f, s| f.percentage(s),
        );
        assert_eq!(ok.unwrap(), 1.0);
    }

    #[test]
    fn successes() {
        assert_eq!(
            scope_eval("SecondsPath", "$.s", json!({"s": 3}), |f, s| f.seconds(s)).unwrap(),
            3
        );
        assert_eq!(
            scope_eval("ErrorPath", "$$.State.Name", json!({}), |f, s| f.resolve(s)).unwrap(),
            json!("S")
        );
        assert_eq!(
            scope_eval(
                "CausePath",
                "States.Format('x{}', $.a)",
                json!({"a": 1}),
                |f, s| f.resolve(s)
            )
            .unwrap(),
            json!("x1")
        );
        assert!(
            scope_eval(
                "TimestampPath",
                "$.t",
                json!({"t": "2016-03-14T01:59:00Z"}),
                |f, s| f.timestamp(s)
            )
            .is_ok()
        );
        assert_eq!(
            scope_eval(
                "ToleratedFailurePercentagePath",
                "$.p",
                json!({"p": 12.5}),
                |f, s| f.percentage(s)
            )
            .unwrap(),
            12.5
        );
    }

    #[test]
    fn items_path_is_a_reference_path() {
        let input = json!({"items": [1, 2]});
        let ctx = json!({});
        let fp = FieldPath::compile_reference("ItemsPath", "$.items").unwrap();
        assert_eq!(
            fp.select_input(&Scope::new(&input, &ctx)).unwrap(),
            json!([1, 2])
        );
        let fp = FieldPath::compile_reference("ItemsPath", "$.nope").unwrap();
        let e = fp.select_input(&Scope::new(&input, &ctx)).unwrap_err();
        assert_eq!(e.error, "States.ReferencePathConflict");
        assert!(FieldPath::compile_reference("ItemsPath", "$.items[*]").is_err());
    }

    #[test]
    fn compile_errors() {
        assert!(FieldPath::compile("InputPath", "States.Array()").is_err());
        assert!(FieldPath::compile("InputPath", "$.a[").is_err());
        assert!(FieldPath::compile_with_intrinsics("ErrorPath", "States.Bad()").is_err());
    }
}
