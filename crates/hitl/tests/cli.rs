//! The `hitl` binary, driven as a user would. None of these reaches AWS: they
//! stop at argument checks, a missing region or credentials (instance metadata
//! disabled), or a loopback port where nothing listens.

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
        "start", "pending", "approve", "reject", "cancel", "status", "check",
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
