//! Conformance-driven test: replays the AWS-recorded cases of the shared suite
//! (`/work/shared/conformance/cases`, override with `CONFORMANCE_DIR`) whose machines
//! only use states this crate can evaluate alone: Pass, Choice, Fail, Succeed and Wait
//! (Wait is validated, not slept). A small linear driver below applies InputPath,
//! Parameters / Result, ResultPath and OutputPath the way the ASL spec orders them,
//! and compares the outcome with what AWS recorded, including the exact `cause`.
//!
//! Skipped: JSONata and Variables cases, and machines with Map, Parallel or Task states
//! (they belong to the interpreter's tests). If the directory is missing the test prints
//! why and passes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use asl_eval::choice::{choose, compile_choices};
use asl_eval::fieldpath::FieldPath;
use asl_eval::jsonpath::ReferencePath;
use asl_eval::template::Template;
use asl_eval::{EvalError, Scope};
use serde_json::{Value, json};

const CATEGORIES: [&str; 5] = [
    "choice_operators",
    "intrinsic_functions",
    "scenarios",
    "base",
    "context_object",
];

fn cases_dir() -> PathBuf {
    match std::env::var_os("CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/cases"),
    }
}

#[derive(Debug)]
enum Outcome {
    Succeeded(Value),
    Failed {
        error: Option<String>,
        cause: Option<String>,
    },
}

/// The context object with the suite's placeholders as names, so recorded outputs that
/// embed names compare equal.
fn context(input: &Value, state: &str) -> Value {
    json!({
        "Execution": {
            "Id": "arn:<partition>:states:<region>:111111111111:execution:<ArnPart_0idx>:<ExecArnPart_0idx>",
            "Input": input,
            "StartTime": "date",
            "Name": "<ExecArnPart_0idx>",
            "RoleArn": "snf_role_arn",
            "RedriveCount": 0
        },
        "StateMachine": {
            "Id": "arn:<partition>:states:<region>:111111111111:stateMachine:<ArnPart_0idx>",
            "Name": "<ArnPart_0idx>"
        },
        "State": {"Name": state, "EnteredTime": "date"}
    })
}

fn str_field<'a>(state: &'a Value, key: &str) -> Option<&'a str> {
    state.get(key).and_then(Value::as_str)
}

/// InputPath / OutputPath: absent keeps the value, `null` gives `{}`.
fn io_path(state: &Value, key: &str, value: Value, ctx: &Value) -> Result<Value, EvalError> {
    match state.get(key) {
        None => Ok(value),
        Some(Value::Null) => Ok(json!({})),
        Some(Value::String(p)) => {
            let fp =
                FieldPath::compile(key, p).map_err(|e| EvalError::new("Definition", e.message))?;
            fp.select_input(&Scope::new(&value, ctx))
        }
        Some(other) => Err(EvalError::new("Definition", format!("bad {key}: {other}"))),
    }
}

fn def(e: asl_eval::DefinitionError) -> EvalError {
    EvalError::new("Definition", e.message)
}

/// Runs one state; returns (output, next state) or an error / terminal failure.
fn run_state(
    name: &str,
    state: &Value,
    input: Value,
    exec_input: &Value,
) -> Result<(Value, Option<String>), Outcome> {
    let ctx = context(exec_input, name);
    let ty = str_field(state, "Type").unwrap_or_default();
    let next = str_field(state, "Next").map(str::to_owned);
    let step = || -> Result<(Value, Option<String>), EvalError> {
        match ty {
            "Pass" => {
                let effective = io_path(state, "InputPath", input.clone(), &ctx)?;
                let result = if let Some(params) = state.get("Parameters") {
                    Template::compile(params)
                        .map_err(def)?
                        .evaluate(&Scope::new(&effective, &ctx))?
                } else if let Some(r) = state.get("Result") {
                    r.clone()
                } else {
                    effective
                };
                let combined = match state.get("ResultPath") {
                    None => result,
                    Some(Value::Null) => input.clone(),
                    Some(Value::String(p)) => ReferencePath::parse(p)
                        .map_err(def)?
                        .insert(input.clone(), result)?,
                    Some(other) => {
                        return Err(EvalError::new(
                            "Definition",
                            format!("bad ResultPath {other}"),
                        ));
                    }
                };
                Ok((io_path(state, "OutputPath", combined, &ctx)?, next.clone()))
            }
            "Choice" => {
                let effective = io_path(state, "InputPath", input.clone(), &ctx)?;
                let rules =
                    compile_choices(state.get("Choices").unwrap_or(&Value::Null)).map_err(def)?;
                let target = choose(&rules, &Scope::new(&effective, &ctx))?
                    .map(str::to_owned)
                    .or_else(|| str_field(state, "Default").map(str::to_owned))
                    .ok_or_else(|| {
                        EvalError::new(
                            "States.NoChoiceMatched",
                            "No Choice Rules matched and no Default",
                        )
                    })?;
                Ok((io_path(state, "OutputPath", effective, &ctx)?, Some(target)))
            }
            "Succeed" => {
                let effective = io_path(state, "InputPath", input.clone(), &ctx)?;
                Ok((io_path(state, "OutputPath", effective, &ctx)?, None))
            }
            "Wait" => {
                let effective = io_path(state, "InputPath", input.clone(), &ctx)?;
                let scope = Scope::new(&effective, &ctx);
                if let Some(p) = str_field(state, "SecondsPath") {
                    FieldPath::compile("SecondsPath", p)
                        .map_err(def)?
                        .seconds(&scope)?;
                }
                if let Some(p) = str_field(state, "TimestampPath") {
                    FieldPath::compile("TimestampPath", p)
                        .map_err(def)?
                        .timestamp(&scope)?;
                }
                Ok((io_path(state, "OutputPath", effective, &ctx)?, next.clone()))
            }
            other => Err(EvalError::new("Unsupported", other.to_owned())),
        }
    };
    if ty == "Fail" {
        let scope = Scope::new(&input, &ctx);
        let pick = |lit: &str, path: &str| -> Result<Option<String>, Outcome> {
            if let Some(v) = str_field(state, lit) {
                return Ok(Some(v.to_owned()));
            }
            let Some(p) = str_field(state, path) else {
                return Ok(None);
            };
            let fp = FieldPath::compile_with_intrinsics(path, p).map_err(|e| Outcome::Failed {
                error: Some("Definition".into()),
                cause: Some(e.message),
            })?;
            match fp.resolve(&scope) {
                Ok(Value::String(s)) => Ok(Some(s)),
                Ok(other) => Ok(Some(other.to_string())),
                Err(e) => Err(Outcome::Failed {
                    error: Some(e.error),
                    cause: Some(e.cause),
                }),
            }
        };
        let error = pick("Error", "ErrorPath")?;
        let cause = pick("Cause", "CausePath")?;
        return Err(Outcome::Failed { error, cause });
    }
    step().map_err(|e| Outcome::Failed {
        error: Some(e.error),
        cause: Some(e.cause),
    })
}

fn run_machine(definition: &Value, input: Value) -> Outcome {
    let states = &definition["States"];
    let mut current = str_field(definition, "StartAt").map(str::to_owned);
    let exec_input = input.clone();
    let mut value = input;
    let mut entered_event = 2;
    for _ in 0..100 {
        let Some(name) = current.take() else {
            return Outcome::Succeeded(value);
        };
        let state = &states[name.as_str()];
        match run_state(&name, state, value.clone(), &exec_input) {
            Ok((out, next)) => {
                let end = state.get("End").and_then(Value::as_bool).unwrap_or(false);
                value = out;
                current = if end || str_field(state, "Type") == Some("Succeed") {
                    None
                } else {
                    next
                };
            }
            Err(Outcome::Failed { error, cause }) => {
                // Runtime errors carry AWS's state prefix; Fail states do not.
                let is_runtime = str_field(state, "Type") != Some("Fail")
                    || error.as_deref() == Some("States.Runtime");
                let cause = match (is_runtime, cause) {
                    (true, Some(c)) => Some(format!(
                        "An error occurred while executing the state '{name}' (entered at the event id #{entered_event}). {c}"
                    )),
                    (_, c) => c,
                };
                return Outcome::Failed { error, cause };
            }
            Err(other) => return other,
        }
        entered_event += 2;
    }
    Outcome::Failed {
        error: Some("Loop".into()),
        cause: None,
    }
}

/// Turns an expected string into glob pieces: masked tokens become wildcards.
fn masked_match(expected: &str, actual: &str, masks: &[String]) -> bool {
    if expected == actual {
        return true;
    }
    // Split expected on every mask occurrence.
    let mut pieces: Vec<String> = vec![String::new()];
    let mut rest = expected;
    'outer: while !rest.is_empty() {
        for m in masks {
            let token_len = if m.ends_with(':') {
                rest.strip_prefix(m.as_str()).and_then(|after| {
                    let digits = after.chars().take_while(char::is_ascii_digit).count();
                    (digits > 0 && after[digits..].starts_with('>')).then_some(m.len() + digits + 1)
                })
            } else {
                rest.starts_with(m.as_str()).then_some(m.len())
            };
            if let Some(n) = token_len {
                pieces.push(String::new());
                rest = &rest[n..];
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        if let Some(last) = pieces.last_mut() {
            last.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    if pieces.len() == 1 {
        return false;
    }
    // Glob match: first piece prefix, last piece suffix, middle pieces in order.
    let first = &pieces[0];
    let last = &pieces[pieces.len() - 1];
    if !actual.starts_with(first.as_str()) || !actual[first.len()..].ends_with(last.as_str()) {
        return false;
    }
    let mut hay = &actual[first.len()..actual.len() - last.len()];
    for mid in &pieces[1..pieces.len() - 1] {
        match hay.find(mid.as_str()) {
            Some(i) => hay = &hay[i + mid.len()..],
            None => return false,
        }
    }
    true
}

fn json_match(expected: &Value, actual: &Value, masks: &[String]) -> bool {
    match (expected, actual) {
        (Value::String(e), Value::String(a)) => masked_match(e, a, masks),
        (Value::String(e), other) => {
            masks.iter().any(|m| m == e) && !other.is_null() || e == "RandomNumberGenerated"
        }
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| json_match(x, y, masks))
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|w| json_match(v, w, masks)))
        }
        _ => expected == actual,
    }
}

#[test]
fn conformance_cases_recorded_on_aws() {
    let dir = cases_dir();
    if !dir.is_dir() {
        eprintln!(
            "SKIP conformance: {} not found (set CONFORMANCE_DIR to the suite's cases directory)",
            dir.display()
        );
        return;
    }
    let mut stats: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for cat in CATEGORIES {
        let path = dir.join(format!("{cat}.jsonl"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("SKIP {}: unreadable", path.display());
            continue;
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).expect("conformance case is JSON");
            let entry = stats.entry(cat).or_default();
            let features: Vec<&str> = case["features"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let supported = case["query_language"] == "JSONPath"
                && !features.contains(&"variables")
                && case["definition"]["States"].as_object().is_some_and(|s| {
                    s.values().all(|st| {
                        matches!(
                            str_field(st, "Type"),
                            Some("Pass" | "Choice" | "Fail" | "Succeed" | "Wait")
                        )
                    })
                });
            if !supported {
                entry.2 += 1;
                continue;
            }
            let input: Value = match case["input"].as_str() {
                Some(s) => serde_json::from_str(s).expect("case input is JSON"),
                None => json!({}),
            };
            let mut masks: Vec<String> = case["normalisation"]["masks"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            masks.extend(["date", "timestamp", "datetime", "generated-uuid"].map(str::to_owned));
            let outcome = run_machine(&case["definition"], input);
            let expected = &case["expected"];
            let ok = match (&outcome, expected["status"].as_str()) {
                (Outcome::Succeeded(out), Some("SUCCEEDED")) => {
                    json_match(&expected["output"], out, &masks)
                }
                (Outcome::Failed { error, cause }, Some("FAILED")) => {
                    let e_ok = expected["error"].as_str() == error.as_deref();
                    let c_ok = match (expected["cause"].as_str(), cause) {
                        (None, None) => true,
                        (Some(e), Some(a)) => masked_match(e, a, &masks),
                        _ => false,
                    };
                    e_ok && c_ok
                }
                _ => false,
            };
            if ok {
                entry.0 += 1;
            } else {
                entry.1 += 1;
                failures.push(format!(
                    "FAIL {}\n  expected: {}\n  actual:   {:?}",
                    case["id"].as_str().unwrap_or("?"),
                    expected,
                    outcome
                ));
            }
        }
    }
    let (mut p, mut f, mut s) = (0, 0, 0);
    for (cat, (pass, fail, skip)) in &stats {
        eprintln!("{cat:>20}: {pass} passed, {fail} failed, {skip} skipped");
        p += pass;
        f += fail;
        s += skip;
    }
    eprintln!("{:>20}: {p} passed, {f} failed, {s} skipped", "total");
    for msg in &failures {
        eprintln!("{msg}");
    }
    assert!(
        failures.is_empty(),
        "{} conformance case(s) diverge from AWS",
        failures.len()
    );
}
