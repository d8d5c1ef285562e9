//! `sfn-local`: a local AWS Step Functions service for the human-approval kit.
//!
//! It speaks the AWS JSON 1.0 protocol on loopback (`POST /`, `X-Amz-Target:
//! AWSStepFunctions.<Op>`), so the AWS CLI and `aws-sdk-sfn` work against it with
//! `--endpoint-url`. Executions are run by the pure `asl-engine` interpreter.
//!
//! Durability: SQLite in WAL mode with `synchronous=NORMAL` and group commit. Every
//! accepted request and every state transition is committed before it is acknowledged,
//! which survives a process kill (`kill -9`) but **not** power loss or an OS crash.
//! After a restart on the same state directory, running executions continue: timers
//! fire at their original deadlines, task tokens issued before the restart still work,
//! and task invocations whose outcome was not recorded are invoked again (at least once).
//!
//! Memory: an execution waiting on a task token keeps nothing in memory (its snapshot
//! lives in SQLite and is loaded when the callback arrives); one waiting on a timer keeps
//! one heap entry (due time, ARN, timer id). Startup reads only the state machines and
//! the armed timers, never the waiting executions.
//!
//! Task resources run through [`Integration`]s passed to [`bind_with`]. Without one, a
//! `.waitForTaskToken` task just waits for its token (read it from the `TaskScheduled`
//! event) and any other resource fails with `States.TaskFailed`. A distributed Map's
//! `ItemReader` and `ResultWriter` reach S3 through the integration that serves
//! `arn:aws:states:::aws-sdk:s3:*` (the request/response contract is in asl-engine's
//! `interp/reader.rs`); without one they fail with `States.ItemReaderFailed` /
//! `States.ResultWriterFailed`. DescribeMapRun, ListMapRuns and UpdateMapRun report and
//! steer those map runs (`service/map_runs.rs`); their children run inside the parent
//! execution and are not listed by ListExecutions.

pub mod api;
pub mod cli;
pub mod error;
pub mod recent;
pub mod service;
pub mod store;
pub mod token;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use asl_engine::ports::BoxFuture;
pub use asl_engine::{Integration, TaskOutcome, TaskRequest};

pub use error::ApiError;
pub use local_server::{LockError, StateDirLock, lock};
pub use service::{Config, Service};

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub addr: SocketAddr,
    pub state_dir: PathBuf,
    pub region: String,
    pub account: String,
}

/// A startup failure.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Another server uses the state directory.
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("could not open the state in {}", dir.display())]
    Open {
        dir: PathBuf,
        #[source]
        source: ApiError,
    },
    #[error("could not listen on {addr} (is the port free?)")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server error")]
    Serve(#[source] std::io::Error),
}

/// The server future [`bind`] returns.
pub type ServeFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ServeError>> + Send>>;

/// Opens the service (no task integrations), binds and returns the bound address and a
/// future that serves until `shutdown` resolves.
pub async fn bind(
    opts: ServerOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, ServeFuture), ServeError> {
    bind_with(opts, Vec::new(), shutdown).await
}

/// Like [`bind`], with integrations that run Task resources (Lambda, SNS, ...). A Task
/// whose resource no integration handles fails with `States.TaskFailed`, except
/// `.waitForTaskToken` tasks, which simply wait for their token.
///
/// The state directory is locked first ([`lock`]): while the returned future lives, no
/// other server starts on it.
pub async fn bind_with(
    opts: ServerOptions,
    integrations: Vec<Arc<dyn Integration>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, ServeFuture), ServeError> {
    let lock = StateDirLock::acquire(&opts.state_dir)?;
    let svc = Service::open(
        Config {
            state_dir: opts.state_dir.clone(),
            region: opts.region.clone(),
            account: opts.account.clone(),
        },
        integrations,
    )
    .map_err(|source| ServeError::Open {
        dir: opts.state_dir.clone(),
        source,
    })?;
    let resumed = svc
        .resume_inflight()
        .await
        .map_err(|source| ServeError::Open {
            dir: opts.state_dir.clone(),
            source,
        })?;
    if resumed > 0 {
        tracing::info!(
            tasks = resumed,
            "re-invoking tasks in flight at the last stop"
        );
    }
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: opts.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    let timers = tokio::spawn(svc.clone().run_timers());
    let app = api::router(svc.clone());
    let fut = Box::pin(async move {
        let r = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServeError::Serve);
        timers.abort();
        svc.store.close();
        // Released only once the store is closed.
        drop(lock);
        r
    });
    Ok((addr, fut))
}

/// Runs the server until Ctrl-C / SIGTERM.
pub async fn serve(opts: ServerOptions) -> Result<(), ServeError> {
    let (addr, fut) = bind(opts, local_server::shutdown_signal()).await?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "listening beyond loopback: sfn-local checks no signatures");
    }
    tracing::info!(%addr, "sfn-local listening");
    fut.await
}
