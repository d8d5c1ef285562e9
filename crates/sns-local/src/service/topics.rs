//! Topics: `CreateTopic`, `DeleteTopic`, `ListTopics` and their attributes.

use std::collections::BTreeMap;

use super::{SnsService, Topic};
use crate::error::SnsError;

impl SnsService {
    /// `ListTopics`: every topic's ARN, in creation order.
    pub fn list_topics(&self) -> Vec<String> {
        self.lock()
            .topics
            .iter()
            .map(|topic| topic.arn.clone())
            .collect()
    }

    /// `CreateTopic`: idempotent; returns the topic's ARN in the configured region and account.
    pub fn create_topic(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<String, SnsError> {
        let base = name.strip_suffix(".fifo").unwrap_or(name);
        let valid = !base.is_empty()
            && name.len() <= 256
            && base
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(SnsError::invalid("Topic Name"));
        }
        let arn = format!(
            "arn:aws:sns:{}:{}:{name}",
            self.config.region, self.config.account_id
        );
        let mut state = self.lock();
        if let Some(topic) = state.topics.iter_mut().find(|topic| topic.arn == arn) {
            // SNS answers an identical CreateTopic with the existing ARN.
            topic.attributes.extend(attributes);
        } else {
            state.topics.push(Topic {
                name: name.to_owned(),
                arn: arn.clone(),
                attributes,
            });
        }
        Ok(arn)
    }

    /// `DeleteTopic`: removes the topic and its subscriptions; deleting a missing topic succeeds.
    pub fn delete_topic(&self, topic_arn: &str) -> Result<(), SnsError> {
        TopicArn::parse(topic_arn).ok_or_else(|| SnsError::invalid("TopicArn"))?;
        let mut state = self.lock();
        state.topics.retain(|topic| topic.arn != topic_arn);
        state
            .subscriptions
            .retain(|subscription| subscription.topic_arn != topic_arn);
        Ok(())
    }

    /// `GetTopicAttributes`.
    pub fn topic_attributes(&self, topic_arn: &str) -> Result<BTreeMap<String, String>, SnsError> {
        let state = self.lock();
        let topic = state.topic(topic_arn)?;
        let confirmed = state
            .subscriptions
            .iter()
            .filter(|subscription| subscription.topic_arn == topic_arn)
            .count();
        let mut attributes = BTreeMap::from([
            ("TopicArn".to_owned(), topic.arn.clone()),
            (
                "Owner".to_owned(),
                owner_of(&topic.arn, &self.config.account_id),
            ),
            ("DisplayName".to_owned(), String::new()),
            ("SubscriptionsConfirmed".to_owned(), confirmed.to_string()),
            ("SubscriptionsPending".to_owned(), "0".to_owned()),
            ("SubscriptionsDeleted".to_owned(), "0".to_owned()),
        ]);
        attributes.extend(topic.attributes.clone());
        Ok(attributes)
    }

    /// `SetTopicAttributes` (`DisplayName` changes the email sender's name).
    pub fn set_topic_attribute(
        &self,
        topic_arn: &str,
        name: &str,
        value: &str,
    ) -> Result<(), SnsError> {
        let mut state = self.lock();
        let topic = state
            .topics
            .iter_mut()
            .find(|topic| topic.arn == topic_arn)
            .ok_or_else(SnsError::topic_not_found)?;
        topic.attributes.insert(name.to_owned(), value.to_owned());
        Ok(())
    }
}

/// The account in a topic ARN, else the configured one.
pub(super) fn owner_of(topic_arn: &str, fallback: &str) -> String {
    TopicArn::parse(topic_arn).map_or_else(|| fallback.to_owned(), |arn| arn.account.to_owned())
}

/// `arn:PARTITION:sns:REGION:ACCOUNT:NAME`.
pub(super) struct TopicArn<'a> {
    pub(super) region: &'a str,
    pub(super) account: &'a str,
}

impl<'a> TopicArn<'a> {
    pub(super) fn parse(arn: &'a str) -> Option<Self> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "sns", region, account, name] if !region.is_empty() && !name.is_empty() => {
                Some(Self { region, account })
            }
            _ => None,
        }
    }
}
