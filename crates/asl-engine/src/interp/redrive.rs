//! RedriveExecution: restarting a FAILED, TIMED_OUT or ABORTED execution from where it
//! stopped.
//!
//! AWS's rule (developer guide, "Redriving Map Runs"): "A parent workflow redrives
//! unsuccessful states if there's no `<stateType>Exited` event corresponding to the
//! `<stateType>Entered` event". So the engine keeps, when an execution stops, a
//! [`RedrivePoint`]: its threads as they were at the moment the failure began (before
//! it cut any sibling), with the failing thread set back to re-enter the state it
//! failed in. A redrive turns every state entered but not exited into "enter again with
//! the same input" and keeps everything else:
//!
//! * Task, Wait, Choice, Pass, Fail: entered again (a new Entered event, a new task id
//!   and token, retry counters at 0: developer guide, "Restarting state machine
//!   executions with redrive", per-state table and "Retry behavior of redriven
//!   executions"). A Wait on a past `Timestamp` exits at once, as the table says.
//! * Parallel and inline Map: stay where they were. Branches and iterations that
//!   succeeded keep their output; the failed one and the ones its failure aborted run
//!   again from their own unexited state; iterations never started start. The state's
//!   own retry counter is reset. When the Parallel or Map failed by itself (its output
//!   over the size limit, a ResultSelector error, a Distributed Map over its tolerated
//!   failures) it is entered again whole, which is what the table says for
//!   `States.DataLimitExceeded`.
//! * The execution's `TimeoutSeconds` clock starts again at the redrive.
//!
//! History: `ExecutionRedriven` (`executionRedrivenEventDetails.redriveCount`) is
//! appended with the next id; its previous id is the event that stopped the execution
//! (inferred: AWS does not document it). Restarted states follow it.
//!
//! Not yet: Distributed Map runs are entered again whole rather than redriving only
//! their failed child executions (`MapRunRedriven`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::run::Run;
use super::{Execution, Status, Step, TStatus, Thread, Wait, after_whole_secs};
use crate::definition::Definition;

/// AWS: an execution can be redriven only while its history has fewer than 24,999
/// events, to leave room for `ExecutionRedriven` and one more (developer guide,
/// "Restarting state machine executions with redrive", redrive eligibility).
pub const REDRIVE_MAX_EVENTS: u64 = 24_999;

/// AWS: "Redrivable period … starts from the day a state machine completes its
/// execution" and lasts 14 days. Measured here from the stop time (inferred).
pub const REDRIVE_PERIOD_MS: i64 = 14 * 24 * 60 * 60 * 1000;

/// AWS's maximum execution time of a Standard workflow: one year.
pub const MAX_EXECUTION_MS: i64 = 365 * 24 * 60 * 60 * 1000;

/// The `redriveStatusReason` sentences of DescribeExecution (API reference,
/// DescribeExecutionOutput). Recorded responses carry no trailing period.
pub mod reason {
    pub const DELETING: &str = "State machine is in DELETING status";
    pub const RUNNING: &str = "Execution is RUNNING and cannot be redriven";
    pub const SUCCEEDED: &str = "Execution is SUCCEEDED and cannot be redriven";
    pub const BEFORE_LAUNCH: &str = "Execution was started before the launch of RedriveExecution";
    pub const EVENT_LIMIT: &str = "Execution history event limit exceeded";
    pub const MAX_TIME: &str = "Execution has exceeded the max execution time";
    pub const PERIOD: &str = "Execution redrivable period exceeded";
}

/// Where a stopped execution restarts: its threads as they were when it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct RedrivePoint {
    threads: BTreeMap<u64, Thread>,
}

impl Run<'_> {
    /// Records where a redrive restarts if the failure that begins in thread `t`, in
    /// state `state` entered with `input`, ends the execution. Called where a failure
    /// begins (not where a child's failure reaches its parent, which the child's record
    /// already covers). A later failure replaces it; a caught one leaves it unused.
    pub(super) fn redrive_mark(&mut self, t: u64, state: &str, input: &serde_json::Value) {
        // TestState runs one state and is never redriven; a Distributed Map's children
        // are not redriven one by one (their Map is entered again).
        if self.single.is_some() || self.exec.threads.get(&t).is_none_or(|th| th.silent) {
            return;
        }
        let mut threads = self.exec.threads.clone();
        if let Some(th) = threads.get_mut(&t) {
            th.status = TStatus::Ready {
                state: state.to_owned(),
                input: input.clone(),
            };
        }
        remove_descendants(&mut threads, t);
        self.redrive_point = Some(Box::new(RedrivePoint { threads }));
    }

    /// The execution stops between two states (timed out, aborted): every thread
    /// restarts from where it is.
    pub(super) fn redrive_mark_all(&mut self) {
        self.exec.redrive = Some(Box::new(RedrivePoint {
            threads: self.exec.threads.clone(),
        }));
    }
}

fn remove_descendants(threads: &mut BTreeMap<u64, Thread>, t: u64) {
    let mut stack = vec![t];
    while let Some(p) = stack.pop() {
        let kids: Vec<u64> = threads
            .iter()
            .filter(|(_, th)| th.parent == Some(p))
            .map(|(id, _)| *id)
            .collect();
        for k in kids {
            threads.remove(&k);
            stack.push(k);
        }
    }
}

impl Execution {
    /// Why RedriveExecution would refuse this execution now (`redriveStatusReason`),
    /// or `None` when it is REDRIVABLE. The service adds what it alone knows (the
    /// machine's type, a deleted machine).
    pub fn redrive_refusal(&self, now_ms: i64) -> Option<&'static str> {
        match self.status {
            Status::Running => return Some(reason::RUNNING),
            Status::Succeeded => return Some(reason::SUCCEEDED),
            Status::Failed | Status::TimedOut | Status::Aborted => {}
        }
        // Precedence among the rest is not documented (inferred order).
        if self.next_event_id.saturating_sub(1) >= REDRIVE_MAX_EVENTS {
            return Some(reason::EVENT_LIMIT);
        }
        if now_ms.saturating_sub(self.info.start_ms) > MAX_EXECUTION_MS {
            return Some(reason::MAX_TIME);
        }
        if self
            .stop_ms
            .is_some_and(|s| now_ms.saturating_sub(s) > REDRIVE_PERIOD_MS)
        {
            return Some(reason::PERIOD);
        }
        if self.redrive.is_none() {
            // Stopped by a release that kept no redrive point (inferred mapping).
            return Some(reason::BEFORE_LAUNCH);
        }
        None
    }

    /// How many events the history holds.
    pub fn event_count(&self) -> u64 {
        self.next_event_id.saturating_sub(1)
    }

    /// RedriveExecution: restarts a stopped execution from its unsuccessful states (see
    /// the module docs) and runs until it blocks or ends again. Refused with the
    /// `redriveStatusReason` when [`Execution::redrive_refusal`] gives one.
    pub fn redrive(&mut self, def: &Definition, now_ms: i64) -> Result<Step, &'static str> {
        if let Some(r) = self.redrive_refusal(now_ms) {
            return Err(r);
        }
        let Some(point) = self.redrive.take() else {
            return Err(reason::BEFORE_LAUNCH);
        };
        let last_event = self.event_count();
        self.status = Status::Running;
        self.output = None;
        self.error = None;
        self.cause = None;
        self.stop_ms = None;
        self.redrive_count += 1;
        self.redrive_ms = Some(now_ms);
        self.threads = point.threads;
        self.ready.clear();
        let mut run = Run::new(def, self, now_ms);
        let root = run.exec.threads.keys().next().copied().unwrap_or(1);
        if let Some(th) = run.exec.threads.get_mut(&root) {
            th.cursor = last_event;
        }
        let count = run.exec.redrive_count;
        let redriven = run.emit(
            root,
            "ExecutionRedriven",
            "executionRedrivenEventDetails",
            json!({ "redriveCount": count }),
            true,
        );
        let mut ready = Vec::new();
        let mut parents = Vec::new();
        let ids: Vec<u64> = run.exec.threads.keys().copied().collect();
        for id in ids {
            let Some(th) = run.exec.threads.get_mut(&id) else {
                continue;
            };
            th.cursor = redriven;
            let status = std::mem::replace(&mut th.status, TStatus::Dead);
            th.status = match status {
                TStatus::Ready { state, input } => {
                    ready.push(id);
                    TStatus::Ready { state, input }
                }
                TStatus::Active(mut a) if matches!(a.wait, Wait::Children(_)) => {
                    a.retry_count = 0;
                    a.attempts.iter_mut().for_each(|n| *n = 0);
                    parents.push(id);
                    TStatus::Active(a)
                }
                TStatus::Active(a) => {
                    ready.push(id);
                    TStatus::Ready {
                        state: a.state,
                        input: a.input,
                    }
                }
                TStatus::Dead => TStatus::Dead,
            };
        }
        // A parent's children are those still recorded; the rest finished.
        for p in &parents {
            let alive: Vec<u64> = run
                .exec
                .threads
                .iter()
                .filter(|(_, th)| th.parent == Some(*p))
                .map(|(id, _)| *id)
                .collect();
            if let Some(th) = run.exec.threads.get_mut(p)
                && let TStatus::Active(a) = &mut th.status
                && let Wait::Children(ch) = &mut a.wait
            {
                ch.running.retain(|c| alive.contains(c));
            }
        }
        // AWS: "the state machine level timeout, if defined, is reset to 0".
        if let Some(secs) = def.timeout_seconds {
            let id = run.timer(after_whole_secs(now_ms, secs));
            run.exec.exec_timer = Some(id);
        }
        // Lowest thread first: the driver pops from the end.
        ready.sort_unstable();
        run.exec.ready.extend(ready.into_iter().rev());
        for p in parents {
            run.spawn_children(p);
        }
        run.drive();
        Ok(run.out)
    }
}
