//! Replays the committed fuzz inputs of the `definition` and `definition_structured`
//! targets (`fuzz/seeds/<target>` and the crash inputs in `fuzz/regressions/<target>`)
//! through the targets' own bodies, `fuzz/src/engine.rs`, included here: every
//! definition that validates starts and runs up to 64 steps steered by the input, with
//! the interpreter's invariants and the snapshot's JSON round trip checked. Takes well
//! under a second; the fuzzers never run in CI (docs/fuzzing.md). `tests/fuzz_inputs.rs`
//! at the root checks that every target with committed inputs has a replay.

use std::path::PathBuf;

// The fuzz crate's code, as its targets run it (it is not a workspace member).
#[path = "../../../fuzz/src/engine.rs"]
#[allow(unreachable_pub, dead_code)]
mod fuzz_engine;

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
fn definition_inputs_replay() {
    replay("definition", fuzz_engine::definition);
}

#[test]
fn definition_structured_inputs_replay() {
    replay("definition_structured", fuzz_engine::definition_structured);
}
