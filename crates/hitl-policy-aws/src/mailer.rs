//! [`ReviewerMailer`] on SNS: one publish per reviewer, with the message
//! attribute `reviewer` = the address as configured. Each reviewer's
//! subscription has `FilterPolicy {"reviewer": ["<address>"]}` (scope
//! `MessageAttributes`, the default), and SNS delivers a message only to
//! subscriptions whose filter matches ("Amazon SNS message filtering",
//! developer guide), so no reviewer receives another's token or link.

use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;
use hitl_domain::policy_flow::{MailError, ReviewerMailer, ReviewerMessage, TopicSubscription};

use crate::{ConfigError, required_env};

/// The environment variable that names the review topic (set by `template.yaml`).
pub const REVIEW_TOPIC_ENV: &str = "REVIEW_TOPIC_ARN";

/// The message attribute each reviewer's subscription filters on.
pub const REVIEWER_ATTRIBUTE: &str = "reviewer";

/// Publishes reviewer messages to the review topic.
#[derive(Debug, Clone)]
pub struct SnsReviewerMailer {
    client: Client,
    topic_arn: String,
}

impl SnsReviewerMailer {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    /// Reads [`REVIEW_TOPIC_ENV`] once, at cold start.
    pub fn from_env(config: &aws_https::SdkConfig) -> Result<Self, ConfigError> {
        let topic_arn = required_env(REVIEW_TOPIC_ENV, "the review topic's ARN")?;
        Ok(Self::new(Client::new(config), topic_arn))
    }
}

impl SnsReviewerMailer {
    /// The review topic's confirmed subscriptions with their filter policies
    /// (`ListSubscriptionsByTopic`, paged, then `GetSubscriptionAttributes`
    /// each). A subscription still `PendingConfirmation` has no ARN to read
    /// and receives nothing until confirmed, so it is left out.
    pub async fn subscriptions(&self) -> Result<Vec<TopicSubscription>, MailError> {
        let failed = |error: &dyn std::error::Error| MailError {
            reason: aws_sdk_sns::error::DisplayErrorContext(error).to_string(),
        };
        let mut found = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_subscriptions_by_topic()
                .topic_arn(&self.topic_arn)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|error| failed(&error))?;
            for subscription in page.subscriptions() {
                let Some(arn) = subscription
                    .subscription_arn()
                    .filter(|arn| arn.starts_with("arn:"))
                else {
                    continue;
                };
                let attributes = self
                    .client
                    .get_subscription_attributes()
                    .subscription_arn(arn)
                    .send()
                    .await
                    .map_err(|error| failed(&error))?;
                let attribute = |name: &str| {
                    attributes
                        .attributes()
                        .and_then(|a| a.get(name))
                        .filter(|v| !v.is_empty())
                        .cloned()
                };
                found.push(TopicSubscription {
                    protocol: subscription.protocol().unwrap_or_default().to_owned(),
                    endpoint: subscription.endpoint().unwrap_or_default().to_owned(),
                    filter_policy: attribute("FilterPolicy"),
                    filter_policy_scope: attribute("FilterPolicyScope"),
                });
            }
            match page.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(found),
            }
        }
    }
}

impl ReviewerMailer for SnsReviewerMailer {
    async fn send(&self, message: &ReviewerMessage) -> Result<(), MailError> {
        let reviewer = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(&message.to)
            .build()
            .map_err(|error| MailError {
                reason: error.to_string(),
            })?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&message.subject)
            .message(&message.body)
            .message_attributes(REVIEWER_ATTRIBUTE, reviewer)
            .send()
            .await
            .map(|_| ())
            // The context has SNS's code and message, never our message text.
            .map_err(|error| MailError {
                reason: aws_sdk_sns::error::DisplayErrorContext(&error).to_string(),
            })
    }
}
