//! The intrinsic functions' run-time behaviour and AWS's argument checks.
//!
//! Equality in `States.ArrayContains` / `States.ArrayUnique` is JSON-node equality as in
//! Jackson (which AWS runs on): `1` and `1.0` are different values, object key order
//! does not matter. `serde_json::Value`'s `==` behaves the same way.

use std::borrow::Cow;

use base64::Engine as _;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

use super::{Arg, Call, FmtPiece, Function};
use crate::error::EvalError;
use crate::jsonpath::compact;
use crate::jsonpath::path_not_found;
use crate::scope::Scope;

/// Maximum input length for Base64 and hash functions (AWS limit).
const MAX_STRING_INPUT: usize = 10_000;

/// Maximum number of items States.ArrayRange may produce (AWS limit).
const MAX_RANGE_ITEMS: usize = 1000;

fn eval_arg<'a>(arg: &'a Arg, scope: &Scope<'a>, field: &str) -> Result<Cow<'a, Value>, EvalError> {
    match arg {
        Arg::Literal(v) => Ok(Cow::Borrowed(v)),
        Arg::Str { value, .. } => Ok(Cow::Owned(Value::String(value.clone()))),
        Arg::Path(p) => {
            p.usable()?;
            p.select(scope).map_err(|_| path_not_found(p, field, scope))
        }
        Arg::Call(c) => eval_call(c, scope, field).map(Cow::Owned),
    }
}

fn fail(func: Function, msg: impl std::fmt::Display) -> EvalError {
    EvalError::intrinsic(format!("Invalid arguments in {}: {msg}", func.name()))
}

fn want_str(func: Function, v: &Value, what: &str) -> Result<String, EvalError> {
    v.as_str().map(str::to_owned).ok_or_else(|| {
        fail(
            func,
            format!(
                "{what} must be a string, found {}",
                crate::json_type_name(v)
            ),
        )
    })
}

fn want_array<'v>(func: Function, v: &'v Value, what: &str) -> Result<&'v Vec<Value>, EvalError> {
    v.as_array().ok_or_else(|| {
        fail(
            func,
            format!(
                "{what} must be an array, found {}",
                crate::json_type_name(v)
            ),
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

pub(super) fn eval_call(call: &Call, scope: &Scope<'_>, field: &str) -> Result<Value, EvalError> {
    use Function as F;
    let func = call.func;
    let mut args = Vec::with_capacity(call.args.len());
    for a in &call.args {
        args.push(eval_arg(a, scope, field)?);
    }
    let arg = |i: usize| -> &Value { args.get(i).map_or(&Value::Null, |c| c.as_ref()) };
    match func {
        F::Format => eval_format(call, &args),
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
            Ok(Value::Bool(arr.iter().any(|x| x == needle)))
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
            // In i128: `k * step` alone can overflow i64 even though every item lies
            // between start and end (ArrayRange(i64::MIN, i64::MAX, i64::MAX)).
            let items = (0..count as i128)
                .map(|k| Value::from((i128::from(start) + k * i128::from(step)) as i64))
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
                if !out.contains(v) {
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
                            crate::json_type_name(other)
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

pub(crate) fn hash(algo: &str, data: &[u8]) -> Option<String> {
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

/// `States.Format`: `args` are the evaluated arguments, `call` gives access to a literal
/// template's pre-split pieces (so `\{` stays apart from a `{}` placeholder).
fn eval_format(call: &Call, args: &[Cow<'_, Value>]) -> Result<Value, EvalError> {
    let func = Function::Format;
    let Some((template, rest)) = args.split_first() else {
        return Err(fail(func, "a format string is required"));
    };
    // A string coming from a path or call is split on `{}`.
    let pieces: Cow<'_, [FmtPiece]> = match call.args.first() {
        Some(Arg::Str { format, .. }) => Cow::Borrowed(format.as_slice()),
        _ => {
            let s = want_str(func, template, "the format string")?;
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
