//! `sfn-conformance --endpoint http://127.0.0.1:PORT`: replays the AWS-recorded cases of
//! `conformance/cases` against a Step Functions endpoint and scores how closely it
//! behaves like AWS.
//!
//! For each case: CreateStateMachine (a dummy role in the endpoint's account),
//! StartExecution under a fresh name shaped like the recorded one, DescribeExecution until
//! it ends (StopExecution after the case's timeout), GetExecutionHistory, then
//! DeleteStateMachine. Three scores per case (`conformance/README.md`): **final** (status,
//! output or error and cause), **history** (event types), **detail** (every event's
//! fields). The comparison rules live in `compare.rs` and have no I/O.
//!
//! Output: one `FAIL <id>: <why>` line per failed outcome, a table per category, with
//! `--floors` one line per subset and score with its floor, and as the last line exactly
//! `N passed, M failed` (the final score). Exit status: 0; 1 when a score is below its
//! floor; 2 when the run could not be made (unreachable endpoint, unreadable cases).
//!
//! The client is raw AWS JSON 1.0 over reqwest, not `aws-sdk-sfn`: see `client.rs`.

mod cases;
mod client;
mod compare;
mod report;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Replays the AWS-recorded Step Functions conformance cases against an endpoint"
)]
struct Args {
    /// The Step Functions endpoint, e.g. http://127.0.0.1:8083 (SNS, for the callback
    /// case, is asked at the same address).
    #[arg(long)]
    endpoint: String,
    /// Region named in the requests' (unsigned) credential scope.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Only these categories; repeat or comma-separate (e.g. base,scenarios).
    #[arg(long, value_delimiter = ',')]
    category: Vec<String>,
    /// Only core cases: JSONPath, no Variables, no external service.
    #[arg(long)]
    only_core: bool,
    /// Only cases whose id contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Leave out cases whose waits or retries exceed 10 s.
    #[arg(long)]
    exclude_slow: bool,
    /// Cases run at once.
    #[arg(long, default_value_t = 8)]
    threads: usize,
    /// Seconds each execution may run, instead of each case's own `timeout_s`.
    #[arg(long)]
    timeout: Option<f64>,
    /// Print progress, and the history and detail failures.
    #[arg(long)]
    verbose: bool,
    /// Write every case's result to this file (JSON).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Keep every actual history in the --json file.
    #[arg(long)]
    dump: bool,
    /// Fail (exit 1) when a core/jsonata/variables score is below its floor in FILE
    /// (`core_final=730` lines).
    #[arg(long, value_name = "FILE")]
    floors: Option<PathBuf>,
    /// Create and start one case at a time, for servers whose definition parser is not
    /// safe to use concurrently (moto, LocalStack).
    #[arg(long)]
    serial_start: bool,
    /// The case files (*.jsonl).
    #[arg(long, value_name = "DIR", default_value_os_t = default_cases_dir())]
    cases_dir: PathBuf,
}

/// The repository's `conformance/cases`, found from where this crate was built.
fn default_cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/cases")
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sfn-conformance: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let floors = match &args.floors {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the floors file {}", path.display()))?;
            Some(
                report::parse_floors(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            )
        }
        None => None,
    };
    let selection = cases::Selection {
        categories: args.category.clone(),
        only_core: args.only_core,
        filter: args.filter.clone(),
        exclude_slow: args.exclude_slow,
    };
    let cases: Vec<cases::Case> = cases::load(&args.cases_dir)?
        .into_iter()
        .filter(|c| selection.keeps(c))
        .collect();
    if cases.is_empty() {
        bail!("no case matches --category/--filter/--only-core; drop or widen them");
    }
    let rt = tokio::runtime::Runtime::new().context("could not start the async runtime")?;
    let client = client::Client::new(&args.endpoint, &args.region)?;
    if let Err(e) = rt.block_on(client.call("ListStateMachines", json!({"maxResults": 1}))) {
        if run::unreachable(&e) {
            bail!(
                "endpoint unreachable: {}: {e}; start the server or fix --endpoint",
                args.endpoint
            );
        }
        eprintln!("sfn-conformance: warning: ListStateMachines failed: {e}");
    }
    let opts = run::Options {
        threads: args.threads,
        timeout: args.timeout,
        verbose: args.verbose,
        dump: args.dump,
        serial_start: args.serial_start,
    };
    let started = Instant::now();
    let results = rt.block_on(async {
        let role = run::role_arn(&client).await;
        run::run_all(&client, &role, cases.clone(), &opts).await
    });
    let elapsed = started.elapsed().as_secs_f64();

    print!("{}", report::failures(&results, args.verbose));
    let rows = report::summary(&results);
    println!();
    print!("{}", report::table(&rows));
    let scores = report::subset_scores(&cases, &results);
    if let Some(path) = &args.json {
        let filters = json!({
            "category": args.category,
            "only_core": args.only_core,
            "filter": args.filter,
        });
        let doc = report::json_document(&args.endpoint, elapsed, filters, &rows, &scores, &results);
        let text = serde_json::to_string_pretty(&doc).context("could not encode the results")?;
        std::fs::write(path, text)
            .with_context(|| format!("cannot write the results to {}", path.display()))?;
    }
    let mut code = ExitCode::SUCCESS;
    if let Some(floors) = &floors {
        let (lines, below) = report::check_floors(&scores, floors);
        print!("{lines}");
        if !below.is_empty() {
            eprintln!(
                "sfn-conformance: below the floor: {}; find the regression with --verbose \
                 (floors only rise: do not lower them to pass)",
                below.join(", ")
            );
            code = ExitCode::from(1);
        }
    }
    let passed = results.iter().filter(|r| r.final_ok).count();
    println!("({elapsed:.1}s)");
    println!("{passed} passed, {} failed", results.len() - passed);
    Ok(code)
}
