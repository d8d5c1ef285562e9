//! Raw intrinsic-call text: `Intrinsic::parse`, then `evaluate` against sample documents
//! (parse -> evaluate must never panic). The first line is the call, the rest (when it
//! is JSON) one more input document.
#![no_main]

use asl_eval::Scope;
use asl_eval::intrinsic::Intrinsic;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (call, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(f) = Intrinsic::parse(call) else {
        return;
    };
    let mut docs = hitl_fuzz::sample_docs();
    if let Ok(v) = serde_json::from_str::<Value>(rest) {
        docs.push(v);
    }
    let ctx = hitl_fuzz::sample_context();
    for d in &docs {
        let _ = f.evaluate(&Scope::new(d, &ctx), "f.$");
    }
});
