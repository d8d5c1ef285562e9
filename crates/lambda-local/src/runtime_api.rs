//! The Lambda Runtime API (version 2018-06-01) one execution environment
//! serves to its process.
//!
//! Reference: <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>
//! - `GET /runtime/invocation/next` long-polls; the response body is the event
//!   and the headers are `Lambda-Runtime-Aws-Request-Id`,
//!   `Lambda-Runtime-Deadline-Ms` (Unix epoch ms), `Lambda-Runtime-Invoked-Function-Arn`,
//!   `Lambda-Runtime-Trace-Id` (and `-Client-Context`, `-Cognito-Identity` when set).
//!   `lambda_runtime` 1.x panics without the request-id and deadline headers
//!   (`Context::new` in its `types.rs`), so both are always sent.
//! - `POST /runtime/invocation/{id}/response` and `/error` answer `202 Accepted`;
//!   an unknown id is `400` (`InvalidRequestID`), a response over the 6 MB
//!   limit is `413` and fails the invocation with `Function.ResponseSizeTooLarge`.
//! - `POST /runtime/init/error` answers `202` and fails the pending invocation.
//! - Errors carry a JSON body `{"errorMessage", "errorType", "stackTrace"}`
//!   and optionally a `Lambda-Runtime-Function-Error-Type` header.
//!   `lambda_runtime` sends the header as `unhandled` and puts the real type in
//!   the body (`requests.rs`, `EventErrorRequest`), so the body wins.
//!
//! `/next` does not say who asks, so every process gets its own listener
//! (its own `AWS_LAMBDA_RUNTIME_API`), and one listener serves one process.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::invocation::FunctionError;

/// Lambda's synchronous response payload limit (6 MB).
pub(crate) const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// An invocation waiting for the runtime's next `/next`.
#[derive(Debug)]
pub(crate) struct Dispatch {
    pub(crate) request_id: String,
    pub(crate) payload: Bytes,
    pub(crate) invoked_function_arn: String,
    pub(crate) trace_id: String,
    pub(crate) client_context: Option<String>,
    pub(crate) timeout: Duration,
}

/// What the runtime did, as seen by the invoker that owns the environment.
#[derive(Debug)]
pub(crate) enum RuntimeEvent {
    /// `/next` handed the invocation over; the timeout runs from here.
    Dispatched {
        request_id: String,
        deadline: Instant,
    },
    Response {
        request_id: String,
        body: Bytes,
    },
    Error {
        request_id: String,
        error: FunctionError,
    },
    InitError {
        error: FunctionError,
    },
}

struct ApiState {
    next: tokio::sync::Mutex<mpsc::Receiver<Dispatch>>,
    /// The request id handed out by `/next` and not yet answered.
    current: Mutex<Option<String>>,
    events: mpsc::UnboundedSender<RuntimeEvent>,
}

/// The host side of one Runtime API listener.
pub(crate) struct RuntimeApi {
    pub(crate) address: SocketAddr,
    pub(crate) dispatch: mpsc::Sender<Dispatch>,
    pub(crate) events: mpsc::UnboundedReceiver<RuntimeEvent>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Binds `127.0.0.1:0` and serves the Runtime API on it.
    pub(crate) async fn bind() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (dispatch, next_rx) = mpsc::channel(1);
        let (events_tx, events) = mpsc::unbounded_channel();
        let state = Arc::new(ApiState {
            next: tokio::sync::Mutex::new(next_rx),
            current: Mutex::new(None),
            events: events_tx,
        });
        let app = router(state);
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "runtime API listener stopped");
            }
        });
        Ok(Self {
            address,
            dispatch,
            events,
            server,
        })
    }
}

fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/response",
            post(response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/error",
            post(error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        // The 6 MB limit is checked in `response` so the invocation fails
        // like Lambda's instead of hanging until its timeout.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

fn error_body(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    (status, axum::Json(body)).into_response()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({ "status": "OK" })),
    )
        .into_response()
}

async fn next(State(state): State<Arc<ApiState>>) -> Response {
    let dispatch = {
        let mut rx = state.next.lock().await;
        rx.recv().await
    };
    let Some(dispatch) = dispatch else {
        // The environment is being torn down; the process is about to be killed.
        return error_body(
            StatusCode::GONE,
            "Runtime.Shutdown",
            "execution environment is shutting down",
        );
    };
    let deadline = Instant::now() + dispatch.timeout;
    let deadline_ms = (SystemTime::now() + dispatch.timeout)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    if let Ok(mut current) = state.current.lock() {
        *current = Some(dispatch.request_id.clone());
    }
    let _ = state.events.send(RuntimeEvent::Dispatched {
        request_id: dispatch.request_id.clone(),
        deadline,
    });

    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    put("content-type", "application/json");
    put("lambda-runtime-aws-request-id", &dispatch.request_id);
    put("lambda-runtime-deadline-ms", &deadline_ms.to_string());
    put(
        "lambda-runtime-invoked-function-arn",
        &dispatch.invoked_function_arn,
    );
    put("lambda-runtime-trace-id", &dispatch.trace_id);
    if let Some(context) = &dispatch.client_context {
        put("lambda-runtime-client-context", context);
    }
    (StatusCode::OK, headers, dispatch.payload).into_response()
}

/// Takes `request_id` out of `current` if it is the one in flight.
fn claim(state: &ApiState, request_id: &str) -> bool {
    match state.current.lock() {
        Ok(mut current) if current.as_deref() == Some(request_id) => {
            *current = None;
            true
        }
        _ => false,
    }
}

fn invalid_request_id() -> Response {
    error_body(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

async fn response(
    State(state): State<Arc<ApiState>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    if !claim(&state, &request_id) {
        return invalid_request_id();
    }
    if body.len() > MAX_RESPONSE_BYTES {
        let message = format!(
            "Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
            body.len()
        );
        let _ = state.events.send(RuntimeEvent::Error {
            request_id,
            error: FunctionError::new("Function.ResponseSizeTooLarge", message.clone()),
        });
        return error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &message,
        );
    }
    let _ = state
        .events
        .send(RuntimeEvent::Response { request_id, body });
    accepted()
}

async fn error(
    State(state): State<Arc<ApiState>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !claim(&state, &request_id) {
        return invalid_request_id();
    }
    let error = FunctionError::from_runtime(&body, error_type_header(&headers), "Runtime.Unknown");
    let _ = state.events.send(RuntimeEvent::Error { request_id, error });
    accepted()
}

async fn init_error(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error =
        FunctionError::from_runtime(&body, error_type_header(&headers), "Runtime.InitError");
    let _ = state.events.send(RuntimeEvent::InitError { error });
    accepted()
}

fn error_type_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}
