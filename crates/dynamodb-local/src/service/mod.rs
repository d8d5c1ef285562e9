//! The operations: request members in, DynamoDB's response members out.
//!
//! [`Service::call`] takes an operation name and its JSON request, as the
//! wire protocol delivers them, and answers the JSON response or a
//! [`DynamoError`] with DynamoDB's code and message.

//!
//! Layout: `request` reads a request's members and parses its expressions
//! together; `tables` serves the table operations (CreateTable,
//! DescribeTable, ListTables, DeleteTable, the TTL pair); `items` the single
//! item reads and writes (GetItem, PutItem, UpdateItem, DeleteItem) and the
//! key rules; `query` the paged reads (Query, Scan). This module dispatches.

mod items;
mod query;
mod request;
mod tables;

use std::path::Path as FsPath;

use serde_json::Value as Json;

use crate::error::DynamoError;
use crate::store::{Store, StoreError};
use items::{delete_item, get_item, put_item, update_item};
use query::{query, scan};
use request::Request;
use tables::{create_table, delete_table, describe_table, describe_ttl, list_tables, update_ttl};

/// The operations served; anything else is `UnknownOperationException`.
pub const OPERATIONS: [&str; 12] = [
    "CreateTable",
    "DescribeTable",
    "ListTables",
    "DeleteTable",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
];

/// Region and account used in table ARNs.
#[derive(Debug, Clone)]
pub struct Config {
    pub region: String,
    pub account: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            region: "us-east-1".to_owned(),
            account: "123456789012".to_owned(),
        }
    }
}

/// The local DynamoDB.
#[derive(Debug)]
pub struct Service {
    store: Store,
    config: Config,
}

impl Service {
    /// Opens the service on `<state_dir>/dynamodb-local.sqlite3`.
    pub fn open(state_dir: &FsPath, config: Config) -> Result<Self, StoreError> {
        Ok(Self {
            store: Store::open(state_dir)?,
            config,
        })
    }

    /// A service that keeps everything in memory.
    pub fn in_memory(config: Config) -> Result<Self, StoreError> {
        Ok(Self {
            store: Store::in_memory()?,
            config,
        })
    }

    /// Runs one operation. Blocking (SQLite): call it off the async runtime,
    /// as [`crate::handle`] does.
    pub fn call(&self, operation: &str, body: &Json) -> Result<Json, DynamoError> {
        let Json::Object(map) = body else {
            return Err(DynamoError::Serialization(
                "Start of structure or map found where not expected".to_owned(),
            ));
        };
        let req = Request(map);
        let mut conn = self.store.lock();
        match operation {
            "CreateTable" => create_table(&mut conn, &req, &self.config),
            "DescribeTable" => describe_table(&conn, &req),
            "ListTables" => list_tables(&conn, &req),
            "DeleteTable" => delete_table(&mut conn, &req),
            "UpdateTimeToLive" => update_ttl(&mut conn, &req),
            "DescribeTimeToLive" => describe_ttl(&conn, &req),
            "GetItem" => get_item(&conn, &req),
            "PutItem" => put_item(&mut conn, &req),
            "UpdateItem" => update_item(&mut conn, &req),
            "DeleteItem" => delete_item(&mut conn, &req),
            "Query" => query(&conn, &req),
            "Scan" => scan(&conn, &req),
            other => Err(DynamoError::UnknownOperation(other.to_owned())),
        }
    }
}
