//! Map iterations and Parallel branches as child threads: spawning them,
//! collecting their results, and cutting the rest when one fails.

use asl_eval::jsonata::Env;
use asl_eval::{EvalError, Scope};
use serde_json::{Map, Value, json};

use super::failure::aborted_type;
use super::run::{Run, eval_assign};
use super::{Active, ChildKind, Children, Failure, Status, TStatus, Wait};
use crate::definition::{BlockStep, Kind, State, Transition};

impl Children {
    /// Children none of which has started: `items` are a Map's items or each
    /// Parallel branch's input; no concurrency limit, no failure tolerated.
    pub(super) fn new(kind: ChildKind, eff_input: Value, items: Vec<Value>) -> Self {
        let n = items.len();
        Self {
            kind,
            eff_input,
            items,
            results: vec![None; n],
            running: std::collections::BTreeSet::new(),
            next: 0,
            max: 0,
            done: 0,
            failures: 0,
            tolerated_count: None,
            tolerated_pct: None,
            preselected: false,
            map_run: None,
            records: None,
            items_read: None,
        }
    }
}

impl Run<'_> {
    /// What a Map or Parallel state starts from: its context object, the thread's
    /// variables, and the effective input (after `InputPath`).
    pub(super) fn children_input(
        &self,
        t: u64,
        st: &State,
        a: &Active,
    ) -> Result<(Value, Map<String, Value>, Value), Failure> {
        let ctx = self.context(a, st, None, None);
        let vars = self.vars_of(t);
        let eff = Self::input_path(&st.io.input_path, &a.input, &ctx, &vars)
            .map_err(|e| Self::fail_eval(a, e))?;
        Ok((ctx, vars, eff))
    }

    /// The state now waits for `ch`; the caller spawns them (or completes at once).
    pub(super) fn wait_for_children(&mut self, t: u64, a: &mut Active, ch: Children) {
        a.wait = Wait::Children(Box::new(ch));
        self.set_active(t, a.clone());
    }

    /// Spawns as many children as MaxConcurrency allows; pushes them so the lowest index runs first.
    pub(super) fn spawn_children(&mut self, t: u64) {
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
            ch.running.insert(c);
            spawned.push((c, idx));
        }
        let eff = ch.eff_input.clone();
        let kind = ch.kind.clone();
        let preselected = ch.preselected;
        let keep_records = ch.records.is_some();
        let map_run = ch.map_run.clone();
        let mut spawned_inputs = Vec::new();
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
                    // The iteration never entered a state: a redrive enters the Map again.
                    self.redrive_mark(t, &a2.state, &a2.input);
                    self.thread_fail(c, f);
                    continue;
                }
                None => item,
            };
            if keep_records {
                spawned_inputs.push((idx, input.clone()));
            }
            if let Some(arn) = &map_run {
                self.child_started(c, arn, idx, &input, preselected);
            }
            if let Some(th) = self.exec.threads.get_mut(&c) {
                th.status = TStatus::Ready {
                    state: start_at,
                    input,
                };
            }
        }
        if keep_records {
            self.record_spawned(t, spawned_inputs);
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

    pub(super) fn take_children(&mut self, p: u64) -> Option<(Active, Box<Children>)> {
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

    pub(super) fn child_finished(&mut self, p: u64, c: u64, result: Result<Value, Failure>) {
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
        ch.running.remove(&c);
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
                if let Some(arn) = &ch.map_run {
                    self.child_ended(c, arn, Status::Succeeded, Some(&v), None, None);
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
                Self::record_finished(&mut ch, slot, false, self.now);
                ch.done += 1;
            }
            Err(f) => {
                if ch.kind == ChildKind::Distributed {
                    if let Some(arn) = &ch.map_run {
                        let (e, cause) = (f.error.clone(), f.cause.clone());
                        self.child_ended(c, arn, Status::Failed, None, e, cause);
                    }
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
                    Self::record_finished(&mut ch, slot, true, self.now);
                    if over_tolerance(
                        ch.failures,
                        ch.items.len(),
                        ch.tolerated_count,
                        ch.tolerated_pct,
                    ) {
                        if let Some(arn) = ch.map_run.clone() {
                            self.end_map_run(&arn, super::MapRunStatus::Failed, Some(&ch), None);
                        }
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
    pub(super) fn abort_children(&mut self, ch: &mut Children, a: &Active, prev: u64) {
        let mut running: Vec<u64> = std::mem::take(&mut ch.running).into_iter().collect();
        running.sort_by_key(|c| self.exec.threads.get(c).map_or(0, |th| th.slot));
        for c in running {
            if let Some(th) = self.exec.threads.get_mut(&c) {
                th.cursor = prev;
            }
            if let (ChildKind::Distributed, Some(arn)) = (&ch.kind, &ch.map_run) {
                self.child_ended(c, arn, Status::Aborted, None, None, None);
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
    pub(super) fn abort_thread(&mut self, t: u64, prev: u64) {
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

    pub(super) fn remove_tree(&mut self, t: u64) {
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

    pub(super) fn children_complete(&mut self, p: u64) {
        let Some((a, mut ch)) = self.take_children(p) else {
            return;
        };
        let Some(st) = self.state_of(p, &a.state) else {
            return;
        };
        let results: Vec<Value> = std::mem::take(&mut ch.results)
            .into_iter()
            .map(|r| r.unwrap_or(Value::Null))
            .collect();
        match ch.kind {
            ChildKind::Inline => {
                self.emit(p, "MapStateSucceeded", "", Value::Null, false);
            }
            ChildKind::Distributed => {
                let arn = ch.map_run.clone().unwrap_or_default();
                return match super::writer::writer_of(&st) {
                    Some(w) => {
                        let w = w.clone();
                        self.write_results(p, &st, a, ch, results, &w)
                    }
                    None => self.map_run_succeeded(p, &st, a, &arn, &ch, Value::Array(results)),
                };
            }
            ChildKind::Parallel => {
                self.emit(p, "ParallelStateSucceeded", "", Value::Null, false);
            }
        }
        self.complete_with(p, &st, a, Value::Array(results));
    }

    /// A Task, Map or Parallel state got its result: output processing, then the
    /// transition, or Retry/Catch when the processing fails. TestState's mocked results
    /// go through here too ([`super::single`]).
    pub(super) fn complete_with(&mut self, t: u64, st: &State, a: Active, result: Value) {
        let ctx = self.context(&a, st, None, None);
        match self.result_output(t, st, &a, &ctx, result) {
            Ok(out) => {
                let tr = st.transition.clone().unwrap_or(Transition::End);
                self.exit_to(t, st, &a, out, tr);
            }
            Err(e) => {
                let f = Self::fail_eval(&a, e);
                self.state_failed(t, st, a, f);
            }
        }
    }

    /// A Task's, Map's or Parallel's output from its result: JSONPath ResultSelector,
    /// Assign (reading the selected result as `$`), ResultPath, OutputPath; or JSONata
    /// Assign and Output with `$states.result`.
    pub(super) fn result_output(
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
        // AWS reports `result` for a Task, not for the children's results of a Map or
        // Parallel (LocalStack's AWS recordings `test_io_parallel_state_mock_success`).
        if matches!(st.kind, Kind::Task(_)) {
            self.inspect(|i| i.result = Some(result.clone()));
        }
        let selected = match &st.io.result_selector {
            Some(sel) => sel.evaluate(&Scope::new(&result, ctx).with_variables(&vars))?,
            None => result,
        };
        self.inspect(|i| i.after_result_selector = Some(selected.clone()));
        let env = Env::new(&a.input, ctx);
        self.pending_assign = eval_assign(st.assign.as_ref(), &selected, &env, &vars)?;
        let combined = Self::result_path(&st.io.result_path, &a.input, selected)?;
        self.inspect(|i| i.after_result_path = Some(combined.clone()));
        Self::output(st, &combined, ctx, &vars)
    }
}

/// Whether `failures` failed iterations out of `total` exceed a Map state's
/// `ToleratedFailureCount` / `ToleratedFailurePercentage`: none given, any failure
/// does; both given, exceeding either does ("If you specify both values, the
/// workflow fails when it exceeds either value": developer guide, "Tolerated failure
/// threshold for Distributed Map state").
pub(super) fn over_tolerance(
    failures: u64,
    total: usize,
    count: Option<u64>,
    pct: Option<f64>,
) -> bool {
    let over_count = |n: u64| failures > n;
    let over_pct = |pct: f64| (failures as f64) * 100.0 / (total as f64) > pct;
    match (count, pct) {
        (None, None) => failures > 0,
        (Some(n), None) => over_count(n),
        (None, Some(p)) => over_pct(p),
        (Some(n), Some(p)) => over_count(n) || over_pct(p),
    }
}

#[cfg(test)]
mod tests {
    use super::over_tolerance;

    #[test]
    fn a_map_run_fails_past_either_threshold() {
        // 13 failures of 200 (6.5%).
        assert!(over_tolerance(13, 200, None, None));
        assert!(!over_tolerance(0, 200, None, None));
        assert!(!over_tolerance(13, 200, Some(13), None));
        assert!(over_tolerance(13, 200, Some(12), None));
        assert!(!over_tolerance(13, 200, None, Some(7.0)));
        assert!(over_tolerance(13, 200, None, Some(6.0)));
        assert!(!over_tolerance(13, 200, Some(13), Some(7.0)));
        assert!(over_tolerance(13, 200, Some(13), Some(6.0)));
        assert!(over_tolerance(13, 200, Some(12), Some(7.0)));
    }
}
