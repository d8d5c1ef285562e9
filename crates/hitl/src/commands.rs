//! The commands.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use aws_sdk_sfn::error::SdkError;
use aws_sdk_sfn::operation::describe_execution::{DescribeExecutionError, DescribeExecutionOutput};
use aws_sdk_sfn::operation::redrive_execution::RedriveExecutionError;
use aws_sdk_sfn::operation::send_task_success::SendTaskSuccessError;
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_sdk_sfn::types::{ExecutionRedriveStatus, ExecutionStatus, HistoryEvent};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::cli::{Answer, Cli, Command};
use crate::connect::{Connection, execution_arn};
use crate::review::{self, Event, Scheduled};
use crate::subscriptions;
use crate::votes::{self, Outcome, Review};

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
    if let Command::Check {
        template,
        parameter_overrides,
        ..
    } = &cli.command
        && !check_definitions(template.as_deref(), parameter_overrides, &cli.target)?
    {
        return Ok(());
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
        Command::Redrive { execution } => redrive(&connection, &execution).await,
        Command::Check {
            topic_arn,
            reviewers,
            ..
        } => check(&connection, topic_arn, reviewers).await,
    }
}

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

async fn start(connection: &Connection, input: &str, name: Option<String>) -> Result<()> {
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

/// DescribeExecution, or `None` when no such execution exists.
async fn describe_if_exists(
    connection: &Connection,
    arn: &str,
) -> Result<Option<DescribeExecutionOutput>> {
    match connection
        .sfn
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
    {
        Ok(described) => Ok(Some(described)),
        Err(error)
            if matches!(
                error.as_service_error(),
                Some(DescribeExecutionError::ExecutionDoesNotExist(_))
            ) =>
        {
            Ok(None)
        }
        Err(error) => {
            Err(connection.explain(error, "states:DescribeExecution", "describe the execution"))
        }
    }
}

/// The execution a command names (by name or ARN), described; a name that no execution
/// has is an error saying where hitl looked and how to find the right name.
async fn described(
    connection: &Connection,
    execution: &str,
) -> Result<(String, DescribeExecutionOutput)> {
    let arn = connection.execution_arn(execution).await?;
    match describe_if_exists(connection, &arn).await? {
        Some(described) => Ok((arn, described)),
        None => bail!(
            "no execution {execution} (looked for {arn}): check the name (`hitl pending` lists \
             the reviews that wait), or --state-machine and --region"
        ),
    }
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
        let page = page.map_err(|error| {
            connection.explain(
                error,
                "states:GetExecutionHistory",
                "read the execution history",
            )
        })?;
        events.extend(page.events().iter().map(event));
    }
    Ok(events)
}

fn event(event: &HistoryEvent) -> Event {
    let iteration = event
        .map_iteration_started_event_details()
        .or(event.map_iteration_succeeded_event_details())
        .or(event.map_iteration_failed_event_details())
        .or(event.map_iteration_aborted_event_details())
        .and_then(|details| Some((details.name()?.to_owned(), details.index())));
    Event {
        id: event.id(),
        previous: event.previous_event_id(),
        kind: event.r#type().as_str().to_owned(),
        timestamp: to_chrono(event.timestamp()),
        state: event
            .state_entered_event_details()
            .map(|details| details.name().to_owned()),
        exited: event
            .state_exited_event_details()
            .map(|details| details.name().to_owned()),
        scheduled: event
            .task_scheduled_event_details()
            .map(|details| Scheduled {
                parameters: details.parameters().to_owned(),
                timeout_seconds: details.timeout_in_seconds(),
            }),
        iteration,
        output: event
            .task_succeeded_event_details()
            .and_then(|details| details.output())
            .map(str::to_owned),
        error: event
            .task_failed_event_details()
            .and_then(|details| details.error())
            .map(str::to_owned),
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
        let page = page.map_err(|error| {
            connection.explain(error, "states:ListExecutions", "list executions")
        })?;
        for execution in page.executions() {
            let events = history(connection, execution.execution_arn()).await?;
            let review = votes::read(&events);
            let Some(since) = review.waiting.iter().map(|waiting| waiting.since).min() else {
                continue;
            };
            let deadline = review.waiting.iter().find_map(|waiting| waiting.deadline);
            let described = connection
                .sfn
                .describe_execution()
                .execution_arn(execution.execution_arn())
                .send()
                .await
                .map_err(|error| {
                    connection.explain(error, "states:DescribeExecution", "describe the execution")
                })?;
            rows.push([
                execution.name().to_owned(),
                when(since),
                deadline.map(when).unwrap_or_else(|| "none".into()),
                review::summary(described.input().unwrap_or("{}"), 50),
                review.summary().unwrap_or_default(),
            ]);
        }
    }
    if rows.is_empty() {
        say!("No review is waiting.");
        return Ok(());
    }
    if rows.iter().all(|row| row[4].is_empty()) {
        // Reviews from before issue 14: one reviewer, no votes to show.
        let rows: Vec<[String; 4]> = rows
            .into_iter()
            .map(|[name, since, expires, request, _]| [name, since, expires, request])
            .collect();
        print_table(&["EXECUTION", "WAITING SINCE", "EXPIRES", "REQUEST"], &rows);
        say!("\nAnswer with: hitl approve --execution NAME  (or reject; --reviewer, --comment)");
    } else {
        print_table(
            &["EXECUTION", "WAITING SINCE", "EXPIRES", "REQUEST", "VOTES"],
            &rows,
        );
        say!(
            "\nAnswer with: hitl approve --execution NAME --as YOUR-ADDRESS  (or reject; \
             --reviewer, --comment)"
        );
    }
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
    let verb = if approve { "approve" } else { "reject" };
    let mut answered_as = None;
    let token = match (&answer.token, &answer.execution) {
        (Some(token), _) => token.trim().to_owned(),
        (None, Some(execution)) => {
            let (arn, described) = described(connection, execution).await?;
            if *described.status() != ExecutionStatus::Running {
                bail!(
                    "execution {execution} has ended ({}): its review was answered, expired or \
                     cancelled, so there is nothing to {verb}; `hitl status {execution}` shows \
                     the outcome",
                    described.status().as_str(),
                );
            }
            let events = history(connection, &arn).await?;
            let review = votes::read(&events);
            let waiting = choose(&review, execution, answer.as_reviewer.as_deref(), verb)?;
            answered_as = waiting
                .reviewer
                .clone()
                .filter(|_| review.required.is_some());
            waiting.token.clone()
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
    match &answered_as {
        // A vote under a policy: whether it decides depends on the others.
        Some(reviewer) => say!(
            "{verb} as {reviewer}. The vote is counted; the review's policy decides when \
             enough reviewers have answered."
        ),
        None => say!("{verb}. The workflow continues with {next}."),
    }
    if let Some(execution) = &answer.execution {
        say!("See the outcome with: hitl status {execution}");
    }
    Ok(())
}

/// The wait to answer: `--as` names the reviewer; without it, the only one.
/// Every refusal says why and what to run instead.
fn choose<'a>(
    review: &'a Review,
    execution: &str,
    as_reviewer: Option<&str>,
    verb: &str,
) -> Result<&'a votes::Waiting> {
    let legacy = review
        .waiting
        .iter()
        .all(|waiting| waiting.reviewer.is_none());
    match (as_reviewer, review.waiting.as_slice()) {
        // A review from before issue 14 has one wait and no addresses: --as cannot differ.
        (_, [only]) if legacy => Ok(only),
        (None, [only]) => Ok(only),
        (Some(who), _) => {
            if let Some(waiting) = review.waiting_for(who) {
                return Ok(waiting);
            }
            let known = review.known_reviewers();
            if let Some(vote) = review.vote_of(who) {
                bail!(
                    "{} has already voted on {execution} ({} at {}, via {}): a vote counts once; \
                     `hitl status {execution}` lists the votes",
                    vote.reviewer,
                    vote.verb(),
                    when(vote.at),
                    via(vote.via)
                );
            }
            if review.decided || (review.waiting.is_empty() && review.required.is_some()) {
                bail!(
                    "the review of {execution} is already decided: there is nothing to {verb}; \
                     `hitl status {execution}` shows the decision"
                );
            }
            if !known
                .iter()
                .any(|address| address.eq_ignore_ascii_case(who.trim()))
            {
                bail!(
                    "{who} is not a reviewer of {execution}: its reviewers are {}; pass one of \
                     them to --as",
                    known.join(", ")
                );
            }
            bail!(
                "{who} is not being asked on {execution} now (the requester cannot review their \
                 own request, and the escalation is asked only after the reminders); it waits \
                 for {}",
                waiting_list(review)
            )
        }
        (None, []) => bail!(
            "execution {execution} is running but not waiting for a review: \
             `hitl status {execution}` shows where it is"
        ),
        (None, _) => bail!(
            "execution {execution} waits for {} reviewers: {}. Pass --as ADDRESS to answer as \
             one of them, e.g. hitl {verb} --execution {execution} --as {}",
            review.waiting.len(),
            waiting_list(review),
            review
                .waiting
                .iter()
                .find_map(|waiting| waiting.reviewer.as_deref())
                .unwrap_or("ADDRESS")
        ),
    }
}

fn waiting_list(review: &Review) -> String {
    let names: Vec<String> = review
        .waiting
        .iter()
        .map(|waiting| {
            let address = waiting.reviewer.as_deref().unwrap_or("the reviewer");
            if waiting.escalation {
                format!("{address} (escalation)")
            } else {
                address.to_owned()
            }
        })
        .collect();
    if names.is_empty() {
        "nobody".to_owned()
    } else {
        names.join(", ")
    }
}

fn via(via: hitl_domain::policy::Via) -> &'static str {
    match via {
        hitl_domain::policy::Via::Link => "link",
        hitl_domain::policy::Via::Cli => "cli",
    }
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
        None => connection.explain(error, "states:SendTaskSuccess", "send the answer"),
    }
}

async fn cancel(connection: &Connection, execution: &str) -> Result<()> {
    let (arn, described) = described(connection, execution).await?;
    // StopExecution on an ended execution succeeds without changing it (AWS answers with
    // the stop date it has), which would make "Cancelled" a lie: say it has ended instead.
    if *described.status() != ExecutionStatus::Running {
        bail!(
            "{execution} has already ended ({}): there is nothing to cancel; \
             `hitl status {execution}` shows its outcome",
            described.status().as_str()
        );
    }
    connection
        .sfn
        .stop_execution()
        .execution_arn(&arn)
        .error("Cancelled")
        .cause("Stopped with hitl cancel; no decision was made.")
        .send()
        .await
        .map_err(|error| connection.explain(error, "states:StopExecution", "stop the execution"))?;
    say!("Cancelled {execution}: no decision was made and its review link no longer works.");
    Ok(())
}

/// RedriveExecution, with what it will run again. Step Functions reruns the states
/// entered and not exited, and keeps the results of the others (developer guide,
/// "Restarting state machine executions with redrive"), so a review whose action
/// failed runs the action again and never e-mails its reviewers again.
async fn redrive(connection: &Connection, execution: &str) -> Result<()> {
    let (arn, described) = described(connection, execution).await?;
    if described.redrive_status() == Some(&ExecutionRedriveStatus::NotRedrivable) {
        bail!(not_redrivable(
            execution,
            described.status(),
            described.redrive_status_reason().unwrap_or("")
        ));
    }
    let events = history(connection, &arn).await?;
    let again = unfinished_states(&events);
    let redriven = connection
        .sfn
        .redrive_execution()
        .execution_arn(&arn)
        .send()
        .await
        .map_err(|error| match error.as_service_error() {
            Some(RedriveExecutionError::ExecutionNotRedrivable(e)) => anyhow!(not_redrivable(
                execution,
                described.status(),
                e.message().unwrap_or("")
            )),
            _ => connection.explain(error, "states:RedriveExecution", "redrive the execution"),
        })?;
    say!(
        "Redriven {execution} at {}: it runs again from {}.",
        when(to_chrono(redriven.redrive_date())),
        match again.as_slice() {
            [] => "where it stopped".to_owned(),
            states => states.join(", "),
        }
    );
    if again.iter().any(|state| state == "Ask Reviewer") {
        say!("The review itself did not finish: reviewers who had not answered are asked again.");
    } else {
        say!("The states that finished keep their results: the reviewers are not asked again.");
    }
    say!("Follow it with `hitl status {execution}`.");
    Ok(())
}

/// Why an execution cannot be redriven, and what to do instead.
fn not_redrivable(execution: &str, status: &ExecutionStatus, reason: &str) -> String {
    let fix = match status {
        ExecutionStatus::Running => {
            "it is still running: nothing to redrive (`hitl status` shows where it is)"
        }
        ExecutionStatus::Succeeded => "it succeeded: nothing to redrive",
        _ => {
            "request the review again with `hitl start` (redrive works for 14 days after \
             an execution ended, on Standard workflows)"
        }
    };
    let reason = reason.trim_end_matches('.');
    format!("cannot redrive {execution}: {reason}; {fix}")
}

/// The states entered and not exited: what a redrive runs again, in the order they
/// were entered. A state that a redrive entered again replaces its earlier entry.
fn unfinished_states(events: &[Event]) -> Vec<String> {
    // (state, entered before the last redrive)
    let mut open: Vec<(String, bool)> = Vec::new();
    for event in events {
        if event.kind == "ExecutionRedriven" {
            open.iter_mut().for_each(|(_, carried)| *carried = true);
        }
        if let Some(state) = &event.state {
            if let Some(at) = open.iter().position(|(s, carried)| *carried && s == state) {
                open.remove(at);
            }
            open.push((state.clone(), false));
        }
        // Exiting a state closes what was entered after it and is still open: the
        // states inside a Parallel or Map, cut when one branch failed and the state
        // caught it (the review's Collect Votes).
        if let Some(state) = &event.exited
            && let Some(at) = open.iter().rposition(|(s, _)| s == state)
        {
            open.truncate(at);
        }
    }
    let mut unfinished: Vec<String> = Vec::new();
    for (state, _) in open {
        if !unfinished.contains(&state) {
            unfinished.push(state);
        }
    }
    unfinished
}

async fn status(connection: &Connection, execution: &str) -> Result<()> {
    let (arn, described) = described(connection, execution).await?;
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
    let review = votes::read(&events);
    if let Some(since) = review.waiting.iter().map(|waiting| waiting.since).min() {
        let deadline = review
            .waiting
            .iter()
            .find_map(|waiting| waiting.deadline)
            .map(when)
            .unwrap_or_else(|| "never".into());
        say!(
            "Waiting for a review since {}; it expires {deadline}.",
            when(since)
        );
        if review.required.is_some() {
            say!("Waiting for: {}", waiting_list(&review));
        }
    }
    if let Some(summary) = review.summary() {
        say!("Votes:     {summary}");
    }
    for vote in &review.votes {
        let role = if vote.escalation { " (escalation)" } else { "" };
        let counted = match &vote.outcome {
            Outcome::Counted | Outcome::Decided => String::new(),
            Outcome::Recording => " (being counted)".to_owned(),
            Outcome::Late => " (late: not counted, the review was already decided)".to_owned(),
            Outcome::Duplicate => " (not counted: a second vote)".to_owned(),
            Outcome::Refused(error) => format!(" (not counted: {error})"),
        };
        let mut line = format!(
            "  {}{role}  {}  {}  via {}{counted}",
            vote.reviewer,
            vote.verb(),
            when(vote.at),
            via(vote.via)
        );
        if let Some(name) = &vote.name {
            line.push_str(&format!("  name: {name}"));
        }
        if let Some(comment) = &vote.comment {
            line.push_str(&format!("  comment: {comment}"));
        }
        say!("{line}");
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

/// `hitl check`'s first half: the template's definitions, as ValidateStateMachineDefinition
/// would answer for them. Returns whether to go on to the deployed stack's subscriptions:
/// yes when one is named (an endpoint, a stack, a topic or a state machine), or when there
/// is no template here to check (the subscription check then says what it needs).
fn check_definitions(
    template: Option<&Path>,
    overrides: &[String],
    target: &crate::cli::Target,
) -> Result<bool> {
    let path = template.unwrap_or(Path::new("template.yaml"));
    if template.is_none() && !path.is_file() {
        return Ok(true);
    }
    let stack_name = crate::local::stack_name(target)?;
    let overrides = crate::local::local_overrides(path, overrides);
    let findings = crate::definition::check(path, &overrides, &stack_name)?;
    for line in &findings.lines {
        say!("{line}");
    }
    findings.refuse_errors(
        "run `hitl check` again (before `sam deploy`, or `hitl local`, which refuses to start on them)",
    )?;
    let warnings = findings.lines.len();
    say!(
        "ok: {} state machine definition(s) in {} validate{}",
        findings.machines,
        path.display(),
        if warnings > 0 {
            format!(" ({warnings} warning(s) above: they do not stop a deploy)")
        } else {
            String::new()
        }
    );
    let deployed = target.endpoint_url.is_some()
        || target.stack_name.is_some()
        || target.state_machine.is_some()
        || crate::connect::SamConfig::read(&target.config_file)?
            .stack_name
            .is_some();
    if !deployed {
        say!(
            "No deployed stack named (--stack-name, stack_name in samconfig.toml, or \
             --endpoint-url for local mode): reviewer subscriptions not checked."
        );
    }
    Ok(deployed)
}

async fn check(
    connection: &Connection,
    topic_arn: Option<String>,
    reviewers: Vec<String>,
) -> Result<()> {
    let sns = aws_sdk_sns::Client::new(&connection.config);
    let topic = match topic_arn {
        Some(arn) => arn,
        None => connection.review_topic(&sns).await?,
    };
    // Whom to expect: --reviewers, else the deployed stack's reviewer parameter.
    let (expected, source) = if reviewers.is_empty() {
        match connection.stack_reviewers().await? {
            Some((parameter, value)) => (subscriptions::addresses(&value), Some(parameter)),
            None => (Vec::new(), None),
        }
    } else {
        let listed = reviewers
            .iter()
            .flat_map(|r| subscriptions::addresses(r))
            .collect();
        (listed, Some("--reviewers".to_owned()))
    };
    let mut pages = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .into_paginator()
        .send();
    let mut subscribed = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| {
            connection.explain(
                error,
                "sns:ListSubscriptionsByTopic",
                "list the review topic's subscriptions",
            )
        })?;
        subscribed.extend(
            page.subscriptions()
                .iter()
                .filter(|subscription| subscription.protocol() == Some("email"))
                .map(|subscription| subscriptions::Subscribed {
                    endpoint: subscription.endpoint().unwrap_or("?").to_owned(),
                    pending: subscription.subscription_arn() == Some("PendingConfirmation"),
                }),
        );
    }
    say!("Review topic: {topic}");
    if let Some(source) = &source {
        say!("Reviewers ({source}): {}", expected.join(", "));
    }
    let findings = subscriptions::findings(&expected, &subscribed);
    for finding in &findings {
        match finding {
            subscriptions::Finding::Receives(address) => {
                say!("ok: {address} receives review requests");
            }
            subscriptions::Finding::Pending(address) => say!(
                "warning: {address} has not confirmed the subscription: it receives no review requests until it clicks the link in SNS's confirmation email"
            ),
            subscriptions::Finding::Missing(address) => say!(
                "missing: {address} is not subscribed to the review topic (never subscribed, or unsubscribed): it receives no review requests. \
                 Subscribe it with: aws sns subscribe --topic-arn {topic} --protocol email --notification-endpoint {address} \
                 (it must then confirm), or deploy the stack again"
            ),
        }
    }
    // `findings` lists the expected reviewers first, in order.
    let problems = findings
        .iter()
        .take(expected.len())
        .filter(|f| f.is_problem())
        .count();
    if !findings.iter().any(|f| !f.is_problem()) {
        bail!(
            "no confirmed email subscription on {topic}: nobody receives review requests. \
             Subscribe the reviewer again (aws sns subscribe --protocol email ...), then confirm \
             with --authenticate-on-unsubscribe true so mail scanners cannot unsubscribe it"
        );
    }
    if problems > 0 {
        bail!(
            "{problems} of {} reviewers cannot receive review requests (see above): the reviews they are asked for would expire unanswered",
            expected.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redrive_reruns_the_states_entered_and_not_exited() {
        let entered = |s: &str| Event {
            kind: "TaskStateEntered".into(),
            state: Some(s.into()),
            ..Event::default()
        };
        let exited = |s: &str| Event {
            kind: "TaskStateExited".into(),
            exited: Some(s.into()),
            ..Event::default()
        };
        let redriven = Event {
            kind: "ExecutionRedriven".into(),
            ..Event::default()
        };
        let mut events = vec![
            entered("Collect Votes"),
            entered("Ask Reviewers"),
            entered("Ask Reviewer"),
            exited("Ask Reviewer"),
            entered("Wait For Timer"),
            entered("Vote Decided"),
            // Caught: the branches it cut never exit their states.
            exited("Collect Votes"),
            entered("Process Approval"),
            exited("Process Approval"),
            entered("Process Approval Again"),
        ];
        assert_eq!(unfinished_states(&events), ["Process Approval Again"]);
        // Redriven, it failed there again: still the one state, not twice.
        events.extend([redriven, entered("Process Approval Again")]);
        assert_eq!(unfinished_states(&events), ["Process Approval Again"]);
        events.push(exited("Process Approval Again"));
        assert!(unfinished_states(&events).is_empty());
    }

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

    fn waiting(reviewer: &str) -> votes::Waiting {
        votes::Waiting {
            reviewer: Some(reviewer.to_owned()),
            escalation: false,
            token: format!("token-{reviewer}"),
            since: DateTime::default(),
            deadline: None,
        }
    }

    /// 2 of [a, b, c]: a approved, b and c wait.
    fn two_of_three() -> Review {
        Review {
            waiting: vec![waiting("b@x.com"), waiting("c@x.com")],
            votes: vec![votes::SeenVote {
                reviewer: "a@x.com".into(),
                escalation: false,
                result: true,
                via: hitl_domain::policy::Via::Cli,
                name: None,
                comment: None,
                at: DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default(),
                outcome: Outcome::Counted,
            }],
            required: Some(2),
            eligible: vec!["a@x.com".into(), "b@x.com".into(), "c@x.com".into()],
            reviewers: vec!["a@x.com".into(), "b@x.com".into(), "c@x.com".into()],
            escalation: None,
            decided: false,
        }
    }

    #[test]
    fn as_picks_that_reviewers_token_ignoring_case() {
        let review = two_of_three();
        let chosen = choose(&review, "r1", Some("C@X.com"), "approve").unwrap();
        assert_eq!(chosen.token, "token-c@x.com");
    }

    #[test]
    fn without_as_several_waiting_reviewers_are_listed() {
        let error = choose(&two_of_three(), "r1", None, "approve")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("execution r1 waits for 2 reviewers: b@x.com, c@x.com. Pass --as"),
            "{error}"
        );
        assert!(
            error.contains("hitl approve --execution r1 --as b@x.com"),
            "{error}"
        );
        // One waiting reviewer: answered as today.
        let mut one = two_of_three();
        one.waiting.truncate(1);
        assert_eq!(
            choose(&one, "r1", None, "approve").unwrap().token,
            "token-b@x.com"
        );
    }

    #[test]
    fn as_someone_who_voted_says_when_and_how() {
        let error = choose(&two_of_three(), "r1", Some("A@x.com"), "reject")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("a@x.com has already voted on r1 (approved at 2026-11-18 "),
            "{error}"
        );
        assert!(error.contains("via cli"), "{error}");
    }

    #[test]
    fn as_a_stranger_names_the_reviewers() {
        let error = choose(&two_of_three(), "r1", Some("eve@x.com"), "approve")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(
                "eve@x.com is not a reviewer of r1: its reviewers are a@x.com, b@x.com, c@x.com"
            ),
            "{error}"
        );
    }

    #[test]
    fn as_on_a_decided_review_says_it_is_decided() {
        let mut decided = two_of_three();
        decided.waiting.clear();
        decided.decided = true;
        let error = choose(&decided, "r1", Some("b@x.com"), "approve")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("the review of r1 is already decided"),
            "{error}"
        );
    }

    #[test]
    fn a_review_from_before_issue_14_is_answered_with_or_without_as() {
        let legacy = Review {
            waiting: vec![votes::Waiting {
                reviewer: None,
                ..waiting("x")
            }],
            ..Review::default()
        };
        for who in [None, Some("anyone@x.com")] {
            assert_eq!(
                choose(&legacy, "r1", who, "approve").unwrap().token,
                "token-x"
            );
        }
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
