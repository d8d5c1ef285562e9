//! JSON-level expression compilers: the input is one JSON document
//! `{"t": <template>, "c": <choices>, "p": <field path text>, "in": <input>}` (any part
//! may be missing or wrong). Payload templates, Choice rules, field paths and timestamps
//! compile and then evaluate without panicking.
#![no_main]

use asl_eval::fieldpath::FieldPath;
use asl_eval::template::Template;
use asl_eval::{Scope, choice, timestamp};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        if let Ok(s) = std::str::from_utf8(data) {
            let _ = timestamp::parse(s);
        }
        return;
    };
    let mut docs = hitl_fuzz::sample_docs();
    if let Some(input) = doc.get("in") {
        docs.push(input.clone());
    }
    let ctx = hitl_fuzz::sample_context();
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
});
