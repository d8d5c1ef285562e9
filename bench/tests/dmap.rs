//! The CI check of the distributed Map workload (issue 18): `hitl-bench --smoke
//! --dmap-only` runs bench/dmap/template.yaml in `hitl local` with 1,000 JSONL items
//! from local mode's S3 and fails unless both executions end SUCCEEDED with every item
//! accounted for (the count in the output, or the ResultWriter's manifest listing 1,000
//! SUCCEEDED results). It checks no speed.
//!
//! `hitl` is the debug build beside `hitl-bench`, built first when missing (as
//! tests/counts.rs does).

use std::path::{Path, PathBuf};
use std::process::Command;

use test_support::cargo_env::without_package_variables;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn hitl() -> PathBuf {
    let hitl = Path::new(env!("CARGO_BIN_EXE_hitl-bench")).with_file_name("hitl");
    if !hitl.is_file() {
        eprintln!("no {}: cargo build -p hitl first", hitl.display());
        let status =
            without_package_variables(Command::new(env!("CARGO")).args(["build", "-p", "hitl"]))
                .current_dir(repo())
                .status()
                .expect("cargo runs");
        assert!(status.success(), "cargo build -p hitl: {status}");
    }
    hitl
}

#[test]
fn a_thousand_items_come_back_from_both_distributed_maps() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-dmap");
    let output = without_package_variables(&mut Command::new(env!("CARGO_BIN_EXE_hitl-bench")))
        .args(["--smoke", "--dmap-only", "--hitl"])
        .arg(hitl())
        .arg("--work-dir")
        .arg(&work)
        .current_dir(repo())
        .output()
        .expect("hitl-bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "hitl-bench --smoke --dmap-only failed:\n{stderr}\n{stdout}"
    );
    assert!(
        stdout.contains("## Distributed Map: 1,000 items from local mode's S3"),
        "{stdout}"
    );
    for row in [
        "| with ResultWriter: items/s (N / StartExecution → end) |",
        "| no ResultWriter: hitl local peak RSS (VmHWM), MiB |",
    ] {
        assert!(stdout.contains(row), "no row {row}:\n{stdout}");
    }
    assert!(
        stderr.contains("both distributed Maps SUCCEEDED with all 1,000 items"),
        "{stderr}"
    );
}
