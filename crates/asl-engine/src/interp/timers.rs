//! Timers firing: Wait states, retry delays, task timeouts and heartbeats,
//! the execution's own timeout.

use super::run::Run;
use super::{Failure, Status, Wait};
use serde_json::json;

impl Run<'_> {
    pub(super) fn on_timer(&mut self, timer_id: u64) {
        if self.exec.exec_timer == Some(timer_id) {
            self.redrive_mark_all();
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
}
