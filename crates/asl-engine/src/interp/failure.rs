//! Retry and Catch: what a state's failure leads to, and how a thread ends.

use asl_eval::jsonata::Env;
use serde_json::{Map, Value, json};

use super::run::{MAX_IMMEDIATE_RETRIES, Run, eval_assign};
use super::{Active, Failure, Status, Wait, after_secs};
use crate::definition::{Catcher, Kind, State, Transition};
use crate::history::{json_text, not_truncated};

impl Run<'_> {
    pub(super) fn state_failed(&mut self, t: u64, st: &State, mut a: Active, f: Failure) {
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
                    if let Some(single) = self.single.as_deref_mut() {
                        // TestState reports the retry instead of making it: RETRIABLE,
                        // with the retrier's index and the delay before the next attempt
                        // (LocalStack's AWS recording
                        // `test_state_configuration_retrier_retry_count`: IntervalSeconds 1,
                        // BackoffRate 2 and 4 retries made give 16 seconds).
                        single.retriable = true;
                        single.failure = Some((f.error.clone(), f.cause.clone()));
                        let d = single.inspection.error_details.get_or_insert_default();
                        d.retry_index = Some(idx as u32);
                        d.retry_backoff_interval_seconds = Some(delay as u64);
                        self.exec.status = Status::Failed;
                        self.close();
                        return;
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
            // The retrier matched but has no attempts left: AWS still names it
            // (the same recording, `exceeds_tolerated_retry_count`).
            self.inspect(|i| {
                i.error_details.get_or_insert_default().retry_index = Some(idx as u32)
            });
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
        let catcher: Option<(usize, &Catcher)> = if f.error.as_deref() == Some("States.Runtime") {
            None
        } else {
            st.catch
                .iter()
                .enumerate()
                .find(|(_, c)| error_matches(&c.error_equals, &f))
        };
        if let Some((index, c)) = catcher {
            if let Some(single) = self.single.as_deref_mut() {
                // TestState: CAUGHT_ERROR, with the catcher's index (LocalStack's AWS
                // recording `test_state_task_catch_error`).
                single.failure = Some((f.error.clone(), f.cause.clone()));
                single
                    .inspection
                    .error_details
                    .get_or_insert_default()
                    .catch_index = Some(index as u32);
            }
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
                    self.redrive_mark(t, &a.state, &a.input);
                    self.thread_fail(t, f);
                }
            }
            return;
        }
        // A child's failure reaching its Map or Parallel was recorded where it began,
        // so that only the failed branch or iteration runs again on redrive.
        if !f.from_child {
            self.redrive_mark(t, &a.state, &a.input);
        }
        let f = Failure {
            open_state: aborted_type(st),
            ..f
        };
        self.thread_fail(t, f);
    }

    pub(super) fn thread_done(&mut self, t: u64, out: Value) {
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

    pub(super) fn thread_fail(&mut self, t: u64, f: Failure) {
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
                self.exec.redrive = self.redrive_point.take();
                self.close();
            }
            Some(p) => self.child_finished(p, t, Err(f)),
        }
    }
}

/// The state types with a `<Type>StateAborted` history event (API reference,
/// `HistoryEventType`): the others end within one step and are never cut mid-way.
pub(super) fn aborted_type(st: &State) -> Option<&'static str> {
    matches!(
        st.kind,
        Kind::Task(_) | Kind::Wait(_) | Kind::Map(_) | Kind::Parallel { .. }
    )
    .then(|| st.type_name())
}

pub(super) fn error_matches(list: &[String], f: &Failure) -> bool {
    let Some(err) = f.error.as_deref() else {
        return false;
    };
    list.iter().any(|e| {
        e == err
            || (e == "States.ALL" && !f.is_terminal())
            || (e == "States.TaskFailed" && !f.is_terminal() && err != "States.Timeout")
    })
}
