//! One build: `hitl local` builds the functions with `-p hitl` selected beside
//! them (crates/local-stack/src/build.rs), so the nested cargo reuses what
//! `cargo run -p hitl` compiled only if selecting the functions too turns on no
//! feature of a shared dependency that `hitl` alone leaves off. Cargo would
//! otherwise build those dependencies (and everything above them) again: a
//! second compilation of tokio, hyper and the AWS SDK on the first start.
//!
//! This compares cargo's own feature resolution (`cargo tree -e features` is
//! the resolver `cargo build` uses) for both selections. A failure names the
//! packages and features to add to `[workspace.dependencies]`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    command
}

fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The workspace's function packages: the members under `functions/`.
fn function_packages() -> Vec<String> {
    let text = run(cargo().args(["metadata", "--format-version", "1", "--no-deps"]));
    let metadata: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let root = metadata["workspace_root"].as_str().unwrap_or_default();
    let functions = Path::new(root).join("functions");
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| Path::new(m).starts_with(&functions))
        })
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect()
}

/// Each package the selection builds (normal and build dependencies, for this
/// machine), with the features cargo turns on for it: more than one set when
/// it is built both for build scripts or proc macros and for the binaries.
fn features(packages: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let mut command = cargo();
    command.args([
        "tree",
        "-e",
        "normal,build",
        "--prefix",
        "none",
        "-f",
        "{p}|{f}",
    ]);
    for package in packages {
        command.args(["-p", package]);
    }
    let mut features: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in run(&mut command).lines() {
        if let Some((package, set)) = line.trim_end_matches(" (*)").split_once('|') {
            features
                .entry(package.to_owned())
                .or_default()
                .insert(set.to_owned());
        }
    }
    features
}

#[test]
fn selecting_the_functions_with_hitl_changes_no_feature_of_hitls_dependencies() {
    // Every function crate, those template.yaml does not run yet included: the
    // approval-policy functions (issue 14) join the template later, and must not
    // change hitl's features when they do.
    let functions = function_packages();
    for function in ["process_approval", "process_rejection", "review_page"] {
        assert!(
            functions.iter().any(|f| f == function),
            "{function} is one of template.yaml's functions: {functions:?}"
        );
    }
    let alone = features(&["hitl".to_owned()]);
    let mut both = vec!["hitl".to_owned()];
    both.extend(functions);
    let together = features(&both);
    assert!(alone.len() > 100, "hitl's tree: {} packages", alone.len());

    let changed: Vec<String> = alone
        .iter()
        .filter_map(|(package, features)| {
            let with = together.get(package)?;
            (with != features).then(|| format!("{package}: {features:?} -> {with:?}"))
        })
        .collect();
    assert!(
        changed.is_empty(),
        "building the functions with hitl changes the features of shared dependencies, so \
         local mode would compile them a second time; turn these on in [workspace.dependencies]:\n{}",
        changed.join("\n")
    );
}
