//! Outbox files as other readers see them: Python's `email` package, and the
//! AWS CLI publishing to the local endpoint. Each test skips with a printed
//! reason when its tool is not installed.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use common::{REVIEWER, TOPIC, local, outbox, serve, task_token};
use sns_local::{PublishRequest, router};

/// Parses an `.eml` with Python's `email` (both the modern and the compat32
/// policy) and prints what a reader gets: decoded subject, headers, defects
/// and `get_payload(decode=True)`.
const PYTHON_READER: &str = r#"
import email, json, sys
from email import policy
from email.utils import parsedate_to_datetime
raw = open(sys.argv[1], "rb").read()
modern = email.message_from_bytes(raw, policy=policy.default)
legacy = email.message_from_bytes(raw)
print(json.dumps({
    "subject": str(modern["Subject"]),
    "to": str(modern["To"]),
    "from": str(modern["From"]),
    "date": parsedate_to_datetime(modern["Date"]).isoformat(),
    "message_id": str(modern["Message-ID"]),
    "content_type": modern.get_content_type(),
    "charset": modern.get_content_charset(),
    "defects": [str(d) for d in modern.defects] + [str(d) for d in legacy.defects],
    "body": modern.get_payload(decode=True).decode("utf-8"),
    "legacy_body": legacy.get_payload(decode=True).decode("utf-8"),
    "content": modern.get_content(),
}))
"#;

fn python() -> Option<PathBuf> {
    find_on_path("python3")
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[tokio::test]
async fn python_email_decodes_the_exact_body_and_the_task_token() {
    let Some(python) = python() else {
        eprintln!(
            "skipped: python3 is not on PATH, so Python's email package cannot read the outbox"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let local = local(dir.path());
    let token = task_token();
    let subject = "Prüfung angefordert: run-1 ✉";
    let message = format!(
        "Grüße! A review is waiting.\n\
         trailing spaces stay   \n\
         tab too\t\n\
         a=b, ==, =3D stay literal\n\
         Task token: {token}\n\
         \n\
         Approve: aws stepfunctions send-task-success --task-token '{token}' --task-output '{{\"approved\":true}}'\n"
    );
    let output = local
        .service
        .publish(PublishRequest {
            topic_arn: Some(TOPIC.to_owned()),
            subject: Some(subject.to_owned()),
            message: message.clone(),
            ..PublishRequest::default()
        })
        .await
        .expect("publish");
    let files = outbox(&local.service);
    assert_eq!(files.len(), 1);
    let raw = std::fs::read_to_string(&files[0]).expect("eml");
    // RFC 5322 §2.1.1: at most 998 characters a line (an ARN header cannot be
    // folded below 78: it has no white space); RFC 2045: body lines at most 76.
    let (head, body) = raw.split_once("\r\n\r\n").expect("header/body separator");
    assert!(head.split("\r\n").all(|line| line.len() <= 998));
    for line in body.split("\r\n") {
        assert!(
            line.len() <= 76,
            "body line of {} characters: {line:?}",
            line.len()
        );
    }

    let result = tokio::process::Command::new(&python)
        .arg("-c")
        .arg(PYTHON_READER)
        .arg(&files[0])
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run python3");
    assert!(
        result.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let parsed: serde_json::Value = serde_json::from_slice(&result.stdout).expect("python's json");

    assert_eq!(parsed["subject"], subject);
    assert_eq!(parsed["to"], REVIEWER);
    assert_eq!(
        parsed["from"],
        "AWS Notifications <no-reply@sns.amazonaws.com>"
    );
    assert_eq!(parsed["content_type"], "text/plain");
    assert_eq!(parsed["charset"], "utf-8");
    assert_eq!(parsed["defects"], serde_json::json!([]));
    assert!(
        parsed["message_id"]
            .as_str()
            .is_some_and(|id| id.starts_with('<') && id.ends_with('>'))
    );
    assert!(
        parsed["date"]
            .as_str()
            .is_some_and(|date| date.ends_with("+00:00"))
    );

    // The exact body SNS renders, in MIME's canonical CRLF form (RFC 2046 §4.1.1).
    let subscription = &output.deliveries[0].subscription_arn;
    let expected = format!(
        "{message}\n\n--\n\
         If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n\
         https://sns.us-east-1.amazonaws.com/unsubscribe.html?SubscriptionArn={subscription}&Endpoint={REVIEWER}\n\n\
         Please do not reply directly to this email. If you have any questions or comments regarding this email, please contact us at https://aws.amazon.com/support\n"
    )
    .replace('\n', "\r\n");
    assert_eq!(parsed["body"].as_str(), Some(expected.as_str()));
    assert_eq!(parsed["legacy_body"].as_str(), Some(expected.as_str()));

    let body = parsed["body"].as_str().expect("body");
    let recovered = body
        .lines()
        .find_map(|line| line.strip_prefix("Task token: "));
    assert_eq!(recovered, Some(token.as_str()));
    let content = parsed["content"].as_str().expect("content");
    assert!(content.contains(&format!("--task-token '{token}'")));
}

/// `aws` from PATH, or from the tools venv local mode installs.
fn aws_cli() -> Option<PathBuf> {
    find_on_path("aws").or_else(|| {
        let tools = std::env::var_os("HITL_TOOLS")?;
        let candidate = PathBuf::from(tools).join("venv/bin/aws");
        candidate.is_file().then_some(candidate)
    })
}

#[tokio::test]
async fn aws_cli_publishes_and_lists_against_the_local_endpoint() {
    let Some(aws) = aws_cli() else {
        eprintln!("skipped: the AWS CLI (`aws`) is not on PATH nor in $HITL_TOOLS/venv/bin");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let local = local(dir.path());
    let endpoint = format!("http://{}", serve(router(Arc::clone(&local.service))).await);
    let run = |args: &[&str]| {
        let mut command = tokio::process::Command::new(&aws);
        command
            .args(["sns", "--endpoint-url", &endpoint, "--output", "json"])
            .args(args)
            // Dummy credentials and no profile files: never reach for a real account.
            .env("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
            .env("AWS_SECRET_ACCESS_KEY", "local-secret")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.path().join("no-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .stdin(Stdio::null());
        command.output()
    };
    let token = task_token();
    let published = run(&[
        "publish",
        "--topic-arn",
        TOPIC,
        "--subject",
        "Review requested: run-2",
        "--message",
        &format!("Task token: {token}"),
    ])
    .await
    .expect("run aws");
    assert!(
        published.status.success(),
        "aws sns publish failed: {}",
        String::from_utf8_lossy(&published.stderr)
    );
    let reply: serde_json::Value = serde_json::from_slice(&published.stdout).expect("json");
    let message_id = reply["MessageId"].as_str().expect("MessageId");
    let files = outbox(&local.service);
    assert_eq!(files.len(), 1);
    assert!(files[0].to_string_lossy().contains(message_id));
    let email = sns_local::read_eml(&files[0]).expect("eml");
    assert_eq!(email.subject().as_deref(), Some("Review requested: run-2"));
    assert!(
        email
            .body
            .starts_with(&format!("Task token: {token}\n\n--\n"))
    );

    let listed = run(&["list-subscriptions-by-topic", "--topic-arn", TOPIC])
        .await
        .expect("run aws");
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(listed["Subscriptions"][0]["Endpoint"], REVIEWER);

    let created = run(&["create-topic", "--name", "decisions"])
        .await
        .expect("run aws");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).expect("json");
    assert_eq!(
        created["TopicArn"],
        "arn:aws:sns:us-east-1:123456789012:decisions"
    );

    let missing = run(&[
        "publish",
        "--topic-arn",
        "arn:aws:sns:us-east-1:123456789012:no-such-topic",
        "--message",
        "x",
    ])
    .await
    .expect("run aws");
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("(NotFound)") && stderr.contains("Topic does not exist"),
        "{stderr}"
    );
}
