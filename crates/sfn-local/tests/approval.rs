//! The approval-policy workflow's engine semantics through the real `aws-sdk-sfn`
//! client (docs/approval-policies.md, "State machine outline"): a Parallel whose
//! Reviewers branch is an inline Map of `lambda:invoke.waitForTaskToken` tasks and
//! whose Timers branch waits on a `TimestampPath`; a decided vote fails its iteration
//! with `ReviewDecided`, which cuts the other reviewers and the timer, is caught by the
//! Parallel and parsed back by a Pass. Cut and used tokens answer `TaskTimedOut` and
//! change nothing. No integration is configured: callback tasks just wait for their
//! tokens (read from each `TaskScheduled` event).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::operation::send_task_failure::SendTaskFailureError;
use aws_sdk_sfn::operation::send_task_heartbeat::SendTaskHeartbeatError;
use aws_sdk_sfn::operation::send_task_success::SendTaskSuccessError;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use common::LocalServer;
use serde_json::{Value, json};

/// A client for the local endpoint only: fixed region, dummy credentials, no retries.
async fn sdk(server: &LocalServer) -> Client {
    let conf = test_support::loopback_sdk_config(&server.url).await;
    Client::new(&conf)
}

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

fn count(events: &[HistoryEvent], ty: &str) -> usize {
    events.iter().filter(|e| e.r#type().as_str() == ty).count()
}

async fn status(c: &Client, exec: &str) -> ExecutionStatus {
    c.describe_execution()
        .execution_arn(exec)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeExecution: {e:?}"))
        .status()
        .clone()
}

/// Polls the history until `ready` holds (at most 5 s).
async fn history_until(
    c: &Client,
    exec: &str,
    ready: impl Fn(&[HistoryEvent]) -> bool,
) -> Vec<HistoryEvent> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let events = history(c, exec).await;
        if ready(&events) || Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Each asked party's token, by who was asked (`Payload.who`), once `n` callback
/// tasks were submitted.
async fn tokens(c: &Client, exec: &str, n: usize) -> HashMap<String, String> {
    let events = history_until(c, exec, |e| count(e, "TaskSubmitted") >= n).await;
    assert_eq!(count(&events, "TaskSubmitted"), n, "{:?}", types(&events));
    events
        .iter()
        .filter_map(|e| e.task_scheduled_event_details())
        .map(|d| {
            let p: Value = serde_json::from_str(d.parameters()).unwrap_or_default();
            let who = p["Payload"]["who"].as_str().unwrap_or_default().to_owned();
            let token = p["Payload"]["token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (who, token)
        })
        .collect()
}

fn ask(next: &str, who: Value) -> Value {
    json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
           "Parameters": {"FunctionName": "notify",
                          "Payload": {"token.$": "$$.Task.Token", "who": who}},
           "TimeoutSecondsPath": "$.backstopSeconds",
           "ResultPath": "$.answer", "Next": next})
}

/// The outline without its plain Lambda tasks: an answer carries the decision Record
/// Vote would return. `Hold` keeps the execution running after the decision.
fn review_definition() -> Value {
    let decided = json!({"Type": "Fail", "Error": "ReviewDecided",
                         "CausePath": "States.JsonToString($.answer.record)"});
    let mut reviewer = ask("Vote Outcome", json!(null));
    reviewer["Parameters"]["Payload"] = json!({"token.$": "$$.Task.Token", "who.$": "$.reviewer"});
    json!({"StartAt": "Collect Votes", "States": {
        "Collect Votes": {"Type": "Parallel", "End": true,
            "Catch": [{"ErrorEquals": ["ReviewDecided"], "ResultPath": "$.ended",
                       "Next": "Read Decision"}],
            "Branches": [
                {"StartAt": "Ask Reviewers", "States": {
                    "Ask Reviewers": {"Type": "Map", "ItemsPath": "$.eligible",
                        "MaxConcurrency": 0, "End": true,
                        "ItemSelector": {"reviewer.$": "$$.Map.Item.Value",
                                         "backstopSeconds.$": "$.backstopSeconds"},
                        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"},
                            "StartAt": "Ask Reviewer", "States": {
                            "Ask Reviewer": reviewer,
                            "Vote Outcome": {"Type": "Choice", "Default": "Counted",
                                "Choices": [{"Variable": "$.answer.decided",
                                             "BooleanEquals": true, "Next": "Decided"}]},
                            "Decided": decided,
                            "Counted": {"Type": "Succeed"}}}}}},
                {"StartAt": "Wait For Timer", "States": {
                    "Wait For Timer": {"Type": "Wait", "TimestampPath": "$.next.at",
                                       "Next": "Ask Escalation"},
                    "Ask Escalation": ask("Timer Decided", json!("escalation")),
                    "Timer Decided": decided}}]},
        "Read Decision": {"Type": "Pass", "Next": "Hold",
            "Parameters": {"record.$": "States.StringToJson($.ended.Cause)"}},
        "Hold": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                 "Parameters": {"Payload": {"token.$": "$$.Task.Token", "who": "hold"}},
                 "End": true}}})
}

/// Three reviewers; the timer an hour from now, so it is pending when the review ends.
fn review_input() -> Value {
    let at = chrono::Utc::now() + chrono::Duration::hours(1);
    json!({"eligible": ["a@x", "b@x", "c@x"], "backstopSeconds": 3600,
           "next": {"at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}})
}

async fn review(c: &Client, name: &str) -> String {
    let sm = c
        .create_state_machine()
        .name(name)
        .definition(review_definition().to_string())
        .role_arn("arn:aws:iam::123456789012:role/r")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStateMachine: {e:?}"))
        .state_machine_arn()
        .to_owned();
    c.start_execution()
        .state_machine_arn(sm)
        .name(name)
        .input(review_input().to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("StartExecution: {e:?}"))
        .execution_arn()
        .to_owned()
}

fn answer(decided: bool, by: &str) -> String {
    json!({"decided": decided, "record": {"decision": "approved", "by": by}}).to_string()
}

#[tokio::test]
async fn a_decided_vote_ends_the_review_and_closes_every_other_token() {
    let server = LocalServer::start("approval-decided").await;
    let c = sdk(&server).await;
    let exec = review(&c, "decided").await;
    let tok = tokens(&c, &exec, 3).await;

    // Two votes that count arrive together: both tasks complete, each iteration
    // finishes on its own, and the review goes on.
    let (a, b) = tokio::join!(
        c.send_task_success()
            .task_token(&tok["a@x"])
            .output(answer(false, "a"))
            .send(),
        c.send_task_success()
            .task_token(&tok["b@x"])
            .output(answer(false, "b"))
            .send(),
    );
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    let events = history_until(&c, &exec, |e| count(e, "MapIterationSucceeded") == 2).await;
    assert_eq!(count(&events, "MapIterationSucceeded"), 2);
    assert_eq!(status(&c, &exec).await, ExecutionStatus::Running);

    // c decides: the Map fails, the timer's Wait is cut, the Parallel catches the
    // decision and the Pass parses its cause.
    c.send_task_success()
        .task_token(&tok["c@x"])
        .output(answer(true, "c"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("SendTaskSuccess: {e:?}"));
    let events = history_until(&c, &exec, |e| count(e, "PassStateExited") == 1).await;
    let t = types(&events);
    let from = t
        .iter()
        .position(|e| *e == "FailStateEntered")
        .unwrap_or_else(|| panic!("{t:?}"));
    assert_eq!(
        t.get(from..from + 12),
        Some(
            &[
                "FailStateEntered",
                "MapIterationFailed",
                "MapStateFailed",
                "WaitStateAborted",
                "MapStateAborted",
                "ParallelStateFailed",
                "ParallelStateExited",
                "PassStateEntered",
                "PassStateExited",
                "TaskStateEntered",
                "TaskScheduled",
                "TaskStarted",
            ][..]
        ),
        "{t:?}"
    );
    let exited = events
        .iter()
        .find(|e| e.r#type() == &HistoryEventType::ParallelStateExited)
        .and_then(|e| e.state_exited_event_details())
        .and_then(|d| d.output())
        .unwrap_or_else(|| panic!("no ParallelStateExited output"));
    let exited: Value = serde_json::from_str(exited).unwrap_or_default();
    assert_eq!(
        exited["ended"],
        json!({"Error": "ReviewDecided",
               "Cause": "{\"decision\":\"approved\",\"by\":\"c\"}"})
    );
    let read = events
        .iter()
        .filter_map(|e| e.state_exited_event_details())
        .find(|d| d.name() == "Read Decision")
        .and_then(|d| d.output())
        .unwrap_or_else(|| panic!("no Read Decision output"));
    assert_eq!(
        serde_json::from_str::<Value>(read).unwrap_or_default(),
        json!({"record": {"decision": "approved", "by": "c"}})
    );

    // The execution still runs (Hold), yet a used token and the tokens of finished
    // iterations are no tasks anymore: TaskTimedOut for every callback, and nothing
    // is recorded.
    let hold = tokens(&c, &exec, 4).await;
    let before = history(&c, &exec).await.len();
    for (who, token) in [("a", &tok["a@x"]), ("c", &tok["c@x"])] {
        let e = c
            .send_task_success()
            .task_token(token)
            .output("{}")
            .send()
            .await
            .err()
            .map(|e| e.into_service_error());
        assert!(
            matches!(e, Some(SendTaskSuccessError::TaskTimedOut(_))),
            "{who}: {e:?}"
        );
        let e = c
            .send_task_failure()
            .task_token(token)
            .error("E")
            .send()
            .await
            .err()
            .map(|e| e.into_service_error());
        assert!(
            matches!(e, Some(SendTaskFailureError::TaskTimedOut(_))),
            "{who}: {e:?}"
        );
        let e = c
            .send_task_heartbeat()
            .task_token(token)
            .send()
            .await
            .err()
            .map(|e| e.into_service_error());
        assert!(
            matches!(e, Some(SendTaskHeartbeatError::TaskTimedOut(_))),
            "{who}: {e:?}"
        );
    }
    assert_eq!(history(&c, &exec).await.len(), before);
    assert_eq!(status(&c, &exec).await, ExecutionStatus::Running);

    c.send_task_success()
        .task_token(&hold["hold"])
        .output("{}")
        .send()
        .await
        .unwrap_or_else(|e| panic!("SendTaskSuccess hold: {e:?}"));
    let events = history_until(&c, &exec, |e| count(e, "ExecutionSucceeded") == 1).await;
    assert_eq!(
        count(&events, "ExecutionSucceeded"),
        1,
        "{:?}",
        types(&events)
    );
}

#[tokio::test]
async fn two_decisions_arriving_together_decide_once() {
    let server = LocalServer::start("approval-race").await;
    let c = sdk(&server).await;
    let exec = review(&c, "race").await;
    let tok = tokens(&c, &exec, 3).await;

    let (a, b) = tokio::join!(
        c.send_task_success()
            .task_token(&tok["a@x"])
            .output(answer(true, "a"))
            .send(),
        c.send_task_success()
            .task_token(&tok["b@x"])
            .output(answer(true, "b"))
            .send(),
    );
    // One of them decides; the other's task was cut by then.
    let (won, lost) = match (&a, &b) {
        (Ok(_), Err(e)) => ("a", e),
        (Err(e), Ok(_)) => ("b", e),
        _ => panic!("exactly one answer must be accepted: {a:?} {b:?}"),
    };
    assert!(
        matches!(
            lost.as_service_error(),
            Some(SendTaskSuccessError::TaskTimedOut(_))
        ),
        "{lost:?}"
    );
    let events = history_until(&c, &exec, |e| count(e, "PassStateExited") == 1).await;
    assert_eq!(count(&events, "MapStateFailed"), 1);
    assert_eq!(count(&events, "MapIterationFailed"), 1);
    // The other two iterations were cut, each with the task it waited in.
    assert_eq!(count(&events, "MapIterationAborted"), 2);
    assert_eq!(count(&events, "TaskStateAborted"), 2);
    assert_eq!(count(&events, "ParallelStateFailed"), 1);
    let read = events
        .iter()
        .filter_map(|e| e.state_exited_event_details())
        .find(|d| d.name() == "Read Decision")
        .and_then(|d| d.output())
        .unwrap_or_default();
    assert_eq!(
        serde_json::from_str::<Value>(read).unwrap_or_default()["record"]["by"],
        won
    );
    assert_eq!(status(&c, &exec).await, ExecutionStatus::Running);
}
