//! A distributed Map's child executions in the store: one row each in
//! `map_run_children`, keyed by map run and item index ([`Write::PutChild`](super::Write::PutChild)). Their
//! names and ARNs are not stored: they derive from the run and the index
//! ([`asl_engine::child_execution_arn`]). About 60 bytes of row per child plus its
//! input and output, against some 900 as a row of `executions` (ARN, state machine
//! ARN and name, each indexed): measured with a 100,000-item map.

use asl_engine::ChildExecution;
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// A stored child: its map run's id, ARN, state machine ARN and definition, and
/// what DescribeExecution shows.
#[derive(Debug, Clone)]
pub struct ChildRow {
    pub map_run_arn: String,
    pub sm_arn: String,
    pub definition_id: i64,
    pub index: i64,
    pub status: String,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub item_count: i64,
}

/// [`Write::PutChild`](super::Write::PutChild).
pub(super) fn put(
    tx: &rusqlite::Transaction<'_>,
    c: &ChildExecution,
    definition_id: i64,
) -> Result<(), rusqlite::Error> {
    let run: &str = &c.map_run_arn;
    let sm: &str = &c.state_machine_arn;
    tx.prepare_cached(
        "INSERT OR IGNORE INTO map_run_ids (arn, sm_arn, definition_id) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![run, sm, definition_id])?;
    // `WHERE true`: SQLite's rule for an upsert whose rows come from a SELECT.
    tx.prepare_cached(
        "INSERT INTO map_run_children (run, idx, status, start_ms, stop_ms, input, output, error, cause, item_count)
         SELECT id, ?2, ?3, ?4, ?5, COALESCE(?6, '{}'), ?7, ?8, ?9, ?10 FROM map_run_ids WHERE arn = ?1 AND true
         ON CONFLICT (run, idx) DO UPDATE SET status = excluded.status, stop_ms = excluded.stop_ms,
           output = excluded.output, error = excluded.error, cause = excluded.cause",
    )?
    .execute(params![
        run,
        c.index as i64,
        c.status.as_str(),
        c.start_ms,
        c.stop_ms,
        c.input,
        c.output,
        c.error,
        c.cause,
        i64::try_from(c.item_count).unwrap_or(i64::MAX),
    ])?;
    Ok(())
}

fn child_row(r: &rusqlite::Row<'_>) -> Result<ChildRow, rusqlite::Error> {
    Ok(ChildRow {
        map_run_arn: r.get(0)?,
        sm_arn: r.get(1)?,
        definition_id: r.get(2)?,
        index: r.get(3)?,
        status: r.get(4)?,
        start_ms: r.get(5)?,
        stop_ms: r.get(6)?,
        input: r.get(7)?,
        output: r.get(8)?,
        error: r.get(9)?,
        cause: r.get(10)?,
        item_count: r.get(11)?,
    })
}

const COLUMNS: &str = "r.arn, r.sm_arn, r.definition_id, c.idx, c.status, c.start_ms, c.stop_ms, \
     c.input, c.output, c.error, c.cause, c.item_count";

impl Store {
    /// The children of map run `map_run_arn`, newest (highest index) first, below
    /// index `before` (paging); the big members (input, output, cause) are left out.
    pub fn map_run_children(
        &self,
        map_run_arn: &str,
        status: Option<&str>,
        before: i64,
        limit: usize,
    ) -> Result<Vec<ChildRow>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM map_run_children c JOIN map_run_ids r ON r.id = c.run
                 WHERE r.arn = ?1 AND c.idx < ?2 AND (?3 IS NULL OR c.status = ?3)
                 ORDER BY c.idx DESC LIMIT ?4"
            ))?;
            let rows = st.query_map(
                params![map_run_arn, before, status, limit as i64],
                child_row,
            )?;
            rows.collect()
        })
    }

    /// The map runs whose children have state machine `sm_arn` (`<machine>/<label>`).
    pub fn map_runs_of_machine(&self, sm_arn: &str) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT arn FROM map_run_ids WHERE sm_arn = ?1")?;
            let rows = st.query_map([sm_arn], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// Child `index` of map run `map_run_arn`.
    pub fn map_run_child(
        &self,
        map_run_arn: &str,
        index: i64,
    ) -> Result<Option<ChildRow>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM map_run_children c JOIN map_run_ids r ON r.id = c.run
                 WHERE r.arn = ?1 AND c.idx = ?2"
            ))?
            .query_row(params![map_run_arn, index], child_row)
            .optional()
        })
    }
}
