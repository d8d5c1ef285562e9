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
//! Task tokens are `ExecInfo::token_prefix` followed by the task id ([`crate::token`]); `$$.Task.Token` is
//! set for `.waitForTaskToken` resources. Bare Lambda function ARNs record
//! `LambdaFunction*` events, every other resource `Task*` events.

use std::collections::BTreeMap;

use asl_eval::jsonata::Env;
use asl_eval::{EvalError, Scope};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::definition::{
    Assign, BlockStep, Catcher, Definition, Kind, MapMode, NumOrPath, PathField, ResultPathField,
    State, Transition, WaitFor,
};
use crate::history::{HistoryEvent, json_text, not_truncated};
use crate::ports::{TaskOutcome, TaskRequest};

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
}

/// What one call produced.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Step {
    pub events: Vec<HistoryEvent>,
    pub effects: Vec<Effect>,
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
    running: Vec<u64>,
    next: usize,
    max: usize,
    done: usize,
    failures: u64,
    tolerated_count: Option<u64>,
    tolerated_pct: Option<f64>,
    /// Items already went through ItemSelector (before ItemBatcher grouped them).
    #[serde(default)]
    preselected: bool,
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
        let mut exec = Execution {
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
        };
        let mut run = Run {
            def,
            exec: &mut exec,
            now: now_ms,
            out: Step::default(),
            static_ctx: std::cell::OnceCell::new(),
            immediate_retries: 0,
            pending_assign: None,
        };
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
        let mut run = Run {
            def,
            exec: self,
            now: now_ms,
            out: Step::default(),
            static_ctx: std::cell::OnceCell::new(),
            immediate_retries: 0,
            pending_assign: None,
        };
        match cmd {
            Command::Timer { timer_id } => run.on_timer(timer_id),
            Command::Task { task_id, outcome } => run.on_task(task_id, outcome)?,
            Command::Heartbeat { task_id } => run.on_heartbeat(task_id)?,
            Command::Stop { error, cause } => {
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
            TStatus::Active(a) => matches!(&a.wait, Wait::Task(tw) if tw.task_id == task_id),
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

fn error_matches(list: &[String], f: &Failure) -> bool {
    let Some(err) = f.error.as_deref() else {
        return false;
    };
    list.iter().any(|e| {
        e == err
            || (e == "States.ALL" && !f.is_terminal())
            || (e == "States.TaskFailed" && !f.is_terminal() && err != "States.Timeout")
    })
}

/// `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
fn is_lambda_function_arn(resource: &str) -> bool {
    let parts: Vec<&str> = resource.split(':').collect();
    parts.len() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function"
}

/// `arn:aws:states:::sns:publish.waitForTaskToken` -> (`sns`, `publish.waitForTaskToken`).
fn split_resource(resource: &str) -> (String, String) {
    let parts: Vec<&str> = resource.split(':').collect();
    if parts.len() >= 7 && parts[2] == "states" {
        (parts[5].to_owned(), parts[6..].join(":"))
    } else if parts.len() >= 3 {
        (parts[2].to_owned(), resource.to_owned())
    } else {
        (String::new(), resource.to_owned())
    }
}

struct Run<'a> {
    def: &'a Definition,
    exec: &'a mut Execution,
    now: i64,
    out: Step,
    /// `$$.Execution` and `$$.StateMachine`, built once per call.
    static_ctx: std::cell::OnceCell<(Value, Value)>,
    /// Retries run at once (no delay) within this call; past
    /// [`MAX_IMMEDIATE_RETRIES`] they go through a due-now timer, so a
    /// zero-delay Retry with a huge MaxAttempts cannot recurse until the stack
    /// overflows (found by fuzzing, docs/fuzzing.md).
    immediate_retries: u32,
    /// Variables the state being exited assigns; [`Run::exit_to`] records and applies them.
    pending_assign: Option<Map<String, Value>>,
}

/// How many zero-delay retries run recursively within one call before the
/// rest are handed to the timer loop.
const MAX_IMMEDIATE_RETRIES: u32 = 32;

/// What executing a state's logic led to.
enum Flow {
    /// Emit the exit event with this output and transition.
    Exit(Value),
    /// The state waits (timer, task, children).
    Blocked,
    /// The state failed (retry / catch apply).
    Fail(Failure),
    /// The state stored its own status (Map / Parallel with children).
    Handled,
    /// Exit with this output to this transition (Choice, Succeed).
    ExitTo(Value, Transition),
    /// A Fail state: fail the thread, no Retry or Catch.
    Terminal(Failure),
}

impl Run<'_> {
    fn new_thread(
        &mut self,
        block: Vec<BlockStep>,
        parent: Option<u64>,
        slot: usize,
        cursor: u64,
        silent: bool,
    ) -> u64 {
        let id = self.exec.next_thread;
        self.exec.next_thread += 1;
        self.exec.threads.insert(
            id,
            Thread {
                block,
                parent,
                slot,
                cursor,
                last: cursor,
                silent,
                entered: 0,
                vars: Map::new(),
                status: TStatus::Dead,
            },
        );
        id
    }

    fn timer(&mut self, due_ms: i64) -> u64 {
        let id = self.exec.next_timer;
        self.exec.next_timer += 1;
        self.out.effects.push(Effect::Timer {
            timer_id: id,
            due_ms,
        });
        id
    }

    fn rand(&mut self) -> u64 {
        let mut x = self.exec.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.exec.rng = x;
        x
    }

    fn emit(&mut self, t: u64, ty: &str, key: &str, details: Value, update: bool) -> u64 {
        if self.exec.status != Status::Running {
            return 0;
        }
        let Some(th) = self.exec.threads.get(&t) else {
            return 0;
        };
        if th.silent {
            return 0;
        }
        if self.exec.next_event_id >= MAX_HISTORY_EVENTS && !ty.starts_with("Execution") {
            // Measured on AWS (floci-io/floci#2734): event 25,000 is ExecutionFailed,
            // previousEventId 24,999, error States.Runtime.
            self.history_limit();
            return 0;
        }
        let Some(th) = self.exec.threads.get_mut(&t) else {
            return 0;
        };
        let id = self.exec.next_event_id;
        self.exec.next_event_id += 1;
        let prev = th.cursor;
        th.last = id;
        if update {
            th.cursor = id;
        }
        self.out.events.push(HistoryEvent {
            id,
            previous_event_id: prev,
            timestamp_ms: self.now,
            event_type: ty.to_owned(),
            details_key: key.to_owned(),
            details,
        });
        id
    }

    fn history_limit(&mut self) {
        let id = self.exec.next_event_id;
        self.exec.next_event_id += 1;
        self.out.events.push(HistoryEvent {
            id,
            previous_event_id: id - 1,
            timestamp_ms: self.now,
            event_type: "ExecutionFailed".to_owned(),
            details_key: "executionFailedEventDetails".to_owned(),
            details: json!({"error": "States.Runtime", "cause": HISTORY_LIMIT_CAUSE}),
        });
        self.exec.status = Status::Failed;
        self.exec.error = Some("States.Runtime".to_owned());
        self.exec.cause = Some(HISTORY_LIMIT_CAUSE.to_owned());
        self.close();
    }

    /// ExecutionAborted / ExecutionTimedOut: measured on AWS (floci-io/floci#2733, #2734,
    /// #2965), both are recorded with previousEventId 0, whatever ran before.
    fn finish_event(&mut self, ty: &str, key: &str, details: Value) {
        let root = self.exec.threads.keys().next().copied().unwrap_or(1);
        if let Some(th) = self.exec.threads.get_mut(&root) {
            th.cursor = 0;
            th.silent = false;
        }
        self.emit(root, ty, key, details, true);
    }

    fn close(&mut self) {
        self.exec.threads.clear();
        self.exec.ready.clear();
        self.exec.exec_timer = None;
        self.exec.stop_ms = Some(self.now);
    }

    fn drive(&mut self) {
        while let Some(t) = self.exec.ready.pop() {
            if self.exec.status != Status::Running {
                break;
            }
            let status = match self.exec.threads.get_mut(&t) {
                Some(th) => std::mem::replace(&mut th.status, TStatus::Dead),
                None => continue,
            };
            match status {
                TStatus::Ready { state, input } => self.enter(t, state, input),
                other => {
                    if let Some(th) = self.exec.threads.get_mut(&t) {
                        th.status = other;
                    }
                }
            }
        }
    }

    fn block_of(&self, t: u64) -> Option<&Definition> {
        let th = self.exec.threads.get(&t)?;
        self.def.block(&th.block)
    }

    fn state_of(&self, t: u64, name: &str) -> Option<State> {
        self.block_of(t)?.states.get(name).cloned()
    }

    fn context(
        &self,
        a: &Active,
        st: &State,
        token: Option<&str>,
        item: Option<(usize, &Value)>,
    ) -> Value {
        let (execution, machine) = self.static_ctx.get_or_init(|| {
            let info = &self.exec.info;
            (
                json!({
                    "Id": info.execution_arn,
                    "Input": info.input,
                    "StartTime": iso(info.start_ms),
                    "Name": info.name,
                    "RoleArn": info.role_arn,
                    "RedriveCount": 0,
                }),
                json!({"Id": info.state_machine_arn, "Name": info.state_machine_name}),
            )
        });
        let mut state = Map::new();
        state.insert("Name".into(), Value::from(a.state.clone()));
        state.insert("EnteredTime".into(), Value::from(iso(a.entered_ms)));
        if matches!(
            st.kind,
            Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. }
        ) {
            state.insert("RetryCount".into(), Value::from(a.retry_count));
        }
        let mut ctx = Map::new();
        ctx.insert("Execution".into(), execution.clone());
        ctx.insert("StateMachine".into(), machine.clone());
        ctx.insert("State".into(), Value::Object(state));
        if let Some(tok) = token {
            ctx.insert("Task".into(), json!({ "Token": tok }));
        }
        if let Some((i, v)) = item {
            ctx.insert("Map".into(), json!({"Item": {"Index": i, "Value": v}}));
        }
        Value::Object(ctx)
    }

    fn fail_eval(a: &Active, e: EvalError) -> Failure {
        let location = (e.error == asl_eval::error::names::QUERY_EVALUATION_ERROR)
            .then(|| query_location(&e.cause));
        Failure {
            location,
            ..Self::fail_eval_plain(a, e)
        }
    }

    fn fail_eval_plain(a: &Active, e: EvalError) -> Failure {
        Failure::new(
            e.error,
            format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                a.state, a.entered_id, e.cause
            ),
        )
    }

    fn input_path(
        p: &PathField,
        input: &Value,
        ctx: &Value,
        vars: &Map<String, Value>,
    ) -> Result<Value, EvalError> {
        match p {
            PathField::Default => Ok(input.clone()),
            PathField::Null => Ok(json!({})),
            PathField::Path(fp) => fp.select_input(&Scope::new(input, ctx).with_variables(vars)),
        }
    }

    fn result_path(p: &ResultPathField, raw: &Value, result: Value) -> Result<Value, EvalError> {
        match p {
            ResultPathField::Default => Ok(result),
            ResultPathField::Null => Ok(raw.clone()),
            ResultPathField::Path(rp) => rp.insert(raw.clone(), result),
        }
    }

    fn enter(&mut self, t: u64, name: String, input: Value) {
        if self.exec.status != Status::Running {
            return;
        }
        if let Some(th) = self.exec.threads.get_mut(&t) {
            th.entered += 1;
            // A silent thread records no events, so bound it by transitions instead.
            if th.silent && th.entered > MAX_HISTORY_EVENTS / 2 {
                self.thread_fail(t, Failure::new("States.Runtime", HISTORY_LIMIT_CAUSE));
                return;
            }
        }
        let Some(st) = self.state_of(t, &name) else {
            self.thread_fail(
                t,
                Failure::new("States.Runtime", format!("State '{name}' does not exist")),
            );
            return;
        };
        let details = json!({
            "name": name,
            "input": json_text(&input),
            "inputDetails": not_truncated(),
        });
        let key = format!("{}StateEntered", st.type_name());
        let entered_prev = self.exec.threads.get(&t).map_or(0, |th| th.cursor);
        let id = self.emit(t, &key, "stateEnteredEventDetails", details, true);
        let a = Active {
            state: name,
            entered_id: id,
            entered_prev,
            entered_ms: self.now,
            input,
            retry_count: 0,
            attempts: vec![0; st.retry.len()],
            wait: Wait::Nothing,
        };
        self.execute(t, &st, a);
    }

    /// Runs a state's logic from just after its Entered event (also on retry).
    fn execute(&mut self, t: u64, st: &State, mut a: Active) {
        self.pending_assign = None;
        if st.jsonata {
            let flow = self.execute_jsonata(t, st, &mut a);
            self.finish_flow(t, st, a, flow);
            return;
        }
        let vars = self.vars_of(t);
        let flow = match &st.kind {
            Kind::Pass { result } => self.run_pass(st, &a, result.as_ref(), &vars),
            Kind::Choice {
                choices, default, ..
            } => {
                let ctx = self.context(&a, st, None, None);
                match Self::input_path(&st.io.input_path, &a.input, &ctx, &vars).and_then(|eff| {
                    let rule = asl_eval::choice::choose_rule(
                        choices,
                        &Scope::new(&eff, &ctx).with_variables(&vars),
                    )?;
                    // The matched rule's Assign, or the state's for Default.
                    let assign = match rule {
                        Some(r) => r.assign().cloned().map(Assign::Path),
                        None => st.assign.clone(),
                    };
                    let env = Env::new(&a.input, &ctx);
                    self.pending_assign = eval_assign(assign.as_ref(), &a.input, &env, &vars)?;
                    Ok((eff, rule.map(|r| r.next().to_owned())))
                }) {
                    Err(e) => Flow::Fail(Self::fail_eval(&a, e)),
                    Ok((eff, next)) => match next.or_else(|| default.clone()) {
                        None => Flow::Fail(Failure::new(
                            "States.NoChoiceMatched",
                            format!(
                                "An error occurred while executing the state '{}' (entered at the event id #{}). No Matches!",
                                a.state, a.entered_id
                            ),
                        )),
                        Some(next) => match Self::output(st, &eff, &ctx, &vars) {
                            Err(e) => Flow::Fail(Self::fail_eval(&a, e)),
                            Ok(out) => {
                                self.exit_to(t, st, &a, out, Transition::Next(next));
                                return;
                            }
                        },
                    },
                }
            }
            Kind::Wait(w) => self.run_wait(t, st, &mut a, w, &vars),
            Kind::Succeed => {
                let ctx = if needs_context(st) {
                    self.context(&a, st, None, None)
                } else {
                    Value::Null
                };
                match Self::input_path(&st.io.input_path, &a.input, &ctx, &vars)
                    .and_then(|eff| Self::output(st, &eff, &ctx, &vars))
                {
                    Ok(out) => {
                        self.exit_to(t, st, &a, out, Transition::End);
                        return;
                    }
                    Err(e) => Flow::Fail(Self::fail_eval(&a, e)),
                }
            }
            Kind::Fail {
                error,
                error_path,
                cause,
                cause_path,
                ..
            } => {
                let ctx = self.context(&a, st, None, None);
                let scope = Scope::new(&a.input, &ctx).with_variables(&vars);
                let render = |v: Value| match v {
                    Value::String(s) => s,
                    other => json_text(&other),
                };
                let err = match error_path {
                    Some(p) => p.resolve(&scope).map(|v| Some(render(v))),
                    None => Ok(error.clone()),
                };
                let cau = match cause_path {
                    Some(p) => p.resolve(&scope).map(|v| Some(render(v))),
                    None => Ok(cause.clone()),
                };
                let f = match (err, cau) {
                    (Ok(error), Ok(cause)) => Failure {
                        error,
                        cause,
                        from_child: false,
                        location: None,
                        open_state: None,
                    },
                    (Err(e), _) | (_, Err(e)) => Self::fail_eval(&a, e),
                };
                self.thread_fail(t, f);
                return;
            }
            Kind::Task(_) => self.run_task(t, st, &mut a),
            Kind::Map(_) => self.run_map(t, st, &mut a),
            Kind::Parallel { .. } => self.run_parallel(t, st, &mut a),
        };
        self.finish_flow(t, st, a, flow);
    }

    fn finish_flow(&mut self, t: u64, st: &State, a: Active, flow: Flow) {
        match flow {
            Flow::Exit(out) => {
                let tr = st.transition.clone().unwrap_or(Transition::End);
                self.exit_to(t, st, &a, out, tr);
            }
            Flow::ExitTo(out, tr) => self.exit_to(t, st, &a, out, tr),
            Flow::Blocked => self.set_active(t, a),
            Flow::Fail(f) => self.state_failed(t, st, a, f),
            Flow::Terminal(f) => {
                self.evaluation_failed(t, &a, &f);
                self.thread_fail(t, f);
            }
            Flow::Handled => {}
        }
    }

    fn vars_of(&self, t: u64) -> Map<String, Value> {
        self.exec
            .threads
            .get(&t)
            .map(|th| th.vars.clone())
            .unwrap_or_default()
    }

    /// AWS records `EvaluationFailed` (error, cause, location, state) when a JSONata
    /// expression fails, before the state's own failure events; when it follows the
    /// Entered event directly, its previous event is the one before the state was
    /// entered (conformance `assign`, `scenarios`), except in a Wait state, where it is
    /// WaitStateEntered. After other events (a Task's result, say) it follows the last
    /// one: the suite records no such case, so this keeps the usual chain.
    fn evaluation_failed(&mut self, t: u64, a: &Active, f: &Failure) {
        let Some(location) = &f.location else {
            return;
        };
        let waits = self
            .state_of(t, &a.state)
            .is_some_and(|st| matches!(st.kind, Kind::Wait(_)));
        if !waits
            && let Some(th) = self.exec.threads.get_mut(&t)
            && th.cursor == a.entered_id
        {
            th.cursor = a.entered_prev;
        }
        let mut d = Map::new();
        if let Some(e) = &f.error {
            d.insert("error".into(), Value::from(e.clone()));
        }
        if let Some(c) = &f.cause {
            d.insert("cause".into(), Value::from(c.clone()));
        }
        // Some failures name no field (`Map state input must be an array ...`).
        if !location.is_empty() {
            d.insert("location".into(), Value::from(location.clone()));
        }
        d.insert("state".into(), Value::from(a.state.clone()));
        self.emit(
            t,
            "EvaluationFailed",
            "evaluationFailedEventDetails",
            Value::Object(d),
            true,
        );
    }

    /// A JSONata state's `Assign` then `Output` (default `default`), both reading the
    /// variables as they were when the state was entered (developer guide, "Passing data
    /// between states with variables": assignments take effect when the state exits).
    fn jsonata_exit(
        &mut self,
        output: Option<&asl_eval::jsonata::Payload>,
        assign: Option<&Assign>,
        env: &Env<'_>,
        vars: &Map<String, Value>,
        default: Value,
    ) -> Result<Value, EvalError> {
        self.pending_assign = eval_assign(assign, env.input, env, vars)?;
        match output {
            Some(p) => p.evaluate("Output", env),
            None => Ok(default),
        }
    }

    /// The JSONata version of [`Run::execute`]'s per-type logic.
    fn execute_jsonata(&mut self, t: u64, st: &State, a: &mut Active) -> Flow {
        let vars = self.vars_of(t);
        match &st.kind {
            Kind::Pass { .. } | Kind::Succeed => {
                let ctx = self.context(a, st, None, None);
                let env = Env::new(&a.input, &ctx).with_variables(&vars);
                match self.jsonata_exit(
                    st.output.as_ref(),
                    st.assign.as_ref(),
                    &env,
                    &vars,
                    a.input.clone(),
                ) {
                    Ok(out) if matches!(st.kind, Kind::Succeed) => {
                        Flow::ExitTo(out, Transition::End)
                    }
                    Ok(out) => Flow::Exit(out),
                    Err(e) => Flow::Fail(Self::fail_eval(a, e)),
                }
            }
            Kind::Choice {
                jsonata_rules,
                default,
                ..
            } => {
                let ctx = self.context(a, st, None, None);
                let env = Env::new(&a.input, &ctx).with_variables(&vars);
                let mut chosen = None;
                for r in jsonata_rules {
                    match r.condition.evaluate_typed("Condition", &env, "boolean") {
                        Ok(Value::Bool(true)) => {
                            chosen = Some(r);
                            break;
                        }
                        Ok(_) => {}
                        Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
                    }
                }
                let (next, output, assign) = match chosen {
                    Some(r) => (
                        r.next.clone(),
                        r.output.as_ref().or(st.output.as_ref()),
                        r.assign.as_ref(),
                    ),
                    None => match default {
                        Some(d) => (d.clone(), st.output.as_ref(), st.assign.as_ref()),
                        None => {
                            return Flow::Fail(Failure::new(
                                "States.NoChoiceMatched",
                                format!(
                                    "An error occurred while executing the state '{}' (entered at the event id #{}). No Matches!",
                                    a.state, a.entered_id
                                ),
                            ));
                        }
                    },
                };
                match self.jsonata_exit(output, assign, &env, &vars, a.input.clone()) {
                    Ok(out) => Flow::ExitTo(out, Transition::Next(next)),
                    Err(e) => Flow::Fail(Self::fail_eval(a, e)),
                }
            }
            Kind::Wait(w) => self.run_wait(t, st, a, w, &vars),
            Kind::Fail {
                error,
                cause,
                error_expr,
                cause_expr,
                ..
            } => {
                let ctx = self.context(a, st, None, None);
                let env = Env::new(&a.input, &ctx).with_variables(&vars);
                let render = |v: Value| match v {
                    Value::String(s) => s,
                    other => json_text(&other),
                };
                let err = match error_expr {
                    Some(e) => e.evaluate("Error", &env).map(|v| Some(render(v))),
                    None => Ok(error.clone()),
                };
                let cau = match cause_expr {
                    Some(e) => e.evaluate("Cause", &env).map(|v| Some(render(v))),
                    None => Ok(cause.clone()),
                };
                match (err, cau) {
                    (Ok(error), Ok(cause)) => Flow::Terminal(Failure {
                        error,
                        cause,
                        from_child: false,
                        location: None,
                        open_state: None,
                    }),
                    (Err(e), _) | (_, Err(e)) => Flow::Terminal(Self::fail_eval(a, e)),
                }
            }
            Kind::Task(_) => self.run_task(t, st, a),
            Kind::Map(_) => self.run_map(t, st, a),
            Kind::Parallel { .. } => self.run_parallel(t, st, a),
        }
    }

    fn set_active(&mut self, t: u64, a: Active) {
        if let Some(th) = self.exec.threads.get_mut(&t) {
            th.status = TStatus::Active(Box::new(a));
        }
    }

    /// OutputPath; it reads the variables as they were before the state's Assign
    /// (conformance `test_state_assign_evaluation_order`).
    fn output(
        st: &State,
        value: &Value,
        ctx: &Value,
        vars: &Map<String, Value>,
    ) -> Result<Value, EvalError> {
        match &st.io.output_path {
            PathField::Default => Ok(value.clone()),
            PathField::Null => Ok(json!({})),
            PathField::Path(fp) => fp.select_input(&Scope::new(value, ctx).with_variables(vars)),
        }
    }

    fn run_pass(
        &mut self,
        st: &State,
        a: &Active,
        result: Option<&Value>,
        vars: &Map<String, Value>,
    ) -> Flow {
        let ctx = if needs_context(st) || st.assign.is_some() {
            self.context(a, st, None, None)
        } else {
            Value::Null
        };
        let r = (|| {
            let eff = Self::input_path(&st.io.input_path, &a.input, &ctx, vars)?;
            let res = match (result, &st.io.parameters) {
                (Some(r), _) => r.clone(),
                (None, Some(p)) => p.evaluate(&Scope::new(&eff, &ctx).with_variables(vars))?,
                (None, None) => eff,
            };
            // JSONPath Assign reads the Pass state's result (Result, Parameters, or the
            // effective input) as `$` (conformance `test_assign_from_value`).
            let env = Env::new(&a.input, &ctx);
            self.pending_assign = eval_assign(st.assign.as_ref(), &res, &env, vars)?;
            let combined = Self::result_path(&st.io.result_path, &a.input, res)?;
            Self::output(st, &combined, &ctx, vars)
        })();
        match r {
            Ok(v) => Flow::Exit(v),
            Err(e) => Flow::Fail(Self::fail_eval(a, e)),
        }
    }

    fn run_wait(
        &mut self,
        t: u64,
        st: &State,
        a: &mut Active,
        w: &WaitFor,
        vars: &Map<String, Value>,
    ) -> Flow {
        let ctx = if needs_context(st) || st.jsonata {
            self.context(a, st, None, None)
        } else {
            Value::Null
        };
        let due = (|| {
            let eff = Self::input_path(&st.io.input_path, &a.input, &ctx, vars)?;
            let scope = Scope::new(&eff, &ctx).with_variables(vars);
            let env = Env::new(&a.input, &ctx).with_variables(vars);
            Ok::<i64, EvalError>(match w {
                WaitFor::Seconds(s) => after_secs(self.now, *s),
                WaitFor::SecondsPath(p) => after_whole_secs(self.now, p.seconds(&scope)?),
                WaitFor::Timestamp(ts) => ts.timestamp_millis(),
                WaitFor::TimestampPath(p) => p.timestamp(&scope)?.timestamp_millis(),
                WaitFor::SecondsExpr(e) => {
                    after_whole_secs(self.now, jsonata_whole(e, "Seconds", &env)?)
                }
                WaitFor::TimestampExpr(e) => {
                    let v = e.evaluate_typed("Timestamp", &env, "string")?;
                    let text = v.as_str().unwrap_or_default();
                    // Cause recorded by AWS (conformance `test_wait_timestamp_jsonata`).
                    asl_eval::timestamp::parse(text)
                        .ok_or_else(|| {
                            EvalError::new(
                                asl_eval::error::names::QUERY_EVALUATION_ERROR,
                                format!(
                                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {text}"
                                ),
                            )
                        })?
                        .timestamp_millis()
                }
            })
        })();
        match due {
            Err(e) => Flow::Fail(Self::fail_eval(a, e)),
            Ok(due) if due <= self.now => self.wait_done(t, st, a),
            Ok(due) => {
                a.wait = Wait::Timer(self.timer(due));
                Flow::Blocked
            }
        }
    }

    fn wait_done(&mut self, t: u64, st: &State, a: &Active) -> Flow {
        let ctx = if needs_context(st) || st.jsonata || st.assign.is_some() {
            self.context(a, st, None, None)
        } else {
            Value::Null
        };
        let vars = self.vars_of(t);
        let env = Env::new(&a.input, &ctx).with_variables(&vars);
        if st.jsonata {
            return match self.jsonata_exit(
                st.output.as_ref(),
                st.assign.as_ref(),
                &env,
                &vars,
                a.input.clone(),
            ) {
                Ok(v) => Flow::Exit(v),
                Err(e) => Flow::Fail(Self::fail_eval(a, e)),
            };
        }
        match eval_assign(st.assign.as_ref(), &a.input, &env, &vars)
            .map(|assigned| self.pending_assign = assigned)
            .and_then(|()| Self::input_path(&st.io.input_path, &a.input, &ctx, &vars))
            .and_then(|eff| Self::output(st, &eff, &ctx, &vars))
        {
            Ok(v) => Flow::Exit(v),
            Err(e) => Flow::Fail(Self::fail_eval(a, e)),
        }
    }

    fn num(&self, n: &NumOrPath, scope: &Scope<'_>, env: &Env<'_>) -> Result<f64, EvalError> {
        match n {
            NumOrPath::Literal(v) => Ok(*v),
            NumOrPath::Path(p) => p.non_negative_integer(scope).map(|v| v as f64),
            NumOrPath::Expr(e, field) => jsonata_whole(e, field, env).map(|v| v as f64),
        }
    }

    fn run_task(&mut self, t: u64, st: &State, a: &mut Active) -> Flow {
        let Kind::Task(task) = &st.kind else {
            return Flow::Blocked;
        };
        let task_id = self.exec.next_task;
        self.exec.next_task += 1;
        let token = self.exec.token(task_id);
        let wait_token = task.resource.ends_with(".waitForTaskToken");
        let ctx = self.context(a, st, wait_token.then_some(token.as_str()), None);
        let vars = self.vars_of(t);
        let prepared = (|| {
            let eff = Self::input_path(&st.io.input_path, &a.input, &ctx, &vars)?;
            let scope = Scope::new(&eff, &ctx).with_variables(&vars);
            let env = Env::new(&a.input, &ctx).with_variables(&vars);
            let params = match (&st.io.parameters, &st.arguments) {
                (Some(p), _) => p.evaluate(&scope)?,
                (None, Some(args)) => args.evaluate("Arguments", &env)?,
                (None, None) => eff.clone(),
            };
            let timeout = task
                .timeout
                .as_ref()
                .map(|n| self.num(n, &scope, &env))
                .transpose()?;
            let heartbeat = task
                .heartbeat
                .as_ref()
                .map(|n| self.num(n, &scope, &env))
                .transpose()?;
            Ok::<_, EvalError>((params, timeout, heartbeat))
        })();
        let (params, timeout, heartbeat) = match prepared {
            Ok(v) => v,
            Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
        };
        let (resource_type, resource) = split_resource(&task.resource);
        let region = self.exec.info.region().to_owned();
        let legacy_lambda = is_lambda_function_arn(&task.resource);
        if legacy_lambda {
            // API reference: LambdaFunctionScheduledEventDetails {resource, input, inputDetails, timeoutInSeconds}.
            let mut d = Map::new();
            d.insert("resource".into(), Value::from(task.resource.clone()));
            d.insert("input".into(), Value::from(json_text(&params)));
            d.insert("inputDetails".into(), not_truncated());
            if let Some(s) = timeout {
                d.insert("timeoutInSeconds".into(), Value::from(s as u64));
            }
            self.emit(
                t,
                "LambdaFunctionScheduled",
                "lambdaFunctionScheduledEventDetails",
                Value::Object(d),
                true,
            );
            self.emit(t, "LambdaFunctionStarted", "", Value::Null, true);
        } else {
            let mut d = Map::new();
            d.insert("resourceType".into(), Value::from(resource_type.clone()));
            d.insert("resource".into(), Value::from(resource.clone()));
            d.insert("region".into(), Value::from(region.clone()));
            d.insert("parameters".into(), Value::from(json_text(&params)));
            if let Some(s) = timeout {
                d.insert("timeoutInSeconds".into(), Value::from(s as u64));
            }
            if let Some(s) = heartbeat {
                d.insert("heartbeatInSeconds".into(), Value::from(s as u64));
            }
            self.emit(
                t,
                "TaskScheduled",
                "taskScheduledEventDetails",
                Value::Object(d),
                true,
            );
            self.emit(
                t,
                "TaskStarted",
                "taskStartedEventDetails",
                json!({"resourceType": resource_type, "resource": resource}),
                true,
            );
        }
        let timeout_timer = timeout.map(|s| self.timer(after_secs(self.now, s)));
        let heartbeat_timer = heartbeat.map(|s| self.timer(after_secs(self.now, s)));
        a.wait = Wait::Task(TaskWait {
            task_id,
            legacy_lambda,
            resource_type,
            resource,
            timeout_timer,
            heartbeat_timer,
            heartbeat_s: heartbeat.map(|s| s as u64),
        });
        self.out.effects.push(Effect::InvokeTask {
            task_id,
            request: TaskRequest {
                resource: task.resource.clone(),
                parameters: params,
                task_token: wait_token.then_some(token),
                region,
            },
        });
        Flow::Blocked
    }

    fn run_map(&mut self, t: u64, st: &State, a: &mut Active) -> Flow {
        let Kind::Map(m) = &st.kind else {
            return Flow::Blocked;
        };
        let ctx = self.context(a, st, None, None);
        let vars = self.vars_of(t);
        let eff = match Self::input_path(&st.io.input_path, &a.input, &ctx, &vars) {
            Ok(v) => v,
            Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
        };
        let scope = Scope::new(&eff, &ctx).with_variables(&vars);
        let env = Env::new(&a.input, &ctx).with_variables(&vars);
        let max = match m
            .max_concurrency
            .as_ref()
            .map(|n| self.num(n, &scope, &env))
            .transpose()
        {
            Ok(v) => v.unwrap_or(0.0).max(0.0) as usize,
            Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
        };
        let selected_items = match &m.items {
            // `"Items": "{% ... %}"` must give an array (conformance
            // `test_map_state_items_eval_jsonata_fail`); a literal array may hold
            // expressions (`test_base_map[ITEMS]`).
            Some(p) => match p.as_expr() {
                Some(e) => e.evaluate_typed("Items", &env, "array"),
                None => p.evaluate("Items", &env),
            },
            None if st.jsonata => match &a.input {
                Value::Array(_) => Ok(a.input.clone()),
                // Cause recorded by AWS (conformance `test_map_state_items_input_types`).
                other => Err(EvalError::new(
                    asl_eval::error::names::QUERY_EVALUATION_ERROR,
                    format!(
                        "Map state input must be an array but was: {}",
                        json_text(other)
                    ),
                )),
            },
            None => Self::input_path(&m.items_path, &eff, &ctx, &vars),
        };
        let items = match selected_items {
            Ok(Value::Array(items)) => items,
            Ok(other) => {
                return Flow::Fail(Self::fail_eval(
                    a,
                    EvalError::runtime(format!(
                        "Items of Map state must be a JSON array, but found: {}",
                        json_text(&other)
                    )),
                ));
            }
            Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
        };
        // ItemBatcher groups the items after ItemSelector shaped each of them.
        let (items, preselected) = match &m.item_batcher {
            Some(b) if m.mode == MapMode::Distributed => {
                let mut selected = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match (&m.item_selector, &m.item_selector_jsonata) {
                        (Some(sel), _) => {
                            let ctx = self.context(a, st, None, Some((i, item)));
                            match sel.evaluate(&Scope::new(&eff, &ctx).with_variables(&vars)) {
                                Ok(v) => selected.push(v),
                                Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
                            }
                        }
                        (None, Some(sel)) => {
                            let ctx = self.context(a, st, None, Some((i, item)));
                            let env = Env::new(&a.input, &ctx).with_variables(&vars);
                            match sel.evaluate("ItemSelector", &env) {
                                Ok(v) => selected.push(v),
                                Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
                            }
                        }
                        (None, None) => selected.push(item.clone()),
                    }
                }
                (batch(selected, b), true)
            }
            _ => (items, false),
        };
        self.emit(
            t,
            "MapStateStarted",
            "mapStateStartedEventDetails",
            json!({"length": items.len()}),
            true,
        );
        // AWS evaluates the tolerance fields only after MapStateStarted.
        let tolerated = (|| {
            let c = m
                .tolerated_failure_count
                .as_ref()
                .map(|n| self.num(n, &scope, &env))
                .transpose()?;
            let p = m
                .tolerated_failure_percentage
                .as_ref()
                .map(|n| self.num(n, &scope, &env))
                .transpose()?;
            if c.is_some_and(|c| c < 0.0) {
                return Err(EvalError::runtime(
                    "ToleratedFailureCount cannot be negative.",
                ));
            }
            if p.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
                return Err(EvalError::runtime(
                    "ToleratedFailurePercentage must be between 0 and 100.",
                ));
            }
            Ok((c.map(|c| c as u64), p))
        })();
        let (tolerated_count, tolerated_pct) = match tolerated {
            Ok(v) => v,
            Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
        };
        let kind = match m.mode {
            MapMode::Inline => ChildKind::Inline,
            MapMode::Distributed => ChildKind::Distributed,
        };
        if kind == ChildKind::Distributed {
            let label = m.label.clone().unwrap_or_else(|| a.state.clone());
            let uuid = self.uuid();
            let arn = format!(
                "arn:aws:states:{}:{}:mapRun:{}/{}:{}",
                self.exec.info.region(),
                self.exec.info.account(),
                self.exec.info.state_machine_name,
                label,
                uuid
            );
            self.emit(
                t,
                "MapRunStarted",
                "mapRunStartedEventDetails",
                json!({ "mapRunArn": arn }),
                true,
            );
        }
        let n = items.len();
        a.wait = Wait::Children(Box::new(Children {
            kind,
            eff_input: eff,
            items,
            results: vec![None; n],
            running: Vec::new(),
            next: 0,
            max,
            done: 0,
            failures: 0,
            tolerated_count,
            tolerated_pct,
            preselected,
        }));
        self.set_active(t, a.clone());
        if n == 0 {
            self.children_complete(t);
        } else {
            self.spawn_children(t);
        }
        Flow::Handled
    }

    fn uuid(&mut self) -> String {
        let a = self.rand();
        let b = self.rand();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    fn run_parallel(&mut self, t: u64, st: &State, a: &mut Active) -> Flow {
        let Kind::Parallel { branches } = &st.kind else {
            return Flow::Blocked;
        };
        let ctx = self.context(a, st, None, None);
        let vars = self.vars_of(t);
        let eff = match Self::input_path(&st.io.input_path, &a.input, &ctx, &vars) {
            Ok(v) => v,
            Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
        };
        let n = branches.len();
        // `Parameters` (JSONata: `Arguments`) of a Parallel state shape the input of
        // every branch.
        let branch_input = match (&st.io.parameters, &st.arguments) {
            (Some(p), _) => match p.evaluate(&Scope::new(&eff, &ctx).with_variables(&vars)) {
                Ok(v) => v,
                Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
            },
            (None, Some(args)) => {
                match args.evaluate("Arguments", &Env::new(&a.input, &ctx).with_variables(&vars)) {
                    Ok(v) => v,
                    Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
                }
            }
            (None, None) => eff.clone(),
        };
        self.emit(t, "ParallelStateStarted", "", Value::Null, true);
        a.wait = Wait::Children(Box::new(Children {
            kind: ChildKind::Parallel,
            eff_input: eff,
            items: vec![branch_input; n],
            results: vec![None; n],
            running: Vec::new(),
            next: 0,
            max: 0,
            done: 0,
            failures: 0,
            tolerated_count: None,
            tolerated_pct: None,
            preselected: false,
        }));
        self.set_active(t, a.clone());
        self.spawn_children(t);
        Flow::Handled
    }

    /// Spawns as many children as MaxConcurrency allows; pushes them so the lowest index runs first.
    fn spawn_children(&mut self, t: u64) {
        // Called after every finished child: return before cloning the children's items
        // and results when there is nothing to spawn, or a Parallel with n branches
        // (a Map with n items) costs O(n) per child, O(n^2) in all (found by the
        // hostile-definition tests, docs/reliability.md).
        let can_spawn = match self.exec.threads.get(&t).map(|th| &th.status) {
            Some(TStatus::Active(a)) => matches!(&a.wait, Wait::Children(ch)
                if ch.next < ch.items.len() && (ch.max == 0 || ch.running.len() < ch.max)),
            _ => false,
        };
        if !can_spawn {
            return;
        }
        let (block, cursor, silent) = match self.exec.threads.get(&t) {
            Some(th) => (th.block.clone(), th.cursor, th.silent),
            None => return,
        };
        let Some(TStatus::Active(a)) = self.exec.threads.get(&t).map(|th| th.status.clone()) else {
            return;
        };
        let Wait::Children(mut ch) = a.wait.clone() else {
            return;
        };
        let Some(st) = self.state_of(t, &a.state) else {
            return;
        };
        let mut spawned = Vec::new();
        let parent_vars = self.vars_of(t);
        while ch.next < ch.items.len() && (ch.max == 0 || ch.running.len() < ch.max) {
            let idx = ch.next;
            ch.next += 1;
            let mut child_block = block.clone();
            child_block.push(BlockStep {
                state: a.state.clone(),
                branch: (ch.kind == ChildKind::Parallel).then_some(idx),
            });
            let child_silent = silent || ch.kind == ChildKind::Distributed;
            let c = self.new_thread(child_block, Some(t), idx, cursor, child_silent);
            if let Some(th) = self.exec.threads.get_mut(&c) {
                th.vars = parent_vars.clone();
            }
            ch.running.push(c);
            spawned.push((c, idx));
        }
        let eff = ch.eff_input.clone();
        let kind = ch.kind.clone();
        let preselected = ch.preselected;
        let items: Vec<(u64, usize, Value)> = spawned
            .iter()
            .map(|(c, i)| (*c, *i, ch.items.get(*i).cloned().unwrap_or(Value::Null)))
            .collect();
        let mut a2 = (*a).clone();
        a2.wait = Wait::Children(ch);
        self.set_active(t, a2.clone());
        let (item_selector, item_selector_jsonata) = match &st.kind {
            Kind::Map(m) if !preselected => {
                (m.item_selector.clone(), m.item_selector_jsonata.clone())
            }
            _ => (None, None),
        };
        for (c, idx, item) in items.iter().cloned() {
            // Each Parallel branch has its own StartAt.
            let Some(start_at) = self.block_of(c).map(|b| b.start_at.clone()) else {
                continue;
            };
            if kind == ChildKind::Inline {
                self.emit(
                    c,
                    "MapIterationStarted",
                    "mapIterationStartedEventDetails",
                    json!({"index": idx, "name": a2.state}),
                    true,
                );
            }
            let selected = match (&item_selector, &item_selector_jsonata) {
                (Some(sel), _) => {
                    let ctx = self.context(&a2, &st, None, Some((idx, &item)));
                    Some(sel.evaluate(&Scope::new(&eff, &ctx).with_variables(&parent_vars)))
                }
                (None, Some(sel)) => {
                    let ctx = self.context(&a2, &st, None, Some((idx, &item)));
                    let env = Env::new(&a2.input, &ctx).with_variables(&parent_vars);
                    Some(sel.evaluate("ItemSelector", &env))
                }
                (None, None) => None,
            };
            let input = match selected {
                Some(Ok(v)) => v,
                Some(Err(e)) => {
                    let f = Self::fail_eval(&a2, e);
                    self.thread_fail(c, f);
                    continue;
                }
                None => item,
            };
            if let Some(th) = self.exec.threads.get_mut(&c) {
                th.status = TStatus::Ready {
                    state: start_at,
                    input,
                };
            }
        }
        // Lowest index on top of the stack.
        for (c, _, _) in items.iter().rev() {
            if matches!(
                self.exec.threads.get(c).map(|th| &th.status),
                Some(TStatus::Ready { .. })
            ) {
                self.exec.ready.push(*c);
            }
        }
    }

    fn exit_to(&mut self, t: u64, st: &State, a: &Active, out: Value, tr: Transition) {
        let assigned = self.pending_assign.take();
        if let Some(vars) = &assigned
            && let Some(f) = variables_too_large(vars)
        {
            self.thread_fail(t, f);
            return;
        }
        // Depth first, without recursion: serialising (and later dropping) a value nested
        // tens of thousands of levels deep overflows the stack.
        if nested_deeper_than(&out, MAX_PAYLOAD_DEPTH) {
            self.thread_fail(
                t,
                Failure::new(
                    "States.DataLimitExceeded",
                    format!(
                        "The state/task '{}' returned a result nested deeper than {MAX_PAYLOAD_DEPTH} levels.",
                        a.state
                    ),
                ),
            );
            return;
        }
        if json_text(&out).len() > MAX_PAYLOAD_BYTES {
            self.thread_fail(
                t,
                Failure::new(
                    "States.DataLimitExceeded",
                    format!(
                        "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                        a.state
                    ),
                ),
            );
            return;
        }
        let mut details = json!({
            "name": a.state,
            "output": json_text(&out),
            "outputDetails": not_truncated(),
        });
        // An empty `Assign: {}` records nothing (conformance `test_base_cases[BASE_EMPTY]`).
        if let Some(vars) = assigned.filter(|v| !v.is_empty()) {
            // AWS records each assigned value as JSON text (conformance `assign`).
            let shown: Map<String, Value> = vars
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(json_text(v))))
                .collect();
            if let Some(d) = details.as_object_mut() {
                d.insert("assignedVariables".into(), Value::Object(shown));
                d.insert("assignedVariablesDetails".into(), not_truncated());
            }
            if let Some(th) = self.exec.threads.get_mut(&t) {
                th.vars.extend(vars);
            }
        }
        let key = format!("{}StateExited", st.type_name());
        self.emit(t, &key, "stateExitedEventDetails", details, true);
        match tr {
            Transition::Next(n) => {
                if let Some(th) = self.exec.threads.get_mut(&t) {
                    th.status = TStatus::Ready {
                        state: n,
                        input: out,
                    };
                }
                self.exec.ready.push(t);
            }
            Transition::End => self.thread_done(t, out),
        }
    }

    fn state_failed(&mut self, t: u64, st: &State, mut a: Active, f: Failure) {
        self.pending_assign = None;
        self.evaluation_failed(t, &a, &f);
        let retriable = matches!(
            st.kind,
            Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. }
        );
        if retriable
            && f.error.as_deref() != Some("States.Runtime")
            && let Some(idx) = st
                .retry
                .iter()
                .position(|r| error_matches(&r.error_equals, &f))
        {
            {
                let r = &st.retry[idx];
                let n = a.attempts.get(idx).copied().unwrap_or(0);
                if n < r.max_attempts {
                    let mut delay = r.interval_seconds * r.backoff_rate.powi(n as i32);
                    if let Some(maxd) = r.max_delay_seconds {
                        delay = delay.min(maxd);
                    }
                    if r.jitter_full {
                        delay *= (self.rand() % 1000) as f64 / 1000.0;
                    }
                    if let Some(slot) = a.attempts.get_mut(idx) {
                        *slot += 1;
                    }
                    a.retry_count += 1;
                    let due = after_secs(self.now, delay);
                    if due <= self.now && self.immediate_retries < MAX_IMMEDIATE_RETRIES {
                        self.immediate_retries += 1;
                        self.execute(t, st, a);
                    } else {
                        a.wait = Wait::RetryDelay(self.timer(due));
                        self.set_active(t, a);
                    }
                    return;
                }
            }
        }
        // As LocalStack records against AWS: Parallel always records ParallelStateFailed;
        // Map records MapStateFailed unless the Map itself hit a terminal (runtime) error.
        match st.kind {
            Kind::Map(_) if f.from_child || !f.is_terminal() => {
                self.emit(t, "MapStateFailed", "", Value::Null, true);
            }
            Kind::Parallel { .. } => {
                self.emit(t, "ParallelStateFailed", "", Value::Null, true);
            }
            _ => {}
        }
        // AWS docs: a States.Runtime error "will always cause the execution to fail";
        // States.DataLimitExceeded escapes States.ALL but can be caught by name.
        let catcher: Option<&Catcher> = if f.error.as_deref() == Some("States.Runtime") {
            None
        } else {
            st.catch.iter().find(|c| error_matches(&c.error_equals, &f))
        };
        if let Some(c) = catcher {
            let mut payload = Map::new();
            if let Some(e) = &f.error {
                payload.insert("Error".into(), Value::from(e.clone()));
            }
            if let Some(cause) = &f.cause {
                payload.insert("Cause".into(), Value::from(cause.clone()));
            }
            let error_output = Value::Object(payload);
            let ctx = self.context(&a, st, None, None);
            let vars = self.vars_of(t);
            let env = Env::new(&a.input, &ctx)
                .with_variables(&vars)
                .with_error_output(&error_output);
            let caught = if st.jsonata {
                // JSONata Catch: Output defaults to $states.errorOutput.
                self.jsonata_exit(
                    c.output.as_ref(),
                    c.assign.as_ref(),
                    &env,
                    &vars,
                    error_output.clone(),
                )
            } else {
                // JSONPath Catch: Assign reads the error output as `$`.
                eval_assign(c.assign.as_ref(), &error_output, &env, &vars).and_then(|assigned| {
                    self.pending_assign = assigned;
                    Self::result_path(&c.result_path, &a.input, error_output.clone())
                })
            };
            match caught {
                Ok(out) => {
                    let next = c.next.clone();
                    self.exit_to(t, st, &a, out, Transition::Next(next));
                }
                Err(e) => {
                    let f = Failure {
                        open_state: aborted_type(st),
                        ..Self::fail_eval(&a, e)
                    };
                    self.thread_fail(t, f);
                }
            }
            return;
        }
        let f = Failure {
            open_state: aborted_type(st),
            ..f
        };
        self.thread_fail(t, f);
    }

    fn thread_done(&mut self, t: u64, out: Value) {
        if self.exec.status != Status::Running {
            return;
        }
        let parent = self.exec.threads.get(&t).and_then(|th| th.parent);
        match parent {
            None => {
                self.emit(
                    t,
                    "ExecutionSucceeded",
                    "executionSucceededEventDetails",
                    json!({"output": json_text(&out), "outputDetails": not_truncated()}),
                    true,
                );
                self.exec.status = Status::Succeeded;
                self.exec.output = Some(out);
                self.close();
            }
            Some(p) => self.child_finished(p, t, Ok(out)),
        }
    }

    fn thread_fail(&mut self, t: u64, f: Failure) {
        if self.exec.status != Status::Running {
            return;
        }
        let parent = self.exec.threads.get(&t).and_then(|th| th.parent);
        match parent {
            None => {
                let mut d = Map::new();
                if let Some(e) = &f.error {
                    d.insert("error".into(), Value::from(e.clone()));
                }
                if let Some(c) = &f.cause {
                    d.insert("cause".into(), Value::from(c.clone()));
                }
                self.emit(
                    t,
                    "ExecutionFailed",
                    "executionFailedEventDetails",
                    Value::Object(d),
                    true,
                );
                self.exec.status = Status::Failed;
                self.exec.error = f.error;
                self.exec.cause = f.cause;
                self.close();
            }
            Some(p) => self.child_finished(p, t, Err(f)),
        }
    }

    fn take_children(&mut self, p: u64) -> Option<(Active, Box<Children>)> {
        let th = self.exec.threads.get_mut(&p)?;
        let TStatus::Active(a) = std::mem::replace(&mut th.status, TStatus::Dead) else {
            return None;
        };
        let mut a = *a;
        let Wait::Children(ch) = std::mem::replace(&mut a.wait, Wait::Nothing) else {
            th.status = TStatus::Active(Box::new(a));
            return None;
        };
        Some((a, ch))
    }

    fn child_finished(&mut self, p: u64, c: u64, result: Result<Value, Failure>) {
        let Some((mut a, mut ch)) = self.take_children(p) else {
            self.exec.threads.remove(&c);
            return;
        };
        let Some(st) = self.state_of(p, &a.state) else {
            return;
        };
        let (slot, child_cursor) = match self.exec.threads.get(&c) {
            Some(th) => (th.slot, th.cursor),
            None => return,
        };
        ch.running.retain(|x| *x != c);
        let iter_details = json!({"index": slot, "name": a.state});
        match result {
            Ok(v) => {
                let mut last = 0;
                if ch.kind == ChildKind::Inline {
                    last = self.emit(
                        c,
                        "MapIterationSucceeded",
                        "mapIterationSucceededEventDetails",
                        iter_details,
                        false,
                    );
                }
                self.exec.threads.remove(&c);
                if let Some(th) = self.exec.threads.get_mut(&p)
                    && ch.kind != ChildKind::Distributed
                {
                    th.cursor = th.cursor.max(child_cursor);
                    th.last = th.last.max(last);
                }
                if let Some(r) = ch.results.get_mut(slot) {
                    *r = Some(v);
                }
                ch.done += 1;
            }
            Err(f) => {
                if ch.kind == ChildKind::Distributed {
                    self.exec.threads.remove(&c);
                    ch.failures += 1;
                    ch.done += 1;
                    let mut failed = Map::new();
                    if let Some(e) = &f.error {
                        failed.insert("Error".into(), Value::from(e.clone()));
                    }
                    if let Some(cause) = &f.cause {
                        failed.insert("Cause".into(), Value::from(cause.clone()));
                    }
                    if let Some(r) = ch.results.get_mut(slot) {
                        *r = Some(Value::Object(failed));
                    }
                    let total = ch.items.len() as f64;
                    let over_count = ch.tolerated_count.is_none_or(|n| ch.failures > n);
                    let over_pct = ch
                        .tolerated_pct
                        .is_none_or(|pct| (ch.failures as f64) * 100.0 / total > pct);
                    if over_count && over_pct {
                        self.abort_children(&mut ch, &a, child_cursor);
                        self.emit(
                            p,
                            "MapRunFailed",
                            "mapRunFailedEventDetails",
                            json!({"error": "States.ExceedToleratedFailureThreshold", "cause": "The specified tolerance threshold was exceeded"}),
                            true,
                        );
                        self.state_failed(
                            p,
                            &st,
                            a,
                            Failure::new(
                                "States.ExceedToleratedFailureThreshold",
                                "The specified tolerance threshold was exceeded",
                            ),
                        );
                        return;
                    }
                } else {
                    // Measured on AWS: the iterations or branches this failure cuts are
                    // recorded first, each as MapIterationAborted (inline Map) and then
                    // the `<Type>StateAborted` of the state it was in; then
                    // MapIterationFailed; then, if the failed state was itself a Task,
                    // Wait, Map or Parallel, its own `<Type>StateAborted`; then
                    // MapStateFailed / ParallelStateFailed. All of them follow the
                    // failing event (previousEventId) without becoming the cursor.
                    // Sources: floci-io/floci StepFunctionsMapIterationFailureIntegrationTest
                    // (Fail in one iteration cuts a Wait: MapIterationAborted,
                    // WaitStateAborted, MapIterationFailed, MapStateFailed); LocalStack's
                    // AWS-recorded snapshots test_callback
                    // `test_sqs_failure_in_wait_for_task_tok_no_error_field[SQS_PARALLEL_
                    // WAIT_FOR_TASK_TOKEN]` (TaskFailed, TaskStateAborted,
                    // ParallelStateFailed) and test_timeouts
                    // `test_service_lambda_map_timeout` (the same events for four
                    // iterations timing out at once, in another order: those ran
                    // concurrently, where only the multiset is defined).
                    self.abort_children(&mut ch, &a, child_cursor);
                    if ch.kind == ChildKind::Inline {
                        self.emit(
                            c,
                            "MapIterationFailed",
                            "mapIterationFailedEventDetails",
                            iter_details,
                            false,
                        );
                    }
                    if let Some(ty) = f.open_state {
                        self.emit(c, &format!("{ty}StateAborted"), "", Value::Null, false);
                    }
                    self.exec.threads.remove(&c);
                    if let Some(th) = self.exec.threads.get_mut(&p) {
                        th.cursor = th.cursor.max(child_cursor);
                    }
                    let f = Failure {
                        from_child: true,
                        open_state: None,
                        ..f
                    };
                    self.state_failed(p, &st, a, f);
                    return;
                }
            }
        }
        if ch.done == ch.items.len() {
            if ch.kind == ChildKind::Inline
                && let Some(th) = self.exec.threads.get_mut(&p)
            {
                // The last iteration event becomes the source of what follows.
                th.cursor = th.last;
            }
            a.wait = Wait::Children(ch);
            self.set_active(p, a);
            self.children_complete(p);
        } else {
            a.wait = Wait::Children(ch);
            self.set_active(p, a);
            self.spawn_children(p);
        }
    }

    /// Cuts the running children of a Map or Parallel whose child failed: each one
    /// records MapIterationAborted (inline Map) and the abort of the state it is in
    /// ([`Run::abort_thread`]), all following event `prev`, lowest index first. Their
    /// threads go, so their task tokens answer `TaskTimedOut` and their timers are stale.
    fn abort_children(&mut self, ch: &mut Children, a: &Active, prev: u64) {
        let mut running = std::mem::take(&mut ch.running);
        running.sort_by_key(|c| self.exec.threads.get(c).map_or(0, |th| th.slot));
        for c in running {
            if let Some(th) = self.exec.threads.get_mut(&c) {
                th.cursor = prev;
            }
            if ch.kind == ChildKind::Inline {
                let slot = self.exec.threads.get(&c).map_or(0, |th| th.slot);
                self.emit(
                    c,
                    "MapIterationAborted",
                    "mapIterationAbortedEventDetails",
                    json!({"index": slot, "name": a.state}),
                    false,
                );
            }
            self.abort_thread(c, prev);
            self.remove_tree(c);
        }
        ch.next = ch.items.len();
    }

    /// Records the abort of the state thread `t` is in (`<Type>StateAborted`, for the
    /// types that have one), following event `prev`; a Map or Parallel there cuts its
    /// own children after it. A thread between two states records nothing. The order
    /// inside a nested Map or Parallel (state before its children) is not measured.
    fn abort_thread(&mut self, t: u64, prev: u64) {
        let Some(th) = self.exec.threads.get_mut(&t) else {
            return;
        };
        th.cursor = prev;
        let TStatus::Active(a) = &th.status else {
            return;
        };
        let a = (**a).clone();
        if let Some(ty) = self.state_of(t, &a.state).as_ref().and_then(aborted_type) {
            self.emit(t, &format!("{ty}StateAborted"), "", Value::Null, false);
        }
        if let Wait::Children(mut ch) = a.wait.clone() {
            self.abort_children(&mut ch, &a, prev);
        }
    }

    fn remove_tree(&mut self, t: u64) {
        let kids: Vec<u64> = self
            .exec
            .threads
            .iter()
            .filter(|(_, th)| th.parent == Some(t))
            .map(|(id, _)| *id)
            .collect();
        for k in kids {
            self.remove_tree(k);
        }
        self.exec.threads.remove(&t);
        self.exec.ready.retain(|x| *x != t);
    }

    fn children_complete(&mut self, p: u64) {
        let Some((a, ch)) = self.take_children(p) else {
            return;
        };
        let Some(st) = self.state_of(p, &a.state) else {
            return;
        };
        let results: Vec<Value> = ch
            .results
            .into_iter()
            .map(|r| r.unwrap_or(Value::Null))
            .collect();
        match ch.kind {
            ChildKind::Inline => {
                self.emit(p, "MapStateSucceeded", "", Value::Null, false);
            }
            ChildKind::Distributed => {
                self.emit(p, "MapRunSucceeded", "", Value::Null, true);
                self.emit(p, "MapStateSucceeded", "", Value::Null, false);
            }
            ChildKind::Parallel => {
                self.emit(p, "ParallelStateSucceeded", "", Value::Null, false);
            }
        }
        let ctx = self.context(&a, &st, None, None);
        let result = Value::Array(results);
        let r = self.result_output(p, &st, &a, &ctx, result);
        match r {
            Ok(out) => {
                let tr = st.transition.clone().unwrap_or(Transition::End);
                self.exit_to(p, &st, &a, out, tr);
            }
            Err(e) => {
                let f = Self::fail_eval(&a, e);
                self.state_failed(p, &st, a, f);
            }
        }
    }

    /// A Task's, Map's or Parallel's output from its result: JSONPath ResultSelector,
    /// Assign (reading the selected result as `$`), ResultPath, OutputPath; or JSONata
    /// Assign and Output with `$states.result`.
    fn result_output(
        &mut self,
        t: u64,
        st: &State,
        a: &Active,
        ctx: &Value,
        result: Value,
    ) -> Result<Value, EvalError> {
        self.pending_assign = None;
        let vars = self.vars_of(t);
        if st.jsonata {
            let env = Env::new(&a.input, ctx)
                .with_variables(&vars)
                .with_result(&result);
            return self.jsonata_exit(
                st.output.as_ref(),
                st.assign.as_ref(),
                &env,
                &vars,
                result.clone(),
            );
        }
        let selected = match &st.io.result_selector {
            Some(sel) => sel.evaluate(&Scope::new(&result, ctx).with_variables(&vars))?,
            None => result,
        };
        let env = Env::new(&a.input, ctx);
        self.pending_assign = eval_assign(st.assign.as_ref(), &selected, &env, &vars)?;
        let combined = Self::result_path(&st.io.result_path, &a.input, selected)?;
        Self::output(st, &combined, ctx, &vars)
    }

    fn find_active(&self, pred: impl Fn(&Active) -> bool) -> Option<u64> {
        self.exec
            .threads
            .iter()
            .find_map(|(id, th)| match &th.status {
                TStatus::Active(a) if pred(a) => Some(*id),
                _ => None,
            })
    }

    fn take_active(&mut self, t: u64) -> Option<(Active, State)> {
        let th = self.exec.threads.get_mut(&t)?;
        let TStatus::Active(a) = std::mem::replace(&mut th.status, TStatus::Dead) else {
            return None;
        };
        let st = self.state_of(t, &a.state)?;
        Some((*a, st))
    }

    fn on_timer(&mut self, timer_id: u64) {
        if self.exec.exec_timer == Some(timer_id) {
            self.finish_event(
                "ExecutionTimedOut",
                "executionTimedOutEventDetails",
                json!({"error": "States.Timeout"}),
            );
            self.exec.status = Status::TimedOut;
            self.close();
            return;
        }
        let Some(t) = self.find_active(|a| match &a.wait {
            Wait::Timer(x) | Wait::RetryDelay(x) => *x == timer_id,
            Wait::Task(tw) => {
                tw.timeout_timer == Some(timer_id) || tw.heartbeat_timer == Some(timer_id)
            }
            _ => false,
        }) else {
            return; // stale timer: the state moved on
        };
        let Some((mut a, st)) = self.take_active(t) else {
            return;
        };
        match std::mem::replace(&mut a.wait, Wait::Nothing) {
            Wait::Timer(_) => {
                self.pending_assign = None;
                let flow = self.wait_done(t, &st, &a);
                self.finish_flow(t, &st, a, flow);
            }
            Wait::RetryDelay(_) => self.execute(t, &st, a),
            Wait::Task(tw) => {
                let error = if tw.timeout_timer == Some(timer_id) {
                    "States.Timeout"
                } else {
                    "States.HeartbeatTimeout"
                };
                if tw.legacy_lambda {
                    self.emit(
                        t,
                        "LambdaFunctionTimedOut",
                        "lambdaFunctionTimedOutEventDetails",
                        json!({"error": error}),
                        true,
                    );
                } else {
                    self.emit(
                        t,
                        "TaskTimedOut",
                        "taskTimedOutEventDetails",
                        json!({"resourceType": tw.resource_type, "resource": tw.resource, "error": error}),
                        true,
                    );
                }
                self.state_failed(
                    t,
                    &st,
                    a,
                    Failure {
                        error: Some(error.to_owned()),
                        cause: None,
                        from_child: false,
                        location: None,
                        open_state: None,
                    },
                );
            }
            other => {
                a.wait = other;
                self.set_active(t, a);
            }
        }
    }

    fn on_task(&mut self, task_id: u64, outcome: TaskOutcome) -> Result<(), CommandError> {
        let t = self
            .find_active(|a| matches!(&a.wait, Wait::Task(tw) if tw.task_id == task_id))
            .ok_or(CommandError::UnknownTask)?;
        let (mut a, st) = self.take_active(t).ok_or(CommandError::UnknownTask)?;
        let Wait::Task(tw) = std::mem::replace(&mut a.wait, Wait::Nothing) else {
            return Err(CommandError::UnknownTask);
        };
        match outcome {
            TaskOutcome::Submitted(v) => {
                self.emit(
                    t,
                    "TaskSubmitted",
                    "taskSubmittedEventDetails",
                    json!({"resourceType": tw.resource_type, "resource": tw.resource, "output": json_text(&v), "outputDetails": not_truncated()}),
                    true,
                );
                a.wait = Wait::Task(tw);
                self.set_active(t, a);
            }
            TaskOutcome::Succeeded(v) => {
                if tw.legacy_lambda {
                    self.emit(
                        t,
                        "LambdaFunctionSucceeded",
                        "lambdaFunctionSucceededEventDetails",
                        json!({"output": json_text(&v), "outputDetails": not_truncated()}),
                        true,
                    );
                } else {
                    self.emit(
                        t,
                        "TaskSucceeded",
                        "taskSucceededEventDetails",
                        json!({"resourceType": tw.resource_type, "resource": tw.resource, "output": json_text(&v), "outputDetails": not_truncated()}),
                        true,
                    );
                }
                let ctx = self.context(&a, &st, None, None);
                let r = self.result_output(t, &st, &a, &ctx, v);
                match r {
                    Ok(out) => {
                        let tr = st.transition.clone().unwrap_or(Transition::End);
                        self.exit_to(t, &st, &a, out, tr);
                    }
                    Err(e) => {
                        let f = Self::fail_eval(&a, e);
                        self.state_failed(t, &st, a, f);
                    }
                }
            }
            TaskOutcome::Failed { error, cause } => {
                // SendTaskFailure may omit error and cause; AWS then records neither.
                let error = (!error.is_empty()).then_some(error);
                let cause = (!cause.is_empty()).then_some(cause);
                let mut d = Map::new();
                if !tw.legacy_lambda {
                    d.insert("resourceType".into(), Value::from(tw.resource_type.clone()));
                    d.insert("resource".into(), Value::from(tw.resource.clone()));
                }
                if let Some(e) = &error {
                    d.insert("error".into(), Value::from(e.clone()));
                }
                if let Some(c) = &cause {
                    d.insert("cause".into(), Value::from(c.clone()));
                }
                let (ty, key) = if tw.legacy_lambda {
                    ("LambdaFunctionFailed", "lambdaFunctionFailedEventDetails")
                } else {
                    ("TaskFailed", "taskFailedEventDetails")
                };
                self.emit(t, ty, key, Value::Object(d), true);
                self.state_failed(
                    t,
                    &st,
                    a,
                    Failure {
                        error,
                        cause,
                        from_child: false,
                        location: None,
                        open_state: None,
                    },
                );
            }
        }
        Ok(())
    }

    fn on_heartbeat(&mut self, task_id: u64) -> Result<(), CommandError> {
        let t = self
            .find_active(|a| matches!(&a.wait, Wait::Task(tw) if tw.task_id == task_id))
            .ok_or(CommandError::UnknownTask)?;
        let (mut a, _st) = self.take_active(t).ok_or(CommandError::UnknownTask)?;
        if let Wait::Task(tw) = &mut a.wait
            && let Some(s) = tw.heartbeat_s
        {
            tw.heartbeat_timer = Some(self.timer(after_whole_secs(self.now, s)));
        }
        self.set_active(t, a);
        Ok(())
    }
}

/// The state types with a `<Type>StateAborted` history event (API reference,
/// `HistoryEventType`): the others end within one step and are never cut mid-way.
fn aborted_type(st: &State) -> Option<&'static str> {
    matches!(
        st.kind,
        Kind::Task(_) | Kind::Wait(_) | Kind::Map(_) | Kind::Parallel { .. }
    )
    .then(|| st.type_name())
}

/// Evaluates an `Assign` block: a JSONPath template reading `path_input` as `$`, or a
/// JSONata payload reading `env`. Both read the variables as they were before the state.
fn eval_assign(
    assign: Option<&Assign>,
    path_input: &Value,
    env: &Env<'_>,
    vars: &Map<String, Value>,
) -> Result<Option<Map<String, Value>>, EvalError> {
    match assign {
        None => Ok(None),
        Some(Assign::Jsonata(p)) => {
            let env = env.with_variables(vars);
            Ok(Some(
                p.evaluate_entries("Assign", &env)?.into_iter().collect(),
            ))
        }
        Some(Assign::Path(t)) => {
            match t.evaluate(&Scope::new(path_input, env.context).with_variables(vars))? {
                Value::Object(m) => Ok(Some(m)),
                _ => Ok(Some(Map::new())),
            }
        }
    }
}

/// AWS's variable limits (developer guide, "Passing data between states with
/// variables", Variable size limits): one variable at most 256 KiB, and everything one
/// `Assign` sets at most 256 KiB together. Over them the state fails with
/// `States.Runtime`.
fn variables_too_large(vars: &Map<String, Value>) -> Option<Failure> {
    let mut total = 0usize;
    for (name, v) in vars {
        let size = json_text(v).len();
        if size > MAX_PAYLOAD_BYTES {
            return Some(Failure::new(
                "States.Runtime",
                format!("The variable '{name}' is larger than the limit of 256 KiB."),
            ));
        }
        total += size;
    }
    (total > MAX_PAYLOAD_BYTES).then(|| {
        Failure::new(
            "States.Runtime",
            "The variables assigned by one state are larger than the limit of 256 KiB together.",
        )
    })
}

/// A JSONata number field (`TimeoutSeconds`, `Seconds`, `MaxConcurrency`, ...): a
/// non-negative whole number.
fn jsonata_whole(
    e: &asl_eval::jsonata::Expr,
    field: &str,
    env: &Env<'_>,
) -> Result<u64, EvalError> {
    let v = e.evaluate_typed(field, env, "number")?;
    match v.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 => Ok(n as u64),
        _ => Err(EvalError::new(
            asl_eval::error::names::QUERY_EVALUATION_ERROR,
            format!(
                "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected 'non-negative integer', but was 'number' for value: {}",
                e.source(),
                json_text(&v)
            ),
        )),
    }
}

/// The field a JSONata failure happened in, from its cause: "... specified for the field
/// 'Output/result' ..." or "The Timestamp field cannot be parsed ...".
fn query_location(cause: &str) -> String {
    if let Some(rest) = cause.split("specified for the field '").nth(1)
        && let Some(end) = rest.find('\'')
    {
        return rest[..end].to_owned();
    }
    cause
        .strip_prefix("The ")
        .and_then(|r| r.split(' ').next())
        .unwrap_or_default()
        .to_owned()
}

/// ItemBatcher: groups items into `{"Items": [...]}` objects (plus `BatchInput`).
fn batch(items: Vec<Value>, batcher: &Value) -> Vec<Value> {
    let per = batcher
        .get("MaxItemsPerBatch")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX)
        .max(1) as usize;
    let batch_input = batcher.get("BatchInput").cloned();
    items
        .chunks(per)
        .map(|chunk| {
            let mut m = Map::new();
            if let Some(b) = &batch_input {
                m.insert("BatchInput".into(), b.clone());
            }
            m.insert("Items".into(), Value::Array(chunk.to_vec()));
            Value::Object(m)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! GIVEN a definition WHEN commands arrive THEN events and effects are what AWS records.
    //! Deterministic: a fake clock and an in-memory store, no sleeping.

    use super::*;
    use crate::ports::{Clock, FakeClock, MemoryStore, Store};

    fn def(v: Value) -> Definition {
        match Definition::parse(&v) {
            Ok(d) => d,
            Err(e) => panic!("definition: {e}"),
        }
    }

    fn info(input: Value) -> ExecInfo {
        ExecInfo {
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:e1".into(),
            name: "e1".into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
            state_machine_name: "sm".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            start_ms: 1_700_000_000_000,
            input,
            token_prefix: "tok-".into(),
        }
    }

    fn types(events: &[HistoryEvent]) -> Vec<&str> {
        events.iter().map(|e| e.event_type.as_str()).collect()
    }

    fn invocations(step: &Step) -> Vec<(u64, TaskRequest)> {
        step.tasks().map(|(id, r)| (id, r.clone())).collect()
    }

    fn timers(step: &Step) -> Vec<(u64, i64)> {
        step.timers().collect()
    }

    fn apply(exec: &mut Execution, d: &Definition, cmd: Command, now: i64) -> Step {
        match exec.apply(d, cmd, now) {
            Ok(s) => s,
            Err(e) => panic!("apply: {e}"),
        }
    }

    #[test]
    fn pass_chain_records_ids_like_aws() {
        let d = def(json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "Next": "B"},
            "B": {"Type": "Succeed"}}}));
        let (exec, step) = Execution::start(&d, info(json!({"in": true})), 0);
        assert_eq!(
            types(&step.events),
            [
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "SucceedStateEntered",
                "SucceedStateExited",
                "ExecutionSucceeded"
            ]
        );
        let prev: Vec<u64> = step.events.iter().map(|e| e.previous_event_id).collect();
        assert_eq!(prev, [0, 0, 2, 3, 4, 5]);
        assert_eq!(exec.status, Status::Succeeded);
        assert_eq!(exec.output, Some(json!({"in": true, "r": {"x": 1}})));
    }

    #[test]
    fn wait_arms_a_timer_and_exits_when_it_fires() {
        let clock = FakeClock::new(1_000);
        let d = def(
            json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}),
        );
        let (mut exec, step) = Execution::start(&d, info(json!({})), clock.now_ms());
        assert_eq!(timers(&step), [(1, 6_000)]);
        assert_eq!(exec.status, Status::Running);
        clock.advance(5_000);
        let step = apply(
            &mut exec,
            &d,
            Command::Timer { timer_id: 1 },
            clock.now_ms(),
        );
        assert_eq!(
            types(&step.events),
            ["WaitStateExited", "ExecutionSucceeded"]
        );
        assert_eq!(exec.status, Status::Succeeded);
    }

    #[test]
    fn jsonata_callback_task_assigns_variables_and_shapes_its_output() {
        // GIVEN a JSONata machine whose Task builds its message with Arguments, keeps
        // part of the answer in a variable, and a later state reads it.
        let d = def(
            json!({"QueryLanguage": "JSONata", "StartAt": "Ask", "States": {
            "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "Arguments": {"Message": {"token": "{% $states.context.Task.Token %}",
                                          "id": "{% $states.input.id %}"}},
                "TimeoutSeconds": "{% $states.input.wait %}",
                "Assign": {"answer": "{% $states.result.approved %}"},
                "Output": {"id": "{% $states.input.id %}"},
                "Next": "Done"},
            "Done": {"Type": "Pass", "Output": {"id": "{% $states.input.id %}", "approved": "{% $answer %}"}, "End": true}}}),
        );
        let (mut exec, step) = Execution::start(&d, info(json!({"id": 7, "wait": 60})), 0);
        let calls = invocations(&step);
        assert_eq!(calls.len(), 1);
        assert_eq!(
            calls[0].1.parameters,
            json!({"Message": {"token": crate::token::task_token("tok-", calls[0].0), "id": 7}})
        );
        assert_eq!(timers(&step), [(1, 60_000)]);
        // WHEN the answer arrives
        let step = apply(
            &mut exec,
            &d,
            Command::Task {
                task_id: calls[0].0,
                outcome: TaskOutcome::Succeeded(json!({"approved": true})),
            },
            1,
        );
        // THEN the exit event records the assignment and the next state reads it.
        let exited = step
            .events
            .iter()
            .find(|e| e.event_type == "TaskStateExited")
            .map(|e| e.details.clone());
        assert_eq!(
            exited.as_ref().and_then(|d| d.get("assignedVariables")),
            Some(&json!({"answer": "true"}))
        );
        assert_eq!(exec.output, Some(json!({"id": 7, "approved": true})));
    }

    #[test]
    fn map_iterations_read_outer_variables_and_keep_their_own() {
        // GIVEN an outer variable and a Map whose iterations assign another one
        let d = def(json!({"StartAt": "Set", "States": {
            "Set": {"Type": "Pass", "Assign": {"x": 1}, "Next": "Map"},
            "Map": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "In", "States": {
                "In": {"Type": "Pass", "Assign": {"inner.$": "$x", "x": 99}, "Parameters": {"seen.$": "$x"}, "End": true}}},
                "Next": "After"},
            "After": {"Type": "Pass", "QueryLanguage": "JSONata",
                "Output": {"x": "{% $x %}", "inner": "{% $exists($inner) %}", "r": "{% $states.input %}"}, "End": true}}}));
        let (exec, _) = Execution::start(&d, info(json!({"items": [1, 2]})), 0);
        // THEN the iterations saw x = 1, and neither x = 99 nor `inner` leaked out.
        assert_eq!(exec.status, Status::Succeeded);
        assert_eq!(
            exec.output,
            Some(json!({"x": 1, "inner": false, "r": [{"seen": 1}, {"seen": 1}]}))
        );
    }

    #[test]
    fn a_failed_jsonata_expression_records_evaluation_failed_and_can_be_caught() {
        let d = def(
            json!({"QueryLanguage": "JSONata", "StartAt": "Bad", "States": {
            "Bad": {"Type": "Parallel", "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}],
                "Output": {"v": "{% $nope %}"},
                "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Handled",
                           "Output": {"error": "{% $states.errorOutput.Error %}"}}],
                "End": true},
            "Handled": {"Type": "Succeed"}}}),
        );
        let (exec, step) = Execution::start(&d, info(json!({})), 0);
        let failed = step
            .events
            .iter()
            .find(|e| e.event_type == "EvaluationFailed")
            .map(|e| e.details.clone());
        assert_eq!(
            failed.as_ref().and_then(|d| d.get("location")),
            Some(&json!("Output/v"))
        );
        assert_eq!(exec.status, Status::Succeeded);
        assert_eq!(
            exec.output,
            Some(json!({"error": "States.QueryEvaluationError"}))
        );
    }

    #[test]
    fn evaluation_failed_after_a_task_result_follows_it() {
        let d = def(
            json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                  "Output": "{% $states.result.missing %}", "End": true}}}),
        );
        let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
        let task_id = invocations(&step)[0].0;
        let step = apply(
            &mut exec,
            &d,
            Command::Task {
                task_id,
                outcome: TaskOutcome::Succeeded(json!({"MessageId": "m"})),
            },
            1,
        );
        assert_eq!(
            types(&step.events),
            ["TaskSucceeded", "EvaluationFailed", "ExecutionFailed"]
        );
        assert_eq!(step.events[1].previous_event_id, step.events[0].id);
        assert_eq!(exec.error.as_deref(), Some("States.QueryEvaluationError"));
    }

    #[test]
    fn an_oversized_variable_fails_the_state() {
        let d = def(
            json!({"QueryLanguage": "JSONata", "StartAt": "Big", "States": {
            "Big": {"Type": "Pass", "Assign": {"big": "{% $pad('', 300000, 'x') %}"}, "End": true}}}),
        );
        let (exec, _) = Execution::start(&d, info(json!({})), 0);
        assert_eq!(exec.status, Status::Failed);
        assert_eq!(exec.error.as_deref(), Some("States.Runtime"));
    }

    #[test]
    fn callback_task_survives_a_snapshot_round_trip() {
        let store = MemoryStore::default();
        let d = def(json!({"StartAt": "Ask", "States": {"Ask": {
            "Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Parameters": {"Message": {"token.$": "$$.Task.Token"}},
            "ResultPath": "$.decision", "End": true}}}));
        let (exec, step) = Execution::start(&d, info(json!({"id": 7})), 0);
        let calls = invocations(&step);
        assert_eq!(calls.len(), 1);
        let (task_id, req) = &calls[0];
        let token = crate::token::task_token("tok-", *task_id);
        assert_eq!(req.task_token.as_deref(), Some(token.as_str()));
        assert_eq!(req.parameters, json!({"Message": {"token": token}}));
        assert!(store.save("e1", &exec, &step.events).is_ok());

        // The driver restarts: only the stored snapshot is left.
        let mut exec = match store.load("e1") {
            Ok(Some(e)) => e,
            other => panic!("load: {other:?}"),
        };
        let step = apply(
            &mut exec,
            &d,
            Command::Task {
                task_id: *task_id,
                outcome: TaskOutcome::Submitted(json!({"MessageId": "m"})),
            },
            1,
        );
        assert_eq!(types(&step.events), ["TaskSubmitted"]);
        let step = apply(
            &mut exec,
            &d,
            Command::Task {
                task_id: *task_id,
                outcome: TaskOutcome::Succeeded(json!({"approved": true})),
            },
            2,
        );
        assert_eq!(
            types(&step.events),
            ["TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
        );
        assert_eq!(
            exec.output,
            Some(json!({"id": 7, "decision": {"approved": true}}))
        );
        assert_eq!(
            exec.apply(&d, Command::Heartbeat { task_id: *task_id }, 3),
            Err(CommandError::NotRunning)
        );
    }

    #[test]
    fn task_timeout_is_caught_as_states_timeout() {
        let d = def(json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                  "TimeoutSeconds": 2, "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}], "End": true},
            "Late": {"Type": "Pass", "End": true}}}));
        let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
        assert_eq!(timers(&step), [(1, 2_000)]);
        let step = apply(&mut exec, &d, Command::Timer { timer_id: 1 }, 2_000);
        assert_eq!(
            types(&step.events),
            [
                "TaskTimedOut",
                "TaskStateExited",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded"
            ]
        );
        assert_eq!(exec.output, Some(json!({"Error": "States.Timeout"})));
    }

    #[test]
    fn retry_waits_with_backoff_then_runs_again() {
        let d = def(json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                  "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2}],
                  "End": true}}}));
        let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
        let (task, _) = invocations(&step)[0].clone();
        let fail = |task_id| Command::Task {
            task_id,
            outcome: TaskOutcome::Failed {
                error: "Boom".into(),
                cause: "c".into(),
            },
        };
        assert_eq!(
            types(&step.events),
            [
                "ExecutionStarted",
                "TaskStateEntered",
                "LambdaFunctionScheduled",
                "LambdaFunctionStarted"
            ]
        );
        let step = apply(&mut exec, &d, fail(task), 10);
        assert_eq!(types(&step.events), ["LambdaFunctionFailed"]);
        assert_eq!(timers(&step), [(1, 2_010)]);
        let step = apply(&mut exec, &d, Command::Timer { timer_id: 1 }, 2_010);
        let (task, _) = invocations(&step)[0].clone();
        let step = apply(&mut exec, &d, fail(task), 3_000);
        assert_eq!(timers(&step), [(2, 9_000)]);
        let step = apply(&mut exec, &d, Command::Timer { timer_id: 2 }, 9_000);
        let (task, _) = invocations(&step)[0].clone();
        let step = apply(&mut exec, &d, fail(task), 9_500);
        assert_eq!(types(&step.events).last(), Some(&"ExecutionFailed"));
        assert_eq!(exec.error.as_deref(), Some("Boom"));
    }

    #[test]
    fn parallel_branches_wait_on_their_own_tokens() {
        let task = json!({"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken", "End": true});
        let d = def(
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": task}},
            {"StartAt": "B", "States": {"B": task}}]}}}),
        );
        let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
        let calls = invocations(&step);
        assert_eq!(calls.len(), 2);
        // Finish the second branch first: results still follow branch order.
        for (task_id, v) in [(calls[1].0, json!("b")), (calls[0].0, json!("a"))] {
            apply(
                &mut exec,
                &d,
                Command::Task {
                    task_id,
                    outcome: TaskOutcome::Succeeded(v),
                },
                5,
            );
        }
        assert_eq!(exec.status, Status::Succeeded);
        assert_eq!(exec.output, Some(json!(["a", "b"])));
    }

    #[test]
    fn map_iteration_failure_fails_the_map_and_the_execution() {
        let d = def(
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}}}}),
        );
        let (exec, step) = Execution::start(&d, info(json!([1])), 0);
        assert_eq!(
            types(&step.events),
            [
                "ExecutionStarted",
                "MapStateEntered",
                "MapStateStarted",
                "MapIterationStarted",
                "FailStateEntered",
                "MapIterationFailed",
                "MapStateFailed",
                "ExecutionFailed"
            ]
        );
        // MapStateFailed follows the iteration's last state event, as AWS records it.
        assert_eq!(step.events[6].previous_event_id, 5);
        assert_eq!(exec.status, Status::Failed);
    }

    #[test]
    fn map_runs_callback_tasks_with_max_concurrency() {
        let d = def(
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1, "End": true,
            "ItemSelector": {"item.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
            "ItemProcessor": {"StartAt": "Ask", "States": {"Ask": {
                "Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "Parameters": {"token.$": "$$.Task.Token", "item.$": "$.item"},
                "ResultSelector": {"who.$": "$.who"}, "End": true}}}}}}),
        );
        let (mut exec, step) = Execution::start(&d, info(json!(["a", "b"])), 0);
        let first = invocations(&step);
        assert_eq!(
            first.len(),
            1,
            "MaxConcurrency 1 runs one iteration at a time"
        );
        assert_eq!(first[0].1.parameters["item"], json!("a"));
        let step = apply(
            &mut exec,
            &d,
            Command::Task {
                task_id: first[0].0,
                outcome: TaskOutcome::Succeeded(json!({"who": "ann"})),
            },
            1,
        );
        let second = invocations(&step);
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].1.parameters["item"], json!("b"));
        assert_ne!(second[0].1.task_token, first[0].1.task_token);
        apply(
            &mut exec,
            &d,
            Command::Task {
                task_id: second[0].0,
                outcome: TaskOutcome::Succeeded(json!({"who": "bob"})),
            },
            2,
        );
        assert_eq!(exec.output, Some(json!([{"who": "ann"}, {"who": "bob"}])));
    }

    #[test]
    fn an_endless_loop_stops_at_the_history_limit() {
        let d = def(json!({"StartAt": "Loop", "States": {
            "Loop": {"Type": "Pass", "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.spin", "BooleanEquals": true, "Next": "Loop"}], "Default": "Done"},
            "Done": {"Type": "Succeed"}}}));
        let (exec, step) = Execution::start(&d, info(json!({"spin": true})), 0);
        assert_eq!(exec.status, Status::Failed);
        let last = step.events.last().cloned();
        assert_eq!(
            last.as_ref().map(|e| (e.id, e.previous_event_id)),
            Some((25_000, 24_999))
        );
        assert_eq!(
            last.map(|e| e.event_type),
            Some("ExecutionFailed".to_owned())
        );
        assert_eq!(exec.cause.as_deref(), Some(HISTORY_LIMIT_CAUSE));
    }

    #[test]
    fn parallel_inside_map_with_catch_resumes_from_snapshots() {
        // Each item needs two approvals (a Parallel of two callback tasks); a rejection
        // is caught per item. The snapshot is serialised between every command.
        let ask = json!({"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Parameters": {"token.$": "$$.Task.Token"}, "End": true});
        let d = def(
            json!({"StartAt": "Items", "States": {"Items": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "Both", "States": {
                "Both": {"Type": "Parallel", "Next": "Ok",
                    "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "No"}],
                    "Branches": [{"StartAt": "A", "States": {"A": ask}}, {"StartAt": "B", "States": {"B": ask}}]},
                "Ok": {"Type": "Pass", "Result": "approved", "End": true},
                "No": {"Type": "Pass", "InputPath": "$.rejection.Error", "End": true}}}}}}),
        );
        let (exec, step) = Execution::start(&d, info(json!([{"n": 1}, {"n": 2}])), 0);
        let mut exec = exec;
        let mut pending: Vec<u64> = invocations(&step).iter().map(|(id, _)| *id).collect();
        assert_eq!(pending.len(), 4, "two items x two branches wait at once");
        // Item 0: both approve. Item 1: first branch rejects.
        let outcomes = [
            (pending[0], TaskOutcome::Succeeded(json!("yes"))),
            (
                pending[2],
                TaskOutcome::Failed {
                    error: "Rejected".into(),
                    cause: "no".into(),
                },
            ),
            (pending[1], TaskOutcome::Succeeded(json!("yes"))),
        ];
        for (now, (task_id, outcome)) in (1..).zip(outcomes) {
            let text = serde_json::to_string(&exec).unwrap_or_default();
            exec = serde_json::from_str(&text).unwrap_or_else(|e| panic!("snapshot: {e}"));
            apply(&mut exec, &d, Command::Task { task_id, outcome }, now);
        }
        pending.clear();
        assert_eq!(exec.status, Status::Succeeded);
        assert_eq!(exec.output, Some(json!(["approved", "Rejected"])));
        // The aborted sibling's token is no longer valid.
        assert!(!exec.has_task(4));
    }

    #[test]
    fn item_batcher_groups_selected_items() {
        let d = def(
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemSelector": {"v.$": "$$.Map.Item.Value"},
            "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"b": true}},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
        );
        let (exec, step) = Execution::start(&d, info(json!([1, 2, 3])), 0);
        assert_eq!(
            exec.output,
            Some(json!([
                {"BatchInput": {"b": true}, "Items": [{"v": 1}, {"v": 2}]},
                {"BatchInput": {"b": true}, "Items": [{"v": 3}]}
            ]))
        );
        assert!(types(&step.events).contains(&"MapRunSucceeded"));
    }

    #[test]
    fn stop_aborts_a_waiting_execution() {
        let d = def(
            json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}),
        );
        let (mut exec, _) = Execution::start(&d, info(json!({})), 0);
        let step = apply(
            &mut exec,
            &d,
            Command::Stop {
                error: Some("E".into()),
                cause: None,
            },
            1,
        );
        assert_eq!(types(&step.events), ["ExecutionAborted"]);
        assert_eq!(step.events[0].previous_event_id, 0);
        assert_eq!(step.events[0].details, json!({"error": "E"}));
        assert_eq!(exec.status, Status::Aborted);
        assert!(exec.pending().is_empty());
    }

    #[test]
    fn execution_timeout_times_out() {
        let d = def(
            json!({"TimeoutSeconds": 1, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}),
        );
        let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
        assert_eq!(timers(&step).len(), 2);
        let step = apply(&mut exec, &d, Command::Timer { timer_id: 1 }, 1_000);
        assert_eq!(types(&step.events), ["ExecutionTimedOut"]);
        assert_eq!(step.events[0].previous_event_id, 0);
        assert_eq!(exec.status, Status::TimedOut);
        assert_eq!(exec.error, None);
    }

    /// Found while writing the `definition_structured` fuzz target: due times were
    /// `now + secs * 1000` in plain i64 arithmetic, which overflows (a panic in debug
    /// builds, a timer in the past in release builds) for huge but valid waits, timeouts
    /// and retry delays.
    #[test]
    fn zero_delay_retries_hand_over_to_the_timer_instead_of_recursing() {
        // Found by fuzzing (docs/fuzzing.md): each immediate retry recursed,
        // so a huge MaxAttempts overflowed the stack within one step.
        let now = 1_700_000_000_000;
        let retry = def(json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"x.$": "States.ArrayGetItem($.c, 5)"},
                  "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 0,
                             "MaxAttempts": 99999999}],
                  "End": true}}}));
        let (exec, step) = Execution::start(&retry, info(json!({"c": [1]})), now);
        assert_eq!(exec.status, Status::Running);
        // The remaining retries wait on a timer that is already due.
        assert!(
            timers(&step).iter().any(|(_, due)| *due <= now),
            "{:?}",
            timers(&step)
        );
    }

    #[test]
    fn huge_durations_saturate_instead_of_overflowing() {
        let now = 1_700_000_000_000;
        let wait_path = def(json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}}));
        let (_, step) = Execution::start(&wait_path, info(json!({"s": i64::MAX})), now);
        assert_eq!(timers(&step), [(1, i64::MAX)]);

        let wait = def(json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 1e300, "End": true}}}));
        let (_, step) = Execution::start(&wait, info(json!({})), now);
        assert_eq!(timers(&step), [(1, i64::MAX)]);

        let timeout = def(json!({"StartAt": "W", "TimeoutSeconds": 1e17, "States": {
            "W": {"Type": "Succeed"}}}));
        let (exec, _) = Execution::start(&timeout, info(json!({})), now);
        assert_eq!(exec.status, Status::Succeeded);

        let task = def(json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                  "TimeoutSeconds": 1e300, "HeartbeatSeconds": 1e299, "End": true}}}));
        let (mut exec, step) = Execution::start(&task, info(json!({})), now);
        assert_eq!(timers(&step), [(1, i64::MAX), (2, i64::MAX)]);
        let step = apply(&mut exec, &task, Command::Heartbeat { task_id: 1 }, now);
        assert!(timers(&step).iter().all(|(_, due)| *due > now));

        let retry = def(json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1e300,
                             "BackoffRate": 1e300}],
                  "End": true}}}));
        let (mut exec, _) = Execution::start(&retry, info(json!({})), now);
        let failed = TaskOutcome::Failed {
            error: "E".into(),
            cause: String::new(),
        };
        let outcome = Command::Task {
            task_id: 1,
            outcome: failed,
        };
        let step = apply(&mut exec, &retry, outcome, now);
        assert_eq!(timers(&step), [(1, i64::MAX)]);
    }

    /// A valid three-state loop that wraps its input once per turn overflowed the stack
    /// (serialising the ever deeper payload) before the history limit could end it.
    #[test]
    fn a_payload_nesting_loop_fails_instead_of_overflowing_the_stack() {
        let d = def(json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Parameters": {"a.$": "$"}, "Next": "C"},
            "C": {"Type": "Choice", "Default": "P",
                  "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "E"}]},
            "E": {"Type": "Succeed"}}}));
        let (exec, step) = Execution::start(&d, info(json!({})), 0);
        assert_eq!(exec.status, Status::Failed);
        assert_eq!(exec.error.as_deref(), Some("States.DataLimitExceeded"));
        assert_eq!(
            exec.cause.as_deref(),
            Some("The state/task 'P' returned a result nested deeper than 100 levels.")
        );
        // `{}` is one level: 99 turns of Pass and Choice (entered, exited), then the
        // failing Pass (entered) and ExecutionFailed.
        assert_eq!(step.events.len(), 1 + 99 * 4 + 2);
    }

    #[test]
    fn nesting_depth_counts_containers_only() {
        let mut v = json!(1);
        for _ in 0..MAX_PAYLOAD_DEPTH {
            v = json!({"a": [v]});
        }
        assert!(nested_deeper_than(&v, 2 * MAX_PAYLOAD_DEPTH - 1));
        assert!(!nested_deeper_than(&v, 2 * MAX_PAYLOAD_DEPTH));
        assert!(!nested_deeper_than(&json!("scalar"), 0));
        assert!(nested_deeper_than(&json!([]), 0));
    }
}
