//! Intrinsic functions (`States.Format(...)`, `States.Array(...)`, ...), JSONPath mode.
//!
//! Contract:
//! * [`Intrinsic::parse`] compiles a call once (definition time). Syntax errors, unknown
//!   functions, wrong argument counts and literal arguments of the wrong type are
//!   [`DefinitionError`]s. Calls nest up to [`MAX_DEPTH`] (10) levels, AWS's documented
//!   limit ("You can nest up to 10 intrinsic functions within a field"); deeper input is
//!   refused instead of overflowing the stack.
//! * Arguments: string literals in single quotes (`\'`, `\{`, `\}`, `\\` are escapes;
//!   any other backslash is kept), numbers, `true`, `false`, `null`, paths `$...` and
//!   `$$...`, and nested calls.
//! * [`Intrinsic::evaluate`] runs it against a [`Scope`]. A path argument that selects
//!   nothing is `States.Runtime` with the template message (`The JSONPath '...'
//!   specified for the field '...' could not be found in the input '...'`); bad argument
//!   types or values at run time are `States.IntrinsicFailure`.
//!
//! Behaviour relied on (AWS "Intrinsic functions for JSONPath states",
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html>, and
//! the recorded conformance cases in `intrinsic_functions.jsonl`):
//! * `States.Format` prints strings raw, objects and arrays like Java's `Map`/`List`
//!   `toString` (`{Arg1=1, Arg2=[]}`), other values as JSON; `{}` count must match.
//! * `States.StringToJson` of a blank string is `null`.
//! * `States.StringSplit` splits on *any* of the delimiter characters and drops empty
//!   tokens (Java `StringTokenizer`): `", , ,"` on `","` gives `[" ", " "]`.
//! * `States.MathAdd` rounds each operand half-up (Java `Math.round`) before adding:
//!   `-0.5 + 0.5 = 1`, `1.5 + 1.51 = 4`.
//! * `States.ArrayRange` includes the end (`0, 9, 3 -> [0,3,6,9]`), at most 1000 items.
//! * `States.JsonMerge` is shallow only (third argument must be `false`).
//! * `States.MathRandom(start, end[, seed])`: start inclusive, end exclusive (not
//!   recorded; AWS only says "between"); non-integers are rounded like MathAdd.
//! * `States.Hash` algorithms: MD5, SHA-1, SHA-256, SHA-384, SHA-512; hex lower case.
//! * Base64 and hash inputs are limited to 10,000 characters.

use serde_json::Value;

use crate::error::{DefinitionError, EvalError};
use crate::jsonpath::JsonPath;
use crate::scope::Scope;

pub(crate) mod functions;
mod parser;

use parser::Parser;

/// Maximum nesting of calls inside calls.
pub const MAX_DEPTH: usize = 10;

/// A compiled intrinsic function call.
#[derive(Debug, Clone)]
pub struct Intrinsic {
    text: String,
    call: Call,
}

/// The intrinsic functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `States.Format`
    Format,
    /// `States.StringToJson`
    StringToJson,
    /// `States.JsonToString`
    JsonToString,
    /// `States.Array`
    Array,
    /// `States.ArrayPartition`
    ArrayPartition,
    /// `States.ArrayContains`
    ArrayContains,
    /// `States.ArrayRange`
    ArrayRange,
    /// `States.ArrayGetItem`
    ArrayGetItem,
    /// `States.ArrayLength`
    ArrayLength,
    /// `States.ArrayUnique`
    ArrayUnique,
    /// `States.Base64Encode`
    Base64Encode,
    /// `States.Base64Decode`
    Base64Decode,
    /// `States.Hash`
    Hash,
    /// `States.JsonMerge`
    JsonMerge,
    /// `States.MathRandom`
    MathRandom,
    /// `States.MathAdd`
    MathAdd,
    /// `States.StringSplit`
    StringSplit,
    /// `States.UUID`
    Uuid,
}

impl Function {
    /// Looks a function up by its full name (`States.Format`).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "States.Format" => Self::Format,
            "States.StringToJson" => Self::StringToJson,
            "States.JsonToString" => Self::JsonToString,
            "States.Array" => Self::Array,
            "States.ArrayPartition" => Self::ArrayPartition,
            "States.ArrayContains" => Self::ArrayContains,
            "States.ArrayRange" => Self::ArrayRange,
            "States.ArrayGetItem" => Self::ArrayGetItem,
            "States.ArrayLength" => Self::ArrayLength,
            "States.ArrayUnique" => Self::ArrayUnique,
            "States.Base64Encode" => Self::Base64Encode,
            "States.Base64Decode" => Self::Base64Decode,
            "States.Hash" => Self::Hash,
            "States.JsonMerge" => Self::JsonMerge,
            "States.MathRandom" => Self::MathRandom,
            "States.MathAdd" => Self::MathAdd,
            "States.StringSplit" => Self::StringSplit,
            "States.UUID" => Self::Uuid,
            _ => return None,
        })
    }

    /// The full name, e.g. `States.Format`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Format => "States.Format",
            Self::StringToJson => "States.StringToJson",
            Self::JsonToString => "States.JsonToString",
            Self::Array => "States.Array",
            Self::ArrayPartition => "States.ArrayPartition",
            Self::ArrayContains => "States.ArrayContains",
            Self::ArrayRange => "States.ArrayRange",
            Self::ArrayGetItem => "States.ArrayGetItem",
            Self::ArrayLength => "States.ArrayLength",
            Self::ArrayUnique => "States.ArrayUnique",
            Self::Base64Encode => "States.Base64Encode",
            Self::Base64Decode => "States.Base64Decode",
            Self::Hash => "States.Hash",
            Self::JsonMerge => "States.JsonMerge",
            Self::MathRandom => "States.MathRandom",
            Self::MathAdd => "States.MathAdd",
            Self::StringSplit => "States.StringSplit",
            Self::Uuid => "States.UUID",
        }
    }

    /// Allowed argument counts (min, max).
    pub(super) fn arity(self) -> (usize, usize) {
        match self {
            Self::Format => (1, usize::MAX),
            Self::Array => (0, usize::MAX),
            Self::Uuid => (0, 0),
            Self::StringToJson
            | Self::JsonToString
            | Self::ArrayLength
            | Self::ArrayUnique
            | Self::Base64Encode
            | Self::Base64Decode => (1, 1),
            Self::ArrayPartition
            | Self::ArrayContains
            | Self::ArrayGetItem
            | Self::Hash
            | Self::MathAdd
            | Self::StringSplit => (2, 2),
            Self::MathRandom => (2, 3),
            Self::ArrayRange | Self::JsonMerge => (3, 3),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Call {
    pub(super) func: Function,
    pub(super) args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub(super) enum Arg {
    /// A literal; for string literals `format` keeps the pieces with `{}` placeholders.
    Literal(Value),
    Str {
        value: String,
        format: Vec<FmtPiece>,
    },
    Path(JsonPath),
    Call(Box<Call>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FmtPiece {
    Text(String),
    Placeholder,
}

impl Intrinsic {
    /// `true` when `text` is meant as an intrinsic call (starts with `States.`).
    pub fn looks_like_call(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    /// Compiles `text`, e.g. `States.Format('{}', $.a)`.
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        let call = Parser::new(text).whole_call()?;
        Ok(Self {
            text: text.to_owned(),
            call,
        })
    }

    /// The call as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The outermost function.
    pub fn function(&self) -> Function {
        self.call.func
    }

    /// Evaluates the call. `field` names the field holding it (e.g. `value.$`), used in messages.
    pub fn evaluate(&self, scope: &Scope<'_>, field: &str) -> Result<Value, EvalError> {
        functions::eval_call(&self.call, scope, field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(expr: &str, input: Value) -> Result<Value, EvalError> {
        let ctx = json!({"StateMachine": {"Name": "sm-name-x"}});
        let call = Intrinsic::parse(expr).map_err(|e| EvalError::new("Definition", e.message))?;
        call.evaluate(&Scope::new(&input, &ctx), "f.$")
    }

    #[test]
    fn format_escapes_and_placeholders() {
        assert_eq!(
            run(r"States.Format('a\{\}b {} \'q\' \\', $.x)", json!({"x": 1})).unwrap(),
            json!(r"a{}b 1 'q' \")
        );
        assert_eq!(
            run(
                "States.Format('{} and {}', $.o, $.a)",
                json!({"o": {"k": "v", "n": null}, "a": [1, "s"]})
            )
            .unwrap(),
            json!("{k=v, n=null} and [1, s]")
        );
        assert_eq!(
            run("States.Format($.t, 'x')", json!({"t": "<{}>"})).unwrap(),
            json!("<x>")
        );
        assert!(run("States.Format('{}', 1, 2)", json!({})).is_err());
    }

    #[test]
    fn nested_calls_and_context_paths() {
        let v = run(
            "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))",
            json!({}),
        )
        .unwrap();
        assert_eq!(v, json!("x"));
    }

    #[test]
    fn functions() {
        assert_eq!(
            run("States.Array(1, 'a', null, true, $.x)", json!({"x": [1]})).unwrap(),
            json!([1, "a", null, true, [1]])
        );
        assert_eq!(
            run("States.ArrayPartition($.a, 2)", json!({"a": [1, 2, 3]})).unwrap(),
            json!([[1, 2], [3]])
        );
        assert_eq!(
            run("States.ArrayRange(1, 9, 2)", json!({})).unwrap(),
            json!([1, 3, 5, 7, 9])
        );
        assert_eq!(
            run("States.ArrayRange(5, 1, -2)", json!({})).unwrap(),
            json!([5, 3, 1])
        );
        assert!(run("States.ArrayRange(0, 5000, 1)", json!({})).is_err());
        assert_eq!(
            run(
                "States.ArrayUnique($.a)",
                json!({"a": [1, 1, 1.0, 2, {"a": 1, "b": 2}, {"b": 2, "a": 1}]})
            )
            .unwrap(),
            json!([1, 1.0, 2, {"a": 1, "b": 2}])
        );
        assert_eq!(
            run("States.Base64Encode('Data to encode')", json!({})).unwrap(),
            json!("RGF0YSB0byBlbmNvZGU=")
        );
        assert_eq!(
            run("States.Hash('input data', 'MD5')", json!({})).unwrap(),
            json!("812f45842bc6d66ee14572ce20db8e86")
        );
        assert!(run("States.Hash('input data', 'MD4')", json!({})).is_err());
        assert_eq!(
            run("States.MathAdd(-0.5, 0.5)", json!({})).unwrap(),
            json!(1)
        );
        assert_eq!(
            run("States.StringSplit(', , ,', ',')", json!({})).unwrap(),
            json!([" ", " "])
        );
        assert_eq!(
            run("States.StringToJson(' ')", json!({})).unwrap(),
            Value::Null
        );
        assert_eq!(
            run("States.JsonToString($.a)", json!({"a": {"b": [1, "x"]}})).unwrap(),
            json!(r#"{"b":[1,"x"]}"#)
        );
        assert_eq!(
            run(
                "States.JsonMerge($.a, $.b, false)",
                json!({"a": {"x": 1, "y": 1}, "b": {"y": 2}})
            )
            .unwrap(),
            json!({"x": 1, "y": 2})
        );
        assert!(
            run(
                "States.JsonMerge($.a, $.b, true)",
                json!({"a": {}, "b": {}})
            )
            .is_err()
        );
        let r = run("States.MathRandom(1, 3, 7)", json!({})).unwrap();
        assert!(r == json!(1) || r == json!(2));
        assert_eq!(r, run("States.MathRandom(1, 3, 7)", json!({})).unwrap());
        assert_eq!(
            run("States.UUID()", json!({}))
                .unwrap()
                .as_str()
                .map(str::len),
            Some(36)
        );
        assert_eq!(
            run(
                "States.ArrayContains($.a, $.b)",
                json!({"a": [[1, 2]], "b": [1, 2]})
            )
            .unwrap(),
            json!(true)
        );
    }

    #[test]
    fn array_range_with_extreme_bounds_does_not_overflow() {
        // Panicked with "attempt to multiply with overflow" (found writing the fuzz targets).
        assert_eq!(
            run(
                "States.ArrayRange(-9223372036854775808, 9223372036854775807, 9223372036854775807)",
                json!({})
            )
            .unwrap(),
            json!([i64::MIN, -1, i64::MAX - 1])
        );
        assert_eq!(
            run(
                "States.ArrayRange(9223372036854775807, -9223372036854775808, -9223372036854775808)",
                json!({})
            )
            .unwrap(),
            json!([i64::MAX, -1])
        );
    }

    #[test]
    fn paths_with_commas_and_parens() {
        assert_eq!(
            run(
                "States.Array($['a,b'], $.c[?(@.v > 1)].v)",
                json!({"a,b": 1, "c": [{"v": 1}, {"v": 2}]})
            )
            .unwrap(),
            json!([1, [2]])
        );
    }

    #[test]
    fn runtime_errors() {
        let e = run("States.Format('{}', $.missing)", json!({"a": 1})).unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert_eq!(
            e.cause,
            "The JSONPath '$.missing' specified for the field 'f.$' could not be found in the input '{\"a\":1}'"
        );
        let e = run("States.ArrayLength($.a)", json!({"a": 1})).unwrap_err();
        assert_eq!(e.error, "States.IntrinsicFailure");
        assert!(run("States.ArrayGetItem($.a, 3)", json!({"a": [1]})).is_err());
        assert!(run("States.Base64Decode('***')", json!({})).is_err());
        assert_eq!(
            run("States.Base64Decode('SGk')", json!({})).unwrap(),
            json!("Hi")
        );
        assert_eq!(
            run("States.Base64Decode('SGk=')", json!({})).unwrap(),
            json!("Hi")
        );
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "States.Nope()",
            "States.Format(",
            "States.Format('x'",
            "States.Format('unterminated)",
            "States.UUID(1)",
            "States.ArrayLength()",
            "States.Format(1)",
            "States.Array(foo)",
            "States.Array() trailing",
            "States.ArrayPartition($.a, 0)",
        ] {
            assert!(Intrinsic::parse(bad).is_err(), "{bad} should not parse");
        }
        let deep = format!("{}1{}", "States.Array(".repeat(1000), ")".repeat(1000));
        assert!(Intrinsic::parse(&deep).is_err());
        let ok = format!("{}1{}", "States.Array(".repeat(10), ")".repeat(10));
        assert!(Intrinsic::parse(&ok).is_ok());
        let eleven = format!("{}1{}", "States.Array(".repeat(11), ")".repeat(11));
        assert!(Intrinsic::parse(&eleven).is_err());
    }
}
