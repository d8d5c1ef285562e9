//! Kill -9 and restart on the same state directory: executions resume, old task tokens
//! still work, and timers fire at their original deadlines.

mod common;

use std::time::{Duration, Instant};

use chrono::Timelike;

use common::{Binary, Client, callback_definition, free_port, temp_dir, wait_ready};
use serde_json::json;

fn spawn(port: u16, dir: &std::path::Path) -> Binary {
    Binary::spawn(port, dir)
}

#[tokio::test]
async fn kill_and_restart_resumes_executions() {
    let dir = temp_dir("restart");
    let port = free_port();
    let c = Client::new(format!("http://127.0.0.1:{port}/"));

    let mut child = spawn(port, &dir);
    wait_ready(&c).await;
    let cb = c.create("approval", callback_definition()).await;
    let waiter = c
        .create(
            "waiter",
            json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "Next": "Done"}, "Done": {"Type": "Pass", "End": true}}}),
        )
        .await;
    let exec = c.start(&cb, "before-crash", json!({"id": 42})).await;
    let token = c.token(&exec).await;
    let started = Instant::now();
    let waiting = c.start(&waiter, "wait-across-crash", json!({})).await;

    // SIGKILL: no graceful shutdown, only what was committed survives.
    child.kill();

    let mut child = spawn(port, &dir);
    wait_ready(&c).await;
    assert_eq!(c.status(&exec).await["status"], "RUNNING");
    let sent = c
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{\"approved\": true}"}),
        )
        .await;
    assert!(sent.is_ok(), "{sent:?}");
    let d = c.wait_done(&exec, 5).await;
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(
        d["output"],
        json!({"id": 42, "decision": {"approved": true}}).to_string()
    );

    let d = c.wait_done(&waiting, 10).await;
    assert_eq!(d["status"], "SUCCEEDED");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1900),
        "fired early: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(8), "fired late: {elapsed:?}");

    child.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn every_acknowledged_start_survives_a_kill() {
    let dir = temp_dir("acked");
    let port = free_port();
    let c = std::sync::Arc::new(Client::new(format!("http://127.0.0.1:{port}/")));
    let mut child = spawn(port, &dir);
    wait_ready(&c).await;
    let sm = c.create("acked", callback_definition()).await;

    // Start executions from many tasks and kill the server while requests are in flight.
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for worker in 0..16 {
        let (c, sm, count) = (c.clone(), sm.clone(), count.clone());
        handles.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..200 {
                let r = c
                    .call(
                        "StartExecution",
                        json!({"stateMachineArn": sm, "name": format!("w{worker}-{i}"), "input": "{\"id\": 1}"}),
                    )
                    .await;
                match r {
                    Ok(v) => {
                        acked.push(v["executionArn"].as_str().unwrap_or_default().to_owned());
                        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    Err(_) => break,
                }
            }
            acked
        }));
    }
    // Kill once some starts are acknowledged and while more are in flight.
    let deadline = Instant::now() + Duration::from_secs(20);
    while count.load(std::sync::atomic::Ordering::SeqCst) < 100 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill();
    let mut acked = Vec::new();
    for h in handles {
        acked.extend(h.await.unwrap_or_default());
    }
    assert!(
        !acked.is_empty(),
        "nothing was acknowledged before the kill"
    );

    let mut child = spawn(port, &dir);
    wait_ready(&c).await;
    for arn in &acked {
        let d = c.status(arn).await;
        assert_eq!(d["status"], "RUNNING", "{arn}");
    }
    child.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Parallel branch waiting on a `TimestampPath` (the approval policies' Timers
/// branch) survives a kill: after the restart its timer fires once, not before its
/// timestamp, while the other branch still waits on its token.
#[tokio::test]
async fn a_branch_timestamp_wait_survives_a_restart_and_fires_once() {
    let dir = temp_dir("restart-branch-timer");
    let port = free_port();
    let c = Client::new(format!("http://127.0.0.1:{port}/"));
    let mut child = spawn(port, &dir);
    wait_ready(&c).await;
    let sm = c
        .create(
            "timers",
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "Wait For Timer", "States": {
                    "Wait For Timer": {"Type": "Wait", "TimestampPath": "$.next.at", "Next": "Tick"},
                    "Tick": {"Type": "Pass", "End": true}}},
                {"StartAt": "Ask", "States": {
                    "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                            "Parameters": {"token.$": "$$.Task.Token"}, "End": true}}}]}}}),
        )
        .await;
    // Whole seconds, as a reviewer's deadline is written; at least 2 s away.
    let due = chrono::Utc::now() + chrono::Duration::seconds(3);
    let due = due.with_nanosecond(0).unwrap_or(due);
    let exec = c
        .start(
            &sm,
            "branch-timer",
            json!({"next": {"at": due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}}),
        )
        .await;
    let token = c.token(&exec).await;

    child.kill();
    let mut child = spawn(port, &dir);
    wait_ready(&c).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let exited = loop {
        let events = c.history(&exec).await;
        if let Some(e) = events.iter().find(|e| e["type"] == "WaitStateExited") {
            break e.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the timer never fired: {events:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let fired_at = exited["timestamp"].as_f64().unwrap_or_default();
    assert!(
        fired_at >= due.timestamp() as f64,
        "fired at {fired_at}, due {due}"
    );
    assert_eq!(c.status(&exec).await["status"], "RUNNING");
    let sent = c
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{}"}),
        )
        .await;
    assert!(sent.is_ok(), "{sent:?}");
    let d = c.wait_done(&exec, 5).await;
    assert_eq!(d["status"], "SUCCEEDED");
    // Fired once: one exit from the Wait, one Tick.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let events = c.history(&exec).await;
    let n = |ty: &str| events.iter().filter(|e| e["type"] == ty).count();
    assert_eq!((n("WaitStateExited"), n("PassStateEntered")), (1, 1));

    child.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A distributed Map's children are executions of their own in the store, written with
/// the parent's snapshot: listed RUNNING across a SIGKILL, then ended by the timers the
/// restart re-arms, a failed one still saying why.
#[tokio::test]
async fn map_run_children_survive_a_kill() {
    let dir = temp_dir("restart-children");
    let port = free_port();
    let c = Client::new(format!("http://127.0.0.1:{port}/"));
    let mut child = spawn(port, &dir);
    wait_ready(&c).await;
    let sm = c
        .create(
            "kids",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": 1,
                "End": true,
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "W",
                    "States": {
                        "W": {"Type": "Wait", "Seconds": 1, "Next": "C"},
                        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 1,
                            "Next": "F"}], "Default": "P"},
                        "F": {"Type": "Fail", "Error": "Item.One", "Cause": "one is not allowed"},
                        "P": {"Type": "Pass", "End": true}}}}}}),
        )
        .await;
    let exec = c.start(&sm, "kids-across-crash", json!([0, 1, 2])).await;
    let runs = c
        .call("ListMapRuns", json!({"executionArn": exec}))
        .await
        .unwrap_or_else(|e| panic!("ListMapRuns: {e:?}"));
    let run = runs["mapRuns"][0]["mapRunArn"].clone();
    let list = async |status: Option<&str>| {
        let mut req = json!({"mapRunArn": run});
        if let Some(s) = status {
            req["statusFilter"] = json!(s);
        }
        c.call("ListExecutions", req)
            .await
            .unwrap_or_else(|e| panic!("ListExecutions: {e:?}"))["executions"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(list(Some("RUNNING")).await.len(), 3);

    child.kill();
    let mut child = spawn(port, &dir);
    wait_ready(&c).await;
    assert!(list(None).await.len() == 3);
    let d = c.wait_done(&exec, 10).await;
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(list(Some("SUCCEEDED")).await.len(), 2);
    let failed = list(Some("FAILED")).await;
    assert_eq!(failed.len(), 1);
    let f = c
        .call(
            "DescribeExecution",
            json!({"executionArn": failed[0]["executionArn"]}),
        )
        .await
        .unwrap_or_else(|e| panic!("DescribeExecution: {e:?}"));
    assert_eq!(
        (&f["input"], &f["error"], &f["cause"], &f["mapRunArn"]),
        (
            &json!("1"),
            &json!("Item.One"),
            &json!("one is not allowed"),
            &run
        )
    );
    child.kill();
}
