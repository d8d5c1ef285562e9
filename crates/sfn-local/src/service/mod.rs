//! The Step Functions service: state machines, executions, timers and task callbacks,
//! driving the pure `asl-engine` interpreter and persisting through [`Store`].
//!
//! Contract:
//! * Every accepted mutation (CreateStateMachine, StartExecution, SendTask*, a timer
//!   firing, ...) is committed to SQLite before it is acknowledged or acted upon.
//! * Commands to one execution are applied one at a time (sharded async locks).
//! * An execution waiting on a task token or a long timer is *not* kept in memory: its
//!   snapshot lives in SQLite and is loaded when the callback or timer arrives. In memory
//!   there is only the timer heap entry (execution ARN, timer id, due time).
//! * After a restart, armed timers are reloaded from the `timers` table and fire at their
//!   original deadlines (immediately if already past); task tokens keep working because a
//!   token names its execution and task.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use asl_engine::{
    Clock, Command, CommandError, Definition, Effect, ExecInfo, Execution, Integration, Status,
    Step, SystemClock, TaskRequest,
};
use serde_json::Value;
use tokio::sync::Notify;

use crate::error::ApiError;
use crate::recent::Recent;
use crate::store::{ExecutionRow, StateMachineRow, Store, Write};
use crate::token::TokenLength;

mod effects;
pub(crate) mod map_runs;
mod redrive;

/// Service settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub state_dir: PathBuf,
    pub region: String,
    pub account: String,
}

const SHARDS: usize = 256;
/// AWS's limit for execution input and task output: 256 KiB.
const MAX_PAYLOAD: usize = 256 * 1024;
/// AWS's hard quota on a state machine definition: 1 MB ("Maximum size of state
/// machine definition", Step Functions service quotas; the API reference gives the
/// `definition` member a maximum length of 1048576).
pub const MAX_DEFINITION: usize = 1024 * 1024;
/// The longest wait between two attempts to save a task outcome.
const RETRY_SAVE_MAX_MS: u64 = 5_000;

/// `ValidationException` for a definition over [`MAX_DEFINITION`] bytes.
pub(crate) fn check_definition_size(definition: &str) -> Result<(), ApiError> {
    if definition.len() > MAX_DEFINITION {
        return Err(ApiError::Validation(format!(
            "1 validation error detected: Value at 'definition' failed to satisfy constraint: \
             Member must have length less than or equal to {MAX_DEFINITION} (it has {} bytes)",
            definition.len()
        )));
    }
    Ok(())
}

/// A state machine as kept in memory (few, small).
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub row: StateMachineRow,
    pub definition: String,
}

/// The service.
pub struct Service {
    pub(crate) cfg: Config,
    pub(crate) store: Store,
    sms: RwLock<HashMap<String, StateMachine>>,
    defs: Mutex<HashMap<i64, Arc<Definition>>>,
    next_def: AtomicI64,
    next_exec: AtomicI64,
    shards: Vec<tokio::sync::Mutex<()>>,
    timers: Mutex<BinaryHeap<Reverse<(i64, String, u64)>>>,
    timer_wake: Notify,
    integrations: Vec<Arc<dyn Integration>>,
    clock: Arc<dyn Clock>,
    /// Tasks this process is invoking now (execution ARN, task id), so that
    /// [`Service::resume_inflight`] re-invokes only tasks a previous process
    /// left, never one that a timer or an answer started since this start.
    invoking: std::sync::Mutex<std::collections::HashSet<(String, u64)>>,
    /// The length of the task tokens new executions get.
    tokens: TokenLength,
    /// The executions written last, as committed (crate::recent).
    recent: Recent,
}

fn shard_of(arn: &str) -> usize {
    let h = arn.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (h % SHARDS as u64) as usize
}

/// AWS's name rule for state machines and executions (1-80 chars, no whitespace,
/// brackets, wildcards, special characters or control characters).
pub fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=80).contains(&n)
        && !name.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
                || ('\u{7f}'..='\u{9f}').contains(&c)
        })
}

/// Reads a token in the format of the first releases, `<seq hex>.<secret>.<task id>`, so
/// reviews still waiting in an older state directory can be answered: returns (execution
/// seq, the token prefix that execution must have, task id). The task id is decimal in
/// tokens issued by those releases and encoded (asl_engine::token) in tokens of their
/// executions' later tasks.
fn parse_legacy_token(token: &str) -> Option<(i64, String, u64)> {
    let mut parts = token.splitn(3, '.');
    let seq_hex = parts.next()?;
    let seq = i64::from_str_radix(seq_hex, 16).ok()?;
    let secret = parts.next()?;
    let rest = parts.next()?;
    if secret.len() != 32 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let prefix = format!("{seq_hex}.{secret}.");
    let task = match rest.parse() {
        Ok(task) => task,
        Err(_) => {
            asl_engine::token::split_task_token(rest)
                .filter(|(p, _)| p.is_empty())?
                .1
        }
    };
    Some((seq, prefix, task))
}

fn request_json(r: &TaskRequest) -> Value {
    serde_json::json!({
        "resource": r.resource,
        "parameters": r.parameters,
        "taskToken": r.task_token,
        "region": r.region,
    })
}

/// Reads JSON this service wrote itself (snapshots, in-flight task requests) without
/// serde_json's default 128-level recursion limit. They hold payloads the service already
/// accepted (inputs up to that same limit, state outputs up to
/// `asl_engine::interp::MAX_PAYLOAD_DEPTH`) inside a few levels of their own, so with
/// the limit an execution whose input nested ~120 levels deep started but could never
/// be resumed ("recursion limit exceeded"). The depth is bounded by what was accepted,
/// so this cannot recurse without limit.
fn read_snapshot<T: serde::de::DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let v = T::deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

fn status_str(s: Status) -> &'static str {
    s.as_str()
}

impl Service {
    /// Opens the store, loads state machines and re-arms timers.
    pub fn open(
        cfg: Config,
        integrations: Vec<Arc<dyn Integration>>,
    ) -> Result<Arc<Self>, ApiError> {
        Self::open_with_tokens(cfg, TokenLength::default(), integrations)
    }

    /// Like [`Service::open`], issuing task tokens of `tokens` characters (tokens
    /// issued before, of any length, keep working).
    pub fn open_with_tokens(
        cfg: Config,
        tokens: TokenLength,
        integrations: Vec<Arc<dyn Integration>>,
    ) -> Result<Arc<Self>, ApiError> {
        let store = Store::open(&cfg.state_dir)?;
        let mut sms = HashMap::new();
        for row in store.state_machines()? {
            let definition = store.definition(row.definition_id)?.unwrap_or_default();
            sms.insert(row.arn.clone(), StateMachine { row, definition });
        }
        let next_def = store.max_definition_id()? + 1;
        let next_exec = store.max_execution_seq()? + 1;
        let mut heap = BinaryHeap::new();
        for (arn, id, due) in store.timers()? {
            heap.push(Reverse((due, arn, id)));
        }
        tracing::info!(
            state_machines = sms.len(),
            timers = heap.len(),
            "state loaded"
        );
        Ok(Arc::new(Self {
            cfg,
            store,
            sms: RwLock::new(sms),
            defs: Mutex::new(HashMap::new()),
            next_def: AtomicI64::new(next_def),
            next_exec: AtomicI64::new(next_exec),
            shards: (0..SHARDS).map(|_| tokio::sync::Mutex::new(())).collect(),
            timers: Mutex::new(heap),
            timer_wake: Notify::new(),
            invoking: std::sync::Mutex::default(),
            integrations,
            clock: Arc::new(SystemClock),
            tokens,
            recent: Recent::default(),
        }))
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    fn sm_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:stateMachine:{name}",
            self.cfg.region, self.cfg.account
        )
    }

    pub(crate) fn state_machine(&self, arn: &str) -> Result<StateMachine, ApiError> {
        check_arn(arn, "stateMachine")?;
        self.sms
            .read()
            .map_err(|_| ApiError::Internal("lock poisoned".into()))?
            .get(arn)
            .cloned()
            .ok_or_else(|| {
                ApiError::StateMachineDoesNotExist(format!("State Machine Does Not Exist: '{arn}'"))
            })
    }

    pub(crate) fn list_state_machines(&self) -> Result<Vec<StateMachine>, ApiError> {
        let g = self
            .sms
            .read()
            .map_err(|_| ApiError::Internal("lock poisoned".into()))?;
        let mut v: Vec<StateMachine> = g.values().cloned().collect();
        v.sort_by(|a, b| (a.row.created_ms, &a.row.arn).cmp(&(b.row.created_ms, &b.row.arn)));
        Ok(v)
    }

    fn definition(&self, id: i64) -> Result<Arc<Definition>, ApiError> {
        if let Some(d) = self
            .defs
            .lock()
            .map_err(|_| ApiError::Internal("lock poisoned".into()))?
            .get(&id)
        {
            return Ok(d.clone());
        }
        let text = self
            .store
            .definition(id)?
            .ok_or_else(|| ApiError::Internal(format!("definition {id} missing")))?;
        let def =
            Arc::new(Definition::parse_str(&text).map_err(|e| ApiError::Internal(e.message))?);
        if let Ok(mut g) = self.defs.lock() {
            g.insert(id, def.clone());
        }
        Ok(def)
    }

    /// Flushes and closes the store: call it once the server has stopped.
    pub fn close(&self) {
        self.store.close();
    }

    /// CreateStateMachine.
    pub async fn create_state_machine(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
        sm_type: &str,
    ) -> Result<StateMachineRow, ApiError> {
        if !valid_name(name) {
            return Err(ApiError::InvalidName(format!("Invalid Name: '{name}'")));
        }
        check_definition_size(definition)?;
        let def = Definition::parse_str(definition)
            .map_err(|e| ApiError::InvalidDefinition(e.message))?;
        let arn = self.sm_arn(name);
        if let Ok(existing) = self.state_machine(&arn) {
            // The type is part of AWS's idempotency check: the same name and definition
            // with another type is a different machine.
            if existing.definition == definition
                && existing.row.role_arn == role_arn
                && existing.row.sm_type == sm_type
            {
                return Ok(existing.row);
            }
            return Err(ApiError::StateMachineAlreadyExists(format!(
                "State Machine Already Exists: '{arn}'"
            )));
        }
        let def_id = self.next_def.fetch_add(1, Ordering::SeqCst);
        let now = self.now();
        let row = StateMachineRow {
            arn: arn.clone(),
            name: name.to_owned(),
            definition_id: def_id,
            role_arn: role_arn.to_owned(),
            sm_type: sm_type.to_owned(),
            created_ms: now,
            updated_ms: now,
        };
        self.store
            .write(vec![
                Write::PutDefinition {
                    id: def_id,
                    text: definition.to_owned(),
                },
                Write::PutStateMachine(row.clone()),
            ])
            .await?;
        if let Ok(mut g) = self.defs.lock() {
            g.insert(def_id, Arc::new(def));
        }
        self.sms
            .write()
            .map_err(|_| ApiError::Internal("lock poisoned".into()))?
            .insert(
                arn,
                StateMachine {
                    row: row.clone(),
                    definition: definition.to_owned(),
                },
            );
        Ok(row)
    }

    /// UpdateStateMachine (new executions use the new definition).
    pub async fn update_state_machine(
        &self,
        arn: &str,
        definition: Option<&str>,
        role_arn: Option<&str>,
    ) -> Result<i64, ApiError> {
        let mut sm = self.state_machine(arn)?;
        let mut writes = Vec::new();
        if let Some(text) = definition {
            check_definition_size(text)?;
            let def =
                Definition::parse_str(text).map_err(|e| ApiError::InvalidDefinition(e.message))?;
            let id = self.next_def.fetch_add(1, Ordering::SeqCst);
            writes.push(Write::PutDefinition {
                id,
                text: text.to_owned(),
            });
            if let Ok(mut g) = self.defs.lock() {
                g.insert(id, Arc::new(def));
            }
            sm.row.definition_id = id;
            sm.definition = text.to_owned();
        }
        if let Some(r) = role_arn {
            sm.row.role_arn = r.to_owned();
        }
        sm.row.updated_ms = self.now();
        writes.push(Write::PutStateMachine(sm.row.clone()));
        self.store.write(writes).await?;
        let updated = sm.row.updated_ms;
        self.sms
            .write()
            .map_err(|_| ApiError::Internal("lock poisoned".into()))?
            .insert(arn.to_owned(), sm);
        Ok(updated)
    }

    /// DeleteStateMachine (idempotent, like AWS).
    pub async fn delete_state_machine(&self, arn: &str) -> Result<(), ApiError> {
        check_arn(arn, "stateMachine")?;
        self.store
            .write(vec![Write::DeleteStateMachine {
                arn: arn.to_owned(),
            }])
            .await?;
        self.sms
            .write()
            .map_err(|_| ApiError::Internal("lock poisoned".into()))?
            .remove(arn);
        Ok(())
    }

    /// StartExecution: runs the machine until it blocks or ends, commits, then returns.
    pub async fn start_execution(
        self: &Arc<Self>,
        sm_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
    ) -> Result<(String, i64), ApiError> {
        let sm = self.state_machine(sm_arn)?;
        let name = match name {
            Some(n) => {
                if !valid_name(n) {
                    return Err(ApiError::InvalidName(format!("Invalid Name: '{n}'")));
                }
                n.to_owned()
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let input_text = input.unwrap_or("{}");
        if input_text.len() > MAX_PAYLOAD {
            return Err(ApiError::InvalidExecutionInput(
                "Invalid Execution Input: input exceeds the maximum size of 262144 bytes".into(),
            ));
        }
        let input_value: Value = serde_json::from_str(input_text).map_err(|e| {
            ApiError::InvalidExecutionInput(format!("Invalid Execution Input: {e}"))
        })?;
        let arn = format!(
            "arn:aws:states:{}:{}:execution:{}:{}",
            self.cfg.region, self.cfg.account, sm.row.name, name
        );
        let _guard = self.shards[shard_of(&arn)].lock().await;
        if let Some(existing) = self.load(&arn)? {
            // API reference (StartExecution): the same name and input on a RUNNING
            // execution is idempotent and returns the original execution.
            let same_input = serde_json::from_str::<Value>(&existing.input).ok()
                == serde_json::from_str::<Value>(input_text).ok();
            if existing.status == "RUNNING" && same_input {
                return Ok((existing.arn, existing.start_ms));
            }
            return Err(ApiError::ExecutionAlreadyExists(format!(
                "Execution Already Exists: '{arn}'"
            )));
        }
        let def = self.definition(sm.row.definition_id)?;
        let now = self.now();
        let seq = self.next_exec.fetch_add(1, Ordering::SeqCst);
        let info = ExecInfo {
            execution_arn: arn.clone(),
            name: name.clone(),
            state_machine_arn: sm.row.arn.clone(),
            state_machine_name: sm.row.name.clone(),
            role_arn: sm.row.role_arn.clone(),
            start_ms: now,
            input: input_value,
            token_prefix: self
                .store
                .token_key()
                .prefix_of(seq, rand::random(), self.tokens),
        };
        let (mut exec, mut step) = Execution::start(&def, info, now);
        self.submit_unhandled(&def, &mut exec, &mut step);
        let row = ExecutionRow {
            seq,
            arn: arn.clone(),
            sm_arn: sm.row.arn.clone(),
            name,
            definition_id: sm.row.definition_id,
            status: String::new(),
            start_ms: now,
            stop_ms: None,
            input: input_text.to_owned(),
            output: None,
            error: None,
            cause: None,
            snapshot: None,
            redrive_count: 0,
            redrive_ms: None,
        };
        self.persist(row, &exec, &mut step, None, None, Vec::new())
            .await?;
        drop(_guard);
        self.act(&arn, step);
        tracing::debug!(execution = %arn, "execution started");
        Ok((arn, now))
    }

    /// Writes the execution row, new events and timers in one batch.
    async fn persist(
        &self,
        mut row: ExecutionRow,
        exec: &Execution,
        step: &mut Step,
        fired_timer: Option<u64>,
        done_task: Option<u64>,
        extra: Vec<Write>,
    ) -> Result<(), ApiError> {
        row.status = status_str(exec.status).to_owned();
        row.stop_ms = exec.stop_ms;
        row.output = exec.output.as_ref().map(asl_engine::history::json_text);
        row.error = exec.error.clone();
        row.cause = exec.cause.clone();
        let running = exec.status == Status::Running;
        // A stopped execution keeps its snapshot while a redrive can restart it, and
        // while DescribeMapRun may ask about its map runs.
        let keep = running || !matches!(exec.status, Status::Succeeded) || exec.has_map_runs();
        row.snapshot = if keep {
            Some(serde_json::to_string(exec).map_err(|e| ApiError::Internal(e.to_string()))?)
        } else {
            None
        };
        let mut writes = vec![Write::PutExecution(Box::new(row.clone()))];
        writes.extend(extra);
        // In the same batch as the parent's snapshot: a crash never leaves a child
        // RUNNING that the parent's snapshot no longer runs.
        for c in std::mem::take(&mut step.children) {
            writes.push(Write::PutChild(Box::new((c, row.definition_id))));
        }
        let mut chunk: Option<Arc<str>> = None;
        // Event 1 is ExecutionStarted: this chunk begins the history.
        let started = step.events.first().is_some_and(|e| e.id == 1);
        if let Some(first) = step.events.first() {
            let text = asl_engine::history::aws_json_array(&step.events);
            chunk = Some(Arc::from(text.as_str()));
            writes.push(Write::AppendEvents {
                exec_seq: row.seq,
                first_id: first.id,
                chunk: text,
            });
        }
        if let Some(t) = fired_timer {
            writes.push(Write::DeleteTimer {
                exec_arn: row.arn.clone(),
                timer_id: t,
            });
        }
        if let Some(task_id) = done_task {
            writes.push(Write::DeleteInflight {
                exec_arn: row.arn.clone(),
                task_id,
            });
        }
        if running {
            for eff in &step.effects {
                match eff {
                    Effect::Timer { timer_id, due_ms } => writes.push(Write::PutTimer {
                        exec_arn: row.arn.clone(),
                        timer_id: *timer_id,
                        due_ms: *due_ms,
                    }),
                    Effect::InvokeTask { task_id, request } => writes.push(Write::PutInflight {
                        exec_arn: row.arn.clone(),
                        task_id: *task_id,
                        request: request_json(request).to_string(),
                    }),
                }
            }
        } else {
            writes.push(Write::DeleteTimers {
                exec_arn: row.arn.clone(),
            });
            writes.push(Write::DeleteAllInflight {
                exec_arn: row.arn.clone(),
            });
        }
        if let Err(e) = self.store.write(writes).await {
            self.recent.forget(&row.arn);
            return Err(e.into());
        }
        self.recent.committed(row, chunk, started);
        Ok(())
    }

    /// Applies a command to a running execution, persisting the result.
    pub(crate) async fn command(
        self: &Arc<Self>,
        arn: &str,
        cmd: Command,
        fired_timer: Option<u64>,
        token_prefix: Option<&str>,
    ) -> Result<(), CommandFailure> {
        let _guard = self.shards[shard_of(arn)].lock().await;
        let row = self
            .load(arn)
            .map_err(|e| CommandFailure::Api(e.into()))?
            .ok_or(CommandFailure::NoExecution)?;
        let Some(snapshot) = row.snapshot.as_deref() else {
            return Err(CommandFailure::Engine(CommandError::NotRunning));
        };
        let mut exec: Execution = read_snapshot(snapshot)
            .map_err(|e| CommandFailure::Api(ApiError::Internal(e.to_string())))?;
        if token_prefix.is_some_and(|p| p != exec.info.token_prefix) {
            return Err(CommandFailure::BadToken);
        }
        let def = self
            .definition(row.definition_id)
            .map_err(CommandFailure::Api)?;
        let done_task = match &cmd {
            Command::Task { task_id, .. } => Some(*task_id),
            _ => None,
        };
        let mut step = exec
            .apply(&def, cmd, self.now())
            .map_err(CommandFailure::Engine)?;
        self.submit_unhandled(&def, &mut exec, &mut step);
        self.persist(row, &exec, &mut step, fired_timer, done_task, Vec::new())
            .await
            .map_err(CommandFailure::Api)?;
        drop(_guard);
        self.act(arn, step);
        Ok(())
    }

    /// SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat.
    pub async fn task_callback(
        self: &Arc<Self>,
        token: &str,
        cmd: impl FnOnce(u64) -> Command,
    ) -> Result<(), ApiError> {
        let invalid = || ApiError::InvalidToken("Invalid Token: 'Invalid token'".into());
        // AWS's API takes task tokens of 1 to 2,048 characters (SendTaskSuccess
        // reference, taskToken); older SDK models said 1,024.
        if token.is_empty() || token.len() > 2048 {
            return Err(invalid());
        }
        // A token is signed by this database's key; the old format is not. Both are
        // compared with the prefix their execution holds (while it waits).
        let (seq, prefix, task) = match self.store.token_key().check(token) {
            Some((seq, prefix, task)) => (seq, prefix.to_owned(), task),
            None => parse_legacy_token(token).ok_or_else(invalid)?,
        };
        let arn = match self.recent.arn(seq) {
            Some(arn) => Some(arn),
            None => self.store.execution_arn(seq)?,
        };
        let arn = arn.ok_or_else(|| {
            ApiError::TaskDoesNotExist(
                "Task Does Not Exist: 'Provided task does not exist anymore'".into(),
            )
        })?;
        match self.command(&arn, cmd(task), None, Some(&prefix)).await {
            Ok(()) => Ok(()),
            Err(CommandFailure::Api(e)) => Err(e),
            Err(CommandFailure::BadToken) => Err(invalid()),
            Err(_) => Err(ApiError::TaskTimedOut(
                "Task Timed Out: 'Provided task does not exist anymore'".into(),
            )),
        }
    }

    /// StopExecution.
    pub async fn stop_execution(
        self: &Arc<Self>,
        arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<i64, ApiError> {
        check_arn(arn, "execution")?;
        match self
            .command(arn, Command::Stop { error, cause }, None, None)
            .await
        {
            Ok(()) => {}
            Err(CommandFailure::NoExecution) => {
                return Err(ApiError::ExecutionDoesNotExist(format!(
                    "Execution Does Not Exist: '{arn}'"
                )));
            }
            Err(CommandFailure::Api(e)) => return Err(e),
            // Already finished: AWS answers with the stop date it has.
            Err(CommandFailure::Engine(_) | CommandFailure::BadToken) => {}
        }
        let row = self.execution_row(arn)?;
        Ok(row.stop_ms.unwrap_or_else(|| self.now()))
    }

    /// An execution's row as last committed: from [`Recent`] when it is there.
    fn load(&self, arn: &str) -> Result<Option<ExecutionRow>, crate::store::StoreError> {
        match self.recent.row(arn) {
            Some(row) => Ok(Some(row)),
            None => self.store.execution(arn),
        }
    }

    /// An execution's history chunks (JSON arrays of events) in order.
    pub(crate) fn history_chunks(&self, row: &ExecutionRow) -> Result<Vec<Arc<str>>, ApiError> {
        if let Some(chunks) = self.recent.history(&row.arn) {
            return Ok(chunks);
        }
        if let Some(chunk) = self.child_history(row)? {
            return Ok(vec![Arc::from(chunk)]);
        }
        Ok(self
            .store
            .event_chunks(row.seq)?
            .into_iter()
            .map(Arc::from)
            .collect())
    }

    pub(crate) fn execution_row(&self, arn: &str) -> Result<ExecutionRow, ApiError> {
        check_arn(arn, "execution")?;
        if let Some(row) = self.load(arn)? {
            return Ok(row);
        }
        if let Some((row, _)) = self.child_row(arn)? {
            return Ok(row);
        }
        Err(ApiError::ExecutionDoesNotExist(format!(
            "Execution Does Not Exist: '{arn}'"
        )))
    }
}

/// RedriveExecution's answer for an Express execution (API reference,
/// RedriveExecution).
pub(crate) const EXPRESS_NOT_REDRIVABLE: &str =
    "This API action is not supported by EXPRESS state machines.";

/// Why a command was not applied.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommandFailure {
    #[error("no such execution")]
    NoExecution,
    #[error("the task token does not belong to this execution")]
    BadToken,
    #[error(transparent)]
    Engine(CommandError),
    #[error(transparent)]
    Api(ApiError),
}

/// Checks an ARN's shape: `arn:<partition>:states:<region>:<account>:<kind>:...`.
pub fn check_arn(arn: &str, kind: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() >= 7
        && parts[0] == "arn"
        && parts[2] == "states"
        && parts[5] == kind
        && parts[6..].iter().all(|p| !p.is_empty());
    if ok {
        Ok(())
    } else {
        Err(ApiError::InvalidArn(format!(
            "Invalid Arn: 'Resource type not valid in this context: {arn}'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_of_the_first_releases_still_parse() {
        let secret = "0123456789abcdef0123456789abcdef";
        let prefix = format!("1f.{secret}.");
        // Issued by those releases: decimal task id.
        assert_eq!(
            parse_legacy_token(&format!("{prefix}12")),
            Some((31, prefix.clone(), 12))
        );
        // Issued since, for a later task of an execution those releases started.
        let later = asl_engine::token::task_token(&prefix, 13);
        assert_eq!(parse_legacy_token(&later), Some((31, prefix.clone(), 13)));
        for bad in [
            "garbage",
            "a.b.c",
            "1f.0123.1",
            "1f.0123456789abcdef0123456789abcdeg.1",
            "zz.0123456789abcdef0123456789abcdef.1",
            "1f.0123456789abcdef0123456789abcdef.x",
        ] {
            assert_eq!(parse_legacy_token(bad), None, "{bad}");
        }
    }

    /// Found by the `definition_structured` fuzz target (snapshot round-trip check): with
    /// serde_json's default float parser a number read back from a snapshot could be one
    /// ULP off, so a resumed execution saw a different value than it had stored.
    #[test]
    fn snapshots_read_back_the_same_numbers() {
        for text in ["2.2291582468932282e-305", "[0.1,1e+300,-2.5e-308]"] {
            let v: Value = match read_snapshot(text) {
                Ok(v) => v,
                Err(e) => panic!("{text}: {e}"),
            };
            assert_eq!(serde_json::to_string(&v).ok().as_deref(), Some(text));
        }
    }
}
