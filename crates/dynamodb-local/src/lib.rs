//! The local DynamoDB of `hitl local`: the subset approval policies use
//! (docs/approval-policies.md, "DynamoDB table"), with no Docker and no JVM.
//!
//! Contract:
//! - [`router`] / [`handle`] serve DynamoDB's AWS JSON 1.0 protocol on
//!   `POST /` (`X-Amz-Target: DynamoDB_20120810.<Op>`), so aws-sdk-dynamodb and
//!   the AWS CLI work against it with an endpoint URL. [`is_dynamodb_request`]
//!   tells its requests from Step Functions' and SNS's on a shared port.
//! - Operations: `CreateTable` (HASH and optional RANGE key of type S, N or B;
//!   `BillingMode`; `SSESpecification` accepted and described, data not
//!   encrypted), `DescribeTable`, `ListTables`, `DeleteTable`,
//!   `UpdateTimeToLive`/`DescribeTimeToLive` (recorded and described; **expired
//!   items are not deleted**), `GetItem` (`ProjectionExpression`; every read is
//!   consistent), `PutItem`, `UpdateItem`, `DeleteItem` (`ConditionExpression`,
//!   `ReturnValues`, `ReturnValuesOnConditionCheckFailure`), `Query`
//!   (`KeyConditionExpression`, `FilterExpression`, `ProjectionExpression`,
//!   `ScanIndexForward`, `Limit`, `ExclusiveStartKey`/`LastEvaluatedKey`, 1 MB
//!   pages, `Select: COUNT`) and `Scan` (the same, paged). Any other operation
//!   is `UnknownOperationException`. Not served: secondary indexes,
//!   transactions, batch operations, streams, PartiQL, the legacy
//!   non-expression parameters (`Expected`, `AttributeUpdates`, `KeyConditions`,
//!   …), parallel scans; each is refused with a `ValidationException` that
//!   says so, never silently ignored.
//! - Errors carry DynamoDB's `__type` and message ([`DynamoError`]):
//!   `ConditionalCheckFailedException` (with `Item` on `ALL_OLD`),
//!   `ResourceNotFoundException`, `ResourceInUseException`, and
//!   `ValidationException` with the service's wording for syntax errors,
//!   undefined and unused placeholders, reserved words (`role`, `token`,
//!   `status`, … must be written `#placeholders`, as on AWS), updated key
//!   attributes, missing or mistyped keys, numbers beyond 38 digits, and items
//!   over 400 KB.
//! - Numbers are exact decimals of up to 38 digits ([`number`]), compared
//!   numerically and returned in DynamoDB's normal form.
//! - Storage is SQLite in the state directory ([`store`]): items survive a
//!   restart; every write is one transaction, so a conditional write is a
//!   check-and-set and of two concurrent writers on one item with the same
//!   expected version exactly one wins. [`Service::in_memory`] keeps
//!   everything in memory, for tests.
//!
//! Wiring, as local mode does it:
//!
//! ```no_run
//! use std::sync::Arc;
//! use dynamodb_local::{Config, Service};
//!
//! # fn wire() -> Result<(), Box<dyn std::error::Error>> {
//! let ddb = Arc::new(Service::open(".hitl".as_ref(), Config::default())?);
//! // Serve `dynamodb_local::router(ddb.clone())`, or route `POST /` yourself and
//! // call `dynamodb_local::handle(&ddb, &headers, &body).await` when
//! // `is_dynamodb_request(&headers)`.
//! let _router = dynamodb_local::router(Arc::clone(&ddb));
//! // In process (blocking), e.g. to create the template's tables at start:
//! ddb.call("CreateTable", &serde_json::json!({
//!     "TableName": "Reviews",
//!     "BillingMode": "PAY_PER_REQUEST",
//!     "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
//!                              {"AttributeName": "sk", "AttributeType": "S"}],
//!     "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
//!                   {"AttributeName": "sk", "KeyType": "RANGE"}],
//! }))?;
//! # Ok(())
//! # }
//! ```

pub mod cli;
mod error;
pub mod expr;
pub mod number;
mod reserved;
mod service;
pub mod store;
pub mod value;
mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use error::DynamoError;
pub use service::{Config, OPERATIONS, Service};
pub use store::StoreError;
pub use wire::{MAX_BODY_BYTES, TARGET_PREFIX, handle, is_dynamodb_request, router};

/// How to run the standalone server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub addr: SocketAddr,
    pub state_dir: PathBuf,
    pub config: Config,
}

/// A startup or serving failure.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("could not open the state in {}", dir.display())]
    Open {
        dir: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("could not listen on {addr} (is the port free? pick another with --port)")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server error")]
    Serve(#[source] std::io::Error),
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn serve(opts: ServerOptions) -> Result<(), ServeError> {
    let service =
        Service::open(&opts.state_dir, opts.config.clone()).map_err(|source| ServeError::Open {
            dir: opts.state_dir.clone(),
            source,
        })?;
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: opts.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "listening beyond loopback: dynamodb-local checks no signatures");
    }
    tracing::info!(%addr, state_dir = %opts.state_dir.display(), "dynamodb-local listening");
    axum::serve(listener, router(Arc::new(service)))
        .with_graceful_shutdown(local_server::shutdown_signal())
        .await
        .map_err(ServeError::Serve)
}
