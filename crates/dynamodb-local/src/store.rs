//! SQLite storage: one `tables` row per DynamoDB table and one `items` row per
//! item, keyed by (table, partition key, sort key).
//!
//! Keys are stored in an order-preserving binary form ([`key_bytes`]): `S` as
//! its UTF-8 bytes, `B` as its bytes, `N` as [`crate::number::Number::sort_key`], so SQLite's
//! `ORDER BY sk` is DynamoDB's sort-key order and a Query reads one partition
//! in order from the primary-key index.
//!
//! Durability is sfn-local's: WAL with `synchronous=NORMAL`, every write
//! committed before it is acknowledged, which survives a process kill but not
//! power loss. Every operation runs under one connection's lock, and a write
//! is one `BEGIN IMMEDIATE` transaction that reads the item, checks the
//! condition and writes: a conditional write is a check-and-set, also against
//! another process on the same file (`IMMEDIATE` takes the write lock first).

use std::path::{Path as FsPath, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::DynamoError;
use crate::value::{Item, Value, item_from_json, item_to_json};

/// The database file's name inside the state directory.
pub const DB_FILE: &str = "dynamodb-local.sqlite3";

/// `PRAGMA application_id` of a dynamodb-local database ("DDBL").
const APPLICATION_ID: i32 = 0x4444_424c;

/// The item store.
pub struct Store {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// A storage failure (answered as `InternalServerError`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not create the state directory {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("sqlite {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "{} is not a dynamodb-local database (application_id {found:#x}); move it away or pick another --state-dir",
        path.display()
    )]
    Foreign { path: PathBuf, found: i32 },
}

impl From<rusqlite::Error> for DynamoError {
    fn from(e: rusqlite::Error) -> Self {
        DynamoError::Internal(format!("dynamodb-local storage: {e}"))
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tables (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    tbl  TEXT NOT NULL,
    pk   BLOB NOT NULL,
    sk   BLOB NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (tbl, pk, sk)
) WITHOUT ROWID;
";

impl Store {
    /// Opens (or creates) `<dir>/dynamodb-local.sqlite3`.
    pub fn open(dir: &FsPath) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "busy_timeout", 5000)
            .map_err(open_err)?;
        let found: i32 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(open_err)?;
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(open_err)?;
        match (found, tables) {
            (APPLICATION_ID, _) => {}
            // A new file: claim it.
            (0, 0) => conn
                .pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(open_err)?,
            (found, _) => return Err(StoreError::Foreign { path, found }),
        }
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// An in-memory store (tests; nothing survives the process).
    pub fn in_memory() -> Result<Self, StoreError> {
        let path = PathBuf::from(":memory:");
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_in_memory().map_err(open_err)?;
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// The connection, for one operation. A panic while it was held (none is
    /// expected: request paths do not panic) leaves SQLite consistent, as an
    /// open transaction rolls back when dropped, so the lock is taken anyway.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The order-preserving bytes of a key value (`S`, `N` or `B`).
pub(crate) fn key_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::S(s) => s.as_bytes().to_vec(),
        Value::B(b) => b.clone(),
        Value::N(n) => n.sort_key(),
        // Keys are validated to be S, N or B before they get here.
        _ => Vec::new(),
    }
}

pub(crate) fn get_spec(conn: &Connection, name: &str) -> Result<Option<String>, DynamoError> {
    Ok(conn
        .query_row(
            "SELECT spec FROM tables WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn decode_item(text: &str) -> Result<Item, DynamoError> {
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| DynamoError::Internal(format!("stored item is not JSON: {e}")))?;
    Ok(item_from_json(Some(&json))?.unwrap_or_default())
}

pub(crate) fn read_item(
    conn: &Connection,
    table: &str,
    pk: &[u8],
    sk: &[u8],
) -> Result<Option<Item>, DynamoError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT item FROM items WHERE tbl = ?1 AND pk = ?2 AND sk = ?3",
            params![table, pk, sk],
            |r| r.get(0),
        )
        .optional()?;
    text.map(|t| decode_item(&t)).transpose()
}

pub(crate) fn write_item(
    conn: &Connection,
    table: &str,
    pk: &[u8],
    sk: &[u8],
    item: &Item,
) -> Result<(), DynamoError> {
    conn.execute(
        "INSERT INTO items (tbl, pk, sk, item) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tbl, pk, sk) DO UPDATE SET item = excluded.item",
        params![table, pk, sk, item_to_json(item).to_string()],
    )?;
    Ok(())
}

pub(crate) fn delete_item(
    conn: &Connection,
    table: &str,
    pk: &[u8],
    sk: &[u8],
) -> Result<(), DynamoError> {
    conn.execute(
        "DELETE FROM items WHERE tbl = ?1 AND pk = ?2 AND sk = ?3",
        params![table, pk, sk],
    )?;
    Ok(())
}

/// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed only if `f` succeeds.
pub(crate) fn in_write_tx<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Connection) -> Result<T, DynamoError>,
) -> Result<T, DynamoError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

/// Item count and stored bytes of a table.
pub(crate) fn table_stats(conn: &Connection, table: &str) -> Result<(i64, i64), DynamoError> {
    Ok(conn.query_row(
        "SELECT count(*), coalesce(sum(length(item)), 0) FROM items WHERE tbl = ?1",
        params![table],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_a_new_file_and_refuses_another_programs_database() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        Store::open(dir.path()).unwrap_or_else(|e| panic!("first open: {e}"));
        // Reopening our own file works.
        Store::open(dir.path()).unwrap_or_else(|e| panic!("second open: {e}"));

        let other = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let conn =
            Connection::open(other.path().join(DB_FILE)).unwrap_or_else(|e| panic!("sqlite: {e}"));
        conn.execute_batch("CREATE TABLE notes (x TEXT);")
            .unwrap_or_else(|e| panic!("sqlite: {e}"));
        drop(conn);
        match Store::open(other.path()) {
            Err(StoreError::Foreign { found: 0, .. }) => {}
            other => panic!("a foreign database was opened: {other:?}"),
        }
    }

    #[test]
    fn key_bytes_sort_like_dynamodb_keys() {
        let n = |s: &str| {
            Value::N(crate::number::Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
        };
        let numbers = ["-100", "-2.5", "-1", "0", "0.001", "1", "2", "10", "1E+3"];
        let keys: Vec<Vec<u8>> = numbers.iter().map(|s| key_bytes(&n(s))).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
        // Strings by UTF-8 bytes, as DynamoDB orders them.
        assert!(key_bytes(&Value::S("V#a".into())) < key_bytes(&Value::S("V#b".into())));
        assert!(key_bytes(&Value::S("Z".into())) < key_bytes(&Value::S("a".into())));
    }
}
