//! The JSONata example machine (`statemachine/human_in_the_loop.jsonata.asl.json`)
//! behaves like the deployed JSONPath one: both run on the local engine, with the
//! same substitutions, input and answers, and must publish the same email, invoke
//! the same functions with the same payloads, and fail with the same cause.
//! Pure: the engine with a fixed clock, no services (local mode runs it end to end
//! in `crates/hitl/tests/local_e2e.rs`).

use asl_engine::{Command, Definition, ExecInfo, Execution, Status, Step, TaskOutcome};
use serde_json::{Value, json};
use workflow_tests::{placeholders, read};

const JSONPATH: &str = "statemachine/human_in_the_loop.asl.json";
const JSONATA: &str = "statemachine/human_in_the_loop.jsonata.asl.json";

/// The file with `${Name}` replaced as DefinitionSubstitutions would.
fn definition(file: &str) -> Definition {
    let mut text = read(file);
    for name in placeholders(&text) {
        let value = match name.as_str() {
            "ReviewTimeoutSeconds" => "300".to_owned(),
            "ExecutionTimeoutSeconds" => "3900".to_owned(),
            "ActionMaxAttempts" => "2".to_owned(),
            "Region" => "eu-west-1".to_owned(),
            "ReviewApiEndpoint" => "https://api.example.com".to_owned(),
            other => format!("arn:aws:test:eu-west-1:123456789012:{other}"),
        };
        text = text.replace(&format!("${{{name}}}"), &value);
    }
    Definition::parse_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn info(input: Value) -> ExecInfo {
    ExecInfo {
        execution_arn: "arn:aws:states:eu-west-1:123456789012:execution:review:refund-1042".into(),
        name: "refund-1042".into(),
        state_machine_arn: "arn:aws:states:eu-west-1:123456789012:stateMachine:review".into(),
        state_machine_name: "review".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        start_ms: 1_700_000_000_000,
        input,
        token_prefix: "tok-".into(),
    }
}

/// The tasks a step asks to run: (task id, resource, parameters).
fn tasks(step: &Step) -> Vec<(u64, String, Value)> {
    step.tasks()
        .map(|(id, r)| (id, r.resource.clone(), r.parameters.clone()))
        .collect()
}

fn timers(step: &Step) -> Vec<(u64, i64)> {
    step.timers().collect()
}

/// What one machine did for one answer (`None`: nobody answers in time).
#[derive(Debug, PartialEq)]
struct Run {
    review_request: Vec<(String, Value)>,
    /// The review's timeout, then the execution's, as they stand once the review is requested.
    timers_due: Vec<i64>,
    outcome_task: Vec<(String, Value)>,
    status: Status,
    error: Option<String>,
    cause: Option<String>,
}

fn run(file: &str, input: &Value, answer: Option<Value>) -> Run {
    let d = definition(file);
    let now = 1_700_000_000_000;
    let (mut exec, step) = Execution::start(&d, info(input.clone()), now);
    let asked = tasks(&step);
    let (task_id, _, _) = asked.first().cloned().expect("the review request task");
    let command = match answer {
        Some(v) => Command::Task {
            task_id,
            outcome: TaskOutcome::Succeeded(v),
        },
        // The review's timer is the earlier one; the other is the execution's TimeoutSeconds.
        None => Command::Timer {
            timer_id: timers(&step)
                .into_iter()
                .min_by_key(|(_, due)| *due)
                .expect("the review timeout")
                .0,
        },
    };
    let step = exec
        .apply(&d, command, now + 1_000)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let outcome = tasks(&step);
    // The outcome function answers with its decision record.
    if let Some((id, _, params)) = outcome.first() {
        let record = json!({"decision": "recorded", "payload": params["Payload"].clone()});
        exec.apply(
            &d,
            Command::Task {
                task_id: *id,
                outcome: TaskOutcome::Succeeded(json!({"Payload": record})),
            },
            now + 2_000,
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    Run {
        review_request: asked.into_iter().map(|(_, r, p)| (r, p)).collect(),
        timers_due: {
            let mut due: Vec<i64> = timers(&Execution::start(&d, info(input.clone()), now).1)
                .into_iter()
                .map(|(_, due)| due)
                .collect();
            due.sort_unstable();
            due
        },
        outcome_task: outcome.into_iter().map(|(_, r, p)| (r, p)).collect(),
        status: exec.status,
        error: exec.error.clone(),
        cause: exec.cause.clone(),
    }
}

fn same_behaviour(input: Value, answer: Option<Value>) -> Run {
    let jsonpath = run(JSONPATH, &input, answer.clone());
    let jsonata = run(JSONATA, &input, answer);
    assert_eq!(jsonata, jsonpath);
    jsonata
}

fn sample_input() -> Value {
    serde_json::from_str(&read("events/start_execution.json")).expect("JSON")
}

#[test]
fn both_machines_email_the_same_review_request() {
    let r = same_behaviour(sample_input(), Some(json!({"result": true})));
    let (resource, params) = &r.review_request[0];
    assert_eq!(resource, "arn:aws:states:::sns:publish.waitForTaskToken");
    assert_eq!(params["Subject"], "Review requested: refund-1042");
    let message = params["Message"].as_str().unwrap_or_default();
    let token = asl_engine::token::task_token("tok-", 1);
    assert!(
        message.ends_with(&format!("\n\nTask token: {token}\n")),
        "{message}"
    );
    assert_eq!(
        r.timers_due,
        [1_700_000_000_000 + 300_000, 1_700_000_000_000 + 3_900_000]
    );
}

#[test]
fn both_machines_approve_and_reject_with_the_same_payloads() {
    let approve: Value = serde_json::from_str(&read("events/review_approve.json")).expect("JSON");
    let r = same_behaviour(sample_input(), Some(approve.clone()));
    assert_eq!(r.status, Status::Succeeded);
    assert!(
        r.outcome_task[0].1["FunctionName"]
            .as_str()
            .is_some_and(|f| f.ends_with("ProcessApprovalFunctionArn"))
    );
    assert_eq!(r.outcome_task[0].1["Payload"]["review"], approve);
    assert_eq!(r.outcome_task[0].1["Payload"]["request"], sample_input());
    // Any JSON input, a string with quotes included, is printed and passed on alike.
    let r = same_behaviour(json!("say \"hi\""), Some(approve.clone()));
    assert_eq!(r.outcome_task[0].1["Payload"]["request"], "say \"hi\"");

    let reject: Value = serde_json::from_str(&read("events/review_reject.json")).expect("JSON");
    let r = same_behaviour(json!(["any", {"json": 1}]), Some(reject));
    assert!(
        r.outcome_task[0].1["FunctionName"]
            .as_str()
            .is_some_and(|f| f.ends_with("ProcessRejectionFunctionArn"))
    );
}

#[test]
fn both_machines_reject_an_expired_review() {
    let r = same_behaviour(sample_input(), None);
    assert_eq!(
        r.outcome_task[0].1["Payload"]["review"],
        json!({"result": false, "expired": true})
    );
}

#[test]
fn both_machines_fail_an_answer_without_a_boolean_result_with_the_same_cause() {
    for answer in [
        json!({"result": "yes"}),
        json!({}),
        json!(true),
        json!({"result": 1}),
        json!([{"result": true}]),
        json!({"result": null, "reviewer": "Bo"}),
    ] {
        let r = same_behaviour(sample_input(), Some(answer.clone()));
        assert_eq!(r.status, Status::Failed, "{answer}");
        assert_eq!(r.error.as_deref(), Some("InvalidReviewResult"));
        assert!(
            r.cause
                .as_deref()
                .is_some_and(|c| c.ends_with(&format!("Received: {answer}"))),
            "{:?}",
            r.cause
        );
    }
}

/// What one machine did when the approval action always fails: the tasks it
/// asked for in order (resource, parameters), and how the execution ended.
fn run_failing_action(file: &str) -> (Vec<(String, Value)>, Status, Option<String>) {
    let d = definition(file);
    let mut now = 1_700_000_000_000;
    let (mut exec, step) = Execution::start(&d, info(sample_input()), now);
    let review = tasks(&step)[0].0;
    now += 1_000;
    let mut step = exec
        .apply(
            &d,
            Command::Task {
                task_id: review,
                outcome: TaskOutcome::Succeeded(json!({"result": true})),
            },
            now,
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut asked = Vec::new();
    // Every action attempt fails; the alarm's publish succeeds; retry timers fire.
    for _ in 0..20 {
        if exec.status != Status::Running {
            break;
        }
        now += 1_000;
        let command = if let Some((id, resource, parameters)) = tasks(&step).into_iter().next() {
            asked.push((resource.clone(), parameters));
            let outcome = if resource.ends_with(":sns:publish") {
                TaskOutcome::Succeeded(json!({"MessageId": "m-1"}))
            } else {
                TaskOutcome::Failed {
                    error: "ActionFailed".into(),
                    cause:
                        "{\"errorType\":\"ActionFailed\",\"errorMessage\":\"the ledger is down\"}"
                            .into(),
                }
            };
            Command::Task {
                task_id: id,
                outcome,
            }
        } else {
            let (timer_id, due) = timers(&step)
                .into_iter()
                .min_by_key(|(_, due)| *due)
                .expect("a retry timer");
            now = now.max(due);
            Command::Timer { timer_id }
        };
        step = exec
            .apply(&d, command, now)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    (asked, exec.status, exec.error.clone())
}

#[test]
fn both_machines_retry_a_failed_action_report_it_to_the_alarm_topic_and_fail_where_redrive_resumes()
{
    let jsonpath = run_failing_action(JSONPATH);
    let jsonata = run_failing_action(JSONATA);
    assert_eq!(jsonata, jsonpath);
    let (asked, status, error) = jsonata;
    let resources: Vec<&str> = asked
        .iter()
        .map(|(resource, _)| resource.rsplit(':').next().unwrap_or_default())
        .collect();
    // The first attempt and ActionMaxAttempts (2 here) retries, the alarm, one last attempt.
    assert_eq!(
        resources,
        ["invoke", "invoke", "invoke", "publish", "invoke"],
        "{asked:#?}"
    );
    let alarm = &asked[3].1;
    assert!(
        alarm["TopicArn"]
            .as_str()
            .is_some_and(|arn| arn.ends_with("AlarmTopicArn"))
    );
    assert_eq!(alarm["Subject"], "Action failed: refund-1042");
    let message = alarm["Message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("The approval action of execution arn:"),
        "{message}"
    );
    assert!(message.contains("\nError: ActionFailed\n"), "{message}");
    assert!(message.contains("the ledger is down"), "{message}");
    assert!(
        message.contains(
            "aws stepfunctions redrive-execution --region eu-west-1 --execution-arn arn:"
        ),
        "{message}"
    );
    assert_eq!(
        asked[4].1, asked[0].1,
        "the last attempt is the same invocation"
    );
    assert_eq!(status, Status::Failed);
    assert_eq!(error.as_deref(), Some("ActionFailed"));
}
