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

/// The substitutions that insert a number where the ASL wants an integer: the
/// definition has them unquoted (`"TimeoutSeconds": ${ExecutionTimeoutSeconds}`),
/// so the committed file is JSON only once they are replaced. Each with a sample value.
pub const NUMBER_PLACEHOLDERS: [(&str, &str); 2] = [
    ("ExecutionTimeoutSeconds", "262800"),
    ("ActionMaxAttempts", "3"),
];

/// A definition file's text with [`NUMBER_PLACEHOLDERS`] replaced by their
/// sample values and every other `${Name}` kept (as a string, it is JSON already).
pub fn definition_text(relative: &str) -> String {
    NUMBER_PLACEHOLDERS
        .iter()
        .fold(read(relative), |text, (name, value)| {
            text.replace(&format!("${{{name}}}"), value)
        })
}

/// The state machine definition as committed, with only the number
/// placeholders substituted ([`definition_text`]).
pub fn asl() -> Value {
    let relative = "statemachine/human_in_the_loop.asl.json";
    serde_json::from_str(&definition_text(relative))
        .unwrap_or_else(|e| panic!("{relative} is not JSON once its numbers are substituted: {e}"))
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
