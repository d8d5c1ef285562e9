//! The interpreter: a deterministic, resumable state machine over an [`Execution`].
//!
//! Contract:
//! * [`Execution::start`] and [`Execution::apply`] are pure functions of (definition,
//!   snapshot, command, `now_ms`): they mutate the snapshot and return a [`Step`] with the
//!   new history events and the effects the driver must carry out (arm a timer, invoke a
//!   task). Nothing here sleeps, spawns or does I/O. Persist the snapshot together with
//!   the events *before* acting on the effects, and a crash can always be resumed by
//!   re-arming the timers and tasks the snapshot still waits on ([`Execution::pending`]).
//! * When an execution waits (Wait state, task callback, retry delay) the snapshot holds
//!   only what is needed to continue: the thread positions, the state input and ids.
//! * Parallel branches and Map iterations are threads of the same snapshot. They run in a
//!   deterministic order (depth first, lowest index first), which reproduces AWS's
//!   histories for sequential runs; concurrent runs agree with AWS as a multiset.
//!
//! `previousEventId` follows what AWS records: every thread has a cursor; an event's
//! previous id is its thread's cursor, and the event becomes the new cursor except for
//! `MapIterationSucceeded/Failed/Aborted`, `MapStateSucceeded` and
//! `ParallelStateSucceeded`, which AWS records without moving it (see the `scenarios`
//! conformance cases, e.g. `test_map_state_catch`: MapStateFailed's previous id is the
//! failed iteration's last state event, not MapIterationFailed). `ExecutionAborted` and
//! `ExecutionTimedOut` have previous id 0, as measured on AWS.
//!
//! Errors: expression failures carry AWS's prefix "An error occurred while executing the
//! state 'X' (entered at the event id #N). " added here (asl-eval returns the rest).
//! `States.ALL` and `States.TaskFailed` never match `States.Runtime` or
//! `States.DataLimitExceeded`; `States.Runtime` is never retried or caught, while
//! `States.DataLimitExceeded` can be named explicitly. `States.TaskFailed` matches every
//! other error except `States.Timeout`. Event 25,000 is a `States.Runtime`
//! `ExecutionFailed`, so an endless loop ends inside one step.
//!
//! Layout: this module holds the snapshot types and the public entry points;
//! `run` is the step driver (threads, events, entering and exiting states, input
//! and output processing, variables); one module per state kind (`pass`, `wait`,
//! `task`, `map`, `parallel`; Choice, Succeed and Fail are resolved by the driver);
//! `children` runs Map iterations and Parallel branches as child threads and cuts
//! them; `failure` applies Retry and Catch; `timers` handles timers firing;
//! `jsonata` the JSONata fields; `single` runs one state for TestState with the same
//! code, recording each processing step.
//!
//! Task tokens are `ExecInfo::token_prefix` followed by the task id ([`crate::token`]); `$$.Task.Token` is
//! set for `.waitForTaskToken` resources. Bare Lambda function ARNs record
//! `LambdaFunction*` events, every other resource `Task*` events.

mod child_exec;
mod children;
mod failure;
mod jsonata;
mod map;
mod map_run;
mod parallel;
mod pass;
mod reader;
#[cfg(test)]
mod reader_tests;
mod redrive;
mod run;
mod s3_wait;
pub(crate) mod single;
mod task;
#[cfg(test)]
mod tests;
mod timers;
mod wait;
mod writer;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::definition::{BlockStep, Definition, Kind, PathField, State, WaitFor};
use crate::history::{HistoryEvent, json_text, not_truncated};
use crate::invocation::{TaskOutcome, TaskRequest};
pub use child_exec::{child_execution_arn, child_index};
pub use map_run::{MapRun, MapRunCounts, MapRunStatus};
use redrive::RedrivePoint;
pub use redrive::{MAX_EXECUTION_MS, REDRIVE_MAX_EVENTS, REDRIVE_PERIOD_MS, reason};
use run::Run;
use s3_wait::MapRunWait;

/// AWS's payload limit for state input/output: 256 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// A local limit (AWS documents none): a state's output may nest arrays and objects at
/// most this deep, or the state fails with `States.DataLimitExceeded`. Without it a
/// three-state loop (`Parameters: {"a.$": "$"}` then back) nests its payload one level
/// per turn and overflowed the stack within one step (found while writing the fuzz
/// targets). 100 stays below serde_json's default parsing limit (128 levels), so any
/// output can be fed back as an input.
pub const MAX_PAYLOAD_DEPTH: usize = 100;

/// `true` when `v` nests arrays/objects deeper than `max` levels (`[]` is one level).
/// Iterative, so it is safe on any value.
fn nested_deeper_than(v: &Value, max: usize) -> bool {
    let mut stack = vec![(v, 1usize)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth > max {
            return true;
        }
        stack.extend(
            children
                .filter(|c| c.is_array() || c.is_object())
                .map(|c| (c, depth + 1)),
        );
    }
    false
}

/// AWS's history limit: event 25,000 is the ExecutionFailed that ends the execution.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

const HISTORY_LIMIT_CAUSE: &str =
    "The execution reached the maximum number of history events (25000).";

/// Static facts about an execution (the `$$.Execution` / `$$.StateMachine` part).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecInfo {
    pub execution_arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    pub start_ms: i64,
    pub input: Value,
    /// Task tokens are `token_prefix` followed by the encoded task id (see
    /// [`crate::token`]). The driver picks a prefix that identifies the execution and is
    /// hard to guess.
    pub token_prefix: String,
}

impl ExecInfo {
    fn region(&self) -> &str {
        self.state_machine_arn
            .split(':')
            .nth(3)
            .unwrap_or("us-east-1")
    }
    fn account(&self) -> &str {
        self.state_machine_arn
            .split(':')
            .nth(4)
            .unwrap_or("000000000000")
    }
}

/// Execution status as DescribeExecution reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl Status {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }
}

/// Something the driver must do after persisting a [`Step`].
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Deliver [`Command::Timer`] with this id at `due_ms` (or right away if past).
    Timer { timer_id: u64, due_ms: i64 },
    /// Run the task and deliver its outcome as [`Command::Task`].
    InvokeTask { task_id: u64, request: TaskRequest },
}

/// Input to a running execution.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// A timer armed by [`Effect::Timer`] fired.
    Timer { timer_id: u64 },
    /// A task's outcome (from the integration or from SendTaskSuccess/Failure).
    Task { task_id: u64, outcome: TaskOutcome },
    /// SendTaskHeartbeat.
    Heartbeat { task_id: u64 },
    /// UpdateMapRun: new limits for a running distributed Map's children (absent fields
    /// keep their value).
    UpdateMapRun {
        map_run_arn: String,
        max_concurrency: Option<u64>,
        tolerated_failure_count: Option<u64>,
        tolerated_failure_percentage: Option<f64>,
    },
    /// StopExecution.
    Stop {
        error: Option<String>,
        cause: Option<String>,
    },
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("the execution is not running")]
    NotRunning,
    #[error("no task with this id is waiting")]
    UnknownTask,
    #[error("no running map run has this ARN")]
    UnknownMapRun,
}

/// What one call produced.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Step {
    pub events: Vec<HistoryEvent>,
    pub effects: Vec<Effect>,
    /// Distributed Map children that started, ended or both in this call
    /// ([`ChildExecution`]).
    pub children: Vec<ChildExecution>,
}

/// A distributed Map's child as an execution of its own (`child_exec` module docs):
/// what DescribeExecution, ListExecutions (`mapRunArn`) and GetExecutionHistory show
/// of it, and its history ([`ChildExecution::history`]). A record of a child that
/// started in an earlier call has no `input`; the driver keeps what it stored before.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildExecution {
    /// The item's index in the map run ([`ChildExecution::name`], [`ChildExecution::arn`]).
    pub index: usize,
    /// Shared by the run's records.
    pub map_run_arn: std::sync::Arc<str>,
    /// The map run's `...:stateMachine:<machine>/<label>`.
    pub state_machine_arn: std::sync::Arc<str>,
    pub status: Status,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    /// JSON text.
    pub input: Option<String>,
    /// JSON text.
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Items the child processes: 1, or the size of its ItemBatcher batch
    /// (ListExecutions' `itemCount`).
    pub item_count: u64,
}

impl Step {
    /// The tasks this step asks the driver to run: (task id, request).
    pub fn tasks(&self) -> impl Iterator<Item = (u64, &TaskRequest)> {
        self.effects.iter().filter_map(|e| match e {
            Effect::InvokeTask { task_id, request } => Some((*task_id, request)),
            Effect::Timer { .. } => None,
        })
    }

    /// The timers this step asks the driver to arm: (timer id, due time in ms).
    pub fn timers(&self) -> impl Iterator<Item = (u64, i64)> + '_ {
        self.effects.iter().filter_map(|e| match e {
            Effect::Timer { timer_id, due_ms } => Some((*timer_id, *due_ms)),
            Effect::InvokeTask { .. } => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Failure {
    error: Option<String>,
    cause: Option<String>,
    /// Raised by a Map iteration or Parallel branch rather than by the state itself.
    #[serde(default)]
    from_child: bool,
    /// A JSONata evaluation failed in this field (`Output/result`, `Items`, ...): AWS
    /// records an `EvaluationFailed` event before the state's failure.
    #[serde(default)]
    location: Option<String>,
    /// The type of the state that failed without catching it, when that type has a
    /// `<Type>StateAborted` event (Task, Wait, Map, Parallel): the state never exits, so
    /// a Map iteration or Parallel branch ending with it records that event (see
    /// [`Run::child_finished`]). Never persisted: a failure is handled within one step.
    #[serde(skip)]
    open_state: Option<&'static str>,
}

impl Failure {
    fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self {
            error: Some(error.into()),
            cause: Some(cause.into()),
            from_child: false,
            location: None,
            open_state: None,
        }
    }
    /// Errors that `States.ALL` does not catch and no retrier retries.
    fn is_terminal(&self) -> bool {
        matches!(
            self.error.as_deref(),
            Some("States.Runtime" | "States.DataLimitExceeded")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum ChildKind {
    Inline,
    Distributed,
    Parallel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Children {
    kind: ChildKind,
    /// The state's effective input (ItemSelector reads it).
    eff_input: Value,
    /// Map items still to spawn, or Parallel branch inputs.
    items: Vec<Value>,
    results: Vec<Option<Value>>,
    /// The threads of the children running now. A set: a distributed Map may run
    /// 100,000 at once, and each one that finishes leaves it (a list scan made that
    /// quadratic). Serialised as an array, as the list it replaced was.
    running: BTreeSet<u64>,
    next: usize,
    max: usize,
    done: usize,
    failures: u64,
    tolerated_count: Option<u64>,
    tolerated_pct: Option<f64>,
    /// Items already went through ItemSelector (before ItemBatcher grouped them).
    #[serde(default)]
    preselected: bool,
    /// A distributed Map's run ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    map_run: Option<String>,
    /// Per child, what a ResultWriter writes about it (kept only with a ResultWriter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    records: Option<Vec<writer::ChildRecord>>,
    /// Items an ItemReader read, when an ItemBatcher grouped them into fewer children.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    items_read: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TaskWait {
    task_id: u64,
    /// A bare Lambda function ARN: AWS records `LambdaFunction*` events instead of `Task*`.
    #[serde(default)]
    legacy_lambda: bool,
    resource_type: String,
    resource: String,
    timeout_timer: Option<u64>,
    heartbeat_timer: Option<u64>,
    heartbeat_s: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Wait {
    Nothing,
    Timer(u64),
    RetryDelay(u64),
    Task(TaskWait),
    Children(Box<Children>),
    /// A distributed Map reading its items from S3 or writing its results there.
    MapRun(Box<MapRunWait>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Active {
    state: String,
    entered_id: u64,
    /// The previous id of the Entered event (AWS links EvaluationFailed to it).
    #[serde(default)]
    entered_prev: u64,
    entered_ms: i64,
    input: Value,
    retry_count: u32,
    attempts: Vec<u32>,
    wait: Wait,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum TStatus {
    Ready { state: String, input: Value },
    Active(Box<Active>),
    Dead,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Thread {
    block: Vec<BlockStep>,
    parent: Option<u64>,
    slot: usize,
    cursor: u64,
    last: u64,
    silent: bool,
    /// States entered by this thread; bounds loops in silent (Distributed Map) threads.
    #[serde(default)]
    entered: u64,
    /// Workflow variables visible to this thread. A Map iteration or Parallel branch
    /// starts with a copy of its parent's, so what it assigns stays inside it (AWS
    /// developer guide, "Passing data between states with variables", Variable scope).
    #[serde(default)]
    vars: Map<String, Value>,
    /// When this thread is a distributed Map's child, when it started (`child_exec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    child_start: Option<i64>,
    status: TStatus,
}

/// The durable snapshot of one execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    pub info: ExecInfo,
    pub status: Status,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub stop_ms: Option<i64>,
    next_event_id: u64,
    next_thread: u64,
    next_timer: u64,
    next_task: u64,
    threads: BTreeMap<u64, Thread>,
    ready: Vec<u64>,
    exec_timer: Option<u64>,
    rng: u64,
    /// Times the execution was redriven (`redriveCount`, `$$.Execution.RedriveCount`).
    #[serde(default)]
    pub redrive_count: u32,
    /// When it was last redriven (`redriveDate`, `$$.Execution.RedriveTime`).
    #[serde(default)]
    pub redrive_ms: Option<i64>,
    /// Where a redrive restarts, kept once the execution stopped unsuccessfully
    /// ([`Execution::redrive`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redrive: Option<Box<RedrivePoint>>,
    /// The distributed Map runs this execution started ([`Execution::map_runs`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    map_runs: Vec<MapRun>,
}

/// Something the snapshot still waits on; used to re-arm after a restart.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    /// A timer to re-arm (the driver keeps due times; see [`Effect::Timer`]).
    Timer(u64),
    /// A task waiting for its outcome; `token` is set for callback tasks.
    Task { task_id: u64, token: Option<String> },
}

impl Execution {
    /// Starts an execution: records `ExecutionStarted` and runs until it blocks or ends.
    pub fn start(def: &Definition, info: ExecInfo, now_ms: i64) -> (Execution, Step) {
        let seed = info
            .execution_arn
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        let input = info.input.clone();
        let mut exec = Execution::new(info, seed);
        let mut run = Run::new(def, &mut exec, now_ms);
        let root = run.new_thread(Vec::new(), None, 0, 0, false);
        let details = json!({
            "input": json_text(&input),
            "inputDetails": not_truncated(),
            "roleArn": run.exec.info.role_arn,
        });
        run.emit(
            root,
            "ExecutionStarted",
            "executionStartedEventDetails",
            details,
            true,
        );
        // The root thread's cursor stays 0: AWS records the first state's previous id as 0.
        if let Some(t) = run.exec.threads.get_mut(&root) {
            t.cursor = 0;
            t.status = TStatus::Ready {
                state: def.start_at.clone(),
                input,
            };
        }
        if let Some(secs) = def.timeout_seconds {
            let id = run.timer(after_whole_secs(now_ms, secs));
            run.exec.exec_timer = Some(id);
        }
        run.exec.ready.push(root);
        run.drive();
        let step = run.out;
        (exec, step)
    }

    /// A snapshot that has not started: no thread, no event.
    fn new(info: ExecInfo, seed: u64) -> Execution {
        Execution {
            info,
            status: Status::Running,
            output: None,
            error: None,
            cause: None,
            stop_ms: None,
            next_event_id: 1,
            next_thread: 1,
            next_timer: 1,
            next_task: 1,
            threads: BTreeMap::new(),
            ready: Vec::new(),
            exec_timer: None,
            rng: seed | 1,
            redrive_count: 0,
            redrive_ms: None,
            redrive: None,
            map_runs: Vec::new(),
        }
    }

    /// Applies a command and runs until every thread blocks or the execution ends.
    pub fn apply(
        &mut self,
        def: &Definition,
        cmd: Command,
        now_ms: i64,
    ) -> Result<Step, CommandError> {
        if self.status != Status::Running {
            return Err(CommandError::NotRunning);
        }
        let mut run = Run::new(def, self, now_ms);
        match cmd {
            Command::Timer { timer_id } => run.on_timer(timer_id),
            Command::Task { task_id, outcome } => run.on_task(task_id, outcome)?,
            Command::Heartbeat { task_id } => run.on_heartbeat(task_id)?,
            Command::UpdateMapRun {
                map_run_arn,
                max_concurrency,
                tolerated_failure_count,
                tolerated_failure_percentage,
            } => run.update_map_run(
                &map_run_arn,
                max_concurrency,
                tolerated_failure_count,
                tolerated_failure_percentage,
            )?,
            Command::Stop { error, cause } => {
                run.redrive_mark_all();
                let mut d = Map::new();
                if let Some(e) = error.clone() {
                    d.insert("error".into(), Value::from(e));
                }
                if let Some(c) = cause.clone() {
                    d.insert("cause".into(), Value::from(c));
                }
                run.finish_event(
                    "ExecutionAborted",
                    "executionAbortedEventDetails",
                    Value::Object(d),
                );
                run.exec.status = Status::Aborted;
                run.exec.error = error;
                run.exec.cause = cause;
                run.close();
            }
        }
        run.drive();
        Ok(run.out)
    }

    /// Timers and tasks the snapshot waits on.
    pub fn pending(&self) -> Vec<Pending> {
        let mut out = Vec::new();
        if self.status != Status::Running {
            return out;
        }
        if let Some(t) = self.exec_timer {
            out.push(Pending::Timer(t));
        }
        for th in self.threads.values() {
            if let TStatus::Active(a) = &th.status {
                match &a.wait {
                    Wait::Timer(t) | Wait::RetryDelay(t) => out.push(Pending::Timer(*t)),
                    Wait::Task(tw) => {
                        if let Some(t) = tw.timeout_timer {
                            out.push(Pending::Timer(t));
                        }
                        if let Some(t) = tw.heartbeat_timer {
                            out.push(Pending::Timer(t));
                        }
                        out.push(Pending::Task {
                            task_id: tw.task_id,
                            token: tw
                                .resource
                                .ends_with(".waitForTaskToken")
                                .then(|| self.token(tw.task_id)),
                        });
                    }
                    // The S3 call of an ItemReader or ResultWriter (no token).
                    Wait::MapRun(w) => out.push(Pending::Task {
                        task_id: w.task_id,
                        token: None,
                    }),
                    Wait::Nothing | Wait::Children(_) => {}
                }
            }
        }
        out
    }

    /// The task token of `task_id`.
    pub fn token(&self, task_id: u64) -> String {
        crate::token::task_token(&self.info.token_prefix, task_id)
    }

    /// Whether a task with this id is waiting.
    pub fn has_task(&self, task_id: u64) -> bool {
        self.threads.values().any(|th| match &th.status {
            TStatus::Active(a) => match &a.wait {
                Wait::Task(tw) => tw.task_id == task_id,
                Wait::MapRun(w) => w.task_id == task_id,
                _ => false,
            },
            _ => false,
        })
    }
}

/// `now_ms` plus `secs` seconds, saturating: a definition may ask for any number of
/// seconds (`"Seconds": 1e300`, a `SecondsPath` holding `i64::MAX`), and the sum must
/// not overflow (it panicked in debug builds and wrapped into the past in release
/// builds; found while writing the fuzz targets). NaN counts as 0.
fn after_secs(now_ms: i64, secs: f64) -> i64 {
    now_ms.saturating_add((secs * 1000.0) as i64)
}

/// [`after_secs`] for a whole number of seconds.
fn after_whole_secs(now_ms: i64, secs: u64) -> i64 {
    now_ms.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000))
}

/// `2024-01-31T12:00:00.123Z`, the form AWS uses in the context object. Formatted by
/// hand: strftime parsing showed up as the top cost of every state in profiles.
pub(crate) fn iso_time(ms: i64) -> String {
    iso(ms)
}

fn iso(ms: i64) -> String {
    use chrono::{Datelike, Timelike};
    let dt = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.timestamp_subsec_millis()
    )
}

/// Whether evaluating the state can read `$$` at all; when not, no context is built.
fn needs_context(st: &State) -> bool {
    let io = &st.io;
    matches!(io.input_path, PathField::Path(_))
        || matches!(io.output_path, PathField::Path(_))
        || io.parameters.is_some()
        || io.result_selector.is_some()
        || !matches!(
            st.kind,
            Kind::Pass { .. }
                | Kind::Succeed
                | Kind::Wait(WaitFor::Seconds(_) | WaitFor::Timestamp(_))
        )
}
