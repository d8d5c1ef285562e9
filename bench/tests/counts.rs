//! The CI check of docs/scale.md's per-review table (issue 19): the bench's counts
//! workload (`hitl-bench --smoke --counts-only`, bench/src/counts.rs) runs two reviews
//! of each kind through `hitl local --debug` and fails unless every one counts the
//! transitions, Lambda invocations, emails and history events the doc says.
//!
//! `hitl` is the debug build beside `hitl-bench`: `cargo test --workspace` builds it
//! for crates/hitl's tests before any test runs. Run alone (`cargo test -p
//! hitl-bench`), this builds it first.

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
fn every_review_costs_what_docs_scale_md_says() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-counts");
    let output = without_package_variables(&mut Command::new(env!("CARGO_BIN_EXE_hitl-bench")))
        .args(["--smoke", "--counts-only", "--hitl"])
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
        "hitl-bench --smoke --counts-only failed:\n{stderr}\n{stdout}"
    );
    // The table it printed holds both kinds of review, with the doc's figures.
    for row in [
        "| 1 of 1, approved |",
        "| 2 of 3, two reminder rounds, approved |",
    ] {
        assert!(stdout.contains(row), "no row {row}:\n{stdout}");
    }
    assert!(
        stderr.contains("every review counted what docs/scale.md says"),
        "{stderr}"
    );
}
