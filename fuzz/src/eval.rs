//! The expression-layer targets (`jsonpath`, `intrinsic`, `expressions`): each `pub fn`
//! is a whole fuzz target's body, so `fuzz_targets/*.rs` and the replay test
//! (`crates/asl-eval/tests/fuzz_replay.rs`, which includes this file) run the same code.
//! Depends on `asl_eval` and `serde_json` only.

use asl_eval::fieldpath::FieldPath;
use asl_eval::intrinsic::Intrinsic;
use asl_eval::jsonpath::{JsonPath, ReferencePath};
use asl_eval::template::Template;
use asl_eval::{Scope, choice, timestamp};
use serde_json::{Value, json};

/// Inputs a target evaluates expressions against when it does not build its own.
pub fn sample_docs() -> Vec<Value> {
    vec![
        json!({}),
        json!(null),
        json!([1, 2.5, "x", null, true, [], {}]),
        json!({
            "a": 1, "b": "two", "c": [1, 2, 3], "d": {"e": {"f": [{"g": 1}, {"g": "h"}]}},
            "n": null, "t": true, "s": "2024-01-31T12:00:00Z", "big": 9223372036854775807u64,
            "neg": -9223372036854775807i64, "f": 1e300, "items": [{"v": 1}, {"v": 2}]
        }),
    ]
}

/// The `$$` context object the targets use.
pub fn sample_context() -> Value {
    json!({
        "Execution": {"Id": "arn:aws:states:us-east-1:000000000000:execution:sm:e", "Name": "e",
                      "Input": {}, "StartTime": "2024-01-31T12:00:00.000Z"},
        "StateMachine": {"Id": "arn:aws:states:us-east-1:000000000000:stateMachine:sm", "Name": "sm"},
        "State": {"Name": "S", "EnteredTime": "2024-01-31T12:00:00.000Z", "RetryCount": 0},
        "Task": {"Token": "tok"},
        "Map": {"Item": {"Index": 0, "Value": 1}}
    })
}

/// `jsonpath`: raw text, a path, optionally `\n` + a JSON document.
pub fn jsonpath(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (path, rest) = text.split_once('\n').unwrap_or((text, ""));
    let mut docs = sample_docs();
    if let Ok(v) = serde_json::from_str::<Value>(rest) {
        docs.push(v);
    }
    let ctx = sample_context();
    if let Ok(p) = JsonPath::parse(path) {
        let _ = p.normalized();
        for d in &docs {
            let scope = Scope::new(d, &ctx);
            if let Ok(v) = p.select(&scope)
                && !p.is_definite()
            {
                assert!(v.is_array(), "an indefinite path selects an array");
            }
        }
    }
    for r in [
        ReferencePath::parse(path),
        ReferencePath::parse_any_root(path),
    ]
    .into_iter()
    .flatten()
    {
        for d in &docs {
            let scope = Scope::new(d, &ctx);
            let _ = r.get(&scope);
            let _ = r.insert(d.clone(), Value::from(1));
        }
    }
}

/// `intrinsic`: raw text, a call, optionally `\n` + a JSON document.
pub fn intrinsic(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (call, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(f) = Intrinsic::parse(call) else {
        return;
    };
    let mut docs = sample_docs();
    if let Ok(v) = serde_json::from_str::<Value>(rest) {
        docs.push(v);
    }
    let ctx = sample_context();
    for d in &docs {
        let _ = f.evaluate(&Scope::new(d, &ctx), "f.$");
    }
}

/// `expressions`: a JSON document `{"t": template, "c": choices, "p": path, "in": input}`.
pub fn expressions(data: &[u8]) {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        if let Ok(s) = std::str::from_utf8(data) {
            let _ = timestamp::parse(s);
        }
        return;
    };
    let mut docs = sample_docs();
    if let Some(input) = doc.get("in") {
        docs.push(input.clone());
    }
    let ctx = sample_context();
    let template = doc.get("t").map(Template::compile);
    let choices = doc.get("c").map(choice::compile_choices);
    let path = doc.get("p").and_then(Value::as_str);
    if let Some(s) = path {
        let _ = timestamp::parse(s);
    }
    let fields: Vec<FieldPath> = path
        .into_iter()
        .flat_map(|p| {
            [
                FieldPath::compile("InputPath", p),
                FieldPath::compile_reference("ItemsPath", p),
                FieldPath::compile_with_intrinsics("CausePath", p),
            ]
        })
        .filter_map(Result::ok)
        .collect();
    for d in &docs {
        let scope = Scope::new(d, &ctx);
        if let Some(Ok(t)) = &template {
            let _ = t.evaluate(&scope);
        }
        if let Some(Ok(rules)) = &choices {
            let _ = choice::choose(rules, &scope);
        }
        for f in &fields {
            let _ = f.select_input(&scope);
            let _ = f.resolve(&scope);
            let _ = f.seconds(&scope);
            let _ = f.timestamp(&scope);
            let _ = f.non_negative_integer(&scope);
            let _ = f.percentage(&scope);
        }
    }
}
