//! Local S3 on local mode's one endpoint, driven by the real AWS CLI (v1,
//! botocore's defaults: SigV4, `Expect: 100-continue`, flexible checksums,
//! multipart above 8 MB): `aws s3 mb/cp/ls/rm/rb` and `aws s3api`, against
//! local mode started in process on a template with two `AWS::S3::Bucket`s;
//! and a distributed Map that reads a CSV the CLI put there and writes its
//! results back (the engine's aws-sdk-s3 client on the same local S3).
//! Skipped, with a message, without the AWS CLI (scripts/test.sh installs it
//! and sets HITL_REQUIRE_AWS_CLI, so CI never skips).

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use local_stack::{LocalError, LocalStack, Options};
use md5::Digest as _;
use tokio::io::AsyncWriteExt as _;

const TEMPLATE: &str = r#"
Resources:
  Inputs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'inputs-${AWS::AccountId}'
  Results:
    Type: AWS::S3::Bucket
Outputs:
  ResultsArn: {Value: !GetAtt Results.Arn}
"#;

fn options(dir: &Path) -> Options {
    let path = dir.join("template.yaml");
    std::fs::write(&path, TEMPLATE).expect("template written");
    Options {
        template: path,
        parameter_overrides: Vec::new(),
        addr: "127.0.0.1:0".parse().expect("an address"),
        state_dir: dir.join("state"),
        stack_name: "s3-cli".to_owned(),
        build: false,
        release: false,
        local_defaults: Vec::new(),
        build_with: Vec::new(),
        task_token_length: local_stack::TokenLength::default(),
        s3_endpoint_url: None,
    }
}

/// Local mode, serving until dropped... or [`Running::stop`]ped.
struct Running {
    endpoint: String,
    summary: local_stack::Summary,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<Result<(), LocalError>>>,
}

impl Running {
    async fn start(dir: &Path) -> Self {
        let stack = LocalStack::start(options(dir), |_| {}, |_| {})
            .await
            .expect("local mode starts");
        let summary = stack.summary().clone();
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(stack.serve(async {
            let _ = stopped.await;
        }));
        Self {
            endpoint: summary.endpoint_url.clone(),
            summary,
            shutdown: Some(shutdown),
            served: Some(served),
        }
    }

    async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.expect("joined").expect("served");
        }
    }
}

/// The AWS CLI pointed at local mode, with dummy credentials and no profile.
struct Aws {
    program: PathBuf,
    endpoint: String,
}

impl Aws {
    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = test_support::cli_command(&self.program);
        command
            .args(args)
            .args(["--endpoint-url", &self.endpoint])
            .stdin(Stdio::null());
        tokio::process::Command::from(command)
    }

    /// Runs `aws ARGS`, whatever its outcome.
    async fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().await.expect("the AWS CLI runs")
    }

    /// Runs `aws ARGS`, which must succeed; gives its stdout.
    async fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        assert!(
            output.status.success(),
            "aws {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs `aws ARGS`, which must fail; gives its stderr.
    async fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        assert!(
            !output.status.success(),
            "aws {args:?} succeeded: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// Runs `aws ARGS` with `input` on its standard input.
    async fn with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the AWS CLI runs");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input).await.expect("stdin written");
        drop(stdin);
        child.wait_with_output().await.expect("the AWS CLI ends")
    }
}

fn aws(running: &Running) -> Option<Aws> {
    Some(Aws {
        program: test_support::AwsCli::find()?,
        endpoint: running.endpoint.clone(),
    })
}

/// Bytes that do not compress or repeat, `len` of them.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Local mode on a fresh state directory, the AWS CLI on it, and a work directory.
async fn setup() -> Option<(tempfile::TempDir, Running, Aws)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = Running::start(dir.path()).await;
    let aws = aws(&running)?;
    std::fs::create_dir_all(dir.path().join("work")).expect("work dir");
    Some((dir, running, aws))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_buckets_exist_and_the_aws_cli_makes_and_removes_buckets() {
    let Some((_dir, running, aws)) = setup().await else {
        return;
    };
    // GIVEN the template's buckets, THEN the summary and `aws s3 ls` list them.
    let [(inputs_id, inputs), (results_id, results)] = &running.summary.buckets[..] else {
        panic!("two buckets: {:?}", running.summary.buckets);
    };
    assert_eq!(
        (inputs_id.as_str(), inputs.as_str()),
        ("Inputs", "inputs-123456789012")
    );
    assert_eq!(results_id, "Results");
    assert!(results.starts_with("s3-cli-results-"), "{results}");
    let listed = aws.ok(&["s3", "ls"]).await;
    assert!(
        listed.contains(" inputs-123456789012\n") && listed.contains(&format!(" {results}\n")),
        "{listed}"
    );

    // mb: a new bucket; again in us-east-1 is a success (S3's legacy
    // behaviour); elsewhere BucketAlreadyOwnedByYou.
    assert_eq!(
        aws.ok(&["s3", "mb", "s3://made-by-cli"]).await,
        "make_bucket: made-by-cli\n"
    );
    aws.ok(&["s3", "mb", "s3://made-by-cli"]).await;
    aws.ok(&["s3", "mb", "s3://in-ireland", "--region", "eu-west-1"])
        .await;
    let location = aws
        .ok(&["s3api", "get-bucket-location", "--bucket", "in-ireland"])
        .await;
    assert!(location.contains("eu-west-1"), "{location}");
    let again = aws
        .fails(&["s3", "mb", "s3://in-ireland", "--region", "eu-west-1"])
        .await;
    assert!(again.contains("(BucketAlreadyOwnedByYou)"), "{again}");
    let invalid = aws.fails(&["s3", "mb", "s3://Not_Valid"]).await;
    assert!(invalid.contains("(InvalidBucketName)"), "{invalid}");
    let no_bucket = aws.fails(&["s3", "ls", "s3://no-such-bucket"]).await;
    assert!(no_bucket.contains("(NoSuchBucket)"), "{no_bucket}");
    // A put into no bucket is refused before its body is read (the CLI sends
    // `Expect: 100-continue` and gets the error instead of the 100).
    let up = aws
        .with_stdin(
            &["s3", "cp", "-", "s3://no-such-bucket/k"],
            &[b'x'; 2 << 20],
        )
        .await;
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert!(
        !up.status.success() && stderr.contains("(NoSuchBucket)"),
        "{stderr}"
    );

    // rb: a non-empty bucket is refused, an empty one goes.
    let piped = aws
        .with_stdin(&["s3", "cp", "-", "s3://made-by-cli/k"], b"x")
        .await;
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let not_empty = aws.fails(&["s3", "rb", "s3://made-by-cli"]).await;
    assert!(not_empty.contains("(BucketNotEmpty)"), "{not_empty}");
    aws.ok(&["s3", "rb", "s3://in-ireland"]).await;
    let listed = aws.ok(&["s3", "ls"]).await;
    assert!(
        listed.contains(" made-by-cli\n") && !listed.contains("in-ireland"),
        "{listed}"
    );

    // An unsigned request on the same port is not S3: `GET /` stays where it went.
    let url = format!("{}/", running.endpoint);
    let unsigned = tokio::task::spawn_blocking(move || test_support::http("GET", &url, None))
        .await
        .expect("joined");
    assert!(
        !unsigned.1.contains("ListAllMyBucketsResult"),
        "{unsigned:?}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_copies_both_ways_lists_and_removes_and_objects_survive_a_restart() {
    let Some((dir, running, aws)) = setup().await else {
        return;
    };
    let path = |name: &str| dir.path().join("work").join(name).display().to_string();
    let bucket = "inputs-123456789012";

    // cp a file up and down.
    let text = "id,name\n1,Ada\n2,Grace\n";
    std::fs::write(path("rows.csv"), text).expect("file");
    let up = aws
        .ok(&[
            "s3",
            "cp",
            &path("rows.csv"),
            &format!("s3://{bucket}/dir/rows.csv"),
        ])
        .await;
    assert!(up.contains("upload: "), "{up}");
    aws.ok(&[
        "s3",
        "cp",
        &format!("s3://{bucket}/dir/rows.csv"),
        &path("back.csv"),
    ])
    .await;
    assert_eq!(
        std::fs::read_to_string(path("back.csv")).expect("downloaded"),
        text
    );

    // cp from stdin and to stdout.
    let piped = aws
        .with_stdin(
            &["s3", "cp", "-", &format!("s3://{bucket}/piped.txt")],
            b"from stdin\n",
        )
        .await;
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert_eq!(
        aws.ok(&["s3", "cp", &format!("s3://{bucket}/piped.txt"), "-"])
            .await,
        "from stdin\n"
    );
    // A key and keys under it are separate objects, as on S3.
    let dir_object = aws
        .with_stdin(
            &["s3", "cp", "-", &format!("s3://{bucket}/dir")],
            b"a file named dir",
        )
        .await;
    assert!(
        dir_object.status.success(),
        "{}",
        String::from_utf8_lossy(&dir_object.stderr)
    );

    // ls: the bucket's top level (PRE for the prefix), a prefix, recursive.
    let top = aws.ok(&["s3", "ls", &format!("s3://{bucket}/")]).await;
    let lines: Vec<&str> = top.lines().map(str::trim).collect();
    assert_eq!(lines.len(), 3, "{top}");
    assert_eq!(lines[0], "PRE dir/", "{top}");
    assert!(
        lines[1].ends_with(" 16 dir") && lines[2].ends_with(" 11 piped.txt"),
        "{top}"
    );
    let under = aws.ok(&["s3", "ls", &format!("s3://{bucket}/dir/")]).await;
    assert!(
        under
            .trim_end()
            .ends_with(&format!(" {} rows.csv", text.len())),
        "{under}"
    );
    assert_eq!(under.lines().count(), 1, "{under}");
    let all = aws
        .ok(&["s3", "ls", &format!("s3://{bucket}"), "--recursive"])
        .await;
    assert_eq!(all.lines().count(), 3, "{all}");

    // head-object: the ETag is the MD5 of the bytes, the type as the CLI guessed it.
    let head = aws
        .ok(&[
            "s3api",
            "head-object",
            "--bucket",
            bucket,
            "--key",
            "dir/rows.csv",
        ])
        .await;
    let head: serde_json::Value = serde_json::from_str(&head).expect("JSON");
    assert_eq!(head["ContentLength"], text.len(), "{head}");
    let md5 = md5::Md5::digest(text.as_bytes());
    let md5: String = md5.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(head["ETag"], format!("\"{md5}\""), "{head}");
    assert_eq!(head["ContentType"], "text/csv", "{head}");

    // Errors as the CLI shows them.
    let missing = aws
        .fails(&["s3api", "head-object", "--bucket", bucket, "--key", "nope"])
        .await;
    assert!(
        missing.contains("(404)") && missing.contains("Not Found"),
        "{missing}"
    );
    let missing = aws
        .fails(&[
            "s3api",
            "get-object",
            "--bucket",
            bucket,
            "--key",
            "nope",
            &path("nope"),
        ])
        .await;
    assert!(missing.contains("(NoSuchKey)"), "{missing}");

    // rm, then the key is gone.
    let removed = aws
        .ok(&["s3", "rm", &format!("s3://{bucket}/piped.txt")])
        .await;
    assert!(
        removed.contains(&format!("delete: s3://{bucket}/piped.txt")),
        "{removed}"
    );

    // WHEN local mode restarts on the same state directory, THEN the objects are still there.
    running.stop().await;
    let running = Running::start(dir.path()).await;
    let aws = Aws {
        endpoint: running.endpoint.clone(),
        ..aws
    };
    let all = aws
        .ok(&["s3", "ls", &format!("s3://{bucket}"), "--recursive"])
        .await;
    let keys: Vec<&str> = all
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    assert_eq!(keys, ["dir", "dir/rows.csv"], "{all}");
    assert_eq!(
        aws.ok(&["s3", "cp", &format!("s3://{bucket}/dir/rows.csv"), "-"])
            .await,
        text
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_8_mb_goes_up_and_down_in_parts_and_copies_in_parts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = Running::start(dir.path()).await;
    let Some(aws) = aws(&running) else { return };
    let big = noise(20 * 1024 * 1024 + 5);
    let up = dir.path().join("big.bin");
    std::fs::write(&up, &big).expect("file");
    let bucket = "s3://inputs-123456789012";

    // GIVEN a 20 MiB file, WHEN `aws s3 cp` uploads it (8 MiB parts), THEN the
    // object has the multipart ETag of 3 parts and the bytes come back whole
    // (downloaded in ranged parts too).
    aws.ok(&[
        "s3",
        "cp",
        &up.display().to_string(),
        &format!("{bucket}/big.bin"),
    ])
    .await;
    let head = aws
        .ok(&[
            "s3api",
            "head-object",
            "--bucket",
            "inputs-123456789012",
            "--key",
            "big.bin",
        ])
        .await;
    let head: serde_json::Value = serde_json::from_str(&head).expect("JSON");
    assert_eq!(head["ContentLength"], big.len(), "{head}");
    let etag = head["ETag"].as_str().unwrap_or_default().to_owned();
    assert!(etag.ends_with("-3\""), "{head}");
    let down = dir.path().join("down.bin");
    aws.ok(&[
        "s3",
        "cp",
        &format!("{bucket}/big.bin"),
        &down.display().to_string(),
    ])
    .await;
    assert!(
        std::fs::read(&down).expect("downloaded") == big,
        "the bytes differ"
    );

    // A copy inside S3 of an object over 8 MiB is a multipart copy (UploadPartCopy).
    aws.ok(&[
        "s3",
        "cp",
        &format!("{bucket}/big.bin"),
        &format!("{bucket}/copy.bin"),
    ])
    .await;
    let copied = dir.path().join("copied.bin");
    aws.ok(&[
        "s3",
        "cp",
        &format!("{bucket}/copy.bin"),
        &copied.display().to_string(),
    ])
    .await;
    assert!(
        std::fs::read(&copied).expect("downloaded") == big,
        "the copy differs"
    );

    // A ranged GET.
    let range = dir.path().join("range.bin");
    aws.ok(&[
        "s3api",
        "get-object",
        "--bucket",
        "inputs-123456789012",
        "--key",
        "big.bin",
        "--range",
        "bytes=100-199",
        &range.display().to_string(),
    ])
    .await;
    assert_eq!(std::fs::read(&range).expect("range"), &big[100..200]);
    running.stop().await;
}

/// A template with a bucket and a state machine whose distributed Map reads a
/// CSV from it and writes its results back.
const MAP_TEMPLATE: &str = r#"
Resources:
  Inputs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: rows-123456789012
  Rows:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: rows
      RoleArn: arn:aws:iam::123456789012:role/rows
      DefinitionString: >-
        {"StartAt": "Each", "States": {"Each": {"Type": "Map",
          "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Parameters": {"Bucket": "rows-123456789012", "Key": "in/rows.csv"}},
          "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "Echo", "States": {"Echo": {"Type": "Pass",
              "Parameters": {"id.$": "$.id", "shout.$": "States.Format('{}!', $.name)"},
              "End": true}}},
          "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "rows-123456789012", "Prefix": "out"}},
          "End": true}}}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distributed_map_reads_a_csv_the_aws_cli_put_and_writes_results_it_reads_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = options(dir.path());
    std::fs::write(&options.template, MAP_TEMPLATE).expect("template written");
    options.stack_name = "rows".to_owned();
    let stack = LocalStack::start(options, |_| {}, |_| {})
        .await
        .expect("local mode starts");
    let machine = stack.summary().state_machines[0].1.clone();
    let endpoint = stack.summary().endpoint_url.clone();
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(stack.serve(async {
        let _ = stopped.await;
    }));
    let Some(program) = test_support::AwsCli::find() else {
        return;
    };
    let aws = Aws { program, endpoint };

    // GIVEN a CSV of 1,000 rows put with `aws s3 cp` from stdin
    let rows = 1000;
    let mut csv = String::from("id,name\n");
    for i in 0..rows {
        // A quoted field with quotes in it, as RFC 4180 writes them.
        csv.push_str(&format!("{i},\"row \"\"{i}\"\"\"\n"));
    }
    let put = aws
        .with_stdin(
            &["s3", "cp", "-", "s3://rows-123456789012/in/rows.csv"],
            csv.as_bytes(),
        )
        .await;
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );

    // WHEN the machine runs
    let started = aws
        .ok(&[
            "stepfunctions",
            "start-execution",
            "--state-machine-arn",
            &machine,
        ])
        .await;
    let started: serde_json::Value = serde_json::from_str(&started).expect("JSON");
    let execution = started["executionArn"].as_str().expect("an ARN").to_owned();
    let mut described = serde_json::Value::Null;
    for _ in 0..60 {
        let text = aws
            .ok(&[
                "stepfunctions",
                "describe-execution",
                "--execution-arn",
                &execution,
            ])
            .await;
        described = serde_json::from_str(&text).expect("JSON");
        if described["status"] != "RUNNING" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(described["status"], "SUCCEEDED", "{described}");

    // THEN the ResultWriter's manifest and result file are in the bucket, and
    // every row came through the child executions.
    let output: serde_json::Value =
        serde_json::from_str(described["output"].as_str().unwrap_or_default()).expect("JSON");
    let details = &output["ResultWriterDetails"];
    assert_eq!(details["Bucket"], "rows-123456789012", "{output}");
    let manifest_key = details["Key"].as_str().expect("a manifest key");
    assert!(
        manifest_key.starts_with("out/") && manifest_key.ends_with("/manifest.json"),
        "{manifest_key}"
    );
    let listed = aws
        .ok(&["s3", "ls", "s3://rows-123456789012/out/", "--recursive"])
        .await;
    assert!(
        listed.contains("manifest.json") && listed.contains("SUCCEEDED_0.json"),
        "{listed}"
    );
    let manifest = aws
        .ok(&[
            "s3",
            "cp",
            &format!("s3://rows-123456789012/{manifest_key}"),
            "-",
        ])
        .await;
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("JSON");
    let succeeded = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
        .as_str()
        .unwrap_or_else(|| panic!("a SUCCEEDED file: {manifest}"))
        .to_owned();
    let results = aws
        .ok(&[
            "s3",
            "cp",
            &format!("s3://rows-123456789012/{succeeded}"),
            "-",
        ])
        .await;
    let results: Vec<serde_json::Value> = serde_json::from_str(&results).expect("a JSON array");
    assert_eq!(results.len(), rows);
    let mut outputs: Vec<(u64, String)> = results
        .iter()
        .map(|r| {
            let out: serde_json::Value =
                serde_json::from_str(r["Output"].as_str().unwrap_or_default()).expect("JSON");
            let id = out["id"]
                .as_str()
                .and_then(|i| i.parse().ok())
                .expect("an id");
            (id, out["shout"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    outputs.sort();
    for (i, (id, shout)) in outputs.iter().enumerate() {
        assert_eq!(
            (*id, shout.as_str()),
            (i as u64, format!("row \"{i}\"!").as_str())
        );
    }

    let _ = shutdown.send(());
    served.await.expect("joined").expect("served");
}
