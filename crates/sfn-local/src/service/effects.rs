//! Carrying out an execution's effects once they are committed: task invocations
//! (through the integrations, or submitted at once when none runs the task), their
//! resumption after a restart, and the timer heap with its loop.

use std::cmp::Reverse;
use std::sync::Arc;

use asl_engine::{
    Command, CommandError, Definition, Effect, Execution, Step, TaskOutcome, TaskRequest,
};
use serde_json::Value;

use super::*;
use crate::error::ApiError;
use crate::store::Write;

impl Service {
    /// A `.waitForTaskToken` task that no integration runs is submitted at once, in the
    /// step that scheduled it: its `TaskSubmitted` (output `{}`) joins the step's events
    /// and the task leaves its effects, so it is neither recorded in flight nor run by a
    /// spawned task. Until this was done here, each such task cost a second commit, a
    /// snapshot read and write and a task hop after the one that scheduled it (a third of
    /// sfn-local's CPU per callback round trip, docs/scale.md), and a `SendTaskSuccess`
    /// racing that hop could leave the history without `TaskSubmitted`. Tasks left in
    /// flight by a database written before still go through [`Service::invoke`]
    /// ([`Service::resume_inflight`]).
    pub(super) fn submit_unhandled(&self, def: &Definition, exec: &mut Execution, step: &mut Step) {
        let unhandled = |e: &Effect| match e {
            Effect::InvokeTask { request, .. } => {
                request.task_token.is_some()
                    && !self
                        .integrations
                        .iter()
                        .any(|i| i.handles(&request.resource))
            }
            Effect::Timer { .. } => false,
        };
        if !step.effects.iter().any(unhandled) {
            return;
        }
        let (submit, keep): (Vec<Effect>, Vec<Effect>) = std::mem::take(&mut step.effects)
            .into_iter()
            .partition(unhandled);
        step.effects = keep;
        let now = self.now();
        for effect in submit {
            let Effect::InvokeTask { task_id, .. } = effect else {
                continue;
            };
            let cmd = Command::Task {
                task_id,
                outcome: TaskOutcome::Submitted(serde_json::json!({})),
            };
            match exec.apply(def, cmd, now) {
                Ok(more) => {
                    step.events.extend(more.events);
                    step.effects.extend(more.effects);
                    step.children.extend(more.children);
                }
                // Not reachable (the task was scheduled by this very step); what
                // invoke() would have done with it.
                Err(e) => {
                    tracing::debug!(execution = %exec.info.execution_arn, error = %e, "task submission dropped")
                }
            }
        }
    }

    /// Carries out effects after they were persisted.
    pub(super) fn act(self: &Arc<Self>, arn: &str, step: Step) {
        for eff in step.effects {
            match eff {
                Effect::Timer { timer_id, due_ms } => self.arm(arn, timer_id, due_ms),
                Effect::InvokeTask { task_id, request } => {
                    self.invoke(arn.to_owned(), task_id, request);
                }
            }
        }
    }

    /// Puts a timer in the heap and wakes the timer loop.
    pub(super) fn arm(&self, arn: &str, timer_id: u64, due_ms: i64) {
        if let Ok(mut h) = self.timers.lock() {
            h.push(Reverse((due_ms, arn.to_owned(), timer_id)));
        }
        self.timer_wake.notify_one();
    }

    /// Runs a task on its integration and feeds the outcome back.
    pub(super) fn invoke(self: &Arc<Self>, arn: String, task_id: u64, request: TaskRequest) {
        if !self.mark_invoking(&arn, task_id) {
            return;
        }
        let svc = self.clone();
        let integ = self
            .integrations
            .iter()
            .find(|i| i.handles(&request.resource))
            .cloned();
        tokio::spawn(async move {
            let outcome = match integ {
                Some(i) => i.invoke(request).await,
                // Without an integration, a callback task still waits for its token
                // (visible in TaskScheduled), so approval flows work locally.
                None if request.task_token.is_some() => {
                    TaskOutcome::Submitted(serde_json::json!({}))
                }
                None => TaskOutcome::Failed {
                    error: "States.TaskFailed".into(),
                    cause: format!(
                        "sfn-local has no integration for resource '{}'",
                        request.resource
                    ),
                },
            };
            // A failed save (a full disk) must not lose the outcome: until it is saved,
            // the task stays in `inflight` but nothing here would retry it before a
            // restart, so the execution would hang. Retry with a capped backoff.
            let mut delay_ms = 250;
            loop {
                let cmd = Command::Task {
                    task_id,
                    outcome: outcome.clone(),
                };
                match svc.command(&arn, cmd, None, None).await {
                    // Only a temporary failure (a full disk) is worth retrying; anything
                    // else (an unreadable snapshot) would fail the same way forever.
                    Err(CommandFailure::Api(e @ ApiError::Unavailable(_))) => {
                        tracing::warn!(execution = %arn, error = %e, retry_in_ms = delay_ms, "task outcome not saved");
                        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
                        delay_ms = (delay_ms * 2).min(RETRY_SAVE_MAX_MS);
                    }
                    Err(CommandFailure::Api(e)) => {
                        tracing::error!(execution = %arn, error = %e, "task outcome not saved");
                        break;
                    }
                    // The task was cut while it ran (a sibling Map iteration or
                    // Parallel branch failed): forget its request too, or every
                    // restart would run it again (resume_inflight) for nothing.
                    Err(CommandFailure::Engine(CommandError::UnknownTask)) => {
                        let forget = vec![Write::DeleteInflight {
                            exec_arn: arn.clone(),
                            task_id,
                        }];
                        if let Err(e) = svc.store.write(forget).await {
                            tracing::warn!(execution = %arn, error = %e, "cut task not forgotten");
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::debug!(execution = %arn, error = %e, "task outcome dropped");
                        break;
                    }
                    Ok(()) => break,
                }
            }
            svc.invoking
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&(arn, task_id));
        });
    }

    /// Records that this process invokes the task; `false` when it already does.
    pub(super) fn mark_invoking(&self, arn: &str, task_id: u64) -> bool {
        self.invoking
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((arn.to_owned(), task_id))
    }

    /// Re-invokes tasks whose outcome was not recorded before a restart (at least once:
    /// an integration may see a request twice if the process died after calling it).
    /// A task this process is already invoking (a timer or an answer started it
    /// since this start) is left alone, so it is never invoked twice.
    pub async fn resume_inflight(self: &Arc<Self>) -> Result<usize, ApiError> {
        let rows = self.store.inflight()?;
        let mut n = 0;
        for (arn, task_id, text) in rows {
            let started_here = self
                .invoking
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .contains(&(arn.clone(), task_id));
            if started_here {
                continue;
            }
            n += 1;
            let v: Value = read_snapshot(&text).unwrap_or(Value::Null);
            let request = TaskRequest {
                resource: v["resource"].as_str().unwrap_or_default().to_owned(),
                parameters: v["parameters"].clone(),
                task_token: v["taskToken"].as_str().map(str::to_owned),
                region: v["region"].as_str().unwrap_or_default().to_owned(),
            };
            self.invoke(arn, task_id, request);
        }
        Ok(n)
    }

    /// Fires due timers forever.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            let next = {
                let Ok(mut h) = self.timers.lock() else {
                    return;
                };
                let now = self.now();
                let mut due = Vec::new();
                while let Some(Reverse((at, _, _))) = h.peek() {
                    if *at > now {
                        break;
                    }
                    if let Some(Reverse((_, arn, id))) = h.pop() {
                        due.push((arn, id));
                    }
                }
                let wait = h
                    .peek()
                    .map(|Reverse((at, _, _))| (*at - now).max(0) as u64);
                (due, wait)
            };
            let (due, wait) = next;
            for (arn, id) in due {
                let svc = self.clone();
                tokio::spawn(async move {
                    match svc
                        .command(&arn, Command::Timer { timer_id: id }, Some(id), None)
                        .await
                    {
                        Ok(())
                        | Err(CommandFailure::Engine(_))
                        | Err(CommandFailure::NoExecution)
                        | Err(CommandFailure::BadToken) => {}
                        Err(CommandFailure::Api(e @ ApiError::Unavailable(_))) => {
                            // Not saved (a full disk): the timer is still in the table but
                            // no longer in the heap, so arm it again or the execution
                            // would wait until the next restart.
                            tracing::error!(execution = %arn, error = %e, "timer not saved; retrying in 1 s");
                            svc.arm(&arn, id, svc.now() + 1_000);
                        }
                        Err(CommandFailure::Api(e)) => {
                            // A permanent failure: retrying cannot help; the timer stays in
                            // the table and fires again at the next start.
                            tracing::error!(execution = %arn, error = %e, "timer failed");
                        }
                    }
                });
            }
            let sleep = std::time::Duration::from_millis(wait.unwrap_or(60_000).min(60_000));
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
                () = self.timer_wake.notified() => {}
            }
        }
    }
}
