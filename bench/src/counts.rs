//! What one review costs in billed units (issue 19), counted from real reviews in
//! local mode (`hitl local` on the real template, state machine and functions) and
//! checked against the per-review table of docs/scale.md, so the cost figures there
//! cannot drift from the template. `--smoke --counts-only` is the CI check (two
//! reviews of each kind); a full run counts `--counted-reviews` of each.
//!
//! Counted per execution, from its history and the outbox:
//! - **state transitions**: `…StateEntered` events. Step Functions bills a Standard
//!   workflow per state transition, each step it runs, the states inside Map
//!   iterations and Parallel branches included ("Step Functions pricing": "a state
//!   transition is counted each time a step of your workflow is executed");
//! - **Lambda invocations**: `TaskScheduled` events of `lambda` tasks;
//! - **emails**: the execution's messages in the outbox (requests, reminders, the
//!   decision email);
//! - **history events**: all of them (the 25,000-event cap).
//!
//! Every review of a kind must count the same, and the same as the doc's row.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::client::Sfn;
use crate::policy::{LocalMode, asked, exited, history, request};

/// The per-review table's header in docs/scale.md.
const HEADER: &str =
    "| review | state transitions | Lambda invocations | emails | history events |";
/// A review waits this long at most for an email or its end.
const WITHIN: Duration = Duration::from_secs(120);

/// One review's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) transitions: usize,
    pub(crate) lambda_invocations: usize,
    pub(crate) emails: usize,
    pub(crate) history_events: usize,
}

/// A kind of review: its row in the doc, the template's parameters, and how it is answered.
struct Kind {
    row: &'static str,
    parameters: &'static [&'static str],
    reviewers: &'static [&'static str],
    approvals: usize,
    /// Reminder rounds that go out before anyone answers.
    reminders: usize,
}

const KINDS: [Kind; 2] = [
    Kind {
        row: "1 of 1, approved",
        parameters: &["ReviewerEmails=a@example.com", "RequiredApprovals=1"],
        reviewers: &["a@example.com"],
        approvals: 1,
        reminders: 0,
    },
    Kind {
        row: "2 of 3, two reminder rounds, approved",
        parameters: &[
            "ReviewerEmails=a@example.com,b@example.com,c@example.com",
            "RequiredApprovals=2",
            "ReminderAfterSeconds=1",
            "MaxReminders=2",
            "ReviewTimeoutSeconds=120",
        ],
        reviewers: &["a@example.com", "b@example.com", "c@example.com"],
        approvals: 2,
        reminders: 2,
    },
];

/// The rows of docs/scale.md's per-review table, by review.
pub(crate) fn documented(doc: &str) -> anyhow::Result<BTreeMap<String, Counts>> {
    let table = doc
        .split_once(HEADER)
        .with_context(|| format!("docs/scale.md has no table headed {HEADER}"))?
        .1;
    let mut rows = BTreeMap::new();
    for line in table
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
    {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [review, numbers @ ..] = cells.as_slice() else {
            bail!("an empty row: {line}");
        };
        let numbers = numbers
            .iter()
            .map(|cell| cell.replace(',', "").parse::<usize>())
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("a count that is not a number: {line}"))?;
        let [transitions, lambda_invocations, emails, history_events] = numbers[..] else {
            bail!("four counts expected: {line}");
        };
        rows.insert(
            (*review).to_owned(),
            Counts {
                transitions,
                lambda_invocations,
                emails,
                history_events,
            },
        );
    }
    Ok(rows)
}

/// Counts `n` reviews of each kind, each kind on a fresh `hitl local`, prints the
/// table, and fails unless every review counted what docs/scale.md says.
pub(crate) async fn measure(debug: bool, hitl: &Path, n: usize, work: &Path) -> anyhow::Result<()> {
    let repo = crate::startup::repository()?;
    let doc_path = repo.join("docs/scale.md");
    let doc = std::fs::read_to_string(&doc_path)
        .with_context(|| format!("cannot read {}", doc_path.display()))?;
    let documented = documented(&doc)?;
    let mut measured = Vec::new();
    for (i, kind) in KINDS.iter().enumerate() {
        eprintln!("hitl-bench: counts: {n} reviews \"{}\"", kind.row);
        let dir = work.join(format!("counts-{i}"));
        let local = LocalMode::with_parameters(debug, hitl, &repo, &dir, kind.parameters).await?;
        let counted = count_reviews(&local, kind, n).await;
        let log = local.log.clone();
        local.stop().await;
        let counted = counted.with_context(|| format!("hitl local's log: {}", log.display()))?;
        measured.push((kind.row, counted));
    }
    println!("\n## Per review, counted in local mode ({n} reviews of each)\n");
    println!("{HEADER}\n|---|---|---|---|---|");
    for (row, counts) in &measured {
        println!(
            "| {row} | {} | {} | {} | {} |",
            counts.transitions, counts.lambda_invocations, counts.emails, counts.history_events
        );
    }
    for (row, counts) in &measured {
        match documented.get(*row) {
            Some(doc) if doc == counts => {}
            Some(doc) => bail!(
                "\"{row}\": counted {counts:?}, docs/scale.md says {doc:?}: the template or \
                 the state machine changed what a review costs; update the doc's table \
                 (and the cost figures computed from it)"
            ),
            None => bail!("docs/scale.md has no row \"{row}\" in its per-review table"),
        }
    }
    eprintln!("hitl-bench: counts: every review counted what docs/scale.md says");
    Ok(())
}

/// `n` reviews of `kind` at once; the counts they all share.
async fn count_reviews(local: &LocalMode, kind: &Kind, n: usize) -> anyhow::Result<Counts> {
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let client = local.client.clone();
        let machine = local.machine.clone();
        let outbox_dir = local.state_dir.join("outbox");
        let outbox = local.outbox.clone();
        let name = format!("counted-{i}");
        let kind = KINDS
            .iter()
            .position(|k| k.row == kind.row)
            .context("a kind of review")?;
        tasks.push(tokio::spawn(async move {
            let kind = &KINDS[kind];
            let execution = start(&client, &machine, &name).await?;
            let tokens = asked(&client, &outbox, &execution, kind.reviewers.len()).await?;
            // A person answers seconds after the email, long after Ask Reviewer's
            // Lambda returned and Step Functions recorded `TaskSubmitted`. A bench can
            // answer in the millisecond between the email and that return, and the
            // history would then hold one event fewer: count the case people make.
            submitted(&client, &execution, kind.reviewers.len()).await?;
            for round in 1..=kind.reminders {
                for to in kind.reviewers {
                    let subject = format!(
                        "Reminder {round} of {}: review requested: {name}",
                        kind.reminders
                    );
                    wait_for_email(&outbox_dir, Some(to), &subject).await?;
                }
            }
            for (i, token) in tokens.iter().take(kind.approvals).enumerate() {
                client.send_task_success(token).await?;
                // Each vote is counted before the next one is cast, as reviewers answer.
                let deadline = Instant::now() + WITHIN;
                while exited(&client, &execution, "Record Vote").await? <= i {
                    if Instant::now() > deadline {
                        bail!("{execution}: vote {} was not counted in {WITHIN:?}", i + 1);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            let done = client.wait_described(&execution).await?;
            if done["status"] != "SUCCEEDED" {
                bail!("{execution} ended {}, expected SUCCEEDED", done["status"]);
            }
            wait_for_email(&outbox_dir, None, &format!("Approved: {name}")).await?;
            count(&client, &outbox_dir, &execution, &name).await
        }));
    }
    let mut all = Vec::with_capacity(n);
    for task in tasks {
        all.push(task.await.context("a review task panicked")??);
    }
    let (first, first_events) = all.first().context("no review was counted")?;
    if let Some((other, other_events)) = all.iter().find(|(c, _)| c != first) {
        // Where the histories part, so that the cause is on screen.
        let at = first_events
            .iter()
            .zip(other_events)
            .position(|(a, b)| a != b)
            .unwrap_or(first_events.len().min(other_events.len()));
        let around =
            |events: &[String]| events[at.saturating_sub(2)..(at + 3).min(events.len())].join(", ");
        bail!(
            "\"{}\": reviews counted differently: {first:?} and {other:?}; their histories \
             part at event {}: [{}] and [{}]",
            kind.row,
            at + 1,
            around(first_events),
            around(other_events)
        );
    }
    Ok(*first)
}

/// Waits until `n` callback tasks of `execution` have recorded `TaskSubmitted`.
async fn submitted(client: &Sfn, execution: &str, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + WITHIN;
    loop {
        let events = history(client, execution).await?;
        if events
            .iter()
            .filter(|e| e["type"] == "TaskSubmitted")
            .count()
            >= n
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{execution}: {n} TaskSubmitted events expected within {WITHIN:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn start(client: &Sfn, machine: &str, name: &str) -> anyhow::Result<String> {
    let mut input = request();
    input["title"] = json!(format!("counted review {name}"));
    let started = client
        .call(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": name, "input": input.to_string()}),
        )
        .await?;
    started["executionArn"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("StartExecution answered {started}"))
}

/// The outbox's emails as (recipient, subject).
fn emails(outbox_dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let paths = sns_local::list_outbox(outbox_dir)
        .with_context(|| format!("cannot list {}", outbox_dir.display()))?;
    Ok(paths
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|raw| sns_local::parse_eml(&raw))
        .map(|email| {
            (
                email.header("To").unwrap_or_default().to_owned(),
                email.subject().unwrap_or_default(),
            )
        })
        .collect())
}

async fn wait_for_email(outbox_dir: &Path, to: Option<&str>, subject: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + WITHIN;
    loop {
        let found = emails(outbox_dir)?
            .iter()
            .any(|(t, s)| s == subject && to.is_none_or(|to| t.contains(to)));
        if found {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("no email \"{subject}\" to {to:?} in {WITHIN:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The review's counts, and its history's event types (to show where two reviews differ).
async fn count(
    client: &Sfn,
    outbox_dir: &Path,
    execution: &str,
    name: &str,
) -> anyhow::Result<(Counts, Vec<String>)> {
    let events = history(client, execution).await?;
    let transitions = events
        .iter()
        .filter(|e| {
            e["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("StateEntered"))
        })
        .count();
    let lambda_invocations = events
        .iter()
        .filter(|e| e["taskScheduledEventDetails"]["resourceType"] == "lambda")
        .count();
    let suffix = format!(": {name}");
    let emails = emails(outbox_dir)?
        .iter()
        .filter(|(_, subject)| subject.ends_with(&suffix))
        .count();
    let types = events
        .iter()
        .map(|e| {
            let name = e
                .as_object()
                .and_then(|o| {
                    o.iter()
                        .find_map(|(k, v)| k.ends_with("EventDetails").then(|| v["name"].as_str()))
                })
                .flatten();
            match name {
                Some(state) => format!("{} {state}", e["type"].as_str().unwrap_or("?")),
                None => e["type"].as_str().unwrap_or("?").to_owned(),
            }
        })
        .collect();
    let counts = Counts {
        transitions,
        lambda_invocations,
        emails,
        history_events: events.len(),
    };
    Ok((counts, types))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_doc_table_is_read_row_by_row() {
        let doc = format!(
            "intro\n\n{HEADER}\n|---|---|---|---|---|\n| 1 of 1, approved | 14 | 4 | 2 | 48 |\n\
             | big | 1,028 | 9 | 10 | 96 |\n\nafter | not a row |\n"
        );
        let rows = documented(&doc).expect("a table");
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows["big"],
            Counts {
                transitions: 1028,
                lambda_invocations: 9,
                emails: 10,
                history_events: 96
            }
        );
    }

    #[test]
    fn a_malformed_row_is_refused_with_the_line() {
        let doc = format!("{HEADER}\n|---|\n| x | 1 | two | 3 | 4 |\n");
        let error = documented(&doc).expect_err("not a number").to_string();
        assert!(error.contains("| x | 1 | two"), "{error}");
        let doc = format!("{HEADER}\n|---|\n| x | 1 | 2 |\n");
        assert!(documented(&doc).is_err());
    }

    #[test]
    fn the_committed_doc_has_a_row_for_each_kind_of_review() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scale.md");
        let doc = std::fs::read_to_string(&path).expect("docs/scale.md");
        let rows = documented(&doc).expect("its per-review table");
        for kind in &KINDS {
            assert!(
                rows.contains_key(kind.row),
                "no row {:?}: {rows:?}",
                kind.row
            );
        }
    }
}
