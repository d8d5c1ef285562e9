//! Conformance-driven test: replays the AWS-recorded cases of the repository's suite
//! (`conformance/cases`, see `conformance/README.md`) whose machines
//! only use states this crate can evaluate alone: Pass, Choice, Fail, Succeed and Wait
//! (Wait is validated, not slept). A small linear driver below applies InputPath,
//! Parameters / Result, ResultPath and OutputPath the way the ASL spec orders them,
//! and compares the outcome with what AWS recorded, including the exact `cause`.
//!
//! Variables (`Assign`, `$name`) are modelled: assignments read the state's result and
//! the variables as they were when the state was entered, and take effect afterwards.
//! Skipped: JSONata, and machines with Map, Parallel or Task states (they belong to the
//! interpreter's tests). The cases are part of the repository: a missing or unreadable
//! case file fails the test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use asl_eval::choice::{choose_rule, compile_choices};
use asl_eval::fieldpath::FieldPath;
use asl_eval::jsonpath::ReferencePath;
use asl_eval::template::Template;
use asl_eval::{EvalError, Scope};
use serde_json::{Map, Value, json};

const CATEGORIES: [&str; 7] = [
    "assign",
    "query_language",
    "choice_operators",
    "intrinsic_functions",
    "scenarios",
    "base",
    "context_object",
];

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/cases")
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
fn io_path(
    state: &Value,
    key: &str,
    value: Value,
    ctx: &Value,
    vars: &Map<String, Value>,
) -> Result<Value, EvalError> {
    match state.get(key) {
        None => Ok(value),
        Some(Value::Null) => Ok(json!({})),
        Some(Value::String(p)) => {
            let fp =
                FieldPath::compile(key, p).map_err(|e| EvalError::new("Definition", e.message))?;
            fp.select_input(&Scope::new(&value, ctx).with_variables(vars))
        }
        Some(other) => Err(EvalError::new("Definition", format!("bad {key}: {other}"))),
    }
}

fn def(e: asl_eval::DefinitionError) -> EvalError {
    EvalError::new("Definition", e.message)
}

/// What one state produced: its output, the next state, and its variable assignments.
struct Step {
    output: Value,
    next: Option<String>,
    assigned: Option<Value>,
}

/// Evaluates an `Assign` block (JSONPath mode: a payload template) against `$ = from`.
fn assign(
    block: Option<&Value>,
    from: &Value,
    ctx: &Value,
    vars: &Map<String, Value>,
) -> Result<Option<Value>, EvalError> {
    let Some(block) = block else { return Ok(None) };
    let t = Template::compile(block).map_err(def)?;
    Ok(Some(
        t.evaluate(&Scope::new(from, ctx).with_variables(vars))?,
    ))
}

/// Runs one state with the ASL order: InputPath, Parameters/Result, Assign (reading
/// the result, with the variables as they were on entry), ResultPath, OutputPath.
fn run_state(
    name: &str,
    state: &Value,
    input: Value,
    exec_input: &Value,
    vars: &Map<String, Value>,
) -> Result<Step, Outcome> {
    let ctx = context(exec_input, name);
    let ty = str_field(state, "Type").unwrap_or_default();
    let next = str_field(state, "Next").map(str::to_owned);
    let step = || -> Result<Step, EvalError> {
        match ty {
            "Pass" => {
                let effective = io_path(state, "InputPath", input.clone(), &ctx, vars)?;
                let result = if let Some(params) = state.get("Parameters") {
                    Template::compile(params)
                        .map_err(def)?
                        .evaluate(&Scope::new(&effective, &ctx).with_variables(vars))?
                } else if let Some(r) = state.get("Result") {
                    r.clone()
                } else {
                    effective
                };
                let assigned = assign(state.get("Assign"), &result, &ctx, vars)?;
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
                let output = io_path(state, "OutputPath", combined, &ctx, vars)?;
                Ok(Step {
                    output,
                    next: next.clone(),
                    assigned,
                })
            }
            "Choice" => {
                let effective = io_path(state, "InputPath", input.clone(), &ctx, vars)?;
                let rules =
                    compile_choices(state.get("Choices").unwrap_or(&Value::Null)).map_err(def)?;
                let scope = Scope::new(&effective, &ctx).with_variables(vars);
                let (target, assigned) = match choose_rule(&rules, &scope)? {
                    Some(rule) => {
                        let assigned = match rule.assign() {
                            Some(t) => Some(t.evaluate(&scope)?),
                            None => None,
                        };
                        (rule.next().to_owned(), assigned)
                    }
                    None => {
                        let target =
                            str_field(state, "Default")
                                .map(str::to_owned)
                                .ok_or_else(|| {
                                    EvalError::new(
                                        "States.NoChoiceMatched",
                                        "No Choice Rules matched and no Default",
                                    )
                                })?;
                        (target, assign(state.get("Assign"), &effective, &ctx, vars)?)
                    }
                };
                let output = io_path(state, "OutputPath", effective, &ctx, vars)?;
                Ok(Step {
                    output,
                    next: Some(target),
                    assigned,
                })
            }
            "Succeed" => {
                let effective = io_path(state, "InputPath", input.clone(), &ctx, vars)?;
                let output = io_path(state, "OutputPath", effective, &ctx, vars)?;
                Ok(Step {
                    output,
                    next: None,
                    assigned: None,
                })
            }
            "Wait" => {
                let effective = io_path(state, "InputPath", input.clone(), &ctx, vars)?;
                let scope = Scope::new(&effective, &ctx).with_variables(vars);
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
                let assigned = assign(state.get("Assign"), &effective, &ctx, vars)?;
                let output = io_path(state, "OutputPath", effective, &ctx, vars)?;
                Ok(Step {
                    output,
                    next: next.clone(),
                    assigned,
                })
            }
            other => Err(EvalError::new("Unsupported", other.to_owned())),
        }
    };
    if ty == "Fail" {
        let scope = Scope::new(&input, &ctx).with_variables(vars);
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
    let mut vars: Map<String, Value> = Map::new();
    let mut entered_event = 2;
    for _ in 0..100 {
        let Some(name) = current.take() else {
            return Outcome::Succeeded(value);
        };
        let state = &states[name.as_str()];
        match run_state(&name, state, value.clone(), &exec_input, &vars) {
            Ok(step) => {
                let end = state.get("End").and_then(Value::as_bool).unwrap_or(false);
                value = step.output;
                if let Some(Value::Object(assigned)) = step.assigned {
                    vars.extend(assigned);
                }
                current = if end || str_field(state, "Type") == Some("Succeed") {
                    None
                } else {
                    step.next
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
        // Any `<name:N>` token (e.g. `<uuid:1>`) matches anything (suite README).
        if let Some(close) = rest.strip_prefix('<').and_then(|r| r.find('>')) {
            let inner = &rest[1..=close];
            if let Some((name, num)) = inner.split_once(':')
                && !name.is_empty()
                && !num.is_empty()
                && num.chars().all(|c| c.is_ascii_digit())
            {
                pieces.push(String::new());
                rest = &rest[close + 2..];
                continue 'outer;
            }
        }
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
    let mut stats: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut variables_passed = 0;
    let mut failures = Vec::new();
    for cat in CATEGORIES {
        let path = dir.join(format!("{cat}.jsonl"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (the cases are in the repository)", path.display())
        });
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).expect("conformance case is JSON");
            let entry = stats.entry(cat).or_default();
            let features: Vec<&str> = case["features"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let jsonata_state = case["definition"]["States"].as_object().is_some_and(|s| {
                s.values()
                    .any(|st| st.get("QueryLanguage").is_some_and(|q| q == "JSONata"))
            });
            let supported = case["query_language"] == "JSONPath"
                && !jsonata_state
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
                if features.contains(&"variables") {
                    variables_passed += 1;
                }
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
    eprintln!(
        "{:>20}: {variables_passed} of the passed cases use variables",
        ""
    );
    for msg in &failures {
        eprintln!("{msg}");
    }
    assert!(
        failures.is_empty(),
        "{} conformance case(s) diverge from AWS",
        failures.len()
    );
}
