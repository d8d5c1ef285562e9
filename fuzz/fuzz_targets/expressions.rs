//! JSON-level expression compilers: the input is one JSON document
//! `{"t": <template>, "c": <choices>, "p": <field path text>, "in": <input>}` (any part
//! may be missing or wrong). Payload templates, Choice rules, field paths and timestamps
//! compile and then evaluate without panicking.
//!
//! The body is `hitl_fuzz::eval::expressions` (fuzz/src/eval.rs), which the replay test runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hitl_fuzz::eval::expressions(data));
