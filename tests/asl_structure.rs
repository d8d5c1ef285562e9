//! The state machine's structure, read from the ASL file.
//!
//! These assert the contract of `statemachine/human_in_the_loop.asl.json`
//! (docs/approval-policies.md): the state names, paths and payloads that the
//! functions, `hitl` and the review page rely on. How it behaves is tested by
//! running it: `tests/jsonata_machine.rs` on the engine, and end to end in
//! `crates/hitl/tests/`.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use workflow_tests::{asl, placeholders, read};

fn targets(state: &Value) -> Vec<String> {
    let mut next: Vec<String> = Vec::new();
    for key in ["Next", "Default"] {
        if let Some(target) = state[key].as_str() {
            next.push(target.to_owned());
        }
    }
    for list in ["Choices", "Catch"] {
        for entry in state[list].as_array().into_iter().flatten() {
            next.extend(entry["Next"].as_str().map(str::to_owned));
        }
    }
    next
}

/// Every state list of the machine: the top level, each Parallel branch and
/// each Map's item processor, with a name for messages.
fn state_lists(scope: &str, machine: &Value, out: &mut Vec<(String, Value)>) {
    out.push((scope.to_owned(), machine.clone()));
    for (name, state) in machine["States"].as_object().unwrap() {
        for (i, branch) in state["Branches"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            state_lists(&format!("{scope} > {name} branch {i}"), branch, out);
        }
        if state["ItemProcessor"].is_object() {
            state_lists(&format!("{scope} > {name}"), &state["ItemProcessor"], out);
        }
    }
}

/// A state by name, wherever it is nested (names are unique in this machine).
fn state(name: &str) -> Value {
    let mut lists = Vec::new();
    state_lists("machine", &asl(), &mut lists);
    let found: Vec<Value> = lists
        .iter()
        .filter_map(|(_, list)| list["States"].get(name).cloned())
        .collect();
    assert_eq!(found.len(), 1, "state {name} must exist exactly once");
    found.into_iter().next().unwrap()
}

#[test]
fn every_state_is_reachable_and_every_transition_lands() {
    let mut lists = Vec::new();
    state_lists("machine", &asl(), &mut lists);
    assert!(
        lists.len() >= 4,
        "machine, two branches, one item processor"
    );
    for (scope, list) in lists {
        let states = list["States"].as_object().unwrap();
        let mut seen = BTreeSet::new();
        let mut todo = vec![list["StartAt"].as_str().unwrap().to_owned()];
        while let Some(name) = todo.pop() {
            let state = states
                .get(&name)
                .unwrap_or_else(|| panic!("{scope}: transition to missing state {name}"));
            if seen.insert(name) {
                todo.extend(targets(state));
            }
        }
        let all: BTreeSet<String> = states.keys().cloned().collect();
        assert_eq!(seen, all, "{scope}: unreachable states");
    }
}

#[test]
fn the_input_is_wrapped_so_any_json_works_and_the_policy_is_opened_first() {
    let prepare = state("Prepare Review");
    assert_eq!(asl()["StartAt"], "Prepare Review");
    assert_eq!(prepare["Type"], "Pass");
    assert_eq!(prepare["Parameters"]["request.$"], "$");
    assert_eq!(prepare["Next"], "Open Review");

    let open = state("Open Review");
    assert_eq!(open["Resource"], "arn:aws:states:::lambda:invoke");
    assert_eq!(
        open["Parameters"]["FunctionName"],
        "${OpenReviewFunctionArn}"
    );
    assert_eq!(
        open["Parameters"]["Payload"],
        json!({"executionArn.$": "$$.Execution.Id", "request.$": "$.request"})
    );
    assert_eq!(open["ResultPath"], "$.opened");
    // A policy that cannot be met ends the execution here, before any email:
    // its errors are neither retried nor caught.
    let handled = format!("{}{}", open["Retry"], open["Catch"]);
    for error in [
        "NotEnoughEligibleReviewers",
        "InvalidReviewPolicy",
        "InvalidRequestedBy",
        "UnfilteredReviewSubscription",
    ] {
        assert!(!handled.contains(error), "{error} must fail the execution");
    }
    assert_eq!(open["Next"], "Collect Votes");
}

/// Each reviewer waits in their own task, whose token only their email holds.
#[test]
fn each_eligible_reviewer_waits_with_their_own_token() {
    let map = state("Ask Reviewers");
    assert_eq!(map["Type"], "Map");
    assert_eq!(map["ItemsPath"], "$.opened.eligible");
    assert_eq!(map["ItemSelector"]["reviewer.$"], "$$.Map.Item.Value");
    assert_eq!(map["MaxConcurrency"], 0, "every reviewer at once");
    assert_eq!(map["ItemProcessor"]["ProcessorConfig"]["Mode"], "INLINE");

    let ask = state("Ask Reviewer");
    assert_eq!(
        ask["Resource"],
        "arn:aws:states:::lambda:invoke.waitForTaskToken"
    );
    let payload = &ask["Parameters"]["Payload"];
    assert_eq!(payload["reviewer.$"], "$.reviewer");
    assert_eq!(payload["role"], "reviewer");
    assert_eq!(payload["taskToken.$"], "$$.Task.Token");
    assert_eq!(ask["ResultPath"], "$.answer");
    assert_eq!(ask["TimeoutSecondsPath"], "$.backstopSeconds");
    assert_eq!(ask["Next"], "Valid Answer?");

    // The vote is counted for the Map item the token was sent to, never for a
    // name in the answer.
    let record = state("Record Vote");
    assert_eq!(
        record["Parameters"]["Payload"],
        json!({"executionArn.$": "$$.Execution.Id", "reviewer.$": "$.reviewer", "answer.$": "$.answer"})
    );
}

/// Each rule is `And[IsPresent, IsBoolean, BooleanEquals]` on `$.answer.result`.
/// AWS raises States.Runtime when a comparison reads a missing field, and And
/// stops at its first false rule, so the guards keep a missing or mistyped
/// result away from BooleanEquals; such answers fall to the Default.
#[test]
fn only_a_boolean_result_counts_and_anything_else_is_an_invalid_review() {
    for (choice, record, invalid) in [
        ("Valid Answer?", "Record Vote", "Invalid Answer"),
        (
            "Escalation Valid?",
            "Record Escalation",
            "Invalid Escalation Answer",
        ),
    ] {
        let decision = state(choice);
        assert_eq!(decision["Type"], "Choice");
        let choices = decision["Choices"].as_array().unwrap();
        assert_eq!(choices.len(), 2);
        for (choice, value) in choices.iter().zip([true, false]) {
            assert_eq!(
                choice["And"],
                json!([
                    {"Variable": "$.answer.result", "IsPresent": true},
                    {"Variable": "$.answer.result", "IsBoolean": true},
                    {"Variable": "$.answer.result", "BooleanEquals": value},
                ])
            );
            assert_eq!(choice["Next"], record);
        }
        assert_eq!(decision["Default"], invalid);
        let fail = state(invalid);
        assert_eq!(fail["Type"], "Fail");
        assert_eq!(fail["Error"], "InvalidReviewResult");
        let cause = fail["CausePath"].as_str().unwrap();
        assert!(cause.contains("States.JsonToString($.answer)"), "{cause}");
    }
    let explanation = state("Prepare Review")["Parameters"]["text"]["invalidAnswer"].clone();
    assert!(
        explanation
            .as_str()
            .unwrap()
            .contains(r#"{"result":true} approves, {"result":false} rejects"#)
    );
}

/// Whatever decides fails its branch with ReviewDecided and the stored record
/// as the cause; the Parallel catches exactly that and reads the record.
#[test]
fn every_decision_ends_the_parallel_with_review_decided_and_is_read_once() {
    for (fail, record) in [
        ("Vote Decided", "$.outcome.result.record"),
        ("Escalation Decided", "$.outcome.result.record"),
        ("Timer Decided", "$.tick.result.record"),
    ] {
        let state = state(fail);
        assert_eq!(state["Type"], "Fail");
        assert_eq!(state["Error"], "ReviewDecided");
        assert_eq!(
            state["CausePath"],
            Value::from(format!("States.JsonToString({record})"))
        );
    }
    let collect = state("Collect Votes");
    assert_eq!(collect["Type"], "Parallel");
    assert_eq!(collect["Branches"].as_array().unwrap().len(), 2);
    assert_eq!(
        collect["Catch"],
        json!([{"ErrorEquals": ["ReviewDecided"], "ResultPath": "$.ended", "Next": "Read Decision"}])
    );
    assert_eq!(
        state("Read Decision")["Parameters"]["record.$"],
        "States.StringToJson($.ended.Cause)"
    );
    let route = state("Route Decision");
    assert_eq!(
        route["Choices"],
        json!([
            {"Variable": "$.record.decision", "StringEquals": "approved", "Next": "Process Approval"},
            {"Variable": "$.record.decision", "StringEquals": "rejected", "Next": "Process Rejection"}
        ])
    );
}

/// Reminders and the expiry run beside the waits, so a reminder never
/// replaces a waiting token; the escalation's wait ends at the expiry.
#[test]
fn timers_run_in_their_own_branch_until_the_expiry_decides() {
    assert_eq!(state("Wait For Timer")["TimestampPath"], "$.next.at");
    let tick = state("Tick");
    assert_eq!(
        tick["Parameters"]["FunctionName"],
        "${ReviewTickFunctionArn}"
    );
    assert_eq!(tick["Next"], "After Tick");
    let after: Vec<(String, String)> = state("After Tick")["Choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["StringEquals"].as_str().unwrap().to_owned(),
                c["Next"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        after,
        [
            ("waiting".to_owned(), "Next Timer".to_owned()),
            ("escalate".to_owned(), "Ask Escalation".to_owned()),
            ("decided".to_owned(), "Timer Decided".to_owned()),
        ]
    );
    let escalation = state("Ask Escalation");
    assert_eq!(escalation["Parameters"]["Payload"]["role"], "escalation");
    assert_eq!(
        escalation["TimeoutSecondsPath"],
        "$.tick.result.next.remainingSeconds"
    );
    assert_eq!(
        escalation["Catch"],
        json!([{"ErrorEquals": ["States.Timeout"], "ResultPath": null, "Next": "Tick"}])
    );
}

#[test]
fn outcome_functions_get_the_request_review_votes_and_policy_and_retry_transient_errors() {
    for (name, function) in [
        ("Process Approval", "${ProcessApprovalFunctionArn}"),
        ("Process Rejection", "${ProcessRejectionFunctionArn}"),
    ] {
        let task = state(name);
        assert_eq!(task["Resource"], "arn:aws:states:::lambda:invoke");
        assert_eq!(task["Parameters"]["FunctionName"], function);
        assert_eq!(
            task["Parameters"]["Payload"],
            json!({
                "executionArn.$": "$$.Execution.Id",
                "executionName.$": "$$.Execution.Name",
                "request.$": "$.request",
                "review.$": "$.record.review",
                "votes.$": "$.record.votes",
                "policy.$": "$.record.policy"
            })
        );
        // lambda:invoke wraps the function's result in Payload.
        assert_eq!(task["OutputPath"], "$.Payload");
        assert_eq!(task["End"], true);
        let transient = &task["Retry"][0];
        assert_eq!(
            transient["ErrorEquals"],
            json!([
                "Lambda.ServiceException",
                "Lambda.AWSLambdaException",
                "Lambda.SdkClientException",
                "Lambda.TooManyRequestsException"
            ])
        );
        assert_eq!(transient["JitterStrategy"], "FULL");
        assert!(transient["BackoffRate"].as_f64().unwrap() > 1.0);
        assert_eq!(
            task["Retry"][1]["ErrorEquals"],
            json!(["DecisionNotPublished"])
        );
    }
}

#[test]
fn every_lambda_task_retries_transient_lambda_errors() {
    let mut lists = Vec::new();
    state_lists("machine", &asl(), &mut lists);
    for (_, list) in lists {
        for (name, state) in list["States"].as_object().unwrap() {
            let resource = state["Resource"].as_str().unwrap_or_default();
            if resource.starts_with("arn:aws:states:::lambda:invoke") {
                assert!(
                    state["Retry"][0]["ErrorEquals"]
                        .to_string()
                        .contains("Lambda.TooManyRequestsException"),
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn the_asl_uses_only_substitutions_the_template_provides() {
    let used = placeholders(&read("statemachine/human_in_the_loop.asl.json"));
    let expected: BTreeSet<String> = [
        "ActionMaxAttempts",
        "AlarmTopicArn",
        "AskReviewerFunctionArn",
        "ExecutionTimeoutSeconds",
        "OpenReviewFunctionArn",
        "ProcessApprovalFunctionArn",
        "ProcessRejectionFunctionArn",
        "RecordVoteFunctionArn",
        "Region",
        "ReviewTickFunctionArn",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(used, expected);
}

#[test]
fn an_action_that_still_fails_is_reported_to_the_alarm_topic_then_fails_where_redrive_reruns_it() {
    for (process, report, again) in [
        (
            "Process Approval",
            "Report Failed Approval",
            "Process Approval Again",
        ),
        (
            "Process Rejection",
            "Report Failed Rejection",
            "Process Rejection Again",
        ),
    ] {
        let task = state(process);
        // Retried with backoff, as many times as ActionMaxAttempts says
        // (its sample value in NUMBER_PLACEHOLDERS), then caught.
        let retry = task["Retry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ErrorEquals"] == json!(["ActionFailed"]))
            .cloned()
            .expect("ActionFailed is retried");
        assert_eq!(retry["MaxAttempts"], 3);
        assert!(retry["BackoffRate"].as_f64().unwrap() > 1.0);
        assert_eq!(
            task["Catch"],
            json!([{"ErrorEquals": ["ActionFailed"], "ResultPath": "$.actionError", "Next": report}])
        );
        // The report goes to the alarm topic, with no task token to wait for.
        let published = state(report);
        assert_eq!(published["Resource"], "arn:aws:states:::sns:publish");
        assert_eq!(published["Parameters"]["TopicArn"], "${AlarmTopicArn}");
        assert_eq!(published["ResultPath"], Value::Null);
        assert!(!published.to_string().contains("Task.Token"));
        assert_eq!(published["Next"], again);
        // The last attempt is the same invocation with no Catch: the execution
        // fails in a Task state, which a redrive runs again.
        let last = state(again);
        assert_eq!(last["Resource"], task["Resource"]);
        assert_eq!(last["Parameters"], task["Parameters"]);
        assert_eq!(last["OutputPath"], task["OutputPath"]);
        assert!(last.get("Catch").is_none());
        assert_eq!(last["End"], true);
        assert!(
            !last["Retry"].to_string().contains("ActionFailed"),
            "the alarm already went out; retrying again would only delay the failure"
        );
    }
}

#[test]
fn an_execution_times_out_after_its_execution_timeout() {
    // ExecutionTimeoutSeconds, at its sample value.
    assert_eq!(asl()["TimeoutSeconds"], 262_800);
}
