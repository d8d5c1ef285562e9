//! Short links (approval policies, issue 14): `?d=approve|reject&s=<secret>`.
//!
//! The secret is the credential, and the page never takes a token from the
//! request: it hashes the secret (`hitl_domain::policy_flow::link_hash`) and
//! reads, from the review table, the link item (`L#<hash>` / `LINK`: which
//! execution, which reviewer), the review item (`R#<arn>` / `REVIEW`: the
//! policy snapshot and the tally) and the reviewer item (`R#<arn>` /
//! `V#<reviewer>`: the address, the role and the task token of that
//! reviewer's wait). So one link answers for exactly one reviewer of one
//! review (docs/approval-policies.md, "Short links" and "IAM").
//!
//! Before showing the form or answering, the tally is read: a reviewer who
//! voted is told so (a vote counts once), and so is anyone whose review is
//! decided. This closes, for link votes, the window between another answer
//! and its Record Vote. `SendTaskSuccess` answering `TaskTimedOut` or
//! `TaskDoesNotExist` (the wait closed: answered, or ended by the decision,
//! Step Functions API reference, "SendTaskSuccess") reads the tally again to
//! say which.
//!
//! Nothing here logs the secret, its hash, the token or the address.

use hitl_domain::policy_flow::{
    ReviewStore, ReviewerItem, Role, StoreError, StoredReview, link_hash,
};
use hitl_domain::{Decision, Vote};
use serde_json::Value;

use crate::link::{ShortAnswer, ShortLink};
use crate::review::{self, OpenReview, Outcome, SfnError, StepFunctions};

/// The review table's name (set by `template.yaml`); without it, short links
/// answer a server error that names it.
pub const TABLE_ENV: &str = "REVIEW_TABLE";

/// A short link's review that can still be answered by its reviewer: what
/// the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ShortReview {
    pub open: OpenReview,
    /// Whom the link is for: the address as configured.
    pub reviewer: String,
    pub role: Role,
    /// Distinct approvals so far (the escalation's answer is not one).
    pub approvals: usize,
    pub required: u32,
    /// Every counted vote, in the order received.
    pub votes: Vec<Vote>,
    /// What an undecided review becomes at the deadline.
    pub on_timeout: Decision,
}

/// What a secret resolves to.
struct Resolved {
    review: StoredReview,
    reviewer: ReviewerItem,
}

/// Reads the link, the review and the reviewer. A missing item is an
/// unknown or expired link (items expire 30 days after the deadline).
async fn resolve(store: &impl ReviewStore, secret: &str) -> Result<Resolved, Outcome> {
    let Some(link) = store
        .get_link(&link_hash(secret))
        .await
        .map_err(store_failed)?
    else {
        tracing::info!("a short link resolved to no review (unknown or expired)");
        return Err(Outcome::UnknownLink);
    };
    let arn = &link.execution_arn;
    let review = store.get_review(arn).await.map_err(store_failed)?;
    let reviewer = store
        .get_reviewer(arn, &link.reviewer)
        .await
        .map_err(store_failed)?;
    match (review, reviewer) {
        (Some(review), Some(reviewer)) => Ok(Resolved { review, reviewer }),
        _ => {
            tracing::warn!(execution = %arn, "a short link's review or reviewer item is gone (expired)");
            Err(Outcome::UnknownLink)
        }
    }
}

/// What the tally says against answering: this reviewer voted, or the
/// review is decided.
fn closed(resolved: &Resolved) -> Option<Outcome> {
    let tally = &resolved.review.tally;
    let decided = tally.outcome();
    let address = &resolved.reviewer.address;
    if let Some(vote) = tally
        .votes()
        .iter()
        .find(|v| v.reviewer.eq_ignore_ascii_case(address))
    {
        return Some(Outcome::AlreadyVoted {
            vote: Decision::from_result(vote.result).into(),
            at: vote.at.clone(),
            review: decided.map(|o| o.decision.into()),
        });
    }
    decided.map(|outcome| {
        if outcome.expired {
            Outcome::ExpiredAs(outcome.decision.into())
        } else {
            Outcome::AlreadyDecided(outcome.decision.into())
        }
    })
}

/// GET: the review a short link names, open for its reviewer, or why not.
/// Changes nothing.
pub async fn inspect(
    sfn: &impl StepFunctions,
    store: &impl ReviewStore,
    link: &ShortLink,
) -> Result<ShortReview, Outcome> {
    let resolved = resolve(store, &link.secret).await?;
    if let Some(outcome) = closed(&resolved) {
        return Err(outcome);
    }
    let Resolved { review, reviewer } = resolved;
    let arn = &review.execution_arn;
    // The request is the execution input: the review item keeps the policy,
    // not the request.
    let execution = match sfn.describe_execution(arn).await {
        Ok(execution) => execution,
        Err(SfnError::NoSuchExecution(code)) => {
            tracing::warn!(execution = %arn, code = %code, "a short link's execution is gone");
            return Err(Outcome::UnknownLink);
        }
        Err(SfnError::AccessDenied { permission }) => return Err(review::denied(arn, permission)),
        Err(error) => {
            tracing::error!(execution = %arn, error = %error, "reading the execution failed");
            return Err(Outcome::ServiceError);
        }
    };
    if execution.status != "RUNNING" {
        return Err(Outcome::Stopped);
    }
    let snapshot = &review.snapshot;
    let tally = &review.tally;
    Ok(ShortReview {
        open: OpenReview {
            execution_name: review::execution_name(arn).to_owned(),
            execution_arn: arn.clone(),
            request: execution.input.as_deref().map(|input| {
                serde_json::from_str(input).unwrap_or(Value::String(input.to_owned()))
            }),
            sent: reviewer.asked_at,
            deadline: Some(snapshot.schedule().deadline()),
        },
        reviewer: reviewer.address,
        role: reviewer.role,
        approvals: tally.approvers().len(),
        required: snapshot.policy.required,
        votes: tally.votes().to_vec(),
        on_timeout: snapshot.policy.decision_on_timeout.decision(),
    })
}

/// POST: answers the reviewer's wait with the stored token, unless the
/// tally says this reviewer voted or the review is decided.
pub async fn answer(
    sfn: &impl StepFunctions,
    store: &impl ReviewStore,
    answer: &ShortAnswer,
) -> Outcome {
    let resolved = match resolve(store, &answer.link.secret).await {
        Ok(resolved) => resolved,
        Err(outcome) => return outcome,
    };
    if let Some(outcome) = closed(&resolved) {
        return outcome;
    }
    let arn = &resolved.review.execution_arn;
    let choice = answer.link.choice;
    let output = review::output(
        choice,
        answer.reviewer.as_deref(),
        answer.comment.as_deref(),
    );
    match sfn
        .send_task_success(&resolved.reviewer.token, &output)
        .await
    {
        Ok(()) => {
            tracing::info!(execution = %arn, decision = choice.as_param(), role = resolved.reviewer.role.as_str(), via = "link", "vote sent");
            Outcome::Voted(choice.into())
        }
        Err(SfnError::TaskClosed(code)) => {
            tracing::info!(execution = %arn, code = %code, "the reviewer's wait closed before this answer");
            match resolve(store, &answer.link.secret).await {
                Err(outcome) => outcome,
                Ok(again) => closed(&again).unwrap_or(Outcome::WaitClosed),
            }
        }
        Err(SfnError::AccessDenied { permission }) => review::denied(arn, permission),
        Err(error) => {
            // `InvalidToken` too: the stored token is Step Functions' own, so a
            // refusal is the service's problem, not the reviewer's link.
            tracing::error!(execution = %arn, error = %error, "SendTaskSuccess failed");
            Outcome::ServiceError
        }
    }
}

/// Logs why the table could not be read (the reason names the DynamoDB
/// error code, never item data) and what to check.
fn store_failed(error: StoreError) -> Outcome {
    tracing::error!(
        error = %error,
        "reading the review table failed; if this is AccessDeniedException, check that \
         template.yaml gives ReviewFunction dynamodb:GetItem on the review table and redeploy"
    );
    Outcome::StoreFailed
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use hitl_domain::PolicyParameters;
    use hitl_domain::policy_flow::memory::{
        CountingSecrets, FixedClock, MemoryStore, RecordingMailer,
    };
    use hitl_domain::policy_flow::{
        AskReviewerInput, MessageSettings, OpenReviewInput, RecordVoteInput, ask_reviewer,
        open_review, record_vote,
    };
    use serde_json::json;

    use super::*;
    use crate::link::{Choice, parse_short_link};
    use crate::review::Decided;
    use crate::review::{Event, Execution};

    const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:Sm:refund-1042";

    /// Step Functions that answers every read and records every answer.
    #[derive(Default)]
    struct Sfn {
        sent: std::sync::Mutex<Vec<(String, String)>>,
        closed: bool,
    }

    impl StepFunctions for Sfn {
        async fn describe_execution(&self, _: &str) -> Result<Execution, SfnError> {
            Ok(Execution {
                status: "RUNNING".into(),
                input: Some(r#"{"title":"Refund"}"#.into()),
            })
        }
        async fn history(&self, _: &str) -> Result<Vec<Event>, SfnError> {
            Ok(Vec::new())
        }
        async fn send_task_success(&self, token: &str, output: &str) -> Result<(), SfnError> {
            self.sent
                .lock()
                .unwrap()
                .push((token.into(), output.into()));
            if self.closed {
                Err(SfnError::TaskClosed("TaskTimedOut".into()))
            } else {
                Ok(())
            }
        }
    }

    /// A 2-of-2 review of a and b, both asked; the secrets of a's and b's links.
    async fn asked() -> (MemoryStore, FixedClock, Vec<String>) {
        let store = MemoryStore::default();
        let clock = FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap());
        let policy = PolicyParameters {
            reviewer_emails: "a@example.com,B@example.com",
            required_approvals: "2",
            ..PolicyParameters::default()
        }
        .parse();
        let input = OpenReviewInput {
            execution_arn: ARN.into(),
            request: json!({"title": "Refund"}),
        };
        open_review(&store, &clock, &policy, input).await.unwrap();
        let mailer = RecordingMailer::default();
        let settings = MessageSettings {
            review_api_endpoint: "https://x.example".into(),
            region: "eu-west-1".into(),
        };
        for reviewer in ["a@example.com", "B@example.com"] {
            let input = AskReviewerInput {
                execution_arn: ARN.into(),
                execution_name: "refund-1042".into(),
                reviewer: reviewer.into(),
                role: Role::Reviewer,
                task_token: format!("token-of-{reviewer}"),
                request: json!({}),
            };
            ask_reviewer(
                &store,
                &mailer,
                &clock,
                &CountingSecrets::default(),
                &settings,
                input,
            )
            .await
            .unwrap();
        }
        let secrets = mailer
            .sent()
            .iter()
            .map(|m| {
                let at = m.body.find("&s=").unwrap() + 3;
                m.body[at..at + 43].to_owned()
            })
            .collect();
        (store, clock, secrets)
    }

    fn link(secret: &str, d: &str) -> ShortLink {
        parse_short_link(&format!("d={d}&s={secret}")).unwrap()
    }

    #[tokio::test]
    async fn a_link_resolves_to_its_own_reviewer_and_the_votes_so_far() {
        let (store, clock, secrets) = asked().await;
        let sfn = Sfn::default();
        let shown = inspect(&sfn, &store, &link(&secrets[1], "approve"))
            .await
            .unwrap();
        assert_eq!(shown.reviewer, "B@example.com");
        assert_eq!((shown.approvals, shown.required), (0, 2));
        assert_eq!(shown.open.request, Some(json!({"title": "Refund"})));

        let sent = ShortAnswer {
            link: link(&secrets[0], "approve"),
            reviewer: Some("Ana".into()),
            comment: None,
        };
        assert_eq!(
            answer(&sfn, &store, &sent).await,
            Outcome::Voted(Decided::Approved)
        );
        let (token, output) = sfn.sent.lock().unwrap()[0].clone();
        assert_eq!(token, "token-of-a@example.com");
        assert_eq!(output, r#"{"result":true,"reviewer":"Ana","via":"link"}"#);
        let input = RecordVoteInput {
            execution_arn: ARN.into(),
            reviewer: "a@example.com".into(),
            answer: serde_json::from_str(&output).unwrap(),
        };
        record_vote(&store, &clock, input).await.unwrap();

        let shown = inspect(&sfn, &store, &link(&secrets[1], "approve"))
            .await
            .unwrap();
        assert_eq!(shown.approvals, 1);
        assert_eq!(shown.votes[0].reviewer, "a@example.com");
        match answer(&sfn, &store, &sent).await {
            Outcome::AlreadyVoted {
                vote: Decided::Approved,
                review: None,
                ..
            } => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(sfn.sent.lock().unwrap().len(), 1, "a vote counts once");
    }

    #[tokio::test]
    async fn a_closed_wait_that_the_tally_does_not_explain_yet_says_so() {
        let (store, _, secrets) = asked().await;
        let sfn = Sfn {
            closed: true,
            ..Sfn::default()
        };
        let sent = ShortAnswer {
            link: link(&secrets[0], "reject"),
            reviewer: None,
            comment: None,
        };
        assert_eq!(answer(&sfn, &store, &sent).await, Outcome::WaitClosed);
    }

    /// Step Functions where b's rejection lands (and is counted) just before
    /// this answer: the wait is closed, and the tally read again says why.
    struct Raced<'a> {
        store: &'a MemoryStore,
        clock: &'a FixedClock,
    }

    impl StepFunctions for Raced<'_> {
        async fn describe_execution(&self, _: &str) -> Result<Execution, SfnError> {
            Err(SfnError::Service("unused".into()))
        }
        async fn history(&self, _: &str) -> Result<Vec<Event>, SfnError> {
            Ok(Vec::new())
        }
        async fn send_task_success(&self, _: &str, _: &str) -> Result<(), SfnError> {
            let input = RecordVoteInput {
                execution_arn: ARN.into(),
                reviewer: "B@example.com".into(),
                answer: json!({"result": false}),
            };
            record_vote(self.store, self.clock, input).await.unwrap();
            Err(SfnError::TaskClosed("TaskTimedOut".into()))
        }
    }

    #[tokio::test]
    async fn a_wait_closed_by_a_decision_says_already_decided() {
        let (store, clock, secrets) = asked().await;
        let sfn = Raced {
            store: &store,
            clock: &clock,
        };
        let sent = ShortAnswer {
            link: link(&secrets[0], "approve"),
            reviewer: None,
            comment: None,
        };
        assert_eq!(
            answer(&sfn, &store, &sent).await,
            Outcome::AlreadyDecided(Decided::Rejected)
        );
    }

    #[tokio::test]
    async fn an_unknown_secret_is_an_unknown_link() {
        let (store, _, _) = asked().await;
        let unknown = link(&"A".repeat(43), "approve");
        assert_eq!(
            inspect(&Sfn::default(), &store, &unknown)
                .await
                .unwrap_err(),
            Outcome::UnknownLink
        );
        assert_eq!(unknown.choice, Choice::Approve);
    }
}
