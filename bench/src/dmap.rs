//! A distributed Map of N items in local mode (issue 18): items per second and the
//! memory of `hitl local`.
//!
//! `hitl local` (the `hitl` the policy table uses) runs the bench's own template,
//! `bench/dmap/template.yaml`: a bucket and two state machines whose distributed Map
//! reads one item per line of a JSONL object in local mode's S3 and runs a Pass-only
//! ItemProcessor on each. `MapToS3` writes the children's results back to the bucket
//! (`ResultWriter`, as a Map of this size must on AWS); `MapToOutput` has no
//! ResultWriter and keeps only the count of the results (`ResultSelector`), the engine
//! without the writer's puts. On AWS a result over 256 KiB fails the Map
//! (`States.DataLimitExceeded`) unless it is exported; sfn-local checks the state's
//! output, after the ResultSelector, so `MapToOutput` measures what the writer costs
//! rather than a workflow for AWS at this N.
//!
//! Why JSONL and not CSV: each line is one JSON item with typed values (CSV rows are
//! objects of strings keyed by a header), which is what a program that lists work
//! items writes; the reader's CSV path is driven at 10,000 rows by
//! crates/hitl/tests/distributed_map_e2e.rs.
//!
//! Per variant, on a fresh `hitl local` (fresh state directory): the N-line object is
//! put with one plain HTTP `PUT` to local mode's port (its `Authorization` header's
//! credential scope names `s3`, which routes it to the local S3; no signature is
//! checked), then one `StartExecution`, then `DescribeExecution` until it is no longer
//! RUNNING. It must end SUCCEEDED with every item accounted for (`count` = N, or the
//! ResultWriter's manifest listing N SUCCEEDED results and no FAILED one), or the
//! workload fails with what happened. Figures: N / (StartExecution → end), the
//! execution's own wall time (its `startDate` → `stopDate`), and `hitl local`'s peak
//! RSS (`VmHWM`), its RSS before the start and after the end (`VmRSS`), and the state
//! directory's size after the run.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::policy::{LocalMode, dir_size};
use crate::server::Kind;
use crate::table::Table;

/// The bucket of bench/dmap/template.yaml.
const BUCKET: &str = "hitl-bench-items";
const KEY: &str = "items.jsonl";
/// A dummy SigV4 header whose credential scope names `s3`: local mode routes the
/// request to its S3 (`s3_local::is_s3_request`) and checks no signature.
const S3_AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, \
                       SignedHeaders=host, Signature=0";
/// How long one execution may run before the workload gives up.
const RUNS_WITHIN: Duration = Duration::from_secs(30 * 60);

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Its `hitl local` runs the template (the template has no function, so the
    /// profile is this binary's: `--debug` would change nothing).
    pub(crate) hitl: PathBuf,
    pub(crate) items: usize,
}

/// A state machine of the template and how its output is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// `MapToS3`: a ResultWriter; the output points at the manifest.
    Writer,
    /// `MapToOutput`: no ResultWriter; the output is `{"count": N}`.
    NoWriter,
}

impl Variant {
    fn machine(self) -> &'static str {
        match self {
            Self::Writer => "MapToS3",
            Self::NoWriter => "MapToOutput",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Writer => "with ResultWriter",
            Self::NoWriter => "no ResultWriter",
        }
    }
}

const VARIANTS: [Variant; 2] = [Variant::Writer, Variant::NoWriter];

/// Figure names, shared with the smoke checks.
fn items_per_s(variant: Variant) -> String {
    format!("{}: items/s (N / StartExecution → end)", variant.label())
}

fn peak_rss(variant: Variant) -> String {
    format!("{}: hitl local peak RSS (VmHWM), MiB", variant.label())
}

/// Every figure the smoke checks insist on.
pub(crate) fn smoke_figures() -> Vec<String> {
    VARIANTS
        .iter()
        .flat_map(|v| [items_per_s(*v), peak_rss(*v)])
        .collect()
}

/// Both variants, each on a fresh `hitl local`.
pub(crate) async fn measure(plan: &Plan, work: &Path) -> anyhow::Result<Table> {
    let repo = crate::startup::repository()?;
    let template = repo.join("bench/dmap/template.yaml");
    if !template.is_file() {
        bail!("no bench template at {}", template.display());
    }
    let body = jsonl(plan.items);
    let mut table = Table::default();
    for variant in VARIANTS {
        eprintln!(
            "hitl-bench: distributed Map: {} items, {}",
            plan.items,
            variant.label()
        );
        let dir = work.join(format!("dmap-{}", variant.machine()));
        let local =
            LocalMode::with_template(false, &plan.hitl, &repo, &template, &dir, &[]).await?;
        let result = run(&local, variant, plan.items, &body, &mut table).await;
        let log = local.log.clone();
        local.stop().await;
        result.with_context(|| format!("hitl local's log: {}", log.display()))?;
        // 100,000 children's state is hundreds of MB: keep only the log.
        let _ = std::fs::remove_dir_all(dir.join("state"));
    }
    Ok(table)
}

/// `n` items, one JSON object per line.
fn jsonl(n: usize) -> String {
    let mut text = String::with_capacity(n * 48);
    for i in 0..n {
        text.push_str(&json!({"id": i, "name": format!("item-{i}"), "n": i % 97}).to_string());
        text.push('\n');
    }
    text
}

async fn run(
    local: &LocalMode,
    variant: Variant,
    n: usize,
    body: &str,
    table: &mut Table,
) -> anyhow::Result<()> {
    let machine = machine_named(local, variant.machine()).await?;
    let s3 = S3::new(local.client.url())?;
    s3.put(BUCKET, KEY, body.to_owned()).await?;
    let rss_before = local.status_kib("VmRSS");

    let started = Instant::now();
    let execution = local.client.start(&machine, &json!({"key": KEY})).await?;
    let done = wait_done(local, &execution).await?;
    let took = started.elapsed().as_secs_f64();
    let (hwm, rss_after) = (local.status_kib("VmHWM"), local.status_kib("VmRSS"));

    if done["status"] != "SUCCEEDED" {
        bail!(
            "{execution} ended {}, expected SUCCEEDED: error {}, cause {}",
            done["status"],
            done["error"],
            done["cause"]
        );
    }
    let output: Value = done["output"]
        .as_str()
        .and_then(|o| serde_json::from_str(o).ok())
        .with_context(|| format!("{execution}: no JSON output: {done}"))?;
    match variant {
        Variant::NoWriter => {
            if output["count"] != json!(n) {
                bail!("{execution}: output {output}, expected {{\"count\": {n}}}");
            }
        }
        Variant::Writer => {
            let results = s3.results(&output).await?;
            if results != n {
                bail!("{execution}: the ResultWriter's files list {results} results, expected {n}");
            }
        }
    }
    let wall = match (done["startDate"].as_f64(), done["stopDate"].as_f64()) {
        (Some(start), Some(stop)) => stop - start,
        _ => bail!("{execution}: DescribeExecution has no startDate/stopDate: {done}"),
    };

    let label = variant.label();
    let mib = |kib: u64| kib as f64 / 1024.0;
    table.record(&items_per_s(variant), Kind::Ours, n as f64 / took);
    table.record(
        &format!("{label}: StartExecution → end, s"),
        Kind::Ours,
        took,
    );
    table.record(
        &format!("{label}: execution wall time (startDate → stopDate), s"),
        Kind::Ours,
        wall,
    );
    table.record(&peak_rss(variant), Kind::Ours, mib(hwm));
    table.record(
        &format!("{label}: hitl local RSS before StartExecution, MiB"),
        Kind::Ours,
        mib(rss_before),
    );
    table.record(
        &format!("{label}: hitl local RSS after the run, MiB"),
        Kind::Ours,
        mib(rss_after),
    );
    table.record(
        &format!("{label}: state dir after the run, MiB"),
        Kind::Ours,
        dir_size(&local.state_dir).0 as f64 / (1024.0 * 1024.0),
    );
    Ok(())
}

/// The ARN of the one state machine whose name holds `name`.
async fn machine_named(local: &LocalMode, name: &str) -> anyhow::Result<String> {
    let listed = local.client.call("ListStateMachines", json!({})).await?;
    let named: Vec<&str> = listed["stateMachines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["name"].as_str().is_some_and(|n| n.contains(name)))
        .filter_map(|m| m["stateMachineArn"].as_str())
        .collect();
    match named.as_slice() {
        [arn] => Ok((*arn).to_owned()),
        _ => bail!("one state machine named like {name} expected, hitl local lists {listed}"),
    }
}

/// `DescribeExecution` until the execution leaves RUNNING (polled at 1, 2, 4, ...
/// 100 ms: a long run is not slowed by the polling, a short one is timed closely).
async fn wait_done(local: &LocalMode, execution: &str) -> anyhow::Result<Value> {
    let deadline = Instant::now() + RUNS_WITHIN;
    let mut pause = Duration::from_millis(1);
    loop {
        let described = local
            .client
            .call("DescribeExecution", json!({"executionArn": execution}))
            .await?;
        if described["status"] != "RUNNING" {
            return Ok(described);
        }
        if Instant::now() > deadline {
            bail!("{execution} still RUNNING after {RUNS_WITHIN:?}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Local mode's S3, path-style, over plain HTTP.
struct S3 {
    http: reqwest::Client,
    url: String,
}

/// One entry of a ResultWriter file: only its status is read.
#[derive(serde::Deserialize)]
struct ResultEntry {
    #[serde(rename = "Status")]
    status: String,
}

impl S3 {
    fn new(url: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .context("could not build the HTTP client")?;
        Ok(Self {
            http,
            url: url.trim_end_matches('/').to_owned(),
        })
    }

    async fn put(&self, bucket: &str, key: &str, body: String) -> anyhow::Result<()> {
        let len = body.len();
        let response = self
            .http
            .put(format!("{}/{bucket}/{key}", self.url))
            .header("Authorization", S3_AUTH)
            .body(body)
            .send()
            .await
            .with_context(|| format!("PUT s3://{bucket}/{key}: no answer from {}", self.url))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            bail!("PUT s3://{bucket}/{key} ({len} bytes): HTTP {status}: {text}");
        }
        Ok(())
    }

    async fn get(&self, bucket: &str, key: &str) -> anyhow::Result<bytes::Bytes> {
        let response = self
            .http
            .get(format!("{}/{bucket}/{key}", self.url))
            .header("Authorization", S3_AUTH)
            .send()
            .await
            .with_context(|| format!("GET s3://{bucket}/{key}: no answer from {}", self.url))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .with_context(|| format!("GET s3://{bucket}/{key}: body"))?;
        if !status.is_success() {
            bail!(
                "GET s3://{bucket}/{key}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(body)
    }

    /// The results the ResultWriter's manifest lists: every entry of its SUCCEEDED
    /// files (each must say so); a FAILED or PENDING file is an error.
    async fn results(&self, output: &Value) -> anyhow::Result<usize> {
        let details = &output["ResultWriterDetails"];
        let (Some(bucket), Some(key)) = (details["Bucket"].as_str(), details["Key"].as_str())
        else {
            bail!("the Map's output has no ResultWriterDetails: {output}");
        };
        let manifest: Value = serde_json::from_slice(&self.get(bucket, key).await?)
            .with_context(|| format!("s3://{bucket}/{key} is not JSON"))?;
        for kind in ["FAILED", "PENDING"] {
            if manifest["ResultFiles"][kind]
                .as_array()
                .is_some_and(|files| !files.is_empty())
            {
                bail!("the manifest lists {kind} results: {manifest}");
            }
        }
        let mut n = 0;
        for file in manifest["ResultFiles"]["SUCCEEDED"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let key = file["Key"]
                .as_str()
                .with_context(|| format!("a result file without a Key: {manifest}"))?;
            let entries: Vec<ResultEntry> =
                serde_json::from_slice(&self.get(bucket, key).await?)
                    .with_context(|| format!("s3://{bucket}/{key} is not an array of results"))?;
            if let Some(other) = entries.iter().find(|e| e.status != "SUCCEEDED") {
                bail!("s3://{bucket}/{key} holds a result {}", other.status);
            }
            n += entries.len();
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_items_are_one_json_object_per_line() {
        let text = jsonl(3);
        let items: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(
            items,
            [
                json!({"id": 0, "name": "item-0", "n": 0}),
                json!({"id": 1, "name": "item-1", "n": 1}),
                json!({"id": 2, "name": "item-2", "n": 2}),
            ]
        );
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn the_template_names_the_bucket_and_both_machines() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("dmap/template.yaml");
        let text = std::fs::read_to_string(&path).expect("bench/dmap/template.yaml");
        assert!(text.contains(&format!("BucketName: {BUCKET}")), "{text}");
        for variant in VARIANTS {
            assert!(
                text.contains(&format!("\n  {}:\n", variant.machine())),
                "no {}",
                variant.machine()
            );
        }
    }
}
