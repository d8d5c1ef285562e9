//! Drives an in-process server with the real `aws-sdk-sfn` client: every operation of
//! issue 3, and each of its error codes arriving as the SDK's typed error variant (or,
//! where the operation's model lists no such variant, by code).

mod common;

use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::operation::create_state_machine::CreateStateMachineError;
use aws_sdk_sfn::operation::describe_execution::{DescribeExecutionError, DescribeExecutionOutput};
use aws_sdk_sfn::operation::describe_state_machine::DescribeStateMachineError;
use aws_sdk_sfn::operation::get_execution_history::GetExecutionHistoryError;
use aws_sdk_sfn::operation::list_executions::ListExecutionsError;
use aws_sdk_sfn::operation::list_state_machines::ListStateMachinesError;
use aws_sdk_sfn::operation::send_task_failure::SendTaskFailureError;
use aws_sdk_sfn::operation::send_task_heartbeat::SendTaskHeartbeatError;
use aws_sdk_sfn::operation::send_task_success::SendTaskSuccessError;
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_sdk_sfn::operation::stop_execution::StopExecutionError;
use aws_sdk_sfn::operation::update_state_machine::UpdateStateMachineError;
use aws_sdk_sfn::types::{
    ExecutionStatus, HistoryEvent, HistoryEventType, StateMachineStatus, StateMachineType,
    ValidateStateMachineDefinitionResultCode, ValidateStateMachineDefinitionSeverity,
};
use common::{LocalServer, callback_definition, forge, token_of_missing_execution};
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::123456789012:role/r";

/// A client for the local endpoint only: fixed region and dummy credentials (nothing
/// from the environment can point it at AWS), and no retries so every error surfaces.
async fn sdk(server: &LocalServer) -> Client {
    let conf = test_support::loopback_sdk_config(&server.url).await;
    Client::new(&conf)
}

/// Sends a request that must fail and returns the operation's typed error.
macro_rules! service_error {
    ($request:expr) => {
        match $request.send().await {
            Ok(out) => panic!("expected an error, got {out:?}"),
            Err(e) => e.into_service_error(),
        }
    };
}

/// Asserts a request fails with the given typed error variant.
macro_rules! assert_error {
    ($request:expr, $variant:pat) => {{
        let e = service_error!($request);
        assert!(
            matches!(e, $variant),
            "expected {}, got {e:?}",
            stringify!($variant)
        );
        e
    }};
}

fn pass_definition() -> Value {
    json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"done": true},
        "ResultPath": "$.r", "End": true}}})
}

async fn create(c: &Client, name: &str, def: &Value) -> String {
    c.create_state_machine()
        .name(name)
        .definition(def.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStateMachine {name}: {e:?}"))
        .state_machine_arn()
        .to_owned()
}

async fn start(c: &Client, sm: &str, name: &str, input: &Value) -> String {
    c.start_execution()
        .state_machine_arn(sm)
        .name(name)
        .input(input.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("StartExecution {name}: {e:?}"))
        .execution_arn()
        .to_owned()
}

async fn describe(c: &Client, exec: &str) -> DescribeExecutionOutput {
    c.describe_execution()
        .execution_arn(exec)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeExecution: {e:?}"))
}

/// Polls DescribeExecution until the execution leaves RUNNING (at most 5 s).
async fn wait_done(c: &Client, exec: &str) -> DescribeExecutionOutput {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let d = describe(c, exec).await;
        if d.status() != &ExecutionStatus::Running || Instant::now() > deadline {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The whole history, one SDK paginator walk (which follows `nextToken`).
async fn history(c: &Client, exec: &str) -> Vec<HistoryEvent> {
    c.get_execution_history()
        .execution_arn(exec)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("GetExecutionHistory: {e:?}"))
}

fn types(events: &[HistoryEvent]) -> Vec<&str> {
    events.iter().map(|e| e.r#type().as_str()).collect()
}

/// The task token a callback task passed as `Parameters.token` (`$$.Task.Token`), read
/// from its TaskScheduled event once the task has been submitted (so histories are
/// deterministic) or the execution has already ended (a short TimeoutSeconds).
async fn token(c: &Client, exec: &str) -> String {
    for _ in 0..250 {
        let events = history(c, exec).await;
        let settled = events.iter().any(|e| {
            e.r#type() == &HistoryEventType::TaskSubmitted
                || (e.id() > 1 && e.r#type().as_str().starts_with("Execution"))
        });
        let scheduled = events.iter().find_map(|e| e.task_scheduled_event_details());
        if let (true, Some(d)) = (settled, scheduled) {
            let params: Value = serde_json::from_str(d.parameters())
                .unwrap_or_else(|e| panic!("TaskScheduled parameters: {e}"));
            return params["token"]
                .as_str()
                .unwrap_or_else(|| panic!("no token in {params}"))
                .to_owned();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no TaskSubmitted event in {exec}");
}

#[tokio::test]
async fn state_machine_operations_and_errors() {
    let server = LocalServer::start("sdk-sm").await;
    let c = sdk(&server).await;
    let def = pass_definition();

    let created = c
        .create_state_machine()
        .name("approve")
        .definition(def.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let arn = created.state_machine_arn().to_owned();
    assert_eq!(
        arn,
        "arn:aws:states:us-east-1:123456789012:stateMachine:approve"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    assert!((created.creation_date().as_secs_f64() - now).abs() < 60.0);

    let d = c
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(d.name(), "approve");
    assert_eq!(d.definition(), def.to_string());
    assert_eq!(d.role_arn(), ROLE);
    assert_eq!(d.status(), Some(&StateMachineStatus::Active));
    assert_eq!(d.r#type(), &StateMachineType::Standard);

    // Same name, definition and role: idempotent, like AWS.
    assert_eq!(create(&c, "approve", &def).await, arn);
    let other = json!({"StartAt": "B", "States": {"B": {"Type": "Succeed"}}});
    assert_error!(
        c.create_state_machine()
            .name("approve")
            .definition(other.to_string())
            .role_arn(ROLE),
        CreateStateMachineError::StateMachineAlreadyExists(_)
    );
    assert_error!(
        c.create_state_machine()
            .name("bad name")
            .definition(def.to_string())
            .role_arn(ROLE),
        CreateStateMachineError::InvalidName(_)
    );
    // The type is part of AWS's idempotency check: EXPRESS under a STANDARD name clashes.
    assert_error!(
        c.create_state_machine()
            .name("approve")
            .definition(def.to_string())
            .role_arn(ROLE)
            .r#type(StateMachineType::Express),
        CreateStateMachineError::StateMachineAlreadyExists(_)
    );
    let broken = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}});
    let e = assert_error!(
        c.create_state_machine()
            .name("broken")
            .definition(broken.to_string())
            .role_arn(ROLE),
        CreateStateMachineError::InvalidDefinition(_)
    );
    assert!(
        e.message().is_some_and(|m| m.contains("/States/A/Next")),
        "{e:?}"
    );
    // The SDK does not check required members: the service does.
    assert_error!(
        c.create_state_machine()
            .definition(def.to_string())
            .role_arn(ROLE),
        CreateStateMachineError::ValidationException(_)
    );
    assert_error!(
        c.create_state_machine()
            .name("typed")
            .definition(def.to_string())
            .role_arn(ROLE)
            .r#type(StateMachineType::from("BATCH")),
        CreateStateMachineError::ValidationException(_)
    );
    assert_error!(
        c.describe_state_machine().state_machine_arn("nope"),
        DescribeStateMachineError::InvalidArn(_)
    );
    assert_error!(
        c.describe_state_machine()
            .state_machine_arn(format!("{arn}-missing")),
        DescribeStateMachineError::StateMachineDoesNotExist(_)
    );

    // ListStateMachines pages with maxResults / nextToken (the paginator follows it).
    let second = create(&c, "second", &def).await;
    let third = create(&c, "third", &def).await;
    let page = c
        .list_state_machines()
        .max_results(2)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(page.state_machines().len(), 2);
    let next = page.next_token().unwrap_or_else(|| panic!("no nextToken"));
    let rest = c
        .list_state_machines()
        .max_results(2)
        .next_token(next)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(rest.state_machines().len(), 1);
    assert_eq!(rest.next_token(), None);
    let all: Vec<_> = c
        .list_state_machines()
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let arns: Vec<&str> = all.iter().map(|s| s.state_machine_arn()).collect();
    assert_eq!(arns, [arn.as_str(), second.as_str(), third.as_str()]);
    assert_eq!(all[0].name(), "approve");
    assert_eq!(all[0].r#type(), &StateMachineType::Standard);
    assert_error!(
        c.list_state_machines().next_token("not-a-token"),
        ListStateMachinesError::InvalidToken(_)
    );
    // Out-of-range maxResults is AWS's generic ValidationException, which this
    // operation's model does not list: the SDK reports it by code.
    let e = service_error!(c.list_state_machines().max_results(1001));
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");

    // UpdateStateMachine: new definition and role, seen by Describe.
    let updated = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(other.to_string())
        .role_arn("arn:aws:iam::123456789012:role/other")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(updated.update_date().as_secs_f64() >= created.creation_date().as_secs_f64());
    let d = c
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(d.definition(), other.to_string());
    assert_eq!(d.role_arn(), "arn:aws:iam::123456789012:role/other");
    assert_error!(
        c.update_state_machine().state_machine_arn(&arn),
        UpdateStateMachineError::MissingRequiredParameter(_)
    );
    assert_error!(
        c.update_state_machine()
            .state_machine_arn(&arn)
            .definition(broken.to_string()),
        UpdateStateMachineError::InvalidDefinition(_)
    );
    assert_error!(
        c.update_state_machine()
            .state_machine_arn("arn:aws:states:us-east-1:123456789012:execution:x:y")
            .definition(def.to_string()),
        UpdateStateMachineError::InvalidArn(_)
    );
    assert_error!(
        c.update_state_machine()
            .state_machine_arn(format!("{arn}-missing"))
            .definition(def.to_string()),
        UpdateStateMachineError::StateMachineDoesNotExist(_)
    );

    // ValidateStateMachineDefinition never fails the call: it reports diagnostics.
    let ok = c
        .validate_state_machine_definition()
        .definition(def.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(ok.result(), &ValidateStateMachineDefinitionResultCode::Ok);
    assert!(ok.diagnostics().is_empty());
    let fail = c
        .validate_state_machine_definition()
        .definition(broken.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        fail.result(),
        &ValidateStateMachineDefinitionResultCode::Fail
    );
    let diag = &fail.diagnostics()[0];
    assert_eq!(
        diag.severity(),
        &ValidateStateMachineDefinitionSeverity::Error
    );
    assert_eq!(diag.code(), "MISSING_TRANSITION_TARGET");
    assert_eq!(diag.location(), Some("/States/A/Next"));

    // DeleteStateMachine: gone afterwards, and deleting again is fine (idempotent).
    for _ in 0..2 {
        c.delete_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    assert_error!(
        c.describe_state_machine().state_machine_arn(&arn),
        DescribeStateMachineError::StateMachineDoesNotExist(_)
    );
    assert_error!(
        c.start_execution().state_machine_arn(&arn),
        StartExecutionError::StateMachineDoesNotExist(_)
    );
}

#[tokio::test]
async fn execution_operations_and_errors() {
    let server = LocalServer::start("sdk-exec").await;
    let c = sdk(&server).await;
    let pass = create(&c, "pass", &pass_definition()).await;
    let wait = create(&c, "wait", &callback_definition()).await;

    // A Pass machine runs to completion; DescribeExecution reports its output.
    let done = start(&c, &pass, "done", &json!({"n": 1})).await;
    assert_eq!(
        done,
        "arn:aws:states:us-east-1:123456789012:execution:pass:done"
    );
    let d = wait_done(&c, &done).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    assert_eq!(d.name(), Some("done"));
    assert_eq!(d.state_machine_arn(), pass);
    assert_eq!(d.input(), Some(json!({"n": 1}).to_string().as_str()));
    assert_eq!(
        d.output(),
        Some(json!({"n": 1, "r": {"done": true}}).to_string().as_str())
    );
    assert!(d.stop_date().is_some());

    // Without a name, the service picks one.
    let unnamed = c
        .start_execution()
        .state_machine_arn(&pass)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        unnamed
            .execution_arn()
            .starts_with("arn:aws:states:us-east-1:123456789012:execution:pass:")
    );

    // Same name: idempotent only while RUNNING with the same input.
    let running = start(&c, &wait, "running", &json!({"id": 1})).await;
    assert_eq!(
        start(&c, &wait, "running", &json!({"id": 1})).await,
        running
    );
    assert_error!(
        c.start_execution()
            .state_machine_arn(&wait)
            .name("running")
            .input(json!({"id": 2}).to_string()),
        StartExecutionError::ExecutionAlreadyExists(_)
    );
    assert_error!(
        c.start_execution()
            .state_machine_arn(&pass)
            .name("done")
            .input(json!({"n": 1}).to_string()),
        StartExecutionError::ExecutionAlreadyExists(_)
    );
    assert_error!(
        c.start_execution()
            .state_machine_arn(&pass)
            .input("{not json"),
        StartExecutionError::InvalidExecutionInput(_)
    );
    assert_error!(
        c.start_execution()
            .state_machine_arn(&pass)
            .input("x".repeat(256 * 1024 + 1)),
        StartExecutionError::InvalidExecutionInput(_)
    );
    assert_error!(
        c.start_execution().state_machine_arn(&pass).name("a/b"),
        StartExecutionError::InvalidName(_)
    );
    assert_error!(
        c.start_execution().state_machine_arn("arn:aws:sqs:x"),
        StartExecutionError::InvalidArn(_)
    );
    assert_error!(
        c.start_execution()
            .state_machine_arn(format!("{pass}-missing")),
        StartExecutionError::StateMachineDoesNotExist(_)
    );
    assert_error!(
        c.describe_execution().execution_arn(&pass),
        DescribeExecutionError::InvalidArn(_)
    );
    assert_error!(
        c.describe_execution()
            .execution_arn(format!("{done}-missing")),
        DescribeExecutionError::ExecutionDoesNotExist(_)
    );

    // StopExecution aborts a waiting execution with the given error and cause.
    let stopped = c
        .stop_execution()
        .execution_arn(&running)
        .error("Operator.Stop")
        .cause("changed my mind")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let d = describe(&c, &running).await;
    assert_eq!(d.status(), &ExecutionStatus::Aborted);
    assert_eq!(d.error(), Some("Operator.Stop"));
    assert_eq!(d.cause(), Some("changed my mind"));
    assert_eq!(d.stop_date(), Some(stopped.stop_date()));
    let events = history(&c, &running).await;
    let aborted = events
        .last()
        .and_then(|e| e.execution_aborted_event_details())
        .unwrap_or_else(|| panic!("{:?}", types(&events)));
    assert_eq!(aborted.error(), Some("Operator.Stop"));
    // Stopping a finished execution answers with its stop date.
    let again = c
        .stop_execution()
        .execution_arn(&running)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(again.stop_date(), stopped.stop_date());
    assert_error!(
        c.stop_execution()
            .execution_arn(format!("{running}-missing")),
        StopExecutionError::ExecutionDoesNotExist(_)
    );
    assert_error!(
        c.stop_execution().execution_arn("nope"),
        StopExecutionError::InvalidArn(_)
    );

    // ListExecutions: newest first, status filter, pages.
    let second = start(&c, &wait, "second", &json!({"id": 2})).await;
    let third = start(&c, &wait, "third", &json!({"id": 3})).await;
    let all: Vec<_> = c
        .list_executions()
        .state_machine_arn(&wait)
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let arns: Vec<&str> = all.iter().map(|e| e.execution_arn()).collect();
    assert_eq!(arns, [third.as_str(), second.as_str(), running.as_str()]);
    assert_eq!(all[2].status(), &ExecutionStatus::Aborted);
    assert!(all[2].stop_date().is_some());
    let page = c
        .list_executions()
        .state_machine_arn(&wait)
        .status_filter(ExecutionStatus::Running)
        .max_results(1)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(page.executions().len(), 1);
    assert_eq!(page.executions()[0].name(), "third");
    let rest = c
        .list_executions()
        .state_machine_arn(&wait)
        .status_filter(ExecutionStatus::Running)
        .next_token(page.next_token().unwrap_or_else(|| panic!("no nextToken")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let names: Vec<&str> = rest.executions().iter().map(|e| e.name()).collect();
    assert_eq!(names, ["second"]);
    assert_eq!(rest.next_token(), None);
    assert_error!(
        c.list_executions()
            .state_machine_arn(format!("{wait}-missing")),
        ListExecutionsError::StateMachineDoesNotExist(_)
    );
    assert_error!(
        c.list_executions().state_machine_arn("nope"),
        ListExecutionsError::InvalidArn(_)
    );
    assert_error!(
        c.list_executions()
            .state_machine_arn(&wait)
            .next_token("not-a-token"),
        ListExecutionsError::InvalidToken(_)
    );
    assert_error!(
        c.list_executions()
            .state_machine_arn(&wait)
            .max_results(5000),
        ListExecutionsError::ValidationException(_)
    );
}

#[tokio::test]
async fn execution_history_ids_and_paging() {
    let server = LocalServer::start("sdk-history").await;
    let c = sdk(&server).await;
    let sm = create(&c, "cb", &callback_definition()).await;
    let exec = start(&c, &sm, "h", &json!({"id": 7})).await;
    let token = token(&c, &exec).await;
    c.send_task_success()
        .task_token(&token)
        .output(json!({"approved": true}).to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        wait_done(&c, &exec).await.status(),
        &ExecutionStatus::Succeeded
    );

    let events = history(&c, &exec).await;
    assert_eq!(
        types(&events),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    // Ids count from 1; each event points at the one before it, except the first state
    // entered, which AWS records with previousEventId 0.
    let ids: Vec<i64> = events.iter().map(HistoryEvent::id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7, 8]);
    let previous: Vec<i64> = events.iter().map(HistoryEvent::previous_event_id).collect();
    assert_eq!(previous, [0, 0, 2, 3, 4, 5, 6, 7]);
    let started = events[0]
        .execution_started_event_details()
        .unwrap_or_else(|| panic!("{:?}", events[0]));
    assert_eq!(started.input(), Some(json!({"id": 7}).to_string().as_str()));
    assert_eq!(started.role_arn(), Some(ROLE));
    let scheduled = events[2]
        .task_scheduled_event_details()
        .unwrap_or_else(|| panic!("{:?}", events[2]));
    assert_eq!(scheduled.resource_type(), "sns");
    assert_eq!(scheduled.resource(), "publish.waitForTaskToken");
    assert_eq!(scheduled.region(), "us-east-1");
    let succeeded = events[5]
        .task_succeeded_event_details()
        .unwrap_or_else(|| panic!("{:?}", events[5]));
    assert_eq!(
        succeeded.output(),
        Some(json!({"approved": true}).to_string().as_str())
    );
    let output = events[7]
        .execution_succeeded_event_details()
        .and_then(|d| d.output())
        .unwrap_or_else(|| panic!("{:?}", events[7]));
    assert_eq!(
        output,
        json!({"id": 7, "decision": {"approved": true}}).to_string()
    );
    assert!(
        events
            .windows(2)
            .all(|w| w[0].timestamp() <= w[1].timestamp())
    );

    // maxResults / nextToken, forwards and in reverse.
    for reverse in [false, true] {
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = c
                .get_execution_history()
                .execution_arn(&exec)
                .max_results(3)
                .reverse_order(reverse)
                .set_next_token(next.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert!(page.events().len() <= 3);
            ids.extend(page.events().iter().map(HistoryEvent::id));
            match page.next_token() {
                Some(t) => next = Some(t.to_owned()),
                None => break,
            }
        }
        let mut want: Vec<i64> = (1..=8).collect();
        if reverse {
            want.reverse();
        }
        assert_eq!(ids, want, "reverse={reverse}");
    }

    // includeExecutionData=false leaves the payloads out.
    let lean = c
        .get_execution_history()
        .execution_arn(&exec)
        .include_execution_data(false)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let started = lean.events()[0]
        .execution_started_event_details()
        .unwrap_or_else(|| panic!("{:?}", lean.events()[0]));
    assert_eq!(started.input(), None);

    assert_error!(
        c.get_execution_history()
            .execution_arn(format!("{exec}-missing")),
        GetExecutionHistoryError::ExecutionDoesNotExist(_)
    );
    assert_error!(
        c.get_execution_history().execution_arn(&sm),
        GetExecutionHistoryError::InvalidArn(_)
    );
    assert_error!(
        c.get_execution_history()
            .execution_arn(&exec)
            .next_token("not-a-token"),
        GetExecutionHistoryError::InvalidToken(_)
    );
}

#[tokio::test]
async fn task_callbacks_and_their_errors() {
    let server = LocalServer::start("sdk-callback").await;
    let c = sdk(&server).await;
    let sm = create(&c, "approval", &callback_definition()).await;

    // Success: heartbeat first, a bad output is refused and the task keeps waiting.
    let yes = start(&c, &sm, "yes", &json!({"id": 1})).await;
    let token_yes = token(&c, &yes).await;
    c.send_task_heartbeat()
        .task_token(&token_yes)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_error!(
        c.send_task_success()
            .task_token(&token_yes)
            .output("{not json"),
        SendTaskSuccessError::InvalidOutput(_)
    );
    assert_error!(
        c.send_task_success()
            .task_token(&token_yes)
            .output(format!("\"{}\"", "x".repeat(256 * 1024))),
        SendTaskSuccessError::InvalidOutput(_)
    );
    assert_eq!(describe(&c, &yes).await.status(), &ExecutionStatus::Running);
    c.send_task_success()
        .task_token(&token_yes)
        .output(json!({"approved": true}).to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let d = wait_done(&c, &yes).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    assert_eq!(
        d.output(),
        Some(
            json!({"id": 1, "decision": {"approved": true}})
                .to_string()
                .as_str()
        )
    );

    // A token whose task is over: every callback says TaskTimedOut (as AWS does); a
    // forged one is still InvalidToken.
    assert_error!(
        c.send_task_success()
            .task_token(forge(&token_yes))
            .output("{}"),
        SendTaskSuccessError::InvalidToken(_)
    );
    assert_error!(
        c.send_task_success().task_token(&token_yes).output("{}"),
        SendTaskSuccessError::TaskTimedOut(_)
    );
    assert_error!(
        c.send_task_failure().task_token(&token_yes),
        SendTaskFailureError::TaskTimedOut(_)
    );
    assert_error!(
        c.send_task_heartbeat().task_token(&token_yes),
        SendTaskHeartbeatError::TaskTimedOut(_)
    );

    // Failure: the execution fails with the callback's error and cause.
    let no = start(&c, &sm, "no", &json!({"id": 2})).await;
    let token_no = token(&c, &no).await;
    c.send_task_failure()
        .task_token(&token_no)
        .error("Rejected")
        .cause("not this time")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let d = wait_done(&c, &no).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("Rejected"));
    assert_eq!(d.cause(), Some("not this time"));
    let events = history(&c, &no).await;
    let failed = events
        .iter()
        .find_map(|e| e.task_failed_event_details())
        .unwrap_or_else(|| panic!("{:?}", types(&events)));
    assert_eq!(failed.error(), Some("Rejected"));
    assert_eq!(failed.cause(), Some("not this time"));
    assert_eq!(
        events.last().map(|e| e.r#type().as_str()),
        Some("ExecutionFailed")
    );

    // Malformed tokens are InvalidToken; a well-formed token naming no execution is
    // TaskDoesNotExist; a token with the wrong secret for a waiting execution is
    // InvalidToken (it was never issued) and leaves the execution alone.
    for bad in ["garbage", "a.b.c"] {
        assert_error!(
            c.send_task_success().task_token(bad).output("{}"),
            SendTaskSuccessError::InvalidToken(_)
        );
    }
    assert_error!(
        c.send_task_failure().task_token("garbage"),
        SendTaskFailureError::InvalidToken(_)
    );
    assert_error!(
        c.send_task_heartbeat().task_token("garbage"),
        SendTaskHeartbeatError::InvalidToken(_)
    );
    // Tokens are long base64 strings with + / = in them, like AWS's.
    assert!(token_no.len() > 700, "{}", token_no.len());
    assert!(token_no.contains('+') && token_no.contains('/') && token_no.ends_with('='));
    let nowhere = token_of_missing_execution(server.dir(), 0xffffff);
    assert_error!(
        c.send_task_success().task_token(&nowhere).output("{}"),
        SendTaskSuccessError::TaskDoesNotExist(_)
    );
    assert_error!(
        c.send_task_failure().task_token(&nowhere),
        SendTaskFailureError::TaskDoesNotExist(_)
    );
    assert_error!(
        c.send_task_heartbeat().task_token(&nowhere),
        SendTaskHeartbeatError::TaskDoesNotExist(_)
    );
    let pending = start(&c, &sm, "pending", &json!({"id": 3})).await;
    let token_pending = token(&c, &pending).await;
    let forged = forge(&token_pending);
    assert_error!(
        c.send_task_success().task_token(&forged).output("{}"),
        SendTaskSuccessError::InvalidToken(_)
    );
    assert_error!(
        c.send_task_heartbeat().task_token(&forged),
        SendTaskHeartbeatError::InvalidToken(_)
    );
    assert_eq!(
        describe(&c, &pending).await.status(),
        &ExecutionStatus::Running
    );
}

#[tokio::test]
async fn a_timed_out_task_refuses_its_token() {
    let server = LocalServer::start("sdk-timeout").await;
    let c = sdk(&server).await;
    let sm = create(
        &c,
        "slow",
        &json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task",
            "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Parameters": {"token.$": "$$.Task.Token"}, "TimeoutSeconds": 1, "End": true}}}),
    )
    .await;
    let exec = start(&c, &sm, "late", &json!({})).await;
    let token = token(&c, &exec).await;
    let d = wait_done(&c, &exec).await;
    // A task timeout without a Catch fails the execution (TIMED_OUT is for the
    // machine's own TimeoutSeconds).
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("States.Timeout"));
    assert_error!(
        c.send_task_success().task_token(&token).output("{}"),
        SendTaskSuccessError::TaskTimedOut(_)
    );
    assert_error!(
        c.send_task_heartbeat().task_token(&token),
        SendTaskHeartbeatError::TaskTimedOut(_)
    );
}
