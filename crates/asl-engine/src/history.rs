//! History events as AWS records them.
//!
//! Contract: `id` counts from 1 per execution; `previous_event_id` follows AWS's rule of
//! "the last event of the same thread of control that moves it forward" (see
//! [`crate::interp`] for which events do not move it). `details` is the body of the
//! `<x>EventDetails` member named by `details_key`, with JSON payloads already rendered
//! as compact JSON text (`input`, `output`, `parameters`), exactly what
//! GetExecutionHistory returns. Shapes follow the Step Functions API reference
//! (`HistoryEvent`, e.g. `StateEnteredEventDetails {name, input, inputDetails}`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One history event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    pub id: u64,
    pub previous_event_id: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// AWS's event type, e.g. `PassStateEntered`.
    pub event_type: String,
    /// Name of the details member, e.g. `stateEnteredEventDetails`; empty when none.
    pub details_key: String,
    /// The details body (an object), or `Null` when the event has none.
    pub details: Value,
}

impl HistoryEvent {
    /// The event as AWS JSON 1.0 renders it in GetExecutionHistory (timestamp in epoch seconds).
    pub fn to_aws_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "timestamp".into(),
            Value::from(self.timestamp_ms as f64 / 1000.0),
        );
        m.insert("type".into(), Value::from(self.event_type.clone()));
        m.insert("id".into(), Value::from(self.id));
        m.insert(
            "previousEventId".into(),
            Value::from(self.previous_event_id),
        );
        if !self.details_key.is_empty() {
            m.insert(self.details_key.clone(), self.details.clone());
        }
        Value::Object(m)
    }
}

/// Renders a payload as AWS does in history and API outputs: compact JSON text.
pub fn json_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

/// `{"truncated": false}`, AWS's `HistoryEventExecutionDataDetails`.
pub(crate) fn not_truncated() -> Value {
    serde_json::json!({ "truncated": false })
}
