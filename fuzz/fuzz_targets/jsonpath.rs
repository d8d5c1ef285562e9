//! Raw JSONPath text: `JsonPath::parse`, `ReferencePath::parse*` and, for what parses,
//! selection and insertion over sample documents. The first line is the path, the rest
//! (when it is JSON) one more document.
//!
//! The body is `hitl_fuzz::eval::jsonpath` (fuzz/src/eval.rs), which the replay test runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hitl_fuzz::eval::jsonpath(data));
