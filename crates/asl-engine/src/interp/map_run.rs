//! Map runs: what DescribeMapRun and ListMapRuns report about a distributed Map, and
//! UpdateMapRun.
//!
//! A map run's ARN is `arn:aws:states:<region>:<account>:mapRun:<state machine
//! name>/<label>:<uuid>`, where the label is the state's `Label` or, without one, a
//! UUID; its state machine ARN is `...:stateMachine:<state machine name>/<label>`
//! (LocalStack's AWS recordings `test_sfn_api_map_run`
//! `test_list_map_runs_and_describe_map_run`, and `test_map_state_result_writer` for a
//! labelled one). Counts follow DescribeMapRun's `itemCounts` / `executionCounts`; the
//! recording above reports `resultsWritten` equal to the finished children even without
//! a ResultWriter, and so does this.

use serde::{Deserialize, Serialize};

use super::run::Run;
use super::{Children, CommandError, Execution, TStatus, Wait};

/// A map run's status, AWS's spelling via [`MapRunStatus::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MapRunStatus {
    Running,
    Succeeded,
    Failed,
    Aborted,
}

impl MapRunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MapRunStatus::Running => "RUNNING",
            MapRunStatus::Succeeded => "SUCCEEDED",
            MapRunStatus::Failed => "FAILED",
            MapRunStatus::Aborted => "ABORTED",
        }
    }
}

/// DescribeMapRun's counts (of items or of child executions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapRunCounts {
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub aborted: u64,
    pub total: u64,
    pub results_written: u64,
}

/// One distributed Map run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRun {
    pub arn: String,
    /// `...:stateMachine:<name>/<label>`.
    pub state_machine_arn: String,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub status: MapRunStatus,
    pub max_concurrency: u64,
    pub tolerated_failure_count: u64,
    pub tolerated_failure_percentage: f64,
    /// Child executions (batches, with an ItemBatcher).
    pub executions: MapRunCounts,
    /// Items read (equal to `executions` without an ItemBatcher).
    pub items: MapRunCounts,
}

impl Execution {
    /// Whether this execution started a distributed Map run.
    pub fn has_map_runs(&self) -> bool {
        !self.map_runs.is_empty()
    }

    /// The distributed Map runs this execution started, oldest first, with live counts
    /// for the running ones.
    pub fn map_runs(&self) -> Vec<MapRun> {
        let mut runs = self.map_runs.clone();
        for th in self.threads.values() {
            let TStatus::Active(a) = &th.status else {
                continue;
            };
            let Wait::Children(ch) = &a.wait else {
                continue;
            };
            if let Some(r) = runs
                .iter_mut()
                .find(|r| Some(&r.arn) == ch.map_run.as_ref() && r.status == MapRunStatus::Running)
            {
                r.executions = counts_of(ch, None);
                r.items = r.executions;
            }
        }
        runs
    }
}

/// The counts of `ch`; `end` is the final status when the run stops.
pub(super) fn counts_of(ch: &Children, end: Option<MapRunStatus>) -> MapRunCounts {
    let total = ch.items.len() as u64;
    let done = ch.done as u64;
    let failed = ch.failures;
    let running = ch.running.len() as u64;
    let pending = total.saturating_sub(ch.next as u64);
    let (running, aborted, pending) = match end {
        Some(MapRunStatus::Running) | None => (running, 0, pending),
        // Children cut by a failure or a stop are aborted; those never started stay
        // pending.
        Some(_) => (0, running, pending),
    };
    MapRunCounts {
        pending,
        running,
        succeeded: done - failed.min(done),
        failed,
        timed_out: 0,
        aborted,
        total,
        results_written: done,
    }
}

impl Run<'_> {
    /// Records MapRunStarted and the run; returns its ARN.
    pub(super) fn start_map_run(
        &mut self,
        t: u64,
        label: Option<&str>,
        max: usize,
        tolerated_count: Option<u64>,
        tolerated_pct: Option<f64>,
    ) -> String {
        let label = match label {
            Some(l) => l.to_owned(),
            None => self.uuid(),
        };
        let uuid = self.uuid();
        let info = &self.exec.info;
        let base = format!("{}:{}", info.region(), info.account());
        let arn = format!(
            "arn:aws:states:{base}:mapRun:{}/{label}:{uuid}",
            info.state_machine_name
        );
        let state_machine_arn = format!(
            "arn:aws:states:{base}:stateMachine:{}/{label}",
            info.state_machine_name
        );
        self.emit(
            t,
            "MapRunStarted",
            "mapRunStartedEventDetails",
            serde_json::json!({ "mapRunArn": arn }),
            true,
        );
        self.exec.map_runs.push(MapRun {
            arn: arn.clone(),
            state_machine_arn,
            start_ms: self.now,
            stop_ms: None,
            status: MapRunStatus::Running,
            max_concurrency: max as u64,
            tolerated_failure_count: tolerated_count.unwrap_or(0),
            tolerated_failure_percentage: tolerated_pct.unwrap_or(0.0),
            executions: MapRunCounts::default(),
            items: MapRunCounts::default(),
        });
        arn
    }

    /// The run stopped: its status, stop time and final counts.
    pub(super) fn end_map_run(
        &mut self,
        arn: &str,
        status: MapRunStatus,
        ch: Option<&Children>,
        items_read: Option<u64>,
    ) {
        let now = self.now;
        if let Some(r) = self.exec.map_runs.iter_mut().find(|r| r.arn == arn) {
            r.status = status;
            r.stop_ms = Some(now);
            if let Some(ch) = ch {
                r.executions = counts_of(ch, Some(status));
                r.items = r.executions;
                if let Some(n) = items_read.filter(|n| *n != r.items.total) {
                    // Batched: the item total is what was read; the rest stays per batch.
                    r.items.total = n;
                    if status == MapRunStatus::Succeeded {
                        r.items.succeeded = n - r.items.failed.min(n);
                        r.items.results_written = n;
                    }
                }
            }
        }
    }

    /// Every running map run of the execution stops with it.
    pub(super) fn abort_map_runs(&mut self, status: MapRunStatus) {
        let live: Vec<(String, Option<Children>)> = self
            .exec
            .map_runs
            .iter()
            .filter(|r| r.status == MapRunStatus::Running)
            .map(|r| {
                let ch = self.exec.threads.values().find_map(|th| match &th.status {
                    TStatus::Active(a) => match &a.wait {
                        Wait::Children(ch) if ch.map_run.as_ref() == Some(&r.arn) => {
                            Some((**ch).clone())
                        }
                        _ => None,
                    },
                    _ => None,
                });
                (r.arn.clone(), ch)
            })
            .collect();
        for (arn, ch) in live {
            self.end_map_run(&arn, status, ch.as_ref(), None);
        }
    }

    /// UpdateMapRun: new limits for the children of a running map run; a higher
    /// MaxConcurrency starts more children at once.
    pub(super) fn update_map_run(
        &mut self,
        arn: &str,
        max_concurrency: Option<u64>,
        tolerated_count: Option<u64>,
        tolerated_pct: Option<f64>,
    ) -> Result<(), CommandError> {
        let run = self
            .exec
            .map_runs
            .iter_mut()
            .find(|r| r.arn == arn && r.status == MapRunStatus::Running)
            .ok_or(CommandError::UnknownMapRun)?;
        if let Some(m) = max_concurrency {
            run.max_concurrency = m;
        }
        if let Some(c) = tolerated_count {
            run.tolerated_failure_count = c;
        }
        if let Some(p) = tolerated_pct {
            run.tolerated_failure_percentage = p;
        }
        let parent = self
            .exec
            .threads
            .iter_mut()
            .find_map(|(id, th)| match &mut th.status {
                TStatus::Active(a) => match &mut a.wait {
                    Wait::Children(ch) if ch.map_run.as_deref() == Some(arn) => {
                        if let Some(m) = max_concurrency {
                            ch.max = m as usize;
                        }
                        if tolerated_count.is_some() {
                            ch.tolerated_count = tolerated_count;
                        }
                        if tolerated_pct.is_some() {
                            ch.tolerated_pct = tolerated_pct;
                        }
                        Some(*id)
                    }
                    Wait::MapRun(w) if w.arn == arn => {
                        w.update(max_concurrency, tolerated_count, tolerated_pct);
                        None
                    }
                    _ => None,
                },
                _ => None,
            });
        if let Some(p) = parent {
            self.spawn_children(p);
        }
        Ok(())
    }
}
