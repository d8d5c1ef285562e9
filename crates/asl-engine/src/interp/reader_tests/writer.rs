//! ResultWriter, tolerated failures, map runs and UpdateMapRun with the fake S3 host.

use super::*;

/// Children fail when their item's `ok` is "no".
fn flaky() -> Value {
    json!({"Type": "Choice", "Choices": [{"Variable": "$.ok", "StringEquals": "no", "Next": "F"}], "Default": "S"})
}

fn flaky_machine(extra: Value) -> Definition {
    let mut m = json!({"Type": "Map", "ItemReader": get_object("CSV", json!({})),
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "C", "States": {"C": flaky(),
                "F": {"Type": "Fail", "Error": "Bad", "Cause": "row said no"},
                "S": {"Type": "Pass", "End": true}}},
        "End": true});
    if let (Some(o), Some(e)) = (m.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    def(json!({"StartAt": "M", "States": {"M": m}}))
}

#[test]
fn tolerated_failures_by_count_and_percentage() {
    // 2 failures out of 10 rows.
    let body = "ok\n".to_owned()
        + &(0..10)
            .map(|i| if i % 5 == 0 { "no\n" } else { "yes\n" })
            .collect::<String>();
    let mut s3 = FakeS3::with(&[("in", "f.csv", &body)]);
    let cases = [
        (json!({"ToleratedFailureCount": 2}), Status::Succeeded),
        (json!({"ToleratedFailureCount": 1}), Status::Failed),
        (json!({"ToleratedFailurePercentage": 20}), Status::Succeeded),
        (json!({"ToleratedFailurePercentage": 10}), Status::Failed),
        (json!({}), Status::Failed),
    ];
    for (extra, want) in cases {
        let (exec, _) = s3.run(&flaky_machine(extra.clone()), input("f.csv"));
        assert_eq!(exec.status, want, "{extra}");
        if want == Status::Failed {
            assert_eq!(
                exec.error.as_deref(),
                Some("States.ExceedToleratedFailureThreshold")
            );
            assert_eq!(exec.map_runs()[0].status, MapRunStatus::Failed);
        } else {
            let runs = exec.map_runs();
            assert_eq!(runs[0].status, MapRunStatus::Succeeded);
            assert_eq!(
                (
                    runs[0].executions.succeeded,
                    runs[0].executions.failed,
                    runs[0].executions.total
                ),
                (8, 2, 10)
            );
        }
    }
}

#[test]
fn result_writer_writes_aws_files_and_outputs_the_manifest() {
    let body = "ok\nyes\nno\nyes\n";
    let mut s3 = FakeS3::with(&[("in", "f.csv", body)]);
    let extra = json!({"Label": "Rows", "ToleratedFailureCount": 1,
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "out", "Prefix": "jobs"}}});
    let (exec, events) = s3.run(&flaky_machine(extra), input("f.csv"));
    assert_eq!(exec.status, Status::Succeeded);
    let out = exec.output.unwrap_or_default();
    let arn = out["MapRunArn"].as_str().unwrap_or_default().to_owned();
    assert!(
        arn.starts_with("arn:aws:states:us-east-1:123456789012:mapRun:sm/Rows:"),
        "{arn}"
    );
    let uuid = arn.rsplit(':').next().unwrap_or_default();
    let manifest_key = format!("jobs/{uuid}/manifest.json");
    assert_eq!(
        out["ResultWriterDetails"],
        json!({"Bucket": "out", "Key": manifest_key})
    );
    let i = types(&events).iter().position(|t| *t == "MapRunSucceeded");
    assert_eq!(i.map(|i| types(&events)[i + 1]), Some("MapStateSucceeded"));
    let manifest = s3.object("out", &manifest_key);
    let ok_key = format!("jobs/{uuid}/SUCCEEDED_0.json");
    let bad_key = format!("jobs/{uuid}/FAILED_0.json");
    let size = |k: &str| {
        s3.objects
            .get(&("out".into(), k.into()))
            .map_or(0, String::len)
    };
    assert_eq!(
        manifest,
        json!({"DestinationBucket": "out", "MapRunArn": arn, "ResultFiles": {
            "FAILED": [{"Key": bad_key, "Size": size(&bad_key)}],
            "PENDING": [],
            "SUCCEEDED": [{"Key": ok_key, "Size": size(&ok_key)}]}})
    );
    let ok = s3.object("out", &ok_key);
    assert_eq!(ok.as_array().map(Vec::len), Some(2));
    assert_eq!(ok[0]["Input"], json!("{\"ok\":\"yes\"}"));
    assert_eq!(ok[0]["Output"], json!("{\"ok\":\"yes\"}"));
    assert_eq!(ok[0]["Status"], json!("SUCCEEDED"));
    assert_eq!(ok[0]["InputDetails"], json!({"Included": true}));
    assert_eq!(
        ok[0]["StateMachineArn"],
        json!("arn:aws:states:us-east-1:123456789012:stateMachine:sm/Rows")
    );
    assert!(ok[0]["ExecutionArn"].as_str().is_some_and(|a| {
        a.starts_with("arn:aws:states:us-east-1:123456789012:execution:sm/Rows:")
    }));
    let bad = s3.object("out", &bad_key);
    assert_eq!(bad[0]["Error"], json!("Bad"));
    assert_eq!(bad[0]["Cause"], json!("row said no"));
    assert_eq!(bad[0]["Status"], json!("FAILED"));
    assert_eq!(bad[0]["Input"], json!("{\"ok\":\"no\"}"));
}

#[test]
fn writer_config_alone_shapes_the_output() {
    let body = "[[1, 2], [3], 4]";
    let mut s3 = FakeS3::with(&[("in", "f.json", body)]);
    let extra = |t: &str| json!({"ResultWriter": {"WriterConfig": {"Transformation": t, "OutputType": "JSON"}}});
    let (exec, _) = s3.run(
        &map_machine(get_object("JSON", json!({})), extra("FLATTEN"), pass()),
        input("f.json"),
    );
    assert_eq!(exec.output, Some(json!([1, 2, 3, 4])));
    let (exec, _) = s3.run(
        &map_machine(get_object("JSON", json!({})), extra("COMPACT"), pass()),
        input("f.json"),
    );
    assert_eq!(exec.output, Some(json!([[1, 2], [3], 4])));
    // JSONL export: one result per line.
    let extra = json!({"ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "out", "Prefix": ""},
        "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}});
    let (exec, _) = s3.run(
        &map_machine(get_object("JSON", json!({})), extra, pass()),
        input("f.json"),
    );
    let key = exec.output.unwrap_or_default()["ResultWriterDetails"]["Key"]
        .as_str()
        .unwrap_or_default()
        .replace("manifest.json", "SUCCEEDED_0.json");
    assert!(!key.starts_with('/'), "{key}");
    assert_eq!(
        s3.objects.get(&("out".into(), key)).map(String::as_str),
        Some("[1,2]\n[3]\n4\n")
    );
}

#[test]
fn inline_items_with_a_result_writer() {
    let d = def(json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "C", "States": {"C": pass()}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "p"}},
        "End": true}}}));
    let mut s3 = FakeS3::default();
    let (exec, events) = s3.run(&d, json!(["Hello", "World"]));
    assert_eq!(exec.status, Status::Succeeded);
    assert_eq!(events[2].details, json!({"length": 2}));
    let key = exec.output.unwrap_or_default()["ResultWriterDetails"]["Key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ok = s3.object("out", &key.replace("manifest.json", "SUCCEEDED_0.json"));
    assert_eq!(ok[1]["Output"], json!("\"World\""));
}

#[test]
fn s3_failures_are_aws_errors_that_catch_sees() {
    let catch = json!({"Catch": [{"ErrorEquals": ["States.ItemReaderFailed", "States.ResultWriterFailed"], "ResultPath": "$.err", "Next": "Caught"}]});
    let build = |extra: Value| {
        let mut m = json!({"Type": "Map", "ItemReader": get_object("JSON", json!({})),
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "C", "States": {"C": pass()}},
            "End": true});
        if let (Some(o), Some(e)) = (m.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        if let (Some(o), Some(c)) = (m.as_object_mut(), catch.as_object()) {
            o.extend(c.clone());
        }
        def(json!({"StartAt": "M", "States": {"M": m, "Caught": {"Type": "Pass", "End": true}}}))
    };
    // The object is missing.
    let mut s3 = FakeS3::default();
    let (exec, events) = s3.run(&build(json!({})), input("missing.json"));
    assert_eq!(exec.status, Status::Succeeded);
    assert_eq!(
        exec.output.unwrap_or_default()["err"],
        json!({"Error": "States.ItemReaderFailed", "Cause": "The specified key does not exist."})
    );
    assert!(types(&events).contains(&"MapRunFailed"));
    assert!(
        !types(&events).iter().any(|t| t.starts_with("Task")),
        "no Task events"
    );
    // Writing fails.
    let mut s3 = FakeS3::with(&[("in", "f.json", "[1]")]);
    s3.broken = Some(s3_wait::PUT_OBJECT);
    let extra = json!({"ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "nope", "Prefix": "p"}}});
    let (exec, _) = s3.run(&build(extra), input("f.json"));
    assert_eq!(
        exec.output.unwrap_or_default()["err"]["Error"],
        json!("States.ResultWriterFailed")
    );
}

#[test]
fn a_waiting_read_is_pending_and_survives_a_snapshot() {
    let d = map_machine(get_object("JSON", json!({})), json!({}), pass());
    let (exec, step) = Execution::start(&d, info(input("f.json")), 0);
    let (id, _) = step.tasks().next().unwrap_or_else(|| panic!("no S3 call"));
    assert_eq!(
        exec.pending(),
        vec![Pending::Task {
            task_id: id,
            token: None
        }]
    );
    assert!(exec.has_task(id));
    let text = serde_json::to_string(&exec).unwrap_or_default();
    let mut back: Execution = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let runs = back.map_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, MapRunStatus::Running);
    let step = back
        .apply(
            &d,
            Command::Task {
                task_id: id,
                outcome: TaskOutcome::Succeeded(json!({"Body": "[1, 2]"})),
            },
            5,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.output, Some(json!([1, 2])));
    assert!(types(&step.events).contains(&"MapRunSucceeded"));
    let runs = back.map_runs();
    assert_eq!(
        (
            runs[0].status,
            runs[0].executions.total,
            runs[0].executions.results_written
        ),
        (MapRunStatus::Succeeded, 2, 2)
    );
    assert_eq!(runs[0].stop_ms, Some(5));
}

#[test]
fn update_map_run_raises_concurrency() {
    let d = def(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}}},
        "End": true}}}),
    );
    let (mut exec, step) = Execution::start(&d, info(json!([1, 2, 3])), 0);
    assert_eq!(step.timers().count(), 1);
    let arn = exec.map_runs()[0].arn.clone();
    assert_eq!(exec.map_runs()[0].executions.running, 1);
    assert_eq!(exec.map_runs()[0].executions.pending, 2);
    let step = exec
        .apply(
            &d,
            Command::UpdateMapRun {
                map_run_arn: arn.clone(),
                max_concurrency: Some(3),
                tolerated_failure_count: Some(4),
                tolerated_failure_percentage: None,
            },
            1,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(step.timers().count(), 2, "two more children started");
    let runs = exec.map_runs();
    assert_eq!(
        (
            runs[0].max_concurrency,
            runs[0].tolerated_failure_count,
            runs[0].executions.running
        ),
        (3, 4, 3)
    );
    let unknown = exec.apply(
        &d,
        Command::UpdateMapRun {
            map_run_arn: "nope".into(),
            max_concurrency: None,
            tolerated_failure_count: None,
            tolerated_failure_percentage: None,
        },
        1,
    );
    assert_eq!(unknown.err(), Some(CommandError::UnknownMapRun));
}

#[test]
fn a_retried_read_starts_a_new_map_run() {
    let d = def(json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemReader": get_object("JSON", json!({})),
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "C", "States": {"C": pass()}},
        "Retry": [{"ErrorEquals": ["States.ItemReaderFailed"], "MaxAttempts": 1, "IntervalSeconds": 0}],
        "End": true}}}));
    let mut s3 = FakeS3::default();
    let (exec, events) = s3.run(&d, input("missing.json"));
    assert_eq!(exec.error.as_deref(), Some("States.ItemReaderFailed"));
    let started = types(&events)
        .iter()
        .filter(|t| **t == "MapRunStarted")
        .count();
    assert_eq!(started, 2);
    let runs = exec.map_runs();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.status == MapRunStatus::Failed));
    assert_ne!(runs[0].arn, runs[1].arn);
    assert_eq!(s3.calls.len(), 2);
}
