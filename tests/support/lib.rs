//! Helpers for the workspace's cross-crate tests: where the repository's files
//! are, and how to read them.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Reads a repository file as text, with a message naming the file on failure.
pub fn read(relative: &str) -> String {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Reads a JSON file of the repository.
pub fn json(relative: &str) -> Value {
    serde_json::from_str(&read(relative)).unwrap_or_else(|e| panic!("{relative} is not JSON: {e}"))
}

/// The state machine definition as committed (before DefinitionSubstitutions).
pub fn asl() -> Value {
    json("statemachine/human_in_the_loop.asl.json")
}

/// `template.yaml`, with CloudFormation's short-form tags kept as
/// `serde_yaml_ng::Value::Tagged` values.
pub fn template() -> serde_yaml_ng::Value {
    serde_yaml_ng::from_str(&read("template.yaml"))
        .unwrap_or_else(|e| panic!("template.yaml is not YAML: {e}"))
}

/// The names of every `${Name}` placeholder in a text.
pub fn placeholders(text: &str) -> std::collections::BTreeSet<String> {
    text.split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}
