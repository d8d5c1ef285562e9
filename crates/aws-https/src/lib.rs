//! The AWS SDK configuration of this workspace.
//!
//! **One HTTPS client.** The SDK's `default-https-client` feature is rustls on
//! aws-lc-rs, a C library compiled on every cold start of `hitl local` and linked
//! into every deployed function, and hyper with HTTP/2, which no endpoint here
//! needs. rustls on `ring` speaks the same TLS 1.2 and 1.3 to AWS's endpoints, so
//! the workspace turns `default-https-client` off on every SDK crate and every
//! client gets [`https_client`]: hyper's HTTP/1.1 client, the machine's root
//! certificates, ring instead of aws-lc (`http1`, which says why it is written
//! here). An SDK client built without an HTTP client fails on its first request
//! ("No HTTP client was available to send this request"), so a missed call site
//! shows up in the first test that uses it; `tests/one_tls_stack.rs` fails if any
//! member turns aws-lc back on.
//!
//! **A function's configuration from its environment** ([`lambda_config`]). Lambda
//! gives a function its region, its execution role's credentials and (in local
//! mode) the endpoint as environment variables, and that is all a function here
//! uses. aws-config would read them too, but it brings the credential sources a
//! function never uses — profiles, SSO, IMDS, ECS, web identity through STS — and
//! with them aws-sdk-sts, `url` and ICU's Unicode tables: about a third of each
//! deployed zip (docs/build-profile.md). Reading five variables is all that is
//! written by hand here; hitl and the tests, which need profiles, use aws-config's
//! loader through [`defaults`] (feature `loader`).

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
pub use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
pub use aws_smithy_runtime_api::client::http::SharedHttpClient;
pub use aws_types::SdkConfig;
use aws_types::region::Region;

mod http1;

/// A new HTTPS (and plain HTTP, for local mode's loopback endpoints) client:
/// HTTP/1.1 over hyper, TLS by rustls on ring, trusting the machine's root
/// certificates. Each call has its own connection pools; build one per process and
/// share it, as the SDK shares a client's.
pub fn https_client() -> SharedHttpClient {
    SharedHttpClient::new(http1::Http1Client::new())
}

/// `aws_config::defaults(BehaviorVersion::latest())` with [`https_client`]: the
/// loader to start from wherever aws-config's own would be used.
#[cfg(feature = "loader")]
pub fn defaults() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

/// What a function's environment lacks for [`lambda_config`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvError {
    #[error(
        "{0} is not set: Lambda sets it for every function (local mode too); \
         outside Lambda, set it to run this function"
    )]
    Missing(&'static str),
}

/// The SDK configuration a Lambda function's environment gives: the region
/// (`AWS_REGION`, else `AWS_DEFAULT_REGION`), the execution role's credentials
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` if set), the
/// endpoint (`AWS_ENDPOINT_URL` if set: local mode's), and [`https_client`].
///
/// Lambda sets the credentials once per execution environment and they outlive it,
/// which is why the SDK's own environment provider also reads them once.
pub fn lambda_config() -> Result<SdkConfig, EnvError> {
    config_from(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
}

fn config_from(var: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, EnvError> {
    let required = |name: &'static str| var(name).ok_or(EnvError::Missing(name));
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .ok_or(EnvError::Missing("AWS_REGION"))?;
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID")?,
        required("AWS_SECRET_ACCESS_KEY")?,
        var("AWS_SESSION_TOKEN"),
        None,
        "LambdaEnvironment",
    );
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(https_client());
    if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    Ok(config.build())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_credential_types::provider::ProvideCredentials;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<SdkConfig, EnvError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        config_from(|name| vars.get(name).cloned())
    }

    const LAMBDA: &[(&str, &str)] = &[
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "session"),
    ];

    #[tokio::test]
    async fn lambdas_environment_gives_region_credentials_and_client() {
        let config = config(LAMBDA).expect("a configuration");
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), None);
        assert!(config.http_client().is_some());
        let credentials = config
            .credentials_provider()
            .expect("a provider")
            .provide_credentials()
            .await
            .expect("credentials");
        assert_eq!(credentials.access_key_id(), "ASIAEXAMPLE");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("session"));
    }

    #[test]
    fn local_modes_endpoint_and_the_default_region_are_read() {
        let mut vars: Vec<(&str, &str)> = LAMBDA
            .iter()
            .copied()
            .filter(|(k, _)| *k != "AWS_REGION")
            .collect();
        vars.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"));
        let config = config(&vars).expect("a configuration");
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:4566"));
    }

    #[test]
    fn a_missing_variable_is_named() {
        for missing in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let vars: Vec<(&str, &str)> = LAMBDA
                .iter()
                .copied()
                .filter(|(k, _)| *k != missing)
                .collect();
            let error = config(&vars).expect_err("incomplete");
            assert_eq!(error, EnvError::Missing(missing));
            assert!(error.to_string().starts_with(missing), "{error}");
        }
        let no_region: Vec<(&str, &str)> = LAMBDA
            .iter()
            .copied()
            .filter(|(k, _)| !k.ends_with("REGION"))
            .collect();
        assert_eq!(
            config(&no_region).expect_err("no region"),
            EnvError::Missing("AWS_REGION")
        );
    }
}
