//! Drives the `dynamodb-local` binary with the real AWS CLI, as a user would
//! in local mode: JSON on stdout, "An error occurred (<Code>) when calling the
//! <Op> operation: <message>" on stderr.
//!
//! The CLI is `.tools/venv/bin/aws` at the repository root (`scripts/test.sh`
//! installs it), else `aws` on PATH; without either the test says why and
//! passes, unless `HITL_REQUIRE_AWS_CLI` is set (as sfn-local's CLI tests do).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::Binary;
use serde_json::{Value, json};

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

struct Aws {
    exe: PathBuf,
    endpoint: String,
}

impl Aws {
    /// `aws dynamodb <args>` against the local endpoint only: dummy
    /// credentials, a fixed region, no config files, no retries.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.exe)
            .arg("dynamodb")
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
            .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.exe.display()))
    }

    fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "aws dynamodb {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stdout.trim().is_empty() {
            return json!({});
        }
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}\n{stdout}"))
    }
}

#[test]
fn aws_cli_puts_and_gets_an_item() {
    let Some(exe) = find_aws() else {
        assert!(
            std::env::var_os("HITL_REQUIRE_AWS_CLI").is_none(),
            "no working AWS CLI at .tools/venv/bin/aws or on PATH, and HITL_REQUIRE_AWS_CLI \
             is set: install it (scripts/test.sh does)"
        );
        eprintln!(
            "skipped: no working AWS CLI at .tools/venv/bin/aws or on PATH (scripts/test.sh installs it)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let server = Binary::start(dir.path());
    let aws = Aws {
        exe,
        endpoint: server.endpoint.clone(),
    };

    let created = aws.ok(&[
        "create-table",
        "--table-name",
        "Reviews",
        "--billing-mode",
        "PAY_PER_REQUEST",
        "--attribute-definitions",
        "AttributeName=pk,AttributeType=S",
        "AttributeName=sk,AttributeType=S",
        "--key-schema",
        "AttributeName=pk,KeyType=HASH",
        "AttributeName=sk,KeyType=RANGE",
    ]);
    assert_eq!(created["TableDescription"]["TableName"], "Reviews");

    let item = json!({
        "pk": {"S": "R#arn:aws:states:us-east-1:123456789012:execution:m:e"},
        "sk": {"S": "REVIEW"},
        "version": {"N": "12345678901234567890123456789012345678"},
        "policy": {"M": {"required": {"N": "2"}, "reviewers": {"L": [{"S": "a@x.com"}, {"S": "b@x.com"}]}}},
        "done": {"BOOL": false},
        "none": {"NULL": true},
        "raw": {"B": "AAEC/w=="},
        "tags": {"SS": ["a"]}
    });
    let item_text = item.to_string();
    let put = [
        "put-item",
        "--table-name",
        "Reviews",
        "--item",
        &item_text,
        "--condition-expression",
        "attribute_not_exists(pk)",
    ];
    aws.ok(&put);
    let key = json!({"pk": item["pk"], "sk": item["sk"]}).to_string();
    let got = aws.ok(&[
        "get-item",
        "--table-name",
        "Reviews",
        "--key",
        &key,
        "--consistent-read",
    ]);
    // A blob on the command line is text to AWS CLI v1, which sends its bytes
    // base64-encoded (so `AAEC/w==` comes back as the base64 of those eight
    // characters); v2 reads it as base64 already (`cli_binary_format`).
    let mut got = got["Item"].clone();
    let raw = got
        .as_object_mut()
        .and_then(|m| m.remove("raw"))
        .unwrap_or_else(|| panic!("no raw in {got}"));
    assert!(
        raw == json!({"B": "QUFFQy93PT0="}) || raw == json!({"B": "AAEC/w=="}),
        "{raw}"
    );
    let mut want = item.clone();
    want.as_object_mut().map(|m| m.remove("raw"));
    assert_eq!(got, want);

    // The same put again fails its condition, and the CLI says so as for AWS.
    let out = aws.run(&put);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A service error exits 255 in AWS CLI v1 and 254 in v2.
    assert!(
        matches!(out.status.code(), Some(254 | 255)),
        "{}: {stderr}",
        out.status
    );
    assert!(
        stderr.contains(
            "An error occurred (ConditionalCheckFailedException) when calling the PutItem \
             operation: The conditional request failed"
        ),
        "{stderr}"
    );
}
