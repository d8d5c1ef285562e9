//! What one review costs in billed units, counted from real runs in local mode
//! and checked against the table in docs/scale.md (issue 19), so the cost
//! figures there cannot drift from the template and the state machine.
//!
//! Counted per execution, from its history and the outbox:
//! - **state transitions**: `…StateEntered` events. Step Functions bills a
//!   Standard workflow per state transition, each step it runs, including the
//!   states inside Map iterations and Parallel branches ("Step Functions
//!   pricing": "a state transition is counted each time a step of your
//!   workflow is executed");
//! - **Lambda invocations**: `TaskScheduled` events of `lambda` tasks;
//! - **emails**: the execution's messages in the outbox (requests, reminders,
//!   the decision email when `DecisionEmail` is set);
//! - **history events**: all of them (the 25,000-event cap).

// Each test binary uses part of the shared fixtures.
#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;

use serde_json::json;

use common::{LocalMode, ReviewEmail, Sdk, StepFunctions, TIMEOUT, poll, repo_root};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    transitions: usize,
    lambda_invocations: usize,
    emails: usize,
    history_events: usize,
}

fn count(local: &LocalMode, sdk: &Sdk, execution: &str, name: &str) -> Counts {
    let history = sdk.history(execution);
    let transitions = history
        .iter()
        .filter(|event| event.r#type().as_str().ends_with("StateEntered"))
        .count();
    let lambda_invocations = history
        .iter()
        .filter_map(|event| event.task_scheduled_event_details())
        .filter(|scheduled| scheduled.resource_type() == "lambda")
        .count();
    let emails = sns_local::list_outbox(&local.outbox_dir())
        .expect("the outbox is readable")
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|raw| sns_local::parse_eml(&raw))
        .filter(|email| {
            email
                .subject()
                .is_some_and(|subject| subject.ends_with(&format!(": {name}")))
        })
        .count();
    Counts {
        transitions,
        lambda_invocations,
        emails,
        history_events: history.len(),
    }
}

/// The rows of docs/scale.md's per-review table, by scenario.
fn documented() -> BTreeMap<String, Counts> {
    const HEADER: &str =
        "| review | state transitions | Lambda invocations | emails | history events |";
    let doc = std::fs::read_to_string(repo_root().join("docs/scale.md")).expect("docs/scale.md");
    let table = doc
        .split_once(HEADER)
        .unwrap_or_else(|| panic!("docs/scale.md has no table headed {HEADER}"))
        .1;
    table
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 5, "five cells: {line}");
            let number = |i: usize| -> usize {
                cells[i]
                    .replace(',', "")
                    .parse()
                    .unwrap_or_else(|e| panic!("{line}: cell {i}: {e}"))
            };
            (
                cells[0].to_owned(),
                Counts {
                    transitions: number(1),
                    lambda_invocations: number(2),
                    emails: number(3),
                    history_events: number(4),
                },
            )
        })
        .collect()
}

fn approve() -> String {
    json!({"result": true}).to_string()
}

#[test]
fn one_reviewer_approves_at_the_documented_cost() {
    let local = LocalMode::start(&["ReviewerEmails=a@x.com"]);
    let sdk = Sdk::connect(&local);
    let name = "single";
    let execution = sdk.start(name, &json!({"title": "Refund"}).to_string());
    let a = local.outbox().review_email_to(name, "a@x.com");
    sdk.send_task_success(&a.token, &approve())
        .expect("a's vote");
    assert_eq!(sdk.wait_until_done(&execution).status, "SUCCEEDED");
    local.outbox().wait_for(&format!("Approved: {name}"));
    assert_eq!(
        count(&local, &sdk, &execution, name),
        documented()["1 of 1, approved"]
    );
}

#[test]
fn two_of_three_with_two_reminder_rounds_at_the_documented_cost() {
    let local = LocalMode::start(&[
        "ReviewerEmails=a@x.com,b@x.com,c@x.com",
        "RequiredApprovals=2",
        "ReminderAfterSeconds=1",
        "MaxReminders=2",
        "ReviewTimeoutSeconds=120",
    ]);
    let sdk = Sdk::connect(&local);
    let name = "reminded";
    let execution = sdk.start(name, &json!({"title": "Deploy"}).to_string());
    let [a, b] = ["a@x.com", "b@x.com"].map(|to| local.outbox().review_email_to(name, to));
    // Both reminder rounds go out before anyone answers.
    for to in ["a@x.com", "b@x.com", "c@x.com"] {
        poll(
            &format!("the second reminder to {to}"),
            TIMEOUT,
            || {
                (local
                    .outbox()
                    .to(to, &format!("Reminder 2 of 2: review requested: {name}"))
                    .len()
                    == 1)
                    .then_some(())
            },
            String::new,
        );
    }
    let vote = |email: &ReviewEmail| sdk.send_task_success(&email.token, &approve());
    vote(&a).expect("a's vote");
    poll(
        "a's vote to be counted",
        TIMEOUT,
        || (sdk.exited(&execution, "Record Vote") == 1).then_some(()),
        String::new,
    );
    vote(&b).expect("b's vote");
    assert_eq!(sdk.wait_until_done(&execution).status, "SUCCEEDED");
    local.outbox().wait_for(&format!("Approved: {name}"));
    assert_eq!(
        count(&local, &sdk, &execution, name),
        documented()["2 of 3, two reminder rounds, approved"]
    );
}
