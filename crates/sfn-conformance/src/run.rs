//! Running cases against the endpoint: create the machine, start it under a fresh name,
//! wait for it to end (StopExecution after the case's timeout), read its history, score
//! it with [`crate::compare`], delete the machine. Several cases run at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Mutex, Semaphore};

use crate::cases::Case;
use crate::client::{CallError, Client};
use crate::compare::{self, ActualOutput, Matcher, Names, Outcome};

/// What was found for one case (one line of `results` in `--json`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CaseResult {
    pub(crate) id: String,
    pub(crate) category: String,
    /// Status and output, or error and cause, as recorded.
    #[serde(rename = "final")]
    pub(crate) final_ok: bool,
    /// Event types; `None` where no history was recorded.
    pub(crate) history: Option<bool>,
    /// Every event's details; `None` where no history was recorded.
    pub(crate) detail: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) history_why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail_why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) callback_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) state_machine_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) execution_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) actual: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) actual_history_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) actual_history: Option<Vec<Value>>,
    pub(crate) seconds: f64,
}

impl CaseResult {
    fn blank(id: &str, category: &str) -> Self {
        Self {
            id: id.to_owned(),
            category: category.to_owned(),
            final_ok: false,
            history: None,
            detail: None,
            why: None,
            history_why: None,
            detail_why: None,
            callback_note: None,
            state_machine_name: None,
            execution_arn: None,
            actual: None,
            actual_history_types: None,
            actual_history: None,
            seconds: 0.0,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) threads: usize,
    /// Overrides every case's `timeout_s`.
    pub(crate) timeout: Option<f64>,
    pub(crate) verbose: bool,
    /// Keep every actual history in the results.
    pub(crate) dump: bool,
    /// One case at a time from CreateStateMachine until its first state event: for
    /// servers whose definition parser is not safe to run concurrently (moto, LocalStack).
    pub(crate) serial_start: bool,
}

const ROLE_NAME: &str = "sfn-conformance-role";

/// The role ARN every machine is created with, in the endpoint's account and partition:
/// some recordings mask only the role's name and keep its account. A throw-away machine
/// tells which account and partition the endpoint uses; if it cannot be made, the account
/// of AWS's documentation examples.
pub(crate) async fn role_arn(client: &Client) -> String {
    let fallback = format!("arn:aws:iam::123456789012:role/{ROLE_NAME}");
    let probe = json!({
        "name": format!("conf_probe_{}", uid()),
        "definition": json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}).to_string(),
        "roleArn": fallback,
    });
    let Ok(created) = client.call("CreateStateMachine", probe).await else {
        return fallback;
    };
    let Some(arn) = created["stateMachineArn"].as_str() else {
        return fallback;
    };
    // Best effort: a probe left behind harms no case.
    let _ = client
        .call("DeleteStateMachine", json!({"stateMachineArn": arn}))
        .await;
    let parts: Vec<&str> = arn.split(':').collect();
    match (parts.get(1), parts.get(4)) {
        (Some(partition), Some(account)) => {
            format!("arn:{partition}:iam::{account}:role/{ROLE_NAME}")
        }
        _ => fallback,
    }
}

/// Runs `cases`, `threads` at a time; results in the order of `cases`.
pub(crate) async fn run_all(
    client: &Client,
    role_arn: &str,
    cases: Vec<Case>,
    opts: &Options,
) -> Vec<CaseResult> {
    let total = cases.len();
    let labels: Vec<(String, String)> = cases
        .iter()
        .map(|c| (c.id.clone(), c.category.clone()))
        .collect();
    let permits = Arc::new(Semaphore::new(opts.threads.max(1)));
    let start_lock = Arc::new(Mutex::new(()));
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, case) in cases.into_iter().enumerate() {
        let (client, role_arn, opts) = (client.clone(), role_arn.to_owned(), opts.clone());
        let (permits, start_lock, done) = (permits.clone(), start_lock.clone(), done.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let runner = CaseRunner {
                client: &client,
                role_arn: &role_arn,
                opts: &opts,
                start_lock: &start_lock,
            };
            let result = runner.run(&case).await;
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if opts.verbose {
                let mark = if result.final_ok { "ok " } else { "BAD" };
                eprintln!(
                    "[{n}/{total}] {mark} {} ({:.3}s)",
                    result.id, result.seconds
                );
            }
            (index, result)
        });
    }
    let mut results: Vec<Option<CaseResult>> = vec![None; total];
    while let Some(joined) = tasks.join_next().await {
        // A case task cannot panic short of a bug; its slot stays empty and is reported.
        if let Ok((index, result)) = joined {
            results[index] = Some(result);
        }
    }
    results
        .into_iter()
        .zip(labels)
        .map(|(r, (id, category))| {
            r.unwrap_or_else(|| CaseResult {
                why: Some("runner error: the case's task did not finish".into()),
                ..CaseResult::blank(&id, &category)
            })
        })
        .collect()
}

struct CaseRunner<'a> {
    client: &'a Client,
    role_arn: &'a str,
    opts: &'a Options,
    start_lock: &'a Mutex<()>,
}

impl CaseRunner<'_> {
    async fn run(&self, case: &Case) -> CaseResult {
        let started = Instant::now();
        let mut result = CaseResult::blank(&case.id, &case.category);
        let mut machine = None;
        let mut topic = None;
        let timeout = self.opts.timeout.or(case.timeout_s).unwrap_or(30.0);
        // A hung endpoint must not hang the run: the case gets its timeout, then a minute
        // more for the history and the clean-up calls.
        let guard = Duration::from_secs_f64(timeout.max(0.0) + 60.0);
        let outcome = tokio::time::timeout(
            guard,
            self.execute(case, timeout, &mut result, &mut machine, &mut topic),
        )
        .await;
        if outcome.is_err() {
            result.why = Some(format!("runner error: no result after {guard:?}"));
        }
        if let Some(arn) = machine {
            // Best effort: a machine left behind harms no other case (names are unique).
            let _ = self
                .client
                .call("DeleteStateMachine", json!({"stateMachineArn": arn}))
                .await;
        }
        if let Some(arn) = topic {
            let _ = self.client.delete_topic(&arn).await;
        }
        result.seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
        result
    }

    async fn execute(
        &self,
        case: &Case,
        timeout: f64,
        result: &mut CaseResult,
        machine: &mut Option<String>,
        topic: &mut Option<String>,
    ) {
        let mut input = case.input.clone();
        if case.needs.iter().any(|n| n == "sns") {
            match self
                .client
                .create_topic(&format!("conf-topic-{}", &uid()[..8]))
                .await
            {
                Ok(arn) => {
                    input = input.map(|i| i.replace("${sns_topic_arn}", &arn));
                    *topic = Some(arn);
                }
                Err(e) => {
                    result.why = Some(format!("needs sns: CreateTopic failed: {e}"));
                    return;
                }
            }
        }
        let (machine_name, execution_name) = names_for(case);
        result.state_machine_name = Some(machine_name.clone());

        let started = {
            let _serial = if self.opts.serial_start {
                Some(self.start_lock.lock().await)
            } else {
                None
            };
            self.start(case, &machine_name, &execution_name, input, machine)
                .await
        };
        let execution_arn = match started {
            Ok(arn) => arn,
            Err(why) => {
                result.why = Some(why);
                return;
            }
        };
        result.execution_arn = Some(execution_arn.clone());
        let parts: Vec<&str> = execution_arn.split(':').collect();
        let part = |i: usize| parts.get(i).copied().unwrap_or_default().to_owned();
        let names = Names {
            partition: part(1),
            region: part(3),
            account: part(4),
            state_machine_name: machine_name,
            execution_name,
            role_arn: self.role_arn.to_owned(),
        };
        let matcher = match Matcher::new(
            &case.normalisation.bindings,
            &case.normalisation.masks,
            &names,
        ) {
            Ok(m) => m,
            Err(e) => {
                result.why = Some(format!("runner error: the case's masks: {e}"));
                return;
            }
        };

        let deadline = Instant::now() + Duration::from_secs_f64(timeout.max(0.0));
        if !case.callback.is_empty() {
            result.callback_note = self.callback(case, &execution_arn, deadline).await.err();
        }
        match self.wait(&execution_arn, deadline).await {
            Ok(Some(outcome)) => {
                result.actual = Some(outcome_json(&outcome));
                match matcher.outcome(&case.expected, &outcome) {
                    Ok(()) => result.final_ok = true,
                    Err(why) => result.why = Some(why),
                }
            }
            Ok(None) => {
                result.why = Some(format!("still RUNNING after {timeout}s"));
                result.actual = Some(json!({"status": "RUNNING"}));
            }
            Err(why) => result.why = Some(why),
        }

        // The history is read even after a timeout: StopExecution ended it.
        let (Some(types), Some(events)) = (&case.expected_history_types, &case.expected_history)
        else {
            return;
        };
        let actual = match self.client.history(&execution_arn).await {
            Ok(events) => events,
            Err(e) => {
                result.history = Some(false);
                result.detail = Some(false);
                result.history_why = Some(format!("GetExecutionHistory failed: {e}"));
                return;
            }
        };
        let actual_types: Vec<String> = actual
            .iter()
            .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
            .collect();
        let order = case.order();
        match compare::history_types(types, &actual_types, order) {
            Ok(()) => result.history = Some(true),
            Err(why) => {
                result.history = Some(false);
                result.history_why = Some(why);
                if self.opts.verbose {
                    result.actual_history_types = Some(actual_types);
                }
            }
        }
        let actual: Vec<Value> = actual.iter().map(compare::normalise_event).collect();
        match matcher.history(events, &actual, order) {
            Ok(()) => result.detail = Some(true),
            Err(why) => {
                result.detail = Some(false);
                result.detail_why = Some(why);
            }
        }
        if self.opts.dump {
            result.actual_history = Some(actual);
        }
    }

    /// CreateStateMachine and StartExecution; with `--serial-start`, also waits (up to a
    /// second) for the first state event, the part of a start that parses expressions.
    async fn start(
        &self,
        case: &Case,
        machine_name: &str,
        execution_name: &str,
        input: Option<String>,
        machine: &mut Option<String>,
    ) -> Result<String, String> {
        let created = self
            .client
            .call(
                "CreateStateMachine",
                json!({
                    "name": machine_name,
                    "definition": case.definition.to_string(),
                    "roleArn": self.role_arn,
                }),
            )
            .await
            .map_err(|e| format!("CreateStateMachine failed: {e}"))?;
        let machine_arn = created["stateMachineArn"]
            .as_str()
            .ok_or("CreateStateMachine failed: no stateMachineArn in the answer")?
            .to_owned();
        *machine = Some(machine_arn.clone());
        let mut body = json!({"stateMachineArn": machine_arn, "name": execution_name});
        if let Some(input) = input {
            body["input"] = json!(input);
        }
        let started = self
            .client
            .call("StartExecution", body)
            .await
            .map_err(|e| format!("StartExecution failed: {e}"))?;
        let execution_arn = started["executionArn"]
            .as_str()
            .ok_or("StartExecution failed: no executionArn in the answer")?
            .to_owned();
        if self.opts.serial_start {
            let settle = Instant::now() + Duration::from_secs(1);
            while Instant::now() < settle {
                let first = self
                    .client
                    .call(
                        "GetExecutionHistory",
                        json!({"executionArn": execution_arn, "maxResults": 2}),
                    )
                    .await;
                match first {
                    Ok(page) if page["events"].as_array().is_some_and(|e| e.len() >= 2) => break,
                    Ok(_) => {}
                    Err(_) => break,
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        Ok(execution_arn)
    }

    /// Polls DescribeExecution until the execution ends; `Ok(None)`: still running at
    /// the deadline (then it is stopped).
    async fn wait(
        &self,
        execution_arn: &str,
        deadline: Instant,
    ) -> Result<Option<Outcome>, String> {
        let mut pause = Duration::from_millis(20);
        loop {
            let d = self
                .client
                .call("DescribeExecution", json!({"executionArn": execution_arn}))
                .await
                .map_err(|e| format!("DescribeExecution failed: {e}"))?;
            let status = d["status"].as_str().unwrap_or_default();
            if status != "RUNNING" {
                let text = |k: &str| d[k].as_str().map(str::to_owned);
                let output = match &d["output"] {
                    Value::String(s) => match serde_json::from_str(s) {
                        Ok(v) => ActualOutput::Json(v),
                        Err(_) => ActualOutput::NotJson(s.clone()),
                    },
                    _ => ActualOutput::Absent,
                };
                return Ok(Some(Outcome {
                    status: status.to_owned(),
                    output,
                    error: text("error"),
                    cause: text("cause"),
                }));
            }
            if Instant::now() > deadline {
                // Best effort: the history read next shows whether it stopped.
                let _ = self
                    .client
                    .call("StopExecution", json!({"executionArn": execution_arn}))
                    .await;
                return Ok(None);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(Duration::from_millis(250));
        }
    }

    /// The callback case: waits until the task has published (TaskSubmitted), reads its
    /// token from the TaskScheduled event's parameters (the message it published), then
    /// replays the recorded SendTask* calls. `Err` says why it could not.
    async fn callback(
        &self,
        case: &Case,
        execution_arn: &str,
        deadline: Instant,
    ) -> Result<(), String> {
        let mut token = None;
        loop {
            if Instant::now() >= deadline {
                break;
            }
            let events = self
                .client
                .history(execution_arn)
                .await
                .map_err(|e| format!("GetExecutionHistory failed: {e}"))?;
            for e in &events {
                if token.is_none() && e["type"] == "TaskScheduled" {
                    token = find_token(&e["taskScheduledEventDetails"]["parameters"]);
                }
            }
            let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
            if types.iter().any(|t| {
                matches!(
                    *t,
                    "ExecutionSucceeded"
                        | "ExecutionFailed"
                        | "ExecutionTimedOut"
                        | "ExecutionAborted"
                )
            }) {
                return Err("execution ended before callback".into());
            }
            if types.contains(&"TaskSubmitted") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let token = token.ok_or("no task token found in TaskScheduled parameters")?;
        for call in &case.callback {
            let (op, mut body) = match call.op.as_str() {
                "send_task_success" => (
                    "SendTaskSuccess",
                    json!({"output": call.output.as_deref().unwrap_or("{}")}),
                ),
                "send_task_failure" => ("SendTaskFailure", json!({})),
                "send_task_heartbeat" => ("SendTaskHeartbeat", json!({})),
                other => return Err(format!("unknown callback op {other}")),
            };
            body["taskToken"] = json!(token);
            if op == "SendTaskFailure" {
                if let Some(e) = &call.error {
                    body["error"] = json!(e);
                }
                if let Some(c) = &call.cause {
                    body["cause"] = json!(c);
                }
            }
            self.client
                .call(op, body)
                .await
                .map_err(|e| format!("{op} failed: {e}"))?;
        }
        Ok(())
    }
}

/// The outcome as `--json` shows it.
fn outcome_json(o: &Outcome) -> Value {
    let mut v = json!({"status": o.status});
    match &o.output {
        ActualOutput::Json(out) => v["output"] = out.clone(),
        ActualOutput::NotJson(raw) => v["output_raw"] = json!(raw),
        ActualOutput::Absent => {}
    }
    if let Some(e) = &o.error {
        v["error"] = json!(e);
    }
    if let Some(c) = &o.cause {
        v["cause"] = json!(c);
    }
    v
}

/// The first `TaskToken` string anywhere in a value, JSON text included.
fn find_token(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => m.iter().find_map(|(k, v)| match v {
            Value::String(s) if k == "TaskToken" => Some(s.clone()),
            _ => find_token(v),
        }),
        Value::Array(a) => a.iter().find_map(find_token),
        Value::String(s) if s.starts_with('{') || s.starts_with('[') => {
            serde_json::from_str::<Value>(s)
                .ok()
                .and_then(|v| find_token(&v))
        }
        _ => None,
    }
}

/// Names shaped like those used when the case was recorded (some cases compute on
/// `$$.StateMachine.Name` or `$$.Execution.Name`): the templates' `{uid}` becomes 8
/// random hex characters; an execution without a template gets a UUID, as AWS gives.
fn names_for(case: &Case) -> (String, String) {
    let fill = |t: &str| t.replace("{uid}", &uid()[..8]);
    let machine = case
        .names
        .state_machine_name_template
        .as_deref()
        .map_or_else(|| fill("statemachine_{uid}"), fill);
    let execution = case
        .names
        .execution_name_template
        .as_deref()
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), fill);
    // AWS limits both names to 80 characters.
    (cut(&machine, 80), cut(&execution, 80))
}

fn uid() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Whether a call failed for want of an answer (the endpoint is down).
pub(crate) fn unreachable(e: &CallError) -> bool {
    matches!(e, CallError::Transport(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_token_is_found_in_parameters_given_as_json_text() {
        let params = json!("{\"TopicArn\":\"t\",\"Message\":{\"TaskToken\":\"tok\",\"x\":1}}");
        assert_eq!(find_token(&params), Some("tok".into()));
        assert_eq!(
            find_token(&json!({"a": [{"TaskToken": "t2"}]})),
            Some("t2".into())
        );
        assert_eq!(find_token(&json!({"TaskToken": 1})), None);
    }
}
