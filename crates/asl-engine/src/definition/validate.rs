//! ValidateStateMachineDefinition: every diagnostic AWS gives for a definition.
//!
//! Contract ([`Definition::validate`]): the ERROR diagnostics are the problems
//! [`Definition::parse_str_as`] refuses the definition for, except what AWS accepts and
//! only this engine cannot run (a definition AWS accepts validates `OK`). WARNING
//! diagnostics are AWS's three: `NO_DOLLAR`, `NO_PATH` and `PASS_RESULT_IS_STATIC`, with
//! the message formats of the API reference's example
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html>).
//! They concern JSONPath states only: JSONata states have no `.$` keys and no `...Path`
//! fields. [`Report::new`] applies the request's `severity` and `maxResults` as the API
//! reference describes them.

use serde_json::{Map, Value};

use super::{Definition, Diagnostic, Severity, json};

/// A state machine's `type`: EXPRESS machines refuse the integrations that wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MachineType {
    #[default]
    Standard,
    Express,
}

/// ValidateStateMachineDefinition's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `OK`: the definition can be created (warnings never make it `FAIL`).
    pub ok: bool,
    pub diagnostics: Vec<Diagnostic>,
    /// More diagnostics were found than `maxResults` let through.
    pub truncated: bool,
}

impl Report {
    /// API reference: `severity` ERROR "returns only ERROR diagnostics, whereas WARNING
    /// returns both"; `maxResults` 0 means the default and maximum, 100; `truncated` is
    /// "true if the number of diagnostics found in the workflow definition exceeds
    /// maxResults". The result depends on the errors alone, whatever is shown.
    pub fn new(all: Vec<Diagnostic>, severity: Severity, max_results: usize) -> Self {
        let ok = !all.iter().any(|d| d.severity == Severity::Error);
        let max = if max_results == 0 { 100 } else { max_results };
        let mut diagnostics: Vec<Diagnostic> =
            all.into_iter().filter(|d| d.severity <= severity).collect();
        let truncated = diagnostics.len() > max;
        diagnostics.truncate(max);
        Self {
            ok,
            diagnostics,
            truncated,
        }
    }
}

impl Definition {
    /// Every diagnostic AWS's ValidateStateMachineDefinition gives `text` for a machine
    /// of type `ty`: errors first, then warnings, each in document order.
    pub fn validate(text: &str, ty: MachineType) -> Vec<Diagnostic> {
        let value = match json::read(text) {
            Ok(v) => v,
            Err(d) => return vec![d],
        };
        let (_, parser) = Self::read(&value);
        let mut all = parser.problems;
        if !value.is_object() {
            return all;
        }
        all.extend(type_problems(&value, ty));
        let mut warnings = Vec::new();
        let top_jsonata = value.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata");
        each_state(&value, "", top_jsonata, &mut |st, at, jsonata| {
            if !jsonata {
                state_warnings(st, at, &mut warnings);
            }
        });
        all.extend(warnings);
        all
    }
}

/// What a machine of type `ty` cannot run. AWS-validated snapshots
/// `test_sfn_api_express` (`test_illegal_callbacks[SYNC]`, `[WAIT_FOR_TASK_TOKEN]`,
/// `test_illegal_activity_task`) and `test_sfn_api_validation` (`_type_express[ILLEGAL_WFTT]`).
pub(super) fn type_problems(value: &Value, ty: MachineType) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    if ty == MachineType::Standard {
        return problems;
    }
    each_state(value, "", false, &mut |st, at, _| {
        if st.get("Type").and_then(Value::as_str) != Some("Task") {
            return;
        }
        let Some(resource) = st.get("Resource").and_then(Value::as_str) else {
            return;
        };
        let message = if resource.ends_with(".waitForTaskToken") {
            // The trailing space is AWS's.
            "Express state machine does not support '.waitForTaskToken' service integration "
        } else if resource.ends_with(".sync") || resource.contains(".sync:") {
            "Express state machine does not support '.sync' service integration"
        } else if resource.split(':').nth(5) == Some("activity") && resource.contains(":states:") {
            "Express state machine does not support Activity ARN"
        } else {
            return;
        };
        problems.push(Diagnostic::error(
            "SCHEMA_VALIDATION_FAILED",
            message,
            &format!("{at}/Resource"),
        ));
    });
    problems
}

/// Calls `f(state, pointer, jsonata)` for every state object, nested blocks included
/// (Parallel `Branches[i]`, Map `ItemProcessor` / `Iterator`), in document order.
fn each_state(
    block: &Value,
    at: &str,
    top_jsonata: bool,
    f: &mut impl FnMut(&Map<String, Value>, &str, bool),
) {
    let Some(states) = block.get("States").and_then(Value::as_object) else {
        return;
    };
    for (name, st) in states {
        let Some(st) = st.as_object() else {
            continue;
        };
        let sat = format!("{at}/States/{name}");
        let jsonata = match st.get("QueryLanguage").and_then(Value::as_str) {
            Some("JSONata") => true,
            Some("JSONPath") => false,
            _ => top_jsonata,
        };
        f(st, &sat, jsonata);
        if let Some(branches) = st.get("Branches").and_then(Value::as_array) {
            for (i, b) in branches.iter().enumerate() {
                each_state(b, &format!("{sat}/Branches[{i}]"), top_jsonata, f);
            }
        }
        for key in ["ItemProcessor", "Iterator"] {
            if let Some(p) = st.get(key) {
                each_state(p, &format!("{sat}/{key}"), top_jsonata, f);
            }
        }
    }
}

/// A string a JSONPath author meant as a path: `$`, `$.x`, `$[0]`, `$$.Execution`.
fn looks_like_path(s: &str) -> bool {
    s == "$" || s.starts_with("$.") || s.starts_with("$[") || s.starts_with("$$")
}

fn state_warnings(st: &Map<String, Value>, at: &str, out: &mut Vec<Diagnostic>) {
    let ty = st.get("Type").and_then(Value::as_str).unwrap_or_default();
    // Payload templates: a key without `.$` whose value looks like a path is a constant.
    // The API reference's example reports it at the template field, not at the key.
    for field in ["Parameters", "ResultSelector", "ItemSelector"] {
        if let Some(t) = st.get(field) {
            no_dollar(t, &format!("{at}/{field}"), out);
        }
    }
    if ty == "Pass"
        && let Some(result) = st.get("Result")
    {
        static_result(result, &format!("{at}/Result"), out);
    }
    // Fail's Error and Cause: the only free-text fields with a `...Path` twin.
    if ty == "Fail" {
        for field in ["Error", "Cause"] {
            if st
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(looks_like_path)
            {
                out.push(Diagnostic::warning(
                    "NO_PATH",
                    format!(
                        "The value of '{field}' looks like a JSONPath. Instead of '{field}', \
                         use '{field}Path' to evaluate it as a JSONPath at runtime."
                    ),
                    &format!("{at}/{field}"),
                ));
            }
        }
    }
}

fn no_dollar(template: &Value, at: &str, out: &mut Vec<Diagnostic>) {
    match template {
        Value::Object(o) => {
            for (k, v) in o {
                match v {
                    Value::String(s) if !k.ends_with(".$") && looks_like_path(s) => {
                        out.push(Diagnostic::warning(
                            "NO_DOLLAR",
                            format!(
                                "The value of '{k}' looks like a JSONPath. Instead of '{k}', \
                                 use '{k}.$' to evaluate it as a JSONPath at runtime."
                            ),
                            at,
                        ));
                    }
                    _ => no_dollar(v, at, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| no_dollar(v, at, out)),
        _ => {}
    }
}

fn static_result(result: &Value, at: &str, out: &mut Vec<Diagnostic>) {
    match result {
        Value::Object(o) => {
            for (k, v) in o {
                if k.ends_with(".$") {
                    out.push(Diagnostic::warning(
                        "PASS_RESULT_IS_STATIC",
                        format!(
                            "The value of '{k}' will not evaluate as a JSONPath or Intrinsic \
                             Function at runtime. Instead of 'Result', use 'Parameters' to \
                             evaluate it as a JSONPath or Intrinsic Function at runtime."
                        ),
                        at,
                    ));
                }
                static_result(v, at, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| static_result(v, at, out)),
        _ => {}
    }
}
