//! A distributed Map's children as executions of their own, the way AWS shows them:
//! "Each child workflow execution has its own, separate execution history from that
//! of the parent workflow" (developer guide, "Using Map state in Distributed mode").
//!
//! Contract: the children still run as threads of the parent's snapshot (silent: the
//! parent's history records only the map run's events). What a driver needs to show
//! each child as an execution leaves through [`Step::children`]: one
//! [`ChildExecution`] per child that started, finished or was cut in the step, with the
//! child's new history events. A child that starts and ends within one step is one
//! record. The driver stores them; the engine keeps nothing per finished child.
//!
//! Names and ARNs (AWS's shapes):
//! * A child's ARN is `arn:aws:states:<region>:<account>:execution:<state machine
//!   name>/<label>:<name>`, the map run ARN's `mapRun:<machine>/<label>:<uuid>` with
//!   `execution` and the child's own name; its state machine is the map run's
//!   `...:stateMachine:<machine>/<label>` (developer guide, "ResultWriter (Map)":
//!   result entries `"ExecutionArn": "arn:aws:states:us-east-2:123456789012:execution:
//!   csvProcess/Map:..."` beside `"StateMachineArn": "...:stateMachine:csvProcess/Map"`;
//!   "Viewing a Distributed Map Run execution": the labelled state machine ARN).
//! * The name has a UUID's shape, derived from the map run ARN and the item's index,
//!   so the ResultWriter's files and ListExecutions name the same child without
//!   storing names. AWS's are name-based too (version 3, e.g.
//!   `ad9b5f27-090b-3ac6-9beb-243cd77144a7` in the guide); these keep the version
//!   digit but end with the index rather than an MD5 hash (see `child_name`).
//!
//! History ([`ChildExecution::history`]): ExecutionStarted, then ExecutionSucceeded,
//! ExecutionFailed (error and cause) or ExecutionAborted when it ends. The states in
//! between are not recorded: a child keeps no event buffer, so a 100,000-item map
//! costs the snapshot nothing per finished child and only its start time per
//! running one (`Thread::child_start`, about 25 bytes of JSON); the driver stores
//! one row per child (input, output or error and cause, dates), not events.

use std::sync::Arc;

use serde_json::{Value, json};

use super::run::Run;
use super::{ChildExecution, Status};
use crate::history::{HistoryEvent, json_text, not_truncated};

/// A child's ARN and name: see the module docs. `None` when `map_run_arn` is not a
/// map run ARN.
pub fn child_execution_arn(map_run_arn: &str, index: usize) -> Option<(String, String)> {
    let (head, rest) = map_run_arn.split_once(":mapRun:")?;
    let (machine_label, _uuid) = rest.rsplit_once(':')?;
    let name = child_name(map_run_arn, index);
    Some((format!("{head}:execution:{machine_label}:{name}"), name))
}

/// The item index in a child's name (module docs), whichever run it belongs to.
pub fn child_index(name: &str) -> Option<usize> {
    let mut groups = name.rsplit('-');
    let low = u64::from_str_radix(groups.next()?, 16).ok()?;
    let high = u64::from_str_radix(groups.next()?, 16).ok()? & 0x3fff;
    usize::try_from(high << 48 | low).ok()
}

/// A UUID-shaped name: the first three groups from the map run ARN (FNV-1a), the
/// last two the item's index, so a run's children sort in item order and are stored
/// in that order (random names made each child's index insert a random page write).
fn child_name(map_run_arn: &str, index: usize) -> String {
    let h = map_run_arn.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let i = index as u64;
    format!(
        "{:08x}-{:04x}-3{:03x}-{:04x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        0x8000 | ((i >> 48) & 0x3fff),
        i & 0xffff_ffff_ffff
    )
}

impl ChildExecution {
    /// The child's name (module docs).
    pub fn name(&self) -> String {
        child_name(&self.map_run_arn, self.index)
    }

    /// The child's execution ARN (module docs).
    pub fn arn(&self) -> String {
        child_execution_arn(&self.map_run_arn, self.index)
            .map(|(a, _)| a)
            .unwrap_or_default()
    }

    /// The child's history: ExecutionStarted (id 1) with its input, then, once it
    /// ended, ExecutionSucceeded with its output, ExecutionFailed with its error and
    /// cause, or ExecutionAborted (id 2). Built from the record rather than kept, so
    /// a stored child costs its row alone.
    pub fn history(&self, role_arn: &str) -> Vec<HistoryEvent> {
        let mut out = vec![HistoryEvent {
            id: 1,
            previous_event_id: 0,
            timestamp_ms: self.start_ms,
            event_type: "ExecutionStarted".into(),
            details_key: "executionStartedEventDetails".into(),
            details: json!({
                "input": self.input.as_deref().unwrap_or("{}"),
                "inputDetails": not_truncated(),
                "roleArn": role_arn,
            }),
        }];
        let Some(stop) = self.stop_ms else {
            return out;
        };
        let (ty, key, details) = match self.status {
            Status::Succeeded => (
                "ExecutionSucceeded",
                "executionSucceededEventDetails",
                json!({"output": self.output.as_deref().unwrap_or("null"),
                       "outputDetails": not_truncated()}),
            ),
            Status::Failed | Status::TimedOut => {
                let mut d = serde_json::Map::new();
                if let Some(e) = &self.error {
                    d.insert("error".into(), Value::from(e.clone()));
                }
                if let Some(c) = &self.cause {
                    d.insert("cause".into(), Value::from(c.clone()));
                }
                (
                    "ExecutionFailed",
                    "executionFailedEventDetails",
                    Value::Object(d),
                )
            }
            Status::Aborted | Status::Running => (
                "ExecutionAborted",
                "executionAbortedEventDetails",
                json!({}),
            ),
        };
        out.push(HistoryEvent {
            id: 2,
            previous_event_id: 1,
            timestamp_ms: stop,
            event_type: ty.into(),
            details_key: key.into(),
            details,
        });
        out
    }
}

impl Run<'_> {
    /// The record of child `index` of map run `arn`; the run's two ARNs are shared
    /// by all its records.
    fn child_record(
        &mut self,
        arn: &str,
        index: usize,
        status: Status,
        start_ms: i64,
    ) -> ChildExecution {
        let (run, machine) = match self.child_arns.iter().find(|(r, _)| &**r == arn) {
            Some((r, m)) => (r.clone(), m.clone()),
            None => {
                let machine: Arc<str> = self
                    .exec
                    .map_runs
                    .iter()
                    .find(|r| r.arn == arn)
                    .map(|r| Arc::from(r.state_machine_arn.as_str()))
                    .unwrap_or_else(|| Arc::from(""));
                let run: Arc<str> = Arc::from(arn);
                self.child_arns.push((run.clone(), machine.clone()));
                (run, machine)
            }
        };
        ChildExecution {
            index,
            map_run_arn: run,
            state_machine_arn: machine,
            status,
            start_ms,
            stop_ms: None,
            input: None,
            output: None,
            error: None,
            cause: None,
            item_count: 1,
        }
    }

    /// Child thread `c` (item `index` of map run `arn`) started with `input`: record
    /// it as a RUNNING execution.
    pub(super) fn child_started(
        &mut self,
        c: u64,
        arn: &str,
        index: usize,
        input: &Value,
        batched: bool,
    ) {
        let mut rec = self.child_record(arn, index, Status::Running, self.now);
        if let Some(th) = self.exec.threads.get_mut(&c) {
            th.child_start = Some(self.now);
        }
        // ItemBatcher's batches carry their items under `Items`.
        if batched && let Some(Value::Array(items)) = input.get("Items") {
            rec.item_count = items.len() as u64;
        }
        rec.input = Some(json_text(input));
        self.child_pos.insert(c, self.out.children.len());
        self.out.children.push(rec);
    }

    /// Child thread `c` of map run `arn` ended: SUCCEEDED with `output`, FAILED with
    /// `error`/`cause`, or ABORTED (cut by a failure, a stop or the end of its parent).
    pub(super) fn child_ended(
        &mut self,
        c: u64,
        arn: &str,
        status: Status,
        output: Option<&Value>,
        error: Option<String>,
        cause: Option<String>,
    ) {
        let Some(th) = self.exec.threads.get(&c) else {
            return;
        };
        let (index, start) = (th.slot, th.child_start.unwrap_or(self.now));
        let pos = match self.child_pos.get(&c) {
            Some(p) => *p,
            None => {
                // Started in an earlier step (or failed before it started, in its
                // ItemSelector): a record of the end alone; the driver keeps the start.
                let rec = self.child_record(arn, index, status, start);
                self.child_pos.insert(c, self.out.children.len());
                self.out.children.push(rec);
                self.out.children.len() - 1
            }
        };
        let now = self.now;
        if let Some(rec) = self.out.children.get_mut(pos) {
            rec.status = status;
            rec.stop_ms = Some(now);
            rec.output = output.map(json_text);
            rec.error = error;
            rec.cause = cause;
        }
    }

    /// The map run that thread `c`'s parent runs, when `c` is a distributed child.
    pub(super) fn map_run_of_child(&self, c: u64) -> Option<String> {
        let th = self.exec.threads.get(&c)?;
        th.child_start?;
        let parent = self.exec.threads.get(&th.parent?)?;
        match &parent.status {
            super::TStatus::Active(a) => match &a.wait {
                super::Wait::Children(ch) => ch.map_run.clone(),
                _ => None,
            },
            _ => None,
        }
    }

    /// Every distributed child still running is ABORTED with the execution (called
    /// before the threads are cleared).
    pub(super) fn abort_running_children(&mut self) {
        let running: Vec<(u64, String)> = self
            .exec
            .threads
            .keys()
            .filter_map(|c| self.map_run_of_child(*c).map(|arn| (*c, arn)))
            .collect();
        for (c, arn) in running {
            self.child_ended(c, &arn, Status::Aborted, None, None, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::child_execution_arn;
    use crate::interp::{ChildExecution, Command, ExecInfo, Execution, Status};
    use crate::invocation::TaskOutcome;
    use crate::{Definition, HistoryEvent};

    fn def(v: Value) -> Definition {
        Definition::parse(&v).unwrap_or_else(|e| panic!("definition: {e}"))
    }

    fn info(input: Value) -> ExecInfo {
        ExecInfo {
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:e1".into(),
            name: "e1".into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
            state_machine_name: "sm".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            start_ms: 0,
            input,
            token_prefix: "tok-".into(),
        }
    }

    fn types(events: &[HistoryEvent]) -> Vec<&str> {
        events.iter().map(|e| e.event_type.as_str()).collect()
    }

    fn map_run(exec: &Execution) -> String {
        exec.map_runs()
            .first()
            .map(|r| r.arn.clone())
            .unwrap_or_default()
    }

    #[test]
    fn each_child_is_an_execution_with_its_status_and_history() {
        let d = def(
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "Label": "L",
            "ToleratedFailureCount": 1, "End": true,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "C",
                "States": {
                    "C": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": false,
                        "Next": "F"}], "Default": "P"},
                    "F": {"Type": "Fail", "Error": "Row.Bad", "Cause": "this row is bad"},
                    "P": {"Type": "Pass", "End": true}}}}}}),
        );
        let items = json!([{"ok": true}, {"ok": false}, {"ok": true}]);
        let (exec, step) = Execution::start(&d, info(items.clone()), 5);
        assert_eq!(exec.status, Status::Succeeded);
        let run = map_run(&exec);
        let statuses: Vec<Status> = step.children.iter().map(|c| c.status).collect();
        assert_eq!(
            statuses,
            [Status::Succeeded, Status::Failed, Status::Succeeded]
        );
        for (i, c) in step.children.iter().enumerate() {
            let (arn, name) = child_execution_arn(&run, i).unwrap_or_default();
            assert_eq!((c.arn(), c.name()), (arn, name));
            assert_eq!(&*c.map_run_arn, run);
            assert_eq!(
                &*c.state_machine_arn,
                "arn:aws:states:us-east-1:123456789012:stateMachine:sm/L"
            );
            assert_eq!(c.input.as_deref(), Some(items[i].to_string().as_str()));
            assert_eq!((c.start_ms, c.stop_ms, c.item_count), (5, Some(5), 1));
            let h = c.history("role");
            assert_eq!(h[0].details["input"], json!(items[i].to_string()));
            assert_eq!(h[0].details["roleArn"], json!("role"));
        }
        let failed = &step.children[1];
        let h = failed.history("role");
        assert_eq!(types(&h), ["ExecutionStarted", "ExecutionFailed"]);
        assert_eq!(
            h[1].details,
            json!({"error": "Row.Bad", "cause": "this row is bad"})
        );
        assert_eq!(
            (
                failed.error.as_deref(),
                failed.cause.as_deref(),
                &failed.output
            ),
            (Some("Row.Bad"), Some("this row is bad"), &None)
        );
        let ok = &step.children[0];
        let h = ok.history("role");
        assert_eq!(types(&h), ["ExecutionStarted", "ExecutionSucceeded"]);
        assert_eq!(h[1].details["output"], json!(r#"{"ok":true}"#));
        assert_eq!(ok.output.as_deref(), Some(r#"{"ok":true}"#));
    }

    #[test]
    fn a_waiting_child_survives_the_snapshot_and_ends_in_a_later_step() {
        let d = def(
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "T",
                "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "End": true}}}}}}),
        );
        let (exec, step) = Execution::start(&d, info(json!([1, 2])), 10);
        assert_eq!(step.children.len(), 2);
        assert!(step.children.iter().all(|c| c.status == Status::Running
            && c.stop_ms.is_none()
            && types(&c.history("r")) == ["ExecutionStarted"]));
        let tasks: Vec<u64> = step.tasks().map(|(id, _)| id).collect();
        // The driver stores the snapshot as JSON and reads it back.
        let text = serde_json::to_string(&exec).unwrap_or_default();
        let mut exec: Execution =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("snapshot: {e}"));
        let outcome = TaskOutcome::Succeeded(json!({"done": 1}));
        let step = exec
            .apply(
                &d,
                Command::Task {
                    task_id: tasks[0],
                    outcome,
                },
                20,
            )
            .unwrap_or_else(|e| panic!("apply: {e}"));
        let [c]: [ChildExecution; 1] = step.children.try_into().unwrap_or_else(|c| panic!("{c:?}"));
        assert_eq!(c.arn(), step_arn(&exec, 0));
        assert_eq!(
            (c.status, c.start_ms, c.stop_ms),
            (Status::Succeeded, 10, Some(20))
        );
        assert_eq!(c.input, None);
        assert_eq!(c.output.as_deref(), Some(r#"{"done":1}"#));
        // Stopping the parent aborts the child still waiting.
        let step = exec
            .apply(
                &d,
                Command::Stop {
                    error: None,
                    cause: None,
                },
                30,
            )
            .unwrap_or_else(|e| panic!("apply: {e}"));
        let aborted: Vec<(String, Status)> =
            step.children.iter().map(|c| (c.arn(), c.status)).collect();
        assert_eq!(aborted, [(step_arn(&exec, 1), Status::Aborted)]);
        assert_eq!(
            types(&step.children[0].history("r")),
            ["ExecutionStarted", "ExecutionAborted"]
        );
    }

    fn step_arn(exec: &Execution, i: usize) -> String {
        child_execution_arn(&map_run(exec), i)
            .map(|(a, _)| a)
            .unwrap_or_default()
    }

    #[test]
    fn a_child_arn_names_the_map_runs_machine_and_label() {
        let run = "arn:aws:states:us-east-1:123456789012:mapRun:csvProcess/Map:ad9b5f27-090b-4ac6-9beb-243cd77144a7";
        let (arn, name) = child_execution_arn(run, 7).expect("a map run ARN");
        assert_eq!(
            arn,
            format!("arn:aws:states:us-east-1:123456789012:execution:csvProcess/Map:{name}")
        );
        assert_eq!(name.len(), 36);
        assert_eq!(&name[14..15], "3");
        // The same child always has the same name; another index, another name.
        assert_eq!(
            child_execution_arn(run, 7).map(|(_, n)| n),
            Some(name.clone())
        );
        assert_ne!(child_execution_arn(run, 8).map(|(_, n)| n), Some(name));
        assert_eq!(
            child_execution_arn("arn:aws:states:r:a:execution:x:y", 0),
            None
        );
    }
}
