//! What the service is built from: where it writes, whom it tells, and the
//! topics and subscriptions that exist from the start.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use super::subscriptions::check_subscription_attributes;
use crate::error::SnsError;

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
