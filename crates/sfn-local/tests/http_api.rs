//! Drives the service over real HTTP (AWS JSON 1.0) and checks AWS's error codes.

mod common;

use common::{Client, callback_definition, forge, temp_dir};
use serde_json::json;

async fn server() -> (Client, tokio::sync::oneshot::Sender<()>, std::path::PathBuf) {
    let dir = temp_dir("http");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let opts = sfn_local::ServerOptions {
        addr: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
        state_dir: dir.clone(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
    };
    let (addr, fut) = match sfn_local::bind(opts, async move {
        let _ = rx.await;
    })
    .await
    {
        Ok(v) => v,
        Err(e) => panic!("bind: {e}"),
    };
    tokio::spawn(fut);
    (Client::new(format!("http://{addr}/")), tx, dir)
}

fn code(r: common::Reply) -> String {
    match r {
        Ok(v) => format!("OK {v}"),
        Err((status, code, _)) => {
            assert_eq!(status, 400, "{code}");
            code
        }
    }
}

#[tokio::test]
async fn state_machine_errors_use_aws_codes() {
    let (c, _stop, _dir) = server().await;
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}});
    assert_eq!(
        code(c.raw("AWSStepFunctions.Nope", "{}".into()).await),
        "UnknownOperationException"
    );
    assert_eq!(
        code(c.raw("Other.Op", "{}".into()).await),
        "UnknownOperationException"
    );
    assert_eq!(
        code(
            c.call(
                "CreateStateMachine",
                json!({"definition": def.to_string(), "roleArn": "r"})
            )
            .await
        ),
        "ValidationException"
    );
    assert_eq!(
        code(
            c.call(
                "CreateStateMachine",
                json!({"name": "bad name", "definition": def.to_string(), "roleArn": "r"})
            )
            .await
        ),
        "InvalidName"
    );
    let bad = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}});
    let r = c
        .call(
            "CreateStateMachine",
            json!({"name": "m", "definition": bad.to_string(), "roleArn": "r"}),
        )
        .await;
    match r {
        Err((400, code, msg)) => {
            assert_eq!(code, "InvalidDefinition");
            assert!(msg.contains("at /States/A/Next"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    let arn = c.create("m", def.clone()).await;
    let other = json!({"StartAt": "B", "States": {"B": {"Type": "Succeed"}}});
    assert_eq!(
        code(
            c.call(
                "CreateStateMachine",
                json!({"name": "m", "definition": other.to_string(), "roleArn": "r"})
            )
            .await
        ),
        "StateMachineAlreadyExists"
    );
    assert_eq!(
        code(
            c.call("DescribeStateMachine", json!({"stateMachineArn": "nope"}))
                .await
        ),
        "InvalidArn"
    );
    assert_eq!(
        code(
            c.call(
                "DescribeStateMachine",
                json!({"stateMachineArn": format!("{arn}x")})
            )
            .await
        ),
        "StateMachineDoesNotExist"
    );
    assert!(
        c.call("DescribeStateMachine", json!({"stateMachineArn": arn}))
            .await
            .is_ok()
    );
    let listed = c.call("ListStateMachines", json!({})).await;
    assert_eq!(
        listed
            .map(|v| v["stateMachines"].as_array().map(Vec::len))
            .ok()
            .flatten(),
        Some(1)
    );
    assert!(
        c.call(
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": other.to_string()})
        )
        .await
        .is_ok()
    );
    let v = c
        .call(
            "ValidateStateMachineDefinition",
            json!({"definition": bad.to_string()}),
        )
        .await;
    let v = v.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(v["result"], "FAIL");
    assert_eq!(v["diagnostics"][0]["code"], "MISSING_TRANSITION_TARGET");
    assert_eq!(v["diagnostics"][0]["location"], "/States/A/Next");
    assert!(
        c.call("DeleteStateMachine", json!({"stateMachineArn": arn}))
            .await
            .is_ok()
    );
    assert_eq!(
        code(
            c.call("StartExecution", json!({"stateMachineArn": arn}))
                .await
        ),
        "StateMachineDoesNotExist"
    );
}

#[tokio::test]
async fn execution_and_callback_errors_use_aws_codes() {
    let (c, _stop, _dir) = server().await;
    let sm = c.create("cb", callback_definition()).await;
    assert_eq!(
        code(
            c.call(
                "StartExecution",
                json!({"stateMachineArn": sm, "input": "{not json"})
            )
            .await
        ),
        "InvalidExecutionInput"
    );
    let exec = c.start(&sm, "e1", json!({"id": 1})).await;
    assert_eq!(
        code(
            c.call(
                "StartExecution",
                json!({"stateMachineArn": sm, "name": "e1"})
            )
            .await
        ),
        "ExecutionAlreadyExists"
    );
    // Same name and same input while RUNNING: idempotent.
    let again = c.start(&sm, "e1", json!({"id": 1})).await;
    assert_eq!(again, exec);
    assert_eq!(
        code(
            c.call(
                "DescribeExecution",
                json!({"executionArn": format!("{exec}x")})
            )
            .await
        ),
        "ExecutionDoesNotExist"
    );
    let token = c.token(&exec).await;
    assert_eq!(
        code(
            c.call(
                "SendTaskSuccess",
                json!({"taskToken": "garbage", "output": "{}"})
            )
            .await
        ),
        "InvalidToken"
    );
    assert_eq!(
        code(
            c.call(
                "SendTaskSuccess",
                json!({"taskToken": token, "output": "{oops"})
            )
            .await
        ),
        "InvalidOutput"
    );
    let forged = forge(&token);
    assert_eq!(
        code(
            c.call(
                "SendTaskSuccess",
                json!({"taskToken": forged, "output": "{}"})
            )
            .await
        ),
        "InvalidToken"
    );
    assert!(
        c.call("SendTaskHeartbeat", json!({"taskToken": token}))
            .await
            .is_ok()
    );
    assert!(
        c.call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{\"ok\": true}"})
        )
        .await
        .is_ok()
    );
    let d = c.wait_done(&exec, 5).await;
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(
        d["output"],
        json!({"id": 1, "decision": {"ok": true}}).to_string()
    );
    assert_eq!(
        code(
            c.call(
                "SendTaskSuccess",
                json!({"taskToken": token, "output": "{}"})
            )
            .await
        ),
        "TaskTimedOut"
    );
    // A forged token stays InvalidToken once its execution has finished.
    assert_eq!(
        code(
            c.call(
                "SendTaskSuccess",
                json!({"taskToken": forge(&token), "output": "{}"})
            )
            .await
        ),
        "InvalidToken"
    );

    // Failure callback and history paging.
    let exec2 = c.start(&sm, "e2", json!({"id": 2})).await;
    let token2 = c.token(&exec2).await;
    assert!(
        c.call(
            "SendTaskFailure",
            json!({"taskToken": token2, "error": "Rejected", "cause": "no"})
        )
        .await
        .is_ok()
    );
    let d = c.wait_done(&exec2, 5).await;
    assert_eq!(
        (d["status"].clone(), d["error"].clone()),
        (json!("FAILED"), json!("Rejected"))
    );
    let page = c
        .call(
            "GetExecutionHistory",
            json!({"executionArn": exec2, "maxResults": 2, "reverseOrder": true}),
        )
        .await;
    let page = page.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(page["events"][0]["type"], "ExecutionFailed");
    assert!(page["nextToken"].is_string());
    let listed = c
        .call(
            "ListExecutions",
            json!({"stateMachineArn": sm, "statusFilter": "FAILED"}),
        )
        .await;
    assert_eq!(
        listed
            .map(|v| v["executions"].as_array().map(Vec::len))
            .ok()
            .flatten(),
        Some(1)
    );

    // StopExecution aborts a waiting execution.
    let exec3 = c.start(&sm, "e3", json!({"id": 3})).await;
    assert!(
        c.call(
            "StopExecution",
            json!({"executionArn": exec3, "error": "E"})
        )
        .await
        .is_ok()
    );
    assert_eq!(c.status(&exec3).await["status"], "ABORTED");
}

/// A stand-in for the Lambda integration the next change plugs in.
struct FakeLambda;

impl sfn_local::Integration for FakeLambda {
    fn handles(&self, resource: &str) -> bool {
        resource == "arn:aws:states:::lambda:invoke"
    }
    fn invoke(
        &self,
        request: sfn_local::TaskRequest,
    ) -> sfn_local::BoxFuture<sfn_local::TaskOutcome> {
        Box::pin(async move {
            if request.parameters["Payload"]["fail"] == json!(true) {
                sfn_local::TaskOutcome::Failed {
                    error: "Lambda.Unknown".into(),
                    cause: "boom".into(),
                }
            } else {
                sfn_local::TaskOutcome::Succeeded(
                    json!({"StatusCode": 200, "Payload": {"echo": request.parameters["Payload"]}}),
                )
            }
        })
    }
}

#[tokio::test]
async fn integrations_run_tasks_and_unknown_resources_fail() {
    let dir = temp_dir("integ");
    let opts = sfn_local::ServerOptions {
        addr: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
        state_dir: dir,
        region: "us-east-1".into(),
        account: "123456789012".into(),
    };
    let (addr, fut) = match sfn_local::bind_with(
        opts,
        vec![std::sync::Arc::new(FakeLambda)],
        std::future::pending(),
    )
    .await
    {
        Ok(v) => v,
        Err(e) => panic!("bind: {e}"),
    };
    tokio::spawn(fut);
    let c = Client::new(format!("http://{addr}/"));
    let sm = c
        .create(
            "lam",
            json!({"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "ResultSelector": {"r.$": "$.Payload.echo"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
                "Caught": {"Type": "Pass", "End": true}}}),
        )
        .await;
    let ok = c.start(&sm, "ok", json!({"n": 1})).await;
    let d = c.wait_done(&ok, 5).await;
    assert_eq!(d["output"], json!({"r": {"n": 1}}).to_string());
    let types: Vec<String> = c
        .history(&ok)
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let bad = c.start(&sm, "bad", json!({"fail": true})).await;
    let d = c.wait_done(&bad, 5).await;
    assert_eq!(
        d["output"],
        json!({"Error": "Lambda.Unknown", "Cause": "boom"}).to_string()
    );

    let other = c
        .create(
            "other",
            json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "End": true}}}),
        )
        .await;
    let e = c.start(&other, "x", json!({})).await;
    let d = c.wait_done(&e, 5).await;
    assert_eq!(
        (d["status"].clone(), d["error"].clone()),
        (json!("FAILED"), json!("States.TaskFailed"))
    );
}

#[tokio::test]
async fn heartbeats_keep_a_task_alive_until_they_stop() {
    let (c, _stop, _dir) = server().await;
    let sm = c
        .create(
            "hb",
            json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task",
                "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "Parameters": {"token.$": "$$.Task.Token"},
                "HeartbeatSeconds": 1, "TimeoutSeconds": 30, "End": true}}}),
        )
        .await;
    let exec = c.start(&sm, "hb1", json!({})).await;
    let token = c.token(&exec).await;
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert!(
            c.call("SendTaskHeartbeat", json!({"taskToken": token}))
                .await
                .is_ok()
        );
    }
    // 1.6 s have passed: more than one HeartbeatSeconds, so heartbeats kept it alive.
    assert_eq!(c.status(&exec).await["status"], "RUNNING");
    let d = c.wait_done(&exec, 5).await;
    assert_eq!(
        (d["status"].clone(), d["error"].clone()),
        (json!("FAILED"), json!("States.HeartbeatTimeout"))
    );
}

/// A Lambda that answers only once the test opens its gate.
struct GatedLambda(std::sync::Arc<tokio::sync::Notify>);

impl sfn_local::Integration for GatedLambda {
    fn handles(&self, resource: &str) -> bool {
        resource == "arn:aws:states:::lambda:invoke"
    }
    fn invoke(
        &self,
        _request: sfn_local::TaskRequest,
    ) -> sfn_local::BoxFuture<sfn_local::TaskOutcome> {
        let gate = self.0.clone();
        Box::pin(async move {
            gate.notified().await;
            sfn_local::TaskOutcome::Succeeded(json!({"StatusCode": 200}))
        })
    }
}

/// A request-response task cut while it runs (its sibling branch failed) is forgotten
/// once its late outcome arrives, so a restart does not run it again.
#[tokio::test]
async fn a_task_cut_while_it_runs_is_not_run_again_after_a_restart() {
    let dir = temp_dir("cut-inflight");
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let opts = sfn_local::ServerOptions {
        addr: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
        state_dir: dir.clone(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
    };
    let (addr, fut) = sfn_local::bind_with(
        opts,
        vec![std::sync::Arc::new(GatedLambda(gate.clone()))],
        std::future::pending(),
    )
    .await
    .unwrap_or_else(|e| panic!("bind: {e}"));
    tokio::spawn(fut);
    let c = Client::new(format!("http://{addr}/"));
    let sm = c
        .create(
            "cut",
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
                "Catch": [{"ErrorEquals": ["Decided"], "Next": "Hold"}],
                "Branches": [
                    {"StartAt": "Tick", "States": {"Tick": {"Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "tick"}, "End": true}}},
                    {"StartAt": "Ask", "States": {
                        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                                "Parameters": {"token.$": "$$.Task.Token"}, "Next": "Decided"},
                        "Decided": {"Type": "Fail", "Error": "Decided"}}}]},
                "Hold": {"Type": "Wait", "Seconds": 3600, "End": true}}}),
        )
        .await;
    let exec = c.start(&sm, "cut1", json!({})).await;
    // Ask's token (Tick is scheduled first and has none).
    let mut token = String::new();
    for _ in 0..100 {
        token = c
            .history(&exec)
            .await
            .iter()
            .filter_map(|e| e["taskScheduledEventDetails"]["parameters"].as_str())
            .filter_map(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .find_map(|p| p["token"].as_str().map(str::to_owned))
            .unwrap_or_default();
        if !token.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let inflight = || {
        let db = rusqlite::Connection::open(dir.join("sfn-local.sqlite3"))
            .unwrap_or_else(|e| panic!("{e}"));
        // Tick's request only: Ask's is there too until it is submitted.
        db.query_row(
            "SELECT count(*) FROM inflight WHERE request LIKE '%lambda:invoke%'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(inflight(), 1, "Tick runs");
    let sent = c
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{}"}),
        )
        .await;
    assert!(sent.is_ok(), "{sent:?}");
    // Tick's branch is cut (TaskStateAborted) while Tick still runs.
    let mut types = Vec::new();
    for _ in 0..100 {
        types = c
            .history(&exec)
            .await
            .iter()
            .map(|e| e["type"].to_string())
            .collect();
        if types.iter().any(|t| t == "\"WaitStateEntered\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        types.iter().any(|t| t == "\"TaskStateAborted\""),
        "{types:?}"
    );
    assert_eq!(inflight(), 1, "Tick's request is still held");
    gate.notify_one();
    let mut left = 1;
    for _ in 0..100 {
        left = inflight();
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0, "the cut Tick's request was kept");
    assert_eq!(c.status(&exec).await["status"], "RUNNING");
    let _ = std::fs::remove_dir_all(&dir);
}
