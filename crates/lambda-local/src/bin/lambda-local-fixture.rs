//! Test fixture for `lambda-local`: a real `lambda_runtime` function whose
//! behaviour the payload picks (`{"action": "echo" | "sleep" | "error" |
//! "exit" | "panic" | "big" | "alloc" | "env" | "context" | "log", ...}`). Every success
//! answer carries the process id, so tests can tell warm from cold starts.
//!
//! With `FIXTURE_INIT_ERROR` set it reports that message to
//! `/runtime/init/error` and exits instead of serving invocations.

use std::io::{Read as _, Write as _};
use std::time::{Duration, UNIX_EPOCH};

use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[derive(Debug)]
struct FixtureError {
    error_type: String,
    message: String,
}

impl From<FixtureError> for Diagnostic {
    fn from(e: FixtureError) -> Self {
        Diagnostic {
            error_type: e.error_type,
            error_message: e.message,
        }
    }
}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, FixtureError> {
    let (payload, context) = event.into_parts();
    let pid = std::process::id();
    let text = |key: &str| {
        payload
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match payload
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("echo")
    {
        "sleep" => {
            let ms = payload.get("ms").and_then(Value::as_u64).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(json!({ "pid": pid, "slept_ms": ms }))
        }
        "error" => Err(FixtureError {
            error_type: text("type"),
            message: text("message"),
        }),
        "exit" => {
            let code = payload.get("code").and_then(Value::as_i64).unwrap_or(3);
            std::process::exit(i32::try_from(code).unwrap_or(3))
        }
        "panic" => panic!("fixture panicked on purpose"),
        "big" => {
            let bytes = payload.get("bytes").and_then(Value::as_u64).unwrap_or(0);
            Ok(json!({ "pid": pid, "pad": "x".repeat(usize::try_from(bytes).unwrap_or(0)) }))
        }
        "alloc" => {
            // Touch every page so it is resident, then hold it a while.
            let mb = payload.get("mb").and_then(Value::as_u64).unwrap_or(0);
            let hold = vec![1_u8; usize::try_from(mb).unwrap_or(0) * 1024 * 1024];
            tokio::time::sleep(Duration::from_millis(
                payload.get("ms").and_then(Value::as_u64).unwrap_or(0),
            ))
            .await;
            Ok(json!({ "pid": pid, "held": hold.len() }))
        }
        "env" => {
            let names = payload
                .get("names")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let vars: serde_json::Map<String, Value> = names
                .iter()
                .filter_map(Value::as_str)
                .map(|n| {
                    (
                        n.to_owned(),
                        std::env::var(n).map_or(Value::Null, Value::String),
                    )
                })
                .collect();
            Ok(json!({ "pid": pid, "env": vars }))
        }
        "context" => Ok(json!({
            "pid": pid,
            "request_id": context.request_id,
            "deadline_ms": context.deadline,
            "invoked_function_arn": context.invoked_function_arn,
            "trace_id": context.xray_trace_id,
            "now_ms": UNIX_EPOCH.elapsed().map_or(0, |d| d.as_millis()),
        })),
        "log" => {
            println!("to stdout: {}", text("message"));
            eprintln!("to stderr: {}", text("message"));
            Ok(json!({ "pid": pid }))
        }
        _ => Ok(json!({ "pid": pid, "echo": payload })),
    }
}

/// Posts `/runtime/init/error` by hand: `lambda_runtime` only does so for SnapStart hooks.
fn report_init_error(message: &str) -> std::io::Result<()> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").map_err(std::io::Error::other)?;
    let body = json!({ "errorType": "Fixture.InitError", "errorMessage": message }).to_string();
    let mut stream = std::net::TcpStream::connect(&api)?;
    write!(
        stream,
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\n\
         Lambda-Runtime-Function-Error-Type: Fixture.InitError\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    if let Ok(message) = std::env::var("FIXTURE_INIT_ERROR") {
        report_init_error(&message)?;
        std::process::exit(1);
    }
    lambda_runtime::run(service_fn(handler)).await
}
