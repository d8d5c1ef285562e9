//! The `hitl` binary, driven as a user would. None of these reaches AWS: they
//! stop at argument checks, a missing region or credentials (instance metadata
//! disabled), a loopback port where nothing listens, or a loopback server that
//! answers every request with one canned response.

use assert_cmd::Command;

/// `hitl` with an empty environment: no AWS profile, region or credentials.
fn hitl() -> Command {
    let home = std::env::temp_dir().join("hitl-cli-test-home");
    let mut command = Command::cargo_bin("hitl").unwrap();
    command
        .env_clear()
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .arg("--config-file")
        .arg("/nonexistent/samconfig.toml");
    command
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_lists_every_command() {
    let output = hitl().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for command in [
        "local", "start", "pending", "approve", "reject", "cancel", "status", "redrive", "check",
    ] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
    assert!(help.contains("--endpoint-url"));
}

#[test]
fn approve_needs_a_token_or_an_execution() {
    let output = hitl().arg("approve").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--execution"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn without_a_region_it_says_how_to_give_one() {
    let output = hitl().arg("pending").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no AWS region: pass --region"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn without_credentials_it_says_how_to_get_them_or_use_local_mode() {
    let output = hitl()
        .args(["--region", "eu-west-1", "--state-machine"])
        .arg("arn:aws:states:eu-west-1:123456789012:stateMachine:Review")
        .arg("pending")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("no AWS credentials"), "{message}");
    assert!(message.contains("--endpoint-url"), "{message}");
}

#[test]
fn a_local_endpoint_that_is_down_is_named_with_the_command_to_start_it() {
    let output = hitl()
        .args(["--endpoint-url", "http://127.0.0.1:9", "pending"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("nothing answers at http://127.0.0.1:9"),
        "{message}"
    );
    assert!(message.contains("hitl -- local"), "{message}");
}

#[test]
fn malformed_input_is_refused_before_anything_is_sent() {
    let output = hitl()
        .args([
            "--endpoint-url",
            "http://127.0.0.1:9",
            "start",
            "--input",
            "{oops",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not valid JSON"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_missing_input_file_is_named_as_missing() {
    for input in ["missing.json", "file://events/missing.json"] {
        let output = hitl()
            .args([
                "--endpoint-url",
                "http://127.0.0.1:9",
                "start",
                "--input",
                input,
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let message = stderr(&output);
        let path = input.trim_start_matches("file://");
        assert!(
            message.contains(&format!("no file {path} (relative to ")),
            "{message}"
        );
        assert!(!message.contains("not valid JSON"), "{message}");
    }
}

#[test]
fn start_without_input_says_how_to_give_one() {
    let output = hitl()
        .args([
            "--endpoint-url",
            "http://127.0.0.1:9",
            "start",
            "--name",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("--input <FILE|JSON>"), "{message}");
    assert!(message.contains("required"), "{message}");
}

#[test]
fn an_invalid_name_is_refused_with_the_rule_step_functions_applies() {
    let output = hitl()
        .args([
            "--endpoint-url",
            "http://127.0.0.1:9",
            "start",
            "--input",
            "{}",
        ])
        .args(["--name", "refund#1042"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("invalid execution name \"refund#1042\""),
        "{message}"
    );
    assert!(message.contains("1 to 80 ASCII characters"), "{message}");
    assert!(message.contains(" # "), "{message}");
}

/// A loopback server that answers every request with `status`, `content_type` and
/// `body`; gives its URL.
fn canned_server(status: u16, content_type: &'static str, body: &'static str) -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            // Read the head and the body the client announced, then answer.
            let mut request = Vec::new();
            let mut buffer = [0; 4096];
            while let Ok(read) = stream.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|line| line.strip_prefix("content-length:"))
                        .and_then(|value| value.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

fn hitl_at(url: &str, args: &[&str]) -> std::process::Output {
    hitl()
        .env("AWS_MAX_ATTEMPTS", "1")
        .args(["--endpoint-url", url])
        .args([
            "--state-machine",
            "arn:aws:states:us-east-1:123456789012:stateMachine:M",
        ])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_denial_names_the_service_and_the_action_denied() {
    // Step Functions (JSON protocol)
    let sfn = canned_server(
        400,
        "application/x-amz-json-1.0",
        r#"{"__type":"AccessDeniedException","message":"User: u is not authorized"}"#,
    );
    let output = hitl_at(&sfn, &["status", "refund-1042"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("may not call states:DescribeExecution (Step Functions)"),
        "{message}"
    );
    // SNS (query protocol, XML errors)
    let sns = canned_server(
        403,
        "text/xml",
        "<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code>\
         <Message>User: u is not authorized</Message></Error><RequestId>r</RequestId>\
         </ErrorResponse>",
    );
    let output = hitl_at(&sns, &["check", "--topic-arn", "arn:aws:sns:us-east-1:1:T"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("may not call sns:ListSubscriptionsByTopic (SNS)"),
        "{message}"
    );
    assert!(!message.contains("states:"), "{message}");
}

#[test]
fn an_endpoint_that_is_not_step_functions_is_named() {
    let web = canned_server(404, "text/html", "<html>Not Found</html>");
    let output = hitl_at(&web, &["status", "refund-1042"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains(&format!(
            "{web} answered HTTP 404 but not as Step Functions"
        )),
        "{message}"
    );
    assert!(message.contains("hitl local"), "{message}");
}

/// A template with the approval-policy parameters and one function whose code
/// does not exist: if `hitl local` went as far as building, it would fail there
/// (and slowly) instead of naming the policy.
const POLICY_TEMPLATE: &str = "\
Transform: AWS::Serverless-2016-10-31
Parameters:
  ReviewerEmails: {Type: String, Default: ''}
  ReviewerEmail: {Type: String, Default: ''}
  RequiredApprovals: {Type: Number, Default: 1}
Resources:
  Never:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: no-such-crate/
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
          REVIEWERS: !Ref ReviewerEmails
";

fn local_with_policy(overrides: &[&str]) -> (std::process::Output, std::time::Duration) {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(&template, POLICY_TEMPLATE).unwrap();
    let started = std::time::Instant::now();
    let output = hitl()
        .arg("local")
        .arg("--template")
        .arg(&template)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("--parameter-overrides")
        .args(overrides)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (output, started.elapsed())
}

#[test]
fn local_refuses_a_policy_that_cannot_be_met_before_building_anything() {
    let (output, took) =
        local_with_policy(&["ReviewerEmails=a@x.com,b@x.com", "RequiredApprovals=3"]);
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "RequiredApprovals is 3 but ReviewerEmails lists only 2 reviewer(s): add reviewers \
             or lower RequiredApprovals"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("did not start"), "{stderr}");
    assert!(
        !stderr.contains("no-such-crate"),
        "it went on to build:\n{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("Starting local mode"), "{stdout}");
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
}

#[test]
fn local_fills_the_reviewer_before_checking_the_policy() {
    // No reviewer given: local mode reviews as reviewer@example.com, one reviewer,
    // so two required approvals cannot be met, and the message says so.
    let (output, _) = local_with_policy(&["RequiredApprovals=2"]);
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("RequiredApprovals is 2 but ReviewerEmails lists only 1 reviewer(s)"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ReviewerEmails=reviewer@example.com"),
        "the fill is announced:\n{stdout}"
    );
}

#[test]
fn local_help_says_which_reviewer_it_fills_in() {
    let output = hitl().args(["local", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("ReviewerEmails=reviewer@example.com"),
        "{help}"
    );
}

#[test]
fn local_refuses_task_tokens_longer_than_aws_allows_and_says_why() {
    for (given, why) in [
        ("2052", "not 2052"),
        ("2049", "not 2049"),
        ("100", "not 100"),
        ("long", "not long"),
    ] {
        let output = hitl()
            .args(["local", "--no-build", "--task-token-length", given])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{given}: {stderr}");
        for words in [
            "--task-token-length",
            "task tokens can be 732 to 2048 characters, in steps of 4",
            why,
            "at most 2048 characters",
        ] {
            assert!(stderr.contains(words), "{given}: {words:?} not in {stderr}");
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!stdout.contains("Starting local mode"), "{stdout}");
    }
    let help = hitl().args(["local", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--task-token-length <CHARS>") && help.contains("[default: 732]"),
        "{help}"
    );
}

/// A copy of the repository's template and state machines in a temporary directory, the
/// template's definition (human_in_the_loop.asl.json) passed through `edit` first.
fn project_copy(edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root.join("template.yaml"), dir.path().join("template.yaml")).unwrap();
    let machines = dir.path().join("statemachine");
    std::fs::create_dir(&machines).unwrap();
    for entry in std::fs::read_dir(root.join("statemachine")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.ends_with("human_in_the_loop.asl.json") {
            text = edit(text);
        }
        std::fs::write(machines.join(path.file_name().unwrap()), text).unwrap();
    }
    dir
}

/// The first state's `Next` misspelt, and a payload-template value that reads as a path
/// but has no `.$`: one error AWS would refuse the definition for, one warning.
fn broken(text: String) -> String {
    assert!(
        text.contains("\"Next\": \"Open Review\""),
        "the fixture changed"
    );
    assert!(
        text.contains("\"request.$\": \"$\","),
        "the fixture changed"
    );
    text.replacen("\"Next\": \"Open Review\"", "\"Next\": \"Open Reviw\"", 1)
        .replacen(
            "\"request.$\": \"$\",",
            "\"request.$\": \"$\", \"note\": \"$.note\",",
            1,
        )
}

/// The lines `hitl check` and `hitl local` print for [`broken`]: AWS's code, location and
/// message for each (MISSING_TRANSITION_TARGET as in AWS CLI output quoted in localstack
/// PR #12487; NO_DOLLAR as in the ValidateStateMachineDefinition API reference's example).
const MISSPELT_NEXT: &str = "error: HumanReviewStateMachine (./statemachine/human_in_the_loop.asl.json): \
     MISSING_TRANSITION_TARGET at /States/Prepare Review/Next: Missing 'Next' target: Open Reviw";
const NO_DOLLAR: &str = "warning: HumanReviewStateMachine (./statemachine/human_in_the_loop.asl.json): \
     NO_DOLLAR at /States/Prepare Review/Parameters: The value of 'note' looks like a JSONPath. \
     Instead of 'note', use 'note.$' to evaluate it as a JSONPath at runtime.";

#[test]
fn check_validates_the_templates_definition_without_a_stack() {
    let dir = project_copy(|text| text);
    let output = hitl()
        .current_dir(dir.path())
        .arg("check")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", stderr(&output));
    assert!(
        stdout.contains("ok: 1 state machine definition(s) in template.yaml validate\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("reviewer subscriptions not checked"),
        "{stdout}"
    );
}

#[test]
fn check_prints_aws_diagnostics_and_fails_on_an_error() {
    let dir = project_copy(broken);
    let output = hitl()
        .current_dir(dir.path())
        .arg("check")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.lines().any(|l| l == MISSPELT_NEXT), "{stdout}");
    assert!(stdout.lines().any(|l| l == NO_DOLLAR), "{stdout}");
    assert!(
        stderr.contains("Fix ./statemachine/human_in_the_loop.asl.json at the locations shown")
            && stderr.contains("hitl check"),
        "{stderr}"
    );

    // A warning alone does not fail.
    let dir = project_copy(|text| {
        text.replacen(
            "\"request.$\": \"$\",",
            "\"request.$\": \"$\", \"note\": \"$.note\",",
            1,
        )
    });
    let output = hitl()
        .current_dir(dir.path())
        .arg("check")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.lines().any(|l| l == NO_DOLLAR), "{stdout}");
    assert!(stdout.contains("(1 warning(s) above"), "{stdout}");
}

#[test]
fn local_refuses_to_start_on_a_definition_error() {
    let dir = project_copy(broken);
    let started = std::time::Instant::now();
    let output = hitl()
        .current_dir(dir.path())
        .args(["local", "--no-build", "--port", "0", "--state-dir"])
        .arg(dir.path().join("state"))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.lines().any(|l| l == MISSPELT_NEXT), "{stderr}");
    assert!(stderr.lines().any(|l| l == NO_DOLLAR), "{stderr}");
    assert!(stderr.contains("local mode did not start"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("Starting local mode"), "{stdout}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}
