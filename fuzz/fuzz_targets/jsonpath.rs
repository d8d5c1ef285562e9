//! Raw JSONPath text: `JsonPath::parse`, `ReferencePath::parse*` and, for what parses,
//! selection and insertion over sample documents. The first line is the path, the rest
//! (when it is JSON) one more document.
#![no_main]

use asl_eval::Scope;
use asl_eval::jsonpath::{JsonPath, ReferencePath};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (path, rest) = text.split_once('\n').unwrap_or((text, ""));
    let mut docs = hitl_fuzz::sample_docs();
    if let Ok(v) = serde_json::from_str::<Value>(rest) {
        docs.push(v);
    }
    let ctx = hitl_fuzz::sample_context();
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
    for parsed in [
        ReferencePath::parse(path),
        ReferencePath::parse_any_root(path),
    ] {
        if let Ok(r) = parsed {
            for d in &docs {
                let scope = Scope::new(d, &ctx);
                let _ = r.get(&scope);
                let _ = r.insert(d.clone(), Value::from(1));
            }
        }
    }
});
