//! `Publish`: validation, then one delivery per subscription whose filter
//! policy accepts the message.

use std::path::PathBuf;

use chrono::Utc;
use uuid::Uuid;

use super::notification::{DeliveryContext, email_body, json_notification, lambda_event};
use super::topics::TopicArn;
use super::{SNS_FROM_ADDRESS, SNS_FROM_NAME, SnsService, Subscription};
use crate::eml::{Email, write_atomically};
use crate::error::SnsError;
use crate::message::{DEFAULT_EMAIL_SUBJECT, PublishRequest, validate};

/// What happened to one subscription's copy of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Written to this `.eml` file.
    Written(PathBuf),
    /// Handed to the [`LambdaInvoker`](super::LambdaInvoker) (which runs on its own task).
    Invoked,
    /// The protocol is not delivered locally (only announced).
    NotDeliveredLocally,
    /// Writing failed; the publish still succeeded, as SNS delivers after accepting.
    Failed(String),
    /// The subscription's filter policy did not match the message.
    FilteredOut,
}

/// One subscription's delivery of a published message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The subscription delivered to.
    pub subscription_arn: String,
    /// Its protocol.
    pub protocol: String,
    /// Its endpoint.
    pub endpoint: String,
    /// The result.
    pub outcome: DeliveryOutcome,
}

/// The result of a publish: SNS's message id and what happened locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishOutput {
    /// `MessageId`, a UUID as SNS returns.
    pub message_id: String,
    /// One entry per subscription of the topic.
    pub deliveries: Vec<Delivery>,
}

impl SnsService {
    /// `Publish`: validates as SNS does, then delivers to every subscription of
    /// the topic before returning (SNS delivers after it answers; locally the
    /// outbox is complete when the call returns, which keeps tests simple).
    pub async fn publish(&self, request: PublishRequest) -> Result<PublishOutput, SnsError> {
        let message = validate(&request)?;
        let message_id = Uuid::new_v4().to_string();
        let Some(topic_arn) = request.topic_arn.as_deref() else {
            if let Some(phone) = &request.phone_number {
                self.announce(&format!(
                    "↷  SMS to {phone}: not delivered locally (message {message_id})"
                ));
                return Ok(PublishOutput {
                    message_id,
                    deliveries: Vec::new(),
                });
            }
            return Err(SnsError::invalid(
                "TopicArn or TargetArn Reason: no value for required parameter",
            ));
        };
        let (topic, subscriptions) = {
            let state = self.lock();
            let topic = match state.topic(topic_arn) {
                Ok(topic) => topic.clone(),
                Err(_) if TopicArn::parse(topic_arn).is_none() => {
                    return Err(SnsError::invalid("TopicArn"));
                }
                Err(not_found) => return Err(not_found),
            };
            let subscriptions: Vec<Subscription> = state
                .subscriptions
                .iter()
                .filter(|subscription| subscription.topic_arn == topic_arn)
                .cloned()
                .collect();
            (topic, subscriptions)
        };
        let context = DeliveryContext {
            message_id: &message_id,
            topic: &topic,
            // Links in emails name the topic's region; a spec ARN that is not
            // an SNS ARN (a placeholder) gets the configured one.
            region: TopicArn::parse(topic_arn)
                .map_or(self.config.region.as_str(), |arn| arn.region),
            subject: request.subject.as_deref(),
            message: &message,
            request: &request,
            timestamp: Utc::now(),
        };
        if subscriptions.is_empty() {
            // Otherwise a publish to a topic nobody subscribed to leaves no trace on the terminal.
            self.announce(&format!(
                "·  message {message_id} to topic {}: no subscriptions, nothing delivered",
                topic.name
            ));
        }
        let mut deliveries = Vec::with_capacity(subscriptions.len());
        for (index, subscription) in subscriptions.iter().enumerate() {
            let outcome = if subscription.accepts(&request) {
                self.deliver(&context, subscription, index + 1).await
            } else {
                tracing::debug!(subscription = %subscription.subscription_arn, message_id = %message_id, "filtered out");
                DeliveryOutcome::FilteredOut
            };
            deliveries.push(Delivery {
                subscription_arn: subscription.subscription_arn.clone(),
                protocol: subscription.protocol.clone(),
                endpoint: subscription.endpoint.clone(),
                outcome,
            });
        }
        tracing::debug!(topic = %topic_arn, message_id = %message_id, deliveries = deliveries.len(), "published");
        Ok(PublishOutput {
            message_id,
            deliveries,
        })
    }

    async fn deliver(
        &self,
        context: &DeliveryContext<'_>,
        subscription: &Subscription,
        index: usize,
    ) -> DeliveryOutcome {
        let protocol = subscription.protocol.as_str();
        let body = match protocol {
            "email" => email_body(context, subscription),
            "email-json" => json_notification(context, subscription),
            "lambda" if self.config.lambda_invoker.is_some() => {
                return self.invoke_lambda(context, subscription);
            }
            _ => {
                self.announce(&format!(
                    "↷  {protocol} subscription {} on topic {}: not delivered locally (message {})",
                    subscription.endpoint, context.topic.name, context.message_id
                ));
                return DeliveryOutcome::NotDeliveredLocally;
            }
        };
        let subject = context.subject.unwrap_or(DEFAULT_EMAIL_SUBJECT);
        let email = Email {
            from_name: context
                .topic
                .attributes
                .get("DisplayName")
                .filter(|name| !name.is_empty())
                .cloned()
                .unwrap_or_else(|| SNS_FROM_NAME.to_owned()),
            from_address: SNS_FROM_ADDRESS.to_owned(),
            to: subscription.endpoint.clone(),
            subject: subject.to_owned(),
            date: context.timestamp,
            message_id: format!("{}-{index}@sns.local", context.message_id),
            extra_headers: vec![
                (
                    "X-Amz-Sns-Message-Id".to_owned(),
                    context.message_id.to_owned(),
                ),
                ("X-Amz-Sns-Topic-Arn".to_owned(), context.topic.arn.clone()),
                (
                    "X-Amz-Sns-Subscription-Arn".to_owned(),
                    subscription.subscription_arn.clone(),
                ),
            ],
            body,
        };
        let file_name = format!(
            "{}-{}-{index}.eml",
            context.timestamp.format("%Y%m%dT%H%M%S%.3fZ"),
            context.message_id
        );
        match write_atomically(
            &self.config.outbox_dir,
            &file_name,
            email.render().as_bytes(),
        )
        .await
        {
            Ok(path) => {
                self.announce(&format!(
                    "✉  {protocol} to {}: \"{subject}\" -> {}",
                    subscription.endpoint,
                    path.display()
                ));
                DeliveryOutcome::Written(path)
            }
            Err(error) => {
                let reason = format!(
                    "could not write {}: {error}",
                    self.config.outbox_dir.display()
                );
                tracing::warn!(subscription = %subscription.subscription_arn, %reason, "email delivery failed");
                self.announce(&format!(
                    "✗  {protocol} to {} not delivered: {reason}",
                    subscription.endpoint
                ));
                DeliveryOutcome::Failed(reason)
            }
        }
    }

    fn invoke_lambda(
        &self,
        context: &DeliveryContext<'_>,
        subscription: &Subscription,
    ) -> DeliveryOutcome {
        let Some(invoker) = &self.config.lambda_invoker else {
            return DeliveryOutcome::NotDeliveredLocally;
        };
        let event = lambda_event(context, subscription);
        tokio::spawn(invoker(subscription.endpoint.clone(), event));
        self.announce(&format!(
            "λ  lambda {} invoked with message {} from topic {}",
            subscription.endpoint, context.message_id, context.topic.name
        ));
        DeliveryOutcome::Invoked
    }
}
