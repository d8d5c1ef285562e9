//! Map runs through the real `aws-sdk-sfn` client: a distributed Map reads a CSV from
//! a fake S3 integration (the engine's `aws-sdk:s3:*` contract), its children wait for
//! task tokens, and ListMapRuns / DescribeMapRun / UpdateMapRun report and steer it;
//! then its ResultWriter files land in the fake S3.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::operation::describe_map_run::{DescribeMapRunError, DescribeMapRunOutput};
use aws_sdk_sfn::operation::list_map_runs::ListMapRunsError;
use aws_sdk_sfn::operation::update_map_run::UpdateMapRunError;
use aws_sdk_sfn::types::MapRunStatus;
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
