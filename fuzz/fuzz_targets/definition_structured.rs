//! Structure-aware definitions: `arbitrary` builds a machine (states of every type,
//! Retry/Catch, nested Parallel/Map blocks, templates, Choice rules, paths and
//! intrinsics from a vocabulary that refers to the input) so most inputs validate and
//! the interpreter, not the parser, gets the coverage. A machine that validates runs a
//! bounded number of steps; the rest of the input steers the run.
//!
//! The body is `hitl_fuzz::engine::definition_structured` (fuzz/src/engine.rs), which the replay test runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hitl_fuzz::engine::definition_structured(data));
