//! Distributed Maps over S3 in local mode, driven as a user drives them: the real
//! `hitl local` on examples/distributed-map/template.yaml (a bucket and three
//! machines; docs/distributed-map.md walks through it), the real AWS CLI for S3 and
//! Step Functions. Each test puts a CSV with `aws s3 cp`, starts an execution, and
//! reads the ResultWriter's files back with `aws s3 cp ... -`.

use serde_json::{Value, json};
use test_support::{AwsCli, LocalMode, StepFunctions, repo_root};

const BUCKET: &str = "hitl-example-rows";

fn start() -> Option<(LocalMode, std::path::PathBuf)> {
    let program = AwsCli::find()?;
    let template = repo_root().join("examples/distributed-map/template.yaml");
    Some((LocalMode::start_with_template_file(&template, &[]), program))
}

/// `rows` as a CSV with the header `id,n,ok`.
fn csv(rows: impl IntoIterator<Item = (usize, usize, bool)>) -> String {
    let mut text = String::from("id,n,ok\n");
    for (id, n, ok) in rows {
        text.push_str(&format!("id-{id},{n},{}\n", if ok { "yes" } else { "no" }));
    }
    text
}

/// Puts `text` at `s3://BUCKET/key` with `aws s3 cp FILE`.
fn upload(cli: &AwsCli, dir: &std::path::Path, key: &str, text: &str) {
    let file = dir.join(key.replace('/', "_"));
    std::fs::write(&file, text).expect("the CSV is written");
    let out = cli.run(&[
        "s3",
        "cp",
        file.to_str().expect("a UTF-8 path"),
        &format!("s3://{BUCKET}/{key}"),
    ]);
    assert!(
        out.status.success(),
        "aws s3 cp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The object at `s3://bucket/key`, read with `aws s3 cp ... -` and parsed.
fn download(cli: &AwsCli, bucket: &str, key: &str) -> Value {
    let out = cli.run(&["s3", "cp", &format!("s3://{bucket}/{key}"), "-"]);
    assert!(
        out.status.success(),
        "aws s3 cp s3://{bucket}/{key} -: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("s3://{bucket}/{key} is not JSON ({e})"))
}

/// The manifest the Map's output points at, and the entries of its result files of
/// `kind` (`SUCCEEDED` or `FAILED`).
fn results(cli: &AwsCli, output: &Value, kind: &str) -> (Value, Vec<Value>) {
    let details = &output["ResultWriterDetails"];
    let bucket = details["Bucket"]
        .as_str()
        .expect("ResultWriterDetails.Bucket");
    let key = details["Key"].as_str().expect("ResultWriterDetails.Key");
    let manifest = download(cli, bucket, key);
    let mut entries = Vec::new();
    for file in manifest["ResultFiles"][kind]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = file["Key"].as_str().expect("a result file's Key");
        match download(cli, bucket, key) {
            Value::Array(items) => entries.extend(items),
            other => panic!("{key} is not an array: {other}"),
        }
    }
    (manifest, entries)
}

fn output_of(entry: &Value) -> Value {
    serde_json::from_str(entry["Output"].as_str().expect("an Output")).expect("JSON Output")
}

#[test]
fn ten_thousand_csv_rows_through_the_aws_cli() {
    let Some((local, program)) = start() else {
        return;
    };
    let cli = AwsCli::connect_to(program, &local, "RowsMachine");
    let dir = tempfile::tempdir().expect("a directory");
    let n = 10_000;
    upload(
        &cli,
        dir.path(),
        "in/rows.csv",
        &csv((0..n).map(|i| (i, i % 97, true))),
    );

    let arn = cli.start(
        "ten-thousand",
        &json!({"key": "in/rows.csv", "tolerated": {"count": 0, "percentage": 0}}).to_string(),
    );
    let done = cli.wait_until_done(&arn);
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let output = done.output.expect("the Map's output");
    let map_run = output["MapRunArn"].as_str().expect("MapRunArn").to_owned();
    let (manifest, succeeded) = results(&cli, &output, "SUCCEEDED");
    assert_eq!(manifest["MapRunArn"], json!(map_run));
    assert_eq!(manifest["DestinationBucket"], json!(BUCKET));
    assert_eq!(succeeded.len(), n, "one result per row");
    let mut seen = vec![false; n];
    for entry in &succeeded {
        assert_eq!(entry["Status"], "SUCCEEDED", "{entry}");
        let out = output_of(entry);
        let index = out["index"].as_u64().expect("index") as usize;
        assert!(!seen[index], "row {index} twice");
        seen[index] = true;
        assert_eq!(out["id"], json!(format!("id-{index}")), "{out}");
        assert_eq!(out["double"], json!(2 * (index % 97)), "{out}");
    }
    assert!(seen.iter().all(|s| *s));

    // The map run, as the CLI shows it.
    let described = cli.json(&[
        "stepfunctions",
        "describe-map-run",
        "--map-run-arn",
        &map_run,
    ]);
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    assert_eq!(
        described["itemCounts"]["succeeded"],
        json!(n),
        "{described}"
    );
    let listed = cli.json(&["stepfunctions", "list-map-runs", "--execution-arn", &arn]);
    assert_eq!(
        listed["mapRuns"][0]["mapRunArn"],
        json!(map_run),
        "{listed}"
    );
}

#[test]
fn failures_are_tolerated_by_count_and_by_percentage() {
    let Some((local, program)) = start() else {
        return;
    };
    let cli = AwsCli::connect_to(program, &local, "RowsMachine");
    let dir = tempfile::tempdir().expect("a directory");
    // 200 rows, 13 of them rejected (6.5%).
    let rejected = |i: usize| i % 15 == 7 && i < 200;
    upload(
        &cli,
        dir.path(),
        "in/mixed.csv",
        &csv((0..200).map(|i| (i, i, !rejected(i)))),
    );
    let failing = (0..200).filter(|i| rejected(*i)).count();
    assert_eq!(failing, 13);

    // The input sets both thresholds; the one not under test is one that is never
    // exceeded. With both, exceeding either fails the map run (developer guide,
    // "Tolerated failure threshold for Distributed Map state").
    for (name, count, percentage, want) in [
        ("count-enough", 13, 100, "SUCCEEDED"),
        ("count-short", 12, 100, "FAILED"),
        ("percent-enough", 200, 7, "SUCCEEDED"),
        ("percent-short", 200, 6, "FAILED"),
        ("count-enough-percent-short", 13, 6, "FAILED"),
    ] {
        let arn = cli.start(
            name,
            &json!({"key": "in/mixed.csv", "tolerated": {"count": count, "percentage": percentage}})
                .to_string(),
        );
        let done = cli.wait_until_done(&arn);
        assert_eq!(done.status, want, "{name}: {done:?}");
        if want == "FAILED" {
            assert_eq!(
                done.error.as_deref(),
                Some("States.ExceedToleratedFailureThreshold"),
                "{name}: {done:?}"
            );
            continue;
        }
        let output = done.output.expect("the Map's output");
        let (_, failed) = results(&cli, &output, "FAILED");
        assert_eq!(failed.len(), failing, "{name}: the rejected rows");
        for entry in &failed {
            assert_eq!(entry["Status"], "FAILED", "{entry}");
            assert_eq!(entry["Error"], "RowRejected", "{entry}");
        }
        let (_, succeeded) = results(&cli, &output, "SUCCEEDED");
        assert_eq!(succeeded.len(), 200 - failing, "{name}");
    }
}

#[test]
fn rows_are_batched() {
    let Some((local, program)) = start() else {
        return;
    };
    let cli = AwsCli::connect_to(program, &local, "BatchMachine");
    let dir = tempfile::tempdir().expect("a directory");
    upload(
        &cli,
        dir.path(),
        "in/batch.csv",
        &csv((0..1_050).map(|i| (i, 1, true))),
    );

    let arn = cli.start("batches", &json!({"key": "in/batch.csv"}).to_string());
    let done = cli.wait_until_done(&arn);
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let (_, succeeded) = results(&cli, &done.output.expect("output"), "SUCCEEDED");
    // 1,050 rows in batches of at most 100: ten full ones and one of 50.
    assert_eq!(succeeded.len(), 11, "{succeeded:?}");
    let mut counts: Vec<(String, u64)> = succeeded
        .iter()
        .map(|entry| {
            let out = output_of(entry);
            assert_eq!(out["source"], "in/batch.csv", "{out}");
            (
                out["first"].as_str().expect("first").to_owned(),
                out["count"].as_u64().expect("count"),
            )
        })
        .collect();
    counts.sort_by_key(|(first, _)| first[3..].parse::<usize>().expect("id-N"));
    let want: Vec<(String, u64)> = (0..11)
        .map(|b| (format!("id-{}", b * 100), if b == 10 { 50 } else { 100 }))
        .collect();
    assert_eq!(counts, want);
}

#[test]
fn one_human_review_per_csv_row() {
    let Some((local, program)) = start() else {
        return;
    };
    let cli = AwsCli::connect_to(program, &local, "ClaimReviewMachine");
    let dir = tempfile::tempdir().expect("a directory");
    upload(
        &cli,
        dir.path(),
        "in/claims.csv",
        "id,amount\nC-1,120\nC-2,80\nC-3,4500\n",
    );
    let arn = cli.start("claims", &json!({"key": "in/claims.csv"}).to_string());

    // Each row's request reaches the reviewer with its own token; they approve
    // two and reject the large one, with the AWS CLI as the email says.
    let outbox = local.outbox();
    for (id, amount, approve) in [("C-1", 120, true), ("C-2", 80, true), ("C-3", 4500, false)] {
        let email = outbox.wait_for(&format!("Review claim {id}"));
        let (text, token) = email
            .body
            .split_once("Task token: ")
            .unwrap_or_else(|| panic!("no token in {:?}", email.body));
        assert!(
            text.contains(&format!("Claim {id} asks for {amount} EUR")),
            "{text}"
        );
        let token = token.split_whitespace().next().expect("a token");
        cli.send_task_success(token, &json!({"result": approve}).to_string())
            .unwrap_or_else(|code| panic!("send-task-success for {id}: {code}"));
    }

    let done = cli.wait_until_done(&arn);
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let output = done.output.expect("the Map's output");
    let (_, approved) = results(&cli, &output, "SUCCEEDED");
    let mut ids: Vec<Value> = approved
        .iter()
        .map(|e| output_of(e)["id"].clone())
        .collect();
    ids.sort_by_key(Value::to_string);
    assert_eq!(ids, [json!("C-1"), json!("C-2")]);
    for entry in &approved {
        assert_eq!(output_of(entry)["decision"], "approved", "{entry}");
    }
    let (_, rejected) = results(&cli, &output, "FAILED");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["Error"], "Rejected", "{rejected:?}");
    let input: Value =
        serde_json::from_str(rejected[0]["Input"].as_str().expect("Input")).expect("JSON Input");
    assert_eq!(input["id"], "C-3", "{input}");
}
