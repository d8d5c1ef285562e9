//! What the bench's CI checks share: `hitl-bench --smoke <workload>` run against
//! the debug `hitl` beside it (built first when missing: `cargo test --workspace`
//! builds it for crates/hitl's tests, `cargo test -p hitl-bench` alone does not).

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

/// Runs `hitl-bench --smoke <workload>` in its own work directory, which must
/// succeed; gives its stdout and stderr.
pub(crate) fn smoke(workload: &str, work: &str) -> (String, String) {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join(work);
    let output = without_package_variables(&mut Command::new(env!("CARGO_BIN_EXE_hitl-bench")))
        .args(["--smoke", workload, "--hitl"])
        .arg(hitl())
        .arg("--work-dir")
        .arg(&work)
        .current_dir(repo())
        .output()
        .expect("hitl-bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "hitl-bench --smoke {workload} failed:\n{stderr}\n{stdout}"
    );
    (stdout, stderr)
}
