//! DynamoDB's wire protocol, AWS JSON 1.0, on `POST /`.
//!
//! A request is `POST /` with `X-Amz-Target: DynamoDB_20120810.<Operation>`
//! and `Content-Type: application/x-amz-json-1.0` (botocore's
//! `dynamodb/2012-08-10/service-2.json`: `"protocol": "json"`,
//! `"jsonVersion": "1.0"`, `"targetPrefix": "DynamoDB_20120810"`; aws-sdk-dynamodb
//! sends the same). The answer is HTTP 200 with the JSON response, or the
//! status and body of [`DynamoError`]. Signatures are not checked: bind to
//! loopback only.
//!
//! Local mode serves Step Functions (`AWSStepFunctions.*`) and SNS on the same
//! port, also `POST /`; [`is_dynamodb_request`] tells DynamoDB's apart.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;

use crate::error::DynamoError;
use crate::service::Service;

/// `X-Amz-Target` prefix of DynamoDB operations.
pub const TARGET_PREFIX: &str = "DynamoDB_20120810.";

/// Largest request body DynamoDB accepts (its 16 MB request limit, as for
/// BatchWriteItem); bigger bodies are refused before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Whether a `POST /` is meant for DynamoDB: its `X-Amz-Target` names a
/// DynamoDB operation.
pub fn is_dynamodb_request(headers: &HeaderMap) -> bool {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with(TARGET_PREFIX))
}

/// An axum router serving DynamoDB on `POST /`. Local mode that shares the
/// port can instead route `POST /` itself and call [`handle`] when
/// [`is_dynamodb_request`] says so.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/", post(axum_handler))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(service)
}

async fn axum_handler(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&service, &headers, &body).await
}

/// Answers one DynamoDB request. SQLite work runs on the blocking pool, so
/// slow disks never stall the async runtime.
pub async fn handle(service: &Arc<Service>, headers: &HeaderMap, body: &[u8]) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .unwrap_or("")
        .to_owned();
    let result = match parse_body(body) {
        Ok(json) => {
            let service = Arc::clone(service);
            let op = operation.clone();
            match tokio::task::spawn_blocking(move || service.call(&op, &json)).await {
                Ok(result) => result,
                Err(e) => Err(DynamoError::Internal(format!("operation failed: {e}"))),
            }
        }
        Err(e) => Err(e),
    };
    match &result {
        Ok(_) => tracing::debug!(operation = %operation, "dynamodb"),
        Err(e) => tracing::debug!(operation = %operation, code = e.code(), "dynamodb error"),
    }
    let (status, json) = match result {
        Ok(json) => (200, json),
        Err(e) => (e.status(), e.body()),
    };
    let text = json.to_string();
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v);
    }
    response
}

fn parse_body(body: &[u8]) -> Result<serde_json::Value, DynamoError> {
    // An empty body is an empty request (the SDKs send `{}`).
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| DynamoError::Serialization(format!("Could not parse the request body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Config;

    fn headers(target: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(target) {
            h.insert("x-amz-target", v);
        }
        h
    }

    async fn call(target: &str, body: &[u8]) -> (u16, serde_json::Value) {
        let service = Arc::new(
            Service::in_memory(Config::default()).unwrap_or_else(|e| panic!("in_memory: {e}")),
        );
        let response = handle(&service, &headers(target), body).await;
        let status = response.status().as_u16();
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE),
            Some(&HeaderValue::from_static("application/x-amz-json-1.0"))
        );
        let bytes = axum::body::to_bytes(response.into_body(), MAX_BODY_BYTES)
            .await
            .unwrap_or_else(|e| panic!("body: {e}"));
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("json: {e}"));
        (status, json)
    }

    #[test]
    fn tells_dynamodb_requests_from_the_other_services() {
        assert!(is_dynamodb_request(&headers("DynamoDB_20120810.GetItem")));
        assert!(!is_dynamodb_request(&headers(
            "AWSStepFunctions.StartExecution"
        )));
        assert!(!is_dynamodb_request(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn answers_operations_and_protocol_errors() {
        // An empty body is an empty request: ListTables on no tables.
        assert_eq!(
            call("DynamoDB_20120810.ListTables", b"").await,
            (200, serde_json::json!({"TableNames": []}))
        );
        let (status, body) = call("DynamoDB_20120810.ListTables", b"{not json").await;
        assert_eq!(status, 400);
        assert_eq!(
            body["__type"],
            "com.amazon.coral.service#SerializationException"
        );
        assert_eq!(
            call("DynamoDB_20120810.BatchGetItem", b"{}").await,
            (
                400,
                serde_json::json!({"__type": "com.amazon.coral.service#UnknownOperationException"})
            )
        );
        let (status, body) = call(
            "DynamoDB_20120810.GetItem",
            br#"{"TableName": "Nope", "Key": {"pk": {"S": "a"}}}"#,
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            serde_json::json!({"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                               "message": "Requested resource not found"})
        );
    }
}
