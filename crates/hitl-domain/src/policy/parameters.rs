//! The policy from the template parameters, and who may review one request:
//! [`PolicyParameters::parse`] refuses a policy that cannot be met with a
//! [`PolicyError`]; [`Policy::eligibility`] leaves the requester out.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::decision::Decision;
use crate::review::kind_of;

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
// `pub(super)`: the policy tests build reviewers directly.
pub struct Reviewer(pub(super) String);

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
