//! GIVEN objects in a fake S3 host WHEN a distributed Map reads them (ItemReader) and
//! writes its results (ResultWriter) THEN the items, events, files and output are AWS's
//! (see the `reader` and `writer` module docs for the sources).

use std::collections::BTreeMap;

use super::*;

fn def(v: Value) -> Definition {
    match Definition::parse(&v) {
        Ok(d) => d,
        Err(e) => panic!("definition: {e}"),
    }
}

fn info(input: Value) -> ExecInfo {
    ExecInfo {
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:e1".into(),
        name: "e1".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
        state_machine_name: "sm".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        start_ms: 1_700_000_000_000,
        input,
        token_prefix: "tok-".into(),
    }
}

/// An S3 that answers the engine's three resources from memory (the contract in the
/// `reader` module doc), listing `page` keys per listObjectsV2 call.
#[derive(Default)]
struct FakeS3 {
    objects: BTreeMap<(String, String), String>,
    page: usize,
    /// Fail every call to this resource with S3.NoSuchBucket.
    broken: Option<&'static str>,
    calls: Vec<TaskRequest>,
}

impl FakeS3 {
    fn with(objects: &[(&str, &str, &str)]) -> Self {
        Self {
            objects: objects
                .iter()
                .map(|(b, k, v)| (((*b).into(), (*k).into()), (*v).into()))
                .collect(),
            page: 1000,
            ..Self::default()
        }
    }

    fn answer(&mut self, r: &TaskRequest) -> TaskOutcome {
        self.calls.push(r.clone());
        let p = &r.parameters;
        let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        if self.broken == Some(r.resource.as_str()) {
            return TaskOutcome::Failed {
                error: "S3.NoSuchBucketException".into(),
                cause: "The specified bucket does not exist".into(),
            };
        }
        match r.resource.as_str() {
            s3_wait::GET_OBJECT => match self.objects.get(&(s("Bucket"), s("Key"))) {
                Some(body) => {
                    TaskOutcome::Succeeded(json!({"Body": body, "ContentLength": body.len()}))
                }
                None => TaskOutcome::Failed {
                    error: "S3.NoSuchKeyException".into(),
                    cause: "The specified key does not exist.".into(),
                },
            },
            s3_wait::LIST_OBJECTS_V2 => {
                let (bucket, prefix) = (s("Bucket"), s("Prefix"));
                let after = s("ContinuationToken");
                let keys: Vec<(&String, &String)> = self
                    .objects
                    .iter()
                    .filter(|((b, k), _)| *b == bucket && k.starts_with(&prefix) && **k > *after)
                    .map(|((_, k), v)| (k, v))
                    .collect();
                let page: Vec<Value> = keys
                    .iter()
                    .take(self.page)
                    .map(|(k, v)| json!({"Key": k, "Size": v.len(), "ETag": "\"e\"", "LastModified": "2024-01-02T03:04:05Z", "StorageClass": "STANDARD"}))
                    .collect();
                let truncated = keys.len() > self.page;
                let mut out = json!({"Contents": page, "IsTruncated": truncated});
                if truncated {
                    out["NextContinuationToken"] = Value::from(keys[self.page - 1].0.clone());
                }
                TaskOutcome::Succeeded(out)
            }
            s3_wait::PUT_OBJECT => {
                self.objects.insert((s("Bucket"), s("Key")), s("Body"));
                TaskOutcome::Succeeded(json!({"ETag": "\"e\""}))
            }
            other => panic!("unexpected resource {other}"),
        }
    }

    /// Starts an execution and answers its S3 calls until it stops asking.
    fn run(&mut self, d: &Definition, input: Value) -> (Execution, Vec<HistoryEvent>) {
        let (mut exec, step) = Execution::start(d, info(input), 1_000);
        let mut events = step.events.clone();
        let mut pending: Vec<(u64, TaskRequest)> =
            step.tasks().map(|(i, r)| (i, r.clone())).collect();
        while let Some((id, req)) = pending.pop() {
            let outcome = self.answer(&req);
            let cmd = Command::Task {
                task_id: id,
                outcome,
            };
            // Snapshots survive a round trip through JSON while waiting (sfn-local
            // persists them).
            let text = serde_json::to_string(&exec).unwrap_or_default();
            exec = serde_json::from_str(&text).unwrap_or_else(|e| panic!("snapshot: {e}"));
            let step = exec
                .apply(d, cmd, 2_000)
                .unwrap_or_else(|e| panic!("apply: {e}"));
            events.extend(step.events.iter().cloned());
            pending.extend(step.tasks().map(|(i, r)| (i, r.clone())));
        }
        (exec, events)
    }

    fn object(&self, bucket: &str, key: &str) -> Value {
        let body = self
            .objects
            .get(&(bucket.into(), key.into()))
            .unwrap_or_else(|| panic!("no object {key}; have {:?}", self.objects.keys()));
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{key}: {e}"))
    }
}

fn map_machine(reader: Value, extra: Value, child: Value) -> Definition {
    let mut m = json!({"Type": "Map", "ItemReader": reader,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "C", "States": {"C": child}},
        "End": true});
    if let (Some(o), Some(e)) = (m.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    def(json!({"StartAt": "M", "States": {"M": m}}))
}

fn get_object(input_type: &str, config: Value) -> Value {
    let mut cfg = json!({"InputType": input_type});
    if let (Some(o), Some(e)) = (cfg.as_object_mut(), config.as_object()) {
        o.extend(e.clone());
    }
    json!({"Resource": "arn:aws:states:::s3:getObject",
        "Parameters": {"Bucket.$": "$.Bucket", "Key.$": "$.Key"}, "ReaderConfig": cfg})
}

fn pass() -> Value {
    json!({"Type": "Pass", "End": true})
}

fn types(events: &[HistoryEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

fn input(key: &str) -> Value {
    json!({"Bucket": "in", "Key": key})
}

/// The CSV of LocalStack's AWS recording `test_map_item_reader_base_csv_headers_first_line`.
const CSV: &str = "Col1,Col2,Col3\nValue1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,'HelloWorld'\nNull,None,\n   \n";

#[test]
fn csv_with_a_header_row_gives_what_aws_recorded() {
    let d = map_machine(
        get_object("CSV", json!({"CSVHeaderLocation": "FIRST_ROW"})),
        json!({}),
        pass(),
    );
    let mut s3 = FakeS3::with(&[("in", "f.csv", CSV)]);
    let (exec, events) = s3.run(&d, input("f.csv"));
    assert_eq!(
        exec.output,
        Some(json!([
            {"Col1": "Value1", "Col2": "Value2", "Col3": "Value3"},
            {"Col1": "Value4", "Col2": "Value5", "Col3": "Value6"},
            {"Col1": "", "Col2": "", "Col3": ""},
            {"Col1": "true", "Col2": "1", "Col3": "'HelloWorld'"},
            {"Col1": "Null", "Col2": "None", "Col3": ""},
            {"Col1": "   ", "Col2": "", "Col3": ""}
        ]))
    );
    assert_eq!(
        types(&events),
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapRunStarted",
            "MapRunSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(events[2].details, json!({"length": 0}));
    let prev: Vec<u64> = events.iter().map(|e| e.previous_event_id).collect();
    assert_eq!(prev, [0, 0, 2, 3, 4, 5, 5, 7]);
    assert_eq!(s3.calls.len(), 1);
    assert_eq!(
        s3.calls[0].resource,
        "arn:aws:states:::aws-sdk:s3:getObject"
    );
    assert_eq!(
        s3.calls[0].parameters,
        json!({"Bucket": "in", "Key": "f.csv"})
    );
    assert_eq!(s3.calls[0].task_token, None);
}

#[test]
fn csv_with_given_headers_drops_extra_fields_and_refuses_duplicates() {
    let body = "Value1,Value2,Value3\nValue4,Value5,Value6\n";
    let given = |h: Value| {
        map_machine(
            get_object(
                "CSV",
                json!({"CSVHeaderLocation": "GIVEN", "CSVHeaders": h}),
            ),
            json!({}),
            pass(),
        )
    };
    let mut s3 = FakeS3::with(&[("in", "f.csv", body)]);
    let (exec, _) = s3.run(&given(json!(["H1"])), input("f.csv"));
    assert_eq!(
        exec.output,
        Some(json!([{"H1": "Value1"}, {"H1": "Value4"}]))
    );
    let (exec, _) = s3.run(&given(json!(["A", "B", "C"])), input("f.csv"));
    assert_eq!(
        exec.output,
        Some(
            json!([{"A": "Value1", "B": "Value2", "C": "Value3"}, {"A": "Value4", "B": "Value5", "C": "Value6"}])
        )
    );
    let (exec, events) = s3.run(&given(json!(["H1", "H1", "H3"])), input("f.csv"));
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.error.as_deref(), Some("States.ItemReaderFailed"));
    assert_eq!(
        exec.cause.as_deref(),
        Some("CSV headers cannot contain duplicates.")
    );
    assert_eq!(
        types(&events)[3..],
        [
            "MapRunStarted",
            "MapRunFailed",
            "MapStateFailed",
            "ExecutionFailed"
        ]
    );
    // Recorded: `test_map_item_reader_csv_headers_decl_duplicate_headers`.
    let prev: Vec<u64> = events.iter().map(|e| e.previous_event_id).collect();
    assert_eq!(prev, [0, 0, 2, 3, 4, 5, 6]);
    assert_eq!(
        events[4].details,
        json!({"error": "States.ItemReaderFailed", "cause": "CSV headers cannot contain duplicates."})
    );
}

#[test]
fn csv_delimiter_and_quotes() {
    let d = map_machine(
        get_object("CSV", json!({"CSVDelimiter": "SEMICOLON"})),
        json!({}),
        pass(),
    );
    let mut s3 = FakeS3::with(&[("in", "f.csv", "a;b\n\"x;1\";\"say \"\"hi\"\"\"\n")]);
    let (exec, _) = s3.run(&d, input("f.csv"));
    assert_eq!(exec.output, Some(json!([{"a": "x;1", "b": "say \"hi\""}])));
}

#[test]
fn json_jsonl_and_max_items() {
    let json_body = r#"[{"v": 1, "w": "a"}, {"v": 2}, {"v": 3}]"#;
    let jsonl_body = "{\"v\": 1}\n\n{\"v\": 2}\n{\"v\": 3}\n";
    let mut s3 = FakeS3::with(&[
        ("in", "f.json", json_body),
        ("in", "f.jsonl", jsonl_body),
        ("in", "obj.json", "{\"a\": 1}"),
    ]);
    let (exec, _) = s3.run(
        &map_machine(get_object("JSON", json!({})), json!({}), pass()),
        input("f.json"),
    );
    assert_eq!(
        exec.output,
        Some(json!([{"v": 1, "w": "a"}, {"v": 2}, {"v": 3}]))
    );
    let (exec, _) = s3.run(
        &map_machine(
            get_object("JSONL", json!({"MaxItems": 2})),
            json!({}),
            pass(),
        ),
        input("f.jsonl"),
    );
    assert_eq!(exec.output, Some(json!([{"v": 1}, {"v": 2}])));
    // MaxItems 0: no limit (recorded `test_map_item_reader_csv_max_items[0]`).
    let (exec, _) = s3.run(
        &map_machine(
            get_object("JSON", json!({"MaxItems": 0})),
            json!({}),
            pass(),
        ),
        input("f.json"),
    );
    assert_eq!(
        exec.output.as_ref().and_then(Value::as_array).map(Vec::len),
        Some(3)
    );
    // Not an array (recorded `test_map_item_reader_json_no_json_list_object`).
    let (exec, _) = s3.run(
        &map_machine(get_object("JSON", json!({})), json!({}), pass()),
        input("obj.json"),
    );
    assert_eq!(exec.error.as_deref(), Some("States.ItemReaderFailed"));
    assert_eq!(
        exec.cause.as_deref(),
        Some("Attempting to map over non-iterable node.")
    );
}

#[test]
fn max_items_path_is_checked_as_aws_records() {
    let d = map_machine(
        get_object("CSV", json!({"MaxItemsPath": "$.Max"})),
        json!({}),
        pass(),
    );
    let mut s3 = FakeS3::with(&[("in", "f.csv", "a\n1\n2\n3\n")]);
    let run = |s3: &mut FakeS3, max: Value| {
        let mut i = input("f.csv");
        i["Max"] = max;
        s3.run(&d, i)
    };
    let (exec, _) = run(&mut s3, json!(2));
    assert_eq!(exec.output, Some(json!([{"a": "1"}, {"a": "2"}])));
    let (exec, events) = run(&mut s3, json!(-1));
    assert_eq!(
        exec.cause.as_deref(),
        Some("field MaxItems must be positive")
    );
    assert!(types(&events).contains(&"MapRunFailed"));
    let (exec, events) = run(&mut s3, json!(1.5));
    assert_eq!(exec.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        exec.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'M' (entered at the event id #2). The MaxItemsPath field refers to value \"1.5\" which is not a valid integer: $.Max"
        )
    );
    // Recorded (`test_map_item_reader_csv_max_items_paths[1.5]`): no MapRunStarted.
    assert_eq!(
        types(&events),
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "ExecutionFailed"
        ]
    );
    let prev: Vec<u64> = events.iter().map(|e| e.previous_event_id).collect();
    assert_eq!(prev, [0, 0, 2, 3]);
}

#[test]
fn list_objects_v2_pages_and_gives_aws_items() {
    let reader = json!({"Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket.$": "$.Bucket", "Prefix": "p/"}});
    let objects: Vec<(String, String)> = (0..5)
        .map(|i| (format!("p/{i}.txt"), format!("{i}HelloWorld!")))
        .collect();
    let mut list: Vec<(&str, &str, &str)> = objects
        .iter()
        .map(|(k, v)| ("in", k.as_str(), v.as_str()))
        .collect();
    list.push(("in", "other/x", "no"));
    let mut s3 = FakeS3::with(&list);
    s3.page = 2;
    let (exec, _) = s3.run(
        &map_machine(reader.clone(), json!({}), pass()),
        json!({"Bucket": "in"}),
    );
    let out = exec.output.unwrap_or_default();
    let keys: Vec<&str> = out
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["Key"].as_str())
        .collect();
    assert_eq!(
        keys,
        ["p/0.txt", "p/1.txt", "p/2.txt", "p/3.txt", "p/4.txt"]
    );
    assert_eq!(
        out[0],
        json!({"Etag": "\"e\"", "Key": "p/0.txt", "LastModified": 1_704_164_645, "Size": 12, "StorageClass": "STANDARD"})
    );
    assert_eq!(s3.calls.len(), 3, "three pages");
    assert_eq!(
        s3.calls[1].parameters,
        json!({"Bucket": "in", "Prefix": "p/", "ContinuationToken": "p/1.txt"})
    );
    // MaxItems stops the paging.
    let mut limited = reader;
    limited["ReaderConfig"] = json!({"MaxItems": 3});
    s3.calls.clear();
    let (exec, _) = s3.run(
        &map_machine(limited, json!({}), pass()),
        json!({"Bucket": "in"}),
    );
    assert_eq!(
        exec.output.as_ref().and_then(Value::as_array).map(Vec::len),
        Some(3)
    );
    assert_eq!(s3.calls.len(), 2);
}

#[test]
fn manifest_reads_the_inventory_files() {
    let manifest = json!({"sourceBucket": "src", "destinationBucket": "arn:aws:s3:::inv",
        "fileFormat": "CSV", "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "data/1.csv"}, {"key": "data/2.csv"}]})
    .to_string();
    let mut s3 = FakeS3::with(&[
        ("in", "manifest.json", &manifest),
        ("inv", "data/1.csv", "src,a.txt,1\n"),
        ("inv", "data/2.csv", "src,b.txt,2\nsrc,c.txt,3\n"),
    ]);
    let (exec, _) = s3.run(
        &map_machine(get_object("MANIFEST", json!({})), json!({}), pass()),
        input("manifest.json"),
    );
    assert_eq!(
        exec.output,
        Some(json!([
            {"Bucket": "src", "Key": "a.txt", "Size": "1"},
            {"Bucket": "src", "Key": "b.txt", "Size": "2"},
            {"Bucket": "src", "Key": "c.txt", "Size": "3"}
        ]))
    );
}

#[test]
fn item_selector_and_batcher_apply_to_read_items() {
    let body = (0..7)
        .map(|i| format!("{{\"n\": {i}}}\n"))
        .collect::<String>();
    let mut s3 = FakeS3::with(&[("in", "f.jsonl", &body)]);
    let extra = json!({
        "ItemSelector": {"v.$": "$$.Map.Item.Value.n", "i.$": "$$.Map.Item.Index"},
        "ItemBatcher": {"MaxItemsPerBatch": 3, "BatchInput": {"b": 1}}});
    let (exec, _) = s3.run(
        &map_machine(get_object("JSONL", json!({})), extra, pass()),
        input("f.jsonl"),
    );
    let out = exec.output.unwrap_or_default();
    assert_eq!(out.as_array().map(Vec::len), Some(3));
    assert_eq!(
        out[0],
        json!({"BatchInput": {"b": 1}, "Items": [{"v": 0, "i": 0}, {"v": 1, "i": 1}, {"v": 2, "i": 2}]})
    );
    assert_eq!(out[2]["Items"], json!([{"v": 6, "i": 6}]));
    // MaxInputBytesPerBatch: `{"Items":[...]}` with at most 30 bytes.
    let extra = json!({"ItemBatcher": {"MaxInputBytesPerBatch": 30}});
    let (exec, _) = s3.run(
        &map_machine(get_object("JSONL", json!({})), extra, pass()),
        input("f.jsonl"),
    );
    let out = exec.output.unwrap_or_default();
    for b in out.as_array().into_iter().flatten() {
        assert!(json_text(b).len() <= 30, "{b}");
    }
    assert_eq!(out[0], json!({"Items": [{"n": 0}, {"n": 1}]}));
    let n: usize = out
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| b["Items"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(n, 7);
}

#[test]
fn definitions_are_validated() {
    let msg = |m: Value| {
        Definition::parse(&json!({"StartAt": "M", "States": {"M": m}}))
            .err()
            .map(|e| e.message)
            .unwrap_or_default()
    };
    let map = |extra: Value, mode: &str| {
        let mut m = json!({"Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": mode}, "StartAt": "C", "States": {"C": pass()}}, "End": true});
        if let (Some(o), Some(e)) = (m.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        m
    };
    let cases = [
        (
            json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {}, "ReaderConfig": {"InputType": "CSV"}}}),
            "INLINE",
            "supported only in DISTRIBUTED mode",
        ),
        (
            json!({"ItemReader": {"Resource": "arn:aws:states:::s3:putObject"}}),
            "DISTRIBUTED",
            "is not supported for ItemReader",
        ),
        (
            json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "XML"}}}),
            "DISTRIBUTED",
            "'InputType' must be one of",
        ),
        (
            json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {}}}),
            "DISTRIBUTED",
            "'InputType' should be non-null",
        ),
        (
            json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN"}}}),
            "DISTRIBUTED",
            "'CSVHeaders' should be a list",
        ),
        (
            json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV", "MaxItems": 100_000_001}}}),
            "DISTRIBUTED",
            "must be <= 100000000",
        ),
        (
            json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV", "MaxItems": 1, "MaxItemsPath": "$.m"}}}),
            "DISTRIBUTED",
            "mutually exclusive",
        ),
        (
            json!({"ResultWriter": {}}),
            "DISTRIBUTED",
            "must name a 'Resource'",
        ),
        (
            json!({"ResultWriter": {"WriterConfig": {"OutputType": "CSV"}}}),
            "DISTRIBUTED",
            "'OutputType' must be one of",
        ),
        (json!({"Label": ""}), "DISTRIBUTED", "Label cannot be empty"),
        (
            json!({"Label": "a?"}),
            "DISTRIBUTED",
            "Label contains invalid character: '?'",
        ),
        (
            json!({"Label": "x".repeat(41)}),
            "DISTRIBUTED",
            "Label cannot exceed 40 characters",
        ),
    ];
    for (extra, mode, want) in cases {
        let m = msg(map(extra.clone(), mode));
        assert!(m.contains(want), "{extra}: {m}");
    }
    let ok = Definition::parse(
        &json!({"StartAt": "M", "States": {"M": map(json!({"Label": "Rows",
        "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "b"}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}}}), "DISTRIBUTED")}}),
    );
    assert!(ok.is_ok(), "{:?}", ok.err().map(|e| e.message));
}

mod writer;

#[test]
fn jsonata_reader_arguments_and_max_items() {
    // LocalStack's AWS recording `test_map_item_reader_base_json_max_items_jsonata`.
    let d = def(
        json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map", "MaxConcurrency": 1,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON", "MaxItems": "{% $maxItems := 2 %}"},
            "Arguments": {"Bucket": "{% $states.input.Bucket %}", "Key": "{% $states.input.Key %}"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}}),
    );
    let body = r#"[{"verdict": "true"}, {"verdict": "false"}, {"verdict": "mostly-true"}]"#;
    let mut s3 = FakeS3::with(&[("in", "f.json", body)]);
    let (exec, _) = s3.run(&d, input("f.json"));
    assert_eq!(
        exec.output,
        Some(json!([{"verdict": "true"}, {"verdict": "false"}]))
    );
}

#[test]
fn csv_header_row_with_an_empty_header() {
    // LocalStack's AWS recording `test_map_item_reader_csv_first_row_extra_fields`.
    let body = "H1,\nValue4,Value5,Value6\n,,,\nNull,None,\n";
    let mut s3 = FakeS3::with(&[("in", "f.csv", body)]);
    let (exec, _) = s3.run(
        &map_machine(get_object("CSV", json!({})), json!({}), pass()),
        input("f.csv"),
    );
    assert_eq!(
        exec.output,
        Some(json!([
            {"H1": "Value4", "": "Value5"},
            {"H1": "", "": ""},
            {"H1": "Null", "": "None"}
        ]))
    );
}
