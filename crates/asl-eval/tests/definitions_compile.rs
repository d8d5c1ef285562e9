//! Every expression in the conformance suite's definitions must compile, JSONPath and JSONata:
//! payload templates, path fields, reference paths and Choice rules, including those
//! inside Map item processors and Parallel branches. This catches parser gaps on real
//! AWS-accepted definitions (all of them were accepted by CreateStateMachine).
//!
//! JSONata states: every `{% %}` expression in them (payloads, Choice conditions, Catch
//! and Retry fields, numeric fields) must compile with `asl_eval::jsonata`. JSONPath
//! states that use variables (`Assign`, `$name`) are included. The cases are the
//! repository's (`conformance/cases`): a missing directory fails the test.

use std::path::PathBuf;

use asl_eval::choice::compile_choices;
use asl_eval::fieldpath::FieldPath;
use asl_eval::jsonata::Expr;
use asl_eval::jsonpath::ReferencePath;
use asl_eval::template::Template;
use serde_json::Value;

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/cases")
}

fn check_states(
    states: &Value,
    inherited_jsonata: bool,
    where_: &str,
    errors: &mut Vec<String>,
    count: &mut usize,
) {
    let Some(states) = states.as_object() else {
        return;
    };
    for (name, st) in states {
        let jsonata = match st.get("QueryLanguage").and_then(Value::as_str) {
            Some("JSONata") => true,
            Some(_) => false,
            None => inherited_jsonata,
        };
        // Nested machines first: they may declare their own query language.
        for key in ["ItemProcessor", "Iterator"] {
            if let Some(p) = st.get(key) {
                let nested = match p.get("QueryLanguage").and_then(Value::as_str) {
                    Some(q) => q == "JSONata",
                    None => jsonata,
                };
                check_states(
                    &p["States"],
                    nested,
                    &format!("{where_}/{name}/{key}"),
                    errors,
                    count,
                );
            }
        }
        if let Some(branches) = st.get("Branches").and_then(Value::as_array) {
            for (i, b) in branches.iter().enumerate() {
                check_states(
                    &b["States"],
                    jsonata,
                    &format!("{where_}/{name}/Branches/{i}"),
                    errors,
                    count,
                );
            }
        }
        if jsonata {
            check_jsonata(st, &format!("{where_}/{name}"), errors, count);
            continue;
        }
        let mut fail =
            |what: &str, msg: String| errors.push(format!("{where_}/{name}/{what}: {msg}"));
        for key in ["Parameters", "ResultSelector", "ItemSelector", "Assign"] {
            if let Some(t) = st.get(key) {
                *count += 1;
                if let Err(e) = Template::compile(t) {
                    fail(key, e.message);
                }
            }
        }
        for key in [
            "InputPath",
            "OutputPath",
            "SecondsPath",
            "TimestampPath",
            "MaxConcurrencyPath",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentagePath",
        ] {
            if let Some(p) = st.get(key).and_then(Value::as_str) {
                *count += 1;
                if let Err(e) = FieldPath::compile(key, p) {
                    fail(key, e.message);
                }
            }
        }
        for key in ["ErrorPath", "CausePath"] {
            if let Some(p) = st.get(key).and_then(Value::as_str) {
                *count += 1;
                if let Err(e) = FieldPath::compile_with_intrinsics(key, p) {
                    fail(key, e.message);
                }
            }
        }
        if let Some(p) = st.get("ItemsPath").and_then(Value::as_str) {
            *count += 1;
            if let Err(e) = FieldPath::compile_reference("ItemsPath", p) {
                fail("ItemsPath", e.message);
            }
        }
        let mut result_paths: Vec<&str> = st
            .get("ResultPath")
            .and_then(Value::as_str)
            .into_iter()
            .collect();
        if let Some(catchers) = st.get("Catch").and_then(Value::as_array) {
            result_paths.extend(
                catchers
                    .iter()
                    .filter_map(|c| c.get("ResultPath").and_then(Value::as_str)),
            );
        }
        for p in result_paths {
            *count += 1;
            if let Err(e) = ReferencePath::parse(p) {
                fail("ResultPath", e.message);
            }
        }
        if let Some(c) = st.get("Choices") {
            *count += 1;
            if let Err(e) = compile_choices(c) {
                fail("Choices", e.message);
            }
        }
    }
}

/// Every `{% %}` string of a JSONata state, nested machines excepted (they are checked as
/// states of their own).
fn check_jsonata(v: &Value, where_: &str, errors: &mut Vec<String>, count: &mut usize) {
    match v {
        Value::String(s) => {
            if let Some(parsed) = Expr::parse_field(s) {
                *count += 1;
                if let Err(e) = parsed {
                    errors.push(format!("{where_}: {}", e.message));
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                check_jsonata(x, &format!("{where_}[{i}]"), errors, count);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                if !matches!(k.as_str(), "ItemProcessor" | "Iterator" | "Branches") {
                    check_jsonata(x, &format!("{where_}/{k}"), errors, count);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn every_expression_in_the_suite_compiles() {
    let dir = cases_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (the cases are in the repository)", dir.display()));
    let mut errors = Vec::new();
    let mut count = 0;
    let mut files: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
    {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).expect("conformance case is JSON");
            let def = &case["definition"];
            let jsonata = def.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata");
            let id = case["id"].as_str().unwrap_or("?");
            check_states(&def["States"], jsonata, id, &mut errors, &mut count);
        }
    }
    eprintln!("compiled {count} expressions, {} failed", errors.len());
    for e in &errors {
        eprintln!("  {e}");
    }
    assert!(
        errors.is_empty(),
        "{} expression(s) failed to compile",
        errors.len()
    );
}
