//! The step driver: threads, events, entering and exiting states, input and
//! output processing, variables.

use asl_eval::jsonata::Env;
use asl_eval::{EvalError, Scope};
use serde_json::{Map, Value, json};

use super::{
    Active, Effect, Execution, Failure, HISTORY_LIMIT_CAUSE, MAX_HISTORY_EVENTS, MAX_PAYLOAD_BYTES,
    MAX_PAYLOAD_DEPTH, Status, Step, TStatus, Thread, Wait, iso, needs_context, nested_deeper_than,
};
use crate::definition::{
    Assign, BlockStep, Definition, Kind, PathField, ResultPathField, State, Transition,
};
use crate::history::{HistoryEvent, json_text, not_truncated};

pub(super) struct Run<'a> {
    pub(super) def: &'a Definition,
    pub(super) exec: &'a mut Execution,
    pub(super) now: i64,
    pub(super) out: Step,
    /// `$$.Execution` and `$$.StateMachine`, built once per call.
    pub(super) static_ctx: std::cell::OnceCell<(Value, Value)>,
    /// Retries run at once (no delay) within this call; past
    /// [`MAX_IMMEDIATE_RETRIES`] they go through a due-now timer, so a
    /// zero-delay Retry with a huge MaxAttempts cannot recurse until the stack
    /// overflows (found by fuzzing, docs/fuzzing.md).
    pub(super) immediate_retries: u32,
    /// Variables the state being exited assigns; [`Run::exit_to`] records and applies them.
    pub(super) pending_assign: Option<Map<String, Value>>,
    /// Set when this run is one TestState call: one state runs, and what it does at
    /// each processing step is recorded ([`super::single`]).
    pub(super) single: Option<Box<super::single::Single>>,
    /// Where a redrive would restart if the failure being handled ends the execution
    /// ([`Run::redrive_mark`]).
    pub(super) redrive_point: Option<Box<super::RedrivePoint>>,
    /// Distributed children recorded in `out.children` this call: thread → position.
    pub(super) child_pos: std::collections::HashMap<u64, usize>,
    /// Map run ARN and its state machine ARN, shared by that run's child records.
    pub(super) child_arns: Vec<(std::sync::Arc<str>, std::sync::Arc<str>)>,
}

/// How many zero-delay retries run recursively within one call before the
/// rest are handed to the timer loop.
pub(super) const MAX_IMMEDIATE_RETRIES: u32 = 32;

/// What executing a state's logic led to.
pub(super) enum Flow {
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

impl<'a> Run<'a> {
    /// A run of one call on `exec` at `now`.
    pub(super) fn new(def: &'a Definition, exec: &'a mut Execution, now: i64) -> Self {
        Run {
            def,
            exec,
            now,
            out: Step::default(),
            static_ctx: std::cell::OnceCell::new(),
            immediate_retries: 0,
            pending_assign: None,
            single: None,
            redrive_point: None,
            child_pos: std::collections::HashMap::new(),
            child_arns: Vec::new(),
        }
    }
}

impl Run<'_> {
    pub(super) fn new_thread(
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
                child_start: None,
                status: TStatus::Dead,
            },
        );
        id
    }

    pub(super) fn timer(&mut self, due_ms: i64) -> u64 {
        let id = self.exec.next_timer;
        self.exec.next_timer += 1;
        self.out.effects.push(Effect::Timer {
            timer_id: id,
            due_ms,
        });
        id
    }

    pub(super) fn rand(&mut self) -> u64 {
        let mut x = self.exec.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.exec.rng = x;
        x
    }

    pub(super) fn emit(
        &mut self,
        t: u64,
        ty: &str,
        key: &str,
        details: Value,
        update: bool,
    ) -> u64 {
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

    pub(super) fn history_limit(&mut self) {
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
        // Past the event limit no redrive is possible (Execution::redrive_refusal).
        self.exec.redrive = None;
        self.close();
    }

    /// ExecutionAborted / ExecutionTimedOut: measured on AWS (floci-io/floci#2733, #2734,
    /// #2965), both are recorded with previousEventId 0, whatever ran before.
    pub(super) fn finish_event(&mut self, ty: &str, key: &str, details: Value) {
        let root = self.exec.threads.keys().next().copied().unwrap_or(1);
        if let Some(th) = self.exec.threads.get_mut(&root) {
            th.cursor = 0;
            th.silent = false;
        }
        self.emit(root, ty, key, details, true);
    }

    pub(super) fn close(&mut self) {
        // A map run still running when its execution ends is aborted with it.
        if !self.exec.map_runs.is_empty() {
            self.abort_running_children();
            self.abort_map_runs(super::MapRunStatus::Aborted);
        }
        self.exec.threads.clear();
        self.exec.ready.clear();
        self.exec.exec_timer = None;
        self.exec.stop_ms = Some(self.now);
    }

    pub(super) fn drive(&mut self) {
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

    pub(super) fn block_of(&self, t: u64) -> Option<&Definition> {
        let th = self.exec.threads.get(&t)?;
        self.def.block(&th.block)
    }

    pub(super) fn state_of(&self, t: u64, name: &str) -> Option<State> {
        self.block_of(t)?.states.get(name).cloned()
    }

    pub(super) fn context(
        &self,
        a: &Active,
        st: &State,
        token: Option<&str>,
        item: Option<(usize, &Value)>,
    ) -> Value {
        // TestState's `context` replaces the whole context object: `{}` gives `$$ = {}`
        // (LocalStack's AWS recording `test_state_context_object_edge_cases[EMPTY]`).
        if let Some(ctx) = self.single.as_ref().and_then(|s| s.context.as_ref()) {
            return ctx.clone();
        }
        let (execution, machine) = self.static_ctx.get_or_init(|| {
            let info = &self.exec.info;
            let mut execution = json!({
                    "Id": info.execution_arn,
                    "Input": info.input,
                    "StartTime": iso(info.start_ms),
                    "Name": info.name,
                    "RoleArn": info.role_arn,
                    "RedriveCount": self.exec.redrive_count,
            });
            // Developer guide, "Context object": RedriveTime "is only available if
            // you've redriven an execution".
            if let (Some(ms), Some(o)) = (self.exec.redrive_ms, execution.as_object_mut()) {
                o.insert("RedriveTime".into(), Value::from(iso(ms)));
            }
            (
                execution,
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

    pub(super) fn fail_eval(a: &Active, e: EvalError) -> Failure {
        let location = (e.error == asl_eval::error::names::QUERY_EVALUATION_ERROR)
            .then(|| query_location(&e.cause));
        Failure {
            location,
            ..Self::fail_eval_plain(a, e)
        }
    }

    pub(super) fn fail_eval_plain(a: &Active, e: EvalError) -> Failure {
        Failure::new(
            e.error,
            format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                a.state, a.entered_id, e.cause
            ),
        )
    }

    pub(super) fn input_path(
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

    pub(super) fn result_path(
        p: &ResultPathField,
        raw: &Value,
        result: Value,
    ) -> Result<Value, EvalError> {
        match p {
            ResultPathField::Default => Ok(result),
            ResultPathField::Null => Ok(raw.clone()),
            ResultPathField::Path(rp) => rp.insert(raw.clone(), result),
        }
    }

    pub(super) fn enter(&mut self, t: u64, name: String, input: Value) {
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
            self.redrive_mark(t, &name, &input);
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
        // TestState's `stateConfiguration.retrierRetryCount`: the retries already made
        // by the retrier that matches the error, so every retrier starts from it.
        let retried = self.single.as_ref().map_or(0, |s| s.retrier_retry_count);
        let a = Active {
            state: name,
            entered_id: id,
            entered_prev,
            entered_ms: self.now,
            input,
            retry_count: retried,
            attempts: vec![retried; st.retry.len()],
            wait: Wait::Nothing,
        };
        self.execute(t, &st, a);
    }

    /// Runs a state's logic from just after its Entered event (also on retry).
    pub(super) fn execute(&mut self, t: u64, st: &State, mut a: Active) {
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
                    self.inspect(|i| i.after_input_path = Some(eff.clone()));
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
                    .inspect(|eff| self.inspect(|i| i.after_input_path = Some(eff.clone())))
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
                // A Fail state has no InputPath; AWS still reports its input as
                // afterInputPath (LocalStack's AWS recording
                // `test_base_inspection_level_debug[BASE_FAIL_STATE]`).
                self.inspect(|i| i.after_input_path = Some(a.input.clone()));
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
                // AWS's table: a redrive "reenters the Fail state and fails again".
                self.redrive_mark(t, &a.state, &a.input);
                self.thread_fail(t, f);
                return;
            }
            Kind::Task(_) => self.run_task(t, st, &mut a),
            Kind::Map(_) => self.run_map(t, st, &mut a),
            Kind::Parallel { .. } => self.run_parallel(t, st, &mut a),
        };
        self.finish_flow(t, st, a, flow);
    }

    pub(super) fn finish_flow(&mut self, t: u64, st: &State, a: Active, flow: Flow) {
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
                self.redrive_mark(t, &a.state, &a.input);
                self.thread_fail(t, f);
            }
            Flow::Handled => {}
        }
    }

    pub(super) fn vars_of(&self, t: u64) -> Map<String, Value> {
        self.exec
            .threads
            .get(&t)
            .map(|th| th.vars.clone())
            .unwrap_or_default()
    }

    pub(super) fn set_active(&mut self, t: u64, a: Active) {
        if let Some(th) = self.exec.threads.get_mut(&t) {
            th.status = TStatus::Active(Box::new(a));
        }
    }

    /// OutputPath; it reads the variables as they were before the state's Assign
    /// (conformance `test_state_assign_evaluation_order`).
    pub(super) fn output(
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

    pub(super) fn exit_to(&mut self, t: u64, st: &State, a: &Active, out: Value, tr: Transition) {
        let assigned = self.pending_assign.take();
        if let Some(vars) = &assigned
            && let Some(f) = variables_too_large(vars)
        {
            self.redrive_mark(t, &a.state, &a.input);
            self.thread_fail(t, f);
            return;
        }
        // Depth first, without recursion: serialising (and later dropping) a value nested
        // tens of thousands of levels deep overflows the stack.
        let over_limit = if nested_deeper_than(&out, MAX_PAYLOAD_DEPTH) {
            Some(format!("nested deeper than {MAX_PAYLOAD_DEPTH} levels"))
        } else if json_text(&out).len() > MAX_PAYLOAD_BYTES {
            Some("with a size exceeding the maximum number of bytes service limit".to_owned())
        } else {
            None
        };
        if let Some(what) = over_limit {
            self.redrive_mark(t, &a.state, &a.input);
            self.thread_fail(
                t,
                Failure::new(
                    "States.DataLimitExceeded",
                    format!("The state/task '{}' returned a result {what}.", a.state),
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
        if let Some(single) = self.single.as_deref_mut() {
            // TestState runs one state: report where it goes instead of going there.
            single.variables = self.exec.threads.get(&t).map(|th| th.vars.clone());
            if let Transition::Next(n) = &tr {
                single.next_state = Some(n.clone());
            }
            self.exec.status = Status::Succeeded;
            self.exec.output = Some(out);
            self.close();
            return;
        }
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

    /// Records into TestState's inspection data; does nothing (and clones nothing)
    /// in an execution.
    pub(super) fn inspect(&mut self, f: impl FnOnce(&mut crate::inspection::Inspection)) {
        if let Some(single) = self.single.as_deref_mut() {
            f(&mut single.inspection);
        }
    }

    pub(super) fn find_active(&self, pred: impl Fn(&Active) -> bool) -> Option<u64> {
        self.exec
            .threads
            .iter()
            .find_map(|(id, th)| match &th.status {
                TStatus::Active(a) if pred(a) => Some(*id),
                _ => None,
            })
    }

    pub(super) fn take_active(&mut self, t: u64) -> Option<(Active, State)> {
        let th = self.exec.threads.get_mut(&t)?;
        let TStatus::Active(a) = std::mem::replace(&mut th.status, TStatus::Dead) else {
            return None;
        };
        let st = self.state_of(t, &a.state)?;
        Some((*a, st))
    }
}

/// Evaluates an `Assign` block: a JSONPath template reading `path_input` as `$`, or a
/// JSONata payload reading `env`. Both read the variables as they were before the state.
pub(super) fn eval_assign(
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
pub(super) fn variables_too_large(vars: &Map<String, Value>) -> Option<Failure> {
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
