//! Bad requests and hostile definitions against the real `sfn-local` binary
//! (docs/reliability.md, faults 4 and 5): each gets AWS's error code, or runs to an end
//! within bounded time and memory, and the server stays up.

mod common;

use std::time::{Duration, Instant};

use common::{Binary, Client, free_port, temp_dir, wait_ready};
use serde_json::{Value, json};

/// The server's peak memory may not pass this (debug build; it idles at ~15 MiB).
const MAX_PEAK_RSS_KIB: u64 = 512 * 1024;

struct Fixture {
    c: Client,
    server: Binary,
    dir: std::path::PathBuf,
    url: String,
}

impl Fixture {
    async fn start(tag: &str) -> Self {
        let dir = temp_dir(tag);
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/");
        let c = Client::new(url.clone());
        let server = Binary::spawn(port, &dir);
        wait_ready(&c).await;
        Self {
            c,
            server,
            dir,
            url,
        }
    }

    /// The process is alive, answers, and stayed under [`MAX_PEAK_RSS_KIB`].
    async fn assert_up(&mut self, after: &str) {
        assert!(
            matches!(self.server.child.try_wait(), Ok(None)),
            "sfn-local exited after {after}"
        );
        let r = self.c.call("ListStateMachines", json!({})).await;
        assert!(r.is_ok(), "sfn-local does not answer after {after}: {r:?}");
        if let Some(peak) = self.server.peak_rss_kib() {
            assert!(
                peak < MAX_PEAK_RSS_KIB,
                "peak memory {peak} KiB after {after}"
            );
        }
    }

    /// POSTs raw bytes with optional X-Amz-Target: (status, __type).
    async fn post(&self, target: Option<&str>, body: Vec<u8>) -> (u16, String) {
        let mut req = self
            .c
            .http
            .post(&self.url)
            .header("Content-Type", "application/x-amz-json-1.0")
            .body(body);
        if let Some(t) = target {
            req = req.header("X-Amz-Target", t);
        }
        match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                (
                    status,
                    v["__type"].as_str().unwrap_or("<not JSON>").to_owned(),
                )
            }
            Err(e) => (0, format!("transport: {e}")),
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.server.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Levels of arrays and objects.
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn bad_requests_get_aws_error_codes_and_the_server_stays_up() {
    let mut f = Fixture::start("bad-requests").await;
    let sm =
        f.c.create(
            "pass",
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        )
        .await;
    let start = Some("AWSStepFunctions.StartExecution");
    let big = |n: usize| {
        format!(
            "{{\"stateMachineArn\": \"{sm}\", \"input\": \"{}\"}}",
            "x".repeat(n)
        )
    };
    // (what, X-Amz-Target, body, expected status, expected __type)
    type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        // No X-Amz-Target at all (other targets: http_api.rs).
        ("no X-Amz-Target", None, b"{}".to_vec(), 400, "UnknownOperationException"),
        ("empty X-Amz-Target", Some(""), b"{}".to_vec(), 400, "UnknownOperationException"),
        ("malformed JSON", start, b"{\"stateMachineArn\": ".to_vec(), 400, "SerializationException"),
        ("a JSON array body", start, b"[1, 2]".to_vec(), 400, "SerializationException"),
        ("a JSON string body", start, b"\"StartExecution\"".to_vec(), 400, "SerializationException"),
        ("not UTF-8", start, vec![0xff, 0xfe, b'{', b'}'], 400, "SerializationException"),
        ("JSON nested 100,000 deep", start, nested(100_000).into_bytes(), 400, "SerializationException"),
        (
            "a number where a string belongs",
            start,
            json!({"stateMachineArn": sm, "name": 5}).to_string().into_bytes(),
            400,
            "SerializationException",
        ),
        (
            "an object where the input string belongs",
            start,
            json!({"stateMachineArn": sm, "input": {"a": 1}}).to_string().into_bytes(),
            400,
            "SerializationException",
        ),
        (
            "a string where maxResults belongs",
            Some("AWSStepFunctions.ListStateMachines"),
            json!({"maxResults": "ten"}).to_string().into_bytes(),
            400,
            "SerializationException",
        ),
        (
            "a string where reverseOrder belongs",
            Some("AWSStepFunctions.GetExecutionHistory"),
            json!({"executionArn": format!("{}:x", sm.replace(":stateMachine:", ":execution:")), "reverseOrder": "yes"})
                .to_string()
                .into_bytes(),
            400,
            "SerializationException",
        ),
        (
            "missing required members",
            start,
            b"{}".to_vec(),
            400,
            "ValidationException",
        ),
        // AWS's 256 KiB payload quota, in a request under the 1 MB request quota.
        ("input of 256 KiB + 1", start, big(256 * 1024 + 1).into_bytes(), 400, "InvalidExecutionInput"),
        // AWS's 1 MB request quota: a larger body is refused before it is read whole.
        ("a body of 1 MiB + 1", start, big(1024 * 1024).into_bytes(), 413, "RequestEntityTooLargeException"),
    ];
    // A client sending a 64 MiB body is answered 413 once 1 MiB is read, not 64.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = f
            .url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let mut s = tokio::net::TcpStream::connect(&addr)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSStepFunctions.StartExecution\r\n\
             Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n",
            64 * 1024 * 1024
        );
        let _ = s.write_all(head.as_bytes()).await;
        let _ = s.write_all(&vec![b' '; 1024 * 1024 + 64 * 1024]).await;
        let mut reply = vec![0; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut reply))
            .await
            .unwrap_or_else(|_| panic!("no answer to a 64 MiB body within 10 s"))
            .unwrap_or(0);
        let reply = String::from_utf8_lossy(&reply[..n]);
        assert!(
            reply.starts_with("HTTP/1.1 413") && reply.contains("RequestEntityTooLargeException"),
            "{reply}"
        );
        f.assert_up("a body of 64 MiB").await;
    }
    for (what, target, body, status, code) in cases {
        let began = Instant::now();
        let got = f.post(target, body).await;
        assert_eq!(got, (status, code.to_owned()), "{what}");
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "{what} took {:?}",
            began.elapsed()
        );
        f.assert_up(what).await;
    }
}

/// Creates `def`, starts it, and waits for its end: (status, error, seconds).
async fn run(f: &Fixture, name: &str, def: &Value, input: &Value) -> (String, String, f64) {
    let began = Instant::now();
    let sm = f.c.create(name, def.clone()).await;
    let exec = f.c.start(&sm, "run", input.clone()).await;
    let d = f.c.wait_done(&exec, 120).await;
    let took = began.elapsed().as_secs_f64();
    println!("{name}: {} {} in {took:.1} s", d["status"], d["error"]);
    (
        d["status"].as_str().unwrap_or_default().to_owned(),
        d["error"].as_str().unwrap_or_default().to_owned(),
        took,
    )
}

#[tokio::test]
async fn hostile_definitions_are_refused_or_run_in_bounded_time_and_memory() {
    let mut f = Fixture::start("hostile").await;
    let create = |name: &str, def: String| json!({"name": name, "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"});

    // A definition nested deeper than JSON parsing allows.
    let deep = format!(
        "{{\"StartAt\": \"P\", \"States\": {{\"P\": {{\"Type\": \"Pass\", \"Result\": {}, \"End\": true}}}}}}",
        nested(100_000)
    );
    let r =
        f.c.call("CreateStateMachine", create("deep-json", deep))
            .await;
    assert!(
        matches!(&r, Err((400, code, _)) if code == "InvalidDefinition"),
        "{r:?}"
    );
    f.assert_up("a definition nested 100,000 deep").await;

    // Parallel states nested as deep as the JSON limit allows: they run.
    let mut def = json!({"StartAt": "L", "States": {"L": {"Type": "Pass", "End": true}}});
    let mut levels = 0;
    for _ in 0..40 {
        // State names are unique across the whole machine.
        let name = format!("P{levels}");
        let wrapped = json!({"StartAt": name, "States": {name.clone(): {"Type": "Parallel", "Branches": [def.clone()], "End": true}}});
        // serde_json parses up to 128 levels of arrays and objects.
        if depth(&wrapped) > 120 {
            break;
        }
        def = wrapped;
        levels += 1;
    }
    let (status, _, _) = run(&f, "nested-parallel", &def, &json!({})).await;
    assert_eq!(status, "SUCCEEDED", "{levels} nested Parallel states");
    f.assert_up("nested Parallel states").await;

    // A Map over 30,000 items with no concurrency limit: the execution reaches AWS's
    // 25,000-event history limit and fails; nothing runs away.
    let map = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 0,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I",
                          "States": {"I": {"Type": "Pass", "End": true}}},
        "End": true}}});
    let items: Vec<u32> = (0..30_000).collect();
    let (status, error, _) = run(&f, "huge-map", &map, &json!(items)).await;
    assert_eq!(
        (status.as_str(), error.as_str()),
        ("FAILED", "States.Runtime")
    );
    f.assert_up("a Map over 30,000 items").await;

    // A Map with a huge MaxConcurrency over 1,000 items: runs.
    let map = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 2_147_483_647_u64,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I",
                          "States": {"I": {"Type": "Pass", "End": true}}},
        "End": true}}});
    let items: Vec<u32> = (0..1_000).collect();
    let (status, _, _) = run(&f, "wide-map", &map, &json!(items)).await;
    assert_eq!(status, "SUCCEEDED");
    f.assert_up("a Map with MaxConcurrency 2^31-1").await;

    // A runaway Retry: 99,999,999 attempts, no delay. It ends at the history limit.
    let retry = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:getItem",
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 0, "MaxAttempts": 99_999_999}],
        "End": true}}});
    let (status, error, _) = run(&f, "runaway-retry", &retry, &json!({})).await;
    assert_eq!(
        (status.as_str(), error.as_str()),
        ("FAILED", "States.Runtime")
    );
    f.assert_up("a runaway Retry").await;

    // A loop through a Choice that never ends: the history limit ends it.
    let looping = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": false, "Next": "A"}], "Default": "D"},
        "D": {"Type": "Succeed"}}});
    let (status, error, _) = run(&f, "endless-loop", &looping, &json!({})).await;
    assert_eq!(
        (status.as_str(), error.as_str()),
        ("FAILED", "States.Runtime")
    );
    f.assert_up("an endless loop").await;

    // A Parallel with 5,000 branches runs (20,004 events, under the 25,000 limit). It
    // took 276 s: the interpreter copied every branch's input and result each time a
    // branch finished (quadratic); now about 3 s.
    let began = Instant::now();
    let branches: Vec<Value> = (0..5_000)
        .map(|i| json!({"StartAt": format!("B{i}"), "States": {format!("B{i}"): {"Type": "Pass", "End": true}}}))
        .collect();
    let wide = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
        "Branches": branches, "End": true}}});
    let (status, _, _) = run(&f, "wide-parallel", &wide, &json!({})).await;
    assert_eq!(status, "SUCCEEDED");
    assert!(
        began.elapsed() < Duration::from_secs(30),
        "5,000 branches took {:?}",
        began.elapsed()
    );
    f.assert_up("a Parallel with 5,000 branches").await;

    // A definition just under AWS's 1 MB quota: 9,000 chained Pass states. It runs.
    let mut states = serde_json::Map::new();
    for i in 0..9_000 {
        let next = if i + 1 < 9_000 {
            json!({"Type": "Pass", "Comment": "padding padding padding padding padding", "Next": format!("S{}", i + 1)})
        } else {
            json!({"Type": "Pass", "End": true})
        };
        states.insert(format!("S{i}"), next);
    }
    let long = json!({"StartAt": "S0", "States": states});
    assert!(
        long.to_string().len() < 1024 * 1024,
        "{}",
        long.to_string().len()
    );
    let (status, _, _) = run(&f, "long-chain", &long, &json!({})).await;
    assert_eq!(status, "SUCCEEDED");
    f.assert_up("9,000 chained states").await;

    // Over the 1 MB quota: refused (the request itself is over AWS's 1 MB request quota).
    let huge = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true,
        "Comment": "x".repeat(1024 * 1024)}}});
    let r =
        f.c.call("CreateStateMachine", create("huge", huge.to_string()))
            .await;
    assert!(
        matches!(&r, Err((413, code, _)) if code == "RequestEntityTooLargeException"),
        "{r:?}"
    );
    f.assert_up("a definition over 1 MB").await;
    if let Some(peak) = f.server.peak_rss_kib() {
        println!("peak memory of sfn-local: {} MiB", peak / 1024);
    }
}
