//! `docs/architecture.md` cannot drift from the workspace: its crate table has
//! one row per member of the root `Cargo.toml` (path and package name) and no
//! other, each row's "Depends on" names exactly the workspace crates in that
//! member's `[dependencies]`, and every repository path the page names in
//! backticks exists. The manifests are read by hand (this crate has no TOML
//! parser): the `members = [...]` list, and per member its `[package]` name and
//! the keys of its dependency sections.

use std::collections::{BTreeMap, BTreeSet};

use workflow_tests::{read, repo_root};

const DOC: &str = "docs/architecture.md";
const HEADER: &str = "| Path | Crate | Owns | Depends on |";

/// The repository's top-level directories: a backticked span whose first
/// segment is one of these is a path the page claims exists.
const TOP_DIRS: [&str; 10] = [
    "crates",
    "functions",
    "tests",
    "bench",
    "statemachine",
    "docs",
    "events",
    "scripts",
    "conformance",
    "fuzz",
];

/// The root files a span may name without a directory.
const ROOT_FILE_EXTENSIONS: [&str; 4] = [".toml", ".yaml", ".json", ".md"];

/// A line without its `#` comment (no member path or dependency key holds `#`).
fn uncommented(line: &str) -> &str {
    line.split_once('#').map_or(line, |(code, _)| code).trim()
}

/// The `members` of the root `Cargo.toml`, in order.
fn members() -> Vec<String> {
    let manifest = read("Cargo.toml");
    let list = manifest
        .split_once("\nmembers = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .unwrap_or_else(|| panic!("the root Cargo.toml has no `members = [...]`"));
    list.lines()
        .flat_map(|line| uncommented(line).split(','))
        .map(|item| item.trim().trim_matches('"').to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

/// What the table needs from a member's manifest.
#[derive(Debug)]
struct Manifest {
    name: String,
    /// The keys of `[dependencies]` (and `[target.*.dependencies]`), any crate.
    dependencies: BTreeSet<String>,
}

fn manifest(member: &str) -> Manifest {
    let relative = format!("{member}/Cargo.toml");
    let text = read(&relative);
    let mut section = String::new();
    let mut name = None;
    let mut dependencies = BTreeSet::new();
    for line in text.lines().map(uncommented).filter(|l| !l.is_empty()) {
        if let Some(header) = line.strip_prefix('[') {
            section = header.trim_end_matches(']').trim_matches('[').to_owned();
            // `[dependencies.foo]` declares `foo`.
            if let Some(dependency) = section.strip_prefix("dependencies.") {
                dependencies.insert(dependency.to_owned());
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if section == "package" && key == "name" && name.is_none() {
            name = Some(value.trim().trim_matches('"').to_owned());
        }
        if section == "dependencies" || section.ends_with(".dependencies") {
            // `foo = ...` and `foo.workspace = true` both declare `foo`.
            let crate_name = key.split('.').next().unwrap_or(key);
            dependencies.insert(crate_name.trim_matches('"').to_owned());
        }
    }
    Manifest {
        name: name.unwrap_or_else(|| panic!("{relative} has no [package] name")),
        dependencies,
    }
}

/// The backticked spans of a cell or text, each with the text just before it.
fn spans(text: &str) -> Vec<(&str, &str)> {
    let pieces: Vec<&str> = text.split('`').collect();
    pieces
        .chunks(2)
        .filter_map(|pair| match pair {
            [before, span] => Some((*before, *span)),
            _ => None,
        })
        .collect()
}

/// One row of the crate table.
#[derive(Debug)]
struct Row {
    path: String,
    name: String,
    /// The backticked crate names of "Depends on", without those introduced by
    /// "feature" (a feature's name, not a crate).
    depends_on: BTreeSet<String>,
}

fn table() -> Vec<Row> {
    let doc = read(DOC);
    let rows = doc
        .split_once(HEADER)
        .unwrap_or_else(|| panic!("{DOC} has no table headed {HEADER}"))
        .1;
    let single = |cell: &str, what: &str| -> String {
        match spans(cell).as_slice() {
            [(_, span)] => (*span).to_owned(),
            _ => panic!("{DOC}: the {what} cell `{cell}` must be one backticked name"),
        }
    };
    rows.lines()
        .skip(2) // the header's own line end, then |---|
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 4, "{DOC}: four cells in {line}");
            Row {
                path: single(cells[0], "Path"),
                name: single(cells[1], "Crate"),
                depends_on: spans(cells[3])
                    .into_iter()
                    .filter(|(before, _)| !before.trim_end().ends_with("feature"))
                    .map(|(_, span)| span.to_owned())
                    .collect(),
            }
        })
        .collect()
}

#[test]
fn the_crate_table_has_one_row_per_workspace_member_and_no_other() {
    let members = members();
    assert!(
        members.len() >= 20,
        "members read from Cargo.toml: {members:?}"
    );
    let rows = table();
    let in_table: Vec<&str> = rows.iter().map(|r| r.path.as_str()).collect();
    let missing: Vec<&String> = members
        .iter()
        .filter(|m| !in_table.contains(&m.as_str()))
        .collect();
    let not_members: Vec<&&str> = in_table
        .iter()
        .filter(|p| !members.iter().any(|m| m == *p))
        .collect();
    assert!(
        missing.is_empty() && not_members.is_empty(),
        "members missing from {DOC}'s crate table: {missing:?}; rows that are not members: {not_members:?}"
    );
    let mut seen = BTreeSet::new();
    for path in &in_table {
        assert!(seen.insert(path), "{DOC}: {path} has two rows");
    }
}

#[test]
fn each_row_names_the_members_package_and_its_workspace_dependencies() {
    let members = members();
    let manifests: BTreeMap<String, Manifest> =
        members.iter().map(|m| (m.clone(), manifest(m))).collect();
    let packages: BTreeSet<&str> = manifests.values().map(|m| m.name.as_str()).collect();
    for row in table() {
        let Some(manifest) = manifests.get(&row.path) else {
            continue; // reported by the test above
        };
        assert_eq!(
            row.name, manifest.name,
            "{DOC}: the crate in {} is named in its Cargo.toml",
            row.path
        );
        let unknown: Vec<&String> = row
            .depends_on
            .iter()
            .filter(|d| !packages.contains(d.as_str()))
            .collect();
        assert!(
            unknown.is_empty(),
            "{DOC}: {}'s \"Depends on\" names crates that are not workspace members: {unknown:?}",
            row.path
        );
        let actual: BTreeSet<String> = manifest
            .dependencies
            .iter()
            .filter(|d| packages.contains(d.as_str()))
            .cloned()
            .collect();
        assert_eq!(
            row.depends_on, actual,
            "{DOC}: {}'s \"Depends on\" (left) vs the workspace crates in its [dependencies] (right)",
            row.path
        );
    }
}

/// Whether a backticked span is a repository path: only path characters, and
/// either under one of [`TOP_DIRS`] or a root file such as `template.yaml`.
fn is_repo_path(span: &str) -> bool {
    let path_chars = span
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'));
    if !path_chars || span.is_empty() {
        return false;
    }
    match span.split_once('/') {
        Some((first, _)) => TOP_DIRS.contains(&first),
        None => {
            TOP_DIRS.contains(&span)
                || (!span.starts_with('.')
                    && ROOT_FILE_EXTENSIONS.iter().any(|ext| span.ends_with(ext)))
        }
    }
}

#[test]
fn every_repository_path_the_page_names_exists() {
    let doc = read(DOC);
    // Code blocks (the diagrams) are not prose: their backticks fence, not quote.
    let mut fenced = false;
    let prose: String = doc
        .lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect::<Vec<_>>()
        .join("\n");
    let paths: BTreeSet<&str> = spans(&prose)
        .into_iter()
        .map(|(_, span)| span)
        .filter(|span| is_repo_path(span))
        .collect();
    assert!(paths.len() >= 40, "paths found in {DOC}: {paths:?}");
    let root = repo_root();
    let missing: Vec<&&str> = paths
        .iter()
        .filter(|path| !root.join(path.trim_end_matches('/')).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "{DOC} names paths that do not exist: {missing:?}"
    );
}

#[test]
fn the_path_check_tells_paths_from_other_code() {
    for path in [
        "crates/asl-engine/src/ports.rs",
        "conformance/",
        "tests",
        "template.yaml",
        "Cargo.toml",
    ] {
        assert!(is_repo_path(path), "{path}");
    }
    for other in [
        "hitl_lambda::process",
        "arn:aws:states:::sns:publish",
        "GET /review",
        ".hitl/outbox",
        "outbox/",
        "crates/<service>-local",
        "X-Amz-Target: AWSStepFunctions.*",
        "main.rs",
    ] {
        assert!(!is_repo_path(other), "{other}");
    }
}

#[test]
fn the_readme_links_the_page() {
    assert!(
        read("README.md").contains(&format!("({DOC})")),
        "README.md does not link {DOC}"
    );
}
