//! The ports the four steps run over, and the records the store keeps.
//!
//! The records are the design's DynamoDB items (docs/approval-policies.md,
//! "DynamoDB table") without any DynamoDB type: an adapter maps each field to
//! the attribute of the same name.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::policy::{Eligibility, Policy, Schedule, Tally};

/// Items live this long after the review's deadline (DynamoDB TTL on
/// `expiresAt`), so the page can still say "already decided".
pub const RETENTION_DAYS: i64 = 30;

/// What a review was opened with: the policy as it was then, who may review
/// this request, and when it opened. Stored as the review item's `policy`, so
/// a stack update never changes a review in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewSnapshot {
    pub policy: Policy,
    pub eligibility: Eligibility,
    pub opened_at: DateTime<Utc>,
}

impl ReviewSnapshot {
    /// The review's timers, recomputed from the stored snapshot (pure, so every
    /// Tick sees the same list).
    pub fn schedule(&self) -> Schedule {
        Schedule::new(&self.policy, &self.eligibility, self.opened_at)
    }

    /// The `expiresAt` of every item of this review: the deadline plus
    /// [`RETENTION_DAYS`], in epoch seconds.
    pub fn expires_at(&self) -> i64 {
        (self.schedule().deadline() + Duration::days(RETENTION_DAYS)).timestamp()
    }
}

/// The review item (`pk = R#<executionArn>`, `sk = REVIEW`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReview {
    pub execution_arn: String,
    /// Raised by one on every write of `tally`; the condition of that write.
    pub version: u64,
    /// Attribute `policy`.
    pub snapshot: ReviewSnapshot,
    pub tally: Tally,
    /// How many of the schedule's timers have been handled.
    pub timers_done: u32,
    pub expires_at: i64,
}

/// Whom a reviewer item's message went to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Reviewer,
    Escalation,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reviewer => "reviewer",
            Self::Escalation => "escalation",
        }
    }
}

/// The reviewer item (`pk = R#<executionArn>`, `sk = V#<lower-case address>`):
/// the token reminders resend and the hash of the first link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewerItem {
    pub execution_arn: String,
    /// As configured (SNS filters match it exactly).
    pub address: String,
    pub role: Role,
    /// The task token of this reviewer's wait. A credential: never logged.
    pub token: String,
    pub link_hash: String,
    pub asked_at: DateTime<Utc>,
    pub expires_at: i64,
}

/// The link item (`pk = L#<hash>`, `sk = LINK`): what a short link's secret
/// resolves to. The secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkItem {
    /// `base64url(SHA-256(secret))`, see [`super::link_hash`].
    pub hash: String,
    pub execution_arn: String,
    /// The reviewer's key (lower-case address).
    pub reviewer: String,
    pub expires_at: i64,
}

/// The result of a conditional write.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Done,
    /// The condition failed: someone else wrote first (DynamoDB's
    /// `ConditionalCheckFailedException`).
    Conflict,
}

/// A write by Tick: `timersDone` moves from `seen_done` to `seen_done + 1`,
/// and with `expiry`, the tally is replaced under its version check too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerWrite<'a> {
    pub seen_done: u32,
    /// `(seen version, expired tally)`.
    pub expiry: Option<(u64, &'a Tally)>,
}

/// The store failed (throttling, permissions, an outage). Carries no item data.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the review store failed: {reason}")]
pub struct StoreError {
    pub reason: String,
}

/// The review table. Every write the design lists, with its condition.
pub trait ReviewStore: Sync {
    /// `PutItem` review, `attribute_not_exists(pk)`.
    fn create_review(
        &self,
        review: &StoredReview,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;

    /// `GetItem` review with `ConsistentRead`.
    fn get_review(
        &self,
        execution_arn: &str,
    ) -> impl Future<Output = Result<Option<StoredReview>, StoreError>> + Send;

    /// `UpdateItem SET tally = :t, version = :seen + 1` if `version = :seen`.
    fn update_tally(
        &self,
        execution_arn: &str,
        seen_version: u64,
        tally: &Tally,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;

    /// `UpdateItem SET timersDone = :d + 1 [, tally, version]` if
    /// `timersDone = :d [AND version = :v]`.
    fn advance_timers(
        &self,
        execution_arn: &str,
        write: TimerWrite<'_>,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;

    /// `PutItem` link, `attribute_not_exists(pk)`.
    fn create_link(
        &self,
        link: &LinkItem,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;

    /// `GetItem` link (the page and `hitl` resolve a secret through it).
    fn get_link(
        &self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<LinkItem>, StoreError>> + Send;

    /// `PutItem` reviewer, unconditional: a retried task has a new token.
    fn put_reviewer(
        &self,
        reviewer: &ReviewerItem,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `GetItem` reviewer by its key (lower-case address).
    fn get_reviewer(
        &self,
        execution_arn: &str,
        reviewer_key: &str,
    ) -> impl Future<Output = Result<Option<ReviewerItem>, StoreError>> + Send;
}

/// One reviewer's message. Published with the message attribute
/// `reviewer = to`, so only that reviewer's filtered subscription receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewerMessage {
    /// The address as configured.
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The message could not be sent. Carries no message text (it holds a token).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("could not send the reviewer's message: {reason}")]
pub struct MailError {
    pub reason: String,
}

/// Sends one reviewer's message (SNS with a `reviewer` attribute in AWS).
pub trait ReviewerMailer: Sync {
    fn send(&self, message: &ReviewerMessage)
    -> impl Future<Output = Result<(), MailError>> + Send;
}

/// Time, and the pause between attempts of a contended write.
pub trait Clock: Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Waits before attempt `attempt` (1-based) of a write that lost a race.
    /// The AWS clock sleeps with jitter so that racing writers spread out.
    fn pause(&self, attempt: u32) -> impl Future<Output = ()> + Send;
}

/// 256 random bits for a short link's secret.
pub trait SecretSource: Sync {
    fn secret(&self) -> [u8; 32];
}
