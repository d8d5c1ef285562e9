//! Approval policies: who reviews, how many must approve, and when the review
//! reminds, escalates and expires (issue 14; design in `docs/approval-policies.md`).
//!
//! The contract, all of it pure (no I/O, no AWS types):
//!
//! - [`PolicyParameters::parse`] reads the template parameters (`ReviewerEmails`,
//!   `RequiredApprovals`, `ReminderAfterSeconds`, `MaxReminders`, `EscalationEmail`,
//!   `ReviewTimeoutSeconds`, `DecisionOnTimeout`) as the strings CloudFormation
//!   and `--parameter-overrides` hand over, and refuses a policy that cannot be
//!   met with a [`PolicyError`] naming the parameter and the fix.
//! - [`Policy::eligibility`] removes the requester (`requestedBy`, compared
//!   case-insensitively) from the reviewers. Too few left is a typed
//!   [`EligibilityError`] naming the counts, and the execution fails at once.
//! - [`Tally`] counts the votes in the order received, one per reviewer. The
//!   review is approved at `required` distinct approvals and rejected at the
//!   first rejection (veto); the escalation's answer decides on its own; expiry
//!   decides [`DecisionOnTimeout`]. Once decided, the tally refuses every
//!   further vote. A second vote from the same reviewer is refused and reported
//!   ([`Refused::AlreadyVoted`]), so nothing counts twice.
//! - [`Schedule`] and [`on_timer`] say when reminders, the escalation and the
//!   expiry fall due and who gets them. A reminder never goes to a reviewer who
//!   has voted, and nothing goes out once the review is decided.
//! - [`PolicyFields`] are the decision record's new `votes` and `policy` fields.
//!
//! Identity: a reviewer *is* the address the credential was sent to. A name in
//! the answer (`"reviewer": "Ana"`) is kept as the vote's `name` and never
//! decides who voted.

use std::fmt;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::decision::Decision;
use crate::review::{InvalidReview, ReviewAnswer, kind_of};

/// At most this many reviewers. Each is one SNS subscription slot in the
/// template and one Map iteration per review (see the design's history bound).
pub const MAX_REVIEWERS: usize = 10;
/// At most this many reminders per reviewer and review.
pub const MAX_REMINDERS: u32 = 10;
/// An address is at most 254 characters (RFC 5321's path limit less the brackets).
pub const MAX_ADDRESS_CHARS: usize = 254;
/// 364 days: a Standard execution lasts at most a year, and the outcome runs after the review.
pub const MAX_SECONDS: u64 = 31_449_600;

/// A reviewer: an email address as configured (trimmed, spelling kept, because
/// SNS filter policies match it exactly). Two addresses are the same reviewer
/// when they are equal ignoring case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reviewer(String);

impl Reviewer {
    /// Reads one address given to `parameter`. The rules are the template's
    /// `AllowedPattern` (`^[^@\s]+@[^@\s]+\.[^@\s]+$`), a length cap, and no comma.
    pub fn parse(parameter: &'static str, text: &str) -> Result<Self, PolicyError> {
        let address = text.trim();
        let invalid = |reason: &'static str| PolicyError::InvalidAddress {
            parameter,
            address: address.to_owned(),
            reason,
        };
        if address.chars().count() > MAX_ADDRESS_CHARS {
            return Err(invalid("is longer than 254 characters"));
        }
        if address.chars().any(char::is_whitespace) {
            return Err(invalid("contains white space"));
        }
        if address.contains(',') {
            return Err(invalid("contains a comma; give one address"));
        }
        let Some((local, domain)) = address.split_once('@') else {
            return Err(invalid("has no @"));
        };
        if domain.contains('@') {
            return Err(invalid("has more than one @"));
        }
        if local.is_empty() {
            return Err(invalid("has nothing before the @"));
        }
        let inner_dot = domain
            .char_indices()
            .any(|(at, c)| c == '.' && at > 0 && at + 1 < domain.len());
        if !inner_dot {
            return Err(invalid(
                "needs a domain with a dot after the @, as in example.com",
            ));
        }
        Ok(Self(address.to_owned()))
    }

    /// The address as configured.
    pub fn address(&self) -> &str {
        &self.0
    }

    /// The identity used for comparisons and store keys: the address in lower case.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// Whether `address` names this reviewer (ignoring case and surrounding space).
    pub fn is(&self, address: &str) -> bool {
        self.key() == address.trim().to_lowercase()
    }
}

impl fmt::Display for Reviewer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads `ReviewerEmails`: one or more addresses separated by commas, each
/// trimmed. Empty entries, duplicates (ignoring case) and more than
/// [`MAX_REVIEWERS`] are refused, each with the position the operator must fix.
pub fn parse_reviewers(list: &str) -> Result<Vec<Reviewer>, PolicyError> {
    if list.trim().is_empty() {
        return Err(PolicyError::NoReviewers);
    }
    let mut reviewers: Vec<Reviewer> = Vec::new();
    for (index, entry) in list.split(',').enumerate() {
        let position = index + 1;
        if entry.trim().is_empty() {
            return Err(PolicyError::EmptyReviewerEntry { position });
        }
        let reviewer = Reviewer::parse("ReviewerEmails", entry)?;
        if let Some(first) = reviewers.iter().position(|r| r.is(reviewer.address())) {
            return Err(PolicyError::DuplicateReviewer {
                address: reviewer.0,
                first: first + 1,
                second: position,
            });
        }
        reviewers.push(reviewer);
    }
    if reviewers.len() > MAX_REVIEWERS {
        return Err(PolicyError::TooManyReviewers {
            count: reviewers.len(),
        });
    }
    Ok(reviewers)
}

/// What an expiry decides (`DecisionOnTimeout`). The record says it expired either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionOnTimeout {
    #[default]
    Reject,
    Approve,
}

impl DecisionOnTimeout {
    /// `reject` or `approve`, exactly as the template's `AllowedValues`.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        match text.trim() {
            "reject" => Ok(Self::Reject),
            "approve" => Ok(Self::Approve),
            other => Err(PolicyError::InvalidDecisionOnTimeout {
                value: other.to_owned(),
            }),
        }
    }

    /// The decision an expiry records.
    pub fn decision(self) -> Decision {
        match self {
            Self::Reject => Decision::Rejected,
            Self::Approve => Decision::Approved,
        }
    }
}

/// Why a policy cannot be used. Every variant's [`PolicyError::error_type`] is
/// `InvalidReviewPolicy`; the message names the parameter and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    #[error("ReviewerEmails is empty: give one or more addresses separated by commas")]
    NoReviewers,
    #[error("ReviewerEmails has an empty entry at position {position}: remove the extra comma")]
    EmptyReviewerEntry { position: usize },
    #[error("{parameter} has an address that {reason}: {address:?}")]
    InvalidAddress {
        parameter: &'static str,
        address: String,
        reason: &'static str,
    },
    #[error(
        "ReviewerEmails lists {address} twice (positions {first} and {second}, ignoring case): \
         each reviewer may appear once"
    )]
    DuplicateReviewer {
        address: String,
        first: usize,
        second: usize,
    },
    #[error("ReviewerEmails lists {count} reviewers; at most {MAX_REVIEWERS} are supported")]
    TooManyReviewers { count: usize },
    #[error("{parameter} must be a whole number from {min} to {max}, but it is {value:?}")]
    InvalidNumber {
        parameter: &'static str,
        value: String,
        min: u64,
        max: u64,
    },
    #[error(
        "RequiredApprovals is {required} but ReviewerEmails lists only {reviewers} reviewer(s): \
         add reviewers or lower RequiredApprovals"
    )]
    RequiredAboveReviewers { required: u32, reviewers: usize },
    #[error("DecisionOnTimeout must be reject or approve, but it is {value:?}")]
    InvalidDecisionOnTimeout { value: String },
    #[error(
        "EscalationEmail {address} is also in ReviewerEmails: the escalation decides on its own, \
         so it must be someone else"
    )]
    EscalationIsReviewer { address: String },
    #[error(
        "EscalationEmail is set but ReminderAfterSeconds is 0: the escalation is sent \
         ReminderAfterSeconds after the last reminder, so set ReminderAfterSeconds too"
    )]
    EscalationNeedsReminders,
}

impl PolicyError {
    /// The stable error name the state machine and operators see.
    pub fn error_type(&self) -> &'static str {
        "InvalidReviewPolicy"
    }
}

/// The policy's template parameters, as text (CloudFormation parameters,
/// Lambda environment variables, `--parameter-overrides`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyParameters<'a> {
    pub reviewer_emails: &'a str,
    pub required_approvals: &'a str,
    pub reminder_after_seconds: &'a str,
    pub max_reminders: &'a str,
    /// Empty for no escalation.
    pub escalation_email: &'a str,
    pub review_timeout_seconds: &'a str,
    pub decision_on_timeout: &'a str,
}

impl Default for PolicyParameters<'_> {
    /// The template's defaults, with no reviewer.
    fn default() -> Self {
        Self {
            reviewer_emails: "",
            required_approvals: "1",
            reminder_after_seconds: "0",
            max_reminders: "2",
            escalation_email: "",
            review_timeout_seconds: "259200",
            decision_on_timeout: "reject",
        }
    }
}

impl PolicyParameters<'_> {
    /// Checks the parameters together. This is the check CloudFormation `Rules`
    /// cannot fully express (they cannot count a list), so `hitl local` and the
    /// functions' cold start run it.
    pub fn parse(&self) -> Result<Policy, PolicyError> {
        let reviewers = parse_reviewers(self.reviewer_emails)?;
        let required = number("RequiredApprovals", self.required_approvals, 1, 10)?;
        let required = u32::try_from(required).unwrap_or(u32::MAX);
        if required as usize > reviewers.len() {
            return Err(PolicyError::RequiredAboveReviewers {
                required,
                reviewers: reviewers.len(),
            });
        }
        let reminder_after_seconds = number(
            "ReminderAfterSeconds",
            self.reminder_after_seconds,
            0,
            MAX_SECONDS,
        )?;
        let max_reminders = number(
            "MaxReminders",
            self.max_reminders,
            0,
            u64::from(MAX_REMINDERS),
        )?;
        let max_reminders = u32::try_from(max_reminders).unwrap_or(MAX_REMINDERS);
        let escalation = if self.escalation_email.trim().is_empty() {
            None
        } else {
            let escalation = Reviewer::parse("EscalationEmail", self.escalation_email)?;
            if reviewers.iter().any(|r| r.is(escalation.address())) {
                return Err(PolicyError::EscalationIsReviewer {
                    address: escalation.0,
                });
            }
            if reminder_after_seconds == 0 {
                return Err(PolicyError::EscalationNeedsReminders);
            }
            Some(escalation)
        };
        let review_timeout_seconds = number(
            "ReviewTimeoutSeconds",
            self.review_timeout_seconds,
            1,
            MAX_SECONDS,
        )?;
        let decision_on_timeout = DecisionOnTimeout::parse(self.decision_on_timeout)?;
        Ok(Policy {
            reviewers,
            required,
            reminder_after_seconds,
            max_reminders,
            escalation,
            review_timeout_seconds,
            decision_on_timeout,
        })
    }
}

fn number(parameter: &'static str, text: &str, min: u64, max: u64) -> Result<u64, PolicyError> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| PolicyError::InvalidNumber {
            parameter,
            value: text.to_owned(),
            min,
            max,
        })
}

/// A checked policy, built by [`PolicyParameters::parse`]. Stored with each
/// review as a snapshot, so a stack update never changes a review in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub reviewers: Vec<Reviewer>,
    pub required: u32,
    /// 0: no reminders and no escalation.
    pub reminder_after_seconds: u64,
    pub max_reminders: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub escalation: Option<Reviewer>,
    pub review_timeout_seconds: u64,
    pub decision_on_timeout: DecisionOnTimeout,
}

/// Who may review one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Eligibility {
    /// The reviewers who are asked, in configured order.
    pub eligible: Vec<Reviewer>,
    /// Reviewers left out because they requested the review.
    pub excluded: Vec<Reviewer>,
    /// The escalation address, unless it requested the review.
    pub escalation: Option<Reviewer>,
}

/// Why a request cannot be reviewed under the policy. The execution fails at once.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EligibilityError {
    #[error("the request's \"requestedBy\" must be an email address string, but it is {found}")]
    RequestedByNotAString { found: &'static str },
    #[error(
        "RequiredApprovals is {required} but only {eligible} of the {configured} reviewers may review \
         this request: {} requested it and cannot review it; add reviewers or lower RequiredApprovals",
        excluded.join(", ")
    )]
    NotEnoughEligibleReviewers {
        required: u32,
        configured: usize,
        eligible: usize,
        excluded: Vec<String>,
    },
}

impl EligibilityError {
    /// The stable error name the state machine and operators see.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::RequestedByNotAString { .. } => "InvalidRequestedBy",
            Self::NotEnoughEligibleReviewers { .. } => "NotEnoughEligibleReviewers",
        }
    }
}

impl Policy {
    /// The reviewers who may review `request` (the execution input): everyone
    /// but the address in `request.requestedBy`, when there is one. A
    /// `requestedBy` that is not a string is refused rather than ignored, so a
    /// typo never silently turns separation of duties off.
    pub fn eligibility(&self, request: &Value) -> Result<Eligibility, EligibilityError> {
        let requested_by = match request.get("requestedBy") {
            None | Some(Value::Null) => None,
            Some(Value::String(address)) => Some(address.as_str()),
            Some(other) => {
                return Err(EligibilityError::RequestedByNotAString {
                    found: kind_of(other),
                });
            }
        };
        let is_requester = |r: &Reviewer| requested_by.is_some_and(|by| r.is(by));
        let (excluded, eligible): (Vec<Reviewer>, Vec<Reviewer>) =
            self.reviewers.iter().cloned().partition(is_requester);
        if eligible.len() < self.required as usize {
            return Err(EligibilityError::NotEnoughEligibleReviewers {
                required: self.required,
                configured: self.reviewers.len(),
                eligible: eligible.len(),
                excluded: excluded.iter().map(|r| r.0.clone()).collect(),
            });
        }
        let escalation = self.escalation.clone().filter(|e| !is_requester(e));
        Ok(Eligibility {
            eligible,
            excluded,
            escalation,
        })
    }
}

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
    #[serde(skip_serializing_if = "Option::is_none", default)]
    escalation: Option<Reviewer>,
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

/// A point in a review's life when something may have to be sent or decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Reminder round `round` (1-based).
    Remind {
        round: u32,
        at: DateTime<Utc>,
    },
    Escalate {
        at: DateTime<Utc>,
    },
    Expire {
        at: DateTime<Utc>,
    },
}

impl Timer {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Remind { at, .. } | Self::Escalate { at } | Self::Expire { at } => *at,
        }
    }
}

/// When a review's timers fall due, from when it was opened.
///
/// Reminder round k is at `opened + k × ReminderAfterSeconds` (k = 1..=MaxReminders);
/// the escalation one interval after the last reminder; the expiry at
/// `opened + ReviewTimeoutSeconds`. A reminder or escalation due at or after
/// the expiry is dropped: the review is over by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    timers: Vec<Timer>,
}

impl Schedule {
    pub fn new(policy: &Policy, eligibility: &Eligibility, opened_at: DateTime<Utc>) -> Self {
        let seconds = |n: u64| Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX));
        let deadline = opened_at + seconds(policy.review_timeout_seconds);
        let mut timers = Vec::new();
        if policy.reminder_after_seconds > 0 {
            let every = policy.reminder_after_seconds;
            for round in 1..=policy.max_reminders {
                timers.push(Timer::Remind {
                    round,
                    at: opened_at + seconds(every * u64::from(round)),
                });
            }
            if eligibility.escalation.is_some() {
                timers.push(Timer::Escalate {
                    at: opened_at + seconds(every * (u64::from(policy.max_reminders) + 1)),
                });
            }
        }
        timers.retain(|t| t.at() < deadline);
        timers.push(Timer::Expire { at: deadline });
        Self { timers }
    }

    /// Every timer, in order; the last is always the expiry.
    pub fn timers(&self) -> &[Timer] {
        &self.timers
    }

    /// The timer after the first `done` ones, if any.
    pub fn next(&self, done: usize) -> Option<Timer> {
        self.timers.get(done).copied()
    }

    pub fn deadline(&self) -> DateTime<Utc> {
        // `new` always ends the list with the expiry.
        self.timers
            .last()
            .map(Timer::at)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// What a due timer does to a review in the state `tally` is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerAction {
    /// Send the request again to these reviewers (their own link and token, unchanged).
    Remind(Vec<Reviewer>),
    /// Ask the escalation address.
    Escalate(Reviewer),
    /// Record the expiry ([`Tally::expire`]).
    Expire,
    /// Nothing to do: decided already, or nobody left to remind.
    Nothing,
}

/// Decides what `timer` does now. Never a reminder to a reviewer who voted,
/// nothing at all once the review is decided.
pub fn on_timer(tally: &Tally, timer: &Timer) -> TimerAction {
    if tally.outcome().is_some() {
        return TimerAction::Nothing;
    }
    match timer {
        Timer::Remind { .. } => {
            let waiting: Vec<Reviewer> = tally.waiting_for().into_iter().cloned().collect();
            if waiting.is_empty() {
                TimerAction::Nothing
            } else {
                TimerAction::Remind(waiting)
            }
        }
        Timer::Escalate { .. } => match &tally.escalation {
            Some(escalation) if !tally.has_voted(escalation.address()) => {
                TimerAction::Escalate(escalation.clone())
            }
            _ => TimerAction::Nothing,
        },
        Timer::Expire { .. } => TimerAction::Expire,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    fn policy(reviewers: &str, required: &str) -> Policy {
        PolicyParameters {
            reviewer_emails: reviewers,
            required_approvals: required,
            ..PolicyParameters::default()
        }
        .parse()
        .unwrap()
    }

    fn tally(reviewers: &str, required: &str, request: Value) -> Tally {
        let policy = policy(reviewers, required);
        let eligibility = policy.eligibility(&request).unwrap();
        Tally::new(&policy, &eligibility)
    }

    fn approve() -> Ballot {
        Ballot::from_answer(&json!({"result": true})).unwrap()
    }

    fn reject() -> Ballot {
        Ballot::from_answer(&json!({"result": false})).unwrap()
    }

    const THREE: &str = "a@example.com,b@example.com,c@example.com";

    // --- ReviewerEmails ---

    #[test]
    fn given_a_list_with_spaces_when_parsed_then_each_address_is_trimmed_and_spelling_kept() {
        let reviewers = parse_reviewers(" Ana@Example.com , bo@example.org").unwrap();
        let addresses: Vec<&str> = reviewers.iter().map(Reviewer::address).collect();
        assert_eq!(addresses, ["Ana@Example.com", "bo@example.org"]);
        assert_eq!(reviewers[0].key(), "ana@example.com");
        assert!(reviewers[0].is(" ANA@example.COM "));
        assert!(!reviewers[0].is("bo@example.org"));
    }

    #[test]
    fn given_the_same_address_in_another_case_when_parsed_then_it_is_a_duplicate_naming_positions()
    {
        let error = parse_reviewers("a@example.com,b@example.com,A@EXAMPLE.com").unwrap_err();
        assert_eq!(
            error,
            PolicyError::DuplicateReviewer {
                address: "A@EXAMPLE.com".into(),
                first: 1,
                second: 3
            }
        );
        assert!(error.to_string().contains("positions 1 and 3"), "{error}");
    }

    #[test]
    fn given_empty_entries_when_parsed_then_the_position_is_named() {
        assert_eq!(parse_reviewers("  "), Err(PolicyError::NoReviewers));
        assert_eq!(
            parse_reviewers("a@example.com,,b@example.com"),
            Err(PolicyError::EmptyReviewerEntry { position: 2 })
        );
        assert_eq!(
            parse_reviewers("a@example.com,"),
            Err(PolicyError::EmptyReviewerEntry { position: 2 })
        );
    }

    #[test]
    fn given_malformed_addresses_when_parsed_then_each_reason_is_named() {
        let cases = [
            ("ana.example.com", "has no @"),
            ("a@b@example.com", "has more than one @"),
            ("@example.com", "has nothing before the @"),
            ("ana@localhost", "needs a domain with a dot"),
            ("ana@.com", "needs a domain with a dot"),
            ("ana@example.", "needs a domain with a dot"),
            ("an a@example.com", "contains white space"),
        ];
        for (address, reason) in cases {
            let error = parse_reviewers(address).unwrap_err();
            assert!(
                matches!(&error, PolicyError::InvalidAddress { reason: r, parameter: "ReviewerEmails", .. } if r.starts_with(reason)),
                "{address}: {error}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(matches!(
            parse_reviewers(&long),
            Err(PolicyError::InvalidAddress {
                reason: "is longer than 254 characters",
                ..
            })
        ));
    }

    #[test]
    fn given_eleven_reviewers_when_parsed_then_too_many() {
        let list: Vec<String> = (1..=11).map(|i| format!("r{i}@example.com")).collect();
        assert_eq!(
            parse_reviewers(&list.join(",")),
            Err(PolicyError::TooManyReviewers { count: 11 })
        );
        assert_eq!(parse_reviewers(&list[..10].join(",")).unwrap().len(), 10);
    }

    // --- the other parameters ---

    #[test]
    fn given_the_template_defaults_when_parsed_then_one_of_one_without_reminders() {
        let parsed = policy("a@example.com", "1");
        assert_eq!(parsed.required, 1);
        assert_eq!(parsed.reminder_after_seconds, 0);
        assert_eq!(parsed.max_reminders, 2);
        assert_eq!(parsed.escalation, None);
        assert_eq!(parsed.review_timeout_seconds, 259_200);
        assert_eq!(parsed.decision_on_timeout, DecisionOnTimeout::Reject);
    }

    #[test]
    fn given_more_required_approvals_than_reviewers_then_refused_naming_both_counts() {
        let error = PolicyParameters {
            reviewer_emails: "a@example.com,b@example.com",
            required_approvals: "3",
            ..PolicyParameters::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(
            error,
            PolicyError::RequiredAboveReviewers {
                required: 3,
                reviewers: 2
            }
        );
        assert_eq!(error.error_type(), "InvalidReviewPolicy");
        let message = error.to_string();
        assert!(message.contains("RequiredApprovals is 3"), "{message}");
        assert!(message.contains("only 2 reviewer"), "{message}");
    }

    #[test]
    fn given_numbers_out_of_range_then_the_parameter_and_range_are_named() {
        let base = PolicyParameters {
            reviewer_emails: THREE,
            ..PolicyParameters::default()
        };
        let cases = [
            (
                PolicyParameters {
                    required_approvals: "0",
                    ..base
                },
                "RequiredApprovals",
            ),
            (
                PolicyParameters {
                    required_approvals: "two",
                    ..base
                },
                "RequiredApprovals",
            ),
            (
                PolicyParameters {
                    max_reminders: "11",
                    ..base
                },
                "MaxReminders",
            ),
            (
                PolicyParameters {
                    reminder_after_seconds: "-5",
                    ..base
                },
                "ReminderAfterSeconds",
            ),
            (
                PolicyParameters {
                    review_timeout_seconds: "0",
                    ..base
                },
                "ReviewTimeoutSeconds",
            ),
        ];
        for (parameters, name) in cases {
            let error = parameters.parse().unwrap_err();
            assert!(
                matches!(&error, PolicyError::InvalidNumber { parameter, .. } if *parameter == name),
                "{error}"
            );
            assert!(error.to_string().starts_with(name), "{error}");
        }
    }

    #[test]
    fn given_decision_on_timeout_then_only_reject_or_approve() {
        assert_eq!(
            DecisionOnTimeout::parse("approve").unwrap().decision(),
            Decision::Approved
        );
        assert_eq!(
            DecisionOnTimeout::parse("reject").unwrap().decision(),
            Decision::Rejected
        );
        assert_eq!(
            DecisionOnTimeout::parse("Approve"),
            Err(PolicyError::InvalidDecisionOnTimeout {
                value: "Approve".into()
            })
        );
    }

    #[test]
    fn given_an_escalation_then_it_must_differ_from_reviewers_and_need_reminders() {
        let base = PolicyParameters {
            reviewer_emails: THREE,
            reminder_after_seconds: "60",
            ..PolicyParameters::default()
        };
        let same = PolicyParameters {
            escalation_email: "B@example.com",
            ..base
        };
        assert_eq!(
            same.parse(),
            Err(PolicyError::EscalationIsReviewer {
                address: "B@example.com".into()
            })
        );
        let no_reminders = PolicyParameters {
            escalation_email: "boss@example.com",
            reminder_after_seconds: "0",
            ..base
        };
        assert_eq!(
            no_reminders.parse(),
            Err(PolicyError::EscalationNeedsReminders)
        );
        let two = PolicyParameters {
            escalation_email: "boss@example.com,x@example.com",
            ..base
        };
        assert!(matches!(
            two.parse(),
            Err(PolicyError::InvalidAddress {
                parameter: "EscalationEmail",
                ..
            })
        ));
        let fine = PolicyParameters {
            escalation_email: " boss@example.com ",
            ..base
        };
        assert_eq!(
            fine.parse().unwrap().escalation,
            Some(Reviewer("boss@example.com".into()))
        );
    }

    #[test]
    fn policy_snapshot_round_trips_through_json_in_camel_case() {
        let parsed = PolicyParameters {
            reviewer_emails: THREE,
            required_approvals: "2",
            decision_on_timeout: "approve",
            ..PolicyParameters::default()
        }
        .parse()
        .unwrap();
        let json = serde_json::to_value(&parsed).unwrap();
        assert_eq!(json["decisionOnTimeout"], "approve");
        assert_eq!(json["reviewers"][0], "a@example.com");
        assert!(json.get("escalation").is_none());
        assert_eq!(serde_json::from_value::<Policy>(json).unwrap(), parsed);
    }

    // --- eligibility ---

    #[test]
    fn given_the_requester_is_a_reviewer_in_another_case_then_they_are_not_asked() {
        let parsed = policy(THREE, "2");
        let eligibility = parsed
            .eligibility(&json!({"requestedBy": " B@Example.COM", "amount": 3}))
            .unwrap();
        let eligible: Vec<&str> = eligibility.eligible.iter().map(Reviewer::address).collect();
        assert_eq!(eligible, ["a@example.com", "c@example.com"]);
        assert_eq!(eligibility.excluded, [Reviewer("b@example.com".into())]);
    }

    #[test]
    fn given_too_few_eligible_reviewers_then_a_named_error_gives_the_counts() {
        let parsed = policy("a@example.com,b@example.com", "2");
        let error = parsed
            .eligibility(&json!({"requestedBy": "a@example.com"}))
            .unwrap_err();
        assert_eq!(
            error,
            EligibilityError::NotEnoughEligibleReviewers {
                required: 2,
                configured: 2,
                eligible: 1,
                excluded: vec!["a@example.com".into()]
            }
        );
        assert_eq!(error.error_type(), "NotEnoughEligibleReviewers");
        let message = error.to_string();
        assert!(message.contains("only 1 of the 2 reviewers"), "{message}");
        assert!(message.contains("a@example.com requested it"), "{message}");
    }

    #[test]
    fn given_no_requester_or_a_stranger_then_everyone_is_eligible() {
        let parsed = policy(THREE, "3");
        for request in [
            json!({}),
            json!({"requestedBy": null}),
            json!({"requestedBy": "z@example.com"}),
            json!("not an object"),
        ] {
            let eligibility = parsed.eligibility(&request).unwrap();
            assert_eq!(eligibility.eligible.len(), 3, "{request}");
            assert!(eligibility.excluded.is_empty());
        }
    }

    #[test]
    fn given_requested_by_that_is_not_a_string_then_refused_not_ignored() {
        let parsed = policy(THREE, "1");
        let error = parsed
            .eligibility(&json!({"requestedBy": ["a@example.com"]}))
            .unwrap_err();
        assert_eq!(
            error,
            EligibilityError::RequestedByNotAString { found: "an array" }
        );
        assert_eq!(error.error_type(), "InvalidRequestedBy");
    }

    #[test]
    fn given_the_requester_is_the_escalation_then_there_is_no_escalation() {
        let parsed = PolicyParameters {
            reviewer_emails: THREE,
            reminder_after_seconds: "60",
            escalation_email: "boss@example.com",
            ..PolicyParameters::default()
        }
        .parse()
        .unwrap();
        let eligibility = parsed
            .eligibility(&json!({"requestedBy": "Boss@example.com"}))
            .unwrap();
        assert_eq!(eligibility.escalation, None);
        assert_eq!(eligibility.eligible.len(), 3);
    }

    // --- the tally ---

    #[test]
    fn given_two_of_three_when_the_first_approves_then_still_open_and_the_second_decides() {
        let mut tally = tally(THREE, "2", json!({}));
        assert_eq!(
            tally.record("a@example.com", approve(), noon()),
            Ok(Recorded::Counted {
                approvals: 1,
                required: 2
            })
        );
        assert_eq!(tally.summary(), "1/2 approved: a@example.com");
        assert_eq!(tally.outcome(), None);

        let decided = tally.record("C@EXAMPLE.COM", approve(), noon()).unwrap();
        let Recorded::Decided(outcome) = decided else {
            panic!("expected a decision, got {decided:?}")
        };
        assert_eq!(outcome.decision, Decision::Approved);
        assert_eq!(outcome.decided_by, DecidedBy::Quorum);
        assert!(!outcome.expired);
        let voters: Vec<&str> = tally.votes().iter().map(|v| v.reviewer.as_str()).collect();
        assert_eq!(
            voters,
            ["a@example.com", "c@example.com"],
            "configured spelling, vote order"
        );
    }

    #[test]
    fn given_one_rejection_then_it_vetoes_at_once_even_after_approvals() {
        let mut tally = tally(THREE, "2", json!({}));
        tally.record("a@example.com", approve(), noon()).unwrap();
        let Ok(Recorded::Decided(outcome)) = tally.record("b@example.com", reject(), noon()) else {
            panic!("a rejection decides")
        };
        assert_eq!(outcome.decision, Decision::Rejected);
        assert_eq!(outcome.decided_by, DecidedBy::Veto);
        assert_eq!(
            tally.summary(),
            "1/2 approved: a@example.com; rejected by b@example.com"
        );
    }

    #[test]
    fn given_the_same_reviewer_twice_then_the_second_vote_is_refused_and_not_counted() {
        let mut tally = tally(THREE, "2", json!({}));
        tally.record("a@example.com", approve(), noon()).unwrap();
        let refused = tally
            .record("A@example.com", approve(), noon())
            .unwrap_err();
        assert_eq!(
            refused,
            Refused::AlreadyVoted {
                reviewer: "a@example.com".into()
            }
        );
        assert_eq!(refused.error_type(), "AlreadyVoted");
        assert!(refused.to_string().contains("has already voted"));
        assert_eq!(tally.votes().len(), 1);
        assert_eq!(
            tally.outcome(),
            None,
            "one reviewer cannot make a quorum of two"
        );
    }

    #[test]
    fn given_a_decided_review_then_late_votes_and_expiry_are_refused() {
        let mut tally = tally(THREE, "1", json!({}));
        tally.record("b@example.com", approve(), noon()).unwrap();
        let late = tally.record("c@example.com", reject(), noon()).unwrap_err();
        assert_eq!(
            late,
            Refused::AlreadyDecided {
                decision: Decision::Approved
            }
        );
        assert_eq!(
            tally.expire(DecisionOnTimeout::Reject, noon()),
            Err(Refused::AlreadyDecided {
                decision: Decision::Approved
            })
        );
        assert_eq!(tally.votes().len(), 1);
        assert_eq!(tally.outcome().unwrap().decision, Decision::Approved);
    }

    #[test]
    fn given_the_requester_or_a_stranger_votes_then_refused() {
        let mut tally = tally(THREE, "1", json!({"requestedBy": "a@example.com"}));
        assert_eq!(
            tally.record("A@example.com", approve(), noon()),
            Err(Refused::OwnRequest {
                address: "a@example.com".into()
            })
        );
        assert_eq!(
            tally.record("z@example.com", approve(), noon()),
            Err(Refused::NotAReviewer {
                address: "z@example.com".into()
            })
        );
        assert!(tally.votes().is_empty());
    }

    #[test]
    fn given_a_name_in_the_answer_then_it_is_kept_as_name_never_as_identity() {
        let mut tally = tally(THREE, "2", json!({}));
        let ballot = Ballot::from_answer(&json!({
            "result": true, "reviewer": "c@example.com", "comment": "ok", "via": "link"
        }))
        .unwrap();
        tally.record("a@example.com", ballot, noon()).unwrap();
        let vote = &tally.votes()[0];
        assert_eq!(vote.reviewer, "a@example.com");
        assert_eq!(vote.name.as_deref(), Some("c@example.com"));
        assert_eq!(vote.via, Via::Link);
        assert!(!tally.has_voted("c@example.com"));
        assert!(tally.has_voted("a@example.com"));
    }

    #[test]
    fn a_long_name_or_comment_is_cut_and_the_vote_still_counts() {
        let ballot = Ballot::from_answer(&json!({
            "result": true, "reviewer": "é".repeat(500), "comment": "x".repeat(40_000)
        }))
        .unwrap();
        assert!(ballot.result);
        assert_eq!(ballot.name.unwrap().chars().count(), MAX_VOTE_NAME_CHARS);
        assert_eq!(
            ballot.comment.unwrap().chars().count(),
            MAX_VOTE_COMMENT_CHARS
        );
    }

    #[test]
    fn given_an_invalid_answer_then_no_ballot() {
        assert!(Ballot::from_answer(&json!({"result": "yes"})).is_err());
        assert_eq!(
            Ballot::from_answer(&json!({"result": false})).unwrap().via,
            Via::Cli
        );
    }

    #[test]
    fn given_the_escalation_answers_then_it_decides_alone() {
        let parsed = PolicyParameters {
            reviewer_emails: THREE,
            required_approvals: "3",
            reminder_after_seconds: "60",
            escalation_email: "boss@example.com",
            ..PolicyParameters::default()
        }
        .parse()
        .unwrap();
        let eligibility = parsed.eligibility(&json!({})).unwrap();
        let mut tally = Tally::new(&parsed, &eligibility);
        tally.record("a@example.com", approve(), noon()).unwrap();
        let Ok(Recorded::Decided(outcome)) = tally.record("boss@example.com", approve(), noon())
        else {
            panic!("the escalation decides")
        };
        assert_eq!(outcome.decision, Decision::Approved);
        assert_eq!(outcome.decided_by, DecidedBy::Escalation);
        assert!(tally.votes()[1].escalation);
        assert_eq!(
            tally.approvers(),
            ["a@example.com"],
            "the escalation is no reviewer"
        );
        assert_eq!(
            tally.summary(),
            "1/3 approved: a@example.com; approved by boss@example.com (escalation)"
        );
    }

    #[test]
    fn given_expiry_then_decision_on_timeout_decides_and_says_expired() {
        for (on_timeout, decision) in [
            (DecisionOnTimeout::Reject, Decision::Rejected),
            (DecisionOnTimeout::Approve, Decision::Approved),
        ] {
            let mut tally = tally(THREE, "2", json!({}));
            tally.record("a@example.com", approve(), noon()).unwrap();
            let outcome = tally.expire(on_timeout, noon()).unwrap();
            assert_eq!(outcome.decision, decision);
            assert!(outcome.expired);
            assert_eq!(outcome.decided_by, DecidedBy::Timeout);
            assert_eq!(outcome.at, "2026-11-25T12:00:00.000Z");
            assert!(tally.record("b@example.com", approve(), noon()).is_err());
        }
    }

    #[test]
    fn given_a_stored_tally_when_reloaded_then_it_continues_where_it_stopped() {
        let mut tally = tally(THREE, "2", json!({}));
        tally.record("a@example.com", approve(), noon()).unwrap();
        let stored = serde_json::to_string(&tally).unwrap();
        let mut reloaded: Tally = serde_json::from_str(&stored).unwrap();
        assert_eq!(reloaded, tally);
        assert!(reloaded.record("a@example.com", approve(), noon()).is_err());
        assert!(matches!(
            reloaded.record("b@example.com", approve(), noon()),
            Ok(Recorded::Decided(_))
        ));
    }

    // --- the decision record's new fields ---

    #[test]
    fn given_a_single_reviewer_then_the_record_fields_are_votes_and_policy_in_camel_case() {
        let mut tally = tally("ana@example.com", "1", json!({}));
        let ballot = Ballot::from_answer(
            &json!({"result": true, "reviewer": "Ana", "comment": "fine", "via": "link"}),
        )
        .unwrap();
        tally.record("ana@example.com", ballot, noon()).unwrap();
        let fields = serde_json::to_value(tally.fields()).unwrap();
        assert_eq!(
            fields,
            json!({
                "votes": [{
                    "reviewer": "ana@example.com", "result": true,
                    "at": "2026-11-25T12:00:00.000Z", "via": "link",
                    "comment": "fine", "name": "Ana"
                }],
                "policy": {"required": 1, "reviewers": ["ana@example.com"]}
            })
        );
    }

    #[test]
    fn given_an_excluded_requester_and_an_escalation_then_the_policy_field_names_them() {
        let parsed = PolicyParameters {
            reviewer_emails: THREE,
            required_approvals: "2",
            reminder_after_seconds: "60",
            escalation_email: "boss@example.com",
            ..PolicyParameters::default()
        }
        .parse()
        .unwrap();
        let eligibility = parsed
            .eligibility(&json!({"requestedBy": "c@example.com"}))
            .unwrap();
        let fields = serde_json::to_value(Tally::new(&parsed, &eligibility).fields()).unwrap();
        assert_eq!(
            fields["policy"],
            json!({
                "required": 2,
                "reviewers": ["a@example.com", "b@example.com", "c@example.com"],
                "excluded": ["c@example.com"],
                "escalation": "boss@example.com"
            })
        );
        assert_eq!(fields["votes"], json!([]));
    }

    // --- timers ---

    fn timed(reminder: &str, max: &str, escalation: &str, timeout: &str) -> (Policy, Eligibility) {
        let parsed = PolicyParameters {
            reviewer_emails: THREE,
            required_approvals: "2",
            reminder_after_seconds: reminder,
            max_reminders: max,
            escalation_email: escalation,
            review_timeout_seconds: timeout,
            ..PolicyParameters::default()
        }
        .parse()
        .unwrap();
        let eligibility = parsed.eligibility(&json!({})).unwrap();
        (parsed, eligibility)
    }

    fn after(seconds: i64) -> DateTime<Utc> {
        noon() + Duration::seconds(seconds)
    }

    #[test]
    fn given_reminders_and_escalation_then_rounds_then_escalation_then_expiry() {
        let (parsed, eligibility) = timed("10", "2", "boss@example.com", "100");
        let schedule = Schedule::new(&parsed, &eligibility, noon());
        assert_eq!(
            schedule.timers(),
            [
                Timer::Remind {
                    round: 1,
                    at: after(10)
                },
                Timer::Remind {
                    round: 2,
                    at: after(20)
                },
                Timer::Escalate { at: after(30) },
                Timer::Expire { at: after(100) },
            ]
        );
        assert_eq!(schedule.next(3), Some(Timer::Expire { at: after(100) }));
        assert_eq!(schedule.next(4), None);
        assert_eq!(schedule.deadline(), after(100));
    }

    #[test]
    fn given_no_reminders_then_only_the_expiry() {
        let (parsed, eligibility) = timed("0", "2", "", "100");
        let schedule = Schedule::new(&parsed, &eligibility, noon());
        assert_eq!(schedule.timers(), [Timer::Expire { at: after(100) }]);
    }

    #[test]
    fn given_timers_at_or_after_the_deadline_then_they_are_dropped() {
        let (parsed, eligibility) = timed("40", "3", "boss@example.com", "80");
        let schedule = Schedule::new(&parsed, &eligibility, noon());
        assert_eq!(
            schedule.timers(),
            [
                Timer::Remind {
                    round: 1,
                    at: after(40)
                },
                Timer::Expire { at: after(80) },
            ],
            "round 2 falls on the deadline itself, so the review is over by then"
        );
    }

    #[test]
    fn given_a_reviewer_voted_when_a_reminder_is_due_then_only_the_others_get_it() {
        let (parsed, eligibility) = timed("10", "2", "boss@example.com", "100");
        let mut tally = Tally::new(&parsed, &eligibility);
        tally.record("b@example.com", approve(), noon()).unwrap();
        let remind = Timer::Remind {
            round: 1,
            at: after(10),
        };
        assert_eq!(
            on_timer(&tally, &remind),
            TimerAction::Remind(vec![
                Reviewer("a@example.com".into()),
                Reviewer("c@example.com".into())
            ])
        );
        assert_eq!(
            on_timer(&tally, &Timer::Escalate { at: after(30) }),
            TimerAction::Escalate(Reviewer("boss@example.com".into()))
        );
        assert_eq!(
            on_timer(&tally, &Timer::Expire { at: after(100) }),
            TimerAction::Expire
        );
    }

    #[test]
    fn given_a_decided_review_then_no_timer_sends_anything() {
        let (parsed, eligibility) = timed("10", "2", "boss@example.com", "100");
        let mut tally = Tally::new(&parsed, &eligibility);
        tally.record("a@example.com", reject(), noon()).unwrap();
        for timer in Schedule::new(&parsed, &eligibility, noon()).timers() {
            assert_eq!(on_timer(&tally, timer), TimerAction::Nothing, "{timer:?}");
        }
    }

    #[test]
    fn given_the_requester_excluded_then_reminders_never_go_to_them() {
        let (parsed, _) = timed("10", "1", "", "100");
        let eligibility = parsed
            .eligibility(&json!({"requestedBy": "a@example.com"}))
            .unwrap();
        let tally = Tally::new(&parsed, &eligibility);
        let TimerAction::Remind(recipients) = on_timer(
            &tally,
            &Timer::Remind {
                round: 1,
                at: after(10),
            },
        ) else {
            panic!("a reminder is due")
        };
        assert!(recipients.iter().all(|r| !r.is("a@example.com")));
        assert_eq!(recipients.len(), 2);
    }
}
