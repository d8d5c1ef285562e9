//! Review Page's logs never hold a task token or the request. In a test
//! binary of its own: tracing caches per-callsite interest process-wide, so a
//! scoped subscriber races with tests on other threads hitting the same
//! callsites first (tokio-rs/tracing#2874), which made this check flaky.

mod common;

use common::*;

/// Collects what the handler logs.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_logs_never_hold_the_token_or_the_request() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Every path that logs: a refused link, a foreign token, an answer, a race,
    // a refused token and a service error.
    let sfn = FakeSfn::running();
    call(&sfn, with_query(&format!("d=approve&e={ARN}"))).await;
    call(&sfn, with_query(&format!("d=approve&e={ARN}&t={}x", TOKEN))).await;
    call(&sfn, request(GET)).await;
    call(&sfn, request(POST)).await;
    for error in [
        SfnError::TaskClosed("TaskTimedOut".to_owned()),
        SfnError::InvalidToken,
        SfnError::Service("InternalError".to_owned()),
        SfnError::AccessDenied {
            permission: "states:SendTaskSuccess",
        },
    ] {
        let mut sfn = FakeSfn::running();
        sfn.send = Err(error);
        call(&sfn, request(POST)).await;
    }

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("review answered"), "{logs}");
    assert!(logs.contains("refund-1042"), "the execution is logged");
    // An AccessDeniedException names the permission the role lacks and where to grant it.
    assert!(
        logs.contains("AccessDeniedException")
            && logs.contains("\"permission\":\"states:SendTaskSuccess\"")
            && logs.contains("ReviewFunctionReadsReviews"),
        "{logs}"
    );
    for secret in [
        TOKEN,
        "Sample+Task/Token",
        "Refund order 1042",
        "Bo Reviewer",
        "Refund window",
    ] {
        assert!(!logs.contains(secret), "{secret} logged: {logs}");
    }
}
