//! The CI check of docs/scale.md's per-review table (issue 19): the bench's counts
//! workload (`hitl-bench --smoke --counts-only`, bench/src/counts.rs) runs two reviews
//! of each kind through `hitl local --debug` and fails unless every one counts the
//! transitions, Lambda invocations, emails and history events the doc says.
//!
//! `hitl` is the debug build beside `hitl-bench`: `cargo test --workspace` builds it
//! for crates/hitl's tests before any test runs. Run alone (`cargo test -p
//! hitl-bench`), this builds it first.

mod common;

#[test]
fn every_review_costs_what_docs_scale_md_says() {
    let (stdout, stderr) = common::smoke("--counts-only", "bench-counts");
    // The table it printed holds both kinds of review, with the doc's figures.
    for row in [
        "| 1 of 1, approved |",
        "| 2 of 3, two reminder rounds, approved |",
    ] {
        assert!(stdout.contains(row), "no row {row}:\n{stdout}");
    }
    assert!(
        stderr.contains("every review counted what docs/scale.md says"),
        "{stderr}"
    );
}
