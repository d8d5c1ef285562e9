//! GIVEN a definition WHEN commands arrive THEN events and effects are what AWS records.
//! Deterministic: a fake clock and an in-memory store, no sleeping.

use super::*;
use crate::ports::{Clock, FakeClock, MemoryStore, Store};

fn def(v: Value) -> Definition {
    match Definition::parse(&v) {
        Ok(d) => d,
        Err(e) => panic!("definition: {e}"),
    }
}

fn info(input: Value) -> ExecInfo {
    ExecInfo {
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:e1".into(),
        name: "e1".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
        state_machine_name: "sm".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        start_ms: 1_700_000_000_000,
        input,
        token_prefix: "tok-".into(),
    }
}

fn types(events: &[HistoryEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

fn invocations(step: &Step) -> Vec<(u64, TaskRequest)> {
    step.tasks().map(|(id, r)| (id, r.clone())).collect()
}

fn timers(step: &Step) -> Vec<(u64, i64)> {
    step.timers().collect()
}

fn apply(exec: &mut Execution, d: &Definition, cmd: Command, now: i64) -> Step {
    match exec.apply(d, cmd, now) {
        Ok(s) => s,
        Err(e) => panic!("apply: {e}"),
    }
}

#[test]
fn pass_chain_records_ids_like_aws() {
    let d = def(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "Next": "B"},
        "B": {"Type": "Succeed"}}}));
    let (exec, step) = Execution::start(&d, info(json!({"in": true})), 0);
    assert_eq!(
        types(&step.events),
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
        ]
    );
    let prev: Vec<u64> = step.events.iter().map(|e| e.previous_event_id).collect();
    assert_eq!(prev, [0, 0, 2, 3, 4, 5]);
    assert_eq!(exec.status, Status::Succeeded);
    assert_eq!(exec.output, Some(json!({"in": true, "r": {"x": 1}})));
}

#[test]
fn wait_arms_a_timer_and_exits_when_it_fires() {
    let clock = FakeClock::new(1_000);
    let d =
        def(json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}));
    let (mut exec, step) = Execution::start(&d, info(json!({})), clock.now_ms());
    assert_eq!(timers(&step), [(1, 6_000)]);
    assert_eq!(exec.status, Status::Running);
    clock.advance(5_000);
    let step = apply(
        &mut exec,
        &d,
        Command::Timer { timer_id: 1 },
        clock.now_ms(),
    );
    assert_eq!(
        types(&step.events),
        ["WaitStateExited", "ExecutionSucceeded"]
    );
    assert_eq!(exec.status, Status::Succeeded);
}

#[test]
fn jsonata_callback_task_assigns_variables_and_shapes_its_output() {
    // GIVEN a JSONata machine whose Task builds its message with Arguments, keeps
    // part of the answer in a variable, and a later state reads it.
    let d = def(
        json!({"QueryLanguage": "JSONata", "StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Arguments": {"Message": {"token": "{% $states.context.Task.Token %}",
                                      "id": "{% $states.input.id %}"}},
            "TimeoutSeconds": "{% $states.input.wait %}",
            "Assign": {"answer": "{% $states.result.approved %}"},
            "Output": {"id": "{% $states.input.id %}"},
            "Next": "Done"},
        "Done": {"Type": "Pass", "Output": {"id": "{% $states.input.id %}", "approved": "{% $answer %}"}, "End": true}}}),
    );
    let (mut exec, step) = Execution::start(&d, info(json!({"id": 7, "wait": 60})), 0);
    let calls = invocations(&step);
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].1.parameters,
        json!({"Message": {"token": crate::token::task_token("tok-", calls[0].0), "id": 7}})
    );
    assert_eq!(timers(&step), [(1, 60_000)]);
    // WHEN the answer arrives
    let step = apply(
        &mut exec,
        &d,
        Command::Task {
            task_id: calls[0].0,
            outcome: TaskOutcome::Succeeded(json!({"approved": true})),
        },
        1,
    );
    // THEN the exit event records the assignment and the next state reads it.
    let exited = step
        .events
        .iter()
        .find(|e| e.event_type == "TaskStateExited")
        .map(|e| e.details.clone());
    assert_eq!(
        exited.as_ref().and_then(|d| d.get("assignedVariables")),
        Some(&json!({"answer": "true"}))
    );
    assert_eq!(exec.output, Some(json!({"id": 7, "approved": true})));
}

#[test]
fn map_iterations_read_outer_variables_and_keep_their_own() {
    // GIVEN an outer variable and a Map whose iterations assign another one
    let d = def(json!({"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"x": 1}, "Next": "Map"},
        "Map": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "In", "States": {
            "In": {"Type": "Pass", "Assign": {"inner.$": "$x", "x": 99}, "Parameters": {"seen.$": "$x"}, "End": true}}},
            "Next": "After"},
        "After": {"Type": "Pass", "QueryLanguage": "JSONata",
            "Output": {"x": "{% $x %}", "inner": "{% $exists($inner) %}", "r": "{% $states.input %}"}, "End": true}}}));
    let (exec, _) = Execution::start(&d, info(json!({"items": [1, 2]})), 0);
    // THEN the iterations saw x = 1, and neither x = 99 nor `inner` leaked out.
    assert_eq!(exec.status, Status::Succeeded);
    assert_eq!(
        exec.output,
        Some(json!({"x": 1, "inner": false, "r": [{"seen": 1}, {"seen": 1}]}))
    );
}

#[test]
fn a_failed_jsonata_expression_records_evaluation_failed_and_can_be_caught() {
    let d = def(
        json!({"QueryLanguage": "JSONata", "StartAt": "Bad", "States": {
        "Bad": {"Type": "Parallel", "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}],
            "Output": {"v": "{% $nope %}"},
            "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Handled",
                       "Output": {"error": "{% $states.errorOutput.Error %}"}}],
            "End": true},
        "Handled": {"Type": "Succeed"}}}),
    );
    let (exec, step) = Execution::start(&d, info(json!({})), 0);
    let failed = step
        .events
        .iter()
        .find(|e| e.event_type == "EvaluationFailed")
        .map(|e| e.details.clone());
    assert_eq!(
        failed.as_ref().and_then(|d| d.get("location")),
        Some(&json!("Output/v"))
    );
    assert_eq!(exec.status, Status::Succeeded);
    assert_eq!(
        exec.output,
        Some(json!({"error": "States.QueryEvaluationError"}))
    );
}

#[test]
fn evaluation_failed_after_a_task_result_follows_it() {
    let d = def(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
              "Output": "{% $states.result.missing %}", "End": true}}}),
    );
    let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
    let task_id = invocations(&step)[0].0;
    let step = apply(
        &mut exec,
        &d,
        Command::Task {
            task_id,
            outcome: TaskOutcome::Succeeded(json!({"MessageId": "m"})),
        },
        1,
    );
    assert_eq!(
        types(&step.events),
        ["TaskSucceeded", "EvaluationFailed", "ExecutionFailed"]
    );
    assert_eq!(step.events[1].previous_event_id, step.events[0].id);
    assert_eq!(exec.error.as_deref(), Some("States.QueryEvaluationError"));
}

#[test]
fn an_oversized_variable_fails_the_state() {
    let d = def(
        json!({"QueryLanguage": "JSONata", "StartAt": "Big", "States": {
        "Big": {"Type": "Pass", "Assign": {"big": "{% $pad('', 300000, 'x') %}"}, "End": true}}}),
    );
    let (exec, _) = Execution::start(&d, info(json!({})), 0);
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.error.as_deref(), Some("States.Runtime"));
}

#[test]
fn callback_task_survives_a_snapshot_round_trip() {
    let store = MemoryStore::default();
    let d = def(json!({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
        "Parameters": {"Message": {"token.$": "$$.Task.Token"}},
        "ResultPath": "$.decision", "End": true}}}));
    let (exec, step) = Execution::start(&d, info(json!({"id": 7})), 0);
    let calls = invocations(&step);
    assert_eq!(calls.len(), 1);
    let (task_id, req) = &calls[0];
    let token = crate::token::task_token("tok-", *task_id);
    assert_eq!(req.task_token.as_deref(), Some(token.as_str()));
    assert_eq!(req.parameters, json!({"Message": {"token": token}}));
    assert!(store.save("e1", &exec, &step.events).is_ok());

    // The driver restarts: only the stored snapshot is left.
    let mut exec = match store.load("e1") {
        Ok(Some(e)) => e,
        other => panic!("load: {other:?}"),
    };
    let step = apply(
        &mut exec,
        &d,
        Command::Task {
            task_id: *task_id,
            outcome: TaskOutcome::Submitted(json!({"MessageId": "m"})),
        },
        1,
    );
    assert_eq!(types(&step.events), ["TaskSubmitted"]);
    let step = apply(
        &mut exec,
        &d,
        Command::Task {
            task_id: *task_id,
            outcome: TaskOutcome::Succeeded(json!({"approved": true})),
        },
        2,
    );
    assert_eq!(
        types(&step.events),
        ["TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    );
    assert_eq!(
        exec.output,
        Some(json!({"id": 7, "decision": {"approved": true}}))
    );
    assert_eq!(
        exec.apply(&d, Command::Heartbeat { task_id: *task_id }, 3),
        Err(CommandError::NotRunning)
    );
}

#[test]
fn task_timeout_is_caught_as_states_timeout() {
    let d = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
              "TimeoutSeconds": 2, "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}], "End": true},
        "Late": {"Type": "Pass", "End": true}}}));
    let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
    assert_eq!(timers(&step), [(1, 2_000)]);
    let step = apply(&mut exec, &d, Command::Timer { timer_id: 1 }, 2_000);
    assert_eq!(
        types(&step.events),
        [
            "TaskTimedOut",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(exec.output, Some(json!({"Error": "States.Timeout"})));
}

#[test]
fn retry_waits_with_backoff_then_runs_again() {
    let d = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
              "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2}],
              "End": true}}}));
    let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
    let (task, _) = invocations(&step)[0].clone();
    let fail = |task_id| Command::Task {
        task_id,
        outcome: TaskOutcome::Failed {
            error: "Boom".into(),
            cause: "c".into(),
        },
    };
    assert_eq!(
        types(&step.events),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted"
        ]
    );
    let step = apply(&mut exec, &d, fail(task), 10);
    assert_eq!(types(&step.events), ["LambdaFunctionFailed"]);
    assert_eq!(timers(&step), [(1, 2_010)]);
    let step = apply(&mut exec, &d, Command::Timer { timer_id: 1 }, 2_010);
    let (task, _) = invocations(&step)[0].clone();
    let step = apply(&mut exec, &d, fail(task), 3_000);
    assert_eq!(timers(&step), [(2, 9_000)]);
    let step = apply(&mut exec, &d, Command::Timer { timer_id: 2 }, 9_000);
    let (task, _) = invocations(&step)[0].clone();
    let step = apply(&mut exec, &d, fail(task), 9_500);
    assert_eq!(types(&step.events).last(), Some(&"ExecutionFailed"));
    assert_eq!(exec.error.as_deref(), Some("Boom"));
}

#[test]
fn parallel_branches_wait_on_their_own_tokens() {
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken", "End": true});
    let d = def(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": task}},
        {"StartAt": "B", "States": {"B": task}}]}}}),
    );
    let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
    let calls = invocations(&step);
    assert_eq!(calls.len(), 2);
    // Finish the second branch first: results still follow branch order.
    for (task_id, v) in [(calls[1].0, json!("b")), (calls[0].0, json!("a"))] {
        apply(
            &mut exec,
            &d,
            Command::Task {
                task_id,
                outcome: TaskOutcome::Succeeded(v),
            },
            5,
        );
    }
    assert_eq!(exec.status, Status::Succeeded);
    assert_eq!(exec.output, Some(json!(["a", "b"])));
}

#[test]
fn map_iteration_failure_fails_the_map_and_the_execution() {
    let d = def(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}}}}),
    );
    let (exec, step) = Execution::start(&d, info(json!([1])), 0);
    assert_eq!(
        types(&step.events),
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapIterationStarted",
            "FailStateEntered",
            "MapIterationFailed",
            "MapStateFailed",
            "ExecutionFailed"
        ]
    );
    // MapStateFailed follows the iteration's last state event, as AWS records it.
    assert_eq!(step.events[6].previous_event_id, 5);
    assert_eq!(exec.status, Status::Failed);
}

#[test]
fn map_runs_callback_tasks_with_max_concurrency() {
    let d = def(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1, "End": true,
        "ItemSelector": {"item.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
        "ItemProcessor": {"StartAt": "Ask", "States": {"Ask": {
            "Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Parameters": {"token.$": "$$.Task.Token", "item.$": "$.item"},
            "ResultSelector": {"who.$": "$.who"}, "End": true}}}}}}),
    );
    let (mut exec, step) = Execution::start(&d, info(json!(["a", "b"])), 0);
    let first = invocations(&step);
    assert_eq!(
        first.len(),
        1,
        "MaxConcurrency 1 runs one iteration at a time"
    );
    assert_eq!(first[0].1.parameters["item"], json!("a"));
    let step = apply(
        &mut exec,
        &d,
        Command::Task {
            task_id: first[0].0,
            outcome: TaskOutcome::Succeeded(json!({"who": "ann"})),
        },
        1,
    );
    let second = invocations(&step);
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].1.parameters["item"], json!("b"));
    assert_ne!(second[0].1.task_token, first[0].1.task_token);
    apply(
        &mut exec,
        &d,
        Command::Task {
            task_id: second[0].0,
            outcome: TaskOutcome::Succeeded(json!({"who": "bob"})),
        },
        2,
    );
    assert_eq!(exec.output, Some(json!([{"who": "ann"}, {"who": "bob"}])));
}

#[test]
fn an_endless_loop_stops_at_the_history_limit() {
    let d = def(json!({"StartAt": "Loop", "States": {
        "Loop": {"Type": "Pass", "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.spin", "BooleanEquals": true, "Next": "Loop"}], "Default": "Done"},
        "Done": {"Type": "Succeed"}}}));
    let (exec, step) = Execution::start(&d, info(json!({"spin": true})), 0);
    assert_eq!(exec.status, Status::Failed);
    let last = step.events.last().cloned();
    assert_eq!(
        last.as_ref().map(|e| (e.id, e.previous_event_id)),
        Some((25_000, 24_999))
    );
    assert_eq!(
        last.map(|e| e.event_type),
        Some("ExecutionFailed".to_owned())
    );
    assert_eq!(exec.cause.as_deref(), Some(HISTORY_LIMIT_CAUSE));
}

#[test]
fn parallel_inside_map_with_catch_resumes_from_snapshots() {
    // Each item needs two approvals (a Parallel of two callback tasks); a rejection
    // is caught per item. The snapshot is serialised between every command.
    let ask = json!({"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
        "Parameters": {"token.$": "$$.Task.Token"}, "End": true});
    let d = def(
        json!({"StartAt": "Items", "States": {"Items": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "Both", "States": {
            "Both": {"Type": "Parallel", "Next": "Ok",
                "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "No"}],
                "Branches": [{"StartAt": "A", "States": {"A": ask}}, {"StartAt": "B", "States": {"B": ask}}]},
            "Ok": {"Type": "Pass", "Result": "approved", "End": true},
            "No": {"Type": "Pass", "InputPath": "$.rejection.Error", "End": true}}}}}}),
    );
    let (exec, step) = Execution::start(&d, info(json!([{"n": 1}, {"n": 2}])), 0);
    let mut exec = exec;
    let mut pending: Vec<u64> = invocations(&step).iter().map(|(id, _)| *id).collect();
    assert_eq!(pending.len(), 4, "two items x two branches wait at once");
    // Item 0: both approve. Item 1: first branch rejects.
    let outcomes = [
        (pending[0], TaskOutcome::Succeeded(json!("yes"))),
        (
            pending[2],
            TaskOutcome::Failed {
                error: "Rejected".into(),
                cause: "no".into(),
            },
        ),
        (pending[1], TaskOutcome::Succeeded(json!("yes"))),
    ];
    for (now, (task_id, outcome)) in (1..).zip(outcomes) {
        let text = serde_json::to_string(&exec).unwrap_or_default();
        exec = serde_json::from_str(&text).unwrap_or_else(|e| panic!("snapshot: {e}"));
        apply(&mut exec, &d, Command::Task { task_id, outcome }, now);
    }
    pending.clear();
    assert_eq!(exec.status, Status::Succeeded);
    assert_eq!(exec.output, Some(json!(["approved", "Rejected"])));
    // The aborted sibling's token is no longer valid.
    assert!(!exec.has_task(4));
}

#[test]
fn item_batcher_groups_selected_items() {
    let d = def(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemSelector": {"v.$": "$$.Map.Item.Value"},
        "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"b": true}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
    );
    let (exec, step) = Execution::start(&d, info(json!([1, 2, 3])), 0);
    assert_eq!(
        exec.output,
        Some(json!([
            {"BatchInput": {"b": true}, "Items": [{"v": 1}, {"v": 2}]},
            {"BatchInput": {"b": true}, "Items": [{"v": 3}]}
        ]))
    );
    assert!(types(&step.events).contains(&"MapRunSucceeded"));
}

#[test]
fn stop_aborts_a_waiting_execution() {
    let d =
        def(json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}));
    let (mut exec, _) = Execution::start(&d, info(json!({})), 0);
    let step = apply(
        &mut exec,
        &d,
        Command::Stop {
            error: Some("E".into()),
            cause: None,
        },
        1,
    );
    assert_eq!(types(&step.events), ["ExecutionAborted"]);
    assert_eq!(step.events[0].previous_event_id, 0);
    assert_eq!(step.events[0].details, json!({"error": "E"}));
    assert_eq!(exec.status, Status::Aborted);
    assert!(exec.pending().is_empty());
}

#[test]
fn execution_timeout_times_out() {
    let d = def(
        json!({"TimeoutSeconds": 1, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}),
    );
    let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
    assert_eq!(timers(&step).len(), 2);
    let step = apply(&mut exec, &d, Command::Timer { timer_id: 1 }, 1_000);
    assert_eq!(types(&step.events), ["ExecutionTimedOut"]);
    assert_eq!(step.events[0].previous_event_id, 0);
    assert_eq!(exec.status, Status::TimedOut);
    assert_eq!(exec.error, None);
}

/// Found while writing the `definition_structured` fuzz target: due times were
/// `now + secs * 1000` in plain i64 arithmetic, which overflows (a panic in debug
/// builds, a timer in the past in release builds) for huge but valid waits, timeouts
/// and retry delays.
#[test]
fn zero_delay_retries_hand_over_to_the_timer_instead_of_recursing() {
    // Found by fuzzing (docs/fuzzing.md): each immediate retry recursed,
    // so a huge MaxAttempts overflowed the stack within one step.
    let now = 1_700_000_000_000;
    let retry = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"x.$": "States.ArrayGetItem($.c, 5)"},
              "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 0,
                         "MaxAttempts": 99999999}],
              "End": true}}}));
    let (exec, step) = Execution::start(&retry, info(json!({"c": [1]})), now);
    assert_eq!(exec.status, Status::Running);
    // The remaining retries wait on a timer that is already due.
    assert!(
        timers(&step).iter().any(|(_, due)| *due <= now),
        "{:?}",
        timers(&step)
    );
}

#[test]
fn huge_durations_saturate_instead_of_overflowing() {
    let now = 1_700_000_000_000;
    let wait_path = def(json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}}));
    let (_, step) = Execution::start(&wait_path, info(json!({"s": i64::MAX})), now);
    assert_eq!(timers(&step), [(1, i64::MAX)]);

    let wait = def(json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1e300, "End": true}}}));
    let (_, step) = Execution::start(&wait, info(json!({})), now);
    assert_eq!(timers(&step), [(1, i64::MAX)]);

    let timeout = def(json!({"StartAt": "W", "TimeoutSeconds": 1e17, "States": {
        "W": {"Type": "Succeed"}}}));
    let (exec, _) = Execution::start(&timeout, info(json!({})), now);
    assert_eq!(exec.status, Status::Succeeded);

    let task = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
              "TimeoutSeconds": 1e300, "HeartbeatSeconds": 1e299, "End": true}}}));
    let (mut exec, step) = Execution::start(&task, info(json!({})), now);
    assert_eq!(timers(&step), [(1, i64::MAX), (2, i64::MAX)]);
    let step = apply(&mut exec, &task, Command::Heartbeat { task_id: 1 }, now);
    assert!(timers(&step).iter().all(|(_, due)| *due > now));

    let retry = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1e300,
                         "BackoffRate": 1e300}],
              "End": true}}}));
    let (mut exec, _) = Execution::start(&retry, info(json!({})), now);
    let failed = TaskOutcome::Failed {
        error: "E".into(),
        cause: String::new(),
    };
    let outcome = Command::Task {
        task_id: 1,
        outcome: failed,
    };
    let step = apply(&mut exec, &retry, outcome, now);
    assert_eq!(timers(&step), [(1, i64::MAX)]);
}

/// A valid three-state loop that wraps its input once per turn overflowed the stack
/// (serialising the ever deeper payload) before the history limit could end it.
#[test]
fn a_payload_nesting_loop_fails_instead_of_overflowing_the_stack() {
    let d = def(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"a.$": "$"}, "Next": "C"},
        "C": {"Type": "Choice", "Default": "P",
              "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "E"}]},
        "E": {"Type": "Succeed"}}}));
    let (exec, step) = Execution::start(&d, info(json!({})), 0);
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.error.as_deref(), Some("States.DataLimitExceeded"));
    assert_eq!(
        exec.cause.as_deref(),
        Some("The state/task 'P' returned a result nested deeper than 100 levels.")
    );
    // `{}` is one level: 99 turns of Pass and Choice (entered, exited), then the
    // failing Pass (entered) and ExecutionFailed.
    assert_eq!(step.events.len(), 1 + 99 * 4 + 2);
}

#[test]
fn nesting_depth_counts_containers_only() {
    let mut v = json!(1);
    for _ in 0..MAX_PAYLOAD_DEPTH {
        v = json!({"a": [v]});
    }
    assert!(nested_deeper_than(&v, 2 * MAX_PAYLOAD_DEPTH - 1));
    assert!(!nested_deeper_than(&v, 2 * MAX_PAYLOAD_DEPTH));
    assert!(!nested_deeper_than(&json!("scalar"), 0));
    assert!(nested_deeper_than(&json!([]), 0));
}

// RedriveExecution: the restart rules of the developer guide's per-state table
// ("Restarting state machine executions with redrive").

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

fn fail_task(task_id: u64) -> Command {
    Command::Task {
        task_id,
        outcome: TaskOutcome::Failed {
            error: "Boom".into(),
            cause: "c".into(),
        },
    }
}

fn succeed_task(task_id: u64, v: Value) -> Command {
    Command::Task {
        task_id,
        outcome: TaskOutcome::Succeeded(v),
    }
}

fn redrive(exec: &mut Execution, d: &Definition, now: i64) -> Step {
    match exec.redrive(d, now) {
        Ok(s) => s,
        Err(r) => panic!("redrive refused: {r}"),
    }
}

/// The states a step entered, by name.
fn entered(step: &Step) -> Vec<String> {
    step.events
        .iter()
        .filter(|e| e.event_type.ends_with("StateEntered"))
        .filter_map(|e| e.details["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn redrive_reruns_the_failed_task_and_not_the_states_before_it() {
    let d = def(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"from": "A"}, "ResultPath": "$.a", "Next": "T"},
        "T": {"Type": "Task", "Resource": LAMBDA,
              "Parameters": {"a.$": "$.a", "count.$": "$$.Execution.RedriveCount"},
              "ResultPath": "$.t", "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"time.$": "$$.Execution.RedriveTime",
              "count.$": "$$.Execution.RedriveCount"}, "End": true}}}));
    let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
    let calls = invocations(&step);
    assert_eq!(calls[0].1.parameters["count"], json!(0));
    assert_eq!(exec.redrive_refusal(5), Some(reason::RUNNING));
    let step = apply(&mut exec, &d, fail_task(calls[0].0), 10);
    assert_eq!(types(&step.events).last(), Some(&"ExecutionFailed"));
    assert_eq!(exec.redrive_refusal(20), None);
    let last = exec.event_count();

    let step = redrive(&mut exec, &d, 1_000);
    assert_eq!(exec.status, Status::Running);
    assert_eq!(exec.redrive_count, 1);
    assert_eq!(exec.error, None);
    assert_eq!(exec.stop_ms, None);
    let first = &step.events[0];
    assert_eq!(first.event_type, "ExecutionRedriven");
    assert_eq!(first.id, last + 1, "event ids continue");
    assert_eq!(first.previous_event_id, last);
    assert_eq!(first.details, json!({"redriveCount": 1}));
    assert_eq!(
        entered(&step),
        ["T"],
        "the Pass before the Task does not run again"
    );
    let again = invocations(&step);
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].0, calls[0].0, "a new task id");
    assert_eq!(
        again[0].1.parameters,
        json!({"a": {"from": "A"}, "count": 1})
    );
    assert_eq!(exec.redrive_refusal(1_001), Some(reason::RUNNING));

    let step = apply(&mut exec, &d, succeed_task(again[0].0, json!("ok")), 2_000);
    assert_eq!(entered(&step), ["B"]);
    assert_eq!(exec.status, Status::Succeeded);
    assert_eq!(
        exec.output,
        Some(json!({"time": "1970-01-01T00:00:01.000Z", "count": 1}))
    );
    assert_eq!(exec.redrive_refusal(3_000), Some(reason::SUCCEEDED));
    assert_eq!(exec.redrive(&d, 3_000), Err(reason::SUCCEEDED));
}

#[test]
fn redrive_gives_the_retriers_all_their_attempts_again() {
    let d = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": LAMBDA,
              "Parameters": {"retry.$": "$$.State.RetryCount"},
              "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 0, "MaxAttempts": 2}],
              "End": true}}}));
    // Fails every attempt; returns the RetryCount each attempt saw.
    let exhaust = |exec: &mut Execution, step: Step, now: i64| -> Vec<Value> {
        let mut seen = Vec::new();
        let mut step = step;
        while let Some((id, req)) = invocations(&step).first().cloned() {
            seen.push(req.parameters["retry"].clone());
            step = apply(exec, &d, fail_task(id), now);
        }
        seen
    };
    let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
    assert_eq!(exhaust(&mut exec, step, 1), [json!(0), json!(1), json!(2)]);
    assert_eq!(exec.status, Status::Failed);
    let step = redrive(&mut exec, &d, 100);
    assert_eq!(
        exhaust(&mut exec, step, 101),
        [json!(0), json!(1), json!(2)],
        "the retry count starts again at 0 and MaxAttempts applies in full"
    );
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.redrive_count, 1);
}

#[test]
fn redrive_of_a_parallel_reruns_only_the_failed_branch() {
    let d = def(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
        {"StartAt": "B1", "States": {
            "B1": {"Type": "Pass", "Result": {"b1": true}, "Next": "B2"},
            "B2": {"Type": "Task", "Resource": LAMBDA, "End": true}}},
        {"StartAt": "C", "States": {"C": {"Type": "Task", "Resource": LAMBDA, "End": true}}}]}}}),
    );
    let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
    let calls = invocations(&step);
    assert_eq!(calls.len(), 2);
    let (b2, c) = (calls[0].0, calls[1].0);
    apply(&mut exec, &d, succeed_task(c, json!("c")), 1);
    let step = apply(&mut exec, &d, fail_task(b2), 2);
    assert_eq!(types(&step.events).last(), Some(&"ExecutionFailed"));

    let step = redrive(&mut exec, &d, 10);
    assert_eq!(
        entered(&step),
        ["B2"],
        "only the failed branch, from its failed state"
    );
    let again = invocations(&step);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1.parameters, json!({"b1": true}));
    apply(&mut exec, &d, succeed_task(again[0].0, json!("b")), 11);
    assert_eq!(exec.status, Status::Succeeded);
    assert_eq!(exec.output, Some(json!(["a", "b", "c"])));
}

#[test]
fn redrive_of_a_parallel_reruns_the_branches_the_failure_aborted() {
    let task = json!({"Type": "Task", "Resource": LAMBDA, "End": true});
    let d = def(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": task}},
        {"StartAt": "B", "States": {"B": task}}]}}}),
    );
    let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
    let calls = invocations(&step);
    let step = apply(&mut exec, &d, fail_task(calls[0].0), 1);
    assert!(types(&step.events).contains(&"TaskStateAborted"));
    let step = redrive(&mut exec, &d, 10);
    assert_eq!(entered(&step), ["A", "B"]);
    let again = invocations(&step);
    apply(&mut exec, &d, succeed_task(again[0].0, json!(1)), 11);
    apply(&mut exec, &d, succeed_task(again[1].0, json!(2)), 12);
    assert_eq!(exec.output, Some(json!([1, 2])));
}

#[test]
fn redrive_of_a_map_reruns_only_the_failed_iterations() {
    let d = def(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA,
            "Parameters": {"item.$": "$"}, "End": true}}}}}}),
    );
    let (mut exec, step) = Execution::start(&d, info(json!(["x", "y", "z"])), 0);
    let calls = invocations(&step);
    assert_eq!(calls.len(), 3);
    apply(&mut exec, &d, succeed_task(calls[0].0, json!("X")), 1);
    apply(&mut exec, &d, succeed_task(calls[2].0, json!("Z")), 2);
    apply(&mut exec, &d, fail_task(calls[1].0), 3);
    assert_eq!(exec.status, Status::Failed);

    let step = redrive(&mut exec, &d, 10);
    let again = invocations(&step);
    assert_eq!(again.len(), 1, "iterations 0 and 2 keep their output");
    assert_eq!(again[0].1.parameters, json!({"item": "y"}));
    apply(&mut exec, &d, succeed_task(again[0].0, json!("Y")), 11);
    assert_eq!(exec.output, Some(json!(["X", "Y", "Z"])));
}

#[test]
fn redrive_starts_the_iterations_a_failure_left_unstarted() {
    let d = def(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1, "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA,
            "End": true}}}}}}),
    );
    let (mut exec, step) = Execution::start(&d, info(json!([1, 2, 3])), 0);
    let first = invocations(&step);
    let step = apply(&mut exec, &d, succeed_task(first[0].0, json!(10)), 1);
    let second = invocations(&step);
    apply(&mut exec, &d, fail_task(second[0].0), 2);
    assert_eq!(exec.status, Status::Failed);
    let step = redrive(&mut exec, &d, 10);
    let calls = invocations(&step);
    assert_eq!(calls.len(), 1, "MaxConcurrency still holds");
    assert_eq!(calls[0].1.parameters, json!(2));
    let step = apply(&mut exec, &d, succeed_task(calls[0].0, json!(20)), 11);
    let calls = invocations(&step);
    assert_eq!(calls[0].1.parameters, json!(3));
    apply(&mut exec, &d, succeed_task(calls[0].0, json!(30)), 12);
    assert_eq!(exec.output, Some(json!([10, 20, 30])));
}

#[test]
fn redrive_reenters_a_fail_state_and_fails_again() {
    let d = def(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "F"},
        "F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}));
    let (mut exec, _) = Execution::start(&d, info(json!({})), 0);
    assert_eq!(exec.status, Status::Failed);
    let step = redrive(&mut exec, &d, 10);
    assert_eq!(
        types(&step.events),
        ["ExecutionRedriven", "FailStateEntered", "ExecutionFailed"]
    );
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.redrive_count, 1);
    let step = redrive(&mut exec, &d, 20);
    assert_eq!(step.events[0].details, json!({"redriveCount": 2}));
}

#[test]
fn redrive_of_a_timed_out_execution_restarts_its_clock_and_the_open_states() {
    let d = def(json!({"StartAt": "T", "TimeoutSeconds": 5, "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
              "Parameters": {"token.$": "$$.Task.Token"}, "End": true}}}));
    let (mut exec, step) = Execution::start(&d, info(json!({})), 0);
    let (timer, due) = timers(&step)[0];
    assert_eq!(due, 5_000);
    let old = invocations(&step)[0].clone();
    apply(&mut exec, &d, Command::Timer { timer_id: timer }, due);
    assert_eq!(exec.status, Status::TimedOut);
    assert_eq!(exec.redrive_refusal(due + 1), None);

    let step = redrive(&mut exec, &d, 60_000);
    let t = timers(&step);
    assert_eq!(t.len(), 1);
    assert_eq!(
        t[0].1, 65_000,
        "the execution timeout counts from the redrive"
    );
    let new = invocations(&step)[0].clone();
    assert_ne!(new.1.task_token, old.1.task_token, "a new task token");
    assert!(!exec.has_task(old.0), "the old token stays dead");
    apply(&mut exec, &d, succeed_task(new.0, json!("ok")), 61_000);
    assert_eq!(exec.status, Status::Succeeded);
}

#[test]
fn redrive_of_an_aborted_execution_reenters_its_wait() {
    let d =
        def(json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}));
    let (mut exec, _) = Execution::start(&d, info(json!({"k": 1})), 0);
    apply(
        &mut exec,
        &d,
        Command::Stop {
            error: None,
            cause: None,
        },
        1,
    );
    assert_eq!(exec.status, Status::Aborted);
    let step = redrive(&mut exec, &d, 100);
    assert_eq!(entered(&step), ["W"]);
    assert_eq!(
        timers(&step),
        [(2, 5_100)],
        "the Wait waits its full time again"
    );
}

#[test]
fn redrive_is_refused_after_14_days_and_past_the_event_limit() {
    let d = def(json!({"StartAt": "F", "States": {"F": {"Type": "Fail"}}}));
    let (exec, _) = Execution::start(&d, info(json!({})), 0);
    let stop = exec.stop_ms.unwrap_or_default();
    assert_eq!(exec.redrive_refusal(stop + REDRIVE_PERIOD_MS), None);
    assert_eq!(
        exec.redrive_refusal(stop + REDRIVE_PERIOD_MS + 1),
        Some(reason::PERIOD)
    );
    let looping = def(json!({"StartAt": "Loop", "States": {
        "Loop": {"Type": "Pass", "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.spin", "BooleanEquals": true, "Next": "Loop"}], "Default": "Done"},
        "Done": {"Type": "Succeed"}}}));
    let (mut exec, _) = Execution::start(&looping, info(json!({"spin": true})), 0);
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.redrive_refusal(1), Some(reason::EVENT_LIMIT));
    assert_eq!(exec.redrive(&looping, 1), Err(reason::EVENT_LIMIT));
}

#[test]
fn a_redrive_point_survives_a_snapshot_round_trip() {
    let d = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": LAMBDA, "End": true}}}));
    let (mut exec, step) = Execution::start(&d, info(json!({"in": 1})), 0);
    let id = invocations(&step)[0].0;
    apply(&mut exec, &d, fail_task(id), 1);
    let text = serde_json::to_string(&exec).unwrap_or_default();
    let mut back: Execution = match serde_json::from_str(&text) {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    };
    let step = redrive(&mut back, &d, 5);
    assert_eq!(invocations(&step)[0].1.parameters, json!({"in": 1}));
    // Snapshots written before redrive existed still read.
    let mut old: Value = serde_json::from_str(&text).unwrap_or_default();
    if let Some(o) = old.as_object_mut() {
        o.remove("redrive");
        o.remove("redrive_count");
        o.remove("redrive_ms");
    }
    let old: Execution = match serde_json::from_value(old) {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(old.redrive_refusal(5), Some(reason::BEFORE_LAUNCH));
}
