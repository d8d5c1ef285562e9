//! `hitl pending`, `hitl approve` and `hitl reject`: the reviews waiting, and an
//! answer sent with the right reviewer's task token.

use anyhow::{Result, anyhow, bail};
use aws_sdk_sfn::error::SdkError;
use aws_sdk_sfn::operation::send_task_success::SendTaskSuccessError;
use aws_sdk_sfn::types::ExecutionStatus;

use crate::cli::Answer;
use crate::connect::Connection;
use crate::review::{self};
use crate::votes::{self, Review};

use super::*;

pub(super) async fn pending(connection: &Connection) -> Result<()> {
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

pub(super) async fn respond(connection: &Connection, answer: Answer, approve: bool) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::votes::Outcome;

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
}
