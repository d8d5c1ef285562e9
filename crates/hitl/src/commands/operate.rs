//! `hitl cancel`, `hitl redrive` and `hitl status`: an execution as an operator
//! handles it.

use anyhow::{Result, anyhow, bail};
use aws_sdk_sfn::operation::redrive_execution::RedriveExecutionError;
use aws_sdk_sfn::types::{ExecutionRedriveStatus, ExecutionStatus};
use serde_json::Value;

use crate::connect::Connection;
use crate::review::Event;
use crate::votes::{self, Outcome};

use super::*;

pub(super) async fn cancel(connection: &Connection, execution: &str) -> Result<()> {
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
pub(super) async fn redrive(connection: &Connection, execution: &str) -> Result<()> {
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

pub(super) async fn status(connection: &Connection, execution: &str) -> Result<()> {
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
}
