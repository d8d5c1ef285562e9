//! Helpers shared by the fuzz targets, one module per crate they reach, so each crate's
//! replay test (`crates/*/tests/fuzz_replay.rs`) can include exactly the module it
//! needs with `#[path]` and run the very code the fuzz target runs:
//!
//! * [`eval`]: `jsonpath`, `intrinsic`, `expressions` (asl-eval);
//! * [`engine`]: `definition`, `definition_structured` (asl-engine);
//! * [`api`]: `api_request` (sfn-local).
//!
//! Everything here is deterministic (fake clock, memory store, fixed ARNs) so a crash
//! input replays the same way every time. A module must not refer to another (`crate::`
//! means the including test crate there).

pub mod api;
pub mod engine;
pub mod eval;
