//! Test doubles for the domain's ports (feature `testing`).

use std::sync::Mutex;

use crate::notice::{DecisionNotice, DecisionPublisher, PublishError};

/// A publisher that records what it is asked to publish, or fails on demand.
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    published: Mutex<Vec<DecisionNotice>>,
    failure: Option<String>,
}

impl RecordingPublisher {
    /// A publisher whose every call fails with `reason`, like an SNS outage.
    pub fn failing(reason: &str) -> Self {
        Self {
            published: Mutex::default(),
            failure: Some(reason.to_owned()),
        }
    }

    /// What was published so far.
    pub fn published(&self) -> Vec<DecisionNotice> {
        self.published
            .lock()
            .map(|published| published.clone())
            .unwrap_or_default()
    }
}

impl DecisionPublisher for RecordingPublisher {
    async fn publish(&self, notice: &DecisionNotice) -> Result<(), PublishError> {
        if let Some(reason) = &self.failure {
            return Err(PublishError {
                reason: reason.clone(),
            });
        }
        if let Ok(mut published) = self.published.lock() {
            published.push(notice.clone());
        }
        Ok(())
    }
}
