//! The HTTPS client for every AWS SDK client in this workspace: the deployed
//! functions, `hitl`, and the tests that talk to local mode.
//!
//! The SDK's `default-https-client` feature is rustls on aws-lc-rs, whose C
//! library (aws-lc-sys) was most of each deployed function's zip after the
//! release profile had done what it could, and a long C build on a cold start of
//! `hitl local` (docs/build-profile.md). rustls on `ring` speaks the same TLS 1.2
//! and 1.3 to AWS's endpoints with a much smaller crypto library, so the
//! workspace turns `default-https-client` off on every SDK crate and builds
//! clients through here instead. Nothing else is different: the same hyper
//! connector from `aws-smithy-http-client`, the same native root certificates.
//!
//! An SDK client built without an HTTP client fails on its first request with
//! "No HTTP client was available to send this request", so a missed call site
//! shows up in the first test that uses it; `tests/one_tls_stack.rs` fails if any
//! member turns aws-lc back on.

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::{Builder, tls};
pub use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// A new HTTPS (and plain HTTP, for local mode's loopback endpoints) client:
/// hyper with rustls on ring. Each call has its own connection pool; build
/// one per process and share it, as the SDK shares a client's.
pub fn https_client() -> SharedHttpClient {
    Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// `aws_config::defaults(BehaviorVersion::latest())` with [`https_client`]:
/// the loader to start from wherever the SDK's own would be used.
pub fn defaults() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

/// `aws_config::load_from_env()` with [`https_client`]: region, credentials and
/// endpoint from the environment, as a Lambda function reads them.
pub async fn load_from_env() -> SdkConfig {
    defaults().load().await
}
