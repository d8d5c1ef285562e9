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

/// Borrowed AWS JSON view of an event; serialises without copying the details.
struct AwsView<'a>(&'a HistoryEvent);

impl Serialize for AwsView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let e = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("timestamp", &(e.timestamp_ms as f64 / 1000.0))?;
        m.serialize_entry("type", &e.event_type)?;
        m.serialize_entry("id", &e.id)?;
        m.serialize_entry("previousEventId", &e.previous_event_id)?;
        if !e.details_key.is_empty() {
            m.serialize_entry(&e.details_key, &e.details)?;
        }
        m.end()
    }
}

/// Renders events as the JSON array GetExecutionHistory returns (same shape as
/// [`HistoryEvent::to_aws_json`], without building intermediate values).
pub fn aws_json_array(events: &[HistoryEvent]) -> String {
    let views: Vec<AwsView<'_>> = events.iter().map(AwsView).collect();
    serde_json::to_string(&views).unwrap_or_else(|_| "[]".to_owned())
}

/// Renders a payload as AWS does in history and API outputs: compact JSON text.
pub fn json_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

/// `{"truncated": false}`, AWS's `HistoryEventExecutionDataDetails`.
pub(crate) fn not_truncated() -> Value {
    serde_json::json!({ "truncated": false })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_rendering_matches_the_value_rendering() {
        let e = HistoryEvent {
            id: 2,
            previous_event_id: 1,
            timestamp_ms: 1_500,
            event_type: "PassStateEntered".into(),
            details_key: "stateEnteredEventDetails".into(),
            details: serde_json::json!({"name": "A", "input": "{}", "inputDetails": {"truncated": false}}),
        };
        let none = HistoryEvent {
            details_key: String::new(),
            details: Value::Null,
            ..e.clone()
        };
        let text = aws_json_array(&[e.clone(), none.clone()]);
        let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(
            parsed,
            Value::Array(vec![e.to_aws_json(), none.to_aws_json()])
        );
    }
}
