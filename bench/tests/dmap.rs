//! The CI check of the distributed Map workload (issue 18): `hitl-bench --smoke
//! --dmap-only` runs bench/dmap/template.yaml in `hitl local` with 1,000 JSONL items
//! from local mode's S3 and fails unless both executions end SUCCEEDED with every item
//! accounted for (the count in the output, or the ResultWriter's manifest listing 1,000
//! SUCCEEDED results). It checks no speed.
//!
//! `hitl` is the debug build beside `hitl-bench`, built first when missing
//! (tests/common).

mod common;

#[test]
fn a_thousand_items_come_back_from_both_distributed_maps() {
    let (stdout, stderr) = common::smoke("--dmap-only", "bench-dmap");
    assert!(
        stdout.contains("## Distributed Map: 1,000 items from local mode's S3"),
        "{stdout}"
    );
    for row in [
        "| with ResultWriter: items/s (N / StartExecution → end) |",
        "| no ResultWriter: hitl local peak RSS (VmHWM), MiB |",
    ] {
        assert!(stdout.contains(row), "no row {row}:\n{stdout}");
    }
    assert!(
        stderr.contains("both distributed Maps SUCCEEDED with all 1,000 items"),
        "{stderr}"
    );
}
