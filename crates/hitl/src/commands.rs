//! The commands.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_sfn::error::SdkError;
use aws_sdk_sfn::operation::send_task_success::SendTaskSuccessError;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::cli::{Answer, Cli, Command};
use crate::connect::Connection;
use crate::review::{self, Event, Scheduled};

const NO_TOKEN: &str = "say which review to answer: give the task token (the text after \
                        'Task token:' in the email), or --execution NAME (see `hitl pending`)";

/// Requests larger than this do not fit in the review email (README, Limits).
const MAX_REQUEST_BYTES: usize = 200 * 1024;

pub(crate) async fn run(cli: Cli) -> Result<()> {
    if let Command::Local(args) = &cli.command {
        return crate::local::run(args, &cli.target).await;
    }
    if let Command::Approve(answer) | Command::Reject(answer) = &cli.command
        && answer.token.is_none()
        && answer.execution.is_none()
    {
        bail!(NO_TOKEN);
    }
    let connection = Connection::new(&cli.target).await?;
    match cli.command {
        Command::Local(_) => Ok(()),
        Command::Start { input, name } => start(&connection, &input, name).await,
        Command::Pending => pending(&connection).await,
        Command::Approve(answer) => respond(&connection, answer, true).await,
        Command::Reject(answer) => respond(&connection, answer, false).await,
        Command::Cancel { execution } => cancel(&connection, &execution).await,
        Command::Status { execution } => status(&connection, &execution).await,
        Command::Check { topic_arn } => check(&connection, topic_arn).await,
    }
}

/// Reads `--input`: a file when one exists at that path, else JSON text.
fn read_input(input: &str) -> Result<String> {
    let text = if Path::new(input).is_file() {
        std::fs::read_to_string(input).with_context(|| format!("cannot read {input}"))?
    } else {
        input.to_owned()
    };
    let value: Value = serde_json::from_str(&text).map_err(|error| {
        anyhow!("the input is not valid JSON ({error}): pass a JSON text or a file holding one")
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

/// Checks an execution name as Step Functions does, and for the email subject (ASCII).
fn check_name(name: &str) -> Result<()> {
    let forbidden = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || !c.is_ascii()
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
    };
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(forbidden) {
        bail!(
            "invalid execution name {name:?}: use 1 to 80 ASCII letters, digits, '-', '_' or '.'"
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

async fn start(connection: &Connection, input: &str, name: Option<String>) -> Result<()> {
    let input = read_input(input)?;
    let name = name.unwrap_or_else(generated_name);
    check_name(&name)?;
    let machine = connection.state_machine().await?;
    let started = connection
        .sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name(&name)
        .input(input)
        .send()
        .await
        .map_err(|error| connection.explain(error, "start the execution"))?;
    say!("Review requested: {name}");
    say!("  execution: {}", started.execution_arn());
    say!("The reviewers get an email. Answer with:");
    say!("  hitl approve --execution {name}    or    hitl reject --execution {name}");
    Ok(())
}

/// The execution's whole history, oldest first, reduced to what the CLI reads.
async fn history(connection: &Connection, execution_arn: &str) -> Result<Vec<Event>> {
    let mut pages = connection
        .sfn
        .get_execution_history()
        .execution_arn(execution_arn)
        .max_results(1000)
        .into_paginator()
        .send();
    let mut events = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| connection.explain(error, "read the execution history"))?;
        events.extend(page.events().iter().map(event));
    }
    Ok(events)
}

fn event(event: &HistoryEvent) -> Event {
    Event {
        kind: event.r#type().as_str().to_owned(),
        timestamp: to_chrono(event.timestamp()),
        state: event
            .state_entered_event_details()
            .map(|details| details.name().to_owned()),
        scheduled: event
            .task_scheduled_event_details()
            .map(|details| Scheduled {
                parameters: details.parameters().to_owned(),
                timeout_seconds: details.timeout_in_seconds(),
            }),
    }
}

fn to_chrono(time: &aws_sdk_sfn::primitives::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos()).unwrap_or_default()
}

fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

async fn pending(connection: &Connection) -> Result<()> {
    let machine = connection.state_machine().await?;
    let mut pages = connection
        .sfn
        .list_executions()
        .state_machine_arn(&machine)
        .status_filter(ExecutionStatus::Running)
        .into_paginator()
        .send();
    let mut rows = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| connection.explain(error, "list executions"))?;
        for execution in page.executions() {
            let events = history(connection, execution.execution_arn()).await?;
            let Some(waiting) = review::waiting_review(&events) else {
                continue;
            };
            let described = connection
                .sfn
                .describe_execution()
                .execution_arn(execution.execution_arn())
                .send()
                .await
                .map_err(|error| connection.explain(error, "describe the execution"))?;
            rows.push([
                execution.name().to_owned(),
                when(waiting.since),
                waiting.deadline.map(when).unwrap_or_else(|| "none".into()),
                review::summary(described.input().unwrap_or("{}"), 50),
            ]);
        }
    }
    if rows.is_empty() {
        say!("No review is waiting.");
        return Ok(());
    }
    print_table(&["EXECUTION", "WAITING SINCE", "EXPIRES", "REQUEST"], &rows);
    say!("\nAnswer with: hitl approve --execution NAME  (or reject; --reviewer, --comment)");
    Ok(())
}

fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|title| title.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        say!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

async fn respond(connection: &Connection, answer: Answer, approve: bool) -> Result<()> {
    let token = match (&answer.token, &answer.execution) {
        (Some(token), _) => token.trim().to_owned(),
        (None, Some(execution)) => {
            let arn = connection.execution_arn(execution).await?;
            let events = history(connection, &arn).await?;
            review::waiting_review(&events)
                .ok_or_else(|| {
                    anyhow!(
                        "execution {execution} is not waiting for a review: \
                         see `hitl status {execution}`"
                    )
                })?
                .token
        }
        (None, None) => bail!(NO_TOKEN),
    };
    let output = review::answer(
        approve,
        answer.reviewer.as_deref(),
        answer.comment.as_deref(),
    )
    .to_string();
    connection
        .sfn
        .send_task_success()
        .task_token(&token)
        .output(output)
        .send()
        .await
        .map_err(|error| explain_answer(connection, error))?;
    let (verb, next) = if approve {
        ("Approved", "Process Approval")
    } else {
        ("Rejected", "Process Rejection")
    };
    say!("{verb}. The workflow continues with {next}.");
    if let Some(execution) = &answer.execution {
        say!("See the outcome with: hitl status {execution}");
    }
    Ok(())
}

fn explain_answer(connection: &Connection, error: SdkError<SendTaskSuccessError>) -> anyhow::Error {
    let fix = match error.as_service_error() {
        Some(SendTaskSuccessError::TaskTimedOut(_)) => Some(
            "this review can no longer be answered: it was already decided, it expired, \
             or its execution was stopped (see `hitl status EXECUTION`)",
        ),
        Some(SendTaskSuccessError::InvalidToken(_)) => Some(
            "this is not a valid task token: copy the whole text after 'Task token:' in the \
             email, or use --execution NAME",
        ),
        Some(SendTaskSuccessError::TaskDoesNotExist(_)) => Some(
            "no review waits for this token here: check --region (or --endpoint-url), or it \
             was already answered",
        ),
        _ => None,
    };
    match fix {
        Some(fix) => anyhow!("cannot send the answer: {fix}"),
        None => connection.explain(error, "send the answer"),
    }
}

async fn cancel(connection: &Connection, execution: &str) -> Result<()> {
    let arn = connection.execution_arn(execution).await?;
    connection
        .sfn
        .stop_execution()
        .execution_arn(&arn)
        .error("Cancelled")
        .cause("Stopped with hitl cancel; no decision was made.")
        .send()
        .await
        .map_err(|error| connection.explain(error, "stop the execution"))?;
    say!("Cancelled {execution}: no decision was made and its review link no longer works.");
    Ok(())
}

async fn status(connection: &Connection, execution: &str) -> Result<()> {
    let arn = connection.execution_arn(execution).await?;
    let described = connection
        .sfn
        .describe_execution()
        .execution_arn(&arn)
        .send()
        .await
        .map_err(|error| connection.explain(error, "describe the execution"))?;
    say!("Execution: {}", described.name().unwrap_or(execution));
    say!("Status:    {}", described.status().as_str());
    say!("Started:   {}", when(to_chrono(described.start_date())));
    if let Some(stopped) = described.stop_date() {
        say!("Stopped:   {}", when(to_chrono(stopped)));
    }
    let record = described
        .output()
        .and_then(|output| serde_json::from_str::<Value>(output).ok());
    if let Some(record) = record {
        if let Some(decision) = record.get("decision").and_then(Value::as_str) {
            let expired = record.get("expired") == Some(&Value::Bool(true));
            let note = if expired { " (review expired)" } else { "" };
            say!("Decision:  {decision}{note}");
        }
        for key in ["reviewer", "comment", "decidedAt"] {
            if let Some(value) = record.get(key).and_then(Value::as_str) {
                say!("{:<10} {value}", format!("{key}:"));
            }
        }
    }
    if let Some(error) = described.error() {
        say!("Error:     {error}");
    }
    if let Some(cause) = described.cause() {
        say!("Cause:     {cause}");
    }
    let events = history(connection, &arn).await?;
    if let Some(waiting) = review::waiting_review(&events) {
        let deadline = waiting.deadline.map(when).unwrap_or_else(|| "never".into());
        say!(
            "Waiting for a review since {}; it expires {deadline}.",
            when(waiting.since)
        );
    }
    say!("History:");
    for event in events.iter().filter(|event| event.state.is_some()) {
        say!(
            "  {}  {}",
            when(event.timestamp),
            event.state.as_deref().unwrap_or("")
        );
    }
    if let Some(last) = events.last() {
        say!("  {}  {}", when(last.timestamp), last.kind);
    }
    Ok(())
}

async fn check(connection: &Connection, topic_arn: Option<String>) -> Result<()> {
    let sns = aws_sdk_sns::Client::new(&connection.config);
    let topic = match topic_arn {
        Some(arn) => arn,
        None => review_topic(connection, &sns).await?,
    };
    let subscriptions = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .map_err(|error| connection.explain(error, "list the review topic's subscriptions"))?;
    let emails: Vec<_> = subscriptions
        .subscriptions()
        .iter()
        .filter(|subscription| subscription.protocol() == Some("email"))
        .collect();
    let mut confirmed = 0;
    for subscription in &emails {
        let endpoint = subscription.endpoint().unwrap_or("?");
        if subscription.subscription_arn() == Some("PendingConfirmation") {
            say!(
                "warning: {endpoint} has not confirmed the subscription: it receives no review requests until it clicks the link in SNS's confirmation email"
            );
        } else {
            confirmed += 1;
            say!("ok: {endpoint} receives review requests");
        }
    }
    if confirmed == 0 {
        bail!(
            "no confirmed email subscription on {topic}: nobody receives review requests. \
             Subscribe the reviewer again (aws sns subscribe --protocol email ...), then confirm \
             with --authenticate-on-unsubscribe true so mail scanners cannot unsubscribe it"
        );
    }
    Ok(())
}

/// The review topic: the stack output in AWS, or the local topic named after
/// `ReviewTopic` in local mode.
async fn review_topic(connection: &Connection, sns: &aws_sdk_sns::Client) -> Result<String> {
    let topics = sns
        .list_topics()
        .send()
        .await
        .map_err(|error| connection.explain(error, "list topics"))?;
    let review_topics: Vec<&str> = topics
        .topics()
        .iter()
        .filter_map(|topic| topic.topic_arn())
        .filter(|arn| arn.contains("ReviewTopic"))
        .collect();
    match review_topics.as_slice() {
        [only] => Ok((*only).to_owned()),
        _ => bail!(
            "cannot tell which topic is the review topic: pass --topic-arn (the stack output ReviewTopicArn)"
        ),
    }
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
        let error = read_input("{oops").unwrap_err().to_string();
        assert!(error.contains("not valid JSON"), "{error}");
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
        for bad in ["", "has space", "a/b", "révision", &"n".repeat(81)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
