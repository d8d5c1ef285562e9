//! The local Lambda host for `hitl local`: runs each function as a real
//! process behind a Lambda Runtime API it serves, and serves the Lambda
//! `Invoke` API so `aws lambda invoke --endpoint-url` (and Step Functions
//! local) can call the functions. No AWS account, no Docker.
//!
//! ```text
//!  Invoke API (router)            LambdaHost                   function processes
//!  POST /2015-03-31/functions/ ─▶ invoke(name|ARN, payload) ─▶ env #1: 127.0.0.1:p1 ◀─ GET /next, POST /response
//!       {name}/invocations        pool per function           env #2: 127.0.0.1:p2 ◀─ (one listener per process,
//!                                 (≤ max_concurrency)                                   since /next names no caller)
//! ```
//!
//! Contract:
//! - [`LambdaHost::start`] checks the specs (executables exist, names
//!   unique); processes start **lazily**, on a function's first invocation.
//! - One in-flight invocation per process, as on Lambda. Concurrent
//!   invocations of one function start more processes, up to
//!   [`HostConfig::max_concurrency`]; beyond that they wait (no throttling).
//!   Idle processes are reused (warm starts, most recently used first),
//!   unless the executable was rebuilt since they started
//!   ([`HostConfig::reload_on_change`]): then a fresh process runs the new build.
//! - [`LambdaHost::invoke`] is `RequestResponse`; [`LambdaHost::invoke_event`]
//!   is `Event` (returns the request id at once, runs in the background,
//!   failures logged, no retries). Once an invocation has a process it runs
//!   to its end even if the caller stops waiting, as on Lambda.
//! - Each process gets the function's `Environment`, the reserved variables
//!   Lambda sets (`AWS_LAMBDA_FUNCTION_NAME`, `_MEMORY_SIZE`, `_VERSION`,
//!   `AWS_LAMBDA_LOG_GROUP_NAME`, `_LOG_STREAM_NAME`, `AWS_LAMBDA_RUNTIME_API`,
//!   `AWS_REGION`, credentials, ...), `AWS_ENDPOINT_URL`, and
//!   `AWS_LAMBDA_LOG_FORMAT=JSON` for JSON logging; nothing else from the host
//!   but [`HostConfig::inherit_env`].
//! - `Timeout` runs from the moment `/next` hands the event over (the
//!   `Lambda-Runtime-Deadline-Ms` header says when); past it the process
//!   group is killed and the invocation fails with `Sandbox.Timedout`
//!   ("Task timed out after N.NN seconds"). A process exiting before it
//!   answers fails it with `Runtime.ExitError` ("Runtime exited with error:
//!   exit status 3"); `/init/error` fails it with the reported error. In all
//!   three cases the next invocation gets a fresh process.
//! - `MemorySize` is exported, reported (`Max Memory Used` from the
//!   process's peak RSS) and, unless [`HostConfig::enforce_memory`] is off,
//!   enforced on the resident set: past it the process is killed and the
//!   invocation fails with `Runtime.OutOfMemory`. CPU is not scaled with memory.
//! - Function stdout/stderr lines go to [`HostConfig::output`], prefixed with
//!   the function name; the lines of one invocation also make its log
//!   (`X-Amz-Log-Type: Tail`).
//! - [`LambdaHost::shutdown`] SIGTERMs every process group and SIGKILLs it
//!   after [`HostConfig::shutdown_grace`]; dropping the last clone of the host
//!   SIGKILLs whatever is left. Function processes run in their own process
//!   group, so a terminal's Ctrl-C does not reach them: local mode calls
//!   `shutdown` on Ctrl-C. Should the host die without either (SIGKILL,
//!   abort), an idle `lambda_runtime` process exits by itself as its `/next`
//!   connection breaks. All listeners bind 127.0.0.1 only.
//!
//! Wiring it (what local mode does):
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use lambda_local::{FunctionSpec, HostConfig, LambdaHost, Outcome};
//!
//! let mut spec = FunctionSpec::new(
//!     "ProcessApproval",
//!     "arn:aws:lambda:us-east-1:123456789012:function:ProcessApproval",
//!     "target/debug/process-approval",
//! );
//! spec.timeout = Duration::from_secs(10);
//! spec.environment.insert("TABLE_NAME".into(), "approvals".into());
//!
//! let mut config = HostConfig::new("us-east-1");
//! config.endpoint_url = Some("http://127.0.0.1:4566".into());
//! let host = LambdaHost::start(vec![spec], config)?;
//!
//! // The Invoke API, next to Step Functions and SNS on the main port.
//! let app = axum::Router::new().merge(host.router());
//! # let _ = app;
//!
//! // Or directly, by name or ARN (what the Step Functions engine calls).
//! let invocation = host.invoke("ProcessApproval", r#"{"id":"a-1"}"#.into()).await?;
//! match &invocation.outcome {
//!     Outcome::Success(payload) => println!("{}", String::from_utf8_lossy(payload)),
//!     Outcome::Error(error) => println!("{}: {}", error.error_type, error.error_message),
//! }
//! host.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod host;
mod invocation;
mod invoke_api;
mod runtime_api;
mod sandbox;
mod spec;

pub use host::{
    InvokeOptions, LambdaHost, MAX_ASYNC_PAYLOAD_BYTES, MAX_SYNC_PAYLOAD_BYTES, StartError,
};
pub use invocation::{FunctionError, Invocation, InvokeError, Outcome};
pub use invoke_api::INVOKE_PATH;
pub use spec::{
    Credentials, FunctionSpec, HostConfig, LogFormat, OutputLine, OutputSink, OutputStream,
};
