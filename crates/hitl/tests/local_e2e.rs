//! End to end: `hitl local` runs `template.yaml` (the real state machine, the
//! real Rust Lambdas, SNS with an email outbox) and a reviewer drives it with
//! the real AWS CLI, with aws-sdk-sfn and with the `hitl` commands. Nothing
//! reaches AWS: every client gets the local endpoint and dummy credentials.
//!
//! Each path of the workflow that `tests/asl_structure.rs` asserts on the
//! ASL's structure is run here instead:
//!
//! | structural test | end-to-end test |
//! |---|---|
//! | every state reachable, every transition lands | the state sequences `hitl status` shows for approval, invalid answer and expiry |
//! | input wrapped as `request`; a key named `review` is kept | every decision's `request` is `events/start_execution.json`; `sdk_any_json_input_*` |
//! | review by SNS, waits for the token; subject fits 100 characters | every flow reads its token from the outbox; `sdk_the_longest_execution_name_*` |
//! | the email text: request, deadline, both commands, token line | `the_review_email_*`, `aws_cli_the_commands_in_the_email_work_as_pasted` |
//! | unanswered review expires as a rejection | `an_unanswered_review_expires_*`, `a_review_that_expires_while_local_mode_is_down_*` |
//! | only a boolean result decides; else `InvalidReviewResult` with a cause | `*_approval_*`, `*_rejection_*`, `*_without_a_boolean_result_*` |
//! | outcome functions get request and review | the decision record and the decision email |
//! | `DecisionNotPublished` is retried | `a_decision_that_cannot_be_published_is_retried_*` |
//! | `ActionFailed` retried, reported to the alarm topic, then fails the execution | `an_action_that_keeps_failing_*` |
//! | an expired review is counted (`ReviewsExpired`, EMF) | `an_unanswered_review_expires_*` |
//!
//! Instances: one shared by the flows that need nothing special (distinct
//! execution names), one with `ReviewTimeoutSeconds=2`, one the restart test
//! kills, one whose decision topic is deleted and created again, one whose
//! template has an `AWS::S3::Bucket` added, and one running
//! the JSONata example machine (`statemachine/human_in_the_loop.jsonata.asl.json`)
//! through the same approve, reject, invalid-answer and expiry flows. The
//! CLI-driven tests are skipped, with a message, without the AWS CLI.

// Each test binary uses part of the shared fixtures.
#[allow(dead_code)]
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::DateTime;
use serde_json::{Value, json};

use test_support::{
    AwsCli, DECISION_EMAIL, Described, Hitl, LocalMode, REGION, REVIEWER_EMAIL, ReviewEmail, Sdk,
    SharedSlot, StepFunctions, TIMEOUT, event, event_text, http, poll, query_value, shared,
};

/// The instance most tests share.
static STACK: SharedSlot = SharedSlot::new(Weak::new());

fn stack() -> Arc<LocalMode> {
    shared(&STACK, &[])
}

/// What the state machine says about an answer without a boolean result.
const INVALID_ANSWER: &str = "The review answer must be a JSON object with a boolean result: \
                              {\"result\":true} approves, {\"result\":false} rejects. Received: ";

/// The AWS CLI on the shared instance, or `None` (skip) when it is not installed.
fn aws_cli() -> Option<(Arc<LocalMode>, AwsCli)> {
    let program = AwsCli::find()?;
    let local = stack();
    let cli = AwsCli::connect(program, &local);
    Some((local, cli))
}

fn sdk() -> (Arc<LocalMode>, Sdk) {
    let local = stack();
    let sdk = Sdk::connect(&local);
    (local, sdk)
}

/// GIVEN a review requested with the sample input: the execution's ARN and its email.
fn request_review(sfn: &dyn StepFunctions, local: &LocalMode, name: &str) -> (String, ReviewEmail) {
    let execution = sfn.start(name, &event_text("start_execution.json"));
    (execution, local.outbox().review_email(name))
}

/// THEN the execution succeeded with the decision record of the contract:
/// `decision`, `request` (the input, unchanged), `review` (the answer as
/// received) and `decidedAt` (RFC 3339). Gives the record.
fn assert_decided(described: &Described, decision: &str, review: &Value) -> Value {
    assert_eq!(described.status, "SUCCEEDED", "{described:?}");
    let record = described.output.clone().expect("an output");
    assert!(record.is_object(), "{record}");
    assert_eq!(record["decision"], decision, "{record}");
    assert_eq!(record["request"], event("start_execution.json"), "{record}");
    assert_eq!(&record["review"], review, "{record}");
    let decided_at = record["decidedAt"].as_str().expect("decidedAt is a string");
    DateTime::parse_from_rfc3339(decided_at)
        .unwrap_or_else(|error| panic!("decidedAt {decided_at:?} is not RFC 3339: {error}"));
    record
}

/// THEN the decision topic emailed the decision to `DecisionEmail`.
fn assert_decision_email(local: &LocalMode, subject: &str, first_line: &str, record: &Value) {
    let email = local.outbox().wait_for(subject);
    assert_eq!(email.header("To"), Some(DECISION_EMAIL));
    let from = email.header("From").unwrap_or_default();
    assert!(
        from.contains("Review decisions"),
        "not from DecisionTopic: {from}"
    );
    let name = record["executionName"].as_str().expect("executionName");
    let expected = format!(
        "{first_line}\n\nExecution: {name}\nDecided at: {}\n",
        record["decidedAt"].as_str().unwrap_or_default()
    );
    assert!(email.body.starts_with(&expected), "{}", email.body);
}

/// THEN the execution failed with `InvalidReviewResult`, and the cause says
/// what a valid answer is and what was received.
fn assert_invalid_review(described: &Described, answer: &str) {
    assert_eq!(described.status, "FAILED", "{described:?}");
    assert_eq!(described.error.as_deref(), Some("InvalidReviewResult"));
    let received: Value = serde_json::from_str(answer).expect("the answer is JSON");
    assert_eq!(
        described.cause.as_deref(),
        Some(format!("{INVALID_ANSWER}{received}").as_str())
    );
}

// ---- Flows, the same through the AWS CLI and aws-sdk-sfn ----

fn approval(sfn: &dyn StepFunctions, local: &LocalMode, name: &str) {
    // GIVEN a review request
    let (execution, email) = request_review(sfn, local, name);
    // WHEN the reviewer approves with the token from the email
    let answer = event_text("review_approve.json");
    sfn.send_task_success(&email.token, &answer)
        .unwrap_or_else(|code| panic!("{} could not approve: {code}", sfn.name()));
    // THEN the execution succeeds with the decision, announced on the decision topic
    let record = assert_decided(
        &sfn.wait_until_done(&execution),
        "approved",
        &event("review_approve.json"),
    );
    assert_eq!(record["executionName"], name);
    assert_eq!(record["reviewer"], "Ana Reviewer");
    assert_eq!(record["expired"], false);
    assert_decision_email(
        local,
        &format!("Approved: {name}"),
        "The request was approved.",
        &record,
    );
}

fn rejection(sfn: &dyn StepFunctions, local: &LocalMode, name: &str) {
    let (execution, email) = request_review(sfn, local, name);
    let answer = event_text("review_reject.json");
    sfn.send_task_success(&email.token, &answer)
        .unwrap_or_else(|code| panic!("{} could not reject: {code}", sfn.name()));
    let record = assert_decided(
        &sfn.wait_until_done(&execution),
        "rejected",
        &event("review_reject.json"),
    );
    assert_eq!(record["comment"], "Refund window has closed.");
    assert_decision_email(
        local,
        &format!("Rejected: {name}"),
        "The request was rejected.",
        &record,
    );
}

fn answers_without_a_boolean_result(sfn: &dyn StepFunctions, local: &LocalMode, name: &str) {
    let review_invalid = event_text("review_invalid.json");
    let answers = [review_invalid.trim(), "{}", "true", r#"{"result":1}"#];
    // One review per answer, side by side (each client call takes a while).
    std::thread::scope(|scope| {
        for (i, answer) in answers.into_iter().enumerate() {
            scope.spawn(move || {
                // GIVEN a review request
                let name = format!("{name}-{i}");
                let (execution, email) = request_review(sfn, local, &name);
                // WHEN its answer is JSON but not {"result": <boolean>}
                sfn.send_task_success(&email.token, answer)
                    .unwrap_or_else(|code| panic!("{answer} was refused: {code}"));
                // THEN the execution fails with InvalidReviewResult, and nothing is decided
                assert_invalid_review(&sfn.wait_until_done(&execution), answer);
                for verb in ["Approved", "Rejected"] {
                    let subject = format!("{verb}: {name}");
                    assert!(
                        local.outbox().with_subject(&subject).is_empty(),
                        "{subject}"
                    );
                }
            });
        }
    });
}

/// A token with one character changed in its middle.
fn tampered(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

fn unknown_tokens(sfn: &dyn StepFunctions, local: &LocalMode, name: &str) {
    let (execution, email) = request_review(sfn, local, name);
    // WHEN answers come with tokens no task was given
    for token in ["not-a-task-token".to_owned(), tampered(&email.token)] {
        let refused = sfn.send_task_success(&token, r#"{"result":true}"#);
        // THEN they are refused as Step Functions refuses them
        assert!(
            matches!(
                refused.as_ref().map_err(String::as_str),
                Err("InvalidToken" | "TaskDoesNotExist")
            ),
            "{token}: {refused:?}"
        );
    }
    // AND the review still waits for its own token
    assert_eq!(sfn.describe(&execution).status, "RUNNING");
    sfn.send_task_success(&email.token, r#"{"result":false}"#)
        .expect("the real token answers");
    assert_decided(
        &sfn.wait_until_done(&execution),
        "rejected",
        &json!({"result": false}),
    );
}

fn token_used_twice(sfn: &dyn StepFunctions, local: &LocalMode, name: &str) {
    let (execution, email) = request_review(sfn, local, name);
    sfn.send_task_success(&email.token, r#"{"result":true}"#)
        .expect("the first answer is accepted");
    assert_decided(
        &sfn.wait_until_done(&execution),
        "approved",
        &json!({"result": true}),
    );
    // WHEN the same token answers again
    let second = sfn.send_task_success(&email.token, r#"{"result":false}"#);
    // THEN it is refused, and the decision stands
    assert_eq!(second, Err("TaskTimedOut".to_owned()));
    assert_eq!(
        sfn.describe(&execution).output.expect("an output")["decision"],
        "approved"
    );
}

fn answer_that_is_not_json(sfn: &dyn StepFunctions, local: &LocalMode, name: &str) {
    let (execution, email) = request_review(sfn, local, name);
    // WHEN the answer is not JSON
    let refused = sfn.send_task_success(&email.token, r#"{"result": true"#);
    // THEN it is refused, and the review still waits for a valid answer
    assert_eq!(refused, Err("InvalidOutput".to_owned()));
    assert_eq!(sfn.describe(&execution).status, "RUNNING");
    sfn.send_task_success(&email.token, r#"{"result":true}"#)
        .expect("a valid answer is accepted");
    assert_decided(
        &sfn.wait_until_done(&execution),
        "approved",
        &json!({"result": true}),
    );
}

// ---- aws-sdk-sfn ----

#[test]
fn sdk_approval_succeeds_with_the_decision_record_and_a_decision_email() {
    let (local, sdk) = sdk();
    approval(&sdk, &local, "sdk-approve");
}

#[test]
fn sdk_rejection_succeeds_with_decision_rejected() {
    let (local, sdk) = sdk();
    rejection(&sdk, &local, "sdk-reject");
}

#[test]
fn sdk_answers_without_a_boolean_result_fail_with_invalid_review_result() {
    let (local, sdk) = sdk();
    answers_without_a_boolean_result(&sdk, &local, "sdk-invalid");
}

#[test]
fn sdk_unknown_tokens_are_refused() {
    let (local, sdk) = sdk();
    unknown_tokens(&sdk, &local, "sdk-unknown-token");
}

#[test]
fn sdk_a_token_answers_only_once() {
    let (local, sdk) = sdk();
    token_used_twice(&sdk, &local, "sdk-twice");
}

#[test]
fn sdk_an_answer_that_is_not_json_is_refused() {
    let (local, sdk) = sdk();
    answer_that_is_not_json(&sdk, &local, "sdk-not-json");
}

#[test]
fn sdk_any_json_input_is_the_request_unchanged() {
    let (local, sdk) = sdk();
    // An input key named `review` must not be taken for the answer.
    let inputs = [
        json!("just a string"),
        json!([1, {"review": 2}]),
        json!({"review": {"result": false}, "amount": 12}),
    ];
    for (i, input) in inputs.iter().enumerate() {
        // GIVEN a review of any JSON value
        let name = format!("sdk-any-input-{i}");
        let execution = sdk.start(&name, &input.to_string());
        let email = local.outbox().review_email(&name);
        assert!(
            email
                .body()
                .contains(&format!("What is being reviewed:\n{input}\n")),
            "{}",
            email.body()
        );
        // WHEN it is approved
        sdk.send_task_success(&email.token, r#"{"result":true}"#)
            .expect("accepted");
        // THEN the decision holds the input unchanged as its request
        let described = sdk.wait_until_done(&execution);
        assert_eq!(described.status, "SUCCEEDED", "{described:?}");
        let record = described.output.expect("an output");
        assert_eq!(record["decision"], "approved", "{record}");
        assert_eq!(&record["request"], input, "{record}");
        assert_eq!(record["review"], json!({"result": true}), "{record}");
    }
}

#[test]
fn sdk_a_request_near_the_200_kib_limit_is_reviewed_and_decided() {
    let (local, sdk) = sdk();
    let name = "sdk-large-request";
    // GIVEN a request just under the 200 KiB the README allows
    let request = json!({"title": "Large", "document": "x".repeat(199 * 1024)});
    let execution = sdk.start(name, &request.to_string());
    // THEN the email carries it whole
    let email = local.outbox().review_email(name);
    assert!(email.body().contains(&request.to_string()));
    // AND it is decided with the request in the record; the decision email,
    // where it would not fit twice, points at the execution instead
    sdk.send_task_success(&email.token, r#"{"result":true}"#)
        .expect("accepted");
    let described = sdk.wait_until_done(&execution);
    assert_eq!(described.status, "SUCCEEDED", "{described:?}");
    assert_eq!(described.output.expect("an output")["request"], request);
    let notice = local.outbox().wait_for(&format!("Approved: {name}"));
    assert!(
        notice.body.contains("(omitted: the request is too large"),
        "{}",
        notice.body
    );
}

#[test]
fn sdk_concurrent_answers_to_one_review_decide_it_once() {
    let (local, sdk) = sdk();
    let name = "sdk-concurrent-answers";
    let (execution, email) = request_review(&sdk, &local, name);
    // WHEN four reviewers answer with the same token at the same moment
    let answers = [true, false, true, false];
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let threads: Vec<_> = answers
            .iter()
            .map(|result| {
                let (local, token) = (&local, &email.token);
                scope.spawn(move || {
                    Sdk::connect(local)
                        .send_task_success(token, &json!({ "result": result }).to_string())
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().expect("no panic"))
            .collect()
    });
    // THEN exactly one answer counts; the others are refused as already answered
    let accepted: Vec<bool> = answers
        .iter()
        .zip(&results)
        .filter(|(_, result)| result.is_ok())
        .map(|(answer, _)| *answer)
        .collect();
    assert_eq!(accepted.len(), 1, "{results:?}");
    for result in results.iter().filter(|result| result.is_err()) {
        assert_eq!(result, &Err("TaskTimedOut".to_owned()));
    }
    let decision = if accepted[0] { "approved" } else { "rejected" };
    assert_decided(
        &sdk.wait_until_done(&execution),
        decision,
        &json!({ "result": accepted[0] }),
    );
    // AND one decision is announced
    let subject = format!(
        "{}: {name}",
        if accepted[0] { "Approved" } else { "Rejected" }
    );
    local.outbox().wait_for(&subject);
    let other = format!(
        "{}: {name}",
        if accepted[0] { "Rejected" } else { "Approved" }
    );
    assert!(local.outbox().with_subject(&other).is_empty());
    assert_eq!(local.outbox().with_subject(&subject).len(), 1);
}

#[test]
fn sdk_the_longest_execution_name_fits_the_email_subjects() {
    let (local, sdk) = sdk();
    // Step Functions allows 80 characters; SNS subjects must stay under 100.
    let name = format!("sdk-longest-name-{}", "n".repeat(80 - 17));
    assert_eq!(name.len(), 80);
    let (execution, email) = request_review(&sdk, &local, &name);
    assert_eq!(
        email.email.subject().as_deref(),
        Some(format!("Review requested: {name}").as_str())
    );
    sdk.send_task_success(&email.token, r#"{"result":true}"#)
        .expect("accepted");
    assert_eq!(sdk.wait_until_done(&execution).status, "SUCCEEDED");
    local.outbox().wait_for(&format!("Approved: {name}"));
}

// ---- the AWS CLI ----

#[test]
fn aws_cli_approval_succeeds_with_the_decision_record_and_a_decision_email() {
    let Some((local, cli)) = aws_cli() else {
        return;
    };
    approval(&cli, &local, "cli-approve");
}

#[test]
fn aws_cli_rejection_succeeds_with_decision_rejected() {
    let Some((local, cli)) = aws_cli() else {
        return;
    };
    rejection(&cli, &local, "cli-reject");
}

#[test]
fn aws_cli_answers_without_a_boolean_result_fail_with_invalid_review_result() {
    let Some((local, cli)) = aws_cli() else {
        return;
    };
    answers_without_a_boolean_result(&cli, &local, "cli-invalid");
}

#[test]
fn aws_cli_unknown_tokens_are_refused() {
    let Some((local, cli)) = aws_cli() else {
        return;
    };
    unknown_tokens(&cli, &local, "cli-unknown-token");
}

#[test]
fn aws_cli_a_token_answers_only_once() {
    let Some((local, cli)) = aws_cli() else {
        return;
    };
    token_used_twice(&cli, &local, "cli-twice");
}

#[test]
fn aws_cli_an_answer_that_is_not_json_is_refused() {
    let Some((local, cli)) = aws_cli() else {
        return;
    };
    answer_that_is_not_json(&cli, &local, "cli-not-json");
}

#[test]
fn aws_cli_the_commands_in_the_email_work_as_pasted() {
    let Some((local, cli)) = aws_cli() else {
        return;
    };
    for (name, decision) in [
        ("cli-pasted-approve", "approved"),
        ("cli-pasted-reject", "rejected"),
    ] {
        // GIVEN a review request email
        let (execution, email) = request_review(&cli, &local, name);
        // WHEN the reviewer pastes its command (pointed at local mode)
        let command = match decision {
            "approved" => &email.approve_command,
            _ => &email.reject_command,
        };
        let pasted = cli.shell(&format!("{command} --endpoint-url {}", local.endpoint()));
        assert!(
            pasted.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&pasted.stderr)
        );
        // THEN the execution is decided with exactly the answer the command sends
        let result = decision == "approved";
        assert_decided(
            &cli.wait_until_done(&execution),
            decision,
            &json!({ "result": result }),
        );
    }
}

#[test]
fn aws_cli_s3_works_on_the_same_endpoint_as_step_functions() {
    let Some((local, cli)) = aws_cli() else {
        return;
    };
    // GIVEN local mode's one endpoint, WHEN `aws s3` makes a bucket and copies
    // from stdin, THEN the object reads back to stdout and is listed.
    let made = cli.run(&["s3", "mb", "s3://e2e-inputs"]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let piped = cli.shell(&format!(
        "printf 'row 1\\nrow 2\\n' | aws s3 cp - s3://e2e-inputs/rows.txt --endpoint-url {}",
        local.endpoint()
    ));
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let back = cli.run(&["s3", "cp", "s3://e2e-inputs/rows.txt", "-"]);
    assert_eq!(String::from_utf8_lossy(&back.stdout), "row 1\nrow 2\n");
    let listed = cli.run(&["s3", "ls", "s3://e2e-inputs/"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.trim_end().ends_with(" 12 rows.txt"), "{listed}");
    // AND Step Functions still answers on the same endpoint.
    assert!(
        cli.run(&["stepfunctions", "list-state-machines"])
            .status
            .success()
    );
}

#[test]
fn a_template_bucket_exists_at_start_is_listed_in_the_summary_and_keeps_its_objects() {
    let Some(program) = AwsCli::find() else {
        return;
    };
    // GIVEN template.yaml with an AWS::S3::Bucket added (no BucketName: the
    // name CloudFormation would generate)
    let mut local = LocalMode::start_with_template(
        |text| {
            assert!(
                text.contains("\nResources:\n"),
                "template.yaml has Resources"
            );
            text.replacen(
                "\nResources:\n",
                "\nResources:\n  InputBucket:\n    Type: AWS::S3::Bucket\n",
                1,
            )
        },
        &[],
    );
    // THEN the start-up summary lists it, and `aws s3 ls` finds it
    let log = local.log();
    let line = log
        .lines()
        .find(|l| l.contains("s3 bucket") && l.contains("InputBucket"))
        .unwrap_or_else(|| panic!("no bucket in the summary:\n{log}"));
    let bucket = line
        .rsplit_once("s3://")
        .map(|(_, name)| name.trim().to_owned())
        .expect("s3://NAME");
    assert!(bucket.contains("-inputbucket-"), "{line}");
    let cli = AwsCli::connect(program.clone(), &local);
    let listed = cli.run(&["s3", "ls"]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains(&format!(" {bucket}\n")),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    // WHEN an object is put there and local mode restarts, THEN it is still there
    let put = cli.shell(&format!(
        "printf kept | aws s3 cp - s3://{bucket}/kept.txt --endpoint-url {}",
        local.endpoint()
    ));
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    local.stop();
    local.restart();
    let cli = AwsCli::connect(program, &local);
    let back = cli.run(&["s3", "cp", &format!("s3://{bucket}/kept.txt"), "-"]);
    assert_eq!(String::from_utf8_lossy(&back.stdout), "kept");
}

// ---- the review email ----

#[test]
fn the_review_email_names_the_execution_and_shows_the_request_and_both_commands() {
    let (local, sdk) = sdk();
    let name = "email-contents";
    let (_, email) = request_review(&sdk, &local, name);

    assert_eq!(email.email.header("To"), Some(REVIEWER_EMAIL));
    let from = email.email.header("From").unwrap_or_default();
    assert!(
        from.contains("Review requests"),
        "not from ReviewTopic: {from}"
    );
    let body = email.body();
    assert!(
        body.starts_with(&format!(
            "A request is waiting for your review.\n\nExecution: {name}\nSent: "
        )),
        "{body}"
    );
    let sent = body
        .lines()
        .find_map(|line| line.strip_prefix("Sent: "))
        .expect("a Sent: line");
    DateTime::parse_from_rfc3339(sent).unwrap_or_else(|error| panic!("Sent: {sent}: {error}"));
    // The deadline as a time (a reminder is sent later, so "N seconds after
    // it was sent" would mislead) and what an expiry decides.
    let expires = body
        .lines()
        .find_map(|line| line.strip_prefix("Expires: "))
        .expect("an Expires: line");
    assert!(
        expires.ends_with(". A review nobody decides in time is rejected."),
        "{expires}"
    );
    // The request as compact JSON, keys in the input's order.
    assert!(
        body.contains(&format!(
            "What is being reviewed:\n{}\n",
            event("start_execution.json")
        )),
        "{body}"
    );
    // Both commands carry the token of the `Task token:` line, and nothing else does.
    let command = |result: bool| {
        format!(
            "aws stepfunctions send-task-success --region {REGION} --task-token {} \
             --task-output '{{\"result\":{result}}}'",
            email.token
        )
    };
    assert_eq!(email.approve_command, command(true));
    assert_eq!(email.reject_command, command(false));
    // Two commands and the `Task token:` line; the links carry a short secret instead.
    assert_eq!(body.matches(email.token.as_str()).count(), 3, "{body}");
    for link in [&email.approve_link, &email.reject_link] {
        assert!(link.len() <= 200, "{link}");
    }
    assert!(
        body.contains(&format!("\nTask token: {}\n", email.token)),
        "{body}"
    );
}

// ---- the hitl commands ----

#[test]
fn hitl_start_pending_approve_and_status_make_a_whole_review() {
    let local = stack();
    let hitl = Hitl::new(&local);
    let name = "hitl-approve";
    // GIVEN a review requested with `hitl start`
    let started = hitl.ok(&[
        "start",
        "--input",
        "events/start_execution.json",
        "--name",
        name,
    ]);
    assert!(
        started.contains(&format!("Review requested: {name}")),
        "{started}"
    );
    let email = local.outbox().review_email(name);
    // THEN `hitl pending` lists it, and `hitl status` says it waits
    assert!(hitl.pending().contains(&name.to_owned()));
    let status = hitl.ok(&["status", name]);
    assert!(status.contains("Status:    RUNNING"), "{status}");
    assert!(status.contains("Waiting for a review since"), "{status}");
    // WHEN the reviewer approves with the token from the email
    let approved = hitl.ok(&["approve", &email.token, "--reviewer", "Ana Reviewer"]);
    assert!(approved.contains("Approved."), "{approved}");
    // THEN the execution succeeds with the answer hitl sent
    let sdk = Sdk::connect(&local);
    let execution = execution_arn(&started);
    let record = assert_decided(
        &sdk.wait_until_done(&execution),
        "approved",
        &json!({"result": true, "reviewer": "Ana Reviewer"}),
    );
    // hitl answers as the CLI; the vote says so.
    assert_eq!(record["votes"][0]["via"], "cli", "{record}");
    assert_decision_email(
        &local,
        &format!("Approved: {name}"),
        "The request was approved.",
        &record,
    );
    // AND `hitl status` shows the decision, and `hitl pending` no longer lists it
    let status = hitl.ok(&["status", name]);
    assert!(status.contains("Status:    SUCCEEDED"), "{status}");
    assert!(status.contains("Decision:  approved\n"), "{status}");
    assert!(status.contains("reviewer:  Ana Reviewer"), "{status}");
    // One reviewer, one approval: the vote decides at once.
    assert_eq!(
        history(&status),
        [
            "Prepare Review",
            "Open Review",
            "Collect Votes",
            "Ask Reviewers",
            "Ask Reviewer",
            "Start Timers",
            "Wait For Timer",
            "Valid Answer?",
            "Record Vote",
            "Vote Outcome",
            "Vote Decided",
            "Read Decision",
            "Route Decision",
            "Process Approval",
            "ExecutionSucceeded"
        ]
    );
    assert!(!hitl.pending().contains(&name.to_owned()));
    // AND piped into a reader that has gone (`hitl status X | head -0`), hitl ends quietly
    let (exit, stderr) = hitl.run_into_closed_pipe(&["status", name]);
    assert!(exit.success(), "{exit}: {stderr}");
    assert_eq!(stderr, "");
}

/// The states (and the last event) in `hitl status`'s history, oldest first.
fn history(status: &str) -> Vec<String> {
    status
        .lines()
        .skip_while(|line| *line != "History:")
        .skip(1)
        // "  2026-11-25 12:00:00Z  Prepare Review"
        .filter_map(|line| line.trim().splitn(3, ' ').nth(2))
        .map(|state| state.trim().to_owned())
        .collect()
}

/// The execution ARN in `hitl start`'s output.
fn execution_arn(started: &str) -> String {
    started
        .lines()
        .find_map(|line| line.trim().strip_prefix("execution: "))
        .unwrap_or_else(|| panic!("no execution ARN in:\n{started}"))
        .to_owned()
}

#[test]
fn hitl_reject_by_execution_name_records_the_reviewer_and_comment() {
    let local = stack();
    let hitl = Hitl::new(&local);
    let name = "hitl-reject";
    let started = hitl.ok(&[
        "start",
        "--input",
        "events/start_execution.json",
        "--name",
        name,
    ]);
    local.outbox().review_email(name);
    // WHEN the reviewer rejects by execution name (hitl reads the token from the history)
    hitl.ok(&[
        "reject",
        "--execution",
        name,
        "--reviewer",
        "Bo Reviewer",
        "--comment",
        "Refund window has closed.",
    ]);
    // THEN
    let sdk = Sdk::connect(&local);
    let review = json!({
        "result": false,
        "reviewer": "Bo Reviewer",
        "comment": "Refund window has closed."
    });
    assert_decided(
        &sdk.wait_until_done(&execution_arn(&started)),
        "rejected",
        &review,
    );
    let status = hitl.ok(&["status", name]);
    assert!(status.contains("Decision:  rejected\n"), "{status}");
    assert!(
        status.contains("comment:   Refund window has closed."),
        "{status}"
    );
}

#[test]
fn hitl_answers_only_a_waiting_review_and_says_why_not() {
    let local = stack();
    let hitl = Hitl::new(&local);
    let name = "hitl-refused";
    hitl.ok(&[
        "start",
        "--input",
        "events/start_execution.json",
        "--name",
        name,
    ]);
    let email = local.outbox().review_email(name);

    // An unknown token
    let error = hitl.fails(&["approve", "not-a-task-token"]);
    assert!(
        error.contains("not a valid task token")
            || error.contains("no review waits for this token"),
        "{error}"
    );
    // An execution that does not exist
    let error = hitl.fails(&["approve", "--execution", "no-such-execution"]);
    assert!(error.contains("no execution no-such-execution"), "{error}");

    hitl.ok(&["approve", "--execution", name]);
    // The same token again
    let error = hitl.fails(&["reject", &email.token]);
    assert!(error.contains("can no longer be answered"), "{error}");
    // The same execution again
    let error = hitl.fails(&["reject", "--execution", name]);
    // (it may still run Process Approval, or have ended)
    assert!(
        error.contains("is running but not waiting for a review")
            || error.contains(&format!("execution {name} has ended (SUCCEEDED)")),
        "{error}"
    );
}

#[test]
fn hitl_status_shows_why_an_invalid_answer_failed() {
    let (local, sdk) = sdk();
    let name = "hitl-status-invalid";
    let (execution, email) = request_review(&sdk, &local, name);
    sdk.send_task_success(&email.token, "{}").expect("accepted");
    assert_invalid_review(&sdk.wait_until_done(&execution), "{}");

    let status = Hitl::new(&local).ok(&["status", name]);
    assert!(status.contains("Status:    FAILED"), "{status}");
    let states = history(&status);
    assert_eq!(states[..2], ["Prepare Review", "Open Review"], "{status}");
    assert!(
        states.ends_with(&[
            "Valid Answer?".to_owned(),
            "Invalid Answer".to_owned(),
            "ExecutionFailed".to_owned()
        ]),
        "{status}"
    );
    assert!(
        status.contains("Error:     InvalidReviewResult"),
        "{status}"
    );
    assert!(
        status.contains(&format!("Cause:     {INVALID_ANSWER}{{}}")),
        "{status}"
    );
}

#[test]
fn hitl_cancel_stops_a_waiting_review_without_a_decision() {
    let (local, sdk) = sdk();
    let hitl = Hitl::new(&local);
    let name = "hitl-cancel";
    let (execution, email) = request_review(&sdk, &local, name);
    // WHEN the operator cancels it
    hitl.ok(&["cancel", name]);
    // THEN it is aborted, no longer pending, and its token no longer answers
    let described = sdk.wait_until_done(&execution);
    assert_eq!(described.status, "ABORTED", "{described:?}");
    assert!(!hitl.pending().contains(&name.to_owned()));
    assert_eq!(
        sdk.send_task_success(&email.token, r#"{"result":true}"#),
        Err("TaskTimedOut".to_owned())
    );
}

#[test]
fn hitl_check_finds_the_confirmed_reviewer_subscription() {
    let local = stack();
    let hitl = Hitl::new(&local);
    // GIVEN no --topic-arn: hitl finds the local ReviewTopic itself
    let checked = hitl.ok(&["check"]);
    let topic = checked
        .lines()
        .find_map(|line| line.strip_prefix("Review topic: "))
        .unwrap_or_else(|| panic!("no review topic named in:\n{checked}"))
        .to_owned();
    assert!(topic.contains("-ReviewTopic-"), "{checked}");
    assert!(
        checked.contains(&format!("ok: {REVIEWER_EMAIL} receives review requests")),
        "{checked}"
    );
    // AND with --topic-arn it checks the topic named (the decision topic has the other address)
    let decision_topic = topic.replace("-ReviewTopic-", "-DecisionTopic-");
    let listed = sns(&local, &[("Action", "ListTopics")]);
    let decision_topic = listed
        .split("<TopicArn>")
        .filter_map(|rest| rest.split_once("</TopicArn>").map(|(arn, _)| arn))
        .find(|arn| arn.contains("-DecisionTopic-"))
        .unwrap_or_else(|| panic!("no {decision_topic} in {listed}"))
        .to_owned();
    let checked = hitl.ok(&["check", "--topic-arn", &decision_topic]);
    assert!(
        checked.contains(&format!("ok: {DECISION_EMAIL} receives review requests")),
        "{checked}"
    );
    assert!(!checked.contains(REVIEWER_EMAIL), "{checked}");
}

#[test]
fn hitl_check_names_each_reviewer_who_cannot_receive_requests_and_what_to_do() {
    let local = stack();
    let hitl = Hitl::new(&local);
    // GIVEN the reviewers a team expects, one of whom is not subscribed
    let missing = "nobody-subscribed@example.com";
    let reviewers = format!("{},{missing}", REVIEWER_EMAIL.to_uppercase());
    // WHEN hitl check is told whom to expect
    let output = hitl.run(&["check", "--reviewers", &reviewers]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let checked = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // THEN the subscribed reviewer is ok (addresses compare case-insensitively), the
    // other is named as missing with the command that subscribes it, and the exit
    // status says a reviewer cannot receive requests
    assert!(
        checked.contains(&format!("ok: {REVIEWER_EMAIL} receives review requests")),
        "{checked}"
    );
    assert!(
        checked.contains(&format!(
            "missing: {missing} is not subscribed to the review topic"
        )) && checked.contains(&format!("--notification-endpoint {missing}")),
        "{checked}"
    );
    assert!(
        checked.contains("1 of 2 reviewers cannot receive review requests"),
        "{checked}"
    );
}

#[test]
fn hitl_start_takes_file_uris_and_says_when_a_name_is_already_running() {
    let local = stack();
    let hitl = Hitl::new(&local);
    let name = "hitl-again";
    // GIVEN a review requested with the AWS CLI's file:// form
    let started = hitl.ok(&[
        "start",
        "--input",
        "file://events/start_execution.json",
        "--name",
        name,
    ]);
    assert!(
        started.contains(&format!("Review requested: {name}")),
        "{started}"
    );
    let email = local.outbox().review_email(name);
    // WHEN the same request is started again under the same name
    let again = hitl.ok(&[
        "start",
        "--input",
        "events/start_execution.json",
        "--name",
        name,
    ]);
    // THEN hitl says it is already running and what it waits for, and requests nothing
    assert!(!again.contains("Review requested"), "{again}");
    assert!(
        again.contains(&format!("Already running: {name}, started ")),
        "{again}"
    );
    assert!(
        again.contains("It is waiting for a review since "),
        "{again}"
    );
    assert_eq!(execution_arn(&again), execution_arn(&started));
    assert_eq!(
        local
            .outbox()
            .with_subject(&format!("Review requested: {name}"))
            .len(),
        1,
        "a second review email was sent"
    );
    // WHEN another request is started under that name
    let error = hitl.fails(&[
        "start",
        "--input",
        r#"{"title":"Another request"}"#,
        "--name",
        name,
    ]);
    // THEN it is refused: the name is taken by an execution with another input
    assert!(
        error.contains(&format!(
            "execution name {name} is taken by a running execution"
        )),
        "{error}"
    );
    assert!(error.contains("with another input"), "{error}");
    assert!(error.contains("pick another --name"), "{error}");
    // WHEN the review is answered and the same request is started again
    hitl.ok(&["approve", &email.token]);
    Sdk::connect(&local).wait_until_done(&execution_arn(&started));
    let error = hitl.fails(&[
        "start",
        "--input",
        "events/start_execution.json",
        "--name",
        name,
    ]);
    // THEN the name stays taken by the ended execution
    assert!(
        error.contains(&format!(
            "execution name {name} is taken: its execution ended SUCCEEDED at "
        )),
        "{error}"
    );
    // AND the commands that act on a review say it has ended
    let error = hitl.fails(&["cancel", name]);
    assert!(
        error.contains(&format!("{name} has already ended (SUCCEEDED)")),
        "{error}"
    );
    let error = hitl.fails(&["reject", "--execution", name]);
    assert!(
        error.contains(&format!("execution {name} has ended (SUCCEEDED)")),
        "{error}"
    );
}

#[test]
fn hitl_commands_name_an_execution_that_does_not_exist() {
    let local = stack();
    let hitl = Hitl::new(&local);
    for command in ["status", "cancel"] {
        let error = hitl.fails(&[command, "no-such-review"]);
        assert!(
            error.contains("no execution no-such-review (looked for arn:aws:states:"),
            "{command}: {error}"
        );
        assert!(error.contains("`hitl pending`"), "{command}: {error}");
    }
    let error = hitl.fails(&["approve", "--execution", "no-such-review"]);
    assert!(error.contains("no execution no-such-review"), "{error}");
}

// ---- own instances ----

#[test]
fn an_unanswered_review_expires_as_a_rejection() {
    // GIVEN local mode whose reviews expire after 2 seconds, and a review
    // requested by each client, all at once
    let local = LocalMode::start(&["ReviewTimeoutSeconds=2"]);
    let sdk = Sdk::connect(&local);
    let hitl = Hitl::new(&local);
    let cli = AwsCli::find().map(|program| AwsCli::connect(program, &local));
    let mut requests = vec![(
        "expires-sdk",
        sdk.start("expires-sdk", &event_text("start_execution.json")),
    )];
    if let Some(cli) = &cli {
        requests.push((
            "expires-cli",
            cli.start("expires-cli", &event_text("start_execution.json")),
        ));
    }
    let started = hitl.ok(&[
        "start",
        "--input",
        "events/start_execution.json",
        "--name",
        "expires-hitl",
    ]);
    requests.push(("expires-hitl", execution_arn(&started)));

    for (name, execution) in &requests {
        let email = local.outbox().review_email(name);
        assert!(
            email
                .body()
                .contains("A review nobody decides in time is rejected."),
            "{}",
            email.body()
        );
        // WHEN nobody answers in time
        let described = sdk.wait_until_done(execution);
        // THEN the review is rejected as expired, and announced as such
        let record = assert_decided(
            &described,
            "rejected",
            &json!({"result": false, "expired": true}),
        );
        assert_eq!(record["expired"], true);
        assert_decision_email(
            &local,
            &format!("Review expired: {name}"),
            "The review expired without a decision, so the request was rejected.",
            &record,
        );
        // AND a late answer is refused
        assert_eq!(
            sdk.send_task_success(&email.token, r#"{"result":true}"#),
            Err("TaskTimedOut".to_owned())
        );
        // AND Process Rejection counted it: one ReviewsExpired EMF line
        let metric = expiry_metric(&local, name);
        assert_eq!(metric["ReviewsExpired"], 1, "{metric}");
        assert_eq!(
            metric["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "HumanReview"
        );
        assert!(
            execution.contains(&format!(
                ":execution:{}:",
                metric["StateMachineName"].as_str().unwrap_or("none")
            )),
            "the dimension is the execution's state machine: {metric}"
        );
        let status = hitl.ok(&["status", name]);
        assert!(
            status.contains("Decision:  rejected (review expired)"),
            "{status}"
        );
        // The Timers branch records the expiry; the reviewer's wait is cut.
        assert_eq!(
            history(&status),
            [
                "Prepare Review",
                "Open Review",
                "Collect Votes",
                "Ask Reviewers",
                "Ask Reviewer",
                "Start Timers",
                "Wait For Timer",
                "Tick",
                "After Tick",
                "Timer Decided",
                "Read Decision",
                "Route Decision",
                "Process Rejection",
                "ExecutionSucceeded"
            ]
        );
    }
    if let Some(cli) = &cli {
        let described = cli.describe(&requests[1].1);
        assert_eq!(
            described.output.expect("an output")["review"]["expired"],
            true
        );
    }
}

/// The embedded-metric-format document Process Rejection printed for the
/// expired review of `execution_name`, found in local mode's log.
fn expiry_metric(local: &LocalMode, execution_name: &str) -> Value {
    let executions = format!("\"executionName\":\"{execution_name}\"");
    poll(
        &format!("the ReviewsExpired metric of {execution_name}"),
        TIMEOUT,
        || {
            local
                .log()
                .lines()
                .filter(|line| line.contains("\"_aws\"") && line.contains(&executions))
                .find_map(|line| serde_json::from_str(&line[line.find('{')?..]).ok())
        },
        || local.log(),
    )
}

/// The alarm topic's email subscription in the tests that set `AlarmEmail`.
const ALARM_EMAIL: &str = "alarms@example.com";

#[test]
fn an_action_that_keeps_failing_is_retried_reported_to_the_alarm_topic_and_fails_the_execution() {
    // GIVEN local mode whose approval action always fails (the failure drill
    // on Process Approval), retried once, with an alarm email subscribed
    let local = LocalMode::start_with_template(
        |text| {
            let variable = "          DECISION_TOPIC_ARN: !Ref DecisionTopic\n";
            assert!(text.contains(variable), "template.yaml sets {variable}");
            // The first function that sets it is Process Approval.
            text.replacen(
                variable,
                &format!("{variable}          HITL_ACTION_FAILURE_DRILL: the ledger is down\n"),
                1,
            )
        },
        &["ActionMaxAttempts=1", &format!("AlarmEmail={ALARM_EMAIL}")],
    );
    let sdk = Sdk::connect(&local);
    let hitl = Hitl::new(&local);
    // WHEN a reviewer approves
    let (execution, email) = request_review(&sdk, &local, "action-fails");
    sdk.send_task_success(&email.token, &event_text("review_approve.json"))
        .unwrap_or_else(|code| panic!("could not approve: {code}"));
    // THEN the execution ends FAILED with the action's named error
    let described = sdk.wait_until_done(&execution);
    assert_eq!(described.status, "FAILED", "{described:?}");
    assert_eq!(
        described.error.as_deref(),
        Some("ActionFailed"),
        "{described:?}"
    );
    assert!(
        described
            .cause
            .as_deref()
            .is_some_and(|cause| cause.contains("the ledger is down")),
        "{described:?}"
    );
    // AND the action ran three times: the first attempt, one retry
    // (ActionMaxAttempts=1), and the last attempt after the alarm
    assert_eq!(
        sdk.task_failures(&execution),
        ["ActionFailed", "ActionFailed", "ActionFailed"]
    );
    let status = hitl.ok(&["status", "action-fails"]);
    let states = history(&status);
    assert!(
        states.ends_with(&[
            "Read Decision".to_owned(),
            "Route Decision".to_owned(),
            "Process Approval".to_owned(),
            "Report Failed Approval".to_owned(),
            "Process Approval Again".to_owned(),
            "ExecutionFailed".to_owned()
        ]),
        "{status}"
    );
    // AND the alarm topic's subscriber was told what failed, which execution,
    // and how to redrive it
    let alarm = local.outbox().wait_for("Action failed: action-fails");
    assert_eq!(alarm.header("To"), Some(ALARM_EMAIL), "{:?}", alarm.headers);
    for words in [
        "The approval action of execution ",
        &execution,
        "Error: ActionFailed",
        "the ledger is down",
        &format!(
            "aws stepfunctions redrive-execution --region {REGION} --execution-arn {execution}"
        ),
        "docs/operations.md",
    ] {
        assert!(alarm.body.contains(words), "{words:?} in {}", alarm.body);
    }
    // AND the reviewers got the review request only, and nobody a decision
    assert_eq!(
        local
            .outbox()
            .with_subject("Review requested: action-fails")
            .len(),
        1
    );
    assert!(
        local
            .outbox()
            .with_subject("Approved: action-fails")
            .is_empty()
    );
}

#[test]
fn a_redriven_review_runs_its_failed_action_again_and_never_emails_the_reviewers_twice() {
    // GIVEN local mode whose approval action fails (the failure drill), retried once
    let drill = "          HITL_ACTION_FAILURE_DRILL: the ledger is down\n";
    let variable = "          DECISION_TOPIC_ARN: !Ref DecisionTopic\n";
    let mut local = LocalMode::start_with_template(
        |text| text.replacen(variable, &format!("{variable}{drill}"), 1),
        &["ActionMaxAttempts=1"],
    );
    // AND two approved reviews whose action failed until the execution FAILED
    // (in Process Approval Again, after the retry and the alarm)
    let names = ["redrive-by-cli", "redrive-by-hitl"];
    let executions: Vec<String> = {
        let sdk = Sdk::connect(&local);
        let executions: Vec<String> = names
            .iter()
            .map(|name| {
                let (execution, email) = request_review(&sdk, &local, name);
                sdk.send_task_success(&email.token, &event_text("review_approve.json"))
                    .unwrap_or_else(|code| panic!("could not approve {name}: {code}"));
                execution
            })
            .collect();
        for execution in &executions {
            let described = sdk.wait_until_done(execution);
            assert_eq!(described.status, "FAILED", "{described:?}");
            assert_eq!(described.error.as_deref(), Some("ActionFailed"));
        }
        executions
    };
    // WHEN the cause is fixed (the drill removed, local mode restarted on the
    // same state)
    local.stop();
    local.edit_template(|text| {
        assert!(text.contains(drill), "the drill is set");
        text.replace(drill, "")
    });
    local.restart();
    let sdk = Sdk::connect(&local);
    let hitl = Hitl::new(&local);
    // AND one is redriven with the AWS CLI (or hitl when it is not installed),
    // the other with `hitl redrive`
    match AwsCli::find() {
        Some(program) => {
            let cli = AwsCli::connect(program, &local);
            let redriven = cli.json(&[
                "stepfunctions",
                "redrive-execution",
                "--execution-arn",
                &executions[0],
            ]);
            assert!(redriven["redriveDate"].is_number(), "{redriven}");
        }
        None => {
            hitl.ok(&["redrive", "--execution", names[0]]);
        }
    }
    let said = hitl.ok(&["redrive", "--execution", names[1]]);
    assert!(
        said.contains("it runs again from Process Approval Again"),
        "{said}"
    );
    assert!(said.contains("the reviewers are not asked again"), "{said}");
    for (name, execution) in names.iter().zip(&executions) {
        // THEN the execution succeeds, with the decision it had
        let described = sdk.wait_until_done(execution);
        assert_decided(&described, "approved", &event("review_approve.json"));
        // AND DescribeExecution counts the redrive
        let redrive = sdk.redrive_count(execution);
        assert_eq!(redrive, 1, "{name}");
        // AND only the failed action ran again: nothing of the review
        let history = sdk.history(execution);
        let at = history
            .iter()
            .position(|event| event.r#type().as_str() == "ExecutionRedriven")
            .unwrap_or_else(|| panic!("no ExecutionRedriven in {name}'s history"));
        let rerun: Vec<&str> = history[at..]
            .iter()
            .filter_map(|event| event.state_entered_event_details())
            .map(|entered| entered.name())
            .collect();
        assert_eq!(rerun, ["Process Approval Again"], "{name}");
        // AND the reviewers were emailed once, and the decision announced once
        assert_eq!(
            local
                .outbox()
                .with_subject(&format!("Review requested: {name}"))
                .len(),
            1,
            "{name}: no second review request"
        );
        local.outbox().wait_for(&format!("Approved: {name}"));
        assert_eq!(
            local
                .outbox()
                .with_subject(&format!("Approved: {name}"))
                .len(),
            1
        );
    }
    // AND a redrive of a succeeded review is refused with what to do
    let refused = hitl.fails(&["redrive", "--execution", names[1]]);
    assert!(
        refused.contains(
            "Execution is SUCCEEDED and cannot be redriven; it succeeded: nothing to redrive"
        ),
        "{refused}"
    );
}

/// One SNS action on local mode (query protocol); gives the XML answer.
fn sns(local: &LocalMode, params: &[(&str, &str)]) -> String {
    let (status, body) = http("POST", &format!("{}/", local.endpoint()), Some(params));
    assert_eq!(status, 200, "SNS {params:?}: {body}");
    body
}

#[test]
fn a_decision_that_cannot_be_published_is_retried_until_sns_is_back() {
    // GIVEN local mode whose decision topic is gone (as if SNS failed)
    let local = LocalMode::start(&[]);
    let sdk = Sdk::connect(&local);
    let topics = sns(&local, &[("Action", "ListTopics")]);
    let topic = topics
        .split("<TopicArn>")
        .filter_map(|rest| rest.split_once("</TopicArn>").map(|(arn, _)| arn))
        .find(|arn| arn.contains("DecisionTopic"))
        .unwrap_or_else(|| panic!("no decision topic in {topics}"))
        .to_owned();
    sns(&local, &[("Action", "DeleteTopic"), ("TopicArn", &topic)]);
    // WHEN a review is approved
    let (execution, email) = request_review(&sdk, &local, "publish-retried");
    sdk.send_task_success(&email.token, &event_text("review_approve.json"))
        .unwrap_or_else(|code| panic!("could not approve: {code}"));
    // THEN Process Approval fails with DecisionNotPublished, and is retried
    poll(
        "a failed Process Approval",
        Duration::from_secs(30),
        || (!sdk.task_failures(&execution).is_empty()).then_some(()),
        || local.log(),
    );
    assert_eq!(sdk.describe(&execution).status, "RUNNING");
    // AND once the topic is back, a retry publishes the decision and the execution
    // succeeds with it
    let name = topic.rsplit(':').next().unwrap_or_default();
    let created = sns(&local, &[("Action", "CreateTopic"), ("Name", name)]);
    assert!(created.contains(&topic), "{created}");
    let record = assert_decided(
        &sdk.wait_until_done(&execution),
        "approved",
        &event("review_approve.json"),
    );
    assert_eq!(record["executionName"], "publish-retried");
    let failures = sdk.task_failures(&execution);
    assert!(!failures.is_empty() && failures.len() <= 3, "{failures:?}");
    assert!(
        failures.iter().all(|error| error == "DecisionNotPublished"),
        "{failures:?}"
    );
}

#[test]
fn the_jsonata_machine_approves_rejects_refuses_invalid_answers_and_expires() {
    // GIVEN local mode running the JSONata version of the machine, with
    // reviews that expire after 10 seconds
    let local = LocalMode::start_with_definition(
        "statemachine/human_in_the_loop.jsonata.asl.json",
        &["ReviewTimeoutSeconds=10"],
    );
    let sdk = Sdk::connect(&local);
    let hitl = Hitl::new(&local);
    // The review left unanswered starts first: it is the one that waits.
    let expiring = sdk.start("jsonata-expires", &event_text("start_execution.json"));
    let email = local.outbox().review_email("jsonata-expires");
    assert!(
        email
            .body()
            .contains("A review nobody decides in time is rejected.")
    );
    // WHEN reviewers approve, reject and send answers without a boolean
    // result, THEN the outcomes are the JSONPath machine's, checked by the
    // same flows.
    approval(&sdk, &local, "jsonata-approve");
    rejection(&sdk, &local, "jsonata-reject");
    answers_without_a_boolean_result(&sdk, &local, "jsonata-invalid");
    // AND the unanswered review expires as a rejection, through the same states
    let record = assert_decided(
        &sdk.wait_until_done(&expiring),
        "rejected",
        &json!({"result": false, "expired": true}),
    );
    assert_decision_email(
        &local,
        "Review expired: jsonata-expires",
        "The review expired without a decision, so the request was rejected.",
        &record,
    );
    let states = history(&hitl.ok(&["status", "jsonata-expires"]));
    assert!(
        states.ends_with(&[
            "Tick".to_owned(),
            "After Tick".to_owned(),
            "Timer Decided".to_owned(),
            "Read Decision".to_owned(),
            "Route Decision".to_owned(),
            "Process Rejection".to_owned(),
            "ExecutionSucceeded".to_owned()
        ]),
        "{states:?}"
    );
}

#[test]
fn a_waiting_review_survives_a_sigkill_of_local_mode() {
    // GIVEN two reviews waiting in local mode
    let mut local = LocalMode::start(&[]);
    let hitl = Hitl::new(&local);
    let sdk = Sdk::connect(&local);
    let (execution, email) = request_review(&sdk, &local, "survives-sdk");
    hitl.ok(&[
        "start",
        "--input",
        "events/start_execution.json",
        "--name",
        "survives-hitl",
    ]);
    local.outbox().review_email("survives-hitl");

    // WHEN local mode is killed (no chance to save anything) and started again
    local.kill();
    assert!(!local.is_listening(), "nothing may survive a SIGKILL");
    local.restart();

    // THEN both reviews still wait
    let mut pending = hitl.pending();
    pending.sort();
    assert_eq!(pending, ["survives-hitl", "survives-sdk"]);
    // AND the token from the email sent before the crash answers its review
    let sdk = Sdk::connect(&local);
    sdk.send_task_success(&email.token, &event_text("review_approve.json"))
        .expect("the old token answers after the restart");
    assert_decided(
        &sdk.wait_until_done(&execution),
        "approved",
        &event("review_approve.json"),
    );
    // AND `hitl` answers the other by name
    hitl.ok(&["reject", "--execution", "survives-hitl"]);
    let rejected = poll(
        "survives-hitl to be decided",
        TIMEOUT,
        || {
            let status = hitl.ok(&["status", "survives-hitl"]);
            status.contains("Status:    SUCCEEDED").then_some(status)
        },
        || local.log(),
    );
    assert!(rejected.contains("Decision:  rejected\n"), "{rejected}");
}

#[test]
fn a_review_that_expires_while_local_mode_is_down_is_rejected_on_restart() {
    // GIVEN a review that expires after 2 seconds
    let mut local = LocalMode::start(&["ReviewTimeoutSeconds=2"]);
    let sdk = Sdk::connect(&local);
    let name = "expires-while-down";
    let (execution, email) = request_review(&sdk, &local, name);
    // WHEN local mode is killed and stays down past the deadline
    local.kill();
    let sent = email
        .body()
        .lines()
        .find_map(|line| line.strip_prefix("Sent: "))
        .and_then(|sent| DateTime::parse_from_rfc3339(sent).ok())
        .expect("a Sent: time");
    let deadline = sent + chrono::Duration::seconds(2);
    // A real-time deadline: the wait is the point of the test.
    while chrono::Utc::now() <= deadline + chrono::Duration::milliseconds(500) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    local.restart();
    // THEN on restart the review expires as a rejection
    let sdk = Sdk::connect(&local);
    let record = assert_decided(
        &sdk.wait_until_done(&execution),
        "rejected",
        &json!({"result": false, "expired": true}),
    );
    assert_decision_email(
        &local,
        &format!("Review expired: {name}"),
        "The review expired without a decision, so the request was rejected.",
        &record,
    );
}

// ---- one-click review links (issue 5), served by local mode ----

#[test]
fn review_links_do_nothing_on_open_and_decide_once_on_confirm() {
    let (local, sdk) = sdk();
    // GIVEN a review request email with two links to local mode
    let (execution, email) = request_review(&sdk, &local, "link-flow");
    for link in [&email.approve_link, &email.reject_link] {
        assert!(
            link.starts_with(&format!("{}/review?", local.endpoint())),
            "{link}"
        );
    }
    // WHEN a mail scanner opens both links
    for link in [&email.approve_link, &email.reject_link] {
        let (status, page) = http("GET", link, None);
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("changed nothing"), "{page}");
    }
    // THEN the review still waits
    assert_eq!(sdk.describe(&execution).status, "RUNNING");

    // WHEN the reviewer confirms the approval on the page
    // The short link's secret is the form's only credential (no token).
    let secret = query_value(&email.approve_link, "s");
    assert_eq!(secret, query_value(&email.reject_link, "s"));
    let fields = |decision: &'static str| {
        vec![
            ("s", secret.clone()),
            ("d", decision.to_owned()),
            ("reviewer", "Ana <b>".to_owned()),
        ]
    };
    let approve = fields("approve");
    let approve: Vec<(&str, &str)> = approve.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let (status, page) = http(
        "POST",
        &format!("{}/review", local.endpoint()),
        Some(&approve),
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<h1>Approved</h1>"), "{page}");
    assert!(!page.contains("Ana <b>"), "unescaped name in {page}");
    // THEN the execution is approved through the link
    let described = sdk.wait_until_done(&execution);
    assert_eq!(described.status, "SUCCEEDED", "{described:?}");
    let record = described.output.expect("an output");
    assert_eq!(record["decision"], "approved");
    assert_eq!(record["review"]["via"], "link");
    assert_eq!(record["review"]["reviewer"], "Ana <b>");

    // AND a second click says it was already decided
    let reject = fields("reject");
    let reject: Vec<(&str, &str)> = reject.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let (status, page) = http(
        "POST",
        &format!("{}/review", local.endpoint()),
        Some(&reject),
    );
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("Already approved"), "{page}");
}

// ---- what local mode says about itself ----

#[test]
fn local_mode_in_debug_announces_the_build_it_runs() {
    let local = stack();
    let log = local.log();
    assert!(log.contains("Building the functions"), "{log}");
    assert!(!log.contains("cargo build --release"), "{log}");
    assert!(log.contains("target/debug/hitl pending"), "{log}");
}
