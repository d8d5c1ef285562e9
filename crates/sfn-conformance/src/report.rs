//! What the runner prints and writes: failures, the per-category table, the subset scores
//! against their floors, the `--json` file. Pure: strings in, strings out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::cases::{Case, SUBSETS, in_subset};
use crate::run::CaseResult;

/// The three scores, in report order.
pub(crate) const SCORES: [&str; 3] = ["final", "history", "detail"];

fn score(r: &CaseResult, name: &str) -> Option<bool> {
    match name {
        "final" => Some(r.final_ok),
        "history" => r.history,
        _ => r.detail,
    }
}

/// `FAIL <id>: <why>` per failed outcome; with `verbose`, HISTORY and DETAIL lines too.
pub(crate) fn failures(results: &[CaseResult], verbose: bool) -> String {
    let mut out = String::new();
    for r in results.iter().filter(|r| !r.final_ok) {
        let _ = writeln!(out, "FAIL {}: {}", r.id, r.why.as_deref().unwrap_or("?"));
    }
    if verbose {
        for r in results.iter().filter(|r| r.history == Some(false)) {
            let why = r.history_why.as_deref().unwrap_or("?");
            let _ = writeln!(out, "HISTORY {}: {why}", r.id);
        }
        for r in results
            .iter()
            .filter(|r| r.detail == Some(false) && r.history == Some(true))
        {
            let why = r.detail_why.as_deref().unwrap_or("?");
            let _ = writeln!(out, "DETAIL {}: {why}", r.id);
        }
    }
    out
}

/// passed/applicable per category and in total, for the table and `--json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) cases: usize,
    /// score -> (passed, applicable)
    pub(crate) scores: BTreeMap<&'static str, (usize, usize)>,
}

fn tally<'a>(results: impl Iterator<Item = &'a CaseResult>) -> Tally {
    let mut t = Tally::default();
    for r in results {
        t.cases += 1;
        for name in SCORES {
            let entry = t.scores.entry(name).or_default();
            if let Some(ok) = score(r, name) {
                entry.1 += 1;
                entry.0 += usize::from(ok);
            }
        }
    }
    t
}

/// Per category, then `TOTAL`.
pub(crate) fn summary(results: &[CaseResult]) -> Vec<(String, Tally)> {
    let mut categories: Vec<&str> = results.iter().map(|r| r.category.as_str()).collect();
    categories.sort_unstable();
    categories.dedup();
    let mut rows: Vec<(String, Tally)> = categories
        .into_iter()
        .map(|c| {
            (
                c.to_owned(),
                tally(results.iter().filter(|r| r.category == c)),
            )
        })
        .collect();
    rows.push(("TOTAL".into(), tally(results.iter())));
    rows
}

pub(crate) fn table(rows: &[(String, Tally)]) -> String {
    let frac = |t: &Tally, name: &str| match t.scores.get(name) {
        Some((ok, n)) if *n > 0 => format!("{ok}/{n}"),
        _ => "n/a".into(),
    };
    let header = format!(
        "{:24} {:>5} {:>11} {:>11} {:>11}",
        "category", "cases", "final", "history", "detail"
    );
    let rule = "-".repeat(header.len());
    let mut out = format!("{header}\n{rule}\n");
    for (name, t) in rows {
        if name == "TOTAL" {
            let _ = writeln!(out, "{rule}");
        }
        let _ = writeln!(
            out,
            "{name:24} {:>5} {:>11} {:>11} {:>11}",
            t.cases,
            frac(t, "final"),
            frac(t, "history"),
            frac(t, "detail")
        );
    }
    out
}

/// `subset_score` (e.g. `core_final`) -> cases of the subset that passed the score.
pub(crate) fn subset_scores(cases: &[Case], results: &[CaseResult]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for subset in SUBSETS {
        for name in SCORES {
            let passed = cases
                .iter()
                .zip(results)
                .filter(|(c, r)| in_subset(c, subset) && score(r, name) == Some(true))
                .count();
            out.insert(format!("{subset}_{name}"), passed);
        }
    }
    out
}

/// Reads a floors file: `subset_score=N` lines (`core_final=730`), `#` comments. A key
/// that names no subset and score is an error (a typo would silently drop a floor).
pub(crate) fn parse_floors(text: &str) -> Result<BTreeMap<String, usize>, String> {
    let mut floors = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("line {}: expected subset_score=N, got {line:?}", n + 1))?;
        let key = key.trim();
        let known = SUBSETS
            .iter()
            .any(|s| SCORES.iter().any(|sc| key == format!("{s}_{sc}")));
        if !known {
            return Err(format!(
                "line {}: unknown key {key:?}: use one of {}_{{{}}}",
                n + 1,
                SUBSETS.join("|"),
                SCORES.join("|")
            ));
        }
        let value = value
            .trim()
            .parse()
            .map_err(|_| format!("line {}: {key}: not a count: {value:?}", n + 1))?;
        floors.insert(key.to_owned(), value);
    }
    Ok(floors)
}

/// One line per subset and score with its floor; `Err` lists those below their floor.
pub(crate) fn check_floors(
    scores: &BTreeMap<String, usize>,
    floors: &BTreeMap<String, usize>,
) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut below = Vec::new();
    for subset in SUBSETS {
        for name in SCORES {
            let key = format!("{subset}_{name}");
            let got = scores.get(&key).copied().unwrap_or(0);
            let floor = floors.get(&key).copied().unwrap_or(0);
            let mark = if got < floor { "  BELOW THE FLOOR" } else { "" };
            let _ = writeln!(
                out,
                "conformance: {subset} {name} passed {got} (floor {floor}){mark}"
            );
            if got < floor {
                below.push(format!("{subset} {name} {got} < {floor}"));
            }
        }
    }
    (out, below)
}

/// The `--json` document.
pub(crate) fn json_document(
    endpoint: &str,
    elapsed_s: f64,
    filters: Value,
    rows: &[(String, Tally)],
    subset_scores: &BTreeMap<String, usize>,
    results: &[CaseResult],
) -> Value {
    let summary: serde_json::Map<String, Value> = rows
        .iter()
        .map(|(name, t)| {
            let s = |k: &str| t.scores.get(k).copied().unwrap_or_default();
            (
                name.clone(),
                json!({
                    "cases": t.cases,
                    "final_passed": s("final").0,
                    "history_passed": s("history").0,
                    "history_applicable": s("history").1,
                    "detail_passed": s("detail").0,
                    "detail_applicable": s("detail").1,
                }),
            )
        })
        .collect();
    json!({
        "endpoint": endpoint,
        "elapsed_s": (elapsed_s * 10.0).round() / 10.0,
        "filters": filters,
        "summary": summary,
        "subsets": subset_scores,
        "results": results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_are_read_strictly_and_checked_per_subset_and_score() {
        let floors = parse_floors("# floors\ncore_final=730\n\njsonata_detail = 118\n")
            .expect("valid floors");
        assert_eq!(floors.get("core_final"), Some(&730));
        assert_eq!(floors.get("jsonata_detail"), Some(&118));
        assert!(parse_floors("core_fnal=1").is_err());
        assert!(parse_floors("core_final=lots").is_err());
        assert!(parse_floors("core_final").is_err());

        let mut scores: BTreeMap<String, usize> = BTreeMap::new();
        scores.insert("core_final".into(), 730);
        scores.insert("jsonata_detail".into(), 117);
        let (lines, below) = check_floors(&scores, &floors);
        assert_eq!(below, vec!["jsonata detail 117 < 118".to_owned()]);
        assert_eq!(lines.lines().count(), 9);
        assert!(lines.contains("conformance: core final passed 730 (floor 730)\n"));
        assert!(
            lines.contains("conformance: jsonata detail passed 117 (floor 118)  BELOW THE FLOOR\n")
        );
    }
}
