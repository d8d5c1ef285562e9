//! Building the template's functions for the machine local mode runs on.
//!
//! SAM builds `rust-cargolambda` functions for Lambda (arm64 Linux); local
//! mode runs the same crates natively: `cargo build --release --bin <Binary>`
//! in the function's `CodeUri`, one cargo call per code directory, with
//! cargo's own progress on the terminal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cfn_template::{Function, FunctionCode, Stack};
use serde_json::Value;

use crate::LocalError;

/// A function and the executable that runs it.
#[derive(Debug, Clone)]
pub(crate) struct Built {
    pub(crate) function: Function,
    pub(crate) executable: PathBuf,
}

/// The code directory of a function, or an error naming what local mode cannot run.
fn code_dir(stack: &Stack, function: &Function) -> Result<PathBuf, LocalError> {
    let unsupported = |why: String| LocalError::Unsupported {
        resource: function.logical_id.clone(),
        why,
    };
    if let Some(runtime) = &function.runtime
        && !runtime.starts_with("provided")
    {
        return Err(unsupported(format!(
            "runtime {runtime}: local mode runs Rust functions (provided.al2023 with \
             BuildMethod rust-cargolambda)"
        )));
    }
    match &function.code {
        FunctionCode::Dir(dir) if dir.is_absolute() => Ok(dir.clone()),
        FunctionCode::Dir(dir) => Ok(stack.template_dir.join(dir)),
        FunctionCode::Inline(_) => Err(unsupported("inline code (InlineCode)".into())),
    }
}

fn binary_of(function: &Function) -> Result<String, LocalError> {
    function
        .binary
        .clone()
        .ok_or_else(|| LocalError::Unsupported {
            resource: function.logical_id.clone(),
            why: "no Metadata.BuildProperties.Binary naming the cargo binary".into(),
        })
}

/// Where cargo puts a code directory's binaries for a profile.
fn target_dir(dir: &Path, release: bool) -> Result<PathBuf, LocalError> {
    let output = std::process::Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(dir)
        .output()
        .map_err(|source| LocalError::Build {
            what: format!("cargo metadata in {}", dir.display()),
            detail: format!("{source}: is cargo on PATH?"),
        })?;
    if !output.status.success() {
        return Err(LocalError::Build {
            what: format!("cargo metadata in {}", dir.display()),
            detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).map_err(|error| LocalError::Build {
            what: "cargo metadata".into(),
            detail: error.to_string(),
        })?;
    metadata["target_directory"]
        .as_str()
        .map(|dir| PathBuf::from(dir).join(if release { "release" } else { "debug" }))
        .ok_or_else(|| LocalError::Build {
            what: "cargo metadata".into(),
            detail: "no target_directory".into(),
        })
}

/// The variables cargo sets for the package it runs, which a nested cargo must not see.
fn is_package_variable(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || matches!(
            name,
            "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "OUT_DIR"
        )
}

/// Builds (unless `build` is false) and locates every function's executable,
/// in the release profile or, with `release` false, the dev profile.
pub(crate) async fn functions(
    stack: &Stack,
    build: bool,
    release: bool,
) -> Result<Vec<Built>, LocalError> {
    let mut by_dir: BTreeMap<PathBuf, Vec<(Function, String)>> = BTreeMap::new();
    for function in &stack.functions {
        let dir = code_dir(stack, function)?;
        let binary = binary_of(function)?;
        by_dir
            .entry(dir)
            .or_default()
            .push((function.clone(), binary));
    }
    let mut built = Vec::new();
    for (dir, functions) in by_dir {
        if build {
            let mut command = tokio::process::Command::new("cargo");
            command.arg("build").current_dir(&dir);
            // Under `cargo run`, cargo hands its package variables to hitl; a
            // nested cargo that inherits them sees a changed environment and
            // rebuilds crates whose build scripts watch them (ring, ...).
            for (name, _) in std::env::vars_os() {
                if let Some(name) = name.to_str()
                    && is_package_variable(name)
                {
                    command.env_remove(name);
                }
            }
            if release {
                command.arg("--release");
            }
            for (_, binary) in &functions {
                command.args(["--bin", binary]);
            }
            let status = command.status().await.map_err(|source| LocalError::Build {
                what: format!("cargo build in {}", dir.display()),
                detail: format!("{source}: is cargo on PATH?"),
            })?;
            if !status.success() {
                return Err(LocalError::Build {
                    what: format!("cargo build in {}", dir.display()),
                    detail: format!("{status}; the compiler's messages are above"),
                });
            }
        }
        let profile_dir = target_dir(&dir, release)?;
        for (function, binary) in functions {
            let executable = profile_dir.join(&binary);
            if !executable.is_file() {
                return Err(LocalError::Build {
                    what: format!("function {}", function.logical_id),
                    detail: format!(
                        "{} does not exist: run without --no-build (or cargo build{} --bin {binary})",
                        executable.display(),
                        if release { " --release" } else { "" }
                    ),
                });
            }
            built.push(Built {
                function,
                executable,
            });
        }
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_variables_are_not_passed_to_the_nested_cargo() {
        for name in [
            "CARGO_PKG_NAME",
            "CARGO_MANIFEST_DIR",
            "CARGO_BIN_NAME",
            "OUT_DIR",
        ] {
            assert!(is_package_variable(name), "{name}");
        }
        for name in ["CARGO_HOME", "CARGO_TARGET_DIR", "PATH", "RUSTFLAGS"] {
            assert!(!is_package_variable(name), "{name}");
        }
    }
}
