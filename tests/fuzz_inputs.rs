//! Every fuzz target's committed inputs are replayed in CI. The fuzzers run by hand
//! (docs/fuzzing.md); what they found stays fixed only if a test replays the inputs
//! under `fuzz/seeds/<target>` and `fuzz/regressions/<target>`. The replay tests live
//! beside the crate each target reaches and call `replay("<target>", ...)`; this test
//! fails when a target (a `[[bin]]` in fuzz/Cargo.toml, or a directory of committed
//! inputs) has no such call, or a replay names a target that does not exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The replay tests, relative to the repository root.
const REPLAYS: &[&str] = &[
    "crates/asl-eval/tests/fuzz_replay.rs",
    "crates/asl-engine/tests/fuzz_replay.rs",
    "crates/sfn-local/tests/fuzz_replay.rs",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The fuzz targets: the `name` of each `[[bin]]` in fuzz/Cargo.toml.
fn targets() -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
    let mut targets = BTreeSet::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(value) = line.strip_prefix("name") {
            let name = value.trim_start().trim_start_matches('=').trim();
            targets.insert(name.trim_matches('"').to_owned());
        }
    }
    targets
}

/// The targets with at least one committed input file.
fn targets_with_inputs() -> BTreeSet<String> {
    let mut with_inputs = BTreeSet::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root().join("fuzz").join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let has_files = std::fs::read_dir(entry.path())
                .map(|files| files.flatten().any(|file| file.path().is_file()))
                .unwrap_or(false);
            if has_files {
                with_inputs.insert(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    with_inputs
}

/// The targets a replay test runs: the first argument of each `replay("...", ...)`.
fn replayed(file: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap();
    text.split("replay(\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_owned()))
        .collect()
}

#[test]
fn every_fuzz_target_with_committed_inputs_is_replayed() {
    let targets = targets();
    assert!(targets.len() >= 6, "fuzz/Cargo.toml lists {targets:?}");
    let with_inputs = targets_with_inputs();
    let mut covered = BTreeSet::new();
    for replay in REPLAYS {
        covered.extend(replayed(&root().join(replay)));
    }
    let unknown: Vec<_> = with_inputs.difference(&targets).collect();
    assert!(
        unknown.is_empty(),
        "committed inputs for targets fuzz/Cargo.toml does not define: {unknown:?}"
    );
    let missing: Vec<_> = targets
        .union(&with_inputs)
        .filter(|t| !covered.contains(*t))
        .collect();
    assert!(
        missing.is_empty(),
        "fuzz targets whose committed inputs no test replays: {missing:?}; add a \
         `replay(\"<target>\", ...)` test beside the crate the target reaches (see {REPLAYS:?})"
    );
    let stale: Vec<_> = covered.difference(&targets).collect();
    assert!(
        stale.is_empty(),
        "replays of targets that do not exist: {stale:?}"
    );
}
