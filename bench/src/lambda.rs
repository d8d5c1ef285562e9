//! Lambda cold start and memory: the real Process Approval `bootstrap` against the same
//! function in Python under `awslambdaric`, both hosted by `lambda-local` (a Lambda
//! Runtime API per process), both publishing to an in-process `sns-local`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use lambda_local::{FunctionSpec, HostConfig, LambdaHost, Outcome, OutputSink};
use serde_json::Value;

use crate::server::{Kind, status_kib};
use crate::table::{Table, median};

const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:DecisionTopic";
const EVENT: &str = include_str!("../../events/process_approval.json");
pub(crate) const WARM_INVOCATIONS: usize = 20;

/// One function to measure.
#[derive(Debug, Clone)]
pub(crate) struct Function {
    pub(crate) label: &'static str,
    pub(crate) executable: PathBuf,
    pub(crate) args: Vec<String>,
    pub(crate) working_dir: Option<PathBuf>,
    /// The table column it goes in.
    pub(crate) column: Kind,
}

pub(crate) mod fig {
    pub(crate) const INIT: &str = "process start to first /next (Init Duration), ms";
    pub(crate) const COLD: &str = "first invocation (cold: spawn, init, handler), ms";
    pub(crate) const WARM: &str = "warm invocation (median), ms";
    pub(crate) const RSS: &str = "peak RSS (VmHWM) after the warm invocations, MiB";
    pub(crate) const ZIP: &str = "arm64 deployment zip, KiB";
}

/// Serves sns-local's wire protocol on a loopback port, for the functions' SNS clients.
async fn serve_sns(outbox: PathBuf) -> anyhow::Result<String> {
    let config =
        sns_local::SnsConfig::new(outbox, "us-east-1", "123456789012").with_announce(|_| {});
    let topic = sns_local::TopicSpec::new("DecisionTopic", TOPIC_ARN);
    let sns = Arc::new(sns_local::SnsService::new(config, vec![topic]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot bind SNS's port")?;
    let addr = listener.local_addr().context("SNS address")?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, sns_local::router(sns)).await;
    });
    Ok(format!("http://{addr}"))
}

/// One cold start and `warm` warm invocations of `function` in a fresh host; records
/// the figures. The first answer must be the approved decision record.
pub(crate) async fn measure(
    function: &Function,
    scratch: &std::path::Path,
    warm: usize,
    table: &mut Table,
) -> anyhow::Result<()> {
    let endpoint = serve_sns(scratch.join("outbox")).await?;
    let mut spec = FunctionSpec::new(
        function.label,
        format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            function.label
        ),
        &function.executable,
    );
    spec.args = function.args.clone();
    spec.working_dir = function.working_dir.clone();
    spec.timeout = Duration::from_secs(30);
    spec.memory_mb = 1024;
    spec.environment
        .insert("DECISION_TOPIC_ARN".into(), TOPIC_ARN.into());
    let mut config = HostConfig::new("us-east-1");
    config.endpoint_url = Some(endpoint);
    config.max_concurrency = 1;
    config.output = OutputSink::new(|_| {});
    let host = LambdaHost::start(vec![spec], config).context("lambda-local did not start")?;

    let t0 = Instant::now();
    let first = host
        .invoke(function.label, Bytes::from_static(EVENT.as_bytes()))
        .await
        .context("cold invocation")?;
    let cold_ms = t0.elapsed().as_secs_f64() * 1000.0;
    check(&first.outcome, function.label)?;
    let init_ms = first
        .log
        .lines()
        .filter(|l| l.starts_with("REPORT"))
        .flat_map(|l| l.split('\t'))
        .find_map(|f| f.strip_prefix("Init Duration: ")?.strip_suffix(" ms"))
        .and_then(|ms| ms.parse::<f64>().ok())
        .with_context(|| format!("no Init Duration in the cold REPORT: {}", first.log))?;

    let mut warm_ms = Vec::with_capacity(warm);
    for _ in 0..warm {
        let t0 = Instant::now();
        let answer = host
            .invoke(function.label, Bytes::from_static(EVENT.as_bytes()))
            .await
            .context("warm invocation")?;
        warm_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        check(&answer.outcome, function.label)?;
        if answer.log.contains("Init Duration") {
            bail!(
                "{}: a warm invocation started a new process",
                function.label
            );
        }
    }
    let peak_kib: u64 = host
        .process_ids()
        .into_iter()
        .map(|pid| status_kib(pid, "VmHWM"))
        .sum();
    host.shutdown().await;

    let column = function.column;
    table.record(fig::INIT, column, init_ms);
    table.record(fig::COLD, column, cold_ms);
    if let Some(m) = median(&warm_ms) {
        table.record(fig::WARM, column, m);
    }
    table.record(fig::RSS, column, peak_kib as f64 / 1024.0);
    Ok(())
}

fn check(outcome: &Outcome, label: &str) -> anyhow::Result<()> {
    match outcome {
        Outcome::Success(payload) => {
            let record: Value = serde_json::from_slice(payload)
                .with_context(|| format!("{label}: the answer is not JSON"))?;
            if record["decision"] != "approved" {
                bail!("{label}: expected an approved decision record, got {record}");
            }
            Ok(())
        }
        Outcome::Error(e) => bail!("{label} failed: {} {}", e.error_type, e.error_message),
    }
}
