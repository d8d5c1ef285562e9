//! The client against a loopback server that records what it received: HTTP/1.1
//! over TLS and over plain TCP, through a real SDK client (aws-sdk-sfn), and the
//! error classes the SDK's retries read.

use std::time::Duration;

use aws_sdk_sfn::config::retry::RetryConfig;
use aws_sdk_sfn::config::timeout::TimeoutConfig;
use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::error::SdkError;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::Http1Client;

const CA: &[u8] = include_bytes!("../../tests/fixtures/ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("../../tests/fixtures/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("../../tests/fixtures/server.key");

const LIST_ANSWER: &str = r#"{"stateMachines":[{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:review","name":"review","type":"STANDARD","creationDate":1.7E9}]}"#;

fn trusting_the_test_ca() -> Http1Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(CA) {
        roots.add(cert.unwrap()).unwrap();
    }
    Http1Client::trusting(roots)
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let chain = CertificateDer::pem_slice_iter(SERVER_CERT)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config))
}

fn sfn(endpoint: &str, http: Http1Client, read_timeout: Option<Duration>) -> aws_sdk_sfn::Client {
    let mut timeouts = TimeoutConfig::builder().connect_timeout(Duration::from_secs(5));
    if let Some(limit) = read_timeout {
        timeouts = timeouts.read_timeout(limit);
    }
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(SharedHttpClient::new(http))
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts.build())
        .build();
    aws_sdk_sfn::Client::from_conf(config)
}

/// Reads one request (head and `content-length` body), answers it with `body`,
/// and returns the request's head.
async fn answer_one<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, body: &str) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the client closed before a whole request head");
        received.extend_from_slice(&buf[..n]);
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while received.len() < head_end + length {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the client closed before the whole body");
        received.extend_from_slice(&buf[..n]);
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
         x-amzn-requestid: test\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    head
}

#[tokio::test]
async fn https_to_a_trusted_server_is_http_1_1_and_the_sdk_reads_the_answer() {
    // GIVEN an HTTPS server on loopback whose certificate the client trusts
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tls_acceptor();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        (answer_one(&mut tls, LIST_ANSWER).await, alpn)
    });

    // WHEN the SDK lists state machines there
    let client = sfn(
        &format!("https://localhost:{port}"),
        trusting_the_test_ca(),
        None,
    );
    let listed = client.list_state_machines().send().await.unwrap();

    // THEN it went as HTTP/1.1 (no h2 offered by ALPN) and the answer was parsed
    let (head, alpn) = server.await.unwrap();
    assert!(head.starts_with("POST / HTTP/1.1\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("x-amz-target: awsstepfunctions.liststatemachines"),
        "{head}"
    );
    assert_ne!(alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(listed.state_machines()[0].name(), "review");
}

#[tokio::test]
async fn plain_http_serves_local_mode() {
    // GIVEN a plain HTTP server on loopback, as local mode is
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        answer_one(&mut tcp, LIST_ANSWER).await
    });

    // WHEN the SDK lists state machines there with the public constructor's client
    let client = sfn(
        &format!("http://127.0.0.1:{port}"),
        Http1Client::new(),
        None,
    );
    let listed = client.list_state_machines().send().await.unwrap();

    // THEN the request was HTTP/1.1 and the answer parsed
    assert!(server.await.unwrap().starts_with("POST / HTTP/1.1\r\n"));
    assert_eq!(listed.state_machines()[0].name(), "review");
}

#[tokio::test]
async fn a_certificate_the_client_does_not_trust_fails_the_request() {
    // GIVEN an HTTPS server whose CA the client does not trust
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tls_acceptor();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(tcp).await.is_ok()
    });

    // WHEN the SDK calls it
    let client = sfn(
        &format!("https://localhost:{port}"),
        Http1Client::trusting(rustls::RootCertStore::empty()),
        None,
    );
    let error = client.list_state_machines().send().await.unwrap_err();

    // THEN the request fails before anything is sent, naming the certificate
    assert!(matches!(error, SdkError::DispatchFailure(_)), "{error:?}");
    let detail = format!("{:?}", aws_sdk_sfn::error::DisplayErrorContext(&error));
    assert!(detail.to_lowercase().contains("certificate"), "{detail}");
    assert!(!server.await.unwrap(), "the handshake should have failed");
}

#[tokio::test]
async fn no_answer_within_the_read_timeout_is_a_timeout() {
    // GIVEN a server that accepts and never answers
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(tcp);
    });

    // WHEN the SDK calls it with a 300 ms read timeout
    let client = sfn(
        &format!("http://127.0.0.1:{port}"),
        Http1Client::new(),
        Some(Duration::from_millis(300)),
    );
    let started = std::time::Instant::now();
    let error = client.list_state_machines().send().await.unwrap_err();

    // THEN it gives up after about that long, as a timeout (which the SDK retries)
    let SdkError::DispatchFailure(failure) = &error else {
        panic!("expected a dispatch failure, got {error:?}");
    };
    assert!(failure.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    server.abort();
}

#[tokio::test]
async fn a_refused_connection_is_an_io_error() {
    // GIVEN a loopback port nothing listens on
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };

    // WHEN the SDK calls it
    let client = sfn(
        &format!("http://127.0.0.1:{port}"),
        Http1Client::new(),
        None,
    );
    let error = client.list_state_machines().send().await.unwrap_err();

    // THEN it is an I/O failure: the class the SDK's standard retry strategy retries
    let SdkError::DispatchFailure(failure) = &error else {
        panic!("expected a dispatch failure, got {error:?}");
    };
    assert!(failure.is_io(), "{error:?}");
}
