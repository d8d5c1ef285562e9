//! What TestState reports and refuses, as data: the inspection data of one
//! state's run ([`Inspection`]) and TestState's errors ([`TestStateError`]).
//! Below both the interpreter, which records the data as it runs a state, and
//! `test_state`, which answers the API: neither depends on the other for them.
//! `test_state` re-exports them.

use serde_json::{Map, Value};

/// Why a TestState request was refused: AWS's error code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestStateError {
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("{0}")]
    InvalidExecutionInput(String),
    #[error("{0}")]
    Validation(String),
}

impl TestStateError {
    /// AWS's error code (`__type`).
    pub fn code(&self) -> &'static str {
        match self {
            TestStateError::InvalidDefinition(_) => "InvalidDefinition",
            TestStateError::InvalidExecutionInput(_) => "InvalidExecutionInput",
            TestStateError::Validation(_) => "ValidationException",
        }
    }
}

/// `inspectionData.errorDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDetails {
    pub catch_index: Option<u32>,
    pub retry_index: Option<u32>,
    pub retry_backoff_interval_seconds: Option<u64>,
}

/// `inspectionData`: the data after each processing step (API reference,
/// InspectionData). Absent steps stay `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inspection {
    pub input: Option<Value>,
    pub after_input_path: Option<Value>,
    pub after_parameters: Option<Value>,
    pub after_arguments: Option<Value>,
    pub result: Option<Value>,
    pub after_result_selector: Option<Value>,
    pub after_result_path: Option<Value>,
    pub after_items_path: Option<Value>,
    pub variables: Option<Map<String, Value>>,
    pub error_details: Option<ErrorDetails>,
    pub max_concurrency: Option<u64>,
    pub tolerated_failure_count: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
}

impl Inspection {
    /// The wire form: JSON data as JSON text, as AWS sends it (`SensitiveData` strings).
    pub fn to_wire(&self) -> Value {
        let mut m = Map::new();
        let mut text = |k: &str, v: &Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), Value::from(crate::history::json_text(v)));
            }
        };
        text("input", &self.input);
        text("afterInputPath", &self.after_input_path);
        text("afterParameters", &self.after_parameters);
        text("afterArguments", &self.after_arguments);
        text("result", &self.result);
        text("afterResultSelector", &self.after_result_selector);
        text("afterResultPath", &self.after_result_path);
        text("afterItemsPath", &self.after_items_path);
        text("variables", &self.variables.clone().map(Value::Object));
        if let Some(d) = &self.error_details {
            let mut e = Map::new();
            if let Some(i) = d.catch_index {
                e.insert("catchIndex".into(), i.into());
            }
            if let Some(i) = d.retry_index {
                e.insert("retryIndex".into(), i.into());
            }
            if let Some(s) = d.retry_backoff_interval_seconds {
                e.insert("retryBackoffIntervalSeconds".into(), s.into());
            }
            m.insert("errorDetails".into(), Value::Object(e));
        }
        if let Some(n) = self.max_concurrency {
            m.insert("maxConcurrency".into(), n.into());
        }
        if let Some(n) = self.tolerated_failure_count {
            m.insert("toleratedFailureCount".into(), n.into());
        }
        if let Some(n) = self.tolerated_failure_percentage {
            m.insert("toleratedFailurePercentage".into(), n.into());
        }
        Value::Object(m)
    }
}
