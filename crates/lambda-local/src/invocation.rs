//! What an invocation returns.

use bytes::Bytes;
use serde_json::{Map, Value};

/// A finished invocation: the function ran (or was given the chance to).
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// The request id the runtime saw (`Lambda-Runtime-Aws-Request-Id`).
    pub request_id: String,
    /// `X-Amz-Executed-Version`: always `$LATEST` locally.
    pub executed_version: String,
    /// Success payload or function error.
    pub outcome: Outcome,
    /// The invocation's log, as `X-Amz-Log-Type: Tail` returns it (before the
    /// 4 KB cut): `START`, the lines the process printed while it ran, `END`, `REPORT`.
    pub log: String,
}

impl Invocation {
    /// The bytes the Invoke API returns as the response payload: the
    /// function's result, or the error document on a function error.
    pub fn payload(&self) -> &Bytes {
        match &self.outcome {
            Outcome::Success(body) => body,
            Outcome::Error(error) => &error.payload,
        }
    }
}

/// Success or function error.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The runtime posted `/response` with these bytes.
    Success(Bytes),
    /// The function failed: the runtime posted `/error` or `/init/error`, or
    /// the host saw it time out or exit.
    Error(FunctionError),
}

/// A function error as Lambda reports it: `X-Amz-Function-Error: Unhandled`
/// and a JSON document with `errorType` and `errorMessage`.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionError {
    /// `errorType`, e.g. `Sandbox.Timedout`, `Runtime.ExitError`, or the
    /// function's own (what Step Functions `Retry`/`Catch` match on).
    pub error_type: String,
    /// `errorMessage`.
    pub error_message: String,
    /// The whole error document returned as the Invoke payload: the runtime's
    /// own body when it posted a JSON object (keeping e.g. `stackTrace`),
    /// otherwise `{"errorType": ..., "errorMessage": ...}`.
    pub payload: Bytes,
}

impl FunctionError {
    /// An error the host itself reports (timeout, crash, ...).
    pub fn new(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        let error_type = error_type.into();
        let error_message = error_message.into();
        let mut doc = Map::new();
        doc.insert("errorType".to_owned(), Value::String(error_type.clone()));
        doc.insert(
            "errorMessage".to_owned(),
            Value::String(error_message.clone()),
        );
        let payload = Bytes::from(Value::Object(doc).to_string());
        Self {
            error_type,
            error_message,
            payload,
        }
    }

    /// An error a runtime posted to `/error` or `/init/error`: the body's
    /// `errorType` wins over the `Lambda-Runtime-Function-Error-Type` header
    /// (which `lambda_runtime` always sets to `unhandled`), then `default`.
    pub(crate) fn from_runtime(body: &[u8], header_type: Option<&str>, default: &str) -> Self {
        let doc = serde_json::from_slice::<Value>(body).ok();
        match doc {
            Some(Value::Object(map)) => {
                let text = |key: &str| {
                    map.get(key)
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                };
                let error_type = text("errorType")
                    .or(header_type)
                    .unwrap_or(default)
                    .to_owned();
                let error_message = text("errorMessage").unwrap_or_default().to_owned();
                Self {
                    error_type,
                    error_message,
                    payload: Bytes::copy_from_slice(body),
                }
            }
            _ => Self::new(
                header_type.unwrap_or(default),
                String::from_utf8_lossy(body).into_owned(),
            ),
        }
    }
}

/// Why `invoke` did not run the function at all (Lambda answers these with
/// an HTTP error instead of a function error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// No such function or qualifier (`ResourceNotFoundException`, 404).
    #[error("Function not found: {arn}")]
    FunctionNotFound {
        /// The ARN Lambda would name in its message.
        arn: String,
    },
    /// The request payload is over the limit (`RequestTooLargeException`, 413).
    #[error(
        "{size} byte payload is too large for the {invocation_type} invocation type (limit {limit} bytes)"
    )]
    RequestTooLarge {
        /// Payload size.
        size: usize,
        /// The limit for this invocation type.
        limit: usize,
        /// `RequestResponse` or `Event`.
        invocation_type: &'static str,
    },
    /// The payload is not JSON (`InvalidRequestContentException`, 400).
    #[error("Could not parse request body into json: Could not parse payload into json: {0}")]
    InvalidRequestContent(String),
    /// `shutdown` has begun (`ServiceException`, 500).
    #[error("the local Lambda host is shutting down")]
    ShuttingDown,
    /// The host could not set up an execution environment (`ServiceException`, 500).
    #[error("local Lambda host error: {0}")]
    Host(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_body_type_wins_over_unhandled_header() {
        let body = br#"{"errorType":"ApprovalNotFound","errorMessage":"no such approval"}"#;
        let e = FunctionError::from_runtime(body, Some("unhandled"), "Runtime.Unknown");
        assert_eq!(e.error_type, "ApprovalNotFound");
        assert_eq!(e.error_message, "no such approval");
        assert_eq!(&e.payload[..], &body[..]);
    }

    #[test]
    fn non_json_error_body_uses_header_then_default() {
        let e = FunctionError::from_runtime(b"boom", Some("Custom.Type"), "Runtime.Unknown");
        assert_eq!(
            (e.error_type.as_str(), e.error_message.as_str()),
            ("Custom.Type", "boom")
        );
        let e = FunctionError::from_runtime(b"", None, "Runtime.Unknown");
        assert_eq!(e.error_type, "Runtime.Unknown");
        let doc: Value = serde_json::from_slice(&e.payload).unwrap();
        assert_eq!(doc["errorType"], "Runtime.Unknown");
    }

    #[test]
    fn host_errors_put_type_before_message() {
        let e = FunctionError::new("Sandbox.Timedout", "Task timed out after 3.00 seconds");
        assert_eq!(
            &e.payload[..],
            br#"{"errorType":"Sandbox.Timedout","errorMessage":"Task timed out after 3.00 seconds"}"#
        );
    }
}
