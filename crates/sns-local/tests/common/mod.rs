//! What the integration tests share: a service with a review topic, served on
//! an ephemeral loopback port, and an SDK client pointed at it.

#![allow(dead_code, unreachable_pub)] // each test binary uses part of this

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use aws_sdk_sns::config::{BehaviorVersion, Credentials, Region};
use sns_local::{SnsConfig, SnsService, TopicSpec};

pub const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:review-requests";
pub const REVIEWER: &str = "reviewer@example.com";

/// A task-token-shaped string: ~1,000 characters of base64 with `+`, `/` and `=`.
pub fn task_token() -> String {
    let mut token = "AQCEAAAAKgAAAAMAAAAAAAAAAZ+/x7Kq=".repeat(30);
    token.push_str("Zm9vYmFyPQ==");
    token
}

pub struct Local {
    pub service: Arc<SnsService>,
    pub lines: Arc<Mutex<Vec<String>>>,
}

pub fn local(state_dir: &Path) -> Local {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let config = SnsConfig::new(state_dir.join("outbox"), "us-east-1", "123456789012")
        .with_announce(move |line| sink.lock().expect("lines").push(line.to_owned()));
    let topics =
        vec![TopicSpec::new("review-requests", TOPIC).with_subscription("email", REVIEWER)];
    Local {
        service: Arc::new(SnsService::new(config, topics)),
        lines,
    }
}

/// Serves `router` on 127.0.0.1 with an ephemeral port.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

/// The real SDK client with dummy credentials, as the Lambdas build it, but against `address`.
pub fn sdk_client(address: SocketAddr) -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::Config::builder()
        .http_client(aws_https::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDLOCAL",
            "local-secret",
            None,
            None,
            "sns-local-tests",
        ))
        .endpoint_url(format!("http://{address}"))
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

/// The `.eml` files in the outbox, oldest first.
pub fn outbox(service: &SnsService) -> Vec<std::path::PathBuf> {
    sns_local::list_outbox(service.outbox_dir()).expect("outbox")
}
