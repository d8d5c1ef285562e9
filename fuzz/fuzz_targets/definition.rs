//! Raw definition text: `Definition::parse_str` must not panic, and a definition that
//! validates must start and run a bounded number of steps (fake clock, memory store).
//! The input is the definition; after a NUL byte, the bytes that steer the run.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (def, steer) = data.split_at(split);
    let Ok(text) = std::str::from_utf8(def) else {
        return;
    };
    let mut u = Unstructured::new(steer);
    let input = json!({"a": 1, "b": "two", "c": [1, 2, 3], "items": [{"v": 1}, {"v": 2}]});
    hitl_fuzz::parse_and_run(text, input, &mut u);
});
