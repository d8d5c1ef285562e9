//! SQLite persistence with group commit.
//!
//! Durability guarantee (chosen deliberately): WAL journal with `synchronous=NORMAL`.
//! A write is acknowledged only after the transaction holding it has committed to the
//! WAL, so every acknowledged request and state transition survives a process kill
//! (`kill -9`). It does *not* survive power loss or an OS crash (the WAL is not fsynced
//! on every commit). One write connection commits whatever batches are queued in one
//! transaction ("group commit"), so commit cost is shared and durability does not cap
//! throughput. A request that queues a batch and finds the write connection free commits
//! the queue itself, on its own thread; one that finds it taken rings the writer thread,
//! which commits the batches queued meanwhile in groups ([`writer_thread`]). Until the
//! first was so, every commit cost two thread wake-ups (the writer's, then the
//! request's) on the request's critical path: a quarter of the writer's CPU at one
//! client and, on a busy machine, a scheduling delay each (docs/scale.md). Committing
//! every batch on the requests' threads instead (no writer thread) cost more CPU under
//! load: a worker busy committing serves no requests, so the groups stayed small.
//! Reads use a small pool of separate connections (WAL readers never block the writer).
//!
//! Faults (docs/reliability.md):
//! * **A full disk** fails the writes of that moment with [`StoreError::DiskFull`]
//!   (SQLite's `SQLITE_FULL`): the transaction is rolled back, nothing of it is
//!   acknowledged, and the next write after space returns commits normally.
//! * **A damaged database file** is refused at [`Store::open`] with
//!   [`StoreError::Damaged`], which names the file and what to do. The file is created
//!   under a temporary name and renamed into place once its schema is committed, so an
//!   existing file that is empty or lacks the schema was truncated, never "new": it is
//!   not silently started afresh.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, TryLockError};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::token::TokenKey;

mod children;
pub use children::ChildRow;

/// The database file's name inside the state directory.
pub const DB_FILE: &str = "sfn-local.sqlite3";

/// `PRAGMA application_id` of an sfn-local database ("SFNL"), so that another SQLite
/// file put in its place is recognised as such.
const APPLICATION_ID: i32 = 0x5346_4e4c;

/// Tables every sfn-local database has had since the first version.
const CORE_TABLES: [&str; 6] = [
    "definitions",
    "state_machines",
    "executions",
    "events",
    "inflight",
    "timers",
];

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the store writer stopped")]
    WriterGone,
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error("could not save: sqlite: {0}")]
    Commit(String),
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The disk (or the file system's quota) is full: nothing of the write was saved.
    #[error(
        "the disk holding {} is full, so nothing of this request was saved; free some space and retry",
        path.display()
    )]
    DiskFull { path: PathBuf },
    /// The database file is not a sound sfn-local database.
    #[error(
        "the database {} is damaged ({detail}). sfn-local does not start on a damaged database, \
         so that no execution is lost silently. Stop every process using it, then restore a \
         backup, or salvage what is left with `sqlite3 {} .recover | sqlite3 recovered.sqlite3`; \
         to start empty instead, move {} and its -wal and -shm files away",
        path.display(), path.display(), path.display()
    )]
    Damaged { path: PathBuf, detail: String },
}

/// Why a batch was not committed, as the writer thread reports it.
#[derive(Debug)]
enum WriteFailure {
    DiskFull,
    Other(String),
}

impl WriteFailure {
    fn of(e: &rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            // ENOSPC (and EDQUOT) reach SQLite as SQLITE_FULL, whether the WAL or the
            // database file was growing.
            Some(rusqlite::ErrorCode::DiskFull) => WriteFailure::DiskFull,
            _ => WriteFailure::Other(e.to_string()),
        }
    }
}

/// One write operation; a batch of them commits atomically.
#[derive(Debug, Clone)]
pub enum Write {
    PutStateMachine(StateMachineRow),
    DeleteStateMachine {
        arn: String,
    },
    PutDefinition {
        id: i64,
        text: String,
    },
    PutExecution(Box<ExecutionRow>),
    /// One chunk of consecutive events (a JSON array), keyed by the first event id.
    AppendEvents {
        exec_seq: i64,
        first_id: u64,
        chunk: String,
    },
    PutTimer {
        exec_arn: String,
        timer_id: u64,
        due_ms: i64,
    },
    DeleteTimer {
        exec_arn: String,
        timer_id: u64,
    },
    DeleteTimers {
        exec_arn: String,
    },
    /// A task invocation handed to an integration whose outcome is not recorded yet.
    PutInflight {
        exec_arn: String,
        task_id: u64,
        request: String,
    },
    DeleteInflight {
        exec_arn: String,
        task_id: u64,
    },
    DeleteAllInflight {
        exec_arn: String,
    },
    /// A distributed Map's child execution, inserted or, when its map run already has
    /// it, updated (status, stop date, output, error, cause), with the definition of
    /// its parent.
    PutChild(Box<(asl_engine::ChildExecution, i64)>),
    /// An execution was redriven: its count, date and recent client tokens (JSON).
    PutRedrive {
        exec_seq: i64,
        count: i64,
        redrive_ms: i64,
        tokens: String,
    },
}

#[derive(Debug, Clone)]
pub struct StateMachineRow {
    pub arn: String,
    pub name: String,
    pub definition_id: i64,
    pub role_arn: String,
    pub sm_type: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone)]
pub struct ExecutionRow {
    /// Dense internal id (also the ListExecutions order).
    pub seq: i64,
    pub arn: String,
    pub sm_arn: String,
    pub name: String,
    pub definition_id: i64,
    pub status: String,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The interpreter snapshot while RUNNING, and once FAILED, TIMED_OUT or ABORTED
    /// (where a redrive restarts); `None` once SUCCEEDED.
    pub snapshot: Option<String>,
    /// Times RedriveExecution restarted it (the `redrives` table; not written by
    /// [`Write::PutExecution`]).
    pub redrive_count: i64,
    /// When it was last redriven.
    pub redrive_ms: Option<i64>,
}

struct Batch {
    writes: Vec<Write>,
    ack: oneshot::Sender<Result<(), WriteFailure>>,
}

/// Batches waiting for a commit.
#[derive(Default)]
struct Queue {
    pending: Vec<Batch>,
    /// Set by [`Store::close`]: later writes fail with [`StoreError::WriterGone`].
    closed: bool,
}

/// The most batches one transaction takes (then the next takes the rest).
const GROUP_MAX: usize = 512;

/// What the requests and the writer thread share.
struct Shared {
    queue: Mutex<Queue>,
    /// Rung when a batch is queued while the write connection is taken.
    queued: Condvar,
    /// The write connection; `None` once closed. Whoever holds the lock commits.
    writer: Mutex<Option<Connection>>,
    /// Calls to [`Store::write`] under way.
    writing: AtomicUsize,
}

/// Counts a [`Store::write`] under way while it lives (also if its future is dropped).
struct Writing<'a>(&'a AtomicUsize);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Handle to the database.
pub struct Store {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    path: PathBuf,
    token_key: TokenKey,
}

/// A lock whose holder panicked still guards sound data here (the queue is a list;
/// a transaction a panic interrupted is rolled back when the connection is next used).
fn relock<'a, T>(
    r: Result<MutexGuard<'a, T>, PoisonError<MutexGuard<'a, T>>>,
) -> MutexGuard<'a, T> {
    r.unwrap_or_else(PoisonError::into_inner)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS definitions (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state_machines (
  arn TEXT PRIMARY KEY, name TEXT NOT NULL, definition_id INTEGER NOT NULL,
  role_arn TEXT NOT NULL, sm_type TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
  seq INTEGER PRIMARY KEY,
  arn TEXT NOT NULL UNIQUE, sm_arn TEXT NOT NULL, name TEXT NOT NULL, definition_id INTEGER NOT NULL,
  status TEXT NOT NULL, start_ms INTEGER NOT NULL, stop_ms INTEGER,
  input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT, snapshot TEXT);
CREATE INDEX IF NOT EXISTS executions_sm ON executions (sm_arn, seq);
-- History in chunks: one row per committed step (a JSON array of events), so a
-- 10-state execution that finishes inside StartExecution is one row, not twenty.
CREATE TABLE IF NOT EXISTS events (
  exec_seq INTEGER NOT NULL, first_id INTEGER NOT NULL, chunk TEXT NOT NULL,
  PRIMARY KEY (exec_seq, first_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inflight (
  exec_arn TEXT NOT NULL, task_id INTEGER NOT NULL, request TEXT NOT NULL,
  PRIMARY KEY (exec_arn, task_id)) WITHOUT ROWID;
-- Service-wide values, e.g. the key that signs task tokens (crate::token).
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
-- RedriveExecution: how often and when an execution was redriven, and the client
-- tokens of the last redrives (JSON) for idempotency. Absent: never redriven.
CREATE TABLE IF NOT EXISTS redrives (
  exec_seq INTEGER PRIMARY KEY, count INTEGER NOT NULL, redrive_ms INTEGER NOT NULL,
  tokens TEXT NOT NULL);
-- A distributed Map's child executions: one row each, keyed by map run and item
-- index (their names and ARNs derive from those: asl_engine::child_execution_arn).
CREATE TABLE IF NOT EXISTS map_run_ids (
  id INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE, sm_arn TEXT NOT NULL,
  definition_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS map_run_ids_sm ON map_run_ids (sm_arn);
CREATE TABLE IF NOT EXISTS map_run_children (
  run INTEGER NOT NULL, idx INTEGER NOT NULL, status TEXT NOT NULL,
  start_ms INTEGER NOT NULL, stop_ms INTEGER, input TEXT NOT NULL, output TEXT,
  error TEXT, cause TEXT, item_count INTEGER NOT NULL,
  PRIMARY KEY (run, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS timers (
  exec_arn TEXT NOT NULL, timer_id INTEGER NOT NULL, due_ms INTEGER NOT NULL,
  PRIMARY KEY (exec_arn, timer_id)) WITHOUT ROWID;
";

/// Opens an existing database (never creates one: see [`Store::open`]).
fn open(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = open_unchecked(path)?;
    configure(&conn)?;
    Ok(conn)
}

fn open_unchecked(path: &Path) -> Result<Connection, rusqlite::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    Connection::open_with_flags(path, flags)
}

/// Connection settings; `journal_mode` writes the header of an empty file, so it comes
/// after [`check`].
fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    Ok(())
}

/// Creates a new database at `path`: built under a temporary name and renamed into
/// place once its schema is committed, so that `path` never exists without a schema.
fn create(path: &Path) -> Result<(), StoreError> {
    let tmp = path.with_extension("sqlite3.new");
    for suffix in ["", "-wal", "-shm"] {
        let f = PathBuf::from(format!("{}{suffix}", tmp.display()));
        match std::fs::remove_file(&f) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(StoreError::Io {
                    what: "could not remove the unfinished database",
                    path: f,
                    source,
                });
            }
        }
    }
    {
        let conn = Connection::open(&tmp)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
        conn.execute_batch(SCHEMA)?;
        // Closing the last connection checkpoints the WAL into the file and removes it.
        conn.close().map_err(|(_, e)| e)?;
    }
    std::fs::rename(&tmp, path).map_err(|source| StoreError::Io {
        what: "could not move the new database into place at",
        path: path.to_owned(),
        source,
    })
}

/// Checks that `conn` holds a sound sfn-local database: SQLite can read it, its pages
/// pass `PRAGMA quick_check` (every b-tree page, O(size): 85 ms for 160 MiB with a
/// warm page cache) and it has the schema.
fn check(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let damaged = |detail: String| StoreError::Damaged {
        path: path.to_owned(),
        detail,
    };
    let id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(|e| damaged(e.to_string()))?;
    let problems = (|| {
        let mut st = conn.prepare("PRAGMA quick_check(5)")?;
        let lines = st.query_map([], |r| r.get::<_, String>(0))?;
        lines
            .filter(|l| l.as_ref().map_or(true, |l| l != "ok"))
            .collect::<Result<Vec<String>, _>>()
    })()
    .map_err(|e| damaged(e.to_string()))?;
    if !problems.is_empty() {
        return Err(damaged(format!(
            "SQLite's integrity check says: {}",
            problems.join("; ")
        )));
    }
    let mut missing = Vec::new();
    for table in CORE_TABLES {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(|e| damaged(e.to_string()))?;
        if n == 0 {
            missing.push(table);
        }
    }
    match (id, missing.is_empty()) {
        (APPLICATION_ID, true) => Ok(()),
        // Databases from before the application id: adopt them.
        (0, true) => Ok(conn.pragma_update(None, "application_id", APPLICATION_ID)?),
        (0, false) if missing.len() == CORE_TABLES.len() => Err(damaged(
            "it is empty: the file was truncated or replaced, as sfn-local never leaves an \
             empty database behind"
                .into(),
        )),
        (0 | APPLICATION_ID, false) => Err(damaged(format!(
            "tables {} are missing",
            missing.join(", ")
        ))),
        (other, _) => Err(damaged(format!(
            "it is not an sfn-local database (SQLite application id {other:#x})"
        ))),
    }
}

impl Store {
    /// Opens the database in `dir`, creating it (and `dir`) if there is none. An
    /// existing file that is not a sound sfn-local database is refused with
    /// [`StoreError::Damaged`], never replaced.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            what: "could not create the state directory",
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        let exists = std::fs::exists(&path).map_err(|source| StoreError::Io {
            what: "could not look for the database",
            path: path.clone(),
            source,
        })?;
        if !exists {
            create(&path)?;
        }
        let damaged = |e: rusqlite::Error| StoreError::Damaged {
            path: path.clone(),
            detail: e.to_string(),
        };
        let conn = open_unchecked(&path).map_err(damaged)?;
        check(&conn, &path)?;
        configure(&conn).map_err(damaged)?;
        // Tables added after the first version.
        conn.execute_batch(SCHEMA)?;
        // Created once with the database, before any token can be issued.
        conn.execute(
            "INSERT OR IGNORE INTO meta (name, value) VALUES ('token_key', ?1)",
            [rand::random::<[u8; 32]>()],
        )?;
        let key: Vec<u8> =
            conn.query_row("SELECT value FROM meta WHERE name = 'token_key'", [], |r| {
                r.get(0)
            })?;
        let token_key = <[u8; 32]>::try_from(key.as_slice())
            .map(TokenKey::new)
            .map_err(|_| StoreError::Corrupt("the token key in the database is damaged".into()))?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            queued: Condvar::new(),
            writer: Mutex::new(Some(conn)),
            writing: AtomicUsize::new(0),
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("sqlite-writer".into())
                .spawn(move || writer_thread(&shared))
                .map_err(|source| StoreError::Io {
                    what: "could not start the writer thread for",
                    path: path.clone(),
                    source,
                })?
        };
        Ok(Self {
            shared,
            thread: Mutex::new(Some(thread)),
            readers: Mutex::new(Vec::new()),
            path,
            token_key,
        })
    }

    /// The key that makes and checks this database's task tokens.
    pub fn token_key(&self) -> &TokenKey {
        &self.token_key
    }

    /// Commits `writes` atomically; returns once they are durable (see module docs).
    pub async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let (ack, done) = oneshot::channel();
        let shared = &*self.shared;
        let alone = shared.writing.fetch_add(1, Ordering::Relaxed) == 0;
        let _writing = Writing(&shared.writing);
        {
            let mut q = relock(shared.queue.lock());
            if q.closed {
                return Err(StoreError::WriterGone);
            }
            q.pending.push(Batch { writes, ack });
        }
        // Alone, with the connection free: commit here, one transaction, and let go.
        // With other writes under way, leave it to the writer thread, whose groups grow
        // while it wakes: committing here too made the groups smaller and cost 15 % more
        // CPU per callback round trip at 32 clients (docs/scale.md).
        // In a block of its own: no guard may live across the await below.
        {
            let writer = if alone {
                shared.writer.try_lock()
            } else {
                Err(TryLockError::WouldBlock)
            };
            match writer {
                Ok(mut writer) => {
                    drain_once(shared, &mut writer);
                }
                Err(TryLockError::Poisoned(p)) => {
                    drain_once(shared, &mut p.into_inner());
                }
                // A commit is under way: the writer thread takes this batch into the next
                // group once the connection is free.
                Err(TryLockError::WouldBlock) => shared.queued.notify_one(),
            }
        }
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(WriteFailure::DiskFull)) => Err(StoreError::DiskFull {
                path: self.path.clone(),
            }),
            Ok(Err(WriteFailure::Other(e))) => Err(StoreError::Commit(e)),
            Err(_) => Err(StoreError::WriterGone),
        }
    }

    /// Commits what is queued, stops the writer thread and closes the write
    /// connection; later writes fail.
    pub fn close(&self) {
        relock(self.shared.queue.lock()).closed = true;
        self.shared.queued.notify_all();
        if let Some(thread) = relock(self.thread.lock()).take() {
            let _ = thread.join();
        }
        let mut writer = relock(self.shared.writer.lock());
        while drain_once(&self.shared, &mut writer) {}
        writer.take();
    }

    /// Runs a read on a pooled connection.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let conn = {
            let mut pool = self
                .readers
                .lock()
                .map_err(|_| StoreError::Corrupt("reader pool poisoned".into()))?;
            pool.pop()
        };
        let conn = match conn {
            Some(c) => c,
            None => open(&self.path)?,
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < 8
        {
            pool.push(conn);
        }
        Ok(out?)
    }

    pub fn definition(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            c.query_row("SELECT text FROM definitions WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
        })
    }

    pub fn max_definition_id(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            c.query_row("SELECT COALESCE(MAX(id), 0) FROM definitions", [], |r| {
                r.get(0)
            })
        })
    }

    pub fn state_machines(&self) -> Result<Vec<StateMachineRow>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT arn, name, definition_id, role_arn, sm_type, created_ms, updated_ms FROM state_machines ORDER BY created_ms, arn",
            )?;
            let rows = st.query_map([], |r| {
                Ok(StateMachineRow {
                    arn: r.get(0)?,
                    name: r.get(1)?,
                    definition_id: r.get(2)?,
                    role_arn: r.get(3)?,
                    sm_type: r.get(4)?,
                    created_ms: r.get(5)?,
                    updated_ms: r.get(6)?,
                })
            })?;
            rows.collect()
        })
    }

    pub fn execution(&self, arn: &str) -> Result<Option<ExecutionRow>, StoreError> {
        self.read(|c| {
            // Cached statement: this is on every StartExecution, callback and
            // DescribeExecution. The redrive columns come from scalar subqueries, not
            // a LEFT JOIN: with the join, hitl-bench's Pass and callback throughput at
            // 32 clients fell by 20-30% (Pass 5,900 → 4,600 executions/s); with the
            // subqueries it is within noise of before redrive existed.
            c.prepare_cached(
                "SELECT seq, arn, sm_arn, name, definition_id, status, start_ms, stop_ms, input, output, error, cause, snapshot,
                   COALESCE((SELECT r.count FROM redrives r WHERE r.exec_seq = executions.seq), 0),
                   (SELECT r.redrive_ms FROM redrives r WHERE r.exec_seq = executions.seq)
                 FROM executions WHERE arn = ?1",
            )?
            .query_row([arn], exec_row)
            .optional()
        })
    }

    /// The ARN of the execution with this internal id.
    pub fn execution_arn(&self, seq: i64) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT arn FROM executions WHERE seq = ?1")?
                .query_row([seq], |r| r.get(0))
                .optional()
        })
    }

    /// Executions of a state machine, newest first, after `after_seq` (paging);
    /// `redriven` keeps only those redriven (`Some(true)`) or never redriven.
    pub fn executions(
        &self,
        sm_arn: &str,
        status: Option<&str>,
        redriven: Option<bool>,
        before_seq: i64,
        limit: usize,
    ) -> Result<Vec<(i64, ExecutionRow)>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT seq, arn, sm_arn, name, definition_id, status, start_ms, stop_ms, COALESCE(r.count, 0), r.redrive_ms
                 FROM executions LEFT JOIN redrives r ON r.exec_seq = executions.seq
                 WHERE sm_arn = ?1 AND seq < ?2 AND (?3 IS NULL OR status = ?3)
                   AND (?5 IS NULL OR (r.count IS NOT NULL) = ?5)
                 ORDER BY seq DESC LIMIT ?4",
            )?;
            let rows = st.query_map(
                params![sm_arn, before_seq, status, limit as i64, redriven],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        ExecutionRow {
                            seq: r.get(0)?,
                            arn: r.get(1)?,
                            sm_arn: r.get(2)?,
                            name: r.get(3)?,
                            definition_id: r.get(4)?,
                            status: r.get(5)?,
                            start_ms: r.get(6)?,
                            stop_ms: r.get(7)?,
                            input: String::new(),
                            output: None,
                            error: None,
                            cause: None,
                            snapshot: None,
                            redrive_count: r.get(8)?,
                            redrive_ms: r.get(9)?,
                        },
                    ))
                },
            )?;
            rows.collect()
        })
    }

    /// The client tokens of an execution's recent redrives (JSON), if it was redriven.
    pub fn redrive_tokens(&self, exec_seq: i64) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT tokens FROM redrives WHERE exec_seq = ?1")?
                .query_row([exec_seq], |r| r.get(0))
                .optional()
        })
    }

    /// History chunks (JSON arrays) in event order.
    pub fn event_chunks(&self, exec_seq: i64) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut st =
                c.prepare_cached("SELECT chunk FROM events WHERE exec_seq = ?1 ORDER BY first_id")?;
            let rows = st.query_map([exec_seq], |r| r.get(0))?;
            rows.collect()
        })
    }

    pub fn max_execution_seq(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            c.query_row("SELECT COALESCE(MAX(seq), 0) FROM executions", [], |r| {
                r.get(0)
            })
        })
    }

    /// Every armed timer (for restart).
    pub fn timers(&self) -> Result<Vec<(String, u64, i64)>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare("SELECT exec_arn, timer_id, due_ms FROM timers")?;
            let rows = st.query_map([], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?))
            })?;
            rows.collect()
        })
    }

    /// Task invocations without a recorded outcome (for restart).
    pub fn inflight(&self) -> Result<Vec<(String, u64, String)>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare("SELECT exec_arn, task_id, request FROM inflight")?;
            let rows = st.query_map([], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?))
            })?;
            rows.collect()
        })
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

fn exec_row(r: &rusqlite::Row<'_>) -> Result<ExecutionRow, rusqlite::Error> {
    Ok(ExecutionRow {
        seq: r.get(0)?,
        arn: r.get(1)?,
        sm_arn: r.get(2)?,
        name: r.get(3)?,
        definition_id: r.get(4)?,
        status: r.get(5)?,
        start_ms: r.get(6)?,
        stop_ms: r.get(7)?,
        input: r.get(8)?,
        output: r.get(9)?,
        error: r.get(10)?,
        cause: r.get(11)?,
        snapshot: r.get(12)?,
        redrive_count: r.get(13)?,
        redrive_ms: r.get(14)?,
    })
}

fn apply(tx: &rusqlite::Transaction<'_>, w: &Write) -> Result<(), rusqlite::Error> {
    match w {
        Write::PutStateMachine(s) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO state_machines (arn, name, definition_id, role_arn, sm_type, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![s.arn, s.name, s.definition_id, s.role_arn, s.sm_type, s.created_ms, s.updated_ms])?;
        }
        Write::DeleteStateMachine { arn } => {
            tx.prepare_cached("DELETE FROM state_machines WHERE arn = ?1")?
                .execute([arn])?;
        }
        Write::PutDefinition { id, text } => {
            tx.prepare_cached("INSERT OR REPLACE INTO definitions (id, text) VALUES (?1, ?2)")?
                .execute(params![id, text])?;
        }
        Write::PutExecution(e) => {
            tx.prepare_cached(
                "INSERT INTO executions (seq, arn, sm_arn, name, definition_id, status, start_ms, stop_ms, input, output, error, cause, snapshot)
                 VALUES (?13, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT(arn) DO UPDATE SET status = excluded.status, stop_ms = excluded.stop_ms,
                   output = excluded.output, error = excluded.error, cause = excluded.cause, snapshot = excluded.snapshot",
            )?
            .execute(params![
                e.arn, e.sm_arn, e.name, e.definition_id, e.status, e.start_ms, e.stop_ms, e.input,
                e.output, e.error, e.cause, e.snapshot, e.seq
            ])?;
        }
        Write::PutChild(c) => children::put(tx, &c.0, c.1)?,
        Write::AppendEvents {
            exec_seq,
            first_id,
            chunk,
        } => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO events (exec_seq, first_id, chunk) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![exec_seq, *first_id as i64, chunk])?;
        }
        Write::PutTimer {
            exec_arn,
            timer_id,
            due_ms,
        } => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO timers (exec_arn, timer_id, due_ms) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![exec_arn, *timer_id as i64, due_ms])?;
        }
        Write::DeleteTimer { exec_arn, timer_id } => {
            tx.prepare_cached("DELETE FROM timers WHERE exec_arn = ?1 AND timer_id = ?2")?
                .execute(params![exec_arn, *timer_id as i64])?;
        }
        Write::PutInflight {
            exec_arn,
            task_id,
            request,
        } => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO inflight (exec_arn, task_id, request) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![exec_arn, *task_id as i64, request])?;
        }
        Write::DeleteInflight { exec_arn, task_id } => {
            tx.prepare_cached("DELETE FROM inflight WHERE exec_arn = ?1 AND task_id = ?2")?
                .execute(params![exec_arn, *task_id as i64])?;
        }
        Write::DeleteAllInflight { exec_arn } => {
            tx.prepare_cached("DELETE FROM inflight WHERE exec_arn = ?1")?
                .execute([exec_arn])?;
        }
        Write::PutRedrive {
            exec_seq,
            count,
            redrive_ms,
            tokens,
        } => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO redrives (exec_seq, count, redrive_ms, tokens) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![exec_seq, count, redrive_ms, tokens])?;
        }
        Write::DeleteTimers { exec_arn } => {
            tx.prepare_cached("DELETE FROM timers WHERE exec_arn = ?1")?
                .execute([exec_arn])?;
        }
    }
    Ok(())
}

/// Commits up to [`GROUP_MAX`] queued batches in one transaction on `writer` (held by
/// the caller); `false` if none were queued.
fn drain_once(shared: &Shared, writer: &mut Option<Connection>) -> bool {
    let batches: Vec<Batch> = {
        let mut q = relock(shared.queue.lock());
        let n = q.pending.len().min(GROUP_MAX);
        q.pending.drain(..n).collect()
    };
    if batches.is_empty() {
        return false;
    }
    match writer.as_mut() {
        Some(conn) => commit(conn, batches),
        None => {
            for b in batches {
                let _ = b
                    .ack
                    .send(Err(WriteFailure::Other("the store is closed".into())));
            }
        }
    }
    true
}

/// The writer thread: commits the batches queued while the connection was taken, in
/// groups, until the store is closed and nothing is left.
///
/// A batch is committed by whoever holds the connection when it looks at the queue: the
/// request that queued it, when the connection was free (no thread hop: at one client,
/// every commit), or this thread, rung by that request otherwise (under load, where the
/// groups form). Either way a batch is acknowledged only once its transaction committed.
fn writer_thread(shared: &Shared) {
    loop {
        {
            let mut q = relock(shared.queue.lock());
            while q.pending.is_empty() && !q.closed {
                q = relock(shared.queued.wait(q));
            }
            if q.pending.is_empty() {
                return;
            }
        }
        let mut writer = relock(shared.writer.lock());
        while drain_once(shared, &mut writer) {}
    }
}

/// Group commit: the batches in one transaction, each acknowledged once it committed.
fn commit(conn: &mut Connection, batches: Vec<Batch>) {
    let result = (|| {
        let tx = conn.transaction()?;
        for b in &batches {
            for w in &b.writes {
                apply(&tx, w)?;
            }
        }
        tx.commit()
    })();
    match result {
        Ok(()) => {
            for b in batches {
                let _ = b.ack.send(Ok(()));
            }
        }
        Err(e) => {
            // Fall back to one transaction per batch so one bad batch fails alone.
            tracing::error!(error = %e, "group commit failed; retrying batches one by one");
            for b in batches {
                let r = (|| {
                    let tx = conn.transaction()?;
                    for w in &b.writes {
                        apply(&tx, w)?;
                    }
                    tx.commit()
                })();
                let _ = b.ack.send(r.map_err(|e| WriteFailure::of(&e)));
            }
        }
    }
}
