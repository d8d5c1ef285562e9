//! The SNS adapter for [`DecisionPublisher`].

use aws_sdk_sns::Client;
use hitl_domain::{DecisionNotice, DecisionPublisher, PublishError};
use thiserror::Error;

/// The environment variable that names the decision topic (set by `template.yaml`).
pub const TOPIC_ENV: &str = "DECISION_TOPIC_ARN";

/// A configuration problem found at cold start.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error(
        "{TOPIC_ENV} is not set: deploy the function with template.yaml, which sets it to the decision topic's ARN"
    )]
    MissingTopic,
}

/// Publishes decision notices to one SNS topic.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: Client,
    topic_arn: String,
}

impl SnsPublisher {
    /// Reads the topic ARN once, at cold start, so a misconfigured function
    /// fails its init instead of every invocation.
    pub fn from_env(config: &aws_https::SdkConfig) -> Result<Self, ConfigError> {
        let topic_arn = std::env::var(TOPIC_ENV)
            .ok()
            .filter(|arn| !arn.is_empty())
            .ok_or(ConfigError::MissingTopic)?;
        Ok(Self {
            client: Client::new(config),
            topic_arn,
        })
    }
}

impl DecisionPublisher for SnsPublisher {
    async fn publish(&self, notice: &DecisionNotice) -> Result<(), PublishError> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&notice.subject)
            .message(&notice.message)
            .message_structure("json")
            .send()
            .await
            .map(|_| ())
            // The SDK error's Display is "service error"; its source chain has
            // the code and message SNS sent, which never include our payload.
            .map_err(|error| PublishError {
                reason: aws_sdk_sns::error::DisplayErrorContext(&error).to_string(),
            })
    }
}
