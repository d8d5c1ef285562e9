//! The local SNS: topics, auto-confirmed subscriptions, and deliveries.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::eml::{Email, write_atomically};
use crate::error::SnsError;
use crate::filter::{FilterPolicy, Scope};
use crate::message::{DEFAULT_EMAIL_SUBJECT, PublishRequest, ValidatedMessage, validate};

/// Receives one line for the terminal (a delivery, an auto-confirmation, a notice).
pub type Announce = Arc<dyn Fn(&str) + Send + Sync>;

/// Invokes a Lambda function for a `lambda` subscription, given the function
/// ARN (the subscription's endpoint) and SNS's Lambda event
/// (`{"Records":[{"EventSource":"aws:sns",...,"Sns":{...}}]}`). SNS invokes
/// asynchronously, so the future runs on its own task and the publish does not wait.
pub type LambdaInvoker = Arc<
    dyn Fn(String, serde_json::Value) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync,
>;

/// Sender address SNS email notifications come from.
pub const SNS_FROM_ADDRESS: &str = "no-reply@sns.amazonaws.com";

/// Sender display name when the topic has no `DisplayName`.
pub const SNS_FROM_NAME: &str = "AWS Notifications";

/// Protocols `Subscribe` accepts (SNS's list; only email ones are delivered locally).
const PROTOCOLS: [&str; 9] = [
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

/// Where the service writes and whom it tells.
#[derive(Clone)]
pub struct SnsConfig {
    /// Directory for `.eml` files, e.g. `<state-dir>/outbox`; created on first delivery.
    pub outbox_dir: PathBuf,
    /// Region for topics made by `CreateTopic` and for links in emails.
    pub region: String,
    /// Account for topics made by `CreateTopic` and subscription owners.
    pub account_id: String,
    /// Terminal lines: deliveries, auto-confirmations, protocols not delivered locally.
    pub announce: Announce,
    /// Delivers `lambda` subscriptions when set; without it they are only announced.
    pub lambda_invoker: Option<LambdaInvoker>,
}

impl SnsConfig {
    /// A configuration that announces on stderr, the local-mode terminal.
    pub fn new(
        outbox_dir: impl Into<PathBuf>,
        region: impl Into<String>,
        account_id: impl Into<String>,
    ) -> Self {
        Self {
            outbox_dir: outbox_dir.into(),
            region: region.into(),
            account_id: account_id.into(),
            announce: Arc::new(|line: &str| eprintln!("{line}")),
            lambda_invoker: None,
        }
    }

    /// Sends terminal lines to `announce` instead (a channel, a test's buffer).
    #[must_use]
    pub fn with_announce(mut self, announce: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.announce = Arc::new(announce);
        self
    }
}

impl SnsConfig {
    /// Delivers `lambda` subscriptions through `invoker` (local mode's Lambda host).
    #[must_use]
    pub fn with_lambda_invoker<F, Fut>(mut self, invoker: F) -> Self
    where
        F: Fn(String, serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.lambda_invoker = Some(Arc::new(move |function, event| {
            Box::pin(invoker(function, event))
        }));
        self
    }

    /// Sends terminal lines into a channel (local mode's terminal task reads it);
    /// lines sent after the receiver is dropped are discarded.
    #[must_use]
    pub fn with_channel(self, sender: tokio::sync::mpsc::UnboundedSender<String>) -> Self {
        self.with_announce(move |line| {
            let _ = sender.send(line.to_owned());
        })
    }
}

impl fmt::Debug for SnsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnsConfig")
            .field("outbox_dir", &self.outbox_dir)
            .field("region", &self.region)
            .field("account_id", &self.account_id)
            .field("lambda_invoker", &self.lambda_invoker.is_some())
            .finish_non_exhaustive()
    }
}

/// A topic that exists from the start (local mode reads them from `template.yaml`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicSpec {
    /// Topic name (the ARN's last part).
    pub name: String,
    /// Topic ARN, as the state machine and Lambdas are given it.
    pub arn: String,
    /// `DisplayName`: the email sender's name when set.
    pub display_name: Option<String>,
    /// The topic's subscriptions.
    pub subscriptions: Vec<SubscriptionSpec>,
}

/// A subscription that exists from the start.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscriptionSpec {
    /// `email`, `email-json`, `lambda`, ...
    pub protocol: String,
    /// Address, function ARN, ...
    pub endpoint: String,
    /// Subscription attributes, as `SetSubscriptionAttributes` takes them
    /// (`FilterPolicy`, `FilterPolicyScope`, `RawMessageDelivery`).
    pub attributes: BTreeMap<String, String>,
}

impl TopicSpec {
    /// A topic with no subscriptions.
    pub fn new(name: impl Into<String>, arn: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            arn: arn.into(),
            ..Self::default()
        }
    }

    /// Adds a subscription.
    #[must_use]
    pub fn with_subscription(
        mut self,
        protocol: impl Into<String>,
        endpoint: impl Into<String>,
    ) -> Self {
        self.subscriptions.push(SubscriptionSpec {
            protocol: protocol.into(),
            endpoint: endpoint.into(),
            attributes: BTreeMap::new(),
        });
        self
    }

    /// Adds a subscription with attributes, checked as `Subscribe` checks
    /// them (a template's `FilterPolicy` that SNS would refuse is refused here).
    pub fn with_subscription_attributes(
        mut self,
        protocol: impl Into<String>,
        endpoint: impl Into<String>,
        attributes: BTreeMap<String, String>,
    ) -> Result<Self, SnsError> {
        check_subscription_attributes(&attributes)?;
        self.subscriptions.push(SubscriptionSpec {
            protocol: protocol.into(),
            endpoint: endpoint.into(),
            attributes,
        });
        Ok(self)
    }
}

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
    fn accepts(&self, request: &PublishRequest) -> bool {
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
fn check_subscription_attributes(attributes: &BTreeMap<String, String>) -> Result<(), SnsError> {
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

/// What happened to one subscription's copy of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Written to this `.eml` file.
    Written(PathBuf),
    /// Handed to the [`LambdaInvoker`] (which runs on its own task).
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

#[derive(Debug, Clone)]
struct Topic {
    name: String,
    arn: String,
    attributes: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct State {
    topics: Vec<Topic>,
    subscriptions: Vec<Subscription>,
}

impl State {
    fn topic(&self, arn: &str) -> Result<&Topic, SnsError> {
        self.topics
            .iter()
            .find(|topic| topic.arn == arn)
            .ok_or_else(SnsError::topic_not_found)
    }
}

/// The local SNS. Share it (`Arc`) between the HTTP router and in-process callers.
pub struct SnsService {
    config: SnsConfig,
    state: Mutex<State>,
}

impl fmt::Debug for SnsService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnsService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SnsService {
    /// Creates the topics and their subscriptions; email subscriptions are
    /// confirmed at once, and each confirmation is announced.
    pub fn new(config: SnsConfig, topics: Vec<TopicSpec>) -> Self {
        let service = Self {
            config,
            state: Mutex::new(State::default()),
        };
        for spec in topics {
            let mut attributes = BTreeMap::new();
            if let Some(display_name) = spec.display_name {
                attributes.insert("DisplayName".to_owned(), display_name);
            }
            {
                let mut state = service.lock();
                match state.topics.iter_mut().find(|topic| topic.arn == spec.arn) {
                    // The same topic twice: one topic with both specs' subscriptions.
                    Some(topic) => topic.attributes.extend(attributes),
                    None => state.topics.push(Topic {
                        name: spec.name,
                        arn: spec.arn.clone(),
                        attributes,
                    }),
                }
            }
            for subscription in spec.subscriptions {
                // The spec is ours, not a request: add it as given (its attributes
                // were checked by `TopicSpec::with_subscription_attributes`).
                service.add_subscription(
                    &spec.arn,
                    &subscription.protocol,
                    &subscription.endpoint,
                    subscription.attributes,
                );
            }
        }
        service
    }

    /// The configuration.
    pub fn config(&self) -> &SnsConfig {
        &self.config
    }

    /// Where `.eml` files go.
    pub fn outbox_dir(&self) -> &Path {
        &self.config.outbox_dir
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn announce(&self, line: &str) {
        (self.config.announce)(line);
    }

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

    /// `ListTopics`: every topic's ARN, in creation order.
    pub fn list_topics(&self) -> Vec<String> {
        self.lock()
            .topics
            .iter()
            .map(|topic| topic.arn.clone())
            .collect()
    }

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

    fn add_subscription(
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

/// The account in a topic ARN, else the configured one.
fn owner_of(topic_arn: &str, fallback: &str) -> String {
    TopicArn::parse(topic_arn).map_or_else(|| fallback.to_owned(), |arn| arn.account.to_owned())
}

/// `arn:PARTITION:sns:REGION:ACCOUNT:NAME`.
struct TopicArn<'a> {
    region: &'a str,
    account: &'a str,
}

impl<'a> TopicArn<'a> {
    fn parse(arn: &'a str) -> Option<Self> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "sns", region, account, name] if !region.is_empty() && !name.is_empty() => {
                Some(Self { region, account })
            }
            _ => None,
        }
    }
}

struct DeliveryContext<'a> {
    message_id: &'a str,
    topic: &'a Topic,
    region: &'a str,
    subject: Option<&'a str>,
    message: &'a ValidatedMessage,
    request: &'a PublishRequest,
    timestamp: DateTime<Utc>,
}

/// The text of an `email` delivery: the message, then SNS's footer with the
/// unsubscribe link. The footer is SNS's, as seen in delivered notifications:
///
/// ```text
/// <message>
///
/// --
/// If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:
/// https://sns.<region>.amazonaws.com/unsubscribe.html?SubscriptionArn=<arn>&Endpoint=<address>
///
/// Please do not reply directly to this email. If you have any questions or comments regarding this email, please contact us at https://aws.amazon.com/support
/// ```
fn email_body(context: &DeliveryContext<'_>, subscription: &Subscription) -> String {
    format!(
        "{message}\n\n--\n\
         If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n\
         https://sns.{region}.amazonaws.com/unsubscribe.html?SubscriptionArn={arn}&Endpoint={endpoint}\n\n\
         Please do not reply directly to this email. If you have any questions or comments regarding this email, please contact us at https://aws.amazon.com/support\n",
        message = context.message.for_protocol("email"),
        region = context.region,
        arn = subscription.subscription_arn,
        endpoint = subscription.endpoint,
    )
}

/// The body of an `email-json` delivery: SNS's JSON notification document
/// (the fields of the HTTP/S notification format, printed as SNS prints them,
/// `"Key" : value`). Locally nothing is signed, and `Signature` says so.
fn json_notification(context: &DeliveryContext<'_>, subscription: &Subscription) -> String {
    let quote = |text: &str| serde_json::Value::from(text).to_string();
    let mut fields: Vec<(&str, String)> = vec![
        ("Type", quote("Notification")),
        ("MessageId", quote(context.message_id)),
        ("TopicArn", quote(&context.topic.arn)),
    ];
    if let Some(subject) = context.subject {
        fields.push(("Subject", quote(subject)));
    }
    fields.extend([
        ("Message", quote(context.message.for_protocol("email-json"))),
        (
            "Timestamp",
            quote(
                &context
                    .timestamp
                    .to_rfc3339_opts(SecondsFormat::Millis, true),
            ),
        ),
        ("SignatureVersion", quote("1")),
        ("Signature", quote("UNSIGNED-LOCAL")),
        ("SigningCertURL", quote("")),
        (
            "UnsubscribeURL",
            quote(&format!(
                "https://sns.{}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={}",
                context.region, subscription.subscription_arn
            )),
        ),
    ]);
    if !context.request.message_attributes.is_empty() {
        fields.push((
            "MessageAttributes",
            notification_attributes(context).to_string(),
        ));
    }
    let lines: Vec<String> = fields
        .into_iter()
        .map(|(key, value)| format!("  \"{key}\" : {value}"))
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

/// Message attributes as notifications carry them: `{"name":{"Type":..,"Value":..}}`.
fn notification_attributes(context: &DeliveryContext<'_>) -> serde_json::Value {
    let attributes: serde_json::Map<String, serde_json::Value> = context
        .request
        .message_attributes
        .iter()
        .map(|(name, value)| {
            let text = value
                .string_value
                .clone()
                .or_else(|| value.binary_value.clone())
                .unwrap_or_default();
            (
                name.clone(),
                serde_json::json!({ "Type": value.data_type, "Value": text }),
            )
        })
        .collect();
    serde_json::Value::Object(attributes)
}

/// SNS's event for a Lambda subscription (the `SNSEvent` shape: `Records[].Sns`,
/// with `SigningCertUrl`/`UnsubscribeUrl` spelled as in that event).
fn lambda_event(context: &DeliveryContext<'_>, subscription: &Subscription) -> serde_json::Value {
    serde_json::json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription.subscription_arn,
            "Sns": {
                "Type": "Notification",
                "MessageId": context.message_id,
                "TopicArn": context.topic.arn,
                "Subject": context.subject,
                "Message": context.message.for_protocol("lambda"),
                "Timestamp": context.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true),
                "SignatureVersion": "1",
                "Signature": "UNSIGNED-LOCAL",
                "SigningCertUrl": "",
                "UnsubscribeUrl": format!(
                    "https://sns.{}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={}",
                    context.region, subscription.subscription_arn
                ),
                "MessageAttributes": notification_attributes(context),
            }
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eml::read_eml;

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:review-requests";

    fn service(dir: &Path) -> (SnsService, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let config = SnsConfig::new(dir.join("outbox"), "us-east-1", "123456789012")
            .with_announce(move |line| sink.lock().expect("lines").push(line.to_owned()));
        let topics = vec![
            TopicSpec::new("review-requests", TOPIC)
                .with_subscription("email", "reviewer@example.com")
                .with_subscription("sqs", "arn:aws:sqs:us-east-1:123456789012:audit"),
        ];
        (SnsService::new(config, topics), lines)
    }

    fn written(output: &PublishOutput) -> Vec<PathBuf> {
        output
            .deliveries
            .iter()
            .filter_map(|delivery| match &delivery.outcome {
                DeliveryOutcome::Written(path) => Some(path.clone()),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn email_subscriptions_are_confirmed_and_announced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (sns, lines) = service(dir.path());
        let subscriptions = sns.list_subscriptions_by_topic(TOPIC).expect("topic");
        assert_eq!(subscriptions.len(), 2);
        assert!(
            subscriptions[0]
                .subscription_arn
                .starts_with(&format!("{TOPIC}:"))
        );
        let attributes = sns
            .subscription_attributes(&subscriptions[0].subscription_arn)
            .expect("subscription");
        assert_eq!(attributes["PendingConfirmation"], "false");
        let lines = lines.lock().expect("lines");
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].contains("reviewer@example.com")
                && lines[0].contains("confirmed automatically")
        );
    }

    #[tokio::test]
    async fn publish_writes_one_eml_per_email_subscription_and_announces_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (sns, lines) = service(dir.path());
        let token = "AQB".repeat(340);
        let output = sns
            .publish(PublishRequest {
                topic_arn: Some(TOPIC.into()),
                subject: Some("Review requested: run-1".into()),
                message: format!("Please review.\n\nTask token: {token}\n"),
                ..PublishRequest::default()
            })
            .await
            .expect("publish");
        let paths = written(&output);
        assert_eq!(paths.len(), 1);
        assert_eq!(
            output.deliveries[1].outcome,
            DeliveryOutcome::NotDeliveredLocally
        );
        let name = paths[0]
            .file_name()
            .and_then(|name| name.to_str())
            .expect("name");
        assert!(
            name.ends_with(&format!("-{}-1.eml", output.message_id)),
            "{name}"
        );
        assert_eq!(
            name.len(),
            "20261125T120000.123Z-".len() + 36 + "-1.eml".len()
        );
        let email = read_eml(&paths[0]).expect("eml");
        assert_eq!(email.subject().as_deref(), Some("Review requested: run-1"));
        assert_eq!(email.header("To"), Some("reviewer@example.com"));
        assert_eq!(
            email.header("From"),
            Some("AWS Notifications <no-reply@sns.amazonaws.com>")
        );
        let token_line = email
            .body
            .lines()
            .find_map(|line| line.strip_prefix("Task token: "));
        assert_eq!(token_line, Some(token.as_str()));
        assert!(email.body.starts_with("Please review.\n\nTask token: "));
        assert!(email.body.contains(&format!(
            "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n\
             https://sns.us-east-1.amazonaws.com/unsubscribe.html?SubscriptionArn={}&Endpoint=reviewer@example.com\n",
            output.deliveries[0].subscription_arn
        )));
        let lines = lines.lock().expect("lines");
        let announced = format!(
            "✉  email to reviewer@example.com: \"Review requested: run-1\" -> {}",
            paths[0].display()
        );
        assert!(lines.contains(&announced), "{lines:?}");
        assert!(lines.iter().any(
            |line| line.contains("sqs subscription") && line.contains("not delivered locally")
        ));
        let leftovers: Vec<_> = std::fs::read_dir(sns.outbox_dir())
            .expect("outbox")
            .filter_map(Result::ok)
            .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[tokio::test]
    async fn json_structure_sends_the_email_key_and_default_subject() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (sns, _) = service(dir.path());
        let output = sns
            .publish(PublishRequest {
                topic_arn: Some(TOPIC.into()),
                message: r#"{"default":"short","email":"Approved by ana"}"#.into(),
                message_structure: Some("json".into()),
                ..PublishRequest::default()
            })
            .await
            .expect("publish");
        let email = read_eml(&written(&output)[0]).expect("eml");
        assert_eq!(email.subject().as_deref(), Some(DEFAULT_EMAIL_SUBJECT));
        assert!(email.body.starts_with("Approved by ana\n\n--\n"));
    }

    #[tokio::test]
    async fn email_json_gets_the_notification_document() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (sns, _) = service(dir.path());
        sns.subscribe(TOPIC, "email-json", "robot@example.com", BTreeMap::new())
            .expect("subscribe");
        let output = sns
            .publish(PublishRequest {
                topic_arn: Some(TOPIC.into()),
                subject: Some("Decision".into()),
                message: r#"{"default":"plain","email-json":"for robots"}"#.into(),
                message_structure: Some("json".into()),
                ..PublishRequest::default()
            })
            .await
            .expect("publish");
        let paths = written(&output);
        assert_eq!(paths.len(), 2);
        let email = read_eml(&paths[1]).expect("eml");
        assert_eq!(email.header("To"), Some("robot@example.com"));
        let notification: serde_json::Value = serde_json::from_str(&email.body).expect("json body");
        assert_eq!(notification["Type"], "Notification");
        assert_eq!(notification["MessageId"], output.message_id.as_str());
        assert_eq!(notification["TopicArn"], TOPIC);
        assert_eq!(notification["Subject"], "Decision");
        assert_eq!(notification["Message"], "for robots");
        assert!(
            email
                .body
                .starts_with("{\n  \"Type\" : \"Notification\",\n")
        );
    }

    #[tokio::test]
    async fn display_name_is_the_sender_and_empty_topics_are_announced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let config = SnsConfig::new(dir.path().join("outbox"), "us-east-1", "123456789012")
            .with_announce(move |line| sink.lock().expect("lines").push(line.to_owned()));
        let mut review = TopicSpec::new("review", "arn:aws:sns:us-east-1:123456789012:review")
            .with_subscription("email", "r@example.com");
        review.display_name = Some("Review requests".into());
        let decisions = TopicSpec::new("decisions", "arn:aws:sns:us-east-1:123456789012:decisions");
        let sns = SnsService::new(config, vec![review, decisions]);
        let publish = |topic: &str| PublishRequest {
            topic_arn: Some(format!("arn:aws:sns:us-east-1:123456789012:{topic}")),
            message: "x".into(),
            ..PublishRequest::default()
        };
        let output = sns.publish(publish("review")).await.expect("publish");
        let email = read_eml(&written(&output)[0]).expect("eml");
        assert_eq!(
            email.header("From"),
            Some("Review requests <no-reply@sns.amazonaws.com>")
        );
        let output = sns.publish(publish("decisions")).await.expect("publish");
        assert!(output.deliveries.is_empty());
        let lines = lines.lock().expect("lines");
        assert!(
            lines
                .last()
                .is_some_and(|line| line.contains("topic decisions: no subscriptions")),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn announcements_can_go_to_a_channel() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let config = SnsConfig::new(dir.path().join("outbox"), "us-east-1", "123456789012")
            .with_channel(sender);
        let _sns = SnsService::new(
            config,
            vec![
                TopicSpec::new("t", "arn:aws:sns:us-east-1:123456789012:t")
                    .with_subscription("email", "a@example.com"),
            ],
        );
        let line = receiver.recv().await.expect("line");
        assert!(
            line.starts_with(
                "✓  email subscription a@example.com to topic t confirmed automatically"
            ),
            "{line}"
        );
    }

    #[tokio::test]
    async fn lambda_subscriptions_go_to_the_invoker_when_there_is_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let config = SnsConfig::new(dir.path().join("outbox"), "us-east-1", "123456789012")
            .with_announce(|_| {})
            .with_lambda_invoker(move |function, event| {
                let sender = sender.clone();
                async move {
                    let _ = sender.send((function, event));
                }
            });
        let function = "arn:aws:lambda:us-east-1:123456789012:function:audit";
        let sns = SnsService::new(
            config,
            vec![
                TopicSpec::new("t", "arn:aws:sns:us-east-1:123456789012:t")
                    .with_subscription("lambda", function),
            ],
        );
        let output = sns
            .publish(PublishRequest {
                topic_arn: Some("arn:aws:sns:us-east-1:123456789012:t".into()),
                message: r#"{"default":"d","lambda":"for the function"}"#.into(),
                message_structure: Some("json".into()),
                ..PublishRequest::default()
            })
            .await
            .expect("publish");
        assert_eq!(output.deliveries[0].outcome, DeliveryOutcome::Invoked);
        let (invoked, event) = receiver.recv().await.expect("invocation");
        assert_eq!(invoked, function);
        let record = &event["Records"][0];
        assert_eq!(record["EventSource"], "aws:sns");
        assert_eq!(
            record["EventSubscriptionArn"],
            output.deliveries[0].subscription_arn.as_str()
        );
        assert_eq!(record["Sns"]["Message"], "for the function");
        assert_eq!(record["Sns"]["MessageId"], output.message_id.as_str());
        assert_eq!(record["Sns"]["Subject"], serde_json::Value::Null);
    }

    #[tokio::test]
    async fn publish_errors_are_snss() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (sns, _) = service(dir.path());
        let publish = |topic: Option<&str>| PublishRequest {
            topic_arn: topic.map(str::to_owned),
            message: "x".into(),
            ..PublishRequest::default()
        };
        let missing = sns
            .publish(publish(Some("arn:aws:sns:us-east-1:123456789012:nope")))
            .await
            .expect_err("missing topic");
        assert_eq!(
            (missing.code(), missing.to_string().as_str()),
            ("NotFound", "Topic does not exist")
        );
        let malformed = sns
            .publish(publish(Some("nope")))
            .await
            .expect_err("bad arn");
        assert_eq!(malformed.to_string(), "Invalid parameter: TopicArn");
        let none = sns.publish(publish(None)).await.expect_err("no topic");
        assert_eq!(none.code(), "InvalidParameter");
        assert!(!sns.outbox_dir().exists(), "nothing delivered");
    }

    #[tokio::test]
    async fn unwritable_outbox_fails_the_delivery_not_the_publish() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "not a directory").expect("write");
        let config = SnsConfig::new(blocker.join("outbox"), "us-east-1", "123456789012")
            .with_announce(|_| {});
        let sns = SnsService::new(
            config,
            vec![
                TopicSpec::new("t", "arn:aws:sns:us-east-1:123456789012:t")
                    .with_subscription("email", "a@example.com"),
            ],
        );
        let output = sns
            .publish(PublishRequest {
                topic_arn: Some("arn:aws:sns:us-east-1:123456789012:t".into()),
                message: "x".into(),
                ..PublishRequest::default()
            })
            .await
            .expect("publish succeeds");
        assert!(matches!(
            output.deliveries[0].outcome,
            DeliveryOutcome::Failed(_)
        ));
    }

    #[test]
    fn topics_and_subscriptions_are_managed_like_snss() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (sns, _) = service(dir.path());
        let arn = sns
            .create_topic("decisions", BTreeMap::new())
            .expect("create");
        assert_eq!(arn, "arn:aws:sns:us-east-1:123456789012:decisions");
        assert_eq!(
            sns.create_topic("decisions", BTreeMap::new())
                .expect("again"),
            arn
        );
        assert_eq!(sns.list_topics(), vec![TOPIC.to_owned(), arn.clone()]);
        assert_eq!(
            sns.create_topic("bad name", BTreeMap::new())
                .expect_err("name")
                .to_string(),
            "Invalid parameter: Topic Name"
        );
        let first = sns
            .subscribe(&arn, "email", "a@example.com", BTreeMap::new())
            .expect("subscribe");
        assert_eq!(
            sns.subscribe(&arn, "email", "a@example.com", BTreeMap::new())
                .expect("again"),
            first
        );
        assert_eq!(
            sns.confirm_subscription(&arn, "any-token")
                .expect("confirm"),
            first
        );
        assert_eq!(
            sns.subscribe(&arn, "carrier-pigeon", "x", BTreeMap::new())
                .expect_err("protocol")
                .to_string(),
            "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"
        );
        sns.set_topic_attribute(&arn, "DisplayName", "Review Desk")
            .expect("set");
        let attributes = sns.topic_attributes(&arn).expect("attributes");
        assert_eq!(attributes["DisplayName"], "Review Desk");
        assert_eq!(attributes["SubscriptionsConfirmed"], "1");
        assert_eq!(attributes["Owner"], "123456789012");
        sns.unsubscribe(&first).expect("unsubscribe");
        assert!(
            sns.list_subscriptions_by_topic(&arn)
                .expect("topic")
                .is_empty()
        );
        sns.delete_topic(&arn).expect("delete");
        assert_eq!(sns.list_topics(), vec![TOPIC.to_owned()]);
        assert_eq!(
            sns.list_subscriptions_by_topic(&arn)
                .expect_err("gone")
                .code(),
            "NotFound"
        );
    }
}
