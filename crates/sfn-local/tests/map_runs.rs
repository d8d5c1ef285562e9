//! Map runs through the real `aws-sdk-sfn` client: a distributed Map reads a CSV from
//! a fake S3 integration (the engine's `aws-sdk:s3:*` contract), its children wait for
//! task tokens, and ListMapRuns / DescribeMapRun / UpdateMapRun report and steer it;
//! then its ResultWriter files land in the fake S3. A map run's children are
//! executions of their own: ListExecutions with `mapRunArn`, DescribeExecution and
//! GetExecutionHistory show them.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::operation::describe_map_run::{DescribeMapRunError, DescribeMapRunOutput};
use aws_sdk_sfn::operation::list_executions::ListExecutionsError;
use aws_sdk_sfn::operation::list_map_runs::ListMapRunsError;
use aws_sdk_sfn::operation::update_map_run::UpdateMapRunError;
use aws_sdk_sfn::types::{ExecutionListItem, ExecutionStatus, MapRunStatus};
use common::temp_dir;
use serde_json::{Value, json};

/// Objects by (bucket, key), and the task tokens of children waiting on a callback.
#[derive(Default)]
struct FakeS3 {
    objects: Mutex<BTreeMap<(String, String), String>>,
    tokens: Mutex<Vec<String>>,
}

impl sfn_local::Integration for FakeS3 {
    fn handles(&self, resource: &str) -> bool {
        resource.starts_with("arn:aws:states:::aws-sdk:s3:")
            || resource == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    }
    fn invoke(
        &self,
        request: sfn_local::TaskRequest,
    ) -> sfn_local::BoxFuture<sfn_local::TaskOutcome> {
        let p = &request.parameters;
        let s = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
        let outcome = match request.resource.as_str() {
            "arn:aws:states:::aws-sdk:s3:getObject" => {
                match self
                    .objects
                    .lock()
                    .ok()
                    .and_then(|o| o.get(&(s("Bucket"), s("Key"))).cloned())
                {
                    Some(body) => sfn_local::TaskOutcome::Succeeded(json!({"Body": body})),
                    None => sfn_local::TaskOutcome::Failed {
                        error: "S3.NoSuchKeyException".into(),
                        cause: "The specified key does not exist.".into(),
                    },
                }
            }
            "arn:aws:states:::aws-sdk:s3:putObject" => {
                if let Ok(mut o) = self.objects.lock() {
                    o.insert((s("Bucket"), s("Key")), s("Body"));
                }
                sfn_local::TaskOutcome::Succeeded(json!({}))
            }
            _ => {
                if let (Ok(mut t), Some(token)) = (self.tokens.lock(), request.task_token) {
                    t.push(token);
                }
                sfn_local::TaskOutcome::Submitted(json!({}))
            }
        };
        Box::pin(async move { outcome })
    }
}

async fn server(s3: Arc<FakeS3>) -> Client {
    let opts = sfn_local::ServerOptions {
        addr: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
        state_dir: temp_dir("maprun"),
        region: "us-east-1".into(),
        account: "123456789012".into(),
    };
    let (addr, fut) = sfn_local::bind_with(opts, vec![s3], std::future::pending())
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    tokio::spawn(fut);
    let conf = test_support::loopback_sdk_config(&format!("http://{addr}/")).await;
    Client::new(&conf)
}

async fn describe(c: &Client, arn: &str) -> DescribeMapRunOutput {
    c.describe_map_run()
        .map_run_arn(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeMapRun: {e:?}"))
}

/// Polls until `f` holds (the server runs tasks asynchronously).
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut f: F) {
    let t0 = Instant::now();
    while !f().await {
        assert!(t0.elapsed() < Duration::from_secs(10), "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn map_runs_are_listed_described_and_updated() {
    let s3 = Arc::new(FakeS3::default());
    let csv =
        "id,name\n".to_owned() + &(1..=5).map(|i| format!("{i},row{i}\n")).collect::<String>();
    if let Ok(mut o) = s3.objects.lock() {
        o.insert(("in".into(), "rows.csv".into()), csv);
    }
    let c = server(s3.clone()).await;
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "Label": "Rows",
        "MaxConcurrency": 1, "ToleratedFailurePercentage": 10,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Parameters": {"Bucket": "in", "Key.$": "$.key"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Ask", "States": {"Ask": {"Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"row.$": "$", "token.$": "$$.Task.Token"}},
                "End": true}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "out", "Prefix": "runs"}},
        "End": true}}});
    let sm = c
        .create_state_machine()
        .name("rows")
        .definition(def.to_string())
        .role_arn("arn:aws:iam::123456789012:role/r")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStateMachine: {e:?}"))
        .state_machine_arn;
    let exec = c
        .start_execution()
        .state_machine_arn(&sm)
        .input(json!({"key": "rows.csv"}).to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("StartExecution: {e:?}"))
        .execution_arn;
    eventually("the first child waits", async || {
        s3.tokens.lock().map(|t| t.len()).unwrap_or(0) == 1
    })
    .await;

    let runs = c
        .list_map_runs()
        .execution_arn(&exec)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListMapRuns: {e:?}"))
        .map_runs;
    assert_eq!(runs.len(), 1);
    let arn = runs[0].map_run_arn.clone();
    assert!(
        arn.starts_with("arn:aws:states:us-east-1:123456789012:mapRun:rows/Rows:"),
        "{arn}"
    );
    assert_eq!(runs[0].execution_arn, exec);
    assert_eq!(
        runs[0].state_machine_arn,
        "arn:aws:states:us-east-1:123456789012:stateMachine:rows/Rows"
    );
    assert!(runs[0].stop_date.is_none());

    let d = describe(&c, &arn).await;
    assert_eq!(d.status, MapRunStatus::Running);
    assert_eq!(d.max_concurrency, 1);
    assert_eq!(d.tolerated_failure_percentage, 10.0);
    let counts = d.execution_counts.unwrap_or_else(|| panic!("no counts"));
    assert_eq!(
        (
            counts.total,
            counts.running,
            counts.pending,
            counts.succeeded
        ),
        (5, 1, 4, 0)
    );

    c.update_map_run()
        .map_run_arn(&arn)
        .max_concurrency(5)
        .tolerated_failure_count(2)
        .send()
        .await
        .unwrap_or_else(|e| panic!("UpdateMapRun: {e:?}"));
    eventually("all children wait", async || {
        s3.tokens.lock().map(|t| t.len()).unwrap_or(0) == 5
    })
    .await;
    let d = describe(&c, &arn).await;
    assert_eq!((d.max_concurrency, d.tolerated_failure_count), (5, 2));
    assert_eq!(
        d.execution_counts.map(|c| (c.running, c.pending)),
        Some((5, 0))
    );

    let tokens = s3.tokens.lock().map(|t| t.clone()).unwrap_or_default();
    for (i, t) in tokens.iter().enumerate() {
        c.send_task_success()
            .task_token(t)
            .output(json!({"done": i}).to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("SendTaskSuccess: {e:?}"));
    }
    let mut out = Value::Null;
    eventually("the execution succeeds", async || {
        let d = c.describe_execution().execution_arn(&exec).send().await;
        match d.ok().and_then(|d| d.output) {
            Some(o) => {
                out = serde_json::from_str(&o).unwrap_or_default();
                true
            }
            None => false,
        }
    })
    .await;
    assert_eq!(out["MapRunArn"], json!(arn));
    let key = out["ResultWriterDetails"]["Key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let uuid = arn.rsplit(':').next().unwrap_or_default();
    assert_eq!(key, format!("runs/{uuid}/manifest.json"));
    let objects = s3.objects.lock().map(|o| o.clone()).unwrap_or_default();
    let written: Value = objects
        .get(&("out".into(), format!("runs/{uuid}/SUCCEEDED_0.json")))
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_default();
    let mut outputs: Vec<String> = written
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["Output"].as_str().map(str::to_owned))
        .collect();
    outputs.sort();
    assert_eq!(
        outputs,
        (0..5)
            .map(|i| json!({"done": i}).to_string())
            .collect::<Vec<_>>()
    );
    assert!(objects.contains_key(&("out".into(), key)));

    let d = describe(&c, &arn).await;
    assert_eq!(d.status, MapRunStatus::Succeeded);
    assert!(d.stop_date.is_some());
    let counts = d.item_counts.unwrap_or_else(|| panic!("no counts"));
    assert_eq!(
        (
            counts.total,
            counts.succeeded,
            counts.results_written,
            counts.running
        ),
        (5, 5, 5, 0)
    );

    // Errors: a finished run, an unknown one, a malformed ARN, an unknown execution.
    let e = c
        .update_map_run()
        .map_run_arn(&arn)
        .max_concurrency(1)
        .send()
        .await;
    assert!(matches!(
        e.map_err(|e| e.into_service_error()),
        Err(UpdateMapRunError::ValidationException(_))
    ));
    let unknown = arn.replace(uuid, "00000000-0000-4000-8000-000000000000");
    let e = c.describe_map_run().map_run_arn(&unknown).send().await;
    assert!(matches!(
        e.map_err(|e| e.into_service_error()),
        Err(DescribeMapRunError::ResourceNotFound(_))
    ));
    let e = c
        .describe_map_run()
        .map_run_arn("arn:aws:states:us-east-1:123456789012:execution:rows:x")
        .send()
        .await;
    assert!(matches!(
        e.map_err(|e| e.into_service_error()),
        Err(DescribeMapRunError::InvalidArn(_))
    ));
    let e = c
        .update_map_run()
        .map_run_arn(&unknown)
        .max_concurrency(1)
        .send()
        .await;
    assert!(matches!(
        e.map_err(|e| e.into_service_error()),
        Err(UpdateMapRunError::ResourceNotFound(_))
    ));
    let e = c
        .list_map_runs()
        .execution_arn(exec.replace(":execution:rows:", ":execution:rows:nope-"))
        .send()
        .await;
    assert!(matches!(
        e.map_err(|e| e.into_service_error()),
        Err(ListMapRunsError::ExecutionDoesNotExist(_))
    ));
}

#[tokio::test]
async fn a_missing_object_fails_the_map_run_with_item_reader_failed() {
    let s3 = Arc::new(FakeS3::default());
    let c = server(s3).await;
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket": "in", "Key": "nope.json"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}});
    let sm = c
        .create_state_machine()
        .name("missing")
        .definition(def.to_string())
        .role_arn("arn:aws:iam::123456789012:role/r")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStateMachine: {e:?}"))
        .state_machine_arn;
    let exec = c
        .start_execution()
        .state_machine_arn(&sm)
        .send()
        .await
        .unwrap_or_else(|e| panic!("StartExecution: {e:?}"))
        .execution_arn;
    let mut error = None;
    eventually("the execution fails", async || {
        let d = c.describe_execution().execution_arn(&exec).send().await;
        error = d.ok().and_then(|d| d.error);
        error.is_some()
    })
    .await;
    assert_eq!(error.as_deref(), Some("States.ItemReaderFailed"));
    let runs = c
        .list_map_runs()
        .execution_arn(&exec)
        .send()
        .await
        .map(|r| r.map_runs)
        .unwrap_or_default();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        describe(&c, &runs[0].map_run_arn).await.status,
        MapRunStatus::Failed
    );
}

async fn machine(c: &Client, name: &str, def: &Value) -> String {
    c.create_state_machine()
        .name(name)
        .definition(def.to_string())
        .role_arn("arn:aws:iam::123456789012:role/r")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStateMachine: {e:?}"))
        .state_machine_arn
}

async fn start(c: &Client, sm: &str, input: &Value) -> String {
    c.start_execution()
        .state_machine_arn(sm)
        .input(input.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("StartExecution: {e:?}"))
        .execution_arn
}

/// Every page of ListExecutions for a map run, `page` items at a time.
async fn children(
    c: &Client,
    map_run: &str,
    status: Option<ExecutionStatus>,
    page: i32,
) -> Vec<ExecutionListItem> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .list_executions()
            .map_run_arn(map_run)
            .set_status_filter(status.clone())
            .max_results(page)
            .set_next_token(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListExecutions: {e:?}"));
        all.extend(out.executions);
        token = out.next_token;
        if token.is_none() {
            return all;
        }
    }
}

#[tokio::test]
async fn a_map_runs_children_are_listed_described_and_have_a_history() {
    let c = server(Arc::new(FakeS3::default())).await;
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "Label": "Rows",
        "ItemsPath": "$.rows", "ToleratedFailureCount": 2, "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Check", "States": {
                "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": false,
                    "Next": "Bad"}], "Default": "Good"},
                "Bad": {"Type": "Fail", "Error": "Row.Invalid", "CausePath": "$.why"},
                "Good": {"Type": "Pass", "Parameters": {"id.$": "$.id", "checked": true}, "End": true}}}}}});
    let sm = machine(&c, "kids", &def).await;
    let rows: Vec<Value> = (0..5)
        .map(|i| json!({"id": i, "ok": i % 2 == 0, "why": format!("row {i} has no owner")}))
        .collect();
    let exec = start(&c, &sm, &json!({"rows": rows})).await;
    let d = c
        .describe_execution()
        .execution_arn(&exec)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeExecution: {e:?}"));
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.map_run_arn, None);
    let runs = c
        .list_map_runs()
        .execution_arn(&exec)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListMapRuns: {e:?}"))
        .map_runs;
    let run = runs[0].map_run_arn.clone();

    // Listed two at a time: five children, newest first, AWS's shapes.
    let kids = children(&c, &run, None, 2).await;
    assert_eq!(kids.len(), 5);
    let labelled = "arn:aws:states:us-east-1:123456789012:stateMachine:kids/Rows";
    for k in &kids {
        assert_eq!(k.state_machine_arn, labelled);
        assert_eq!(k.map_run_arn.as_deref(), Some(run.as_str()));
        assert_eq!(
            k.execution_arn,
            format!(
                "arn:aws:states:us-east-1:123456789012:execution:kids/Rows:{}",
                k.name
            )
        );
        assert_eq!(k.name.len(), 36, "{}", k.name);
        assert!(k.stop_date.is_some());
        assert_eq!(k.item_count, Some(1));
    }
    let mut names: Vec<&str> = kids.iter().map(|k| k.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 5);
    let failed = children(&c, &run, Some(ExecutionStatus::Failed), 100).await;
    assert_eq!(failed.len(), 2);
    let succeeded = children(&c, &run, Some(ExecutionStatus::Succeeded), 100).await;
    assert_eq!(succeeded.len(), 3);

    // A failed child says why.
    let f = c
        .describe_execution()
        .execution_arn(&failed[0].execution_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeExecution of a child: {e:?}"));
    assert_eq!(f.status, ExecutionStatus::Failed);
    assert_eq!(f.error.as_deref(), Some("Row.Invalid"));
    let input: Value =
        serde_json::from_str(f.input.as_deref().unwrap_or("null")).unwrap_or_default();
    let id = input["id"].as_i64().unwrap_or(-1);
    assert!(id == 1 || id == 3, "{input}");
    assert_eq!(f.cause, Some(format!("row {id} has no owner")));
    assert_eq!(f.map_run_arn.as_deref(), Some(run.as_str()));
    assert_eq!(f.state_machine_arn, labelled);
    assert!(f.output.is_none() && f.stop_date.is_some());
    let h = c
        .get_execution_history()
        .execution_arn(&failed[0].execution_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetExecutionHistory of a child: {e:?}"))
        .events;
    let types: Vec<&str> = h.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(types, ["ExecutionStarted", "ExecutionFailed"]);
    let fd = h[1]
        .execution_failed_event_details
        .as_ref()
        .unwrap_or_else(|| panic!("no failure details"));
    assert_eq!(fd.error.as_deref(), Some("Row.Invalid"));
    assert_eq!(fd.cause, Some(format!("row {id} has no owner")));
    assert_eq!(
        h[0].execution_started_event_details
            .as_ref()
            .and_then(|d| d.input.clone()),
        f.input
    );

    let m = c
        .describe_state_machine_for_execution()
        .execution_arn(&failed[0].execution_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeStateMachineForExecution of a child: {e:?}"));
    assert_eq!(
        (m.map_run_arn.as_deref(), m.label.as_deref()),
        (Some(run.as_str()), Some("Rows"))
    );
    assert_eq!(m.role_arn, "arn:aws:iam::123456789012:role/r");

    // A succeeded one has its output.
    let s = c
        .describe_execution()
        .execution_arn(&succeeded[0].execution_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeExecution of a child: {e:?}"));
    let input: Value =
        serde_json::from_str(s.input.as_deref().unwrap_or("null")).unwrap_or_default();
    let output: Value =
        serde_json::from_str(s.output.as_deref().unwrap_or("null")).unwrap_or_default();
    assert_eq!(output, json!({"id": input["id"], "checked": true}));

    // The parent's machine lists only the parent.
    let listed = c
        .list_executions()
        .state_machine_arn(&sm)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListExecutions: {e:?}"))
        .executions;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].execution_arn, exec);
    assert_eq!(listed[0].map_run_arn, None);

    // Both ARNs, or an unknown map run, are refused.
    let e = c
        .list_executions()
        .state_machine_arn(&sm)
        .map_run_arn(&run)
        .send()
        .await;
    assert!(
        matches!(
            e.as_ref().map_err(|e| e.as_service_error()),
            Err(Some(ListExecutionsError::ValidationException(_)))
        ),
        "{e:?}"
    );
    let uuid = run.rsplit(':').next().unwrap_or_default();
    let unknown = run.replace(uuid, "00000000-0000-4000-8000-000000000000");
    let e = c.list_executions().map_run_arn(&unknown).send().await;
    assert!(
        matches!(
            e.as_ref().map_err(|e| e.as_service_error()),
            Err(Some(ListExecutionsError::ResourceNotFound(_)))
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_failed_map_run_shows_which_child_failed_and_why() {
    let s3 = Arc::new(FakeS3::default());
    let c = server(s3.clone()).await;
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 2,
        "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Ask", "States": {"Ask": {"Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"row.$": "$", "token.$": "$$.Task.Token"}},
                "End": true}}}}}});
    let sm = machine(&c, "asks", &def).await;
    let exec = start(&c, &sm, &json!([{"n": 0}, {"n": 1}, {"n": 2}])).await;
    eventually("two children wait", async || {
        s3.tokens.lock().map(|t| t.len()).unwrap_or(0) == 2
    })
    .await;
    let runs = c
        .list_map_runs()
        .execution_arn(&exec)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListMapRuns: {e:?}"))
        .map_runs;
    let run = runs[0].map_run_arn.clone();
    // Running children are listed; the one not started yet is not.
    let kids = children(&c, &run, None, 100).await;
    assert_eq!(kids.len(), 2);
    assert!(
        kids.iter()
            .all(|k| k.status == ExecutionStatus::Running && k.stop_date.is_none())
    );
    // Unlabelled: the map run's label is a UUID, in both ARNs.
    let label = run
        .split(":mapRun:asks/")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .unwrap_or_default();
    assert_eq!(label.len(), 36, "{run}");
    assert!(
        kids[0]
            .execution_arn
            .contains(&format!(":execution:asks/{label}:"))
    );

    let token = s3.tokens.lock().map(|t| t[0].clone()).unwrap_or_default();
    c.send_task_failure()
        .task_token(token)
        .error("Review.Rejected")
        .cause("the reviewer said no")
        .send()
        .await
        .unwrap_or_else(|e| panic!("SendTaskFailure: {e:?}"));
    let d = c
        .describe_execution()
        .execution_arn(&exec)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeExecution: {e:?}"));
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(
        d.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    let failed = children(&c, &run, Some(ExecutionStatus::Failed), 100).await;
    assert_eq!(failed.len(), 1);
    let f = c
        .describe_execution()
        .execution_arn(&failed[0].execution_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeExecution of a child: {e:?}"));
    assert_eq!(
        (f.error.as_deref(), f.cause.as_deref(), f.input.as_deref()),
        (
            Some("Review.Rejected"),
            Some("the reviewer said no"),
            Some(r#"{"n":0}"#)
        )
    );
    // The other waiting child was cut with its map run.
    let aborted = children(&c, &run, Some(ExecutionStatus::Aborted), 100).await;
    assert_eq!(aborted.len(), 1);
    let h = c
        .get_execution_history()
        .execution_arn(&aborted[0].execution_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetExecutionHistory of a child: {e:?}"))
        .events;
    let types: Vec<&str> = h.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(types, ["ExecutionStarted", "ExecutionAborted"]);
}
