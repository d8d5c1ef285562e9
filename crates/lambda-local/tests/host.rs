//! End-to-end tests: real `lambda_runtime` processes (the
//! `lambda-local-fixture` binary) behind the host's Runtime API, driven
//! through `LambdaHost` and through the Invoke API over HTTP.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use lambda_local::{
    FunctionSpec, HostConfig, Invocation, InvokeError, LambdaHost, LogFormat, Outcome, OutputSink,
    OutputStream, StartError,
};
use serde_json::{Value, json};

const REGION: &str = "eu-west-1";
const ACCOUNT: &str = "123456789012";

fn arn(name: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
}

fn spec(name: &str) -> FunctionSpec {
    let mut spec = FunctionSpec::new(name, arn(name), env!("CARGO_BIN_EXE_lambda-local-fixture"));
    spec.timeout = Duration::from_secs(5);
    spec
}

type Lines = Arc<Mutex<Vec<String>>>;

fn config() -> (HostConfig, Lines) {
    let lines: Lines = Arc::default();
    let sink_lines = lines.clone();
    let mut config = HostConfig::new(REGION);
    config.account_id = ACCOUNT.to_owned();
    config.endpoint_url = Some("http://127.0.0.1:4599".to_owned());
    config.shutdown_grace = Duration::from_millis(500);
    config.output = OutputSink::new(move |l| {
        let stream = match l.stream {
            OutputStream::Stdout => "out",
            OutputStream::Stderr => "err",
        };
        sink_lines
            .lock()
            .unwrap()
            .push(format!("[{}:{stream}] {}", l.function, l.line));
    });
    (config, lines)
}

fn host(specs: Vec<FunctionSpec>) -> (LambdaHost, Lines) {
    let (config, lines) = config();
    (LambdaHost::start(specs, config).unwrap(), lines)
}

async fn invoke(host: &LambdaHost, function: &str, payload: Value) -> Invocation {
    host.invoke(function, Bytes::from(payload.to_string()))
        .await
        .unwrap()
}

fn success(invocation: &Invocation) -> Value {
    match &invocation.outcome {
        Outcome::Success(body) => serde_json::from_slice(body).unwrap(),
        Outcome::Error(e) => panic!("expected success, got {e:?}"),
    }
}

fn failure(invocation: &Invocation) -> (&str, &str) {
    match &invocation.outcome {
        Outcome::Error(e) => (e.error_type.as_str(), e.error_message.as_str()),
        Outcome::Success(body) => panic!("expected an error, got {body:?}"),
    }
}

fn pid_of(invocation: &Invocation) -> u64 {
    success(invocation)["pid"].as_u64().unwrap()
}

/// Alive = exists and is not a zombie.
fn alive(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

async fn wait_dead(pid: u64) -> bool {
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_returns_the_payload_and_reuses_the_warm_process() {
    let (host, _) = host(vec![spec("echo")]);
    let first = invoke(&host, "echo", json!({ "action": "echo", "n": 1 })).await;
    assert_eq!(success(&first)["echo"]["n"], 1);
    assert_eq!(first.executed_version, "$LATEST");
    let second = invoke(&host, &arn("echo"), json!({ "n": 2 })).await;
    assert_eq!(success(&second)["echo"]["n"], 2);
    assert_eq!(
        pid_of(&first),
        pid_of(&second),
        "the warm process serves the second invocation"
    );
    assert_ne!(first.request_id, second.request_id);
    assert_eq!(host.process_ids().len(), 1);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_error_keeps_its_type_and_message_and_the_process() {
    let (host, _) = host(vec![spec("fails")]);
    let payload =
        json!({ "action": "error", "type": "ApprovalNotFound", "message": "no approval abc" });
    let failed = invoke(&host, "fails", payload).await;
    assert_eq!(failure(&failed), ("ApprovalNotFound", "no approval abc"));
    let doc: Value = serde_json::from_slice(failed.payload()).unwrap();
    assert_eq!(doc["errorType"], "ApprovalNotFound");
    let Outcome::Error(_) = failed.outcome else {
        unreachable!()
    };

    // A handled error leaves the runtime running: the next call is warm.
    let next = invoke(&host, "fails", json!({})).await;
    let again = invoke(&host, "fails", json!({})).await;
    assert_eq!(pid_of(&next), pid_of(&again));
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_in_the_handler_is_a_function_error() {
    let (host, _) = host(vec![spec("panics")]);
    let failed = invoke(&host, "panics", json!({ "action": "panic" })).await;
    let (error_type, message) = failure(&failed);
    assert!(!error_type.is_empty());
    assert!(message.contains("fixture panicked on purpose"), "{message}");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_kills_the_process_and_the_next_invocation_gets_a_fresh_one() {
    let mut slow = spec("slow");
    slow.timeout = Duration::from_millis(400);
    let (host, _) = host(vec![slow]);
    let warm = invoke(&host, "slow", json!({})).await;
    let old_pid = pid_of(&warm);

    let started = Instant::now();
    let timed_out = invoke(&host, "slow", json!({ "action": "sleep", "ms": 10_000 })).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let (error_type, message) = failure(&timed_out);
    assert_eq!(error_type, "Sandbox.Timedout");
    assert_eq!(
        message,
        format!(
            "RequestId: {} Error: Task timed out after 0.40 seconds",
            timed_out.request_id
        )
    );
    assert!(timed_out.log.contains("Task timed out after 0.40 seconds"));
    assert!(wait_dead(old_pid).await, "the timed-out process was killed");

    let fresh = invoke(&host, "slow", json!({})).await;
    assert_ne!(pid_of(&fresh), old_pid);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceeding_memory_size_is_runtime_out_of_memory() {
    let mut small = spec("small");
    small.memory_mb = 64;
    let (host, _) = host(vec![small]);
    let fits = invoke(
        &host,
        "small",
        json!({ "action": "alloc", "mb": 8, "ms": 100 }),
    )
    .await;
    let old_pid = pid_of(&fits);
    let failed = invoke(
        &host,
        "small",
        json!({ "action": "alloc", "mb": 160, "ms": 2000 }),
    )
    .await;
    let (error_type, message) = failure(&failed);
    assert_eq!(error_type, "Runtime.OutOfMemory");
    assert!(
        message.ends_with("Runtime exited with error: signal: killed"),
        "{message}"
    );
    assert!(wait_dead(old_pid).await);
    let _ = success(&invoke(&host, "small", json!({})).await);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_invocation_still_finishes_and_keeps_its_process() {
    let (host, _) = host(vec![spec("patient")]);
    let pid = pid_of(&invoke(&host, "patient", json!({})).await);
    let caller = {
        let host = host.clone();
        tokio::spawn(async move {
            invoke(&host, "patient", json!({ "action": "sleep", "ms": 300 })).await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    caller.abort();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        pid_of(&invoke(&host, "patient", json!({})).await),
        pid,
        "not killed, back in the pool"
    );
    assert_eq!(host.process_ids(), vec![u32::try_from(pid).unwrap()]);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_over_six_megabytes_are_refused_both_ways() {
    let (host, _) = host(vec![spec("large")]);
    let request = Bytes::from(format!("\"{}\"", "x".repeat(6 * 1024 * 1024)));
    let refused = host.invoke("large", request).await.unwrap_err();
    assert!(
        matches!(
            refused,
            InvokeError::RequestTooLarge {
                limit: 6_291_456,
                ..
            }
        ),
        "{refused:?}"
    );

    let answer = invoke(
        &host,
        "large",
        json!({ "action": "big", "bytes": 7_000_000 }),
    )
    .await;
    let (error_type, _) = failure(&answer);
    assert_eq!(error_type, "Function.ResponseSizeTooLarge");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_executable_replaces_the_warm_process() {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("rebuild-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bootstrap = dir.join("bootstrap");
    // Like cargo: write the new binary beside, then rename it over the old one.
    let install = || {
        let staged = dir.join("bootstrap.new");
        std::fs::copy(env!("CARGO_BIN_EXE_lambda-local-fixture"), &staged).unwrap();
        std::fs::rename(&staged, &bootstrap).unwrap();
    };
    install();
    let mut function = spec("rebuilt");
    function.executable = bootstrap.clone();
    let (host, _) = host(vec![function]);
    let first = pid_of(&invoke(&host, "rebuilt", json!({})).await);
    assert_eq!(pid_of(&invoke(&host, "rebuilt", json!({})).await), first);
    install();
    let second = pid_of(&invoke(&host, "rebuilt", json!({})).await);
    assert_ne!(second, first, "the new build runs");
    assert!(wait_dead(first).await, "the old build's process is gone");
    host.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_invocations_run_in_the_background() {
    let (host, lines) = host(vec![spec("events")]);
    let payload = Bytes::from(json!({ "action": "log", "message": "queued" }).to_string());
    let request_id = host.invoke_event("events", payload).await.unwrap();
    assert!(!request_id.is_empty());
    let until = Instant::now() + Duration::from_secs(3);
    while !lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l == "[events:out] to stdout: queued")
    {
        assert!(Instant::now() < until, "the event never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let too_big = Bytes::from(format!("\"{}\"", "x".repeat(1024 * 1024)));
    assert!(matches!(
        host.invoke_event("events", too_big).await,
        Err(InvokeError::RequestTooLarge {
            limit: 1_048_576,
            ..
        })
    ));
    assert!(matches!(
        host.invoke_event("nope", Bytes::new()).await,
        Err(InvokeError::FunctionNotFound { .. })
    ));
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_reports_runtime_exit_error_and_recovers() {
    let (host, _) = host(vec![spec("crashes")]);
    let before = invoke(&host, "crashes", json!({})).await;
    let crashed = invoke(&host, "crashes", json!({ "action": "exit", "code": 3 })).await;
    let (error_type, message) = failure(&crashed);
    assert_eq!(error_type, "Runtime.ExitError");
    assert_eq!(
        message,
        format!(
            "RequestId: {} Error: Runtime exited with error: exit status 3",
            crashed.request_id
        )
    );
    let after = invoke(&host, "crashes", json!({})).await;
    assert_ne!(pid_of(&after), pid_of(&before));
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_error_fails_the_invocation_with_the_reported_error() {
    let mut broken = spec("broken");
    broken
        .environment
        .insert("FIXTURE_INIT_ERROR".into(), "TABLE_NAME is not set".into());
    let (host, _) = host(vec![broken]);
    let failed = invoke(&host, "broken", json!({})).await;
    assert_eq!(
        failure(&failed),
        ("Fixture.InitError", "TABLE_NAME is not set")
    );
    host.shutdown().await;
    assert!(host.process_ids().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_run_in_separate_processes_up_to_the_limit() {
    let (mut config, _) = config();
    config.max_concurrency = 2;
    let host = LambdaHost::start(vec![spec("busy")], config).unwrap();
    let started = Instant::now();
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let host = host.clone();
            tokio::spawn(async move {
                invoke(&host, "busy", json!({ "action": "sleep", "ms": 400 })).await
            })
        })
        .collect();
    let mut pids = Vec::new();
    for call in calls {
        pids.push(pid_of(&call.await.unwrap()));
    }
    let elapsed = started.elapsed();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 2, "two processes at most, both used");
    // Two in parallel, then the third on a freed (warm) process.
    assert!(elapsed >= Duration::from_millis(800), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(3000), "{elapsed:?}");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_and_reserved_variables_reach_the_function() {
    let mut function = spec("envy");
    function.memory_mb = 256;
    function.log_format = LogFormat::Json;
    function.application_log_level = Some("DEBUG".into());
    function
        .environment
        .insert("TABLE_NAME".into(), "approvals".into());
    function
        .environment
        .insert("AWS_REGION".into(), "us-east-1".into());
    let (host, _) = host(vec![function]);
    let names = [
        "TABLE_NAME",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_LOG_FORMAT",
        "AWS_LAMBDA_LOG_LEVEL",
        "AWS_LAMBDA_RUNTIME_API",
        "_HANDLER",
        "AWS_PROFILE",
    ];
    let answer = invoke(&host, "envy", json!({ "action": "env", "names": names })).await;
    let env = &success(&answer)["env"];
    assert_eq!(env["TABLE_NAME"], "approvals");
    assert_eq!(
        env["AWS_REGION"], REGION,
        "reserved variables cannot be overridden"
    );
    assert_eq!(env["AWS_DEFAULT_REGION"], REGION);
    assert_eq!(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:4599");
    assert_eq!(env["AWS_ACCESS_KEY_ID"], "test");
    assert_eq!(env["AWS_SECRET_ACCESS_KEY"], "test");
    assert_eq!(env["AWS_SESSION_TOKEN"], "test");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "envy");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/envy");
    assert!(
        env["AWS_LAMBDA_LOG_STREAM_NAME"]
            .as_str()
            .unwrap()
            .contains("/[$LATEST]")
    );
    assert_eq!(env["AWS_LAMBDA_LOG_FORMAT"], "JSON");
    assert_eq!(env["AWS_LAMBDA_LOG_LEVEL"], "DEBUG");
    assert!(
        env["AWS_LAMBDA_RUNTIME_API"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert_eq!(env["_HANDLER"], "bootstrap");
    assert_eq!(
        env["AWS_PROFILE"],
        Value::Null,
        "the host's AWS settings do not leak in"
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_headers_carry_deadline_arn_trace_and_request_id() {
    let mut function = spec("ctx");
    function.timeout = Duration::from_secs(7);
    function.aliases = vec!["live".into()];
    let (host, _) = host(vec![function]);
    let answer = invoke(&host, "ctx:live", json!({ "action": "context" })).await;
    let context = success(&answer);
    assert_eq!(context["request_id"], answer.request_id.as_str());
    assert_eq!(
        context["invoked_function_arn"],
        format!("{}:live", arn("ctx"))
    );
    assert!(context["trace_id"].as_str().unwrap().starts_with("Root=1-"));
    let deadline = context["deadline_ms"].as_u64().unwrap();
    let now = u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let left = deadline.saturating_sub(now);
    assert!(
        (5_500..=7_000).contains(&left),
        "{left} ms left of a 7 s timeout"
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_lines_are_forwarded_with_the_function_name_and_logged() {
    let (host, lines) = host(vec![spec("chatty")]);
    let answer = invoke(
        &host,
        "chatty",
        json!({ "action": "log", "message": "hello" }),
    )
    .await;
    let _ = success(&answer);
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        let seen = lines.lock().unwrap().clone();
        if seen.contains(&"[chatty:out] to stdout: hello".to_owned())
            && seen.contains(&"[chatty:err] to stderr: hello".to_owned())
        {
            break;
        }
        assert!(Instant::now() < until, "lines not forwarded: {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        answer
            .log
            .starts_with(&format!("START RequestId: {}", answer.request_id))
    );
    assert!(answer.log.contains("REPORT RequestId:"));
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_cold_invocation_reports_an_init_duration() {
    let (host, _) = host(vec![spec("cold")]);
    let cold = invoke(&host, "cold", json!({ "action": "echo" })).await;
    let warm = invoke(&host, "cold", json!({ "action": "echo" })).await;
    let report = |i: &Invocation| {
        i.log
            .lines()
            .find(|l| l.starts_with("REPORT"))
            .unwrap_or_default()
            .to_owned()
    };
    let init_ms: f64 = report(&cold)
        .split('\t')
        .find_map(|f| f.strip_prefix("Init Duration: ")?.strip_suffix(" ms"))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("no Init Duration in {}", cold.log));
    assert!(init_ms > 0.0, "{init_ms}");
    assert!(!report(&warm).contains("Init Duration"), "{}", warm.log);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_functions_and_qualifiers_are_not_found() {
    let (host, _) = host(vec![spec("known")]);
    let missing = host.invoke("nope", Bytes::new()).await.unwrap_err();
    assert_eq!(missing, InvokeError::FunctionNotFound { arn: arn("nope") });
    assert_eq!(
        missing.to_string(),
        format!("Function not found: {}", arn("nope"))
    );
    let qualifier = host.invoke("known:v7", Bytes::new()).await.unwrap_err();
    assert_eq!(
        qualifier,
        InvokeError::FunctionNotFound {
            arn: format!("{}:v7", arn("known"))
        }
    );
    let other_account = host
        .invoke(
            "arn:aws:lambda:eu-west-1:999999999999:function:known",
            Bytes::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        other_account,
        InvokeError::FunctionNotFound { .. }
    ));
    let partial = invoke(&host, &format!("{ACCOUNT}:function:known"), json!({})).await;
    let _ = success(&partial);
    host.shutdown().await;
}

#[test]
fn start_rejects_a_missing_executable() {
    let (config, _) = config();
    let mut function = spec("ghost");
    function.executable = PathBuf::from("/nonexistent/bootstrap");
    let error = LambdaHost::start(vec![function], config).unwrap_err();
    assert!(
        matches!(error, StartError::MissingExecutable { .. }),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_every_process_and_refuses_new_invocations() {
    let (host, _) = host(vec![spec("a"), spec("b")]);
    let a = pid_of(&invoke(&host, "a", json!({})).await);
    let b = pid_of(&invoke(&host, "b", json!({})).await);
    // The warm process of `a` is busy when shutdown starts.
    let busy = {
        let host = host.clone();
        tokio::spawn(async move {
            host.invoke("a", Bytes::from(r#"{"action":"sleep","ms":10000}"#))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pids = host.process_ids();
    assert_eq!(pids.len(), 2);
    host.shutdown().await;
    for pid in pids.iter().map(|&p| u64::from(p)).chain([a, b]) {
        assert!(!alive(pid), "process {pid} survived shutdown");
    }
    let interrupted = busy.await.unwrap().unwrap();
    assert!(matches!(interrupted.outcome, Outcome::Error(_)));
    assert_eq!(
        host.invoke("a", Bytes::new()).await.unwrap_err(),
        InvokeError::ShuttingDown
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_host_kills_its_processes() {
    let (host, _) = host(vec![spec("dropped")]);
    let pid = pid_of(&invoke(&host, "dropped", json!({})).await);
    drop(host);
    assert!(wait_dead(pid).await, "process {pid} outlived the host");
}

mod invoke_api {
    use super::*;
    use base64::Engine as _;

    async fn serve(host: &LambdaHost) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = host.router();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}")
    }

    fn url(base: &str, function: &str) -> String {
        format!("{base}/2015-03-31/functions/{function}/invocations")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn request_response_success_and_function_error() {
        let (host, _) = host(vec![spec("api")]);
        let base = serve(&host).await;
        let client = reqwest::Client::new();

        let ok = client
            .post(url(&base, "api"))
            .header("X-Amz-Log-Type", "Tail")
            .body(json!({ "hello": "world" }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.headers()["x-amz-executed-version"], "$LATEST");
        assert!(ok.headers().get("x-amz-function-error").is_none());
        let log = base64::engine::general_purpose::STANDARD
            .decode(ok.headers()["x-amz-log-result"].as_bytes())
            .unwrap();
        assert!(
            String::from_utf8(log)
                .unwrap()
                .contains("REPORT RequestId:")
        );
        let body: Value = ok.json().await.unwrap();
        assert_eq!(body["echo"]["hello"], "world");

        let failed = client
            .post(url(&base, "api"))
            .body(json!({ "action": "error", "type": "Rejected", "message": "nope" }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(failed.status(), 200);
        assert_eq!(failed.headers()["x-amz-function-error"], "Unhandled");
        let body: Value = failed.json().await.unwrap();
        assert_eq!(
            (body["errorType"].as_str(), body["errorMessage"].as_str()),
            (Some("Rejected"), Some("nope"))
        );

        // Full ARN in the path, percent-encoded as the SDKs send it, with a qualifier.
        let encoded = arn("api").replace(':', "%3A");
        let by_arn = client
            .post(format!("{}?Qualifier=%24LATEST", url(&base, &encoded)))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(by_arn.status(), 200);
        host.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unknown_function_is_resource_not_found() {
        let (host, _) = host(vec![spec("api")]);
        let base = serve(&host).await;
        let response = reqwest::Client::new()
            .post(url(&base, "missing"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(
            response.headers()["x-amzn-errortype"],
            "ResourceNotFoundException"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({ "Type": "User", "message": format!("Function not found: {}", arn("missing")) })
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn event_and_dry_run_invocation_types() {
        let (host, lines) = host(vec![spec("api")]);
        let base = serve(&host).await;
        let client = reqwest::Client::new();

        let dry = client
            .post(url(&base, "api"))
            .header("X-Amz-Invocation-Type", "DryRun")
            .send()
            .await
            .unwrap();
        assert_eq!(dry.status(), 204);
        assert!(host.process_ids().is_empty(), "a dry run starts nothing");

        let event = client
            .post(url(&base, "api"))
            .header("X-Amz-Invocation-Type", "Event")
            .body(json!({ "action": "log", "message": "async" }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(event.status(), 202);
        let until = Instant::now() + Duration::from_secs(3);
        while !lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.ends_with("to stdout: async"))
        {
            assert!(Instant::now() < until, "the event never ran");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let not_json = client
            .post(url(&base, "api"))
            .body("{nope")
            .send()
            .await
            .unwrap();
        assert_eq!(not_json.status(), 400);
        assert_eq!(
            not_json.headers()["x-amzn-errortype"],
            "InvalidRequestContentException"
        );

        let bad = client
            .post(url(&base, "api"))
            .header("X-Amz-Invocation-Type", "Sometimes")
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        host.shutdown().await;
    }
}
