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
//! Behaviour relied on (AWS "Intrinsic functions for JSONPath states" page and the
//! recorded conformance cases in `intrinsic_functions.jsonl`):
//! * `States.Format` prints strings raw, objects and arrays like Java's `Map`/`List`
//!   `toString` (`{Arg1=1, Arg2=[]}`), other values as JSON; `{}` count must match.
//! * `States.StringToJson` of a blank string is `null`.
//! * `States.StringSplit` splits on *any* of the delimiter characters and drops empty
//!   tokens (Java `StringTokenizer`): `", , ,"` on `","` gives `[" ", " "]`.
//! * `States.MathAdd` rounds each operand half-up (Java `Math.round`) before adding:
//!   `-0.5 + 0.5 = 1`, `1.5 + 1.51 = 4`.
//! * `States.ArrayRange` includes the end (`0, 9, 3 -> [0,3,6,9]`), at most 1000 items.
//! * `States.JsonMerge` is shallow only (third argument must be `false`).
//! * `States.MathRandom(start, end[, seed])`: start inclusive, end exclusive.
//! * `States.Hash` algorithms: MD5, SHA-1, SHA-256, SHA-384, SHA-512; hex lower case.
//! * Base64 and hash inputs are limited to 10,000 characters.

use std::borrow::Cow;

use base64::Engine as _;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Number, Value};

use crate::error::{DefinitionError, EvalError};
use crate::jsonpath::{JsonPath, compact};
use crate::scope::Scope;

/// Maximum nesting of calls inside calls.
pub const MAX_DEPTH: usize = 10;

/// Maximum input length for Base64 and hash functions (AWS limit).
const MAX_STRING_INPUT: usize = 10_000;

/// Maximum number of items States.ArrayRange may produce (AWS limit).
const MAX_RANGE_ITEMS: usize = 1000;

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
    fn arity(self) -> (usize, usize) {
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
struct Call {
    func: Function,
    args: Vec<Arg>,
}

#[derive(Debug, Clone)]
enum Arg {
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
enum FmtPiece {
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
        let mut p = Parser { src: text, pos: 0 };
        p.skip_ws();
        let call = p.call(0)?;
        p.skip_ws();
        if p.pos != text.len() {
            return Err(p.err("unexpected text after the closing ')'"));
        }
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
        eval_call(&self.call, scope, field)
    }
}

// ---------------------------------------------------------------------------------
// parsing

struct Parser<'s> {
    src: &'s str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> DefinitionError {
        DefinitionError::new(format!(
            "The intrinsic function '{}' is invalid: {what} (at position {})",
            self.src, self.pos
        ))
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn call(&mut self, depth: usize) -> Result<Call, DefinitionError> {
        if depth >= MAX_DEPTH {
            return Err(self.err("intrinsic functions are nested too deeply"));
        }
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            self.bump();
        }
        let name = &self.src[start..self.pos];
        let func = Function::from_name(name)
            .ok_or_else(|| self.err(&format!("unknown function '{name}'")))?;
        self.skip_ws();
        if self.bump() != Some('(') {
            return Err(self.err("expected '('"));
        }
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(')') {
            self.bump();
        } else {
            loop {
                self.skip_ws();
                args.push(self.arg(depth)?);
                self.skip_ws();
                match self.bump() {
                    Some(',') => continue,
                    Some(')') => break,
                    _ => return Err(self.err("expected ',' or ')'")),
                }
            }
        }
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            return Err(self.err(&format!(
                "{} takes {} but got {} argument(s)",
                func.name(),
                arity_text(min, max),
                args.len()
            )));
        }
        check_literal_types(func, &args).map_err(|m| self.err(&m))?;
        Ok(Call { func, args })
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, DefinitionError> {
        match self.peek() {
            Some('\'') => self.string(),
            Some('$') => self.path(),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' => self.number(),
            Some(_) if self.rest().starts_with("States.") => {
                Ok(Arg::Call(Box::new(self.call(depth + 1)?)))
            }
            Some(_) => {
                for (word, v) in [
                    ("null", Value::Null),
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                ] {
                    if let Some(after) = self.rest().strip_prefix(word)
                        && !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                    {
                        self.pos += word.len();
                        return Ok(Arg::Literal(v));
                    }
                }
                Err(self.err("expected an argument"))
            }
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn string(&mut self) -> Result<Arg, DefinitionError> {
        self.bump(); // opening quote
        let mut value = String::new();
        let mut format = Vec::new();
        let mut text = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err("unterminated string literal")),
                Some('\'') => break,
                Some('\\') => match self.peek() {
                    Some(c @ ('\'' | '{' | '}' | '\\')) => {
                        self.bump();
                        value.push(c);
                        text.push(c);
                    }
                    _ => {
                        value.push('\\');
                        text.push('\\');
                    }
                },
                Some('{') if self.peek() == Some('}') => {
                    self.bump();
                    value.push_str("{}");
                    if !text.is_empty() {
                        format.push(FmtPiece::Text(std::mem::take(&mut text)));
                    }
                    format.push(FmtPiece::Placeholder);
                }
                Some(c) => {
                    value.push(c);
                    text.push(c);
                }
            }
        }
        if !text.is_empty() {
            format.push(FmtPiece::Text(text));
        }
        Ok(Arg::Str { value, format })
    }

    /// A path runs until a `,` or `)` outside brackets, parentheses and quotes.
    fn path(&mut self) -> Result<Arg, DefinitionError> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match quote {
                Some(q) => {
                    if c == '\\' {
                        self.bump();
                    } else if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '\'' | '"' => quote = Some(c),
                    '[' | '(' => depth += 1,
                    ']' | ')' if depth > 0 => depth -= 1,
                    ',' | ')' => break,
                    _ => {}
                },
            }
            self.bump();
        }
        let text = self.src[start..self.pos].trim_end();
        JsonPath::parse(text)
            .map(Arg::Path)
            .map_err(|e| self.err(&e.message))
    }

    fn number(&mut self) -> Result<Arg, DefinitionError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.bump();
        }
        let text = &self.src[start..self.pos];
        serde_json::from_str::<Number>(text.strip_prefix('+').unwrap_or(text))
            .map(|n| Arg::Literal(Value::Number(n)))
            .map_err(|_| self.err(&format!("invalid number '{text}'")))
    }
}

fn arity_text(min: usize, max: usize) -> String {
    if min == max {
        format!("exactly {min}")
    } else if max == usize::MAX {
        format!("at least {min}")
    } else {
        format!("{min} to {max}")
    }
}

/// Kind of a literal argument for definition-time checks.
fn literal_kind(arg: &Arg) -> Option<&'static str> {
    match arg {
        Arg::Str { .. } => Some("string"),
        Arg::Literal(Value::Number(_)) => Some("number"),
        Arg::Literal(Value::Bool(_)) => Some("boolean"),
        Arg::Literal(Value::Null) => Some("null"),
        _ => None,
    }
}

/// Rejects literal arguments that can never be right (paths and calls are checked at run time).
fn check_literal_types(func: Function, args: &[Arg]) -> Result<(), String> {
    use Function as F;
    let want: &[&str] = match func {
        F::Format => &["string"],
        F::StringToJson | F::Base64Encode | F::Base64Decode => &["string"],
        F::ArrayPartition | F::ArrayGetItem | F::ArrayLength | F::ArrayUnique => &["array"],
        F::ArrayContains => &["array"],
        F::ArrayRange => &["number", "number", "number"],
        F::Hash => &["any", "string"],
        F::JsonMerge => &["object", "object", "boolean"],
        F::MathRandom | F::MathAdd => &["number", "number", "number"],
        F::StringSplit => &["string", "string"],
        F::JsonToString | F::Array | F::Uuid => &[],
    };
    for (i, (arg, want)) in args.iter().zip(want).enumerate() {
        if let Some(kind) = literal_kind(arg)
            && *want != "any"
            && kind != *want
        {
            return Err(format!(
                "argument {} of {} must be a {want}, found a {kind} literal",
                i + 1,
                func.name()
            ));
        }
    }
    if func == F::ArrayPartition
        && let Some(Arg::Literal(v)) = args.get(1)
    {
        // checked again at run time for path arguments
        if v.as_f64().is_some_and(|n| n <= 0.0) {
            return Err("the chunk size of States.ArrayPartition must be positive".into());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// evaluation

fn eval_arg<'a>(arg: &'a Arg, scope: &Scope<'a>, field: &str) -> Result<Cow<'a, Value>, EvalError> {
    match arg {
        Arg::Literal(v) => Ok(Cow::Borrowed(v)),
        Arg::Str { value, .. } => Ok(Cow::Owned(Value::String(value.clone()))),
        Arg::Path(p) => p.select(scope).map_err(|_| not_found(p, field, scope)),
        Arg::Call(c) => eval_call(c, scope, field).map(Cow::Owned),
    }
}

/// The message AWS prints when a `.$` field's path selects nothing.
pub(crate) fn not_found(path: &JsonPath, field: &str, scope: &Scope<'_>) -> EvalError {
    EvalError::runtime(format!(
        "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
        path.as_str(),
        field,
        compact(scope.input)
    ))
}

fn fail(func: Function, msg: impl std::fmt::Display) -> EvalError {
    EvalError::intrinsic(format!("Invalid arguments in {}: {msg}", func.name()))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn want_str(func: Function, v: &Value, what: &str) -> Result<String, EvalError> {
    v.as_str().map(str::to_owned).ok_or_else(|| {
        fail(
            func,
            format!("{what} must be a string, found {}", type_name(v)),
        )
    })
}

fn want_array<'v>(func: Function, v: &'v Value, what: &str) -> Result<&'v Vec<Value>, EvalError> {
    v.as_array().ok_or_else(|| {
        fail(
            func,
            format!("{what} must be an array, found {}", type_name(v)),
        )
    })
}

/// Java `Math.round`: half up.
fn round_half_up(x: f64) -> f64 {
    (x + 0.5).floor()
}

/// An integer argument; non-integers are rounded half-up like AWS does.
fn want_int(func: Function, v: &Value, what: &str) -> Result<i64, EvalError> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    match v.as_f64() {
        Some(f) if f.is_finite() && f.abs() < 9.0e15 => Ok(round_half_up(f) as i64),
        _ => Err(fail(
            func,
            format!("{what} must be an integer, found {}", compact(v)),
        )),
    }
}

/// An integer argument that must already be an integer (indexes, sizes).
fn want_exact_int(func: Function, v: &Value, what: &str) -> Result<i64, EvalError> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(fail(
            func,
            format!("{what} must be an integer, found {}", compact(v)),
        )),
    }
}

fn eval_call(call: &Call, scope: &Scope<'_>, field: &str) -> Result<Value, EvalError> {
    use Function as F;
    let func = call.func;
    if func == F::Format {
        return eval_format(call, scope, field);
    }
    let mut args = Vec::with_capacity(call.args.len());
    for a in &call.args {
        args.push(eval_arg(a, scope, field)?);
    }
    let arg = |i: usize| -> &Value { args.get(i).map_or(&Value::Null, |c| c.as_ref()) };
    match func {
        F::Format => unreachable_format(),
        F::StringToJson => {
            let s = want_str(func, arg(0), "the argument")?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str(&s)
                .map_err(|e| fail(func, format!("the string is not valid JSON ({e})")))
        }
        F::JsonToString => Ok(Value::String(compact(arg(0)))),
        F::Array => Ok(Value::Array(
            args.into_iter().map(Cow::into_owned).collect(),
        )),
        F::ArrayPartition => {
            let arr = want_array(func, arg(0), "the first argument")?;
            let size = want_exact_int(func, arg(1), "the chunk size")?;
            if size <= 0 {
                return Err(fail(
                    func,
                    format!("the chunk size must be positive, found {size}"),
                ));
            }
            let chunks = arr
                .chunks(usize::try_from(size).unwrap_or(usize::MAX))
                .map(|c| Value::Array(c.to_vec()))
                .collect();
            Ok(Value::Array(chunks))
        }
        F::ArrayContains => {
            let arr = want_array(func, arg(0), "the first argument")?;
            let needle = arg(1);
            Ok(Value::Bool(arr.iter().any(|x| json_eq(x, needle))))
        }
        F::ArrayRange => {
            let start = want_int(func, arg(0), "the start")?;
            let end = want_int(func, arg(1), "the end")?;
            let step = want_int(func, arg(2), "the step")?;
            if step == 0 {
                return Err(fail(func, "the step must not be 0"));
            }
            let count = if (step > 0 && start > end) || (step < 0 && start < end) {
                0
            } else {
                ((end as i128 - start as i128) / step as i128 + 1) as u128
            };
            if count > MAX_RANGE_ITEMS as u128 {
                return Err(fail(
                    func,
                    format!("the range would hold {count} items, the maximum is {MAX_RANGE_ITEMS}"),
                ));
            }
            let items = (0..count as i64)
                .map(|k| Value::from(start + k * step))
                .collect();
            Ok(Value::Array(items))
        }
        F::ArrayGetItem => {
            let arr = want_array(func, arg(0), "the first argument")?;
            let idx = want_exact_int(func, arg(1), "the index")?;
            usize::try_from(idx)
                .ok()
                .and_then(|i| arr.get(i))
                .cloned()
                .ok_or_else(|| {
                    fail(
                        func,
                        format!(
                            "the index {idx} is out of bounds for an array of length {}",
                            arr.len()
                        ),
                    )
                })
        }
        F::ArrayLength => Ok(Value::from(want_array(func, arg(0), "the argument")?.len())),
        F::ArrayUnique => {
            let arr = want_array(func, arg(0), "the argument")?;
            let mut out: Vec<Value> = Vec::with_capacity(arr.len());
            for v in arr {
                if !out.iter().any(|o| json_eq(o, v)) {
                    out.push(v.clone());
                }
            }
            Ok(Value::Array(out))
        }
        F::Base64Encode => {
            let s = want_str(func, arg(0), "the argument")?;
            check_len(func, &s)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
            ))
        }
        F::Base64Decode => {
            let s = want_str(func, arg(0), "the argument")?;
            check_len(func, &s)?;
            // Java's basic decoder (which AWS runs on) accepts input without padding.
            let lenient = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
            );
            let bytes = lenient
                .decode(s.as_bytes())
                .map_err(|e| fail(func, format!("the argument is not valid Base64 ({e})")))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| fail(func, "the decoded data is not valid UTF-8"))
        }
        F::Hash => {
            // Non-string data is hashed as its JSON text (AWS documents string input).
            let data = match arg(0) {
                Value::String(s) => s.clone(),
                other => compact(other),
            };
            check_len(func, &data)?;
            let algo = want_str(func, arg(1), "the algorithm")?;
            hash(&algo, data.as_bytes()).map(Value::String).ok_or_else(|| {
                fail(func, format!("the algorithm '{algo}' is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"))
            })
        }
        F::JsonMerge => {
            let (Value::Object(a), Value::Object(b)) = (arg(0), arg(1)) else {
                return Err(fail(func, "the first two arguments must be JSON objects"));
            };
            match arg(2) {
                Value::Bool(false) => {}
                Value::Bool(true) => {
                    return Err(fail(
                        func,
                        "deep merge is not supported; the third argument must be false",
                    ));
                }
                other => {
                    return Err(fail(
                        func,
                        format!(
                            "the third argument must be a boolean, found {}",
                            type_name(other)
                        ),
                    ));
                }
            }
            let mut merged: Map<String, Value> = a.clone();
            for (k, v) in b {
                merged.insert(k.clone(), v.clone());
            }
            Ok(Value::Object(merged))
        }
        F::MathRandom => {
            let start = want_int(func, arg(0), "the start")?;
            let end = want_int(func, arg(1), "the end")?;
            if start >= end {
                return Err(fail(
                    func,
                    format!("the start ({start}) must be less than the end ({end})"),
                ));
            }
            let n = if args.len() == 3 {
                let seed = want_int(func, arg(2), "the seed")?;
                rand::rngs::StdRng::seed_from_u64(seed as u64).random_range(start..end)
            } else {
                rand::rng().random_range(start..end)
            };
            Ok(Value::from(n))
        }
        F::MathAdd => {
            let a = want_int(func, arg(0), "the first argument")?;
            let b = want_int(func, arg(1), "the second argument")?;
            a.checked_add(b)
                .map(Value::from)
                .ok_or_else(|| fail(func, "the sum overflows"))
        }
        F::StringSplit => {
            let s = want_str(func, arg(0), "the first argument")?;
            let delims = want_str(func, arg(1), "the delimiter")?;
            let parts = s
                .split(|c: char| delims.contains(c))
                .filter(|p| !p.is_empty())
                .map(|p| Value::String(p.to_owned()))
                .collect();
            Ok(Value::Array(parts))
        }
        F::Uuid => Ok(Value::String(uuid::Uuid::new_v4().to_string())),
    }
}

// Format is dispatched before the generic argument evaluation; this keeps the match exhaustive.
fn unreachable_format() -> Result<Value, EvalError> {
    Err(EvalError::intrinsic("States.Format dispatch error"))
}

fn check_len(func: Function, s: &str) -> Result<(), EvalError> {
    let n = s.chars().count();
    if n > MAX_STRING_INPUT {
        return Err(fail(
            func,
            format!("the input has {n} characters, the maximum is {MAX_STRING_INPUT}"),
        ));
    }
    Ok(())
}

fn hash(algo: &str, data: &[u8]) -> Option<String> {
    use sha2::Digest;
    let bytes: Vec<u8> = match algo {
        "MD5" => md5::Md5::digest(data).to_vec(),
        "SHA-1" => sha1::Sha1::digest(data).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    };
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn eval_format(call: &Call, scope: &Scope<'_>, field: &str) -> Result<Value, EvalError> {
    let func = Function::Format;
    let mut rest = Vec::with_capacity(call.args.len().saturating_sub(1));
    for a in call.args.iter().skip(1) {
        rest.push(eval_arg(a, scope, field)?);
    }
    // The template: a literal keeps its escapes apart from placeholders; a string
    // coming from a path or call is split on `{}`.
    let pieces: Cow<'_, [FmtPiece]> = match call.args.first() {
        Some(Arg::Str { format, .. }) => Cow::Borrowed(format.as_slice()),
        Some(other) => {
            let v = eval_arg(other, scope, field)?;
            let s = want_str(func, &v, "the format string")?;
            let mut out = Vec::new();
            for (i, part) in s.split("{}").enumerate() {
                if i > 0 {
                    out.push(FmtPiece::Placeholder);
                }
                if !part.is_empty() {
                    out.push(FmtPiece::Text(part.to_owned()));
                }
            }
            Cow::Owned(out)
        }
        None => return Err(fail(func, "a format string is required")),
    };
    let holes = pieces
        .iter()
        .filter(|p| **p == FmtPiece::Placeholder)
        .count();
    if holes != rest.len() {
        return Err(fail(
            func,
            format!(
                "the format string has {holes} placeholder(s) but {} value(s) were given",
                rest.len()
            ),
        ));
    }
    let mut out = String::new();
    let mut values = rest.iter();
    for piece in pieces.iter() {
        match piece {
            FmtPiece::Text(t) => out.push_str(t),
            FmtPiece::Placeholder => {
                if let Some(v) = values.next() {
                    java_to_string(v, &mut out);
                }
            }
        }
    }
    Ok(Value::String(out))
}

/// How AWS prints a value inside `States.Format`: strings raw, containers like Java's
/// `Map`/`List` `toString`, everything else as JSON.
fn java_to_string(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_to_string(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                java_to_string(x, out);
            }
            out.push('}');
        }
        other => out.push_str(&compact(other)),
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
                json!({"a": [1, 1.0, 2, {"a": 1}, {"a": 1}]})
            )
            .unwrap(),
            json!([1, 2, {"a": 1}])
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
