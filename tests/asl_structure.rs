//! The state machine's structure, read from the ASL file.
//!
//! These assert the contract of `statemachine/human_in_the_loop.asl.json`
//! until the local engine runs it end to end; each path of the workflow
//! (approve, reject, expire, invalid answer) has its test here.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use workflow_tests::{asl, placeholders, read};

fn state(name: &str) -> Value {
    asl()["States"][name].clone()
}

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

#[test]
fn every_state_is_reachable_and_every_transition_lands() {
    let asl = asl();
    let states = asl["States"].as_object().unwrap();
    let mut seen = BTreeSet::new();
    let mut todo = vec![asl["StartAt"].as_str().unwrap().to_owned()];
    while let Some(name) = todo.pop() {
        let state = states
            .get(&name)
            .unwrap_or_else(|| panic!("transition to missing state {name}"));
        if seen.insert(name) {
            todo.extend(targets(state));
        }
    }
    let all: BTreeSet<String> = states.keys().cloned().collect();
    assert_eq!(seen, all, "unreachable states");
}

#[test]
fn the_input_is_wrapped_so_any_json_works_and_review_is_never_overwritten() {
    let prepare = state("Prepare Review");
    assert_eq!(asl()["StartAt"], "Prepare Review");
    assert_eq!(prepare["Type"], "Pass");
    assert_eq!(prepare["Parameters"]["request.$"], "$");
    // ReviewTimeoutSeconds is substituted as text; the task needs a number.
    assert_eq!(
        prepare["Parameters"]["timeoutSeconds.$"],
        "States.StringToJson('${ReviewTimeoutSeconds}')"
    );
}

#[test]
fn the_review_is_requested_by_sns_and_waits_for_the_task_token() {
    let review = state("Request Review");
    assert_eq!(
        review["Resource"],
        "arn:aws:states:::sns:publish.waitForTaskToken"
    );
    assert_eq!(review["Parameters"]["TopicArn"], "${ReviewTopicArn}");
    assert_eq!(review["TimeoutSecondsPath"], "$.timeoutSeconds");
    assert!(review.get("TimeoutSeconds").is_none());
    assert_eq!(review["ResultPath"], "$.review");
    assert_eq!(review["Next"], "Review Decision");
    // SNS subjects are under 100 characters; execution names are at most 80.
    let subject = review["Parameters"]["Subject.$"].as_str().unwrap();
    let fixed = subject
        .strip_prefix("States.Format('")
        .and_then(|rest| rest.split_once("{}"))
        .map(|(prefix, _)| prefix.len())
        .unwrap();
    assert!(fixed + 80 < 100, "subject prefix too long: {subject}");
}

/// The email body: a `States.Format` whose template is only `{}` placeholders,
/// so no text needs intrinsic escaping, and whose arguments put the task token
/// on its own `Task token:` line, into both ready-to-paste commands, and into
/// the two review-page links (each on its own line, the token last).
#[test]
fn the_email_shows_the_request_deadline_token_and_both_commands() {
    let review = state("Request Review");
    let message = review["Parameters"]["Message.$"].as_str().unwrap();
    let (template, args) = message
        .strip_prefix("States.Format('")
        .and_then(|rest| rest.split_once("', "))
        .unwrap();
    let args: Vec<&str> = args.trim_end_matches(')').split(", ").collect();
    assert!(template.chars().all(|c| c == '{' || c == '}'));
    assert_eq!(template.matches("{}").count(), args.len());

    let text = state("Prepare Review")["Parameters"]["text"].clone();
    let rendered: String = args
        .iter()
        .map(|arg| match arg.strip_prefix("$.text.") {
            Some(key) => text[key].as_str().unwrap().to_owned(),
            None => format!("<{arg}>"),
        })
        .collect();
    assert!(
        rendered.contains("Execution: <$$.Execution.Name>\n"),
        "{rendered}"
    );
    assert!(rendered.contains("Sent: <$$.State.EnteredTime>\n"));
    assert!(rendered.contains("Expires: <$.timeoutSeconds> seconds after it was sent"));
    assert!(rendered.contains("<States.JsonToString($.request)>"));
    assert!(rendered.contains(
        "aws stepfunctions send-task-success --region ${Region} --task-token <$$.Task.Token> --task-output '{\"result\":true}'\n"
    ));
    assert!(rendered.contains(
        "aws stepfunctions send-task-success --region ${Region} --task-token <$$.Task.Token> --task-output '{\"result\":false}'\n"
    ));
    assert!(
        rendered.contains("\nTask token: <$$.Task.Token>\n"),
        "{rendered}"
    );
    // The links: the API's endpoint (DefinitionSubstitutions), the execution
    // ARN and the raw token, which the review page parses leniently.
    assert!(
        rendered.contains(
            "\nApprove:\n${ReviewApiEndpoint}/review?d=approve&e=<$$.Execution.Id>&t=<$$.Task.Token>\n"
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains(
            "\nReject:\n${ReviewApiEndpoint}/review?d=reject&e=<$$.Execution.Id>&t=<$$.Task.Token>\n"
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains("Opening a link changes nothing"),
        "{rendered}"
    );
    // Links come before the commands: most reviewers use them.
    assert!(
        rendered.find("/review?d=approve").unwrap()
            < rendered
                .find("aws stepfunctions send-task-success")
                .unwrap()
    );
}

#[test]
fn an_unanswered_review_expires_as_a_rejection() {
    let review = state("Request Review");
    let catches = review["Catch"].as_array().unwrap();
    assert_eq!(catches.len(), 1, "only expiry is caught: {catches:?}");
    assert_eq!(catches[0]["ErrorEquals"], json!(["States.Timeout"]));
    assert_eq!(catches[0]["Next"], "Review Expired");

    let expired = state("Review Expired");
    assert_eq!(expired["Type"], "Pass");
    assert_eq!(expired["Result"], json!({"result": false, "expired": true}));
    assert_eq!(expired["ResultPath"], "$.review");
    assert_eq!(expired["Next"], "Process Rejection");
}

/// Each rule is `And[IsPresent, IsBoolean, BooleanEquals]` on `$.review.result`.
/// AWS raises States.Runtime when a comparison reads a missing field, and And
/// stops at its first false rule, so the guards keep a missing or mistyped
/// result away from BooleanEquals; such answers fall to the Default.
#[test]
fn only_a_boolean_result_decides_and_anything_else_is_an_invalid_review() {
    let decision = state("Review Decision");
    assert_eq!(decision["Type"], "Choice");
    let choices = decision["Choices"].as_array().unwrap();
    let expected = [(true, "Process Approval"), (false, "Process Rejection")];
    assert_eq!(choices.len(), expected.len());
    for (choice, (value, next)) in choices.iter().zip(expected) {
        assert_eq!(
            choice["And"],
            json!([
                {"Variable": "$.review.result", "IsPresent": true},
                {"Variable": "$.review.result", "IsBoolean": true},
                {"Variable": "$.review.result", "BooleanEquals": value},
            ])
        );
        assert_eq!(choice["Next"], next);
    }
    assert_eq!(decision["Default"], "Invalid Review Result");

    let invalid = state("Invalid Review Result");
    assert_eq!(invalid["Type"], "Fail");
    assert_eq!(invalid["Error"], "InvalidReviewResult");
    let cause = invalid["CausePath"].as_str().unwrap();
    assert!(cause.contains("States.JsonToString($.review)"), "{cause}");
    let explanation = state("Prepare Review")["Parameters"]["text"]["invalidAnswer"].clone();
    assert!(
        explanation
            .as_str()
            .unwrap()
            .contains(r#"{"result":true} approves, {"result":false} rejects"#)
    );
}

#[test]
fn outcome_functions_get_the_request_and_review_and_retry_transient_errors() {
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
                "review.$": "$.review"
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
fn the_asl_uses_only_substitutions_the_template_provides() {
    let used = placeholders(&read("statemachine/human_in_the_loop.asl.json"));
    let expected: BTreeSet<String> = [
        "ActionMaxAttempts",
        "AlarmTopicArn",
        "ExecutionTimeoutSeconds",
        "ProcessApprovalFunctionArn",
        "ProcessRejectionFunctionArn",
        "Region",
        "ReviewApiEndpoint",
        "ReviewTimeoutSeconds",
        "ReviewTopicArn",
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
