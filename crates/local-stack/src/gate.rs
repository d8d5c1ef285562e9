//! The port while local mode starts: every request is answered at once.
//!
//! The port is bound before the build (so a taken port fails at once), and a
//! bound port that nobody serves accepts connections into the kernel's
//! backlog: clients would hang until they gave up. The gate serves the port
//! from the start. Until [`Gate::ready`] it answers every request with HTTP 503
//! and what startup is waiting for, in the shape each client reads:
//!
//! - Step Functions (`X-Amz-Target: AWSStepFunctions.*`, AWS JSON 1.0):
//!   `{"__type":"ServiceUnavailable","message":...}`. `ServiceUnavailable`/503
//!   is AWS's common error for "a temporary failure of the server"
//!   (sfn-local's error.rs uses it for a full disk); the SDKs and the CLI
//!   retry it, then show the message.
//! - SNS (query protocol): `<ErrorResponse><Error><Type>Receiver</Type>
//!   <Code>ServiceUnavailable</Code>...`, the same common error in SNS's XML.
//! - S3 (a SigV4 credential scope naming `s3`, any method and path): S3's
//!   `<Error><Code>ServiceUnavailable</Code><Message>...` (S3's 503 code for
//!   "reduce your request rate" and service trouble, which the SDKs and the
//!   CLI retry), with no body for HEAD as S3 sends none.
//! - Lambda `Invoke` (`/2015-03-31/functions/...`, REST JSON): header
//!   `x-amzn-ErrorType: ServiceException` (Lambda's own "service error"
//!   type) and `{"Type":"Service","message":...}`.
//! - anything else (the HTTP API routes a browser opens): a plain-text page.
//!
//! All carry `Retry-After`. After [`Gate::ready`] every request goes to the
//! real services.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;

use crate::LocalError;

/// Seconds a client is asked to wait before retrying.
const RETRY_AFTER_SECONDS: &str = "2";

/// The phase text shared with the server task.
#[derive(Clone, Default)]
pub(crate) struct Phase(Arc<Mutex<String>>);

impl Phase {
    pub(crate) fn set(&self, phase: String) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = phase;
    }

    fn get(&self) -> String {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[derive(Clone)]
struct Shared {
    phase: Phase,
    app: Arc<OnceLock<Router>>,
}

/// The server of local mode's port, from bind to shutdown.
pub(crate) struct Gate {
    shared: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Gate {
    /// Serves `listener`, answering 503 "starting: `phase`" until [`Gate::ready`].
    pub(crate) fn open(listener: tokio::net::TcpListener, phase: &str) -> Self {
        let shared = Shared {
            phase: Phase::default(),
            app: Arc::new(OnceLock::new()),
        };
        shared.phase.set(phase.to_owned());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let service = Router::new()
            .fallback(gate)
            .with_state(shared.clone())
            .into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            axum::serve(listener, service)
                .with_graceful_shutdown(async {
                    // A dropped sender (startup failed) also ends the server.
                    let _ = stopped.await;
                })
                .await
        });
        Self {
            shared,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// What the 503 answers say startup is waiting for.
    pub(crate) fn set_phase(&self, phase: &str) {
        self.shared.phase.set(phase.to_owned());
    }

    /// A handle to update the phase from elsewhere (the build's progress).
    pub(crate) fn clone_phase(&self) -> Phase {
        self.shared.phase.clone()
    }

    /// From now on, every request goes to `app`.
    pub(crate) fn ready(&self, app: Router) {
        // Set once per Gate: start() calls this once.
        let _ = self.shared.app.set(app);
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets the
    /// requests in progress finish.
    pub(crate) async fn serve_until(
        mut self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), LocalError> {
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        let mut task = task;
        tokio::select! {
            () = shutdown => {}
            // The server stopped by itself (an accept error it cannot go past).
            ended = &mut task => return flatten(ended),
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        flatten(task.await)
    }
}

fn flatten(ended: Result<std::io::Result<()>, tokio::task::JoinError>) -> Result<(), LocalError> {
    match ended {
        Ok(served) => served.map_err(LocalError::Serve),
        Err(join) => Err(LocalError::Serve(std::io::Error::other(join.to_string()))),
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        // Startup failed (or serve_until was never called): close the port.
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn gate(State(shared): State<Shared>, request: Request) -> Response {
    if let Some(app) = shared.app.get() {
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts, Body::new(body));
        return match app.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    not_ready(&shared.phase.get(), &request)
}

/// The 503 for `request` while startup is `phase`.
fn not_ready(phase: &str, request: &Request) -> Response {
    let message = format!(
        "local mode is starting and not ready yet: {phase}. Retry once it prints \"Ready\"."
    );
    let headers = request.headers();
    let is_sfn = headers
        .get("x-amz-target")
        .and_then(|target| target.to_str().ok())
        .is_some_and(|target| target.starts_with("AWSStepFunctions."));
    let mut response = if s3_local::is_s3_request(headers, request.uri()) {
        s3_local::unavailable(&message, request.method() == axum::http::Method::HEAD)
    } else if is_sfn {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
            serde_json::json!({"__type": "ServiceUnavailable", "message": message}).to_string(),
        )
            .into_response()
    } else if sns_local::is_sns_request(headers) {
        let body = format!(
            "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error>\
             <Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>{}</Message>\
             </Error><RequestId>{}</RequestId></ErrorResponse>\n",
            xml_escape(&message),
            uuid::Uuid::new_v4()
        );
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/xml")],
            body,
        )
            .into_response()
    } else if request.uri().path().starts_with("/2015-03-31/functions/") {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::HeaderName::from_static("x-amzn-errortype"),
                    "ServiceException",
                ),
            ],
            serde_json::json!({"Type": "Service", "message": message}).to_string(),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{message}\n"),
        )
            .into_response()
    };
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
    response
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(gate: &Gate, request: Request) -> (StatusCode, String, String) {
        let response = super::gate(State(gate.shared.clone()), request).await;
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).is_some(),
            status == StatusCode::SERVICE_UNAVAILABLE
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        (status, content_type, body)
    }

    fn request(path: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().method("POST").uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("request: {e}"))
    }

    #[tokio::test]
    async fn every_protocol_gets_a_503_naming_the_phase_until_ready() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let gate = Gate::open(listener, "building the functions (12 of ~300 crates)");

        let (status, content_type, body) = answer(
            &gate,
            request(
                "/",
                &[("x-amz-target", "AWSStepFunctions.ListStateMachines")],
            ),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(content_type, "application/x-amz-json-1.0");
        let json: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(json["__type"], "ServiceUnavailable");
        let message = json["message"].as_str().unwrap_or_default();
        assert!(message.contains("12 of ~300 crates"), "{message}");

        let (status, content_type, body) = answer(
            &gate,
            request(
                "/",
                &[(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                )],
            ),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(content_type, "text/xml");
        assert!(
            body.contains("<Code>ServiceUnavailable</Code>") && body.contains("12 of ~300"),
            "{body}"
        );

        let (status, content_type, body) = answer(
            &gate,
            request(
                "/inputs/rows.csv",
                &[(
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=test/20261208/us-east-1/s3/aws4_request, \
                     SignedHeaders=host, Signature=0",
                )],
            ),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(content_type, "application/xml");
        assert!(
            body.contains("<Error><Code>ServiceUnavailable</Code>") && body.contains("12 of ~300"),
            "{body}"
        );

        gate.set_phase("creating the state machines");
        let (status, _, body) =
            answer(&gate, request("/2015-03-31/functions/f/invocations", &[])).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body.contains("\"Type\":\"Service\"") && body.contains("creating the state machines"),
            "{body}"
        );
        let (status, content_type, body) = answer(&gate, request("/review", &[])).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        assert!(body.contains("Ready"), "{body}");

        gate.ready(Router::new().fallback(|| async { "served" }));
        let (status, _, body) = answer(&gate, request("/review", &[])).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "served"));
    }
}
