//! What the commands read of an execution: its description, its history as the
//! review module's events, and how times and tables are printed.

use anyhow::{Result, bail};
use aws_sdk_sfn::operation::describe_execution::{DescribeExecutionError, DescribeExecutionOutput};
use aws_sdk_sfn::types::HistoryEvent;
use chrono::{DateTime, Utc};

use crate::connect::Connection;
use crate::review::{Event, Scheduled};
use crate::votes::Review;

/// DescribeExecution, or `None` when no such execution exists.
pub(super) async fn describe_if_exists(
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
pub(super) async fn described(
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
pub(super) async fn history(connection: &Connection, execution_arn: &str) -> Result<Vec<Event>> {
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

pub(super) fn event(event: &HistoryEvent) -> Event {
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

pub(super) fn to_chrono(time: &aws_sdk_sfn::primitives::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos()).unwrap_or_default()
}

pub(super) fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

pub(super) fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
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

pub(super) fn waiting_list(review: &Review) -> String {
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

pub(super) fn via(via: hitl_domain::policy::Via) -> &'static str {
    match via {
        hitl_domain::policy::Via::Link => "link",
        hitl_domain::policy::Via::Cli => "cli",
    }
}
