//! Counting: a [`Ballot`] becomes a [`Vote`] in the [`Tally`], which decides
//! at the quorum, at the first rejection, on the escalation's answer or at
//! expiry, and then refuses every further vote ([`Refused`]).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::decision::Decision;
use crate::review::{InvalidReview, ReviewAnswer};

use super::{DecisionOnTimeout, Eligibility, Policy, Reviewer};

/// How an answer arrived: the review page's link, or `send-task-success` (the CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Link,
    Cli,
}

/// One answer, before it is counted: what the reviewer said, never who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    pub result: bool,
    pub via: Via,
    /// The answer's `reviewer` string: a display name, not an identity.
    pub name: Option<String>,
    pub comment: Option<String>,
}

/// The longest name and comment a vote keeps (the review page's form limits),
/// in characters. Every vote is in the `ReviewDecided` cause, and a failure's
/// cause is at most 32,768 characters (Step Functions API reference,
/// `ExecutionFailedEventDetails`/`TaskFailedEventDetails`: "cause" length
/// 0–32768); ten votes at these limits, with 254-character addresses, stay
/// near 20,000, whatever a CLI answer sends.
pub const MAX_VOTE_NAME_CHARS: usize = 100;
pub const MAX_VOTE_COMMENT_CHARS: usize = 1_000;

impl Ballot {
    /// Reads a task output (`{"result": true|false, "reviewer"?, "comment"?, "via"?}`).
    /// `"via": "link"` is what the review page sends; anything else is the CLI.
    /// A longer name or comment is cut to [`MAX_VOTE_NAME_CHARS`] and
    /// [`MAX_VOTE_COMMENT_CHARS`]: the vote still counts.
    pub fn from_answer(answer: &Value) -> Result<Self, InvalidReview> {
        let view = ReviewAnswer::parse(answer)?;
        let via = match answer.get("via").and_then(Value::as_str) {
            Some("link") => Via::Link,
            _ => Via::Cli,
        };
        let cut = |text: &str, max: usize| text.chars().take(max).collect::<String>();
        Ok(Self {
            result: view.result,
            via,
            name: view.reviewer.map(|name| cut(name, MAX_VOTE_NAME_CHARS)),
            comment: view
                .comment
                .map(|comment| cut(comment, MAX_VOTE_COMMENT_CHARS)),
        })
    }
}

/// A counted vote, as the decision record lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vote {
    /// The address the credential was sent to, as configured.
    pub reviewer: String,
    pub result: bool,
    /// When it was counted, RFC 3339 in UTC.
    pub at: String,
    pub via: Via,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// The escalation address answered.
    #[serde(skip_serializing_if = "is_false", default)]
    pub escalation: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// What decided the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DecidedBy {
    /// `required` distinct approvals.
    Quorum,
    /// A rejection. With a veto, approval becomes unreachable only through a
    /// rejection, so "no longer reachable" and "vetoed" are the same moment.
    Veto,
    /// The escalation address answered.
    Escalation,
    /// The review expired; [`DecisionOnTimeout`] decided.
    Timeout,
}

/// The decision, once made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub decision: Decision,
    pub decided_by: DecidedBy,
    pub expired: bool,
    /// RFC 3339 in UTC.
    pub at: String,
}

/// A vote that was counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Counted; the review is still open.
    Counted { approvals: usize, required: u32 },
    /// Counted, and it decided the review.
    Decided(Outcome),
}

/// Why a vote was not counted. The CLI and the page show the message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refused {
    #[error("{reviewer} has already voted on this review; a vote counts once")]
    AlreadyVoted { reviewer: String },
    #[error("this review is already decided: {decision}")]
    AlreadyDecided { decision: Decision },
    #[error("{address} requested this review and cannot review it")]
    OwnRequest { address: String },
    #[error("{address} is not a reviewer of this review")]
    NotAReviewer { address: String },
}

impl Refused {
    /// A stable name for logs and the CLI's exit path.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::AlreadyVoted { .. } => "AlreadyVoted",
            Self::AlreadyDecided { .. } => "ReviewAlreadyDecided",
            Self::OwnRequest { .. } => "OwnRequest",
            Self::NotAReviewer { .. } => "NotAReviewer",
        }
    }
}

/// The decision record's `policy` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRecord {
    /// `RequiredApprovals`.
    pub required: u32,
    /// Every configured reviewer, eligible or not.
    pub reviewers: Vec<String>,
    /// Reviewers left out because they requested the review.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub excluded: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub escalation: Option<String>,
}

/// The decision record's new fields, to be flattened into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyFields {
    /// Counted votes, in the order received.
    pub votes: Vec<Vote>,
    pub policy: PolicyRecord,
}

/// The votes of one review and its outcome. Serialisable: the store keeps it
/// and writes it back only if nobody else wrote in between.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    policy: PolicyRecord,
    eligible: Vec<Reviewer>,
    // `pub(super)`: `on_timer` (schedule) reads whom to escalate to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(super) escalation: Option<Reviewer>,
    votes: Vec<Vote>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    outcome: Option<Outcome>,
}

impl Tally {
    /// An open review with no votes yet.
    pub fn new(policy: &Policy, eligibility: &Eligibility) -> Self {
        Self {
            policy: PolicyRecord {
                required: policy.required,
                reviewers: policy.reviewers.iter().map(|r| r.0.clone()).collect(),
                excluded: eligibility.excluded.iter().map(|r| r.0.clone()).collect(),
                escalation: eligibility.escalation.as_ref().map(|e| e.0.clone()),
            },
            eligible: eligibility.eligible.clone(),
            escalation: eligibility.escalation.clone(),
            votes: Vec::new(),
            outcome: None,
        }
    }

    /// Counts `ballot` as the vote of `address` (the mailbox its credential
    /// was sent to). Approved at `required` distinct approvals, rejected at the
    /// first rejection; the escalation's answer decides on its own.
    pub fn record(
        &mut self,
        address: &str,
        ballot: Ballot,
        at: DateTime<Utc>,
    ) -> Result<Recorded, Refused> {
        if let Some(outcome) = &self.outcome {
            return Err(Refused::AlreadyDecided {
                decision: outcome.decision,
            });
        }
        let (reviewer, escalation) = if let Some(r) = self.eligible.iter().find(|r| r.is(address)) {
            (r.clone(), false)
        } else if let Some(e) = self.escalation.as_ref().filter(|e| e.is(address)) {
            (e.clone(), true)
        } else if let Some(own) = self
            .policy
            .excluded
            .iter()
            .find(|r| r.to_lowercase() == address.trim().to_lowercase())
        {
            return Err(Refused::OwnRequest {
                address: own.clone(),
            });
        } else {
            return Err(Refused::NotAReviewer {
                address: address.trim().to_owned(),
            });
        };
        if self.has_voted(reviewer.address()) {
            return Err(Refused::AlreadyVoted {
                reviewer: reviewer.0,
            });
        }
        let at = timestamp(at);
        self.votes.push(Vote {
            reviewer: reviewer.0,
            result: ballot.result,
            at: at.clone(),
            via: ballot.via,
            comment: ballot.comment,
            name: ballot.name,
            escalation,
        });
        let approvals = self.approvers().len();
        let decided_by = if escalation {
            Some(DecidedBy::Escalation)
        } else if !ballot.result {
            Some(DecidedBy::Veto)
        } else if approvals >= self.policy.required as usize {
            Some(DecidedBy::Quorum)
        } else {
            None
        };
        Ok(match decided_by {
            None => Recorded::Counted {
                approvals,
                required: self.policy.required,
            },
            Some(decided_by) => {
                let outcome = Outcome {
                    decision: Decision::from_result(ballot.result),
                    decided_by,
                    expired: false,
                    at,
                };
                self.outcome = Some(outcome.clone());
                Recorded::Decided(outcome)
            }
        })
    }

    /// The review ran out of time: `on_timeout` decides, and the record says it expired.
    pub fn expire(
        &mut self,
        on_timeout: DecisionOnTimeout,
        at: DateTime<Utc>,
    ) -> Result<Outcome, Refused> {
        if let Some(outcome) = &self.outcome {
            return Err(Refused::AlreadyDecided {
                decision: outcome.decision,
            });
        }
        let outcome = Outcome {
            decision: on_timeout.decision(),
            decided_by: DecidedBy::Timeout,
            expired: true,
            at: timestamp(at),
        };
        self.outcome = Some(outcome.clone());
        Ok(outcome)
    }

    /// Whether `address` has a counted vote.
    pub fn has_voted(&self, address: &str) -> bool {
        let key = address.trim().to_lowercase();
        self.votes.iter().any(|v| v.reviewer.to_lowercase() == key)
    }

    /// The eligible reviewers who have not voted, in configured order.
    pub fn waiting_for(&self) -> Vec<&Reviewer> {
        self.eligible
            .iter()
            .filter(|r| !self.has_voted(r.address()))
            .collect()
    }

    /// The reviewers who approved, in the order they voted.
    pub fn approvers(&self) -> Vec<&str> {
        self.votes
            .iter()
            .filter(|v| v.result && !v.escalation)
            .map(|v| v.reviewer.as_str())
            .collect()
    }

    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    pub fn votes(&self) -> &[Vote] {
        &self.votes
    }

    /// One line for `hitl pending`: `1/2 approved: a@example.com`.
    pub fn summary(&self) -> String {
        let approvers = self.approvers();
        let mut line = format!("{}/{} approved", approvers.len(), self.policy.required);
        if !approvers.is_empty() {
            line.push_str(": ");
            line.push_str(&approvers.join(", "));
        }
        for vote in self.votes.iter().filter(|v| !v.result || v.escalation) {
            let verb = if vote.result { "approved" } else { "rejected" };
            let role = if vote.escalation { " (escalation)" } else { "" };
            line.push_str(&format!("; {verb} by {}{role}", vote.reviewer));
        }
        line
    }

    /// The decision record's `votes` and `policy`.
    pub fn fields(&self) -> PolicyFields {
        PolicyFields {
            votes: self.votes.clone(),
            policy: self.policy.clone(),
        }
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
