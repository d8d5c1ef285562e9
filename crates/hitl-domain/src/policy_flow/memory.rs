//! In-memory ports for tests (feature `testing`): a store with the real
//! conditions, a recording mailer, a settable clock and counting secrets.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::policy::Tally;

use super::ports::{
    Clock, LinkItem, MailError, ReviewStore, ReviewerItem, ReviewerMailer, ReviewerMessage,
    SecretSource, StoreError, StoredReview, TimerWrite, Written,
};

type Interleave = Box<dyn FnOnce(&mut StoredReview) + Send>;

#[derive(Default)]
struct Items {
    reviews: HashMap<String, StoredReview>,
    links: HashMap<String, LinkItem>,
    reviewers: HashMap<(String, String), ReviewerItem>,
}

/// A [`ReviewStore`] in memory, with the same conditions as the DynamoDB
/// adapter. [`MemoryStore::interleave`] lets a test slip another writer's
/// change in just before the next conditional write, as a race would.
#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<Items>,
    interleave: Mutex<Vec<Interleave>>,
    conditional_writes: Mutex<(u32, u32)>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryStore")
    }
}

impl MemoryStore {
    /// Before the next conditional write of the review item, `change` is
    /// applied to the stored item (and its version raised, as another writer
    /// would), so that write's condition fails.
    pub fn interleave(&self, change: impl FnOnce(&mut StoredReview) + Send + 'static) {
        if let Ok(mut queue) = self.interleave.lock() {
            queue.push(Box::new(change));
        }
    }

    /// The stored review.
    pub fn review(&self, execution_arn: &str) -> Option<StoredReview> {
        self.items
            .lock()
            .ok()
            .and_then(|items| items.reviews.get(execution_arn).cloned())
    }

    /// Every stored link.
    pub fn links(&self) -> Vec<LinkItem> {
        self.items
            .lock()
            .map(|items| items.links.values().cloned().collect())
            .unwrap_or_default()
    }

    /// A stored reviewer item.
    pub fn reviewer(&self, execution_arn: &str, key: &str) -> Option<ReviewerItem> {
        self.items.lock().ok().and_then(|items| {
            items
                .reviewers
                .get(&(execution_arn.to_owned(), key.to_owned()))
                .cloned()
        })
    }

    /// Conditional writes of the review item so far: (succeeded, failed).
    pub fn conditional_writes(&self) -> (u32, u32) {
        self.conditional_writes
            .lock()
            .map(|counts| *counts)
            .unwrap_or_default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Items>, StoreError> {
        self.items.lock().map_err(|_| StoreError {
            reason: "the in-memory store is poisoned".into(),
        })
    }

    fn race(&self, review: &mut StoredReview) {
        let next = self.interleave.lock().ok().and_then(|mut queue| {
            if queue.is_empty() {
                None
            } else {
                Some(queue.remove(0))
            }
        });
        if let Some(change) = next {
            change(review);
            review.version += 1;
        }
    }

    fn count(&self, written: Written) -> Written {
        if let Ok(mut counts) = self.conditional_writes.lock() {
            match written {
                Written::Done => counts.0 += 1,
                Written::Conflict => counts.1 += 1,
            }
        }
        written
    }
}

impl ReviewStore for MemoryStore {
    async fn create_review(&self, review: &StoredReview) -> Result<Written, StoreError> {
        let mut items = self.lock()?;
        if items.reviews.contains_key(&review.execution_arn) {
            return Ok(Written::Conflict);
        }
        items
            .reviews
            .insert(review.execution_arn.clone(), review.clone());
        Ok(Written::Done)
    }

    async fn get_review(&self, execution_arn: &str) -> Result<Option<StoredReview>, StoreError> {
        Ok(self.lock()?.reviews.get(execution_arn).cloned())
    }

    async fn update_tally(
        &self,
        execution_arn: &str,
        seen_version: u64,
        tally: &Tally,
    ) -> Result<Written, StoreError> {
        let mut items = self.lock()?;
        let Some(review) = items.reviews.get_mut(execution_arn) else {
            return Ok(self.count(Written::Conflict));
        };
        self.race(review);
        if review.version != seen_version {
            return Ok(self.count(Written::Conflict));
        }
        review.tally = tally.clone();
        review.version += 1;
        Ok(self.count(Written::Done))
    }

    async fn advance_timers(
        &self,
        execution_arn: &str,
        write: TimerWrite<'_>,
    ) -> Result<Written, StoreError> {
        let mut items = self.lock()?;
        let Some(review) = items.reviews.get_mut(execution_arn) else {
            return Ok(self.count(Written::Conflict));
        };
        self.race(review);
        if review.timers_done != write.seen_done {
            return Ok(self.count(Written::Conflict));
        }
        if let Some((seen_version, tally)) = write.expiry {
            if review.version != seen_version {
                return Ok(self.count(Written::Conflict));
            }
            review.tally = tally.clone();
            review.version += 1;
        }
        review.timers_done += 1;
        Ok(self.count(Written::Done))
    }

    async fn create_link(&self, link: &LinkItem) -> Result<Written, StoreError> {
        let mut items = self.lock()?;
        if items.links.contains_key(&link.hash) {
            return Ok(Written::Conflict);
        }
        items.links.insert(link.hash.clone(), link.clone());
        Ok(Written::Done)
    }

    async fn get_link(&self, hash: &str) -> Result<Option<LinkItem>, StoreError> {
        Ok(self.lock()?.links.get(hash).cloned())
    }

    async fn put_reviewer(&self, reviewer: &ReviewerItem) -> Result<(), StoreError> {
        let key = (
            reviewer.execution_arn.clone(),
            reviewer.address.to_lowercase(),
        );
        self.lock()?.reviewers.insert(key, reviewer.clone());
        Ok(())
    }

    async fn get_reviewer(
        &self,
        execution_arn: &str,
        reviewer_key: &str,
    ) -> Result<Option<ReviewerItem>, StoreError> {
        Ok(self
            .lock()?
            .reviewers
            .get(&(execution_arn.to_owned(), reviewer_key.to_owned()))
            .cloned())
    }
}

/// A mailer that records what it sends, or fails for chosen addresses.
#[derive(Debug, Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<ReviewerMessage>>,
    failing: Vec<String>,
}

impl RecordingMailer {
    /// Fails every message to one of `addresses`, like a suspended subscription.
    pub fn failing_for(addresses: &[&str]) -> Self {
        Self {
            sent: Mutex::default(),
            failing: addresses.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    pub fn sent(&self) -> Vec<ReviewerMessage> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl ReviewerMailer for RecordingMailer {
    async fn send(&self, message: &ReviewerMessage) -> Result<(), MailError> {
        if self.failing.contains(&message.to) {
            return Err(MailError {
                reason: format!("Throttled: {}", message.to),
            });
        }
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(message.clone());
        }
        Ok(())
    }
}

/// A clock that stands still until told to move; pauses are instant.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self(Mutex::new(now))
    }

    pub fn advance(&self, seconds: i64) {
        if let Ok(mut now) = self.0.lock() {
            *now += Duration::seconds(seconds);
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
            .lock()
            .map(|now| *now)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    async fn pause(&self, _attempt: u32) {}
}

/// Secrets 1, 2, 3, ... (each byte the counter), distinct and predictable;
/// [`CountingSecrets::repeating`] returns the same secret `n` times first.
#[derive(Debug, Default)]
pub struct CountingSecrets {
    next: Mutex<(u8, u32)>,
}

impl CountingSecrets {
    /// The first `times` secrets are all the same (a collision).
    pub fn repeating(times: u32) -> Self {
        Self {
            next: Mutex::new((0, times)),
        }
    }
}

impl SecretSource for CountingSecrets {
    fn secret(&self) -> [u8; 32] {
        let Ok(mut state) = self.next.lock() else {
            return [0; 32];
        };
        if state.1 > 1 {
            state.1 -= 1;
        } else {
            state.0 = state.0.wrapping_add(1);
        }
        [state.0; 32]
    }
}
