//! `aws-sdk:s3` Task states against local mode's own S3, in process: a machine
//! that puts, heads, lists, gets and deletes an object, then catches the
//! `S3.NoSuchKeyException` of getting it again — the result and error shapes
//! of crates/local-stack/src/s3_tasks.rs, through the real engine and S3.

use local_stack::{LocalStack, Options};
use serde_json::{Value, json};

const TEMPLATE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Files:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: files
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition:
        StartAt: Put
        States:
          Put:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:s3:putObject
            Parameters: {Bucket: files, Key: in/a.json, Body: {x: 1}}
            ResultPath: $.put
            Next: Head
          Head:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:s3:headObject
            Parameters: {Bucket: files, Key: in/a.json}
            ResultPath: $.head
            Next: List
          List:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:s3:listObjectsV2
            Parameters: {Bucket: files, Prefix: in/}
            ResultPath: $.list
            Next: Get
          Get:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:s3:getObject
            Parameters: {Bucket: files, Key: in/a.json}
            ResultPath: $.get
            Next: Delete
          Delete:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:s3:deleteObject
            Parameters: {Bucket: files, Key: in/a.json}
            ResultPath: $.delete
            Next: GetAgain
          GetAgain:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:s3:getObject
            Parameters: {Bucket: files, Key: in/a.json}
            Catch:
              - ErrorEquals: [S3.NoSuchKeyException]
                ResultPath: $.missing
                Next: Done
            Next: Done
          Done:
            Type: Succeed
"#;

/// Local mode on `template`, serving; its endpoint and the machine's ARN.
async fn start(
    dir: &std::path::Path,
    template: &str,
    s3_endpoint_url: Option<String>,
) -> (String, String, tokio::sync::oneshot::Sender<()>) {
    let path = dir.join("template.yaml");
    std::fs::write(&path, template).expect("template written");
    let options = Options {
        template: path,
        parameter_overrides: Vec::new(),
        addr: "127.0.0.1:0".parse().expect("an address"),
        state_dir: dir.join("state"),
        stack_name: "s3-tasks".to_owned(),
        build: false,
        release: false,
        local_defaults: Vec::new(),
        build_with: Vec::new(),
        task_token_length: local_stack::TokenLength::default(),
        s3_endpoint_url,
    };
    let stack = LocalStack::start(options, |_| {}, |_| {})
        .await
        .expect("local mode starts");
    let machine = stack.summary().state_machines[0].1.clone();
    let endpoint = stack.summary().endpoint_url.clone();
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(stack.serve(async {
        let _ = stopped.await;
    }));
    (endpoint, machine, shutdown)
}

/// Runs the machine to its end; its output.
async fn run(endpoint: &str, machine: &str) -> Value {
    let sfn = aws_sdk_sfn::Client::new(&test_support::loopback_sdk_config(endpoint).await);

    let execution = sfn
        .start_execution()
        .state_machine_arn(machine)
        .send()
        .await
        .expect("StartExecution")
        .execution_arn()
        .to_owned();
    let mut described = None;
    for _ in 0..100 {
        let d = sfn
            .describe_execution()
            .execution_arn(&execution)
            .send()
            .await
            .expect("DescribeExecution");
        if d.status().as_str() != "RUNNING" {
            described = Some(d);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let described = described.expect("the execution ends");
    assert_eq!(described.status().as_str(), "SUCCEEDED", "{described:?}");
    serde_json::from_str(described.output().expect("output")).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_tasks_put_head_list_get_delete_and_fail_as_aws() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (endpoint, machine, _stop) = start(dir.path(), TEMPLATE, None).await;
    let out = run(&endpoint, &machine).await;

    // A JSON body is stored as its JSON text.
    let etag = out["put"]["ETag"].as_str().expect("put ETag");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert_eq!(out["head"]["ContentLength"], json!(7), "{out}");
    assert_eq!(out["head"]["ETag"], json!(etag), "{out}");
    let contents = out["list"]["Contents"].as_array().expect("Contents");
    assert_eq!(contents.len(), 1, "{out}");
    assert_eq!(contents[0]["Key"], "in/a.json", "{out}");
    assert_eq!(contents[0]["Size"], json!(7), "{out}");
    assert_eq!(out["list"]["IsTruncated"], json!(false), "{out}");
    assert_eq!(out["list"]["KeyCount"], json!(1), "{out}");
    assert_eq!(out["get"]["Body"], r#"{"x":1}"#, "{out}");
    assert_eq!(out["get"]["ContentLength"], json!(7), "{out}");
    assert!(out["delete"].is_object(), "{out}");
    // test_aws_sdk.snapshot.json: S3.NoSuchKeyException, "The specified key does
    // not exist. (Service: S3, Status Code: 404, Request ID: ...".
    assert_eq!(out["missing"]["Error"], "S3.NoSuchKeyException", "{out}");
    let cause = out["missing"]["Cause"].as_str().expect("Cause");
    assert!(
        cause.starts_with(
            "The specified key does not exist. (Service: S3, Status Code: 404, Request ID: "
        ),
        "{cause}"
    );
}

/// `--s3-endpoint-url`: the tasks reach another S3 server. Local mode's own S3 has
/// no bucket `files` here (the template declares none), the other server has: the
/// machine succeeds only if its S3 calls went there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_tasks_go_to_the_s3_endpoint_given() {
    let other_dir = tempfile::tempdir().expect("temp dir");
    let other = s3_local::S3Service::open(other_dir.path()).expect("the other S3 opens");
    assert!(other.ensure_bucket("files", "us-east-1").expect("bucket"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let other_url = format!("http://{}", listener.local_addr().expect("an address"));
    let app = s3_local::router(other.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("temp dir");
    let without_bucket = TEMPLATE.replace(
        "  Files:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: files\n",
        "",
    );
    assert_ne!(without_bucket, TEMPLATE);
    let (endpoint, machine, _stop) = start(dir.path(), &without_bucket, Some(other_url)).await;
    let out = run(&endpoint, &machine).await;
    assert_eq!(out["get"]["Body"], r#"{"x":1}"#, "{out}");
    assert_eq!(out["missing"]["Error"], "S3.NoSuchKeyException", "{out}");
    // Local mode's own S3 never saw the bucket.
    let local = s3_local::S3Service::open(&dir.path().join("state").join("s3")).expect("opens");
    assert!(local.get_object("files", "in/a.json").is_err());
}
