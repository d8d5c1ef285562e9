//! The local SNS: topics, auto-confirmed subscriptions, and deliveries.
//!
//! One [`SnsService`] holds the state; each part of the API lives in its own
//! module: `config` (what the service is built from), `topics`,
//! `subscriptions` (and their filter policies), `publish` (validation and
//! fan-out) and `notification` (what each protocol receives).

mod config;
mod notification;
mod publish;
mod subscriptions;
mod topics;

#[cfg(test)]
mod tests;

pub use config::{
    Announce, LambdaInvoker, SNS_FROM_ADDRESS, SNS_FROM_NAME, SnsConfig, SubscriptionSpec,
    TopicSpec,
};
pub use publish::{Delivery, DeliveryOutcome, PublishOutput};
pub use subscriptions::Subscription;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use crate::error::SnsError;

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
}
