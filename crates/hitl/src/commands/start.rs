//! `hitl start`: the request (`--input` as JSON text, a file or `file://`), the
//! execution's name, and what an existing execution of that name means.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_sdk_sfn::types::ExecutionStatus;
use chrono::Utc;
use serde_json::Value;

use crate::connect::{Connection, execution_arn};
use crate::votes::{self};

use super::*;

/// Requests larger than this do not fit in the review email (README, Limits).
pub(super) const MAX_REQUEST_BYTES: usize = 200 * 1024;

/// Reads `--input`: `file://PATH` (the AWS CLI's form) or the path of an existing file
/// is read; anything else is JSON text. A value that looks like a path but names no file
/// is reported as a missing file, not as bad JSON.
fn read_input(input: &str) -> Result<String> {
    let file = match input.strip_prefix("file://") {
        Some(path) => Some(path),
        None => Path::new(input).is_file().then_some(input),
    };
    let text = match file {
        Some(path) => read_file(path)?,
        None => input.to_owned(),
    };
    let value: Value = serde_json::from_str(&text).map_err(|error| match file {
        Some(path) => anyhow!("{path} does not hold valid JSON ({error}): fix the file"),
        None if looks_like_path(input) => anyhow!(
            "no file {input} (relative to {}): check the path, or pass the request as \
             JSON text",
            current_dir()
        ),
        None => anyhow!(
            "the input is not valid JSON ({error}): pass a JSON text, a file holding one, \
             or file://PATH"
        ),
    })?;
    let compact = value.to_string();
    if compact.len() > MAX_REQUEST_BYTES {
        bail!(
            "the request is {} KiB; keep it under {} KiB so it fits in the review email \
             (put large documents in S3 and pass a link)",
            compact.len() / 1024,
            MAX_REQUEST_BYTES / 1024
        );
    }
    Ok(compact)
}

fn read_file(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => anyhow!(
            "no file {path} (relative to {}): check the path given to --input",
            current_dir()
        ),
        _ => anyhow!("cannot read {path}: {error}"),
    })
}

fn current_dir() -> String {
    std::env::current_dir().map_or_else(
        |_| "the current directory".into(),
        |dir| dir.display().to_string(),
    )
}

/// Whether a value that is not JSON was meant as a file: it ends in `.json`, or has a
/// path separator, and does not start as JSON text would.
fn looks_like_path(input: &str) -> bool {
    let trimmed = input.trim_start();
    !trimmed.starts_with(['{', '[', '"'])
        && (trimmed.ends_with(".json") || trimmed.contains('/') || trimmed.contains('\\'))
}

/// The characters Step Functions refuses in an execution name (API reference,
/// StartExecution `name`: whitespace, brackets, wildcards, these special characters,
/// and control characters U+0000-001F and U+007F-009F).
const FORBIDDEN_IN_NAMES: &str = "<>{}[]?*\"#%\\^|~`$&,;:/";

/// Checks an execution name as Step Functions does (1 to 80 characters, none of the
/// forbidden ones), and that it is ASCII, which the email subject needs.
fn check_name(name: &str) -> Result<()> {
    let forbidden = |c: char| {
        c.is_whitespace() || c.is_control() || !c.is_ascii() || FORBIDDEN_IN_NAMES.contains(c)
    };
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(forbidden) {
        let listed: Vec<String> = FORBIDDEN_IN_NAMES.chars().map(String::from).collect();
        bail!(
            "invalid execution name {name:?}: use 1 to 80 ASCII characters without spaces, \
             control characters or any of {} (letters, digits, '-', '_' and '.' are always safe)",
            listed.join(" ")
        );
    }
    Ok(())
}

fn generated_name() -> String {
    let now = Utc::now();
    format!(
        "review-{}-{:03}",
        now.format("%Y%m%dT%H%M%S"),
        now.timestamp_subsec_millis()
    )
}

pub(super) async fn start(
    connection: &Connection,
    input: &str,
    name: Option<String>,
) -> Result<()> {
    let input = read_input(input)?;
    if let Some(name) = &name {
        check_name(name)?;
    }
    let machine = connection.state_machine().await?;
    if let Some(name) = &name {
        // StartExecution answers a name already in use by a running execution with the same
        // input by returning that execution, and refuses anything else with
        // ExecutionAlreadyExists (API reference, StartExecution `name`). Either way no new
        // review is requested, so say which case this is instead of "Review requested".
        // A caller allowed StartExecution but not DescribeExecution still gets its review:
        // a failed look is no answer, and StartExecution below decides.
        let arn = execution_arn(&machine, name)?;
        if let Ok(Some(existing)) = describe_if_exists(connection, &arn).await {
            return already_started(connection, name, &input, &existing).await;
        }
    }
    let name = name.unwrap_or_else(generated_name);
    let started = connection
        .sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name(&name)
        .input(&input)
        .send()
        .await;
    let started = match started {
        Ok(started) => started,
        Err(error)
            if matches!(
                error.as_service_error(),
                Some(StartExecutionError::ExecutionAlreadyExists(_))
            ) =>
        {
            // Started by someone else between our look and our start.
            let arn = execution_arn(&machine, &name)?;
            return match describe_if_exists(connection, &arn).await {
                Ok(Some(existing)) => already_started(connection, &name, &input, &existing).await,
                _ => Err(connection.explain(error, "states:StartExecution", "start the execution")),
            };
        }
        Err(error) => {
            return Err(connection.explain(error, "states:StartExecution", "start the execution"));
        }
    };
    say!("Review requested: {name}");
    say!("  execution: {}", started.execution_arn());
    say!("The reviewers get an email. Answer with:");
    say!("  hitl approve --execution {name}    or    hitl reject --execution {name}");
    Ok(())
}

/// `hitl start` with a name an execution already has. The same request on a running
/// execution succeeds (exit 0), as StartExecution does: a retried `hitl start` is safe.
/// Another request, or an ended execution, keeps the name taken: an error that says so.
async fn already_started(
    connection: &Connection,
    name: &str,
    input: &str,
    existing: &DescribeExecutionOutput,
) -> Result<()> {
    let started = when(to_chrono(existing.start_date()));
    let status = existing.status();
    if *status != ExecutionStatus::Running {
        let ended = existing
            .stop_date()
            .map(|stopped| format!(" at {}", when(to_chrono(stopped))))
            .unwrap_or_default();
        bail!(
            "execution name {name} is taken: its execution ended {}{ended}, and Step Functions \
             does not reuse an execution name for 90 days. Pick another --name (or leave it \
             out for a generated one); `hitl status {name}` shows the ended one",
            status.as_str()
        );
    }
    let same = serde_json::from_str::<Value>(existing.input().unwrap_or("{}")).ok()
        == serde_json::from_str::<Value>(input).ok();
    if !same {
        bail!(
            "execution name {name} is taken by a running execution (started {started}) with \
             another input (ExecutionAlreadyExists): pick another --name for this request \
             (or leave it out for a generated one); `hitl status {name}` shows the running one"
        );
    }
    say!(
        "Already running: {name}, started {started}, with this same request; no new review was requested."
    );
    say!("  execution: {}", existing.execution_arn());
    let events = history(connection, existing.execution_arn()).await?;
    match votes::read(&events).waiting.first() {
        Some(waiting) => {
            let deadline = waiting.deadline.map(when).unwrap_or_else(|| "never".into());
            say!(
                "It is waiting for a review since {} (it expires {deadline}). Answer with:",
                when(waiting.since)
            );
            say!("  hitl approve --execution {name}    or    hitl reject --execution {name}");
        }
        None => say!("It is not waiting for a review now: see `hitl status {name}`."),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_json_text_or_a_file() {
        assert_eq!(read_input(r#"{ "a": 1 }"#).unwrap(), r#"{"a":1}"#);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/start_execution.json");
        let from_file = read_input(path.to_str().unwrap()).unwrap();
        assert!(from_file.contains("Refund order 1042"));
        // The AWS CLI's form reads the same file.
        let uri = format!("file://{}", path.display());
        assert_eq!(read_input(&uri).unwrap(), from_file);
        let error = read_input("{oops").unwrap_err().to_string();
        assert!(error.contains("not valid JSON"), "{error}");
        // JSON text that holds a '/' or ends in ".json" is still JSON, and its errors too.
        assert_eq!(
            read_input(r#"{"doc":"s3://b/k.json"}"#).unwrap(),
            r#"{"doc":"s3://b/k.json"}"#
        );
        let error = read_input(r#"{"doc":"a/b.json""#).unwrap_err().to_string();
        assert!(error.contains("not valid JSON"), "{error}");
    }

    #[test]
    fn a_missing_file_is_named_as_missing_not_as_bad_json() {
        for missing in [
            "missing.json",
            "events/nope",
            "file://events/missing.json",
            "file://missing",
        ] {
            let error = read_input(missing).unwrap_err().to_string();
            let path = missing.trim_start_matches("file://");
            assert!(error.starts_with(&format!("no file {path} ")), "{error}");
            assert!(!error.contains("JSON ("), "{error}");
        }
        // A file that exists but is not JSON says so, naming the file.
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{not json").unwrap();
        let error = read_input(&format!("file://{}", bad.display()))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!("{} does not hold valid JSON", bad.display())),
            "{error}"
        );
    }

    #[test]
    fn oversized_requests_are_refused_before_they_reach_aws() {
        let big = format!("{{\"blob\":\"{}\"}}", "x".repeat(MAX_REQUEST_BYTES));
        let error = read_input(&big).unwrap_err().to_string();
        assert!(error.contains("keep it under 200 KiB"), "{error}");
    }

    #[test]
    fn execution_names_follow_step_functions_rules() {
        check_name("refund-1042").unwrap();
        check_name(&generated_name()).unwrap();
        // Step Functions allows more than letters, digits, '-', '_' and '.'; so does hitl.
        for good in ["a+b", "a=b", "a@b", "(x)", "it's", "!", &"n".repeat(80)] {
            check_name(good).unwrap();
        }
        for bad in [
            "",
            "has space",
            "a/b",
            "révision",
            "tab\tx",
            "a\u{7f}",
            &"n".repeat(81),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for forbidden in FORBIDDEN_IN_NAMES.chars() {
            let name = format!("a{forbidden}b");
            let error = check_name(&name).unwrap_err().to_string();
            // The message lists the very character it refused.
            assert!(error.contains(&format!(" {forbidden} ")), "{error}");
        }
    }
}
