//! The human-review workflow's domain, free of AWS and Lambda types.
//!
//! The state machine asks a person for a review and then hands the outcome to
//! Process Approval or Process Rejection. Those functions, the local stack and
//! the `hitl` CLI all speak the types in this crate:
//!
//! - [`review`]: the reviewer's answer (`{"result": true|false, "reviewer"?, "comment"?, ...}`)
//!   and the rules a valid answer follows.
//! - [`decision`]: what the state machine sends to the outcome functions
//!   ([`DecisionInput`]) and the decision record they return, which is the
//!   execution's output contract ([`DecisionRecord`]).
//! - [`policy`]: approval policies (several reviewers, a quorum, veto, no
//!   self-review, reminders, escalation, the decision on timeout) and the
//!   decision record's `votes` and `policy` fields.
//! - [`policy_flow`]: the approval-policy Lambdas' steps (Open Review, Ask
//!   Reviewer, Record Vote, Tick) over store, mailer, clock and secret ports,
//!   and their JSON contracts.
//! - [`notice`]: the message announcing a decision on the decision topic, and
//!   the [`DecisionPublisher`] port an adapter implements (SNS in AWS, a fake in tests).

pub mod decision;
pub mod notice;
pub mod policy;
pub mod policy_flow;
pub mod review;

pub use decision::{Decision, DecisionError, DecisionInput, DecisionRecord, decide};
pub use notice::{DecisionNotice, DecisionPublisher, PublishError};
pub use policy::{
    Ballot, DecisionOnTimeout, Eligibility, EligibilityError, Policy, PolicyError, PolicyFields,
    PolicyParameters, Refused, Reviewer, Tally, Vote,
};
pub use review::{InvalidReview, ReviewAnswer};

#[cfg(any(test, feature = "testing"))]
pub mod testing;
