//! Helpers shared by the end-to-end tests: a JSON 1.0 client, temp directories and the
//! real `sfn-local` binary as a child process.
#![allow(dead_code)]

use serde_json::{Value, json};

pub(crate) struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) url: String,
}

/// `Ok(body)` on HTTP 200, `Err((status, __type, message))` otherwise.
pub(crate) type Reply = Result<Value, (u16, String, String)>;

impl Client {
    pub(crate) fn new(url: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            url,
        }
    }

    pub(crate) async fn call(&self, op: &str, body: Value) -> Reply {
        self.raw(&format!("AWSStepFunctions.{op}"), body.to_string())
            .await
    }

    pub(crate) async fn raw(&self, target: &str, body: String) -> Reply {
        let r = self
            .http
            .post(&self.url)
            .header("X-Amz-Target", target)
            .header("Content-Type", "application/x-amz-json-1.0")
            .body(body)
            .send()
            .await
            .map_err(|e| (0, "transport".to_owned(), e.to_string()))?;
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status == 200 {
            Ok(v)
        } else {
            Err((
                status,
                v["__type"].as_str().unwrap_or_default().to_owned(),
                v["message"].as_str().unwrap_or_default().to_owned(),
            ))
        }
    }

    pub(crate) async fn create(&self, name: &str, def: Value) -> String {
        let r = self
            .call(
                "CreateStateMachine",
                json!({"name": name, "definition": def.to_string(), "roleArn": "arn:aws:iam::123456789012:role/r"}),
            )
            .await;
        match r {
            Ok(v) => v["stateMachineArn"].as_str().unwrap_or_default().to_owned(),
            Err(e) => panic!("CreateStateMachine: {e:?}"),
        }
    }

    pub(crate) async fn start(&self, sm: &str, name: &str, input: Value) -> String {
        match self
            .call(
                "StartExecution",
                json!({"stateMachineArn": sm, "name": name, "input": input.to_string()}),
            )
            .await
        {
            Ok(v) => v["executionArn"].as_str().unwrap_or_default().to_owned(),
            Err(e) => panic!("StartExecution: {e:?}"),
        }
    }

    pub(crate) async fn history(&self, exec: &str) -> Vec<Value> {
        match self
            .call(
                "GetExecutionHistory",
                json!({"executionArn": exec, "maxResults": 1000}),
            )
            .await
        {
            Ok(v) => v["events"].as_array().cloned().unwrap_or_default(),
            Err(e) => panic!("GetExecutionHistory: {e:?}"),
        }
    }

    /// The task token the first TaskScheduled event passed as `Parameters.token`.
    pub(crate) async fn token(&self, exec: &str) -> String {
        for _ in 0..100 {
            for ev in self.history(exec).await {
                if ev["type"] == "TaskScheduled" {
                    let p: Value = serde_json::from_str(
                        ev["taskScheduledEventDetails"]["parameters"]
                            .as_str()
                            .unwrap_or("{}"),
                    )
                    .unwrap_or(Value::Null);
                    return p["token"].as_str().unwrap_or_default().to_owned();
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no TaskScheduled event in {exec}");
    }

    pub(crate) async fn status(&self, exec: &str) -> Value {
        match self
            .call("DescribeExecution", json!({"executionArn": exec}))
            .await
        {
            Ok(v) => v,
            Err(e) => panic!("DescribeExecution: {e:?}"),
        }
    }

    /// Polls until the execution leaves RUNNING (or `secs` pass).
    pub(crate) async fn wait_done(&self, exec: &str, secs: u64) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let d = self.status(exec).await;
            if d["status"] != "RUNNING" || std::time::Instant::now() > deadline {
                return d;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

pub(crate) fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sfn-local-{tag}-{}", uuid::Uuid::new_v4().simple()));
    let _ = std::fs::create_dir_all(&d);
    d
}

pub(crate) fn callback_definition() -> Value {
    json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "Parameters": {"token.$": "$$.Task.Token", "id.$": "$.id"},
                "ResultPath": "$.decision", "End": true}}})
}

/// An in-process server on 127.0.0.1:0 with a fresh state directory. Dropping it stops
/// the server and removes the directory.
pub(crate) struct LocalServer {
    pub(crate) url: String,
    dir: std::path::PathBuf,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl LocalServer {
    pub(crate) fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub(crate) async fn start(tag: &str) -> Self {
        let dir = temp_dir(tag);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let opts = sfn_local::ServerOptions {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            state_dir: dir.clone(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
        };
        // A dropped sender also resolves `rx`, so dropping the server shuts it down.
        let (addr, fut) = sfn_local::bind(opts, async move {
            let _ = rx.await;
        })
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
        tokio::spawn(fut);
        Self {
            url: format!("http://{addr}"),
            dir,
            _stop: tx,
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free loopback port (the OS may hand it out again, but rarely at once).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// The real `sfn-local` binary as a child process; killed (SIGKILL) when dropped, so a
/// failing assertion leaves no process behind.
pub(crate) struct Binary {
    pub(crate) child: std::process::Child,
}

impl Binary {
    /// Starts `sfn-local --port <port> --state-dir <dir>` (logs discarded).
    pub(crate) fn spawn(port: u16, dir: &std::path::Path) -> Self {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_sfn-local"))
            .args(["--port", &port.to_string(), "--state-dir"])
            .arg(dir)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn sfn-local: {e}"));
        Self { child }
    }

    /// SIGKILL: no graceful shutdown, only what was committed survives.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Peak resident memory so far (`VmHWM` from /proc), in KiB; `None` off Linux.
    pub(crate) fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls until the server answers (or panics after ~10 s).
pub(crate) async fn wait_ready(c: &Client) {
    for _ in 0..400 {
        if c.call("ListStateMachines", json!({})).await.is_ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("sfn-local did not come up");
}

/// `token` with one character of its signed middle changed: well-formed, never issued.
pub(crate) fn forge(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}"))
}

/// A correctly signed token of the server in `state_dir` for task 1 of an execution
/// that was never started (sequence number `seq`).
pub(crate) fn token_of_missing_execution(state_dir: &std::path::Path, seq: i64) -> String {
    let db = rusqlite::Connection::open(state_dir.join("sfn-local.sqlite3"))
        .unwrap_or_else(|e| panic!("{e}"));
    let key: Vec<u8> = db
        .query_row("SELECT value FROM meta WHERE name = 'token_key'", [], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let key = <[u8; 32]>::try_from(key.as_slice()).unwrap_or_else(|e| panic!("{e}"));
    let prefix =
        sfn_local::token::TokenKey::new(key).prefix(seq, [0; sfn_local::token::NONCE_BYTES]);
    asl_engine::token::task_token(&prefix, 1)
}
