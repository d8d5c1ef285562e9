//! Subscriptions: `Subscribe`, `ConfirmSubscription`, `Unsubscribe`, the
//! listings, and their attributes (filter policies among them).

use std::collections::BTreeMap;

use uuid::Uuid;

use super::SnsService;
use super::topics::{TopicArn, owner_of};
use crate::error::SnsError;
use crate::filter::{FilterPolicy, Scope};
use crate::message::PublishRequest;

/// Protocols `Subscribe` accepts (SNS's list; only email ones are delivered locally).
pub(super) const PROTOCOLS: [&str; 9] = [
    "email",
    "email-json",
    "http",
    "https",
    "sqs",
    "lambda",
    "sms",
    "application",
    "firehose",
];

/// A subscription; every one is confirmed locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// `arn:aws:sns:REGION:ACCOUNT:TOPIC:UUID`.
    pub subscription_arn: String,
    /// The topic it belongs to.
    pub topic_arn: String,
    /// `email`, `email-json`, `sqs`, ...
    pub protocol: String,
    /// Address, queue ARN, URL, ...
    pub endpoint: String,
    /// Owning account.
    pub owner: String,
    /// Attributes set by `Subscribe` or `SetSubscriptionAttributes`
    /// (`FilterPolicy`, `FilterPolicyScope`, `RawMessageDelivery`, ...).
    pub attributes: BTreeMap<String, String>,
}

impl Subscription {
    /// The subscription's filter policy, if it has one. Policies are checked
    /// when set, so one that no longer parses (never expected) filters
    /// everything out rather than leaking messages.
    fn filter(&self) -> Option<Result<FilterPolicy, String>> {
        let text = self.attributes.get("FilterPolicy")?;
        if text.trim().is_empty() {
            return None;
        }
        let scope = self
            .attributes
            .get("FilterPolicyScope")
            .map_or(Ok(Scope::default()), |s| Scope::parse(s));
        Some(scope.and_then(|scope| FilterPolicy::parse(text, scope)))
    }

    /// Whether this subscription receives a message.
    pub(super) fn accepts(&self, request: &PublishRequest) -> bool {
        match self.filter() {
            None => true,
            Some(Ok(policy)) => policy.matches(&request.message_attributes, &request.message),
            Some(Err(reason)) => {
                tracing::warn!(subscription = %self.subscription_arn, %reason, "filter policy does not parse; message filtered out");
                false
            }
        }
    }
}

/// The subscription attributes SNS lets a caller set.
const SUBSCRIPTION_ATTRIBUTES: [&str; 7] = [
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];

/// Checks attributes as `Subscribe` and `SetSubscriptionAttributes` do.
pub(super) fn check_subscription_attributes(
    attributes: &BTreeMap<String, String>,
) -> Result<(), SnsError> {
    for name in attributes.keys() {
        if !SUBSCRIPTION_ATTRIBUTES.contains(&name.as_str()) {
            return Err(SnsError::invalid(&format!(
                "Attributes Reason: Unknown attribute {name}; settable: {}",
                SUBSCRIPTION_ATTRIBUTES.join(", ")
            )));
        }
    }
    let scope = match attributes.get("FilterPolicyScope") {
        None => Scope::default(),
        Some(text) => Scope::parse(text).map_err(|reason| SnsError::invalid(&reason))?,
    };
    if let Some(policy) = attributes
        .get("FilterPolicy")
        .filter(|p| !p.trim().is_empty())
    {
        FilterPolicy::parse(policy, scope)
            .map_err(|reason| SnsError::invalid(&format!("FilterPolicy: {reason}")))?;
    }
    if let Some(raw) = attributes.get("RawMessageDelivery")
        && !matches!(raw.as_str(), "true" | "false")
    {
        return Err(SnsError::invalid(&format!(
            "Attributes Reason: RawMessageDelivery: Invalid value [{raw}]. Must be true or false."
        )));
    }
    Ok(())
}

impl SnsService {
    /// `ListSubscriptions`: every subscription.
    pub fn list_subscriptions(&self) -> Vec<Subscription> {
        self.lock().subscriptions.clone()
    }

    /// `ListSubscriptionsByTopic`.
    pub fn list_subscriptions_by_topic(
        &self,
        topic_arn: &str,
    ) -> Result<Vec<Subscription>, SnsError> {
        let state = self.lock();
        state.topic(topic_arn)?;
        Ok(state
            .subscriptions
            .iter()
            .filter(|subscription| subscription.topic_arn == topic_arn)
            .cloned()
            .collect())
    }

    /// `Subscribe`: confirmed at once (locally there is no confirmation email),
    /// and announced; subscribing the same endpoint twice returns the same ARN,
    /// unless the attributes differ, which SNS refuses.
    pub fn subscribe(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<String, SnsError> {
        TopicArn::parse(topic_arn).ok_or_else(|| SnsError::invalid("TopicArn"))?;
        if !PROTOCOLS.contains(&protocol) {
            return Err(SnsError::invalid(&format!(
                "Amazon SNS does not support this protocol string: {protocol}"
            )));
        }
        if protocol.starts_with("email") && !endpoint.contains('@') {
            return Err(SnsError::invalid("Email address"));
        }
        check_subscription_attributes(&attributes)?;
        {
            let state = self.lock();
            state.topic(topic_arn)?;
            if let Some(existing) = state.subscriptions.iter().find(|subscription| {
                subscription.topic_arn == topic_arn
                    && subscription.protocol == protocol
                    && subscription.endpoint == endpoint
            }) {
                if existing.attributes != attributes {
                    return Err(SnsError::invalid(
                        "Subscription already exists with different attributes",
                    ));
                }
                return Ok(existing.subscription_arn.clone());
            }
        }
        Ok(self.add_subscription(topic_arn, protocol, endpoint, attributes))
    }

    pub(super) fn add_subscription(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
        attributes: BTreeMap<String, String>,
    ) -> String {
        let subscription = Subscription {
            subscription_arn: format!("{topic_arn}:{}", Uuid::new_v4()),
            topic_arn: topic_arn.to_owned(),
            protocol: protocol.to_owned(),
            endpoint: endpoint.to_owned(),
            owner: owner_of(topic_arn, &self.config.account_id),
            attributes,
        };
        let arn = subscription.subscription_arn.clone();
        let topic_name = topic_arn.rsplit(':').next().unwrap_or(topic_arn).to_owned();
        self.lock().subscriptions.push(subscription);
        if protocol.starts_with("email") {
            self.announce(&format!(
                "✓  {protocol} subscription {endpoint} to topic {topic_name} confirmed automatically (local mode sends no confirmation email)"
            ));
        }
        arn
    }

    /// `ConfirmSubscription`: every subscription is already confirmed, so any
    /// token is accepted. Returns the subscription whose ARN is the token, else
    /// the topic's newest subscription.
    pub fn confirm_subscription(&self, topic_arn: &str, token: &str) -> Result<String, SnsError> {
        let state = self.lock();
        state.topic(topic_arn)?;
        let on_topic = || {
            state
                .subscriptions
                .iter()
                .filter(|s| s.topic_arn == topic_arn)
        };
        on_topic()
            .find(|subscription| subscription.subscription_arn == token)
            .or_else(|| on_topic().next_back())
            .map(|subscription| subscription.subscription_arn.clone())
            .ok_or_else(|| SnsError::invalid("Token"))
    }

    /// `Unsubscribe`: removing a subscription that does not exist succeeds.
    pub fn unsubscribe(&self, subscription_arn: &str) -> Result<(), SnsError> {
        let removed = {
            let mut state = self.lock();
            let before = state.subscriptions.len();
            state
                .subscriptions
                .retain(|subscription| subscription.subscription_arn != subscription_arn);
            state.subscriptions.len() < before
        };
        // Announce without the lock: the callback may call back into the service.
        if removed {
            self.announce(&format!("✓  unsubscribed {subscription_arn}"));
        }
        Ok(())
    }

    /// `GetSubscriptionAttributes`: `PendingConfirmation` is always `false` locally.
    pub fn subscription_attributes(
        &self,
        subscription_arn: &str,
    ) -> Result<BTreeMap<String, String>, SnsError> {
        let state = self.lock();
        let subscription = state
            .subscriptions
            .iter()
            .find(|subscription| subscription.subscription_arn == subscription_arn)
            .ok_or_else(|| SnsError::NotFound("Subscription does not exist".to_owned()))?;
        let mut attributes = BTreeMap::from([
            (
                "SubscriptionArn".to_owned(),
                subscription.subscription_arn.clone(),
            ),
            ("TopicArn".to_owned(), subscription.topic_arn.clone()),
            ("Protocol".to_owned(), subscription.protocol.clone()),
            ("Endpoint".to_owned(), subscription.endpoint.clone()),
            ("Owner".to_owned(), subscription.owner.clone()),
            ("PendingConfirmation".to_owned(), "false".to_owned()),
            ("ConfirmationWasAuthenticated".to_owned(), "true".to_owned()),
            ("RawMessageDelivery".to_owned(), "false".to_owned()),
        ]);
        attributes.extend(
            subscription
                .attributes
                .iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        // SNS reports the scope of a policy, the default one included.
        if attributes.contains_key("FilterPolicy") {
            attributes
                .entry("FilterPolicyScope".to_owned())
                .or_insert_with(|| Scope::default().as_str().to_owned());
        } else {
            attributes.remove("FilterPolicyScope");
        }
        Ok(attributes)
    }

    /// `SetSubscriptionAttributes`: an empty `FilterPolicy` removes the policy.
    pub fn set_subscription_attribute(
        &self,
        subscription_arn: &str,
        name: &str,
        value: &str,
    ) -> Result<(), SnsError> {
        if !SUBSCRIPTION_ATTRIBUTES.contains(&name) {
            return Err(SnsError::invalid("AttributeName"));
        }
        let mut state = self.lock();
        let subscription = state
            .subscriptions
            .iter_mut()
            .find(|subscription| subscription.subscription_arn == subscription_arn)
            .ok_or_else(|| SnsError::NotFound("Subscription does not exist".to_owned()))?;
        let mut attributes = subscription.attributes.clone();
        attributes.insert(name.to_owned(), value.to_owned());
        if attributes
            .get("FilterPolicy")
            .is_none_or(|p| p.trim().is_empty())
        {
            attributes.remove("FilterPolicy");
        }
        check_subscription_attributes(&attributes)?;
        subscription.attributes = attributes;
        Ok(())
    }
}
