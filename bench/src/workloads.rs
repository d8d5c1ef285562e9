//! The Step Functions workloads, driven over HTTP like any client. Every execution a
//! workload starts must end SUCCEEDED, or the workload fails: a fast wrong answer is no
//! figure.

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::client::{Sfn, TOPIC, callback_definition, pass_choice_definition};
use crate::server::{Kind, Launch, Server};
use crate::table::{Table, quantile};

/// What one closed-loop run measured.
pub(crate) struct Run {
    pub(crate) per_second: f64,
    pub(crate) mean_ms: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

/// `n` operations by `clients` concurrent clients, each starting its next operation as
/// soon as its last one ended (closed loop).
async fn closed_loop<F, Fut>(n: usize, clients: usize, op: F) -> anyhow::Result<Run>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (op, next, latencies) = (op.clone(), next.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t0 = Instant::now();
                op(i).await?;
                mine.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
            if let Ok(mut all) = latencies.lock() {
                all.extend(mine);
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
    let mean_ms = sorted.iter().sum::<f64>() / sorted.len().max(1) as f64;
    Ok(Run {
        per_second: n as f64 / elapsed,
        mean_ms,
        p50_ms: quantile(&sorted, 0.5),
        p99_ms: quantile(&sorted, 0.99),
    })
}

/// The machines the throughput workloads use, created once per server.
pub(crate) struct Machines {
    pass_choice: String,
    callback: String,
}

pub(crate) async fn create_machines(server: &Server) -> anyhow::Result<Machines> {
    let c = &server.client;
    let topic_arn = if server.kind == Kind::Ours {
        format!("arn:aws:sns:us-east-1:123456789012:{TOPIC}")
    } else {
        c.create_topic(TOPIC).await?
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    Ok(Machines {
        pass_choice: c
            .create_state_machine(&format!("pass-choice-{id}"), &pass_choice_definition())
            .await?,
        callback: c
            .create_state_machine(&format!("callback-{id}"), &callback_definition(&topic_arn))
            .await?,
    })
}

/// Start the 10-state Pass/Choice machine and wait for SUCCEEDED (sfn-local finishes it
/// inside StartExecution; moto and LocalStack run it in the background, so poll).
pub(crate) async fn pass_choice(
    c: &Sfn,
    m: &Machines,
    n: usize,
    clients: usize,
) -> anyhow::Result<Run> {
    let (c, machine) = (c.clone(), m.pass_choice.clone());
    closed_loop(n, clients, move |_| {
        let (c, machine) = (c.clone(), machine.clone());
        async move {
            let execution = c.start(&machine, &json!({"n": 1})).await?;
            expect_succeeded(&execution, &c.wait_done(&execution).await?)
        }
    })
    .await
}

/// One review round trip: start, read the token from the history, SendTaskSuccess,
/// wait for SUCCEEDED.
pub(crate) async fn callback(
    c: &Sfn,
    m: &Machines,
    n: usize,
    clients: usize,
) -> anyhow::Result<Run> {
    let (c, machine) = (c.clone(), m.callback.clone());
    closed_loop(n, clients, move |_| {
        let (c, machine) = (c.clone(), machine.clone());
        async move {
            let execution = c.start(&machine, &json!({"n": 1})).await?;
            let token = c.task_token(&execution).await?;
            c.send_task_success(&token).await?;
            expect_succeeded(&execution, &c.wait_done(&execution).await?)
        }
    })
    .await
}

fn expect_succeeded(execution: &str, status: &str) -> anyhow::Result<()> {
    if status != "SUCCEEDED" {
        bail!("{execution} ended {status}, expected SUCCEEDED");
    }
    Ok(())
}

/// Figure names, shared with the smoke checks.
pub(crate) mod fig {
    pub(crate) const WAIT_KIB: &str = "waiting: memory per waiting execution, bytes";
    pub(crate) const WAIT_RSS: &str = "waiting: server RSS with all waiting, MiB";
    pub(crate) const WAIT_FILL: &str = "waiting: parked (start + token) per s";
    pub(crate) const RESTART_READY: &str = "waiting: restart until it answers, s";
    pub(crate) const RESTART_LISTED: &str = "waiting: restart until all listed RUNNING, s";
    pub(crate) const RESTART_RSS: &str = "waiting: server RSS after restart and listing, MiB";
    pub(crate) const APPROVE_ALL: &str =
        "waiting: approve all (SendTaskSuccess each, until all SUCCEEDED), s";
    pub(crate) const APPROVE_RATE: &str = "waiting: approve all, approvals/s";
}

/// `n` executions parked on task tokens on a fresh server: memory, then (sfn-local) a
/// kill -9 and restart on the same state directory, then approve every one of them.
pub(crate) async fn waiting(
    launch: &Launch,
    state_dir: &Path,
    n: usize,
    table: &mut Table,
) -> anyhow::Result<()> {
    let kind = launch.kind;
    let (server, _) = Server::start(launch, state_dir).await?;
    let machines = create_machines(&server).await?;
    let c = server.client.clone();
    let machine = machines.callback.clone();
    let rss_before = server.rss_kib();
    let tokens = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let fill = {
        let (c, machine, tokens) = (c.clone(), machine.clone(), tokens.clone());
        closed_loop(n, 32, move |_| {
            let (c, machine, tokens) = (c.clone(), machine.clone(), tokens.clone());
            async move {
                let execution = c.start(&machine, &json!({"n": 1})).await?;
                let token = c.task_token(&execution).await?;
                tokens
                    .lock()
                    .map_err(|_| anyhow::anyhow!("token list poisoned"))?
                    .push(token);
                Ok(())
            }
        })
        .await?
    };
    // Let background work (moto's and LocalStack's execution threads) settle before reading.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_waiting = server.rss_kib();
    table.record(fig::WAIT_FILL, kind, fill.per_second);
    table.record(fig::WAIT_RSS, kind, rss_waiting as f64 / 1024.0);
    table.record(
        fig::WAIT_KIB,
        kind,
        rss_waiting.saturating_sub(rss_before) as f64 * 1024.0 / n as f64,
    );

    let server = if kind == Kind::Ours {
        server.kill().await;
        let t0 = Instant::now();
        let (server, ready) = Server::start(launch, state_dir).await?;
        table.record(fig::RESTART_READY, kind, ready.as_secs_f64());
        let running = server.client.count(&machine, "RUNNING").await?;
        if running != n {
            bail!("after the restart {running} executions are RUNNING, expected {n}");
        }
        table.record(fig::RESTART_LISTED, kind, t0.elapsed().as_secs_f64());
        table.record(fig::RESTART_RSS, kind, server.rss_kib() as f64 / 1024.0);
        server
    } else {
        let why = "n/a: in-memory, a restart loses them";
        table.note(fig::RESTART_READY, kind, why);
        table.note(fig::RESTART_LISTED, kind, why);
        table.note(fig::RESTART_RSS, kind, why);
        server
    };

    let tokens: Vec<String> = std::mem::take(
        &mut *tokens
            .lock()
            .map_err(|_| anyhow::anyhow!("token list poisoned"))?,
    );
    let tokens = Arc::new(tokens);
    let t0 = Instant::now();
    {
        let (c, tokens) = (server.client.clone(), tokens.clone());
        closed_loop(n, 32, move |i| {
            let (c, tokens) = (c.clone(), tokens.clone());
            async move { c.send_task_success(&tokens[i]).await }
        })
        .await?;
    }
    let until = Instant::now() + Duration::from_secs(600);
    loop {
        let done = server.client.count(&machine, "SUCCEEDED").await?;
        if done == n {
            break;
        }
        if Instant::now() > until {
            bail!("{done} of {n} approved executions SUCCEEDED after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = t0.elapsed().as_secs_f64();
    table.record(fig::APPROVE_ALL, kind, took);
    table.record(fig::APPROVE_RATE, kind, n as f64 / took);
    // Totals over different counts (100,000 here, a few hundred there): no ratio.
    table.without_ratio(fig::APPROVE_ALL);
    table.without_ratio(fig::WAIT_RSS);
    server.kill().await;
    Ok(())
}
