//! Raw intrinsic-call text: `Intrinsic::parse`, then `evaluate` against sample documents
//! (parse -> evaluate must never panic). The first line is the call, the rest (when it
//! is JSON) one more input document.
//!
//! The body is `hitl_fuzz::eval::intrinsic` (fuzz/src/eval.rs), which the replay test runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hitl_fuzz::eval::intrinsic(data));
