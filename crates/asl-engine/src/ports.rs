//! The engine's ports: clock, store and integrations are traits so the interpreter stays
//! pure (no I/O, no async runtime) and so tests run deterministically without sleeping.
//!
//! * [`Clock`]: "now" in epoch milliseconds. [`FakeClock`] is settable for tests.
//! * [`Store`]: the persistence contract: an execution's snapshot and the events of the
//!   step that produced it are saved together, atomically, before any effect of that step
//!   is acted on. [`MemoryStore`] implements it for tests and simple drivers. `sfn-local`
//!   keeps the same contract in its SQLite store but commits more in the same transaction
//!   (armed timers, in-flight task invocations, listing indexes) through an async,
//!   group-committing writer, so it does not implement this synchronous trait.
//! * [`Integration`]: runs a Task state's resource. The engine only emits
//!   [`crate::Effect::InvokeTask`]; whoever drives the engine picks an integration by
//!   resource ARN, runs it (possibly asynchronously) and feeds the outcome back as
//!   [`crate::Command`]s. Outcomes are plain data so they can be persisted.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::history::HistoryEvent;
use crate::interp::Execution;
pub use crate::invocation::{TaskOutcome, TaskRequest};

/// Wall-clock time source.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock tests move by hand.
#[derive(Debug, Default)]
pub struct FakeClock(AtomicI64);

impl FakeClock {
    /// A clock stopped at `ms`.
    pub fn new(ms: i64) -> Self {
        Self(AtomicI64::new(ms))
    }
    /// Moves the clock forward.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A store failure (the service maps it to an internal error).
#[derive(Debug, thiserror::Error)]
#[error("store error: {0}")]
pub struct StoreError(pub String);

/// Durable state of executions: snapshot plus append-only history.
pub trait Store: Send + Sync {
    /// Saves the snapshot and appends `events` atomically.
    fn save(&self, key: &str, exec: &Execution, events: &[HistoryEvent]) -> Result<(), StoreError>;
    /// Loads a snapshot.
    fn load(&self, key: &str) -> Result<Option<Execution>, StoreError>;
    /// The whole history.
    fn history(&self, key: &str) -> Result<Vec<HistoryEvent>, StoreError>;
}

/// In-memory [`Store`] for tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<HashMap<String, (Execution, Vec<HistoryEvent>)>>,
}

impl Store for MemoryStore {
    fn save(&self, key: &str, exec: &Execution, events: &[HistoryEvent]) -> Result<(), StoreError> {
        let mut g = self
            .inner
            .lock()
            .map_err(|_| StoreError("poisoned".into()))?;
        let entry = g
            .entry(key.to_owned())
            .or_insert_with(|| (exec.clone(), Vec::new()));
        entry.0 = exec.clone();
        entry.1.extend_from_slice(events);
        Ok(())
    }
    fn load(&self, key: &str) -> Result<Option<Execution>, StoreError> {
        let g = self
            .inner
            .lock()
            .map_err(|_| StoreError("poisoned".into()))?;
        Ok(g.get(key).map(|e| e.0.clone()))
    }
    fn history(&self, key: &str) -> Result<Vec<HistoryEvent>, StoreError> {
        let g = self
            .inner
            .lock()
            .map_err(|_| StoreError("poisoned".into()))?;
        Ok(g.get(key).map(|e| e.1.clone()).unwrap_or_default())
    }
}

/// A boxed future, so integrations may be async without the engine depending on a runtime.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Runs Task resources (Lambda, SNS, ...).
pub trait Integration: Send + Sync {
    /// Whether this integration serves the resource ARN.
    fn handles(&self, resource: &str) -> bool;
    /// Runs the resource.
    fn invoke(&self, request: TaskRequest) -> BoxFuture<TaskOutcome>;
}
