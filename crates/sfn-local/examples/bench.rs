//! Rough throughput check against a running sfn-local:
//! `cargo run --release -p sfn-local --example bench -- http://127.0.0.1:8083 [executions]`.
//! Measures StartExecution of a 10-state Pass/Choice machine (which completes inside the
//! call) and SendTaskSuccess round trips on executions waiting on a task token.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

async fn call(c: &reqwest::Client, url: &str, op: &str, body: Value) -> anyhow::Result<Value> {
    let r = c
        .post(url)
        .header("X-Amz-Target", format!("AWSStepFunctions.{op}"))
        .header("Content-Type", "application/x-amz-json-1.0")
        .body(body.to_string())
        .send()
        .await?;
    let status = r.status();
    let v: Value = serde_json::from_str(&r.text().await?)?;
    if !status.is_success() {
        anyhow::bail!("{op}: {v}");
    }
    Ok(v)
}

async fn run_parallel<F, Fut>(n: usize, conc: usize, f: F) -> anyhow::Result<f64>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..conc {
        let f = f.clone();
        let next = next.clone();
        handles.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= n {
                    return Ok::<(), anyhow::Error>(());
                }
                f(i).await?;
            }
        }));
    }
    for h in handles {
        h.await??;
    }
    Ok(n as f64 / t0.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8083".into());
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5000);
    let c = reqwest::Client::new();
    let uid = uuid::Uuid::new_v4().simple().to_string();
    if args.get(3).map(String::as_str) == Some("fill") {
        // Only park `n` executions on a task token (for restart and memory checks).
        let cb = json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken", "Parameters": {"t.$": "$$.Task.Token"}, "End": true}}});
        let sm = call(&c, &url, "CreateStateMachine", json!({"name": format!("fill-{uid}"), "definition": cb.to_string(), "roleArn": "arn:aws:iam::123456789012:role/r"})).await?;
        let arn = sm["stateMachineArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (c2, u2) = (c.clone(), url.clone());
        let rate = run_parallel(n, 64, move |_| {
            let (c, u, a) = (c2.clone(), u2.clone(), arn.clone());
            async move {
                call(&c, &u, "StartExecution", json!({"stateMachineArn": a})).await?;
                Ok(())
            }
        })
        .await?;
        println!("parked {n} executions on task tokens at {rate:.0}/s");
        return Ok(());
    }

    let mut states = serde_json::Map::new();
    for i in 0..9 {
        let next = format!("S{}", i + 1);
        let st = if i % 3 == 2 {
            json!({"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": next}], "Default": next})
        } else {
            json!({"Type": "Pass", "Next": next})
        };
        states.insert(format!("S{i}"), st);
    }
    states.insert("S9".into(), json!({"Type": "Succeed"}));
    let def = json!({"StartAt": "S0", "States": states});
    let sm = call(&c, &url, "CreateStateMachine", json!({"name": format!("bench-{uid}"), "definition": def.to_string(), "roleArn": "arn:aws:iam::123456789012:role/r"})).await?;
    let sm_arn = sm["stateMachineArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (c2, u2, a2) = (c.clone(), url.clone(), sm_arn.clone());
    let rate = run_parallel(n, 64, move |_| {
        let (c, u, a) = (c2.clone(), u2.clone(), a2.clone());
        async move {
            call(
                &c,
                &u,
                "StartExecution",
                json!({"stateMachineArn": a, "input": "{\"n\": 1}"}),
            )
            .await?;
            Ok(())
        }
    })
    .await?;
    println!("StartExecution (10-state Pass/Choice, completes in call): {rate:.0}/s");

    let cb = json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken", "Parameters": {"t.$": "$$.Task.Token"}, "End": true}}});
    let sm = call(&c, &url, "CreateStateMachine", json!({"name": format!("benchcb-{uid}"), "definition": cb.to_string(), "roleArn": "arn:aws:iam::123456789012:role/r"})).await?;
    let cb_arn = sm["stateMachineArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let m = n / 2;
    let mut tokens = Vec::with_capacity(m);
    let mut execs = Vec::with_capacity(m);
    for _ in 0..m {
        let e = call(
            &c,
            &url,
            "StartExecution",
            json!({"stateMachineArn": cb_arn}),
        )
        .await?;
        execs.push(e["executionArn"].as_str().unwrap_or_default().to_owned());
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for e in &execs {
        let h = call(&c, &url, "GetExecutionHistory", json!({"executionArn": e})).await?;
        let params = h["events"]
            .as_array()
            .and_then(|evs| evs.iter().find(|ev| ev["type"] == "TaskScheduled"))
            .and_then(|ev| ev["taskScheduledEventDetails"]["parameters"].as_str())
            .unwrap_or("{}");
        let p: Value = serde_json::from_str(params)?;
        tokens.push(p["t"].as_str().unwrap_or_default().to_owned());
    }
    let tokens = Arc::new(tokens);
    let (c3, u3) = (c.clone(), url.clone());
    let rate = run_parallel(m, 64, move |i| {
        let (c, u, t) = (c3.clone(), u3.clone(), tokens.clone());
        async move {
            call(
                &c,
                &u,
                "SendTaskSuccess",
                json!({"taskToken": t[i], "output": "{\"ok\":true}"}),
            )
            .await?;
            Ok(())
        }
    })
    .await?;
    println!("SendTaskSuccess round trips: {rate:.0}/s");
    let d = call(
        &c,
        &url,
        "DescribeExecution",
        json!({"executionArn": execs[0]}),
    )
    .await?;
    println!("first callback execution: {}", d["status"]);
    Ok(())
}
