//! Drives the `sfn-local` binary with the real AWS CLI v1 (from PyPI): every operation
//! once and the main error codes, checked the way a user sees them (JSON on stdout,
//! "An error occurred (<Code>) when calling the <Op> operation" on stderr).
//!
//! The CLI is `.tools/venv/bin/aws` at the repository root (`scripts/test.sh` installs
//! it), else `aws` on PATH; without either the tests say why and pass. Each call starts
//! a Python process (~0.3 s), so flows are grouped to keep the call count low.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{callback_definition, temp_dir, token_of_missing_execution};
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::123456789012:role/r";

/// The AWS CLI to use, or `None` (the caller skips).
fn find_aws() -> Option<PathBuf> {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/aws");
    if local.is_file() {
        return Some(local);
    }
    let path = std::env::var_os("PATH")?;
    let on_path = std::env::split_paths(&path)
        .map(|d| d.join("aws"))
        .find(|p| p.is_file())?;
    // A shim (pyenv, asdf) may exist without a CLI behind it: skip rather than fail.
    let works = Command::new(&on_path)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    works.then_some(on_path)
}

/// The real binary on a free loopback port with a fresh state directory; killed (and
/// the directory removed) when dropped, so a failing assertion leaves nothing behind.
struct Server {
    child: Child,
    endpoint: String,
    dir: PathBuf,
}

impl Server {
    fn start(tag: &str) -> Self {
        let dir = temp_dir(tag);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let child = Command::new(env!("CARGO_BIN_EXE_sfn-local"))
            .args(["--port", &port.to_string(), "--state-dir"])
            .arg(&dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn sfn-local: {e}"));
        let server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sfn-local did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Aws {
    exe: PathBuf,
    endpoint: String,
}

impl Aws {
    /// `aws stepfunctions <args>` against the local endpoint only: dummy credentials, a
    /// fixed region, no config files, no retries, no instance metadata lookups.
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// [`Aws::run`] with extra environment variables.
    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(&self.exe)
            .arg("stepfunctions")
            .args(args)
            .args(["--endpoint-url", &self.endpoint, "--output", "json"])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_SFN")
            .env_remove("AWS_DISABLE_HOST_PREFIX_INJECTION")
            .envs(env.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.exe.display()))
    }

    /// Runs a call that must succeed and parses its JSON output (`{}` when empty).
    fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "aws stepfunctions {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        if stdout.trim().is_empty() {
            return json!({});
        }
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}\n{stdout}"))
    }

    /// Runs a call that must fail with the AWS error `code` from operation `op`.
    fn fails(&self, code: &str, op: &str, args: &[&str]) {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // A service error exits 255 in AWS CLI v1 and 254 in v2 (if that is on PATH).
        assert!(
            matches!(out.status.code(), Some(254 | 255)),
            "{args:?}: {}: {stderr}",
            out.status
        );
        let want = format!("An error occurred ({code}) when calling the {op} operation");
        assert!(
            stderr.contains(&want),
            "{args:?}: want {want:?}, got {stderr}"
        );
    }
}

/// The CLI against a fresh server, or `None` when no CLI is installed.
fn setup(tag: &str) -> Option<(Aws, Server)> {
    let Some(exe) = find_aws() else {
        // scripts/test.sh installs the CLI and sets this, so CI never skips quietly.
        assert!(
            std::env::var_os("HITL_REQUIRE_AWS_CLI").is_none(),
            "no working AWS CLI at .tools/venv/bin/aws or on PATH, and HITL_REQUIRE_AWS_CLI \
             is set: install it (scripts/test.sh does)"
        );
        eprintln!(
            "skipped: no working AWS CLI at .tools/venv/bin/aws or on PATH (scripts/test.sh installs it)"
        );
        return None;
    };
    let server = Server::start(tag);
    let aws = Aws {
        exe,
        endpoint: server.endpoint.clone(),
    };
    Some((aws, server))
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// The token the callback task passed as `Parameters.token`, from TaskScheduled.
fn token_from(history: &Value) -> String {
    let events = history["events"].as_array().cloned().unwrap_or_default();
    let scheduled = events
        .iter()
        .find(|e| e["type"] == "TaskScheduled")
        .unwrap_or_else(|| panic!("no TaskScheduled in {history}"));
    let params: Value =
        serde_json::from_str(s(&scheduled["taskScheduledEventDetails"]["parameters"]))
            .unwrap_or_else(|e| panic!("parameters: {e}"));
    s(&params["token"]).to_owned()
}

/// ValidateStateMachineDefinition's members through the CLI, with AWS's answers: the
/// recorded ones (LocalStack's AWS-validated snapshot test_sfn_api_validation, keys
/// `..._not_a_definition[EMPTY_DICT]` and `..._type_express[ILLEGAL_WFTT]`) and the API
/// reference's warning example
/// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html).
#[test]
fn validate_state_machine_definition_through_the_cli() {
    let Some((aws, _server)) = setup("cli-validate") else {
        return;
    };
    let v = aws.ok(&["validate-state-machine-definition", "--definition", "{}"]);
    assert_eq!(
        v,
        json!({"result": "FAIL", "truncated": false, "diagnostics": [{"severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED", "location": "/",
            "message": "These fields are required: [States, StartAt]"}]})
    );

    let wftt = json!({"StartAt": "SendMessageWithWait", "States": {"SendMessageWithWait": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl.$": "$.QueueUrl", "MessageBody": {"Message.$": "$.Message",
            "TaskToken.$": "$$.Task.Token"}}, "End": true}}})
    .to_string();
    let v = aws.ok(&["validate-state-machine-definition", "--definition", &wftt]);
    assert_eq!(
        v,
        json!({"result": "OK", "diagnostics": [], "truncated": false})
    );
    let v = aws.ok(&[
        "validate-state-machine-definition",
        "--definition",
        &wftt,
        "--type",
        "EXPRESS",
    ]);
    assert_eq!(
        v,
        json!({"result": "FAIL", "truncated": false, "diagnostics": [{"severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED", "location": "/States/SendMessageWithWait/Resource",
            "message": "Express state machine does not support '.waitForTaskToken' service integration "}]})
    );

    let warned = json!({"StartAt": "HelloWorld", "States": {
        "HelloWorld": {"Type": "Pass", "Parameters": {"a": "$.x"}, "Result": {"c.$": "$.y"},
            "Next": "FailState"},
        "FailState": {"Type": "Fail", "Error": "$.e", "Cause": "$.c"}}})
    .to_string();
    let v = aws.ok(&["validate-state-machine-definition", "--definition", &warned]);
    assert_eq!(
        v,
        json!({"result": "OK", "diagnostics": [], "truncated": false})
    );
    let v = aws.ok(&[
        "validate-state-machine-definition",
        "--definition",
        &warned,
        "--severity",
        "WARNING",
    ]);
    assert_eq!(v["result"], "OK");
    assert_eq!(v["truncated"], false);
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        codes,
        ["NO_DOLLAR", "PASS_RESULT_IS_STATIC", "NO_PATH", "NO_PATH"]
    );
    assert_eq!(
        v["diagnostics"][0],
        json!({"severity": "WARNING", "code": "NO_DOLLAR", "location": "/States/HelloWorld/Parameters",
            "message": "The value of 'a' looks like a JSONPath. Instead of 'a', use 'a.$' to evaluate it as a JSONPath at runtime."})
    );
    let v = aws.ok(&[
        "validate-state-machine-definition",
        "--definition",
        &warned,
        "--severity",
        "WARNING",
        "--max-results",
        "1",
    ]);
    assert_eq!(v["diagnostics"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["truncated"], true);
    aws.fails(
        "ValidationException",
        "ValidateStateMachineDefinition",
        &[
            "validate-state-machine-definition",
            "--definition",
            &warned,
            "--max-results",
            "101",
        ],
    );
    // An EXPRESS machine cannot be created with it either.
    aws.fails(
        "InvalidDefinition",
        "CreateStateMachine",
        &[
            "create-state-machine",
            "--name",
            "express-wftt",
            "--type",
            "EXPRESS",
            "--definition",
            &wftt,
            "--role-arn",
            ROLE,
        ],
    );
}

#[test]
fn state_machine_operations_through_the_cli() {
    let Some((aws, _server)) = setup("cli-sm") else {
        return;
    };
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}).to_string();
    let broken =
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}}).to_string();
    let other = json!({"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}).to_string();

    let v = aws.ok(&["validate-state-machine-definition", "--definition", &def]);
    assert_eq!(v["result"], "OK");
    let v = aws.ok(&["validate-state-machine-definition", "--definition", &broken]);
    assert_eq!(v["result"], "FAIL");
    assert_eq!(v["diagnostics"][0]["code"], "MISSING_TRANSITION_TARGET");
    assert_eq!(v["diagnostics"][0]["location"], "/States/A/Next");

    let create = |name: &str, definition: &str| {
        vec![
            "create-state-machine".to_owned(),
            "--name".to_owned(),
            name.to_owned(),
            "--definition".to_owned(),
            definition.to_owned(),
            "--role-arn".to_owned(),
            ROLE.to_owned(),
        ]
    };
    let v = aws.ok(&args(&create("m", &def)));
    let arn = s(&v["stateMachineArn"]).to_owned();
    assert_eq!(arn, "arn:aws:states:us-east-1:123456789012:stateMachine:m");
    assert!(v["creationDate"].is_string() || v["creationDate"].is_number());
    aws.fails(
        "StateMachineAlreadyExists",
        "CreateStateMachine",
        &args(&create("m", &other)),
    );
    aws.fails(
        "InvalidDefinition",
        "CreateStateMachine",
        &args(&create("b", &broken)),
    );
    aws.fails(
        "InvalidName",
        "CreateStateMachine",
        &args(&create("bad name", &def)),
    );
    // The CLI checks no enum values: the service refuses the type.
    let mut typed = create("t", &def);
    typed.extend(["--type".to_owned(), "BATCH".to_owned()]);
    aws.fails("ValidationException", "CreateStateMachine", &args(&typed));

    let v = aws.ok(&["describe-state-machine", "--state-machine-arn", &arn]);
    assert_eq!(
        (v["name"].clone(), v["status"].clone(), v["type"].clone()),
        (json!("m"), json!("ACTIVE"), json!("STANDARD"))
    );
    assert_eq!(v["definition"], def);
    aws.fails(
        "InvalidArn",
        "DescribeStateMachine",
        &["describe-state-machine", "--state-machine-arn", "nope"],
    );

    // The CLI follows nextToken itself; a page size of 1 makes it.
    aws.ok(&args(&create("n", &def)));
    let v = aws.ok(&["list-state-machines", "--page-size", "1"]);
    let names: Vec<&str> = v["stateMachines"]
        .as_array()
        .map(|a| a.iter().map(|m| s(&m["name"])).collect())
        .unwrap_or_default();
    assert_eq!(names, ["m", "n"]);

    let v = aws.ok(&[
        "update-state-machine",
        "--state-machine-arn",
        &arn,
        "--definition",
        &other,
    ]);
    assert!(v["updateDate"].is_string() || v["updateDate"].is_number());
    aws.fails(
        "MissingRequiredParameter",
        "UpdateStateMachine",
        &["update-state-machine", "--state-machine-arn", &arn],
    );

    aws.ok(&["delete-state-machine", "--state-machine-arn", &arn]);
    aws.fails(
        "StateMachineDoesNotExist",
        "DescribeStateMachine",
        &["describe-state-machine", "--state-machine-arn", &arn],
    );
}

#[test]
fn executions_and_callbacks_through_the_cli() {
    let Some((aws, server)) = setup("cli-exec") else {
        return;
    };
    let v = aws.ok(&[
        "create-state-machine",
        "--name",
        "approval",
        "--definition",
        &callback_definition().to_string(),
        "--role-arn",
        ROLE,
    ]);
    let sm = s(&v["stateMachineArn"]).to_owned();
    let start = |name: &str, input: &str| {
        aws.ok(&[
            "start-execution",
            "--state-machine-arn",
            &sm,
            "--name",
            name,
            "--input",
            input,
        ])["executionArn"]
            .as_str()
            .unwrap_or_else(|| panic!("no executionArn"))
            .to_owned()
    };
    let history = |exec: &str| aws.ok(&["get-execution-history", "--execution-arn", exec]);

    // Approve: heartbeat, a bad output refused, then success.
    let yes = start("yes", r#"{"id": 1}"#);
    aws.fails(
        "ExecutionAlreadyExists",
        "StartExecution",
        &[
            "start-execution",
            "--state-machine-arn",
            &sm,
            "--name",
            "yes",
            "--input",
            r#"{"id": 2}"#,
        ],
    );
    aws.fails(
        "InvalidExecutionInput",
        "StartExecution",
        &[
            "start-execution",
            "--state-machine-arn",
            &sm,
            "--input",
            "{oops",
        ],
    );
    aws.fails(
        "StateMachineDoesNotExist",
        "StartExecution",
        &[
            "start-execution",
            "--state-machine-arn",
            &format!("{sm}-missing"),
        ],
    );
    let token = token_from(&history(&yes));
    aws.ok(&["send-task-heartbeat", "--task-token", &token]);
    aws.fails(
        "InvalidOutput",
        "SendTaskSuccess",
        &[
            "send-task-success",
            "--task-token",
            &token,
            "--task-output",
            "{oops",
        ],
    );
    aws.ok(&[
        "send-task-success",
        "--task-token",
        &token,
        "--task-output",
        r#"{"approved": true}"#,
    ]);
    let d = aws.ok(&["describe-execution", "--execution-arn", &yes]);
    assert_eq!(d["status"], "SUCCEEDED");
    let output: Value = serde_json::from_str(s(&d["output"])).unwrap_or_default();
    assert_eq!(output, json!({"id": 1, "decision": {"approved": true}}));
    aws.fails(
        "TaskTimedOut",
        "SendTaskSuccess",
        &[
            "send-task-success",
            "--task-token",
            &token,
            "--task-output",
            "{}",
        ],
    );
    aws.fails(
        "InvalidToken",
        "SendTaskFailure",
        &["send-task-failure", "--task-token", "garbage"],
    );
    let nowhere = token_of_missing_execution(&server.dir, 0xffffff);
    aws.fails(
        "TaskDoesNotExist",
        "SendTaskHeartbeat",
        &["send-task-heartbeat", "--task-token", &nowhere],
    );

    // History of the approved execution: one raw page, newest first.
    let v = aws.ok(&[
        "get-execution-history",
        "--execution-arn",
        &yes,
        "--no-paginate",
        "--max-results",
        "3",
        "--reverse-order",
    ]);
    let events = v["events"].as_array().cloned().unwrap_or_default();
    let types: Vec<&str> = events.iter().map(|e| s(&e["type"])).collect();
    assert_eq!(
        types,
        ["ExecutionSucceeded", "TaskStateExited", "TaskSucceeded"]
    );
    for e in &events {
        let id = e["id"].as_i64().unwrap_or_default();
        assert_eq!(e["previousEventId"].as_i64(), Some(id - 1), "{e}");
    }
    assert!(v["nextToken"].is_string(), "{v}");

    // Reject: the execution fails with the callback's error and cause.
    let no = start("no", r#"{"id": 2}"#);
    let token = token_from(&history(&no));
    aws.ok(&[
        "send-task-failure",
        "--task-token",
        &token,
        "--error",
        "Rejected",
        "--cause",
        "not this time",
    ]);
    let d = aws.ok(&["describe-execution", "--execution-arn", &no]);
    assert_eq!(
        (d["status"].clone(), d["error"].clone(), d["cause"].clone()),
        (json!("FAILED"), json!("Rejected"), json!("not this time"))
    );

    // Stop a waiting execution.
    let stop = start("stop", r#"{"id": 3}"#);
    let v = aws.ok(&[
        "stop-execution",
        "--execution-arn",
        &stop,
        "--error",
        "Operator.Stop",
    ]);
    assert!(v["stopDate"].is_string() || v["stopDate"].is_number());

    let v = aws.ok(&[
        "list-executions",
        "--state-machine-arn",
        &sm,
        "--status-filter",
        "ABORTED",
    ]);
    let names: Vec<&str> = v["executions"]
        .as_array()
        .map(|a| a.iter().map(|e| s(&e["name"])).collect())
        .unwrap_or_default();
    assert_eq!(names, ["stop"]);
    aws.fails(
        "ExecutionDoesNotExist",
        "DescribeExecution",
        &[
            "describe-execution",
            "--execution-arn",
            &format!("{stop}-missing"),
        ],
    );
}

/// TestState's model puts `sync-` before the endpoint's host; botocore's
/// `disable_host_prefix_injection` setting (`AWS_DISABLE_HOST_PREFIX_INJECTION`,
/// botocore/configprovider.py) turns it off. Expected values: LocalStack's
/// AWS-validated snapshot test_test_state_scenarios `test_state_task_catch_error[DEBUG]`.
#[test]
fn test_state_through_the_cli() {
    let Some((aws, _server)) = setup("cli-test-state") else {
        return;
    };
    let task = json!({"QueryLanguage": "JSONata", "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "Catch": [{"ErrorEquals": ["MockException"], "Output": "{% $states.errorOutput %}",
                   "Next": "HandleMockError"}],
        "End": true})
    .to_string();
    let mock = json!({"errorOutput": {"error": "MockException",
                                      "cause": "Mock the cause of the error."}})
    .to_string();
    let call = [
        "test-state",
        "--definition",
        &task,
        "--role-arn",
        ROLE,
        "--input",
        "{\"Value\": \"HelloWorld\"}",
        "--inspection-level",
        "DEBUG",
        "--mock",
        &mock,
    ];
    let no_prefix = [("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")];
    let out = aws.run_with(&call, &no_prefix);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["status"], "CAUGHT_ERROR", "{v}");
    assert_eq!(v["error"], "MockException");
    assert_eq!(v["cause"], "Mock the cause of the error.");
    assert_eq!(v["nextState"], "HandleMockError");
    assert_eq!(v["inspectionData"]["errorDetails"]["catchIndex"], 0);
    let output: Value = serde_json::from_str(s(&v["output"])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        output,
        json!({"Error": "MockException", "Cause": "Mock the cause of the error."})
    );
    // Without the setting the CLI asks for sync-127.0.0.1 and never reaches the server.
    let out = aws.run(&call);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the prefixed host answered");
    assert!(stderr.contains("sync-127.0.0.1"), "{stderr}");
    // AWS's error for a mock on a Pass state (test_state_mock_validation,
    // `test_state_type_does_not_accept_mock[mock_result-PassState]`).
    let pass = json!({"Type": "Pass", "End": true}).to_string();
    let out = aws.run_with(
        &[
            "test-state",
            "--definition",
            &pass,
            "--mock",
            "{\"result\": \"{}\"}",
        ],
        &no_prefix,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("An error occurred (ValidationException) when calling the TestState operation: State type 'Pass' is not supported when a mock is specified"),
        "{stderr}"
    );
}

/// Finds the state named `name` anywhere in a machine (inside Parallel branches and Map
/// item processors too).
fn find_state<'a>(states: &'a Value, name: &str) -> Option<&'a Value> {
    let map = states.as_object()?;
    if let Some(st) = map.get(name) {
        return Some(st);
    }
    map.values().find_map(|st| {
        let nested = st["Branches"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(std::iter::once(&st["ItemProcessor"]));
        nested
            .into_iter()
            .find_map(|b| find_state(&b["States"], name))
    })
}

/// docs/testing-with-teststate.md: every case of docs/teststate/review-cases.json runs
/// through the real CLI exactly as the document shows it (the state extracted from the
/// review machine, the mock and the state configuration as written there).
#[test]
fn the_documented_review_machine_cases_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/testing-with-teststate.md"))
        .unwrap_or_else(|e| panic!("docs/testing-with-teststate.md: {e}"));
    assert!(doc.contains("docs/teststate/review-cases.json"));
    assert!(doc.contains("AWS_DISABLE_HOST_PREFIX_INJECTION=true"));
    let cases: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("docs/teststate/review-cases.json"))
            .unwrap_or_else(|e| panic!("review-cases.json: {e}")),
    )
    .unwrap_or_else(|e| panic!("review-cases.json: {e}"));
    let Some((aws, _server)) = setup("cli-doc-teststate") else {
        return;
    };
    // What `sam deploy` would substitute: numbers as given, ARNs as any string.
    let mut text = std::fs::read_to_string(root.join(s(&cases["machine"])))
        .unwrap_or_else(|e| panic!("machine: {e}"));
    for (k, v) in cases["substitutions"].as_object().into_iter().flatten() {
        text = text.replace(&format!("${{{k}}}"), &v.to_string());
    }
    while let Some(start) = text.find("${") {
        let end = text[start..]
            .find('}')
            .map_or(text.len(), |e| start + e + 1);
        let name = text[start + 2..end - 1].to_owned();
        text.replace_range(start..end, &name);
    }
    let machine: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("machine: {e}"));
    let cases = cases["cases"].as_array().cloned().unwrap_or_default();
    assert!(cases.len() >= 5, "the document's cases went missing");
    for case in &cases {
        let title = s(&case["title"]);
        let state = find_state(&machine["States"], s(&case["state"]))
            .unwrap_or_else(|| panic!("{title}: no state {}", case["state"]));
        let definition = state.to_string();
        let input = case["input"].to_string();
        let mut call = vec![
            "test-state".to_owned(),
            "--definition".into(),
            definition,
            "--role-arn".into(),
            ROLE.into(),
            "--input".into(),
            input,
            "--inspection-level".into(),
            "DEBUG".into(),
        ];
        for (key, flag) in [
            ("mock", "--mock"),
            ("stateConfiguration", "--state-configuration"),
        ] {
            if !case[key].is_null() {
                call.push(flag.into());
                call.push(case[key].to_string());
            }
        }
        let out = aws.run_with(
            &args(&call),
            &[("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")],
        );
        assert!(
            out.status.success(),
            "{title}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
        let expect = &case["expect"];
        for key in ["status", "nextState", "error"] {
            if !expect[key].is_null() {
                assert_eq!(v[key], expect[key], "{title}: {key} in {v}");
            }
        }
        for key in ["retryIndex", "catchIndex"] {
            assert_eq!(
                v["inspectionData"]["errorDetails"][key], expect[key],
                "{title}: {key} in {v}"
            );
        }
    }
}
