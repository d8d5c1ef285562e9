//! Fixtures for the tests that drive local mode end to end: the real `hitl local`,
//! the real AWS CLI, aws-sdk-sfn and the `hitl` commands, the email outbox, and
//! the review page over HTTP. The end-to-end, browser and SDK tests of every
//! crate use these instead of each starting the stack and waiting for emails
//! its own way (issue 16).
//!
//! - [`LocalMode`]: the real `hitl local` binary as a child process, on a free
//!   loopback port and a temporary state directory. Dropping it stops it as a
//!   user would (SIGTERM, so it stops its function processes), then SIGKILL if
//!   it hangs; [`LocalMode::kill`] is the crash a test may want.
//! - [`shared`]: one instance for many tests, alive while a test holds it and
//!   stopped by the last one (a `static` is never dropped and would leave
//!   `hitl local` running after the tests).
//! - The three ways a user drives the workflow, all pointed at local mode and
//!   never at AWS: [`AwsCli`] (the real AWS CLI, skipped when not installed),
//!   [`Sdk`] (aws-sdk-sfn) and [`Hitl`] (the `hitl` commands). The first two
//!   implement [`StepFunctions`], so a flow is written once for both.
//!   [`loopback_sdk_config`] is the SDK configuration for any local server.
//! - [`Outbox`]: the `.eml` files local SNS writes, and [`ReviewEmail`], the
//!   review request read from one; [`http`], the review page's requests.
//! - [`cargo_env`]: what a test must remove before it runs a nested cargo.
//!
//! Waits poll against a deadline ([`poll`]); nothing sleeps a fixed time.
//! A failing test keeps the instance's directory (state and `hitl-local.log`)
//! and prints where; `HITL_E2E_KEEP=1` keeps every one.
//!
//! The `hitl` binary is the one beside the running test's executable
//! (`target/<profile>/hitl`): cargo builds it for crates/hitl's integration
//! tests; other packages' tests build it first (see [`binary`]).

pub mod cargo_env;
mod clients;
mod local_mode;
mod outbox;
mod web;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use clients::{AwsCli, Described, Hitl, Sdk, StepFunctions, cli_command};
pub use local_mode::{LocalMode, SharedSlot, shared};
pub use outbox::{Outbox, ReviewEmail};
pub use web::{http, query_value};

/// Where the decision topic's email subscription points (`DecisionEmail`).
pub const DECISION_EMAIL: &str = "decisions@example.com";
/// The reviewer address local mode fills in for `ReviewerEmail`.
pub const REVIEWER_EMAIL: &str = "reviewer@example.com";
/// Local mode's region, as the review email's commands name it.
pub const REGION: &str = "us-east-1";
/// A SAM configuration file that does not exist, so no developer's
/// samconfig.toml (stack name, region) is read.
pub const NO_SAMCONFIG: &str = "/nonexistent/samconfig.toml";

/// How long `hitl local` may take to be ready. The first run compiles the
/// functions in the dev profile; later runs only check that they are fresh.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a SIGTERM'd `hitl local` may take to stop its functions and exit.
pub(crate) const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an execution, an email or a listing may take to appear.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The repository root: `template.yaml`, `events/` and `statemachine/`.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The workspace binary `name` of the running test's profile: beside the test
/// executable's `deps/` directory (`target/debug/deps/x-123` → `target/debug/name`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lies in target/<profile>/deps");
    profile_dir.join(name)
}

/// A loopback port free at the moment of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|error| panic!("no free loopback port: {error}"))
}

/// The SDK configuration for a local server at `endpoint`: this workspace's HTTP
/// client, region [`REGION`], dummy credentials, no retries (a test sees the
/// first error) and no profile read.
pub async fn loopback_sdk_config(endpoint: &str) -> aws_https::SdkConfig {
    loopback_sdk_config_in(endpoint, REGION).await
}

/// [`loopback_sdk_config`] in another region (a server whose ARNs name one).
pub async fn loopback_sdk_config_in(endpoint: &str, region: &str) -> aws_https::SdkConfig {
    aws_https::defaults()
        .endpoint_url(endpoint)
        .region(aws_types::region::Region::new(region.to_owned()))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .retry_config(aws_sdk_sfn::config::retry::RetryConfig::disabled())
        .load()
        .await
}

/// A file of `events/`, as text.
pub fn event_text(name: &str) -> String {
    let path = repo_root().join("events").join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// A file of `events/`, parsed.
pub fn event(name: &str) -> Value {
    serde_json::from_str(&event_text(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// Calls `probe` until it gives a value, or panics after `timeout` naming
/// `what` and what `context` tells about the state at that moment.
pub fn poll<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Option<T>,
    context: impl FnOnce() -> String,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        if Instant::now() >= deadline {
            panic!(
                "timed out after {:.1}s waiting for {what}\n{}",
                timeout.as_secs_f64(),
                context()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
