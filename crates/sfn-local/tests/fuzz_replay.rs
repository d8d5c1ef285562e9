//! Replays the committed fuzz inputs of the `api_request` target
//! (`fuzz/seeds/api_request` and the crash inputs in `fuzz/regressions/api_request`)
//! through the target's own body, `fuzz/src/api.rs`, included here: sfn-local's router
//! in process, every answer JSON, every error with `__type`, no 500 and no panic. Takes
//! about a second; the fuzzers never run in CI (docs/fuzzing.md). `tests/fuzz_inputs.rs`
//! at the root checks that every target with committed inputs has a replay.

use std::path::PathBuf;

// The fuzz crate's code, as its target runs it (it is not a workspace member).
#[path = "../../../fuzz/src/api.rs"]
#[allow(unreachable_pub, dead_code)]
mod fuzz_api;

/// Runs every committed input of `target` through `body`; fails when there is none.
fn replay(target: &str, body: fn(&[u8])) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut replayed = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let bytes = std::fs::read(entry.path()).unwrap();
            body(&bytes);
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no committed inputs for the {target} target");
}

#[test]
fn api_request_inputs_replay() {
    replay("api_request", fuzz_api::api_request);
}
