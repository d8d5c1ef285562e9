//! Approval policies (issue 14) on the real template: `hitl local` (the release build
//! beside this executable, a fresh state directory each time) runs `template.yaml`
//! with its functions, its DynamoDB table and its SNS outbox, and is driven over
//! HTTP as reviewers drive it.
//!
//! - **Reviews per second**: a closed loop of single-reviewer reviews, then of 2 of 3
//!   reviews. One review is `StartExecution`; each reviewer's token from their email,
//!   once every reviewer's email is in the outbox ([`crate::outbox`] says why not
//!   from the history); for 2 of 3 the first
//!   approval, until its Record Vote has finished and the review is still RUNNING;
//!   then the deciding approval, until SUCCEEDED with decision "approved" and that
//!   many votes. The latency is the deciding `SendTaskSuccess` to SUCCEEDED, the
//!   part of a review that a reviewer waits for.
//! - **Bytes per waiting review**: M 2 of 3 reviews started on a fresh instance,
//!   each until its three reviewers are asked, then the growth of the state
//!   directory (by part: Step Functions' SQLite, DynamoDB, the outbox) and of
//!   `hitl local`'s resident set, divided by M.
//!
//! Every review must end as described, or the workload fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::client::Sfn;
use crate::outbox::Outbox;
use crate::server::{Kind, status_kib};
use crate::table::{Table, quantile};

/// Where `hitl local`'s decision email goes (the template requires one).
const DECISION_EMAIL: &str = "DecisionEmail=decisions@example.com";
const ONE: &str = "ReviewerEmails=a@example.com";
const THREE: &str = "ReviewerEmails=a@example.com,b@example.com,c@example.com";
/// The requester is none of the reviewers, so every reviewer is asked.
const REQUESTED_BY: &str = "requester@example.com";
/// The first start builds the functions (minutes when nothing is compiled yet).
const READY_WITHIN: Duration = Duration::from_secs(30 * 60);
const STOP_WITHIN: Duration = Duration::from_secs(30);

/// The counts of one policy run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) hitl: PathBuf,
    /// Run `hitl local --debug` (the functions in the dev profile), as `--smoke` does.
    pub(crate) debug: bool,
    pub(crate) runs: usize,
    pub(crate) reviews: usize,
    pub(crate) clients: Vec<usize>,
    pub(crate) waiting: usize,
}

/// A policy: the parameter overrides, how many reviewers are asked and how many approve.
struct Policy {
    label: &'static str,
    reviewers_param: &'static str,
    required: &'static str,
    reviewers: usize,
    approvals: usize,
}

const SINGLE: Policy = Policy {
    label: "single reviewer",
    reviewers_param: ONE,
    required: "RequiredApprovals=1",
    reviewers: 1,
    approvals: 1,
};
const TWO_OF_THREE: Policy = Policy {
    label: "2 of 3",
    reviewers_param: THREE,
    required: "RequiredApprovals=2",
    reviewers: 3,
    approvals: 2,
};

/// Figure names, shared with the smoke checks.
pub(crate) mod fig {
    pub(crate) const WAIT_TOTAL: &str =
        "2 of 3 waiting: state dir growth per waiting review, bytes";
    pub(crate) const WAIT_RSS: &str =
        "2 of 3 waiting: hitl local RSS growth per waiting review, bytes";
}

fn reviews_per_s(policy: &Policy, clients: usize) -> String {
    format!(
        "{}, {}: reviews/s",
        policy.label,
        crate::clients_label(clients)
    )
}

/// Every figure of the policy workloads, in one table.
pub(crate) async fn measure(plan: &Plan, work: &Path) -> anyhow::Result<Table> {
    let repo = crate::startup::repository()?;
    let mut table = Table::default();
    for policy in [&SINGLE, &TWO_OF_THREE] {
        let dir = work.join(format!("policy-{}", policy.reviewers));
        let local = LocalMode::start(plan, &repo, &dir, policy).await?;
        for run in 1..=plan.runs {
            for &clients in &plan.clients {
                eprintln!(
                    "hitl-bench: local mode: run {run}: {} {} reviews, {}",
                    plan.reviews,
                    policy.label,
                    crate::clients_label(clients)
                );
                let r = reviews(&local, policy, plan.reviews, clients).await;
                let r = match r {
                    Ok(r) => r,
                    Err(e) => {
                        let log = local.log.clone();
                        local.stop().await;
                        return Err(e.context(format!("hitl local's log: {}", log.display())));
                    }
                };
                let what = format!("{}, {}", policy.label, crate::clients_label(clients));
                table.record(&reviews_per_s(policy, clients), Kind::Ours, r.per_second);
                table.record(
                    &format!("{what}: decide → SUCCEEDED p50, ms"),
                    Kind::Ours,
                    r.p50_ms,
                );
                table.record(
                    &format!("{what}: decide → SUCCEEDED p95, ms"),
                    Kind::Ours,
                    r.p95_ms,
                );
            }
        }
        local.stop().await;
    }
    for run in 1..=plan.runs {
        eprintln!(
            "hitl-bench: local mode: run {run}: {} 2 of 3 reviews waiting",
            plan.waiting
        );
        let dir = work.join(format!("policy-waiting-{run}"));
        waiting(plan, &repo, &dir, &mut table).await?;
        // Keep the log, drop the state (the outbox alone is thousands of files).
        let _ = std::fs::remove_dir_all(dir.join("state"));
    }
    Ok(table)
}

/// Checks that `--smoke --policy-only` measured every figure.
pub(crate) fn smoke_figures(plan: &Plan) -> Vec<String> {
    let mut figures = Vec::new();
    for policy in [&SINGLE, &TWO_OF_THREE] {
        for &clients in &plan.clients {
            figures.push(reviews_per_s(policy, clients));
        }
    }
    figures.push(fig::WAIT_TOTAL.to_owned());
    figures
}

/// `hitl local`, running as its own process.
pub(crate) struct LocalMode {
    pub(crate) client: Sfn,
    pub(crate) machine: String,
    pub(crate) outbox: Arc<Outbox>,
    child: tokio::process::Child,
    pid: u32,
    pub(crate) state_dir: PathBuf,
    pub(crate) log: PathBuf,
}

impl LocalMode {
    /// Starts `hitl local` on `template.yaml` of `repo` with `policy`, a free port and
    /// `dir/state`, and waits until it serves.
    async fn start(plan: &Plan, repo: &Path, dir: &Path, policy: &Policy) -> anyhow::Result<Self> {
        Self::with_parameters(
            plan.debug,
            &plan.hitl,
            repo,
            dir,
            &[policy.reviewers_param, policy.required],
        )
        .await
    }

    /// Starts `hitl local` (`--debug`: the functions in the dev profile) on
    /// `template.yaml` of `repo` with these parameter overrides (beside the decision
    /// email), a free port and `dir/state`, and waits until it serves.
    pub(crate) async fn with_parameters(
        debug: bool,
        hitl: &Path,
        repo: &Path,
        dir: &Path,
        parameters: &[&str],
    ) -> anyhow::Result<Self> {
        let mut all = vec![DECISION_EMAIL];
        all.extend_from_slice(parameters);
        Self::with_template(debug, hitl, repo, &repo.join("template.yaml"), dir, &all).await
    }

    /// Starts `hitl local` (`--debug`: the functions in the dev profile) on `template`,
    /// in `repo`, with these parameter overrides (none: no `--parameter-overrides`), a
    /// free port and `dir/state`, and waits until it serves; `machine` is the first
    /// state machine it lists.
    pub(crate) async fn with_template(
        debug: bool,
        hitl: &Path,
        repo: &Path,
        template: &Path,
        dir: &Path,
        parameters: &[&str],
    ) -> anyhow::Result<Self> {
        let state_dir = dir.join("state");
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let log = dir.join("hitl-local.log");
        let out = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .context("no free port")?;
        let mut command = tokio::process::Command::new(hitl);
        // No developer's samconfig.toml (stack name, region) is read.
        command
            .args(["--config-file", "/nonexistent/samconfig.toml", "local"])
            .arg("--template")
            .arg(template)
            .args(["--port", &port.to_string(), "--state-dir"])
            .arg(&state_dir);
        if !parameters.is_empty() {
            command.arg("--parameter-overrides").args(parameters);
        }
        if debug {
            command.arg("--debug");
        }
        let started = Instant::now();
        let child = command
            .current_dir(repo)
            .env("CARGO_TERM_COLOR", "never")
            .stdin(Stdio::null())
            .stdout(out.try_clone().context("log handle")?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {}", hitl.display()))?;
        let pid = child.id().context("hitl local exited at once")?;
        let client = Sfn::new(&format!("http://127.0.0.1:{port}"))?;
        let mut local = Self {
            client,
            machine: String::new(),
            outbox: Arc::new(Outbox::watch(&state_dir.join("outbox"))?),
            child,
            pid,
            state_dir,
            log,
        };
        // Until its functions are built it answers 503 "not ready yet".
        let listed = loop {
            if let Ok(listed) = local.client.call("ListStateMachines", json!({})).await {
                break listed;
            }
            if let Ok(Some(status)) = local.child.try_wait() {
                bail!(
                    "hitl local exited ({status}) before it was ready; see {}",
                    local.log.display()
                );
            }
            if started.elapsed() > READY_WITHIN {
                let log = local.log.clone();
                local.stop().await;
                bail!(
                    "hitl local was not ready within {READY_WITHIN:?}; see {}",
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        local.machine = listed["stateMachines"]
            .as_array()
            .and_then(|machines| machines.first())
            .and_then(|m| m["stateMachineArn"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("hitl local lists no state machine: {listed}"))?;
        Ok(local)
    }

    /// `hitl local`'s own resident set, KiB: the engine, DynamoDB and SNS live in it.
    fn rss_kib(&self) -> u64 {
        status_kib(self.pid, "VmRSS")
    }

    /// A field of `hitl local`'s own /proc/PID/status, KiB (`VmRSS`, `VmHWM`).
    pub(crate) fn status_kib(&self, field: &str) -> u64 {
        status_kib(self.pid, field)
    }

    /// With the function processes it started (each function's warm instances).
    fn tree_rss_kib(&self) -> u64 {
        descendants(self.pid)
            .into_iter()
            .map(|pid| status_kib(pid, "VmRSS"))
            .sum()
    }

    /// SIGTERM, as a user's Ctrl-C (it stops its function processes), then SIGKILL.
    pub(crate) async fn stop(mut self) {
        if let Some(pid) = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        if tokio::time::timeout(STOP_WITHIN, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// `pid` and every process below it (parent pid, field 4 of /proc/PID/stat).
fn descendants(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|p| {
                    let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
                    // The command name may hold spaces and parentheses: fields start after the last ')'.
                    let rest = &stat[stat.rfind(')')? + 2..];
                    Some((p, rest.split(' ').nth(1)?.parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree
}

/// What one closed-loop run of reviews measured.
struct Run {
    per_second: f64,
    p50_ms: f64,
    p95_ms: f64,
}

/// `n` reviews by `clients` concurrent clients, each starting its next review as soon as
/// its last one ended (closed loop).
async fn reviews(
    local: &LocalMode,
    policy: &Policy,
    n: usize,
    clients: usize,
) -> anyhow::Result<Run> {
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (c, machine, outbox) = (
            local.client.clone(),
            local.machine.clone(),
            local.outbox.clone(),
        );
        let (next, latencies) = (next.clone(), latencies.clone());
        let (reviewers, approvals) = (policy.reviewers, policy.approvals);
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let decided = review(&c, &machine, &outbox, reviewers, approvals).await?;
                latencies
                    .lock()
                    .map_err(|_| anyhow::anyhow!("latency list poisoned"))?
                    .push(decided.as_secs_f64() * 1000.0);
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await.context("a client task panicked")??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut sorted = latencies
        .lock()
        .map_err(|_| anyhow::anyhow!("latency list poisoned"))?
        .clone();
    sorted.sort_by(f64::total_cmp);
    Ok(Run {
        per_second: n as f64 / elapsed,
        p50_ms: quantile(&sorted, 0.5),
        p95_ms: quantile(&sorted, 0.95),
    })
}

pub(crate) fn request() -> Value {
    json!({"title": "hitl-bench review", "requestedBy": REQUESTED_BY, "amount": 129.9})
}

/// One review to its decision; returns the time from the deciding approval to SUCCEEDED.
async fn review(
    c: &Sfn,
    machine: &str,
    outbox: &Outbox,
    reviewers: usize,
    approvals: usize,
) -> anyhow::Result<Duration> {
    let execution = c.start(machine, &request()).await?;
    let tokens = asked(c, outbox, &execution, reviewers).await?;
    for token in &tokens[..approvals - 1] {
        c.send_task_success(token).await?;
        // The vote is counted and did not decide: the review still waits.
        let mut pause = Duration::from_millis(1);
        while exited(c, &execution, "Record Vote").await? == 0 {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
        let status = c
            .call("DescribeExecution", json!({"executionArn": execution}))
            .await?["status"]
            .clone();
        if status != "RUNNING" {
            bail!("{execution} is {status} after one of {approvals} approvals, expected RUNNING");
        }
    }
    let decide = Instant::now();
    c.send_task_success(&tokens[approvals - 1]).await?;
    let done = c.wait_described(&execution).await?;
    let took = decide.elapsed();
    let output: Value = done["output"]
        .as_str()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or(Value::Null);
    let votes = output["votes"].as_array().map_or(0, Vec::len);
    if done["status"] != "SUCCEEDED" || output["decision"] != "approved" || votes != approvals {
        bail!(
            "{execution} ended {} with decision {} and {votes} vote(s), expected SUCCEEDED, approved, {approvals}",
            done["status"],
            output["decision"]
        );
    }
    Ok(took)
}

/// The history's events (a review's history is well under one page of 1,000).
pub(crate) async fn history(c: &Sfn, execution: &str) -> anyhow::Result<Vec<Value>> {
    let v = c
        .call(
            "GetExecutionHistory",
            json!({"executionArn": execution, "maxResults": 1000}),
        )
        .await?;
    Ok(v["events"].as_array().cloned().unwrap_or_default())
}

pub(crate) async fn exited(c: &Sfn, execution: &str, state: &str) -> anyhow::Result<usize> {
    Ok(history(c, execution)
        .await?
        .iter()
        .filter(|e| e["stateExitedEventDetails"]["name"] == state)
        .count())
}

/// Waits until each of `reviewers` has their email in the outbox and returns the
/// tokens from the emails.
pub(crate) async fn asked(
    c: &Sfn,
    outbox: &Outbox,
    execution: &str,
    reviewers: usize,
) -> anyhow::Result<Vec<String>> {
    let name = execution.rsplit(':').next().unwrap_or(execution);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(tokens) = outbox.tokens(name, reviewers) {
            if tokens.len() != reviewers {
                bail!(
                    "{execution}: {} review requests in the outbox, expected one for each of {reviewers}",
                    tokens.len()
                );
            }
            return Ok(tokens);
        }
        if Instant::now() > deadline {
            let described = c
                .call("DescribeExecution", json!({"executionArn": execution}))
                .await?;
            bail!(
                "{execution}: not all {reviewers} reviewers were emailed within 2 minutes; it is {}",
                described["status"]
            );
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Bytes under `dir`: file lengths and allocated blocks.
pub(crate) fn dir_size(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt as _;
    let mut total = (0, 0);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return total;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            let (len, blocks) = dir_size(&entry.path());
            total.0 += len;
            total.1 += blocks;
        } else {
            total.0 += meta.len();
            total.1 += meta.blocks() * 512;
        }
    }
    total
}

/// The state directory's parts, each as (what, bytes, allocated bytes), always in
/// this order: Step Functions (everything but the two below: its SQLite files and
/// the lock), DynamoDB, the outbox.
fn state_parts(state_dir: &Path) -> [(&'static str, u64, u64); 3] {
    use std::os::unix::fs::MetadataExt as _;
    let mut parts = [
        ("Step Functions (SQLite)", 0, 0),
        ("DynamoDB (the review table)", 0, 0),
        ("the outbox (3 emails each)", 0, 0),
    ];
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return parts;
    };
    for entry in entries.flatten() {
        let (len, blocks) = if entry.path().is_dir() {
            dir_size(&entry.path())
        } else {
            entry
                .metadata()
                .map(|m| (m.len(), m.blocks() * 512))
                .unwrap_or_default()
        };
        let part = match entry.file_name().to_str() {
            Some("dynamodb") => 1,
            Some("outbox") => 2,
            _ => 0,
        };
        parts[part].1 += len;
        parts[part].2 += blocks;
    }
    parts
}

/// M 2 of 3 reviews waiting on a fresh instance: disk and memory per waiting review.
async fn waiting(plan: &Plan, repo: &Path, dir: &Path, table: &mut Table) -> anyhow::Result<()> {
    let local = LocalMode::start(plan, repo, dir, &TWO_OF_THREE).await?;
    let result = waiting_on(&local, plan.waiting, table).await;
    let log = local.log.clone();
    local.stop().await;
    result.with_context(|| format!("hitl local's log: {}", log.display()))
}

async fn waiting_on(local: &LocalMode, m: usize, table: &mut Table) -> anyhow::Result<()> {
    // A few reviews first, so that the function processes are up and the one-time
    // growth (caches, the first pages of each file) is not charged to the reviews.
    let warm = m.clamp(1, 10);
    reviews(local, &TWO_OF_THREE, warm, 3).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_parts = state_parts(&local.state_dir);
    let rss_before = local.rss_kib();

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (c, machine, outbox) = (
            local.client.clone(),
            local.machine.clone(),
            local.outbox.clone(),
        );
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < m {
                let execution = c.start(&machine, &request()).await?;
                asked(&c, &outbox, &execution, 3).await?;
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await.context("a client task panicked")??;
    }
    let fill = m as f64 / started.elapsed().as_secs_f64();
    // Let the last writes (SQLite's WAL, the outbox) land before reading.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let running = local.client.count(&local.machine, "RUNNING").await?;
    if running != m {
        bail!("{running} reviews are RUNNING, expected the {m} started");
    }
    let after_parts = state_parts(&local.state_dir);
    let (rss_after, tree_after) = (local.rss_kib(), local.tree_rss_kib());

    let per = |before: u64, after: u64| after.saturating_sub(before) as f64 / m as f64;
    table.record(
        "2 of 3 waiting: parked (start → 3 reviewers asked) per s",
        Kind::Ours,
        fill,
    );
    let sum = |parts: &[(&str, u64, u64); 3], blocks: bool| -> u64 {
        parts.iter().map(|p| if blocks { p.2 } else { p.1 }).sum()
    };
    table.record(
        fig::WAIT_TOTAL,
        Kind::Ours,
        per(sum(&before_parts, false), sum(&after_parts, false)),
    );
    for (before, after) in before_parts.iter().zip(&after_parts) {
        table.record(
            &format!("2 of 3 waiting: of which {}, bytes", after.0),
            Kind::Ours,
            per(before.1, after.1),
        );
    }
    table.record(
        "2 of 3 waiting: state dir growth per waiting review, allocated blocks, bytes",
        Kind::Ours,
        per(sum(&before_parts, true), sum(&after_parts, true)),
    );
    table.record(
        fig::WAIT_RSS,
        Kind::Ours,
        per(rss_before * 1024, rss_after * 1024),
    );
    table.record(
        "2 of 3 waiting: hitl local RSS with all waiting, MiB",
        Kind::Ours,
        rss_after as f64 / 1024.0,
    );
    // The function processes are warm instances, as many as the fill ran at once: a
    // cost per instance, not per waiting review, so shown whole.
    table.record(
        "2 of 3 waiting: function processes (warm instances) running",
        Kind::Ours,
        descendants(local.pid).len().saturating_sub(1) as f64,
    );
    table.record(
        "2 of 3 waiting: their RSS together, MiB",
        Kind::Ours,
        tree_after.saturating_sub(rss_after) as f64 / 1024.0,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_dir_is_split_into_step_functions_dynamodb_and_the_outbox() {
        let dir = std::env::temp_dir().join(format!("hitl-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("outbox")).expect("outbox");
        std::fs::create_dir_all(dir.join("dynamodb/tables")).expect("dynamodb");
        std::fs::write(dir.join("outbox/1.eml"), [0u8; 300]).expect("email");
        std::fs::write(dir.join("outbox/2.eml"), [0u8; 200]).expect("email");
        std::fs::write(dir.join("dynamodb/tables/t.db"), [0u8; 70]).expect("table");
        std::fs::write(dir.join("sfn.db"), [0u8; 1000]).expect("sqlite");
        std::fs::write(dir.join("sfn.db-wal"), [0u8; 24]).expect("wal");
        let parts = state_parts(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let lengths: Vec<(&str, u64)> = parts.iter().map(|(n, len, _)| (*n, *len)).collect();
        assert_eq!(
            lengths,
            [
                ("Step Functions (SQLite)", 1024),
                ("DynamoDB (the review table)", 70),
                ("the outbox (3 emails each)", 500),
            ]
        );
        // Each small file takes at least one block on disk.
        assert!(parts[2].2 >= 2 * 512, "{parts:?}");
    }

    #[test]
    fn a_process_tree_holds_the_process_and_its_children() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep runs");
        let tree = descendants(std::process::id());
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(tree.first(), Some(&std::process::id()));
        assert!(tree.contains(&child.id()), "{tree:?}");
    }
}
