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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_tasks_put_head_list_get_delete_and_fail_as_aws() {
    let dir = tempfile::tempdir().expect("temp dir");
    let template = dir.path().join("template.yaml");
    std::fs::write(&template, TEMPLATE).expect("template written");
    let options = Options {
        template,
        parameter_overrides: Vec::new(),
        addr: "127.0.0.1:0".parse().expect("an address"),
        state_dir: dir.path().join("state"),
        stack_name: "s3-tasks".to_owned(),
        build: false,
        release: false,
        local_defaults: Vec::new(),
        build_with: Vec::new(),
        task_token_length: local_stack::TokenLength::default(),
    };
    let stack = LocalStack::start(options, |_| {}, |_| {})
        .await
        .expect("local mode starts");
    let machine = stack.summary().state_machines[0].1.clone();
    let endpoint = stack.summary().endpoint_url.clone();
    let (_shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(stack.serve(async {
        let _ = stopped.await;
    }));
    let sfn = aws_sdk_sfn::Client::new(&test_support::loopback_sdk_config(&endpoint).await);

    let execution = sfn
        .start_execution()
        .state_machine_arn(&machine)
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
    let out: Value = serde_json::from_str(described.output().expect("output")).expect("JSON");

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
