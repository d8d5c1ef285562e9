//! The approval-policy steps (docs/approval-policies.md, design A): Open
//! Review, Ask Reviewer, Record Vote and Tick, each a pure function over small
//! ports, so the Lambdas only wire AWS adapters to them.
//!
//! The contract:
//!
//! - [`open_review`] validates the policy and the requester, then stores the
//!   review once (put-if-absent). A retry returns the stored snapshot: the first
//!   policy wins. Refusals: `InvalidReviewPolicy`, `InvalidRequestedBy`,
//!   `NotEnoughEligibleReviewers`.
//! - [`ask_reviewer`] refuses a reviewer who voted (`AlreadyVoted`), stores the
//!   reviewer's token and a link whose secret is kept only as a SHA-256 hash,
//!   and sends that reviewer alone their message: their own short links
//!   (≤ [`MAX_LINK_CHARS`] characters, else `LinkTooLong`), commands and
//!   `Task token:` line. Nothing is sent for a decided review.
//! - [`record_vote`] counts one vote with a version-checked write; a lost race
//!   re-reads and re-applies ([`MAX_ATTEMPTS`] in all). Outcomes: `counted`,
//!   `decided` (with the stored record), `late`, `duplicate`.
//! - [`tick`] handles the next due timer: reminders to non-voters only, the
//!   escalation once, the expiry with `DecisionOnTimeout`. The timer is claimed
//!   by a conditional write before any email, so each is sent at most once.
//! - [`check_review_subscriptions`] refuses a review topic with a subscription
//!   not filtered on `reviewer` (`UnfilteredReviewSubscription`).
//! - [`DecidedReview`] is the one decision every step reports, built from the
//!   stored tally, whichever write won.
//!
//! Inputs and outputs ([`contracts`]) are the Lambdas' JSON, documented in
//! docs/approval-policies.md, "Lambda contracts". No AWS types here.

mod audit;
pub mod contracts;
mod message;
pub mod ports;
mod steps;

#[cfg(any(test, feature = "testing"))]
pub mod memory;

#[cfg(test)]
mod tests;

pub use audit::{TopicSubscription, check_review_subscriptions};
pub use contracts::{
    AskReviewerInput, AskReviewerOutput, DecidedReview, NextTimer, OpenReviewInput,
    OpenReviewOutput, PolicyFlowError, RecordVoteInput, RecordVoteOutput, ScheduleView, TickInput,
    TickOutput,
};
pub use message::{LinkSecret, MAX_LINK_CHARS, MessageSettings, Occasion, link_hash, short_link};
pub use ports::{
    Clock, LinkItem, MailError, RETENTION_DAYS, ReviewSnapshot, ReviewStore, ReviewerItem,
    ReviewerMailer, ReviewerMessage, Role, SecretSource, StoreError, StoredReview, TimerWrite,
    Written,
};
pub use steps::{MAX_ATTEMPTS, ask_reviewer, open_review, record_vote, tick};
