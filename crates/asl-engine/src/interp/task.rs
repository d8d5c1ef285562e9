//! The Task state: invoking a resource, callbacks (`.waitForTaskToken`),
//! timeouts and heartbeats.

use asl_eval::jsonata::Env;
use asl_eval::{EvalError, Scope};
use serde_json::{Map, Value, json};

use super::run::{Flow, Run};
use super::{Active, CommandError, Effect, Failure, TaskWait, Wait, after_secs, after_whole_secs};
use crate::definition::{Kind, State};
use crate::history::{json_text, not_truncated};
use crate::invocation::{TaskOutcome, TaskRequest};

impl Run<'_> {
    pub(super) fn run_task(&mut self, t: u64, st: &State, a: &mut Active) -> Flow {
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
            self.inspect(|i| {
                if !st.jsonata {
                    i.after_input_path = Some(eff.clone());
                }
            });
            let params = match (&st.io.parameters, &st.arguments) {
                (Some(p), _) => p.evaluate(&scope)?,
                (None, Some(args)) => args.evaluate("Arguments", &env)?,
                (None, None) => eff.clone(),
            };
            self.inspect(|i| match st.jsonata {
                true => i.after_arguments = Some(params.clone()),
                false => i.after_parameters = Some(params.clone()),
            });
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

    pub(super) fn on_task(
        &mut self,
        task_id: u64,
        outcome: TaskOutcome,
    ) -> Result<(), CommandError> {
        let Some(t) =
            self.find_active(|a| matches!(&a.wait, Wait::Task(tw) if tw.task_id == task_id))
        else {
            // A distributed Map's S3 call, or no task at all.
            return match self.on_map_run_io(task_id, outcome) {
                true => Ok(()),
                false => Err(CommandError::UnknownTask),
            };
        };
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
                self.complete_with(t, &st, a, v);
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

    pub(super) fn on_heartbeat(&mut self, task_id: u64) -> Result<(), CommandError> {
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

/// `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
pub(super) fn is_lambda_function_arn(resource: &str) -> bool {
    let parts: Vec<&str> = resource.split(':').collect();
    parts.len() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function"
}

/// `arn:aws:states:::sns:publish.waitForTaskToken` -> (`sns`, `publish.waitForTaskToken`).
pub(super) fn split_resource(resource: &str) -> (String, String) {
    let parts: Vec<&str> = resource.split(':').collect();
    if parts.len() >= 7 && parts[2] == "states" {
        (parts[5].to_owned(), parts[6..].join(":"))
    } else if parts.len() >= 3 {
        (parts[2].to_owned(), resource.to_owned())
    } else {
        (String::new(), resource.to_owned())
    }
}
