//! The approval-policy functions' AWS adapters (issue 14): what Open Review,
//! Ask Reviewer, Record Vote, Tick and the review page's short links run
//! `hitl_domain::policy_flow` over.
//!
//! - [`DynamoReviewStore`]: the review table (`REVIEW_TABLE`) through
//!   aws-sdk-dynamodb, the items and conditional writes of
//!   docs/approval-policies.md ("DynamoDB table").
//! - [`SnsReviewerMailer`]: one message per reviewer on the review topic, with
//!   the `reviewer` attribute each subscription filters on.
//! - [`SystemClock`], [`RandomSecrets`]: the wall clock and the CSPRNG.
//! - Configuration read once at cold start ([`MailingPorts::from_env`],
//!   [`policy_from_env`], [`message_settings_from_env`]), and [`StepError`],
//!   which gives Lambda the domain's stable `error_type`.
//!
//! A crate of its own so that Process Approval and Process Rejection
//! (`hitl-lambda`) do not compile the DynamoDB SDK. Feature `testing` adds
//! [`testing`]: the local services and Lambda host the functions' binary
//! tests run against.

mod attr;
mod dynamo;
mod mailer;

#[cfg(feature = "testing")]
pub mod testing;

use std::time::Duration;

use chrono::{DateTime, Utc};
use hitl_domain::policy_flow::{
    self, AskReviewerInput, AskReviewerOutput, Clock, MessageSettings, PolicyFlowError,
    ReviewStore, ReviewerMailer, SecretSource, TickInput, TickOutput,
};
use hitl_domain::{Policy, PolicyError, PolicyParameters};
use lambda_runtime::Diagnostic;
use thiserror::Error;

pub use dynamo::{DynamoReviewStore, TABLE_ENV};
pub use mailer::{REVIEW_TOPIC_ENV, REVIEWER_ATTRIBUTE, SnsReviewerMailer};

/// What the functions that email reviewers (Ask Reviewer, Tick) are built
/// from, once at cold start: the store, the mailer, the clock, the secret
/// source and the message settings.
pub struct MailingPorts<S, M, C, R> {
    pub store: S,
    pub mailer: M,
    pub clock: C,
    pub secrets: R,
    pub settings: MessageSettings,
}

impl MailingPorts<DynamoReviewStore, SnsReviewerMailer, SystemClock, RandomSecrets> {
    /// The AWS ports, configured from the environment (see the constants here).
    pub fn from_env(config: &aws_https::SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            store: DynamoReviewStore::from_env(config)?,
            mailer: SnsReviewerMailer::from_env(config)?,
            clock: SystemClock,
            secrets: RandomSecrets,
            settings: message_settings_from_env()?,
        })
    }
}

impl<S, M, C, R> MailingPorts<S, M, C, R>
where
    S: ReviewStore,
    M: ReviewerMailer,
    C: Clock,
    R: SecretSource,
{
    fn parts(&self) -> (&S, &M, &C, &R, &MessageSettings) {
        let Self {
            store,
            mailer,
            clock,
            secrets,
            settings,
        } = self;
        (store, mailer, clock, secrets, settings)
    }

    /// Ask Reviewer's step ([`policy_flow::ask_reviewer`]) over these ports.
    pub async fn ask_reviewer(
        &self,
        input: AskReviewerInput,
    ) -> Result<AskReviewerOutput, PolicyFlowError> {
        let (store, mailer, clock, secrets, settings) = self.parts();
        policy_flow::ask_reviewer(store, mailer, clock, secrets, settings, input).await
    }

    /// Tick's step ([`policy_flow::tick`]) over these ports.
    pub async fn tick(&self, input: TickInput) -> Result<TickOutput, PolicyFlowError> {
        let (store, mailer, clock, secrets, settings) = self.parts();
        policy_flow::tick(store, mailer, clock, secrets, settings, input).await
    }
}

/// The review page's base URL, for short links.
pub const REVIEW_API_ENDPOINT_ENV: &str = "REVIEW_API_ENDPOINT";
/// Set by Lambda; the region the CLI commands in each message name.
pub const REGION_ENV: &str = "AWS_REGION";

/// A configuration problem found at cold start.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error(
        "{variable} is not set: deploy the function with template.yaml, which sets it to {what}"
    )]
    Missing {
        variable: &'static str,
        what: &'static str,
    },
}

/// The value of `variable`, which template.yaml sets to `what`; read once, at
/// cold start. Unset or empty is [`ConfigError::Missing`].
fn required_env(variable: &'static str, what: &'static str) -> Result<String, ConfigError> {
    std::env::var(variable)
        .ok()
        .filter(|value| !value.is_empty())
        .ok_or(ConfigError::Missing { variable, what })
}

/// A step's failure as Lambda reports it: `errorType` is the domain's stable
/// name (`AlreadyVoted`, `ReviewDecided`'s siblings, ...), which the state
/// machine's `Retry`/`Catch` match on.
#[derive(Debug, Error)]
#[error(transparent)]
pub struct StepError(#[from] pub PolicyFlowError);

impl From<StepError> for Diagnostic {
    fn from(error: StepError) -> Self {
        Diagnostic {
            error_type: error.0.error_type().to_owned(),
            error_message: error.0.to_string(),
        }
    }
}

/// The policy from the template parameters in the environment
/// (`REVIEWER_EMAILS`, `REQUIRED_APPROVALS`, ...). Unset numbers take the
/// template's defaults. An invalid policy is returned, not raised: Open Review
/// fails each execution with it rather than its cold start.
pub fn policy_from_env() -> Result<Policy, PolicyError> {
    let var = |name: &str| std::env::var(name).ok();
    let defaults = PolicyParameters::default();
    let reviewer_emails = var("REVIEWER_EMAILS").unwrap_or_default();
    let required = var("REQUIRED_APPROVALS");
    let reminder = var("REMINDER_AFTER_SECONDS");
    let max_reminders = var("MAX_REMINDERS");
    let escalation = var("ESCALATION_EMAIL").unwrap_or_default();
    let timeout = var("REVIEW_TIMEOUT_SECONDS");
    let on_timeout = var("DECISION_ON_TIMEOUT");
    PolicyParameters {
        reviewer_emails: &reviewer_emails,
        required_approvals: required.as_deref().unwrap_or(defaults.required_approvals),
        reminder_after_seconds: reminder
            .as_deref()
            .unwrap_or(defaults.reminder_after_seconds),
        max_reminders: max_reminders.as_deref().unwrap_or(defaults.max_reminders),
        escalation_email: &escalation,
        review_timeout_seconds: timeout
            .as_deref()
            .unwrap_or(defaults.review_timeout_seconds),
        decision_on_timeout: on_timeout
            .as_deref()
            .unwrap_or(defaults.decision_on_timeout),
    }
    .parse()
}

/// Where links point and which region commands name, from the environment.
pub fn message_settings_from_env() -> Result<MessageSettings, ConfigError> {
    let required = |variable: &'static str, what: &'static str| {
        std::env::var(variable)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::Missing { variable, what })
    };
    Ok(MessageSettings {
        review_api_endpoint: required(REVIEW_API_ENDPOINT_ENV, "the review API's URL")?,
        region: required(REGION_ENV, "the function's region (Lambda sets it)")?,
    })
}

/// The wall clock; a lost race waits a random 0–(20 × 2^attempt) ms, so that
/// racing writers spread out (full jitter, "Exponential Backoff And Jitter",
/// AWS Architecture Blog).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn pause(&self, attempt: u32) {
        let ceiling = 20u64 << attempt.min(6);
        let millis = rand::random_range(0..=ceiling);
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
}

/// 256 bits from the thread-local CSPRNG (ChaCha, seeded from the OS).
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomSecrets;

impl SecretSource for RandomSecrets {
    fn secret(&self) -> [u8; 32] {
        rand::random()
    }
}
