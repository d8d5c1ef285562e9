//! One state, run by the interpreter's own code for TestState ([`crate::test_state`]).
//!
//! The state runs as the first state of a fresh execution with [`Run::single`] set,
//! which changes four things and nothing else: each input/output processing step is
//! recorded ([`Run::inspect`]); the state's exit stops the run and records the next
//! state instead of entering it; a matching retrier is reported instead of retried;
//! and a Wait state does not wait. A Task state blocks as usual and gets the mock as
//! its outcome (exactly as a real task's outcome arrives); a Map or Parallel state
//! blocks before starting its children and gets the mock as their result.

use serde_json::{Map, Value};

use super::children::over_tolerance;
use super::run::Run;
use super::{ExecInfo, Execution, Failure, Status, TStatus};
use crate::definition::Definition;
use crate::inspection::{Inspection, TestStateError};
use crate::invocation::TaskOutcome;

/// What a TestState run records besides the execution snapshot.
#[derive(Debug, Default)]
pub(crate) struct Single {
    pub(crate) inspection: Inspection,
    /// The request's `context`: replaces the whole context object.
    pub(crate) context: Option<Value>,
    /// `stateConfiguration.retrierRetryCount`.
    pub(crate) retrier_retry_count: u32,
    pub(crate) next_state: Option<String>,
    /// The variables after the state's `Assign`, when it exited normally.
    pub(crate) variables: Option<Map<String, Value>>,
    /// A retrier matched and has attempts left.
    pub(crate) retriable: bool,
    /// The error and cause a retrier or catcher handled.
    pub(crate) failure: Option<(Option<String>, Option<String>)>,
    /// How many items a Map state selected.
    pub(crate) map_items: Option<usize>,
}

/// A mocked outcome: a result or an error.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mocked {
    Result(Value),
    Error { error: String, cause: String },
}

/// Runs `state` of `def` on `info.input`. `statics` are `$$.Execution` and
/// `$$.StateMachine`.
#[allow(clippy::too_many_arguments)] // one call site, each argument a request field
pub(crate) fn run_one(
    def: &Definition,
    state: &str,
    info: ExecInfo,
    statics: (Value, Value),
    variables: Map<String, Value>,
    single: Single,
    mock: Option<Mocked>,
    map_failures: Option<u64>,
    now_ms: i64,
) -> Result<(Execution, Single), TestStateError> {
    let input = info.input.clone();
    let mut exec = Execution::new(info, 1);
    let mut run = Run::new(def, &mut exec, now_ms);
    run.single = Some(Box::new(single));
    let _ = run.static_ctx.set(statics);
    let root = run.new_thread(Vec::new(), None, 0, 0, false);
    if let Some(th) = run.exec.threads.get_mut(&root) {
        th.vars = variables;
        th.status = TStatus::Ready {
            state: state.to_owned(),
            input,
        };
    }
    run.exec.ready.push(root);
    run.drive();
    if run.exec.status == Status::Running
        && let Some(mock) = mock
    {
        let task = run.out.tasks().next().map(|(id, _)| id);
        match task {
            Some(task_id) => {
                let outcome = match mock {
                    Mocked::Result(v) => TaskOutcome::Succeeded(v),
                    Mocked::Error { error, cause } => TaskOutcome::Failed { error, cause },
                };
                // The task waits right there, so the id is known.
                let _ = run.on_task(task_id, outcome);
            }
            None => run.mock_children(root, mock, map_failures)?,
        }
        run.drive();
    }
    let single = run.single.take().map(|s| *s).unwrap_or_default();
    Ok((exec, single))
}

impl Run<'_> {
    /// A Map or Parallel state blocked before its children: the mock is their outcome.
    fn mock_children(
        &mut self,
        t: u64,
        mock: Mocked,
        map_failures: Option<u64>,
    ) -> Result<(), TestStateError> {
        let Some((a, st)) = self.take_active(t) else {
            return Ok(());
        };
        let v = match mock {
            Mocked::Error { error, cause } => {
                let f = Failure {
                    error: (!error.is_empty()).then_some(error),
                    cause: (!cause.is_empty()).then_some(cause),
                    from_child: false,
                    location: None,
                    open_state: None,
                };
                self.state_failed(t, &st, a, f);
                return Ok(());
            }
            Mocked::Result(v) => v,
        };
        if let Some(failures) = map_failures.filter(|n| *n > 0)
            && let Some(single) = self.single.as_deref()
        {
            // "The number of Map iterations" is the mocked result's length (LocalStack's
            // AWS recording `test_map_iteration_failure_count_exceeds_mock_result_items`
            // in `test_state_mock_validation`, whose message this is).
            let total = v.as_array().map_or(single.map_items.unwrap_or(0), Vec::len);
            if failures > total as u64 {
                return Err(TestStateError::Validation(
                    "Map iteration failure count must be less than or equal to the number of Map iterations"
                        .to_owned(),
                ));
            }
            let i = &single.inspection;
            if over_tolerance(
                failures,
                total,
                i.tolerated_failure_count,
                i.tolerated_failure_percentage,
            ) {
                // Error and cause recorded on AWS (LocalStack's
                // `test_map_state_failure_count`, `exceeds_tolerated_failure`).
                let f = Failure::new(
                    "States.ExceedToleratedFailureThreshold",
                    "The specified tolerated failure threshold was exceeded",
                );
                self.state_failed(t, &st, a, f);
                return Ok(());
            }
        }
        self.complete_with(t, &st, a, v);
        Ok(())
    }
}
