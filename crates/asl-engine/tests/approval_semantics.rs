//! The engine semantics approval policies rely on (docs/approval-policies.md, "State
//! machine outline"): a Parallel whose Reviewers branch is an inline Map of callback
//! tasks and whose Timers branch loops on a `TimestampPath` Wait, both ending in
//! `Fail` `ReviewDecided` with a `CausePath` intrinsic; the Parallel catches it and a
//! Pass parses the cause back. GIVEN the definition WHEN commands arrive THEN the
//! history, the remaining timers and tasks, and the output are what AWS produces.
//!
//! What each expectation rests on:
//! * Cut iterations and branches: `MapIterationAborted` and then the
//!   `<Type>StateAborted` of the state each was in, then `MapIterationFailed`, then the
//!   failed state's own `<Type>StateAborted` (Task, Wait, Map, Parallel only), then
//!   `MapStateFailed` / `ParallelStateFailed`, all following the failing event (see
//!   `Run::child_finished` for the recorded sources).
//! * A token of a cut task is no task anymore: the engine refuses it
//!   (`CommandError::UnknownTask`, which `sfn-local` answers with `TaskTimedOut`).
//! * `CausePath` / `ErrorPath` take intrinsic functions (conformance
//!   `test_state_fail_intrinsic`, `test_error_cause_path`).

use asl_engine::{
    Command, CommandError, Definition, ExecInfo, Execution, HistoryEvent, Pending, Status, Step,
    TaskOutcome,
};
use serde_json::{Value, json};

/// 2024-01-01T00:00:00Z, the fake "now" every test starts at.
const T0: i64 = 1_704_067_200_000;

fn def(v: Value) -> Definition {
    Definition::parse(&v).unwrap_or_else(|e| panic!("definition: {e}"))
}

fn info(input: Value) -> ExecInfo {
    ExecInfo {
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:review:e1".into(),
        name: "e1".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:review".into(),
        state_machine_name: "review".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        start_ms: T0,
        input,
        token_prefix: "tok-".into(),
    }
}

fn types(events: &[HistoryEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

fn apply(exec: &mut Execution, d: &Definition, cmd: Command, now: i64) -> Step {
    exec.apply(d, cmd, now)
        .unwrap_or_else(|e| panic!("apply: {e}"))
}

fn success(task_id: u64, v: Value) -> Command {
    Command::Task {
        task_id,
        outcome: TaskOutcome::Succeeded(v),
    }
}

/// The event of type `ty` (the first one).
fn event<'a>(events: &'a [HistoryEvent], ty: &str) -> &'a HistoryEvent {
    events
        .iter()
        .find(|e| e.event_type == ty)
        .unwrap_or_else(|| panic!("no {ty} in {:?}", types(events)))
}

/// A callback Task as the outline has them: the token and who is asked go to Lambda.
fn ask(next: &str, extra: Value) -> Value {
    let mut t = json!({
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "notify",
                       "Payload": {"token.$": "$$.Task.Token", "who.$": "$.reviewer"}},
        "ResultPath": "$.answer", "Next": next});
    if let (Some(t), Value::Object(extra)) = (t.as_object_mut(), extra) {
        t.extend(extra);
    }
    t
}

/// The outline's shape, Lambda tasks other than the callbacks left out: each answer
/// carries the decision (`decided`, `record`) that Record Vote would return. After
/// Read Decision, `Hold` keeps the execution running so cut tokens can be tried.
fn review(hold: bool) -> Definition {
    let decided = json!({"Type": "Fail", "Error": "ReviewDecided",
                         "CausePath": "States.JsonToString($.answer.record)"});
    let after_read = if hold {
        json!({"Next": "Hold"})
    } else {
        json!({"End": true})
    };
    let mut read = json!({"Type": "Pass",
        "Parameters": {"record.$": "States.StringToJson($.ended.Cause)"}});
    if let (Some(r), Value::Object(a)) = (read.as_object_mut(), after_read) {
        r.extend(a);
    }
    let mut machine = json!({"StartAt": "Collect Votes", "States": {
        "Collect Votes": {"Type": "Parallel", "End": true,
            "Catch": [{"ErrorEquals": ["ReviewDecided"], "ResultPath": "$.ended",
                       "Next": "Read Decision"}],
            "Branches": [
                {"StartAt": "Ask Reviewers", "States": {
                    "Ask Reviewers": {"Type": "Map", "ItemsPath": "$.eligible",
                        "MaxConcurrency": 0, "End": true,
                        "ItemSelector": {"reviewer.$": "$$.Map.Item.Value",
                                         "schedule.$": "$.schedule"},
                        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"},
                            "StartAt": "Ask Reviewer", "States": {
                            "Ask Reviewer": ask("Vote Outcome", json!({
                                "TimeoutSecondsPath": "$.schedule.backstopSeconds",
                                "HeartbeatSecondsPath": "$.schedule.heartbeatSeconds"})),
                            "Vote Outcome": {"Type": "Choice", "Default": "Counted",
                                "Choices": [{"Variable": "$.answer.decided",
                                             "BooleanEquals": true, "Next": "Decided"}]},
                            "Decided": decided,
                            "Counted": {"Type": "Succeed"}}}}}},
                {"StartAt": "Wait For Timer", "States": {
                    "Wait For Timer": {"Type": "Wait", "TimestampPath": "$.next.at",
                                       "Next": "Ask Escalation"},
                    "Ask Escalation": ask("Timer Decided", json!({
                        "Parameters": {"FunctionName": "notify",
                            "Payload": {"token.$": "$$.Task.Token", "who": "escalation"}},
                        "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": null,
                                   "Next": "Wait For Timer"}],
                        "TimeoutSecondsPath": "$.next.remainingSeconds"})),
                    "Timer Decided": decided}}]},
        "Read Decision": read}});
    if hold {
        machine["States"]["Hold"] = json!({"Type": "Task",
            "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Parameters": {"token.$": "$$.Task.Token"}, "End": true});
    }
    def(machine)
}

/// Three reviewers; the timer is due at `timer_at` (ISO-8601).
fn input(timer_at: &str) -> Value {
    json!({"eligible": ["a@x", "b@x", "c@x"],
           "schedule": {"backstopSeconds": 3600, "heartbeatSeconds": 600},
           "next": {"at": timer_at, "remainingSeconds": 60}})
}

/// Task id by who the task asks ("a@x", ..., "escalation"), from a step's effects.
fn asked(step: &Step, who: &str) -> u64 {
    step.tasks()
        .find(|(_, r)| r.parameters["Payload"]["who"] == who)
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("nobody asked {who}"))
}

fn decided(record: Value) -> Value {
    json!({"decided": true, "record": record})
}

/// The failure of one reviewer's iteration cuts the other iterations and the Timers
/// branch sitting in its Wait; the Parallel catches `ReviewDecided` with the cause
/// intact, and the Pass parses it back.
#[test]
fn a_decided_vote_cuts_the_other_reviewers_and_the_timer() {
    let d = review(true);
    let (mut exec, step) = Execution::start(&d, info(input("2024-01-02T00:00:00Z")), T0);
    let (a, b, c) = (
        asked(&step, "a@x"),
        asked(&step, "b@x"),
        asked(&step, "c@x"),
    );
    // The Wait's timer is due at the timestamp; each Ask Reviewer has a timeout and a
    // heartbeat timer.
    let wait_timer = step
        .timers()
        .find(|(_, due)| *due == T0 + 86_400_000)
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("no wait timer in {:?}", step.effects));
    assert_eq!(step.timers().count(), 7);
    for t in [a, b, c] {
        apply(
            &mut exec,
            &d,
            Command::Task {
                task_id: t,
                outcome: TaskOutcome::Submitted(json!({})),
            },
            T0 + 10,
        );
    }

    let record = json!({"decision": "approved", "votes": ["b@x"]});
    let step = apply(
        &mut exec,
        &d,
        success(b, decided(record.clone())),
        T0 + 1_000,
    );
    assert_eq!(
        types(&step.events),
        [
            "TaskSucceeded",
            "TaskStateExited",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "FailStateEntered",
            "MapIterationAborted",
            "TaskStateAborted",
            "MapIterationAborted",
            "TaskStateAborted",
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
        ]
    );
    let ev = &step.events;
    let fail_entered = ev[4].id;
    // The cut iterations, lowest index first, and the failed one.
    assert_eq!(ev[5].details, json!({"index": 0, "name": "Ask Reviewers"}));
    assert_eq!(ev[7].details, json!({"index": 2, "name": "Ask Reviewers"}));
    assert_eq!(ev[9].details, json!({"index": 1, "name": "Ask Reviewers"}));
    // Everything the failure cuts follows the failing event; none becomes the cursor.
    for e in &ev[5..=10] {
        assert_eq!(e.previous_event_id, fail_entered, "{}", e.event_type);
    }
    let map_failed = ev[10].id;
    for e in &ev[11..=13] {
        assert_eq!(e.previous_event_id, map_failed, "{}", e.event_type);
    }
    assert_eq!(ev[14].previous_event_id, ev[13].id);

    // The Catch sees the Fail's Error and Cause, and the Pass parses the Cause.
    let exited = event(ev, "ParallelStateExited");
    let out: Value = serde_json::from_str(exited.details["output"].as_str().unwrap_or("null"))
        .unwrap_or(Value::Null);
    assert_eq!(
        out["ended"],
        json!({"Error": "ReviewDecided", "Cause": "{\"decision\":\"approved\",\"votes\":[\"b@x\"]}"})
    );
    let read = &ev[16];
    let read_out: Value =
        serde_json::from_str(read.details["output"].as_str().unwrap_or("null")).unwrap_or_default();
    assert_eq!(read_out, json!({"record": record}));

    // The cut tasks are gone: their tokens change nothing, success, failure or heartbeat.
    let hold = asked_hold(&step);
    for t in [a, c] {
        assert!(!exec.has_task(t));
        let before = exec.clone();
        for cmd in [
            success(t, decided(json!({}))),
            Command::Task {
                task_id: t,
                outcome: TaskOutcome::Failed {
                    error: "E".into(),
                    cause: "c".into(),
                },
            },
            Command::Heartbeat { task_id: t },
        ] {
            assert_eq!(
                exec.apply(&d, cmd, T0 + 2_000),
                Err(CommandError::UnknownTask)
            );
        }
        assert_eq!(exec, before);
    }
    // A token whose task already succeeded reads the same.
    assert_eq!(
        exec.apply(&d, success(b, json!({})), T0 + 2_000),
        Err(CommandError::UnknownTask)
    );
    // Only Hold is still waited on: no cut timer or task is re-armed after a restart.
    assert_eq!(
        exec.pending(),
        [Pending::Task {
            task_id: hold,
            token: Some(exec.token(hold))
        }]
    );
    // The Wait's timer, should the driver still fire it, is stale.
    let step = apply(
        &mut exec,
        &d,
        Command::Timer {
            timer_id: wait_timer,
        },
        T0 + 86_400_000,
    );
    assert!(step.events.is_empty() && step.effects.is_empty());
    assert_eq!(exec.status, Status::Running);
}

fn asked_hold(step: &Step) -> u64 {
    step.tasks()
        .find(|(_, r)| r.resource.starts_with("arn:aws:states:::sns"))
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("Hold not invoked"))
}

/// The (timeout, heartbeat) timers `task_id` armed in `step`: run_task arms them right
/// before asking for the task.
fn timers_of(step: &Step, task_id: u64) -> (u64, u64) {
    let mut armed = Vec::new();
    for e in &step.effects {
        match e {
            asl_engine::Effect::Timer { timer_id, .. } => armed.push(*timer_id),
            asl_engine::Effect::InvokeTask { task_id: t, .. } if *t == task_id => {
                if let [.., timeout, heartbeat] = armed[..] {
                    return (timeout, heartbeat);
                }
            }
            asl_engine::Effect::InvokeTask { .. } => armed.clear(),
        }
    }
    panic!("task {task_id} armed no timers");
}

/// The Timers branch decides (an escalation answer) while every reviewer still waits:
/// the Reviewers branch is cut with its Map and each iteration.
#[test]
fn a_decided_escalation_cuts_every_waiting_reviewer() {
    let d = review(false);
    // The timer is already due: the Wait exits at once and escalation is asked.
    let (mut exec, step) = Execution::start(&d, info(input("2023-12-31T00:00:00Z")), T0);
    let reviewers = [
        asked(&step, "a@x"),
        asked(&step, "b@x"),
        asked(&step, "c@x"),
    ];
    let escalation = asked(&step, "escalation");
    let record = json!({"decision": "rejected", "by": "escalation"});
    let step = apply(
        &mut exec,
        &d,
        success(escalation, decided(record.clone())),
        T0 + 5,
    );
    assert_eq!(
        types(&step.events),
        [
            "TaskSucceeded",
            "TaskStateExited",
            "FailStateEntered",
            "MapStateAborted",
            "MapIterationAborted",
            "TaskStateAborted",
            "MapIterationAborted",
            "TaskStateAborted",
            "MapIterationAborted",
            "TaskStateAborted",
            "ParallelStateFailed",
            "ParallelStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded",
        ]
    );
    let fail_entered = step.events[2].id;
    for e in &step.events[3..=10] {
        assert_eq!(e.previous_event_id, fail_entered, "{}", e.event_type);
    }
    assert_eq!(exec.status, Status::Succeeded);
    assert_eq!(exec.output, Some(json!({"record": record})));
    for t in reviewers {
        assert_eq!(
            exec.apply(&d, success(t, json!({})), T0 + 6),
            Err(CommandError::NotRunning)
        );
    }
}

/// Two answers arrive before the engine stepped either: the driver applies them one
/// after the other, each iteration moves on its own, and the review is decided once.
#[test]
fn answers_arriving_together_are_applied_in_order_and_decide_once() {
    let d = review(true);
    let (mut exec, step) = Execution::start(&d, info(input("2024-01-02T00:00:00Z")), T0);
    let (a, b, c) = (
        asked(&step, "a@x"),
        asked(&step, "b@x"),
        asked(&step, "c@x"),
    );

    // a's vote counts; c's decides.
    let first = apply(&mut exec, &d, success(a, json!({"decided": false})), T0 + 1);
    assert_eq!(
        types(&first.events),
        [
            "TaskSucceeded",
            "TaskStateExited",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "MapIterationSucceeded",
        ]
    );
    assert!(exec.has_task(b) && exec.has_task(c));
    let second = apply(
        &mut exec,
        &d,
        success(c, decided(json!({"by": "c"}))),
        T0 + 1,
    );
    let t = types(&second.events);
    assert_eq!(t.iter().filter(|e| **e == "MapStateFailed").count(), 1);
    assert_eq!(t.iter().filter(|e| **e == "MapIterationAborted").count(), 1);
    assert_eq!(
        event(&second.events, "MapIterationAborted").details["index"],
        1
    );
    assert_eq!(
        event(&second.events, "MapIterationFailed").details["index"],
        2
    );

    // Both decide: the first one applied wins, the second finds its task cut.
    let (mut exec, step) = Execution::start(&d, info(input("2024-01-02T00:00:00Z")), T0);
    let (a, c) = (asked(&step, "a@x"), asked(&step, "c@x"));
    let won = apply(
        &mut exec,
        &d,
        success(c, decided(json!({"by": "c"}))),
        T0 + 1,
    );
    assert_eq!(
        exec.apply(&d, success(a, decided(json!({"by": "a"}))), T0 + 1),
        Err(CommandError::UnknownTask)
    );
    let read = event(&won.events, "PassStateExited");
    assert_eq!(
        read.details["output"],
        json!({"record": {"by": "c"}}).to_string()
    );
}

/// `ErrorPath` and `CausePath` take reference paths, context paths and intrinsic
/// functions (AWS developer guide, "Fail workflow state": "ErrorPath ... CausePath ...
/// a path or an intrinsic function"; conformance `test_state_fail_intrinsic`).
#[test]
fn fail_takes_paths_and_intrinsics_for_error_and_cause() {
    let cases = [
        (
            json!({"ErrorPath": "$.e", "CausePath": "$.c"}),
            "Named",
            "why",
        ),
        (
            json!({"ErrorPath": "States.Format('Review{}', $.e)",
                   "CausePath": "States.Format('{} of {} voted', $.n, $.m)"}),
            "ReviewNamed",
            "2 of 3 voted",
        ),
        (
            json!({"Error": "ReviewDecided", "CausePath": "States.JsonToString($.record)"}),
            "ReviewDecided",
            r#"{"decision":"approved","votes":["a","b"],"at":null}"#,
        ),
        (
            json!({"ErrorPath": "$$.State.Name", "Cause": "fixed"}),
            "Stop",
            "fixed",
        ),
    ];
    let input = json!({"e": "Named", "c": "why", "n": 2, "m": 3,
                       "record": {"decision": "approved", "votes": ["a", "b"], "at": null}});
    for (fields, error, cause) in cases {
        let mut stop = json!({"Type": "Fail"});
        if let (Some(s), Value::Object(f)) = (stop.as_object_mut(), fields.clone()) {
            s.extend(f);
        }
        let d = def(json!({"StartAt": "Stop", "States": {"Stop": stop}}));
        let (exec, step) = Execution::start(&d, info(input.clone()), T0);
        assert_eq!(exec.status, Status::Failed, "{fields}");
        assert_eq!(exec.error.as_deref(), Some(error), "{fields}");
        assert_eq!(exec.cause.as_deref(), Some(cause), "{fields}");
        assert_eq!(
            event(&step.events, "ExecutionFailed").details,
            json!({"error": error, "cause": cause})
        );
    }
    // A path that finds nothing fails the execution with States.Runtime, uncatchable.
    let d = def(json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
              "Branches": [{"StartAt": "Stop", "States": {
                  "Stop": {"Type": "Fail", "CausePath": "States.JsonToString($.missing)"}}}]},
        "Caught": {"Type": "Succeed"}}}));
    let (exec, _) = Execution::start(&d, info(json!({})), T0);
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.error.as_deref(), Some("States.Runtime"));
}

/// A reviewer's callback task times out after `TimeoutSecondsPath` seconds with
/// `States.Timeout`, and its heartbeat timer (`HeartbeatSecondsPath`) is pushed back by
/// SendTaskHeartbeat and then fires as `States.HeartbeatTimeout`.
#[test]
fn a_reviewer_task_times_out_and_heartbeats() {
    let d = review(false);
    let (mut exec, step) = Execution::start(&d, info(input("2024-01-02T00:00:00Z")), T0);
    let (a, b) = (asked(&step, "a@x"), asked(&step, "b@x"));
    let scheduled = step
        .events
        .iter()
        .find(|e| e.event_type == "TaskScheduled")
        .map(|e| &e.details)
        .cloned()
        .unwrap_or_default();
    assert_eq!(scheduled["timeoutInSeconds"], 3600);
    assert_eq!(scheduled["heartbeatInSeconds"], 600);
    let due: std::collections::HashMap<u64, i64> = step.timers().collect();
    let (a_timeout, _) = timers_of(&step, a);
    let (_, b_heartbeat) = timers_of(&step, b);
    assert_eq!(due[&a_timeout], T0 + 3_600_000);
    assert_eq!(due[&b_heartbeat], T0 + 600_000);

    // A heartbeat re-arms b's heartbeat timer; the old one is stale from then on.
    let beat = apply(
        &mut exec,
        &d,
        Command::Heartbeat { task_id: b },
        T0 + 500_000,
    );
    let renewed: Vec<(u64, i64)> = beat.timers().collect();
    assert_eq!(renewed.len(), 1);
    assert_eq!(renewed[0].1, T0 + 1_100_000);
    let stale = apply(
        &mut exec,
        &d,
        Command::Timer {
            timer_id: b_heartbeat,
        },
        T0 + 600_000,
    );
    assert!(stale.events.is_empty());

    // a's timeout: States.Timeout, not caught by the Parallel (it catches ReviewDecided).
    let step = apply(
        &mut exec,
        &d,
        Command::Timer {
            timer_id: a_timeout,
        },
        T0 + 3_600_000,
    );
    assert_eq!(
        types(&step.events),
        [
            "TaskTimedOut",
            "MapIterationAborted",
            "TaskStateAborted",
            "MapIterationAborted",
            "TaskStateAborted",
            "MapIterationFailed",
            "TaskStateAborted",
            "MapStateFailed",
            "WaitStateAborted",
            "MapStateAborted",
            "ParallelStateFailed",
            "ExecutionFailed",
        ]
    );
    assert_eq!(
        step.events[0].details,
        json!({"resourceType": "lambda", "resource": "invoke.waitForTaskToken",
               "error": "States.Timeout"})
    );
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.error.as_deref(), Some("States.Timeout"));

    // The heartbeat alone: b's renewed heartbeat timer fires first.
    let (mut exec, step) = Execution::start(&d, info(input("2024-01-02T00:00:00Z")), T0);
    let b = asked(&step, "b@x");
    let (_, b_heartbeat) = timers_of(&step, b);
    let step = apply(
        &mut exec,
        &d,
        Command::Timer {
            timer_id: b_heartbeat,
        },
        T0 + 600_000,
    );
    assert_eq!(step.events[0].details["error"], "States.HeartbeatTimeout");
    assert_eq!(exec.error.as_deref(), Some("States.HeartbeatTimeout"));
}

/// The escalation task's `States.Timeout` is caught inside the Timers branch, which
/// loops back to its Wait; a past timestamp exits the Wait at once.
#[test]
fn an_escalation_timeout_loops_back_to_the_timer() {
    let d = review(false);
    let (mut exec, step) = Execution::start(&d, info(input("2023-12-31T00:00:00Z")), T0);
    let escalation = asked(&step, "escalation");
    let due: std::collections::HashMap<u64, i64> = step.timers().collect();
    let timeout = due
        .iter()
        .find(|(_, at)| **at == T0 + 60_000)
        .map(|(id, _)| *id)
        .unwrap_or_else(|| panic!("no 60 s timeout in {due:?}"));
    let step = apply(
        &mut exec,
        &d,
        Command::Timer { timer_id: timeout },
        T0 + 60_000,
    );
    assert_eq!(
        types(&step.events),
        [
            "TaskTimedOut",
            "TaskStateExited",
            "WaitStateEntered",
            "WaitStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
        ]
    );
    assert!(!exec.has_task(escalation));
    assert!(exec.has_task(asked(&step, "escalation")));
    assert_eq!(exec.status, Status::Running);
}

/// The driver keeps only the snapshot: a Timers branch waiting on its `TimestampPath`
/// comes back after a restart waiting on the same timer, which fires once.
#[test]
fn a_branch_timer_survives_a_snapshot_round_trip_and_fires_once() {
    let d = review(false);
    let (exec, step) = Execution::start(&d, info(input("2024-01-01T00:05:00Z")), T0);
    let wait_timer = step
        .timers()
        .find(|(_, due)| *due == T0 + 300_000)
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("no wait timer"));
    let text = serde_json::to_string(&exec).unwrap_or_default();
    let mut exec: Execution =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("snapshot: {e}"));
    assert!(exec.pending().contains(&Pending::Timer(wait_timer)));

    let fired = apply(
        &mut exec,
        &d,
        Command::Timer {
            timer_id: wait_timer,
        },
        T0 + 300_000,
    );
    assert_eq!(
        types(&fired.events),
        [
            "WaitStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted"
        ]
    );
    assert!(!exec.pending().contains(&Pending::Timer(wait_timer)));
    let again = apply(
        &mut exec,
        &d,
        Command::Timer {
            timer_id: wait_timer,
        },
        T0 + 300_001,
    );
    assert!(again.events.is_empty() && again.effects.is_empty());
}
