//! The SDK's HTTP client here: HTTP/1.1 only, hyper-util's pooled client over
//! hyper-rustls (rustls on ring, the machine's root certificates).
//!
//! **Why by hand.** `aws-smithy-http-client`'s hyper client always compiles in
//! HTTP/2 (hyper's `http2` and the `h2` crate): about 11% of a deployed
//! function's code (docs/build-profile.md), although every AWS endpoint the
//! functions and hitl call (Step Functions, SNS, DynamoDB, CloudFormation, STS,
//! SSO) speaks HTTP/1.1, and local mode speaks only HTTP/1.1. No crate offers the
//! SDK's [`HttpClient`] over an HTTP/1-only hyper, so this is the part of
//! aws-smithy-http-client's adapter the workspace uses, on the same crates:
//! - the request and response conversion (`try_into_http1x`, `from_body_1_x`);
//! - the two timeouts the SDK configures: connect (hyper-util's connector) and
//!   read, the time until the response's head arrives (as aws-smithy-http-client
//!   measures it);
//! - the error classes the SDK's retry strategy reads: a timeout, an I/O error
//!   (refused, reset, closed: retried), a user error (a request hyper cannot
//!   send), anything else (not retried);
//! - one connection pool per timeout setting, as aws-smithy-http-client keeps one
//!   per setting.
//!
//! Left out, as the SDK's own client leaves them out unless configured: proxies
//! and custom trust stores; and connection poisoning (the SDK's hint to drop a
//! connection after a transient error; hyper drops the ones the server closed).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

type Pool = Client<HttpsConnector<TcpConnector>, SdkBody>;

/// The machine's root certificates, read once per process (the first client built).
static NATIVE_ROOTS: LazyLock<rustls::RootCertStore> = LazyLock::new(|| {
    let loaded = rustls_native_certs::load_native_certs();
    if !loaded.errors.is_empty() {
        tracing::warn!(errors = ?loaded.errors, "some root certificates could not be read");
    }
    let mut roots = rustls::RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(loaded.certs);
    if added == 0 {
        tracing::warn!("no root certificates found: HTTPS requests will fail");
    }
    roots
});

/// An [`HttpClient`] speaking HTTP/1.1, over TLS (rustls on ring) or plain TCP.
#[derive(Debug, Clone)]
pub(crate) struct Http1Client {
    tls: Arc<rustls::ClientConfig>,
    pools: Arc<RwLock<HashMap<Timeouts, SharedHttpConnector>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Timeouts {
    connect: Option<Duration>,
    read: Option<Duration>,
}

impl Http1Client {
    /// A client trusting the machine's root certificates.
    pub(crate) fn new() -> Self {
        Self::trusting(NATIVE_ROOTS.clone())
    }

    /// A client trusting `roots` only.
    pub(crate) fn trusting(roots: rustls::RootCertStore) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            // ring's default provider supports both of rustls's default versions (1.2, 1.3):
            // this fails only if rustls and ring disagree at compile time.
            .expect("rustls's ring provider supports TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Self {
            tls: Arc::new(tls),
            pools: Arc::default(),
        }
    }

    fn connector(&self, timeouts: Timeouts) -> Http1Connector {
        let mut tcp = TcpConnector::new();
        // The TLS layer below decides the scheme: https and http (local mode) both.
        tcp.enforce_http(false);
        tcp.set_connect_timeout(timeouts.connect);
        tcp.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*self.tls).clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let pool = Client::builder(TokioExecutor::new())
            // Idle connections expire only with a timer (hyper-util's documentation).
            .pool_timer(TokioTimer::new())
            .build(https);
        Http1Connector {
            pool,
            read_timeout: timeouts.read,
        }
    }
}

impl HttpClient for Http1Client {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let timeouts = Timeouts {
            connect: settings.connect_timeout(),
            read: settings.read_timeout(),
        };
        // The SDK asks for a connector on every request: one pool per setting, built once.
        let known = self
            .pools
            .read()
            .ok()
            .and_then(|pools| pools.get(&timeouts).cloned());
        if let Some(connector) = known {
            return connector;
        }
        let mut pools = self
            .pools
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pools
            .entry(timeouts)
            .or_insert_with(|| SharedHttpConnector::new(self.connector(timeouts)))
            .clone()
    }
}

#[derive(Debug, Clone)]
struct Http1Connector {
    pool: Pool,
    read_timeout: Option<Duration>,
}

impl HttpConnector for Http1Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(error) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::user(error.into())));
            }
        };
        let sent = self.pool.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let response = match read_timeout {
                Some(limit) => match tokio::time::timeout(limit, sent).await {
                    Ok(response) => response,
                    Err(_) => {
                        return Err(ConnectorError::timeout(
                            format!("no response within the read timeout ({limit:?})").into(),
                        ));
                    }
                },
                None => sent.await,
            };
            let response = response.map_err(classify)?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|error| ConnectorError::other(error.into(), None))
        })
    }
}

/// The SDK's class of a failed request: what its retry strategy reads.
fn classify(error: hyper_util::client::legacy::Error) -> ConnectorError {
    let chain: &(dyn std::error::Error + 'static) = &error;
    let hyper_error = find::<hyper::Error>(chain);
    let io_kind = find::<std::io::Error>(chain).map(std::io::Error::kind);
    let timed_out = hyper_error.is_some_and(hyper::Error::is_timeout)
        || io_kind == Some(std::io::ErrorKind::TimedOut);
    if timed_out {
        return ConnectorError::timeout(error.into());
    }
    if let Some(hyper_error) = hyper_error {
        if hyper_error.is_user() {
            return ConnectorError::user(error.into());
        }
        if hyper_error.is_closed() || hyper_error.is_canceled() {
            return ConnectorError::io(error.into());
        }
        if hyper_error.is_incomplete_message() {
            // A connection closed mid-response: worth another try, as the SDK's client says.
            return ConnectorError::other(
                error.into(),
                Some(aws_smithy_types::retry::ErrorKind::TransientError),
            );
        }
    }
    if error.is_connect() || io_kind.is_some() {
        return ConnectorError::io(error.into());
    }
    ConnectorError::other(error.into(), None)
}

/// The first error of type `E` in `error`'s chain.
fn find<'a, E: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a E> {
    std::iter::successors(Some(error), |error| error.source()).find_map(|e| e.downcast_ref())
}

#[cfg(test)]
mod tests;
