//! `hitl-bench`: the benchmark of issue 3 and the comparison table of issue 6.
//!
//! It starts each Step Functions server as its own process (sfn-local, and moto and
//! LocalStack when given), drives it over HTTP with the same client, and prints one
//! Markdown table: min / median / max over `--runs` runs of each figure, and the ratio
//! of medians ours/theirs. Then the Lambda table: the real Process Approval `bootstrap`
//! against the same function in Python under awslambdaric, both hosted by lambda-local.
//! `bench/run.sh` installs the comparisons and runs it all; `--smoke` is the CI check
//! (seconds; it checks that every execution ended SUCCEEDED, not speed).
//! `--local-start` adds the first start of `hitl local` on a fresh clone and a restart
//! (minutes; `--local-start-only` runs just that).
//! The last table is approval policies on the real template in local mode: single and
//! 2 of 3 reviews per second, and bytes per waiting review (`--policy-only` runs just
//! that; `--smoke --policy-only` is its seconds-long check).
//! Then a distributed Map of `--dmap-items` (100,000) items read from local mode's S3
//! with a Pass-only ItemProcessor: items per second and `hitl local`'s memory
//! (`--dmap-only`; `--smoke` runs 1,000 items and checks every one came back).
//! Then what one review costs in billed units (transitions, Lambda invocations, emails,
//! history events), counted from real reviews and checked against docs/scale.md
//! (`--counts-only`; `--smoke --counts-only` is the CI check).
//!
//! Progress goes to stderr, the tables to stdout.

mod client;
mod counts;
mod dmap;
mod lambda;
mod outbox;
mod policy;
mod server;
mod startup;
mod table;
mod workloads;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use server::{Kind, Launch, Server};
use table::Table;
use workloads::fig;

/// Benchmarks the local Step Functions engine (and moto / LocalStack) and Lambda cold starts.
#[derive(Debug, Parser)]
#[command(name = "hitl-bench", version)]
struct Args {
    /// CI mode: small counts, sfn-local and the Rust function only; fails unless every
    /// execution ended SUCCEEDED and every figure is a number.
    #[arg(long)]
    smoke: bool,
    /// Repeated runs of each figure (the table shows min / median / max).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Runs of the waiting workload (each on a fresh server); default: --runs.
    #[arg(long)]
    waiting_runs: Option<usize>,
    /// Pass/Choice executions per run and client count, against sfn-local.
    #[arg(long, default_value_t = 5000)]
    executions: usize,
    /// Callback round trips per run and client count, against sfn-local.
    #[arg(long, default_value_t = 2000)]
    callbacks: usize,
    /// Client counts of the Pass/Choice and callback workloads (closed loop).
    #[arg(long, value_delimiter = ',', default_value = "1,32")]
    clients: Vec<usize>,
    /// Executions parked on task tokens, against sfn-local.
    #[arg(long, default_value_t = 100_000)]
    waiting: usize,
    /// Executions and callback round trips per run against moto and LocalStack.
    #[arg(long, default_value_t = 100)]
    others_executions: usize,
    /// Executions parked on task tokens against moto and LocalStack.
    #[arg(long, default_value_t = 500)]
    others_waiting: usize,
    /// The sfn-local binary; default: the one beside this executable.
    #[arg(long)]
    sfn_local: Option<PathBuf>,
    /// moto's `moto_server` (from `pip install 'moto[server]'`); without it moto is not run.
    #[arg(long)]
    moto: Option<PathBuf>,
    /// A Python with `localstack-core[runtime]` (which needs Python >= 3.13); LocalStack
    /// runs in host mode (`python -m localstack.runtime.main`).
    #[arg(long)]
    localstack: Option<PathBuf>,
    /// Why LocalStack is not run (printed in the table instead of its figures).
    #[arg(long, conflicts_with = "localstack")]
    localstack_skipped: Option<String>,
    /// The Rust Process Approval function; default: `process_approval` beside this executable.
    #[arg(long)]
    rust_function: Option<PathBuf>,
    /// A Python with awslambdaric and boto3, for the Python function; without it only
    /// the Rust function is measured.
    #[arg(long)]
    python: Option<PathBuf>,
    /// `cargo lambda build --release --arm64 --output-format zip` output of the Rust function.
    #[arg(long)]
    rust_zip: Option<PathBuf>,
    /// The Python function's deployment zip.
    #[arg(long)]
    python_zip: Option<PathBuf>,
    /// Each function's arm64 deployment zip, as NAME=PATH (repeatable), for the size rows.
    #[arg(long, value_parser = parse_named_path)]
    function_zip: Vec<(String, PathBuf)>,
    /// Also time `hitl local` on a fresh clone of this repository (empty target/, so it
    /// compiles everything: minutes, all cores) to its Ready line, and a restart.
    #[arg(long)]
    local_start: bool,
    /// Only the `--local-start` measurement.
    #[arg(long, conflicts_with = "smoke")]
    local_start_only: bool,
    /// Time the optimised start (`cargo run --release -p hitl -- local`) instead of the
    /// README's quick start (cargo's dev profile).
    #[arg(long)]
    local_start_release: bool,
    /// The `hitl` binary whose `hitl local` runs the template for the policy table;
    /// default: the one beside this executable.
    #[arg(long)]
    hitl: Option<PathBuf>,
    /// Reviews per run and client count, each policy (single reviewer, 2 of 3).
    #[arg(long, default_value_t = 200)]
    reviews: usize,
    /// 2 of 3 reviews left waiting, for the bytes per waiting review.
    #[arg(long, default_value_t = 1000)]
    waiting_reviews: usize,
    /// Only the approval policy table (with --smoke: its small check, `hitl local
    /// --debug`, a few reviews).
    #[arg(long, conflicts_with_all = ["local_start", "local_start_only"])]
    policy_only: bool,
    /// Reviews of each kind whose billed units are counted (--smoke: 2).
    #[arg(long, default_value_t = 10)]
    counted_reviews: usize,
    /// Only the per-review counts, checked against docs/scale.md (with --smoke: `hitl
    /// local --debug`, two reviews of each kind).
    #[arg(long, conflicts_with_all = ["local_start", "local_start_only", "policy_only"])]
    counts_only: bool,
    /// Only the Step Functions table (sfn-local, and moto / LocalStack when given): no
    /// Lambda, policy or count tables. `--waiting-runs 0` leaves out the waiting rows too.
    #[arg(long, conflicts_with_all = ["local_start_only", "policy_only", "counts_only"])]
    engine_only: bool,
    /// Items of the distributed Map workload (--smoke: 1,000).
    #[arg(long, default_value_t = 100_000)]
    dmap_items: usize,
    /// Only the distributed Map workload (with --smoke: 1,000 items), on `hitl local`
    /// (--hitl).
    #[arg(long, conflicts_with_all = ["local_start", "local_start_only", "policy_only", "counts_only", "engine_only"])]
    dmap_only: bool,
    /// Scratch directory for state directories and logs (emptied first).
    #[arg(long, default_value = "target/bench-work")]
    work_dir: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hitl-bench: could not start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hitl-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn parse_named_path(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_owned(), PathBuf::from(path)))
        }
        _ => Err(format!("expected NAME=PATH, got {text}")),
    }
}

fn beside_me(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("cannot find this executable's path")?;
    Ok(me.with_file_name(name))
}

async fn run(mut args: Args) -> anyhow::Result<()> {
    // Functions run in their own working directories: make every path absolute (not
    // canonical: a venv's python must keep its own path to find its packages).
    for path in [
        &mut args.sfn_local,
        &mut args.moto,
        &mut args.localstack,
        &mut args.rust_function,
        &mut args.python,
        &mut args.hitl,
    ]
    .into_iter()
    .flatten()
    {
        *path = std::path::absolute(&*path)
            .with_context(|| format!("cannot make {} absolute", path.display()))?;
    }
    if args.smoke {
        args.runs = 1;
        args.waiting_runs = Some(1);
        args.executions = 200;
        args.callbacks = 100;
        args.clients = vec![1, 32];
        args.waiting = 500;
        args.moto = None;
        args.localstack = None;
        args.reviews = 3;
        args.waiting_reviews = 5;
        args.counted_reviews = 2;
        args.dmap_items = 1000;
    }
    let policy_plan = policy::Plan {
        hitl: match args.hitl.clone() {
            Some(p) => p,
            None => beside_me("hitl")?,
        },
        debug: args.smoke,
        runs: args.runs,
        reviews: args.reviews,
        clients: vec![1, 4],
        waiting: args.waiting_reviews,
    };
    // Not in the plain --smoke: it needs hitl and every function of the template built
    // (see the README's Benchmarks section).
    let run_policy = (args.policy_only || args.counts_only || !args.smoke) && !args.engine_only;
    let dmap_plan = dmap::Plan {
        hitl: policy_plan.hitl.clone(),
        items: args.dmap_items,
    };
    // In the plain --smoke only when hitl is built: scripts/test.sh's bench-smoke stage
    // builds sfn-local, Process Approval and hitl-bench (hitl is built by the cargo-test
    // stage before it); bench/tests/dmap.rs always runs it.
    let run_dmap = args.dmap_only
        || (!args.engine_only
            && !args.policy_only
            && !args.counts_only
            && !args.local_start_only
            && (!args.smoke || dmap_plan.hitl.is_file()));
    if args.smoke && !run_dmap && !args.engine_only && !args.policy_only && !args.counts_only {
        eprintln!(
            "hitl-bench: smoke: the distributed Map workload is not run: no hitl at {} \
             (cargo build -p hitl, then hitl-bench --smoke --dmap-only runs it)",
            dmap_plan.hitl.display()
        );
    }
    if (run_policy || run_dmap) && !policy_plan.hitl.is_file() {
        bail!(
            "no hitl at {}: build it first (cargo build --release -p hitl) or pass --hitl",
            policy_plan.hitl.display()
        );
    }
    let sfn_local = match args.sfn_local.clone() {
        Some(p) => p,
        None => beside_me("sfn-local")?,
    };
    if !sfn_local.is_file()
        && !args.local_start_only
        && !args.policy_only
        && !args.counts_only
        && !args.dmap_only
    {
        bail!(
            "no sfn-local at {}: build it first (cargo build --release -p sfn-local) or pass --sfn-local",
            sfn_local.display()
        );
    }
    let work = std::path::absolute(&args.work_dir).context("work dir")?;
    // Emptied first, but only a directory this bench made (it holds MARKER, or it is in
    // cargo's target/, where earlier versions put it), or an empty one: a mistyped
    // --work-dir must not delete somebody's files.
    const MARKER: &str = ".hitl-bench-work";
    let in_target = std::env::current_dir().is_ok_and(|cwd| work.starts_with(cwd.join("target")));
    let is_ours = in_target || work.join(MARKER).is_file();
    let is_empty = std::fs::read_dir(&work).map_or(true, |mut d| d.next().is_none());
    if !is_ours && !is_empty {
        bail!(
            "--work-dir {} is not empty and not a hitl-bench work directory; \
             choose a new or empty directory (default: target/bench-work)",
            work.display()
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    std::fs::write(
        work.join(MARKER),
        "scratch space of hitl-bench; emptied on every run\n",
    )
    .with_context(|| format!("cannot write in {}", work.display()))?;

    if args.local_start || args.local_start_only {
        let repo = startup::repository()?;
        let work = work.clone();
        let release = args.local_start_release;
        let figures = tokio::task::spawn_blocking(move || startup::measure(&repo, &work, release))
            .await
            .context("the local start measurement stopped")??;
        println!("## Local mode: first start of a fresh clone, and a restart\n");
        println!("{}", startup::render(&figures));
        if args.local_start_only {
            return Ok(());
        }
    }

    if args.policy_only {
        return policies(&args, &policy_plan, &work).await;
    }
    if args.counts_only {
        return counts::measure(args.smoke, &policy_plan.hitl, args.counted_reviews, &work).await;
    }
    if args.dmap_only {
        return distributed_map(&args, &dmap_plan, &work).await;
    }

    let mut table = Table::default();
    let mut launches = vec![Launch {
        kind: Kind::Ours,
        program: sfn_local,
        ready_within: Duration::from_secs(30),
    }];
    match &args.moto {
        Some(p) => launches.push(Launch {
            kind: Kind::Moto,
            program: p.clone(),
            ready_within: Duration::from_secs(60),
        }),
        None if !args.smoke => table.note_column(Kind::Moto, "not run (no --moto)"),
        None => {}
    }
    match (&args.localstack, &args.localstack_skipped) {
        (Some(p), _) => launches.push(Launch {
            kind: Kind::LocalStack,
            program: p.clone(),
            ready_within: Duration::from_secs(180),
        }),
        (None, Some(why)) => table.note_column(Kind::LocalStack, &format!("not run: {why}")),
        (None, None) if !args.smoke => {
            table.note_column(Kind::LocalStack, "not run (no --localstack)");
        }
        (None, None) => {}
    }

    let mut columns = vec![(Kind::Ours, "sfn-local (ours)")];
    for launch in &launches {
        let kind = launch.kind;
        if kind != Kind::Ours {
            columns.push((kind, kind.label()));
        }
        if let Err(e) = engine(&args, launch, &work, &mut table).await {
            if kind == Kind::Ours {
                return Err(e.context("sfn-local"));
            }
            // A comparison that cannot run is reported in the table, not fatal.
            eprintln!("hitl-bench: {}: {e:#}", kind.label());
            table.note_column(kind, &format!("failed: {}", one_line(&e)));
        }
    }
    // The full table always shows both comparisons, run or not (the notes say why not).
    for kind in [Kind::Moto, Kind::LocalStack] {
        if !args.smoke && !columns.iter().any(|(k, _)| *k == kind) {
            columns.push((kind, kind.label()));
        }
    }
    columns.sort_by_key(|(kind, _)| table::COLUMNS.iter().position(|k| k == kind));

    let lambda_table = if args.engine_only {
        None
    } else {
        Some(lambdas(&args, &work).await?)
    };
    if args.smoke {
        smoke_checks(&table, lambda_table.as_ref())?;
    }

    println!("## Step Functions: sfn-local against moto and LocalStack\n");
    println!(
        "min / median / max over {} runs ({} for the waiting rows); ratio of medians. \
         Counts per run: sfn-local {} Pass/Choice executions, {} callback round trips, {} waiting; \
         moto and LocalStack {} and {} waiting.\n",
        args.runs,
        args.waiting_runs.unwrap_or(args.runs),
        args.executions,
        args.callbacks,
        args.waiting,
        args.others_executions,
        args.others_waiting
    );
    println!("{}", table.render(&columns));
    let Some(lambda_table) = lambda_table else {
        return Ok(());
    };
    println!("## Lambda: Process Approval, Rust bootstrap against Python (awslambdaric)\n");
    println!(
        "min / median / max over {} cold starts, each followed by {} warm invocations; ratio of medians.\n",
        args.runs,
        if args.smoke {
            3
        } else {
            lambda::WARM_INVOCATIONS
        }
    );
    // The Python column names the Python it ran (the machine's, not Lambda's runtime).
    let python_label = match &args.python {
        Some(python) => std::process::Command::new(python)
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|v| !v.is_empty())
            .map_or_else(
                || "Python + awslambdaric".to_owned(),
                |v| format!("{v} + awslambdaric"),
            ),
        None => "Python + awslambdaric".to_owned(),
    };
    let mut lambda_columns = vec![(Kind::Ours, "Rust bootstrap")];
    if args.python.is_some() || !args.smoke {
        lambda_columns.push((Kind::Moto, python_label.as_str()));
    }
    println!("{}", lambda_table.render(&lambda_columns));
    if run_policy {
        policies(&args, &policy_plan, &work).await?;
        counts::measure(args.smoke, &policy_plan.hitl, args.counted_reviews, &work).await?;
    }
    if run_dmap {
        distributed_map(&args, &dmap_plan, &work).await?;
    }
    Ok(())
}

/// The distributed Map table: `hitl local` on bench/dmap/template.yaml.
async fn distributed_map(args: &Args, plan: &dmap::Plan, work: &Path) -> anyhow::Result<()> {
    let table = dmap::measure(plan, work).await?;
    if args.smoke {
        for figure in dmap::smoke_figures() {
            check_figure(&table, &figure)?;
        }
        eprintln!(
            "hitl-bench: smoke: both distributed Maps SUCCEEDED with all {} items, every figure is a positive number",
            table::num(plan.items as f64)
        );
    }
    let items = table::num(plan.items as f64);
    println!("\n## Distributed Map: {items} items from local mode's S3\n");
    println!(
        "One execution per row group, each on a fresh `hitl local` ({}) running \
         bench/dmap/template.yaml: a distributed Map reads {items} JSONL items from local mode's \
         S3 and runs a Pass-only ItemProcessor on each, with a ResultWriter (results \
         written back to S3) and without (the count kept). Items/s is N over StartExecution \
         until DescribeExecution says SUCCEEDED.\n",
        plan.hitl.display(),
    );
    println!("{}", table.render(&[(Kind::Ours, "local mode")]));
    Ok(())
}

/// The approval policy table: `hitl local` on the real template.
async fn policies(args: &Args, plan: &policy::Plan, work: &Path) -> anyhow::Result<()> {
    let table = policy::measure(plan, work).await?;
    if args.smoke {
        for figure in policy::smoke_figures(plan) {
            check_figure(&table, &figure)?;
        }
        eprintln!(
            "hitl-bench: smoke: every review decided as expected, every figure is a positive number"
        );
    }
    println!("## Approval policies: the real template in local mode\n");
    println!(
        "min / median / max over {} runs. `hitl local` ({} build) on template.yaml with its functions, \
         DynamoDB and outbox; per run {} reviews per policy and client count, closed loop; \
         {} 2 of 3 reviews waiting on a fresh state directory. Decide → SUCCEEDED is the \
         deciding SendTaskSuccess until DescribeExecution says SUCCEEDED.\n",
        plan.runs,
        if plan.debug { "debug" } else { "release" },
        plan.reviews,
        plan.waiting,
    );
    println!("{}", table.render(&[(Kind::Ours, "local mode")]));
    Ok(())
}

fn one_line(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(160).collect()
}

fn clients_label(clients: usize) -> String {
    if clients == 1 {
        "1 client".to_owned()
    } else {
        format!("{clients} clients")
    }
}

/// All Step Functions workloads against one server.
async fn engine(
    args: &Args,
    launch: &Launch,
    work: &Path,
    table: &mut Table,
) -> anyhow::Result<()> {
    let kind = launch.kind;
    let ours = kind == Kind::Ours;
    let (executions, callbacks, waiting) = if ours {
        (args.executions, args.callbacks, args.waiting)
    } else {
        (
            args.others_executions,
            args.others_executions,
            args.others_waiting,
        )
    };
    let dir = work.join(kind.label());
    eprintln!("hitl-bench: {}: starting", kind.label());
    let (server, ready) = Server::start(launch, &dir.join("throughput")).await?;
    table.record(
        "start on an empty state dir until it answers, s",
        kind,
        ready.as_secs_f64(),
    );
    table.record(
        "server RSS idle, MiB",
        kind,
        server.rss_kib() as f64 / 1024.0,
    );
    let machines = workloads::create_machines(&server).await?;
    for run in 1..=args.runs {
        for &clients in &args.clients {
            eprintln!(
                "hitl-bench: {}: run {run}: {executions} Pass/Choice executions, {}",
                kind.label(),
                clients_label(clients)
            );
            let cpu = server.cpu_seconds();
            let r = workloads::pass_choice(&server.client, &machines, executions, clients).await?;
            let cpu = server.cpu_seconds() - cpu;
            let what = format!("10-state Pass/Choice, {}", clients_label(clients));
            table.record(&format!("{what}: executions/s"), kind, r.per_second);
            record_latency_and_cpu(table, &what, kind, &r, cpu / executions as f64);
        }
        for &clients in &args.clients {
            eprintln!(
                "hitl-bench: {}: run {run}: {callbacks} callback round trips, {}",
                kind.label(),
                clients_label(clients)
            );
            let cpu = server.cpu_seconds();
            let r = workloads::callback(&server.client, &machines, callbacks, clients).await?;
            let cpu = server.cpu_seconds() - cpu;
            let what = format!("callback round trip, {}", clients_label(clients));
            table.record(&format!("{what}: round trips/s"), kind, r.per_second);
            record_latency_and_cpu(table, &what, kind, &r, cpu / callbacks as f64);
        }
    }
    table.record(
        "server RSS after the throughput runs, MiB",
        kind,
        server.rss_kib() as f64 / 1024.0,
    );
    server.kill().await;

    for run in 1..=args.waiting_runs.unwrap_or(args.runs) {
        eprintln!(
            "hitl-bench: {}: run {run}: {waiting} executions waiting on tokens",
            kind.label()
        );
        let dir = dir.join(format!("waiting-{run}"));
        workloads::waiting(launch, &dir, waiting, table).await?;
        // 100,000 executions' state is a few hundred MB on disk: keep only the logs.
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_none_or(|e| e != "log") {
                    let _ = if path.is_dir() {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                }
            }
        }
    }
    Ok(())
}

/// The rows beside a throughput row: latency mean, p50 and p99, and the server's CPU
/// time per execution (user + system of its whole process group, [`Server::cpu_seconds`]).
fn record_latency_and_cpu(
    table: &mut Table,
    what: &str,
    kind: Kind,
    r: &workloads::Run,
    cpu_per_execution_s: f64,
) {
    table.record(&format!("{what}: latency mean, ms"), kind, r.mean_ms);
    table.record(&format!("{what}: latency p50, ms"), kind, r.p50_ms);
    table.record(&format!("{what}: latency p99, ms"), kind, r.p99_ms);
    table.record(
        &format!("{what}: server CPU per execution, ms"),
        kind,
        cpu_per_execution_s * 1000.0,
    );
}

/// The Lambda table: Rust always, Python when `--python` is given.
async fn lambdas(args: &Args, work: &Path) -> anyhow::Result<Table> {
    let mut table = Table::default();
    let rust = match &args.rust_function {
        Some(p) => p.clone(),
        None => beside_me("process_approval")?,
    };
    if !rust.is_file() {
        bail!(
            "no Process Approval function at {}: build it (cargo build --release -p process_approval) or pass --rust-function",
            rust.display()
        );
    }
    let mut functions = vec![lambda::Function {
        label: "rust",
        executable: rust,
        args: Vec::new(),
        working_dir: None,
        column: Kind::Ours,
    }];
    if let Some(python) = &args.python {
        let handler_dir =
            std::path::absolute(Path::new(env!("CARGO_MANIFEST_DIR")).join("lambda_py"))
                .context("handler dir")?;
        functions.push(lambda::Function {
            label: "python",
            executable: python.clone(),
            args: vec![
                "-m".into(),
                "awslambdaric".into(),
                "process_approval.handler".into(),
            ],
            working_dir: Some(handler_dir),
            column: Kind::Moto,
        });
    } else if !args.smoke {
        table.note_column(Kind::Moto, "not run (no --python)");
    }
    let warm = if args.smoke {
        3
    } else {
        lambda::WARM_INVOCATIONS
    };
    for run in 1..=args.runs {
        for function in &functions {
            eprintln!("hitl-bench: lambda {}: run {run}", function.label);
            let scratch = work.join(format!("lambda-{}-{run}", function.label));
            lambda::measure(function, &scratch, warm, &mut table)
                .await
                .with_context(|| format!("Lambda {}", function.label))?;
        }
    }
    for (zip, column) in [(&args.rust_zip, Kind::Ours), (&args.python_zip, Kind::Moto)] {
        if let Some(zip) = zip {
            let bytes = std::fs::metadata(zip)
                .with_context(|| format!("no zip at {}", zip.display()))?
                .len();
            table.record(lambda::fig::ZIP, column, bytes as f64 / 1024.0);
            // The Python zip holds only the handler (the runtime brings the rest): no ratio.
            table.without_ratio(lambda::fig::ZIP);
        }
    }
    for (name, zip) in &args.function_zip {
        let bytes = std::fs::metadata(zip)
            .with_context(|| format!("no zip at {}", zip.display()))?
            .len();
        let figure = format!("arm64 deployment zip of {name}, KiB");
        table.record(&figure, Kind::Ours, bytes as f64 / 1024.0);
        table.without_ratio(&figure);
    }
    Ok(table)
}

/// What `--smoke` insists on beyond "every execution SUCCEEDED" (checked as it runs):
/// each figure is there, positive and finite.
fn smoke_checks(table: &Table, lambda_table: Option<&Table>) -> anyhow::Result<()> {
    let engine_figures = [
        "10-state Pass/Choice, 1 client: executions/s",
        "10-state Pass/Choice, 32 clients: executions/s",
        "callback round trip, 1 client: round trips/s",
        "callback round trip, 32 clients: round trips/s",
        "10-state Pass/Choice, 32 clients: server CPU per execution, ms",
        "callback round trip, 32 clients: server CPU per execution, ms",
        fig::WAIT_RSS,
        fig::RESTART_READY,
        fig::RESTART_LISTED,
        fig::APPROVE_ALL,
    ];
    for figure in engine_figures {
        check_figure(table, figure)?;
    }
    for figure in [
        lambda::fig::INIT,
        lambda::fig::COLD,
        lambda::fig::WARM,
        lambda::fig::RSS,
    ] {
        if let Some(lambda_table) = lambda_table {
            check_figure(lambda_table, figure)?;
        }
    }
    eprintln!("hitl-bench: smoke: every execution SUCCEEDED, every figure is a positive number");
    Ok(())
}

fn check_figure(table: &Table, figure: &str) -> anyhow::Result<()> {
    let values = table.values(figure, Kind::Ours);
    if values.is_empty() || values.iter().any(|v| !v.is_finite() || *v <= 0.0) {
        bail!("smoke: {figure}: expected positive numbers, got {values:?}");
    }
    Ok(())
}
