//! The variables cargo sets for running a package's tests, which a nested cargo
//! (`hitl local`'s build of the functions, a test's `cargo build`) must not see:
//! build scripts that watch them (ring's watches `CARGO_MANIFEST_DIR`) would
//! rebuild half the dependency tree on every start.

use std::process::Command;

/// The variables cargo sets for running a package's tests, as opposed to
/// the ones that configure cargo (CARGO_HOME, CARGO_TARGET_DIR, ...).
pub fn is_package_variable(key: &str) -> bool {
    const PREFIXES: &[&str] = &["CARGO_PKG_", "CARGO_BIN_EXE_", "CARGO_MANIFEST_"];
    const NAMES: &[&str] = &[
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    NAMES.contains(&key) || PREFIXES.iter().any(|prefix| key.starts_with(prefix))
}

/// `command` without this process's package variables.
pub fn without_package_variables(command: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(is_package_variable) {
            command.env_remove(key);
        }
    }
    command
}
