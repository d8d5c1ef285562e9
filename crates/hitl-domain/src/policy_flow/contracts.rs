//! The four Lambdas' input and output JSON (camelCase), and the errors they
//! fail with. docs/approval-policies.md, "Lambda contracts", documents them
//! for the state machine; the tests at the end pin the shapes.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::decision::Decision;
use crate::policy::{
    DecidedBy, DecisionOnTimeout, EligibilityError, PolicyError, PolicyFields, PolicyRecord,
    Refused, Tally, Timer, Via,
};
use crate::review::InvalidReview;

use super::ports::{MailError, Role, StoreError};

/// Open Review's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenReviewInput {
    /// `$$.Execution.Id`.
    pub execution_arn: String,
    /// The execution input; only `requestedBy` is read.
    pub request: Value,
}

/// Open Review's result: what the Map iterates and the timer branch waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenReviewOutput {
    /// The decision record's `policy` field.
    pub policy: PolicyRecord,
    /// The reviewers to ask, as configured (the Map's items).
    pub eligible: Vec<String>,
    pub decision_on_timeout: DecisionOnTimeout,
    pub schedule: ScheduleView,
    /// The first timer the timer branch waits for.
    pub next: NextTimer,
}

/// When the review opened and ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    /// RFC 3339, UTC.
    pub opened_at: String,
    /// When the review expires, RFC 3339, UTC, whole seconds.
    pub deadline: String,
    /// `TimeoutSeconds` for each reviewer's wait: the deadline plus 300 s,
    /// from now. A backstop only: the timer branch records the expiry.
    pub backstop_seconds: u64,
}

/// The next timer, for a `Wait` with `TimestampPath` `$.next.at` (or a
/// waiting task with `TimeoutSecondsPath` `$.next.remainingSeconds`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NextTimer {
    /// `remind`, `escalate` or `expire`.
    pub kind: String,
    /// RFC 3339 in UTC with whole seconds (`2026-11-25T12:00:10Z`), rounded up
    /// so the Wait never ends before the timer is due.
    pub at: String,
    /// Seconds from now until `at`; at least 1 (a TimeoutSeconds must be positive).
    pub remaining_seconds: u64,
}

impl NextTimer {
    pub(crate) fn of(timer: &Timer, now: DateTime<Utc>) -> Self {
        let kind = match timer {
            Timer::Remind { .. } => "remind",
            Timer::Escalate { .. } => "escalate",
            Timer::Expire { .. } => "expire",
        };
        let at = ceil_seconds(timer.at());
        let remaining = (at - now).num_seconds().max(1);
        Self {
            kind: kind.to_owned(),
            at: at.to_rfc3339_opts(SecondsFormat::Secs, true),
            remaining_seconds: u64::try_from(remaining).unwrap_or(1),
        }
    }
}

pub(crate) fn ceil_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    let whole = at - Duration::nanoseconds(i64::from(at.timestamp_subsec_nanos()));
    if whole == at {
        at
    } else {
        whole + Duration::seconds(1)
    }
}

/// Ask Reviewer's payload (a `lambda:invoke.waitForTaskToken` task).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AskReviewerInput {
    pub execution_arn: String,
    /// `$$.Execution.Name`, for the subject line.
    pub execution_name: String,
    /// The Map item: the address as configured. This is the vote's identity.
    pub reviewer: String,
    /// `reviewer` (default) or `escalation`.
    #[serde(default)]
    pub role: Role,
    /// `$$.Task.Token`. Never logged.
    pub task_token: String,
    /// The execution input, shown in the message.
    pub request: Value,
}

/// Ask Reviewer's result (Step Functions ignores it: the task waits for the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum AskReviewerOutput {
    /// The message was sent.
    Asked { reviewer: String },
    /// The review is already decided, so nothing was sent; the iteration is
    /// about to be ended by the `Parallel`.
    Decided { reviewer: String },
}

/// Record Vote's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordVoteInput {
    pub execution_arn: String,
    /// The Map item (or the escalation address) whose token was answered.
    pub reviewer: String,
    /// The task output as received: `{"result": bool, "reviewer"?, "comment"?, "via"?}`.
    pub answer: Value,
}

/// Record Vote's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum RecordVoteOutput {
    /// Counted; the review is still open.
    Counted { approvals: usize, required: u32 },
    /// This vote decided the review.
    Decided { record: DecidedReview },
    /// The review was decided before this vote; nothing changed.
    Late { record: DecidedReview },
    /// This reviewer had voted already; nothing changed.
    Duplicate { reviewer: String },
}

/// Tick's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TickInput {
    pub execution_arn: String,
    pub execution_name: String,
    /// The execution input, shown again in reminders.
    pub request: Value,
}

/// Tick's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum TickOutput {
    /// Wait for `next` and tick again. `reminded` lists who got a reminder
    /// now; `failed` whose reminder could not be sent (not retried: a
    /// reminder is sent at most once).
    Waiting {
        next: NextTimer,
        #[serde(default)]
        reminded: Vec<String>,
        #[serde(default)]
        failed: Vec<String>,
    },
    /// Ask `reviewer` (the escalation address) with Ask Reviewer, role
    /// `escalation`, timing out at `next` (the expiry).
    Escalate { reviewer: String, next: NextTimer },
    /// The review is decided (by this Tick's expiry or before it).
    Decided { record: DecidedReview },
}

/// The stored decision, as the `ReviewDecided` error's cause carries it.
/// Whichever write won, every reader builds the same record from the tally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecidedReview {
    pub decision: Decision,
    pub decided_by: DecidedBy,
    pub expired: bool,
    /// When the tally decided, RFC 3339 in UTC.
    pub decided_at: String,
    /// The `review` for Process Approval/Rejection: the deciding answer
    /// (`result`, and `reviewer`/`comment`/`via` when given), or
    /// `{"result": <decision>, "expired": true}`.
    pub review: Value,
    /// `votes` and `policy` for the decision record.
    #[serde(flatten)]
    pub fields: PolicyFields,
}

impl DecidedReview {
    /// The decision in `tally`, if it has one.
    pub fn from_tally(tally: &Tally) -> Option<Self> {
        let outcome = tally.outcome()?;
        let result = outcome.decision == Decision::Approved;
        let mut review = Map::new();
        review.insert("result".into(), Value::Bool(result));
        if outcome.expired {
            review.insert("expired".into(), Value::Bool(true));
        } else if let Some(vote) = tally.votes().last() {
            // The vote that decided is the last one counted: the tally
            // refuses every vote after the decision.
            if let Some(name) = &vote.name {
                review.insert("reviewer".into(), Value::String(name.clone()));
            }
            if let Some(comment) = &vote.comment {
                review.insert("comment".into(), Value::String(comment.clone()));
            }
            if vote.via == Via::Link {
                review.insert("via".into(), Value::String("link".into()));
            }
        }
        Some(Self {
            decision: outcome.decision,
            decided_by: outcome.decided_by,
            expired: outcome.expired,
            decided_at: outcome.at.clone(),
            review: Value::Object(review),
            fields: tally.fields(),
        })
    }
}

/// Why a step failed. [`PolicyFlowError::error_type`] is the stable name the
/// state machine's `Retry`/`Catch` match on. Messages carry no token, link
/// secret or request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyFlowError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Eligibility(#[from] EligibilityError),
    #[error("{0}")]
    InvalidInput(String),
    #[error(
        "no review is open for execution {execution_arn}: Open Review must run before this step"
    )]
    ReviewNotOpen { execution_arn: String },
    #[error(transparent)]
    Refused(Refused),
    #[error(
        "the review link is {length} characters, over the {max} a link may have: \
         give ReviewApi a shorter custom domain name (the links start with its endpoint)"
    )]
    LinkTooLong { length: usize, max: usize },
    #[error("invalid review result: {0}")]
    InvalidAnswer(#[from] InvalidReview),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("the review item changed under {attempts} attempts in a row; retry the step")]
    Contended { attempts: u32 },
    #[error("could not store a fresh link secret after {attempts} attempts")]
    LinkSecretCollision { attempts: u32 },
    #[error(
        "the review topic has subscriptions without a \"reviewer\" filter policy, which would receive \
         every reviewer's token and links: {}; remove them or give each a FilterPolicy",
        endpoints.join(", ")
    )]
    UnfilteredReviewSubscription { endpoints: Vec<String> },
}

impl PolicyFlowError {
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Policy(error) => error.error_type(),
            Self::Eligibility(error) => error.error_type(),
            Self::InvalidInput(_) => "InvalidInput",
            Self::ReviewNotOpen { .. } => "ReviewNotOpen",
            Self::Refused(refused) => refused.error_type(),
            Self::LinkTooLong { .. } => "LinkTooLong",
            Self::InvalidAnswer(_) => "InvalidReviewResult",
            Self::Store(_) => "ReviewStoreFailed",
            Self::Mail(_) => "ReviewerNotNotified",
            Self::Contended { .. } => "ReviewContended",
            Self::LinkSecretCollision { .. } => "LinkSecretCollision",
            Self::UnfilteredReviewSubscription { .. } => "UnfilteredReviewSubscription",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn next_timer_rounds_up_to_whole_seconds_and_never_says_zero() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let due = now + Duration::milliseconds(10_250);
        let next = NextTimer::of(&Timer::Remind { round: 1, at: due }, now);
        assert_eq!(next.at, "2026-11-25T12:00:11Z");
        assert_eq!(next.remaining_seconds, 11);
        assert_eq!(next.kind, "remind");
        let past = NextTimer::of(&Timer::Expire { at: now }, now + Duration::seconds(5));
        assert_eq!(past.remaining_seconds, 1);
    }

    #[test]
    fn outputs_are_tagged_by_state_in_camel_case() {
        let output = RecordVoteOutput::Counted {
            approvals: 1,
            required: 2,
        };
        assert_eq!(
            serde_json::to_value(&output).unwrap(),
            json!({"state": "counted", "approvals": 1, "required": 2})
        );
        let input: AskReviewerInput = serde_json::from_value(json!({
            "executionArn": "arn", "executionName": "n", "reviewer": "a@example.com",
            "taskToken": "t", "request": {}
        }))
        .unwrap();
        assert_eq!(input.role, Role::Reviewer, "role defaults to reviewer");
    }

    #[test]
    fn error_types_are_the_names_the_state_machine_matches() {
        let cases = [
            (
                PolicyFlowError::Policy(PolicyError::NoReviewers),
                "InvalidReviewPolicy",
            ),
            (
                PolicyFlowError::LinkTooLong {
                    length: 201,
                    max: 200,
                },
                "LinkTooLong",
            ),
            (
                PolicyFlowError::Refused(Refused::AlreadyVoted {
                    reviewer: "a@example.com".into(),
                }),
                "AlreadyVoted",
            ),
            (
                PolicyFlowError::InvalidAnswer(InvalidReview::MissingResult),
                "InvalidReviewResult",
            ),
        ];
        for (error, name) in cases {
            assert_eq!(error.error_type(), name, "{error}");
        }
    }
}
