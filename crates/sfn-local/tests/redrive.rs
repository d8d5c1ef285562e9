//! RedriveExecution on the real binary: which executions may be redriven, with AWS's
//! error codes and `redriveStatusReason` sentences (API reference, RedriveExecution and
//! DescribeExecutionOutput); the redrive fields of DescribeExecution and
//! ListExecutions; `clientToken` idempotency; and a redriven execution that survives a
//! kill and a restart.

mod common;

use common::{Binary, Client, free_port, temp_dir, wait_ready};
use serde_json::{Value, json};

/// Prepare (a Pass) then Ask (a callback Task the test answers).
fn machine() -> Value {
    json!({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": "prepared", "ResultPath": "$.prep", "Next": "Ask"},
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "Parameters": {"token.$": "$$.Task.Token", "count.$": "$$.Execution.RedriveCount"},
                "ResultPath": "$.answer", "End": true}}})
}

/// The parameters of the last TaskScheduled event, once there are `n` of them.
async fn scheduled(c: &Client, exec: &str, n: usize) -> Value {
    for _ in 0..200 {
        let all: Vec<Value> = c
            .history(exec)
            .await
            .into_iter()
            .filter(|e| e["type"] == "TaskScheduled")
            .collect();
        if all.len() >= n {
            let text = all[n - 1]["taskScheduledEventDetails"]["parameters"]
                .as_str()
                .unwrap_or("{}")
                .to_owned();
            return serde_json::from_str(&text).unwrap_or(Value::Null);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no TaskScheduled event #{n} in {exec}");
}

fn refused(r: common::Reply) -> (String, String) {
    match r {
        Ok(v) => panic!("expected an error, got {v}"),
        Err((status, code, message)) => {
            assert_eq!(status, 400, "{code}: {message}");
            (code, message)
        }
    }
}

async fn redrive(c: &Client, exec: &str, token: Option<&str>) -> common::Reply {
    let mut req = json!({"executionArn": exec});
    if let Some(t) = token {
        req["clientToken"] = json!(t);
    }
    c.call("RedriveExecution", req).await
}

#[tokio::test]
async fn a_failed_execution_is_redriven_from_its_failed_state_and_survives_a_restart() {
    let dir = temp_dir("redrive");
    let port = free_port();
    let c = Client::new(format!("http://127.0.0.1:{port}/"));
    let mut server = Binary::spawn(port, &dir);
    wait_ready(&c).await;
    let sm = c.create("redrive", machine()).await;
    let exec = c.start(&sm, "fails-once", json!({"id": 7})).await;
    let first = scheduled(&c, &exec, 1).await;
    assert_eq!(first["count"], 0);

    // RUNNING: not redrivable, with the recorded sentence.
    let d = c.status(&exec).await;
    assert_eq!(d["redriveStatus"], "NOT_REDRIVABLE");
    assert_eq!(
        d["redriveStatusReason"],
        "Execution is RUNNING and cannot be redriven"
    );
    assert_eq!(
        refused(redrive(&c, &exec, None).await),
        (
            "ExecutionNotRedrivable".to_owned(),
            "Execution is RUNNING and cannot be redriven".to_owned()
        )
    );

    let failed = c
        .call(
            "SendTaskFailure",
            json!({"taskToken": first["token"], "error": "Boom", "cause": "down"}),
        )
        .await;
    assert!(failed.is_ok(), "{failed:?}");
    let d = c.wait_done(&exec, 5).await;
    assert_eq!(d["status"], "FAILED");
    // As recorded on AWS for a FAILED execution: REDRIVABLE, no reason, no date.
    assert_eq!(d["redriveCount"], 0);
    assert_eq!(d["redriveStatus"], "REDRIVABLE");
    assert!(d.get("redriveStatusReason").is_none(), "{d}");
    assert!(d.get("redriveDate").is_none(), "{d}");
    let before = c.history(&exec).await;
    let last_id = before.last().and_then(|e| e["id"].as_u64()).unwrap_or(0);

    let answer = match redrive(&c, &exec, Some("retry-1")).await {
        Ok(v) => v,
        Err(e) => panic!("RedriveExecution: {e:?}"),
    };
    let date = answer["redriveDate"].as_f64().unwrap_or_default();
    assert!(date > 0.0, "{answer}");
    let d = c.status(&exec).await;
    assert_eq!(d["status"], "RUNNING");
    assert_eq!(d["redriveCount"], 1);
    assert_eq!(d["redriveDate"].as_f64(), Some(date));
    assert_eq!(d["redriveStatus"], "NOT_REDRIVABLE");
    assert!(
        d.get("stopDate").is_none() && d.get("error").is_none(),
        "{d}"
    );
    // The same client token again: the first answer, and no second redrive.
    let again = redrive(&c, &exec, Some("retry-1")).await;
    assert_eq!(again.ok(), Some(answer.clone()));
    assert_eq!(c.status(&exec).await["redriveCount"], 1);

    let second = scheduled(&c, &exec, 2).await;
    assert_eq!(second["count"], 1, "$$.Execution.RedriveCount");
    assert_ne!(second["token"], first["token"]);
    let history = c.history(&exec).await;
    let redriven = &history[before.len()];
    assert_eq!(redriven["type"], "ExecutionRedriven");
    assert_eq!(redriven["id"].as_u64(), Some(last_id + 1));
    assert_eq!(
        redriven["executionRedrivenEventDetails"],
        json!({"redriveCount": 1})
    );
    let entered: Vec<&str> = history[before.len()..]
        .iter()
        .filter_map(|e| e["stateEnteredEventDetails"]["name"].as_str())
        .collect();
    assert_eq!(entered, ["Ask"], "Prepare succeeded and does not run again");
    // The first attempt's token is dead.
    let old = c
        .call(
            "SendTaskSuccess",
            json!({"taskToken": first["token"], "output": "{}"}),
        )
        .await;
    assert_eq!(refused(old).0, "TaskTimedOut");

    // A kill and a restart: the redriven execution still waits on its new token.
    server.kill();
    let mut server = Binary::spawn(port, &dir);
    wait_ready(&c).await;
    let d = c.status(&exec).await;
    assert_eq!(
        (d["status"].as_str(), d["redriveCount"].as_u64()),
        (Some("RUNNING"), Some(1))
    );
    let ok = c
        .call(
            "SendTaskSuccess",
            json!({"taskToken": second["token"], "output": "{\"ok\":true}"}),
        )
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    let d = c.wait_done(&exec, 5).await;
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(
        serde_json::from_str::<Value>(d["output"].as_str().unwrap_or("null")).ok(),
        Some(json!({"id": 7, "prep": "prepared", "answer": {"ok": true}}))
    );
    assert_eq!(d["redriveCount"], 1);
    assert_eq!(
        d["redriveStatusReason"],
        "Execution is SUCCEEDED and cannot be redriven"
    );
    assert_eq!(
        refused(redrive(&c, &exec, None).await),
        (
            "ExecutionNotRedrivable".to_owned(),
            "Execution is SUCCEEDED and cannot be redriven".to_owned()
        )
    );
    // A client token of an earlier redrive still answers idempotently.
    assert_eq!(redrive(&c, &exec, Some("retry-1")).await.ok(), Some(answer));

    // ListExecutions: redriveCount on every item, and redriveFilter.
    let other = c.start(&sm, "never-redriven", json!({})).await;
    let list = |filter: Option<&str>| {
        let mut req = json!({"stateMachineArn": sm});
        if let Some(f) = filter {
            req["redriveFilter"] = json!(f);
        }
        c.call("ListExecutions", req)
    };
    let all = list(None).await.unwrap_or_default();
    let counts: Vec<(String, u64)> = all["executions"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i["name"].as_str().unwrap_or_default().to_owned(),
                        i["redriveCount"].as_u64().unwrap_or(99),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        counts,
        [
            ("never-redriven".to_owned(), 0),
            ("fails-once".to_owned(), 1)
        ]
    );
    let names = |v: Value| -> Vec<String> {
        v["executions"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["executionArn"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        names(list(Some("REDRIVEN")).await.unwrap_or_default()),
        std::slice::from_ref(&exec)
    );
    assert_eq!(
        names(list(Some("NOT_REDRIVEN")).await.unwrap_or_default()),
        [other]
    );
    assert_eq!(
        refused(list(Some("SOMETIMES")).await).0,
        "ValidationException"
    );

    server.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn redrive_errors_use_aws_codes() {
    let dir = temp_dir("redrive-errors");
    let port = free_port();
    let c = Client::new(format!("http://127.0.0.1:{port}/"));
    let mut server = Binary::spawn(port, &dir);
    wait_ready(&c).await;
    let fail =
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}});
    let sm = c.create("fails", fail.clone()).await;
    let exec = c.start(&sm, "f", json!({})).await;
    assert_eq!(c.wait_done(&exec, 5).await["status"], "FAILED");

    let missing = format!("{exec}-nobody");
    let (code, message) = refused(redrive(&c, &missing, None).await);
    assert_eq!(code, "ExecutionDoesNotExist");
    assert_eq!(message, format!("Execution Does Not Exist: '{missing}'"));
    assert_eq!(
        refused(redrive(&c, "not-an-arn", None).await).0,
        "InvalidArn"
    );
    assert_eq!(
        refused(c.call("RedriveExecution", json!({})).await).0,
        "ValidationException"
    );
    for bad in ["", "has space", &"x".repeat(65)] {
        assert_eq!(
            refused(redrive(&c, &exec, Some(bad)).await).0,
            "ValidationException",
            "clientToken {bad:?}"
        );
    }

    // A Fail state: the redrive enters it again and fails again.
    assert!(redrive(&c, &exec, None).await.is_ok());
    let d = c.wait_done(&exec, 5).await;
    assert_eq!(
        (d["status"].as_str(), d["redriveCount"].as_u64()),
        (Some("FAILED"), Some(1))
    );
    assert_eq!(d["redriveStatus"], "REDRIVABLE");
    let types: Vec<String> = c
        .history(&exec)
        .await
        .iter()
        .filter_map(|e| e["type"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "FailStateEntered",
            "ExecutionFailed",
            "ExecutionRedriven",
            "FailStateEntered",
            "ExecutionFailed"
        ]
    );

    // Express: "This API action is not supported by EXPRESS state machines."
    let express = c
        .call(
            "CreateStateMachine",
            json!({"name": "express", "definition": fail.to_string(), "type": "EXPRESS",
                   "roleArn": "arn:aws:iam::123456789012:role/r"}),
        )
        .await;
    let express = express.unwrap_or_default()["stateMachineArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let e = c.start(&express, "e", json!({})).await;
    c.wait_done(&e, 5).await;
    let (code, message) = refused(redrive(&c, &e, None).await);
    assert_eq!(code, "ExecutionNotRedrivable");
    assert_eq!(
        message,
        "This API action is not supported by EXPRESS state machines."
    );

    // A deleted machine's executions are not redrivable.
    let deleted = c
        .call("DeleteStateMachine", json!({"stateMachineArn": sm}))
        .await;
    assert!(deleted.is_ok(), "{deleted:?}");
    assert_eq!(
        refused(redrive(&c, &exec, None).await),
        (
            "ExecutionNotRedrivable".to_owned(),
            "State machine is in DELETING status".to_owned()
        )
    );

    server.kill();
    let _ = std::fs::remove_dir_all(&dir);
}
