//! The case files (`conformance/cases/*.jsonl`, format in `conformance/README.md`), which
//! of them to run, and the subsets the floors are kept for.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;
use serde_json::Value;

use crate::compare::Order;

/// One recorded execution. Fields this runner does not use (`source`, `localstack_notes`)
/// are ignored.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Case {
    pub(crate) id: String,
    pub(crate) category: String,
    #[serde(default = "jsonpath")]
    pub(crate) query_language: String,
    #[serde(default)]
    pub(crate) features: Vec<String>,
    #[serde(default)]
    pub(crate) needs: Vec<String>,
    pub(crate) definition: Value,
    /// JSON text; `None`: started without input.
    #[serde(default)]
    pub(crate) input: Option<String>,
    pub(crate) expected: Value,
    #[serde(default)]
    pub(crate) expected_history: Option<Vec<Value>>,
    #[serde(default)]
    pub(crate) expected_history_types: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) history_order: Option<String>,
    #[serde(default)]
    pub(crate) normalisation: Normalisation,
    #[serde(default)]
    pub(crate) names: NameTemplates,
    #[serde(default)]
    pub(crate) callback: Vec<Callback>,
    #[serde(default)]
    pub(crate) timeout_s: Option<f64>,
    #[serde(default)]
    pub(crate) slow: bool,
}

fn jsonpath() -> String {
    "JSONPath".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Normalisation {
    /// placeholder -> `state_machine_name`, `execution_name` or `role_arn`
    #[serde(default)]
    pub(crate) bindings: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) masks: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct NameTemplates {
    /// e.g. `statemachine_{uid}`
    pub(crate) state_machine_name_template: Option<String>,
    /// `None`: AWS generated a UUID
    pub(crate) execution_name_template: Option<String>,
}

/// A recorded SendTask* call to replay once the task has its token.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Callback {
    pub(crate) op: String,
    pub(crate) output: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
}

impl Case {
    /// JSONPath, no Variables, no external service.
    pub(crate) fn is_core(&self) -> bool {
        self.query_language == "JSONPath" && !self.uses_variables() && self.needs.is_empty()
    }

    pub(crate) fn is_jsonata(&self) -> bool {
        self.query_language == "JSONata"
    }

    pub(crate) fn uses_variables(&self) -> bool {
        self.features.iter().any(|f| f == "variables")
    }

    pub(crate) fn order(&self) -> Order {
        match self.history_order.as_deref() {
            Some("concurrent") => Order::Concurrent,
            _ => Order::Sequential,
        }
    }
}

/// The subsets floors are kept for, in report order.
pub(crate) const SUBSETS: [&str; 3] = ["core", "jsonata", "variables"];

/// Whether a case counts in a subset of [`SUBSETS`].
pub(crate) fn in_subset(case: &Case, subset: &str) -> bool {
    match subset {
        "core" => case.is_core(),
        "jsonata" => case.is_jsonata(),
        "variables" => case.uses_variables(),
        _ => false,
    }
}

/// Every case of `dir/*.jsonl`, files in name order, lines in file order.
pub(crate) fn load(dir: &Path) -> anyhow::Result<Vec<Case>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the cases directory {}", dir.display()))?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let case: Case = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a conformance case", file.display(), n + 1))?;
            cases.push(case);
        }
    }
    if cases.is_empty() {
        anyhow::bail!(
            "no cases in {}: expected *.jsonl files (see conformance/README.md)",
            dir.display()
        );
    }
    Ok(cases)
}

/// Which cases to run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub(crate) categories: Vec<String>,
    pub(crate) only_core: bool,
    pub(crate) filter: Option<String>,
    pub(crate) exclude_slow: bool,
}

impl Selection {
    pub(crate) fn keeps(&self, case: &Case) -> bool {
        (self.categories.is_empty() || self.categories.contains(&case.category))
            && (!self.only_core || case.is_core())
            && self.filter.as_ref().is_none_or(|f| case.id.contains(f))
            && !(self.exclude_slow && case.slow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_cases_load_and_split_into_the_documented_subsets() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/cases");
        let cases = load(&dir).expect("the vendored cases load");
        assert_eq!(cases.len(), 876);
        let count = |s: &str| cases.iter().filter(|c| in_subset(c, s)).count();
        assert_eq!(
            (count("core"), count("jsonata"), count("variables")),
            (730, 118, 45)
        );
        assert_eq!(
            cases
                .iter()
                .filter(|c| c.expected_history.is_some())
                .count(),
            379
        );
        let only_base = Selection {
            categories: vec!["base".into()],
            ..Selection::default()
        };
        assert_eq!(cases.iter().filter(|c| only_base.keeps(c)).count(), 29);
    }
}
