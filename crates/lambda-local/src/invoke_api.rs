//! The Lambda `Invoke` API over HTTP, so `aws lambda invoke --endpoint-url`
//! and the AWS SDKs reach the local host.
//!
//! Reference: <https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>
//! - `POST /2015-03-31/functions/{FunctionName}/invocations?Qualifier=...`,
//!   body = event; `FunctionName` is a name, `name:qualifier`, partial or full ARN.
//! - `X-Amz-Invocation-Type`: `RequestResponse` (default, 200 + payload),
//!   `Event` (202, runs in the background), `DryRun` (204).
//! - `X-Amz-Log-Type: Tail` returns the last 4 KB of the log, base64, in
//!   `X-Amz-Log-Result`. `X-Amz-Client-Context` is base64 JSON.
//! - Response headers: `X-Amz-Executed-Version`, and on a function error
//!   `X-Amz-Function-Error: Unhandled` with the error document as payload
//!   (still 200: the request succeeded, the function did not).
//! - Service errors: `x-amzn-ErrorType` header and `{"Type": "User", "message": ...}`,
//!   e.g. 404 `ResourceNotFoundException` "Function not found: arn:...".
//!
//! The path prefix `/2015-03-31/functions/` cannot collide with Step
//! Functions or SNS, which are served on `POST /` of the same port.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::host::{InvokeOptions, LambdaHost, MAX_SYNC_PAYLOAD_BYTES};
use crate::invocation::{InvokeError, Outcome};

/// The Invoke API path (axum syntax).
pub const INVOKE_PATH: &str = "/2015-03-31/functions/{function_name}/invocations";

/// Lambda returns at most the last 4 KB of the log with `X-Amz-Log-Type: Tail`.
const LOG_TAIL_BYTES: usize = 4096;

impl LambdaHost {
    /// An axum `Router` serving the Lambda Invoke API for this host, to merge
    /// into local mode's main router.
    pub fn router(&self) -> Router {
        Router::new()
            .route(INVOKE_PATH, post(invoke))
            // Payloads up to the 6 MB limit must get through; beyond it the
            // handler answers `RequestTooLargeException` as Lambda does.
            .layer(DefaultBodyLimit::max(MAX_SYNC_PAYLOAD_BYTES * 2))
            .with_state(self.clone())
    }
}

fn service_error(status: StatusCode, error_type: &str, kind: &str, message: &str) -> Response {
    let mut response = (
        status,
        axum::Json(serde_json::json!({ "Type": kind, "message": message })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(error_type) {
        response.headers_mut().insert("x-amzn-ErrorType", value);
    }
    response
}

fn invoke_error(error: &InvokeError) -> Response {
    let message = error.to_string();
    match error {
        InvokeError::FunctionNotFound { .. } => service_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "User",
            &message,
        ),
        InvokeError::RequestTooLarge { limit, .. } => service_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            "User",
            &format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        ),
        InvokeError::InvalidRequestContent(_) => service_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            "User",
            &message,
        ),
        InvokeError::ShuttingDown | InvokeError::Host(_) => service_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "Service",
            &message,
        ),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
    response
}

async fn invoke(
    State(host): State<LambdaHost>,
    Path(function_name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    payload: Bytes,
) -> Response {
    let qualifier = query.get("Qualifier").cloned();
    let invocation_type = header(&headers, "x-amz-invocation-type").unwrap_or("RequestResponse");
    if let Err(error) = host.resolve(&function_name, qualifier.as_deref()) {
        return invoke_error(&error);
    }
    let client_context = match header(&headers, "x-amz-client-context") {
        None => None,
        Some(encoded) => match BASE64.decode(encoded) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(_) => {
                return service_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    "User",
                    "Client context must be a valid Base64-encoded JSON object.",
                );
            }
        },
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let options = InvokeOptions {
        qualifier,
        request_id: Some(request_id.clone()),
        client_context,
        trace_id: header(&headers, "x-amzn-trace-id").map(str::to_owned),
    };

    match invocation_type {
        "DryRun" => with_header(
            StatusCode::NO_CONTENT.into_response(),
            "x-amzn-RequestId",
            &request_id,
        ),
        "Event" => match host.invoke_event_with(&function_name, payload, options) {
            Ok(request_id) => with_header(
                StatusCode::ACCEPTED.into_response(),
                "x-amzn-RequestId",
                &request_id,
            ),
            Err(error) => invoke_error(&error),
        },
        "RequestResponse" => {
            let tail = header(&headers, "x-amz-log-type") == Some("Tail");
            match host.invoke_with(&function_name, payload, options).await {
                Err(error) => invoke_error(&error),
                Ok(invocation) => {
                    let mut response =
                        (StatusCode::OK, invocation.payload().clone()).into_response();
                    let mut put = |name: &'static str, value: &str| {
                        if let Ok(value) = HeaderValue::from_str(value) {
                            response.headers_mut().insert(name, value);
                        }
                    };
                    put("content-type", "application/json");
                    put("x-amzn-RequestId", &invocation.request_id);
                    put("X-Amz-Executed-Version", &invocation.executed_version);
                    if matches!(invocation.outcome, Outcome::Error(_)) {
                        put("X-Amz-Function-Error", "Unhandled");
                    }
                    if tail {
                        put(
                            "X-Amz-Log-Result",
                            &BASE64.encode(log_tail(&invocation.log)),
                        );
                    }
                    response
                }
            }
        }
        other => service_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            "User",
            &format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: \
                 Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            ),
        ),
    }
}

/// The last 4 KB of `log`, starting on a character boundary.
fn log_tail(log: &str) -> &str {
    let mut start = log.len().saturating_sub(LOG_TAIL_BYTES);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    &log[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tail_keeps_the_end_on_a_char_boundary() {
        assert_eq!(log_tail("short"), "short");
        let long = format!("{}{}", "é".repeat(3000), "end");
        let tail = log_tail(&long);
        assert!(tail.len() <= LOG_TAIL_BYTES && tail.ends_with("end"));
    }
}
