//! Building the template's functions for the machine local mode runs on.
//!
//! SAM builds `rust-cargolambda` functions for Lambda (arm64 Linux); local
//! mode runs the same crates natively: one `cargo build --bin <Binary> ...`
//! per code directory, reporting how far it is (crates compiled against an
//! estimate of the total) and whether it reused the last build.
//!
//! **One build, not two.** Cargo resolves the features of shared
//! dependencies (tokio, hyper, serde, the AWS SDK) per set of *selected
//! packages*, and artifacts built with other features are other artifacts.
//! `cargo run --release -p hitl` selects `hitl`; a nested `cargo build --bin
//! process_approval ...` at the workspace root selects every member (and
//! `-p process_approval ...` only the functions), so it used to compile the
//! whole dependency tree a second time. [`Options::build_with`] names the
//! caller's own package: selecting it too (`-p hitl -p process_approval ...`)
//! makes cargo resolve the same features as the caller's build, which then
//! holds for every shared dependency as long as the functions enable no
//! feature `hitl` lacks (crates/hitl/tests/one_build.rs checks that).
//!
//! [`Options::build_with`]: crate::Options::build_with

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use cfn_template::{Function, FunctionCode, Stack};
use serde_json::Value;
use tokio::io::AsyncBufReadExt as _;

use crate::LocalError;

/// A function and the executable that runs it.
#[derive(Debug, Clone)]
pub(crate) struct Built {
    pub(crate) function: Function,
    pub(crate) executable: PathBuf,
}

/// How to build.
pub(crate) struct BuildPlan<'a> {
    pub(crate) build: bool,
    pub(crate) release: bool,
    /// Packages selected beside the functions' own, when their workspace has them.
    pub(crate) build_with: &'a [String],
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

/// A cargo command in `dir`, without the package variables of a `cargo run` parent:
/// a nested cargo that inherits them sees a changed environment and rebuilds crates
/// whose build scripts watch them (ring, ...).
fn cargo(dir: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("cargo");
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if let Some(name) = name.to_str()
            && is_package_variable(name)
        {
            command.env_remove(name);
        }
    }
    command
}

fn build_error(what: impl Into<String>, detail: impl Into<String>) -> LocalError {
    LocalError::Build {
        what: what.into(),
        detail: detail.into(),
    }
}

/// What `cargo metadata` says about the workspace of a code directory.
struct Workspace {
    target_dir: PathBuf,
    /// Package names of the workspace's members.
    members: HashSet<String>,
    /// `cargo metadata`'s resolve graph, for the estimate of units to build.
    metadata: Value,
}

async fn workspace(dir: &Path, resolve: bool) -> Result<Workspace, LocalError> {
    let what = format!("cargo metadata in {}", dir.display());
    let mut command = cargo(dir);
    command.args(["metadata", "--format-version", "1"]);
    if resolve {
        // Only the dependencies built for this machine (not windows-sys and the like).
        if let Some(host) = host_triple().await {
            command.args(["--filter-platform", &host]);
        }
    } else {
        command.arg("--no-deps");
    }
    let output = command
        .output()
        .await
        .map_err(|source| build_error(&what, format!("{source}: is cargo on PATH?")))?;
    if !output.status.success() {
        return Err(build_error(
            &what,
            String::from_utf8_lossy(&output.stderr).trim(),
        ));
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).map_err(|e| build_error(&what, e.to_string()))?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| build_error(&what, "no target_directory"))?;
    let member_ids: HashSet<&str> = metadata["workspace_members"]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let members = packages(&metadata)
        .filter(|p| p["id"].as_str().is_some_and(|id| member_ids.contains(id)))
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    Ok(Workspace {
        target_dir,
        members,
        metadata,
    })
}

fn packages(metadata: &Value) -> impl Iterator<Item = &Value> {
    metadata["packages"].as_array().into_iter().flatten()
}

async fn host_triple() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = tokio::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .await
        .ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
}

/// About how many compiler runs building `bins` takes: each library (or proc
/// macro) the binaries' packages depend on, normally or to build, one per build
/// script, and the binaries. An estimate: features of other selected packages
/// can add optional dependencies, and cargo may build a crate twice (for build
/// scripts and for the binaries).
fn estimate_units(metadata: &Value, bins: &[String]) -> usize {
    let mut owners = Vec::new();
    for package in packages(metadata) {
        if owns_bin(package, bins)
            && let Some(id) = package["id"].as_str()
        {
            owners.push(id.to_owned());
        }
    }
    let by_id: HashMap<&str, &Value> = packages(metadata)
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .collect();
    let deps: HashMap<&str, Vec<&str>> = metadata["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|node| {
            let id = node["id"].as_str()?;
            let deps = node["deps"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|dep| {
                    dep["dep_kinds"].as_array().into_iter().flatten().any(|k| {
                        // null: a normal dependency; "build": a build dependency.
                        k["kind"].is_null() || k["kind"] == "build"
                    })
                })
                .filter_map(|dep| dep["pkg"].as_str())
                .collect();
            Some((id, deps))
        })
        .collect();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut queue: Vec<&str> = owners.iter().map(String::as_str).collect();
    while let Some(id) = queue.pop() {
        if seen.insert(id) {
            queue.extend(deps.get(id).into_iter().flatten().copied());
        }
    }
    let mut units = bins.len();
    for id in &seen {
        let Some(package) = by_id.get(id) else {
            continue;
        };
        let targets: Vec<&Value> = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let has = |kind: &str| targets.iter().any(|t| kinds(t).any(|k| k == kind));
        if has("lib") || has("rlib") || has("proc-macro") {
            units += 1;
        }
        if has("custom-build") {
            units += 1;
        }
    }
    units
}

/// Whether `package` has a binary target named in `bins`.
fn owns_bin(package: &Value, bins: &[String]) -> bool {
    package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| {
            kinds(t).any(|k| k == "bin")
                && t["name"]
                    .as_str()
                    .is_some_and(|n| bins.iter().any(|b| b == n))
        })
}

fn kinds(target: &Value) -> impl Iterator<Item = &str> {
    target["kind"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// What a finished build did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BuildOutcome {
    /// Units cargo compiled (0: the last build was reused).
    pub(crate) compiled: usize,
    /// Units cargo found up to date.
    pub(crate) fresh: usize,
    pub(crate) took: Duration,
}

/// Follows cargo's JSON messages and says how far the build is: a line at every
/// tenth of the estimate and for every function binary built.
struct Progress<'a> {
    estimate: usize,
    compiled: usize,
    fresh: usize,
    functions: &'a [String],
    built_functions: usize,
    last_tenth: usize,
}

impl Progress<'_> {
    /// Reads one line of cargo's stdout; gives a line to show, if any.
    fn message(&mut self, line: &str) -> Option<String> {
        let message: Value = serde_json::from_str(line).ok()?;
        if message["reason"] != "compiler-artifact" {
            return None;
        }
        let name = message["target"]["name"].as_str().unwrap_or("?");
        if message["fresh"].as_bool().unwrap_or(false) {
            self.fresh += 1;
            return None;
        }
        self.compiled += 1;
        let is_bin = kinds(&message["target"]).any(|k| k == "bin");
        if is_bin && self.functions.iter().any(|f| f == name) {
            self.built_functions += 1;
            return Some(format!(
                "  built function {name} ({} of {})",
                self.built_functions,
                self.functions.len()
            ));
        }
        let done = self.compiled + self.fresh;
        // An estimate: never claim to be done before cargo says so.
        let total = self.estimate.max(done + 1);
        let tenth = done * 10 / total;
        if tenth > self.last_tenth {
            self.last_tenth = tenth;
            return Some(format!(
                "  building: {done} of ~{total} crates ({}%), compiled {name}",
                done * 100 / total
            ));
        }
        None
    }
}

/// Builds (unless `plan.build` is false) and locates every function's executable,
/// in the release profile or, with `release` false, the dev profile. `report`
/// receives the lines to show.
pub(crate) async fn functions(
    stack: &Stack,
    plan: &BuildPlan<'_>,
    report: &(dyn Fn(&str) + Send + Sync),
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
    let profile = if plan.release { "release" } else { "debug" };
    let mut built = Vec::new();
    for (dir, functions) in by_dir {
        let workspace = workspace(&dir, plan.build).await?;
        let bins: Vec<String> = functions.iter().map(|(_, binary)| binary.clone()).collect();
        if plan.build {
            build(&dir, &workspace, &bins, plan, report).await?;
        }
        let profile_dir = workspace.target_dir.join(profile);
        for (function, binary) in functions {
            let executable = profile_dir.join(&binary);
            if !executable.is_file() {
                return Err(build_error(
                    format!("function {}", function.logical_id),
                    format!(
                        "{} does not exist: run without --no-build (or cargo build{} --bin {binary})",
                        executable.display(),
                        if plan.release { " --release" } else { "" }
                    ),
                ));
            }
            built.push(Built {
                function,
                executable,
            });
        }
    }
    Ok(built)
}

/// The arguments of the `cargo build` of `bins`.
fn build_args(workspace: &Workspace, bins: &[String], plan: &BuildPlan<'_>) -> Vec<String> {
    let mut args = vec!["build".to_owned()];
    if plan.release {
        args.push("--release".into());
    }
    let with: Vec<&String> = plan
        .build_with
        .iter()
        .filter(|package| workspace.members.contains(*package))
        .collect();
    if !with.is_empty() {
        // Selecting packages replaces the default selection, so the functions'
        // own packages are named too.
        let mut selected: BTreeSet<String> = with.into_iter().cloned().collect();
        for package in packages(&workspace.metadata) {
            if owns_bin(package, bins)
                && let Some(name) = package["name"].as_str()
            {
                selected.insert(name.to_owned());
            }
        }
        for package in selected {
            args.extend(["-p".to_owned(), package]);
        }
    }
    for bin in bins {
        args.extend(["--bin".to_owned(), bin.clone()]);
    }
    args
}

async fn build(
    dir: &Path,
    workspace: &Workspace,
    bins: &[String],
    plan: &BuildPlan<'_>,
    report: &(dyn Fn(&str) + Send + Sync),
) -> Result<BuildOutcome, LocalError> {
    let args = build_args(workspace, bins, plan);
    let shown = format!("cargo {}", args.join(" "));
    report(&format!("Building the functions: {shown}"));
    let started = Instant::now();
    let mut command = cargo(dir);
    command
        .args(&args)
        // Our own progress lines replace cargo's (a progress bar only on a terminal,
        // one "Compiling" line per crate elsewhere); its errors still show, on stderr.
        .args(["--quiet", "--message-format", "json-render-diagnostics"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|source| build_error(&shown, format!("{source}: is cargo on PATH?")))?;
    let mut progress = Progress {
        estimate: estimate_units(&workspace.metadata, bins),
        compiled: 0,
        fresh: 0,
        functions: bins,
        built_functions: 0,
        last_tenth: 0,
    };
    if let Some(stdout) = child.stdout.take() {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(shown) = progress.message(&line) {
                report(&shown);
            }
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|source| build_error(&shown, source.to_string()))?;
    if !status.success() {
        return Err(build_error(
            &shown,
            format!("{status}; the compiler's messages are above"),
        ));
    }
    let outcome = BuildOutcome {
        compiled: progress.compiled,
        fresh: progress.fresh,
        took: started.elapsed(),
    };
    if outcome.compiled == 0 {
        report(&format!(
            "Reusing the last build of the functions: nothing to compile ({} crates up to date, checked in {:.1} s)",
            outcome.fresh,
            outcome.took.as_secs_f64()
        ));
    } else {
        report(&format!(
            "Built the functions: {} crates compiled, {} reused, in {:.0} s",
            outcome.compiled,
            outcome.fresh,
            outcome.took.as_secs_f64()
        ));
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    fn target(name: &str, kind: &str) -> Value {
        json!({"name": name, "kind": [kind]})
    }

    /// A workspace `app` (bin `app`, member), `fun` (bin `fun`, member) -> `lib_a`
    /// (with a build script) -> `macro_b`; `lib_a` has a dev-dependency `dev_c`.
    fn metadata() -> Value {
        json!({
            "target_directory": "/t",
            "workspace_members": ["app 1", "fun 1"],
            "packages": [
                {"id": "app 1", "name": "app", "targets": [target("app", "bin")]},
                {"id": "fun 1", "name": "fun", "targets": [target("fun", "bin")]},
                {"id": "lib_a 1", "name": "lib_a", "targets": [target("lib_a", "lib"), target("build-script-build", "custom-build")]},
                {"id": "macro_b 1", "name": "macro_b", "targets": [target("macro_b", "proc-macro")]},
                {"id": "dev_c 1", "name": "dev_c", "targets": [target("dev_c", "lib")]},
            ],
            "resolve": {"nodes": [
                {"id": "app 1", "deps": []},
                {"id": "fun 1", "deps": [{"pkg": "lib_a 1", "dep_kinds": [{"kind": null}]}]},
                {"id": "lib_a 1", "deps": [
                    {"pkg": "macro_b 1", "dep_kinds": [{"kind": "build"}]},
                    {"pkg": "dev_c 1", "dep_kinds": [{"kind": "dev"}]},
                ]},
                {"id": "macro_b 1", "deps": []},
                {"id": "dev_c 1", "deps": []},
            ]},
        })
    }

    #[test]
    fn the_estimate_counts_libraries_build_scripts_and_binaries_but_not_dev_dependencies() {
        // fun's bin, lib_a and its build script, macro_b.
        assert_eq!(estimate_units(&metadata(), &["fun".to_owned()]), 4);
    }

    #[test]
    fn the_caller_package_is_selected_with_the_functions_when_the_workspace_has_it() {
        let workspace = Workspace {
            target_dir: "/t".into(),
            members: ["app".to_owned(), "fun".to_owned()].into(),
            metadata: metadata(),
        };
        let args = |with: &[String]| {
            let plan = BuildPlan {
                build: true,
                release: true,
                build_with: with,
            };
            build_args(&workspace, &["fun".to_owned()], &plan).join(" ")
        };
        assert_eq!(
            args(&["app".to_owned()]),
            "build --release -p app -p fun --bin fun"
        );
        // Another workspace: the default selection, as `cargo build --bin` makes it.
        assert_eq!(args(&["other".to_owned()]), "build --release --bin fun");
        assert_eq!(args(&[]), "build --release --bin fun");
    }

    #[test]
    fn progress_counts_compiled_and_fresh_units_and_names_built_functions() {
        let functions = ["fun".to_owned()];
        let mut progress = Progress {
            estimate: 10,
            compiled: 0,
            fresh: 0,
            functions: &functions,
            built_functions: 0,
            last_tenth: 0,
        };
        let artifact = |name: &str, kind: &str, fresh: bool| {
            json!({"reason": "compiler-artifact", "target": {"name": name, "kind": [kind]}, "fresh": fresh})
                .to_string()
        };
        assert_eq!(progress.message(&artifact("a", "lib", true)), None);
        assert_eq!(
            progress.message(&artifact("b", "lib", false)),
            Some("  building: 2 of ~10 crates (20%), compiled b".into())
        );
        assert_eq!(progress.message("not json"), None);
        assert_eq!(
            progress.message(&json!({"reason": "build-script-executed"}).to_string()),
            None
        );
        assert_eq!(
            progress.message(&artifact("fun", "bin", false)),
            Some("  built function fun (1 of 1)".into())
        );
        assert_eq!((progress.compiled, progress.fresh), (2, 1));
    }
}
