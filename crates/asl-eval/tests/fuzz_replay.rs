//! Replays the committed fuzz inputs (`fuzz/seeds/<target>` and the crash inputs in
//! `fuzz/regressions/<target>`) through the same calls as the `jsonpath`, `intrinsic`
//! and `expressions` fuzz targets, so a fixed crash stays fixed without cargo-fuzz.
//! Takes well under a second; the fuzzers themselves never run in CI (docs/fuzzing.md).

use std::path::PathBuf;

use asl_eval::fieldpath::FieldPath;
use asl_eval::intrinsic::Intrinsic;
use asl_eval::jsonpath::{JsonPath, ReferencePath};
use asl_eval::template::Template;
use asl_eval::{Scope, choice, timestamp};
use serde_json::{Value, json};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            if let Ok(bytes) = std::fs::read(e.path()) {
                out.push((e.path(), bytes));
            }
        }
    }
    out
}

fn docs(extra: Option<Value>) -> Vec<Value> {
    let mut v = vec![
        json!({}),
        json!([1, "x", null]),
        json!({"a": 1, "b": "two", "c": [1, 2, 3], "d": {"e": {"f": [{"g": 1}]}},
               "big": 9223372036854775807u64, "f": 1e300}),
    ];
    v.extend(extra);
    v
}

fn context() -> Value {
    json!({"Execution": {"Name": "e"}, "StateMachine": {"Name": "sm"}})
}

#[test]
fn jsonpath_inputs_replay() {
    let ctx = context();
    for (_, bytes) in inputs("jsonpath") {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let (path, rest) = text.split_once('\n').unwrap_or((text, ""));
        let docs = docs(serde_json::from_str(rest).ok());
        if let Ok(p) = JsonPath::parse(path) {
            for d in &docs {
                let _ = p.select(&Scope::new(d, &ctx));
            }
        }
        if let Ok(r) = ReferencePath::parse(path) {
            for d in &docs {
                let _ = r.insert(d.clone(), json!(1));
            }
        }
    }
}

#[test]
fn intrinsic_inputs_replay() {
    let ctx = context();
    let all = inputs("intrinsic");
    assert!(!all.is_empty(), "the committed inputs are missing");
    for (_, bytes) in all {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let (call, rest) = text.split_once('\n').unwrap_or((text, ""));
        if let Ok(f) = Intrinsic::parse(call) {
            for d in &docs(serde_json::from_str(rest).ok()) {
                let _ = f.evaluate(&Scope::new(d, &ctx), "f.$");
            }
        }
    }
}

#[test]
fn expressions_inputs_replay() {
    let ctx = context();
    for (_, bytes) in inputs("expressions") {
        let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let template = doc.get("t").map(Template::compile);
        let choices = doc.get("c").map(choice::compile_choices);
        let path = doc.get("p").and_then(Value::as_str);
        for d in &docs(doc.get("in").cloned()) {
            let scope = Scope::new(d, &ctx);
            if let Some(Ok(t)) = &template {
                let _ = t.evaluate(&scope);
            }
            if let Some(Ok(rules)) = &choices {
                let _ = choice::choose(rules, &scope);
            }
            if let Some(p) = path {
                let _ = timestamp::parse(p);
                if let Ok(f) = FieldPath::compile("InputPath", p) {
                    let _ = f.select_input(&scope);
                    let _ = f.seconds(&scope);
                }
            }
        }
    }
}
