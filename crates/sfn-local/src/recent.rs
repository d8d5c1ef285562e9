//! The executions written last, kept in memory so that the requests that follow a
//! write (DescribeExecution polling, GetExecutionHistory for the task token,
//! SendTaskSuccess) need not read SQLite again.
//!
//! Contract: an entry only ever holds what has been committed. [`Recent::committed`]
//! is called after the write that holds it returned Ok, by the holder of the
//! execution's shard lock, so entries change in commit order; readers never fill it,
//! so a read that went to SQLite cannot put an older state back. A failed write
//! forgets the execution ([`Recent::forget`]). After a restart it is empty.
//!
//! Why: every read transaction on a WAL database that changed since the connection's
//! last one starts with an empty page cache, so each row read after a commit costs a
//! B-tree descent of `pread`s from the WAL (the profile in docs/scale.md). A callback
//! round trip read the same execution five times.
//!
//! Memory: at most [`CAPACITY`] executions (row, snapshot and history chunks, a few KiB
//! each), a fixed cost, whatever the number of executions waiting.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::store::ExecutionRow;

/// Executions kept: more than the clients a closed loop runs at once (the bench's 32).
pub const CAPACITY: usize = 128;

struct Entry {
    row: Arc<ExecutionRow>,
    /// The whole history (chunks in order), when every chunk of it was committed
    /// while the execution was here; `None` when part of it is only in SQLite.
    history: Option<Vec<Arc<str>>>,
}

#[derive(Default)]
struct Inner {
    by_arn: HashMap<Arc<str>, Entry>,
    by_seq: HashMap<i64, Arc<str>>,
    /// Insertion order, oldest first, for eviction.
    order: VecDeque<Arc<str>>,
}

/// See the module docs.
#[derive(Default)]
pub struct Recent {
    inner: Mutex<Inner>,
}

impl Recent {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The cache holds only copies of committed state: a panic elsewhere cannot
        // leave it inconsistent with SQLite, only incomplete.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The execution's row as last committed, if it is here.
    pub fn row(&self, arn: &str) -> Option<ExecutionRow> {
        self.lock().by_arn.get(arn).map(|e| (*e.row).clone())
    }

    /// The ARN of the execution with this internal id, if it is here.
    pub fn arn(&self, seq: i64) -> Option<String> {
        self.lock().by_seq.get(&seq).map(|a| a.to_string())
    }

    /// The execution's whole history (its chunks in order), if it is here.
    pub fn history(&self, arn: &str) -> Option<Vec<Arc<str>>> {
        self.lock().by_arn.get(arn)?.history.clone()
    }

    /// Records a committed write of `row` that appended `chunk` to its history;
    /// `started` when that write created the execution (so `chunk` is all of it).
    pub fn committed(&self, row: ExecutionRow, chunk: Option<Arc<str>>, started: bool) {
        let mut g = self.lock();
        let inner = &mut *g;
        let seq = row.seq;
        if let Some(e) = inner.by_arn.get_mut(row.arn.as_str()) {
            if let (Some(h), Some(c)) = (&mut e.history, chunk) {
                h.push(c);
            }
            e.row = Arc::new(row);
            return;
        }
        let history = if started {
            Some(chunk.into_iter().collect())
        } else {
            None
        };
        let arn: Arc<str> = Arc::from(row.arn.as_str());
        inner.by_seq.insert(seq, arn.clone());
        inner.order.push_back(arn.clone());
        inner.by_arn.insert(
            arn,
            Entry {
                row: Arc::new(row),
                history,
            },
        );
        while inner.order.len() > CAPACITY {
            if let Some(old) = inner.order.pop_front()
                && let Some(e) = inner.by_arn.remove(&old)
            {
                inner.by_seq.remove(&e.row.seq);
            }
        }
    }

    /// Drops the execution (a write to it failed: what SQLite holds is not known here).
    pub fn forget(&self, arn: &str) {
        let mut g = self.lock();
        if let Some(e) = g.by_arn.remove(arn) {
            g.by_seq.remove(&e.row.seq);
            g.order.retain(|a| &**a != arn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, status: &str) -> ExecutionRow {
        ExecutionRow {
            seq,
            arn: format!("arn:aws:states:us-east-1:1:execution:m:{seq}"),
            sm_arn: "arn:aws:states:us-east-1:1:stateMachine:m".into(),
            name: seq.to_string(),
            definition_id: 1,
            status: status.into(),
            start_ms: 0,
            stop_ms: None,
            input: "{}".into(),
            output: None,
            error: None,
            cause: None,
            snapshot: None,
            redrive_count: 0,
            redrive_ms: None,
        }
    }

    #[test]
    fn keeps_the_last_commit_and_the_whole_history_of_what_it_saw_start() {
        let r = Recent::default();
        let a = row(1, "RUNNING");
        r.committed(a.clone(), Some(Arc::from("[1]")), true);
        r.committed(row(1, "SUCCEEDED"), Some(Arc::from("[2]")), false);
        assert_eq!(
            r.row(&a.arn).map(|x| x.status).as_deref(),
            Some("SUCCEEDED")
        );
        assert_eq!(r.arn(1).as_deref(), Some(a.arn.as_str()));
        let h = r.history(&a.arn).unwrap_or_default();
        assert_eq!(h.iter().map(|c| &**c).collect::<Vec<_>>(), ["[1]", "[2]"]);
        // First seen in a later write: the earlier chunks are only in SQLite.
        let b = row(2, "RUNNING");
        r.committed(b.clone(), Some(Arc::from("[9]")), false);
        assert!(r.history(&b.arn).is_none());
        assert!(r.row(&b.arn).is_some());
        r.forget(&b.arn);
        assert!(r.row(&b.arn).is_none() && r.arn(2).is_none());
    }

    #[test]
    fn holds_at_most_its_capacity_oldest_out_first() {
        let r = Recent::default();
        for seq in 0..(CAPACITY as i64 + 10) {
            r.committed(row(seq, "RUNNING"), None, true);
        }
        assert!(r.arn(9).is_none() && r.row(&row(9, "").arn).is_none());
        assert!(r.arn(10).is_some());
        let g = r.lock();
        assert_eq!(
            (g.by_arn.len(), g.by_seq.len(), g.order.len()),
            (CAPACITY, CAPACITY, CAPACITY)
        );
    }
}
