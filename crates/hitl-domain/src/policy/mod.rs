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
//!
//! The modules follow those seams: `parameters` (the policy and who may
//! review), `tally` (ballots, votes and the decision) and `schedule`
//! (timers). Everything public is re-exported here.

mod parameters;
mod schedule;
mod tally;

#[cfg(test)]
mod tests;

pub use parameters::{
    DecisionOnTimeout, Eligibility, EligibilityError, MAX_ADDRESS_CHARS, MAX_REMINDERS,
    MAX_REVIEWERS, MAX_SECONDS, Policy, PolicyError, PolicyParameters, Reviewer, parse_reviewers,
};
pub use schedule::{Schedule, Timer, TimerAction, on_timer};
pub use tally::{
    Ballot, DecidedBy, MAX_VOTE_COMMENT_CHARS, MAX_VOTE_NAME_CHARS, Outcome, PolicyFields,
    PolicyRecord, Recorded, Refused, Tally, Via, Vote,
};
