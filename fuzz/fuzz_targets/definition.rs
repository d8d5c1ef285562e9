//! Raw definition text: `Definition::parse_str` must not panic, and a definition that
//! validates must start and run a bounded number of steps (fake clock, memory store).
//! The input is the definition; after a NUL byte, the bytes that steer the run.
//!
//! The body is `hitl_fuzz::engine::definition` (fuzz/src/engine.rs), which the replay test runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hitl_fuzz::engine::definition(data));
