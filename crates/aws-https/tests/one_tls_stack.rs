//! One TLS stack: no member of the workspace may bring aws-lc back (an SDK
//! crate with its default features, or `default-https-client`, does). It would
//! be linked into every deployed function beside ring, and compiled, C and all,
//! on a cold start of `hitl local` (crates/aws-https/src/lib.rs says why ring).
//! Nor HTTP/2: `h2` was 11% of a deployed function, for endpoints that all speak
//! HTTP/1.1 (crates/aws-https/src/http1.rs).

use std::path::Path;
use std::process::Command;

/// `cargo tree --invert PACKAGE` over the whole workspace, for every target
/// platform (the functions are built for aarch64) and every kind of
/// dependency; `None` when no member depends on it at all.
fn dependents(package: &str) -> Option<String> {
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .args([
            "tree",
            "--workspace",
            "--target",
            "all",
            "--edges",
            "normal,build,dev",
        ])
        .args(["--invert", package])
        .output()
        .unwrap_or_else(|e| panic!("cargo tree: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        // A package the lock file no longer holds is not a failure: it is the aim.
        assert!(
            stderr.contains("did not match any packages"),
            "cargo tree --invert {package}: {stderr}"
        );
        return None;
    }
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (!stdout.trim().is_empty()).then_some(stdout)
}

#[test]
fn no_member_depends_on_aws_lc() {
    for package in ["aws-lc-sys", "aws-lc-rs"] {
        if let Some(tree) = dependents(package) {
            panic!(
                "{package} is back in the build; the SDK crates must keep \
                 `default-features = false` without `default-https-client` \
                 (root Cargo.toml) and build clients with aws-https:\n{tree}"
            );
        }
    }
}

#[test]
fn the_functions_link_rustls_on_ring() {
    let tree = dependents("ring").expect("nothing depends on ring");
    assert!(
        tree.contains("rustls v0.23") && tree.contains("process_approval v"),
        "Process Approval should reach ring through rustls:\n{tree}"
    );
}

#[test]
fn no_member_depends_on_http2() {
    if let Some(tree) = dependents("h2") {
        panic!(
            "h2 (HTTP/2) is back in the build: aws-smithy-http-client's hyper client, \
             reqwest's default features and hyper's `http2` bring it; SDK clients get \
             aws_https::https_client() (HTTP/1.1):\n{tree}"
        );
    }
}
