//! Approval policies end to end (issue 14): `hitl local` with several
//! reviewers, driven as reviewers would drive it — each with the task token
//! from their own email (aws-sdk-sfn, as `aws stepfunctions send-task-success`
//! sends it) or with `hitl approve --as`. Seconds-long timers stand in for
//! hours. docs/approval-policies.md lists what each test stands for.

// Each test binary uses part of the shared fixtures.
#[allow(dead_code)]
use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use test_support::{
    DECISION_EMAIL, Described, Hitl, LocalMode, ReviewEmail, Sdk, StepFunctions, TIMEOUT, http,
    poll, query_value,
};

const A: &str = "a@x.com";
const B: &str = "b@x.com";
const C: &str = "c@x.com";
const THREE: &str = "ReviewerEmails=a@x.com,b@x.com,c@x.com";

fn approve() -> String {
    json!({"result": true}).to_string()
}

fn reject() -> String {
    json!({"result": false, "comment": "not this quarter"}).to_string()
}

/// Starts an execution whose request names `requested_by`, and gives its ARN.
fn start(sdk: &Sdk, name: &str, requested_by: &str) -> String {
    sdk.start(
        name,
        &json!({"title": "Deploy to production", "requestedBy": requested_by}).to_string(),
    )
}

/// Each reviewer's own request email.
fn emails(local: &LocalMode, name: &str, reviewers: &[&str]) -> Vec<ReviewEmail> {
    reviewers
        .iter()
        .map(|reviewer| local.outbox().review_email_to(name, reviewer))
        .collect()
}

fn voters(output: &Value) -> Vec<String> {
    output["votes"]
        .as_array()
        .unwrap_or_else(|| panic!("no votes in {output}"))
        .iter()
        .map(|vote| vote["reviewer"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Waits until `n` votes of the execution are counted: Record Vote finished
/// that many times.
fn wait_for_votes(sdk: &Sdk, execution: &str, n: usize) {
    poll(
        &format!("{n} vote(s) to be counted"),
        TIMEOUT,
        || (sdk.exited(execution, "Record Vote") >= n).then_some(()),
        || format!("{:?}", sdk.describe(execution)),
    );
}

fn assert_refused_as_closed(result: Result<(), String>, who: &str) {
    assert_eq!(
        result,
        Err("TaskTimedOut".to_owned()),
        "{who}'s token must be refused once the review is decided"
    );
}

#[test]
fn two_of_three_stays_running_after_one_approval_and_the_second_decides() {
    // GIVEN three reviewers, two of whom must approve
    let local = LocalMode::start(&[THREE, "RequiredApprovals=2"]);
    let sdk = Sdk::connect(&local);
    let execution = start(&sdk, "two-of-three", "maria@example.com");
    let [a, b, c] = <[ReviewEmail; 3]>::try_from(emails(&local, "two-of-three", &[A, B, C]))
        .unwrap_or_else(|_| unreachable!());
    // Each email holds its own credential.
    let tokens: BTreeSet<&str> = [&a, &b, &c].iter().map(|e| e.token.as_str()).collect();
    assert_eq!(tokens.len(), 3, "one token per reviewer");
    for email in [&a, &b, &c] {
        for link in [&email.approve_link, &email.reject_link] {
            assert!(link.len() <= 200, "{} characters: {link}", link.len());
            assert!(!link.contains(&email.token), "the link carries no token");
        }
    }

    // WHEN a approves THEN the review still waits for a second approval
    sdk.send_task_success(&a.token, &approve())
        .expect("a's vote");
    wait_for_votes(&sdk, &execution, 1);
    assert_eq!(sdk.describe(&execution).status, "RUNNING");
    // a's token was used; a second answer with it is refused like any used token.
    assert!(sdk.send_task_success(&a.token, &approve()).is_err());

    // WHEN b approves THEN it is approved, with both votes in the record
    sdk.send_task_success(&b.token, &approve())
        .expect("b's vote");
    let done = sdk.wait_until_done(&execution);
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let output = done.output.expect("the decision record");
    assert_eq!(output["decision"], "approved");
    assert_eq!(voters(&output), [A, B]);
    assert_eq!(output["policy"]["required"], 2);
    assert_eq!(output["policy"]["reviewers"], json!([A, B, C]));
    // c's wait ended with the decision: the token is refused at once.
    assert_refused_as_closed(sdk.send_task_success(&c.token, &approve()), "c");
    assert_eq!(sdk.scheduled(&execution, "ProcessApprovalFunction"), 1);

    let decision = local.outbox().wait_for("Approved: two-of-three");
    assert_eq!(decision.header("To"), Some(DECISION_EMAIL));
    assert!(
        decision.body.contains("Votes (2 approval(s) required):"),
        "{}",
        decision.body
    );
}

#[test]
fn one_rejection_vetoes_and_ends_every_other_wait() {
    let local = LocalMode::start(&[THREE, "RequiredApprovals=2"]);
    let sdk = Sdk::connect(&local);
    let execution = start(&sdk, "veto", "maria@example.com");
    let all = emails(&local, "veto", &[A, B, C]);

    sdk.send_task_success(&all[1].token, &reject())
        .expect("b's veto");
    let done = sdk.wait_until_done(&execution);
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let output = done.output.expect("the decision record");
    assert_eq!(output["decision"], "rejected");
    assert_eq!(output["comment"], "not this quarter");
    assert_eq!(voters(&output), [B]);
    for (email, who) in [(&all[0], "a"), (&all[2], "c")] {
        assert_refused_as_closed(sdk.send_task_success(&email.token, &approve()), who);
    }
    assert_eq!(sdk.scheduled(&execution, "ProcessRejectionFunction"), 1);
    assert_eq!(sdk.scheduled(&execution, "ProcessApprovalFunction"), 0);
}

#[test]
fn the_requester_is_never_asked_and_too_few_others_fail_at_once() {
    // GIVEN two reviewers and one approval needed, requested by one of them
    let local = LocalMode::start(&["ReviewerEmails=a@x.com,b@x.com"]);
    let sdk = Sdk::connect(&local);
    let execution = start(&sdk, "own-request", "A@X.com");
    let b = local.outbox().review_email_to("own-request", B);
    // THEN only b is asked; a never gets a token for their own request
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        local
            .outbox()
            .to(A, "Review requested: own-request")
            .is_empty(),
        "the requester must not be asked"
    );
    sdk.send_task_success(&b.token, &approve())
        .expect("b's vote");
    let output = sdk.wait_until_done(&execution).output.expect("a record");
    assert_eq!(output["decision"], "approved");
    assert_eq!(voters(&output), [B]);
    drop(local);

    // GIVEN both must approve THEN the requester's own request cannot be met
    let local = LocalMode::start(&["ReviewerEmails=a@x.com,b@x.com", "RequiredApprovals=2"]);
    let sdk = Sdk::connect(&local);
    let execution = start(&sdk, "cannot-be-met", "a@x.com");
    let done = sdk.wait_until_done(&execution);
    assert_eq!(done.status, "FAILED", "{done:?}");
    assert_eq!(done.error.as_deref(), Some("NotEnoughEligibleReviewers"));
    let cause = done.cause.unwrap_or_default();
    assert!(cause.contains('1') && cause.contains('2'), "{cause}");
    assert!(
        local.outbox().to(B, "Review requested").is_empty(),
        "nobody is emailed for a review that cannot be decided"
    );
}

#[test]
fn reminders_go_to_those_who_have_not_answered_then_the_escalation_then_the_expiry() {
    // GIVEN reminders every 2 s (twice), an escalation, and a 14 s review
    let local = LocalMode::start(&[
        "ReviewerEmails=a@x.com,b@x.com",
        "RequiredApprovals=2",
        "ReminderAfterSeconds=2",
        "MaxReminders=2",
        "EscalationEmail=boss@x.com",
        "ReviewTimeoutSeconds=14",
    ]);
    let sdk = Sdk::connect(&local);
    let execution = start(&sdk, "slow", "maria@example.com");
    let a = local.outbox().review_email_to("slow", A);
    let first_b = local.outbox().review_email_to("slow", B);
    sdk.send_task_success(&a.token, &approve())
        .expect("a's vote");

    // WHEN nobody else answers THEN the review expires and is rejected
    let done = poll(
        "the review to expire",
        Duration::from_secs(60),
        || Some(sdk.describe(&execution)).filter(|d| d.status != "RUNNING"),
        String::new,
    );
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let output = done.output.expect("the decision record");
    assert_eq!(output["decision"], "rejected");
    assert_eq!(output["expired"], true);
    assert_eq!(voters(&output), [A]);

    let outbox = local.outbox();
    let reminders_to_b = outbox.to(B, "Reminder ");
    assert_eq!(reminders_to_b.len(), 2, "two reminders to b");
    assert!(outbox.to(A, "Reminder ").is_empty(), "a already voted");
    // A reminder resends b's own token: the first email keeps working.
    for reminder in &reminders_to_b {
        assert_eq!(ReviewEmail::read(reminder.clone()).token, first_b.token);
    }
    let escalations = outbox.to("boss@x.com", "Escalated review requested: slow");
    assert_eq!(escalations.len(), 1, "one escalation");
    assert!(outbox.to(A, "Escalated").is_empty() && outbox.to(B, "Escalated").is_empty());
}

/// The worst case the parameters allow (10 reviewers who must all approve,
/// 10 reminders, an escalation, then the expiry) stays within the bound
/// docs/approval-policies.md derives, far under AWS's 25,000 events.
#[test]
fn the_longest_review_stays_within_the_documented_history_bound() {
    let reviewers: Vec<String> = (0..10).map(|i| format!("r{i}@x.com")).collect();
    let list = format!("ReviewerEmails={}", reviewers.join(","));
    let local = LocalMode::start(&[
        list.as_str(),
        "RequiredApprovals=10",
        "ReminderAfterSeconds=1",
        "MaxReminders=10",
        "EscalationEmail=boss@x.com",
        "ReviewTimeoutSeconds=14",
    ]);
    let sdk = Sdk::connect(&local);
    let execution = start(&sdk, "longest", "maria@example.com");
    let done = poll(
        "the review to expire",
        Duration::from_secs(90),
        || Some(sdk.describe(&execution)).filter(|d| d.status != "RUNNING"),
        String::new,
    );
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    assert_eq!(done.output.expect("a record")["expired"], true);
    let (n, r, escalation) = (10, 10, 14);
    let bound = 30 + 19 * n + 9 * r + escalation;
    let events = sdk.history(&execution).len();
    assert!(events <= bound, "{events} events, bound {bound}");
    // Every reviewer got all ten reminders: the bound was reached honestly.
    for reviewer in &reviewers {
        assert_eq!(
            local.outbox().to(reviewer, "Reminder ").len(),
            10,
            "{reviewer}"
        );
    }
}

#[test]
fn an_expiry_decides_what_decision_on_timeout_says() {
    let local = LocalMode::start(&[
        "ReviewerEmails=a@x.com",
        "ReviewTimeoutSeconds=2",
        "DecisionOnTimeout=approve",
    ]);
    let sdk = Sdk::connect(&local);
    let execution = start(&sdk, "quiet", "maria@example.com");
    let a = local.outbox().review_email_to("quiet", A);
    let done = sdk.wait_until_done(&execution);
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let output = done.output.expect("the decision record");
    assert_eq!(
        (&output["decision"], &output["expired"]),
        (&json!("approved"), &json!(true))
    );
    assert_eq!(output["votes"], json!([]));
    assert_refused_as_closed(sdk.send_task_success(&a.token, &reject()), "a");
    local.outbox().wait_for("Review expired, approved: quiet");
}

#[test]
fn two_votes_sent_at_the_same_instant_decide_once() {
    const REVIEWS: usize = 25;
    let local = LocalMode::start(&[THREE, "RequiredApprovals=2"]);
    let sdk = Sdk::connect(&local);
    let names: Vec<String> = (0..REVIEWS).map(|i| format!("race-{i}")).collect();
    let executions: Vec<String> = names
        .iter()
        .map(|name| start(&sdk, name, "maria@example.com"))
        .collect();
    let tokens: Vec<(String, String)> = names
        .iter()
        .map(|name| {
            let [a, b] = <[ReviewEmail; 2]>::try_from(emails(&local, name, &[A, B]))
                .unwrap_or_else(|_| unreachable!());
            (a.token, b.token)
        })
        .collect();

    // WHEN a and b answer every review at once, from two threads
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|scope| {
        for side in 0..2 {
            let (local, tokens, barrier) = (&local, &tokens, &barrier);
            scope.spawn(move || {
                let sdk = Sdk::connect(local);
                barrier.wait();
                for (a, b) in tokens {
                    let token = if side == 0 { a } else { b };
                    sdk.send_task_success(token, &approve()).expect("a vote");
                }
            });
        }
    });

    // THEN each review is approved once, with both votes and one action
    for (name, execution) in names.iter().zip(&executions) {
        let done: Described = sdk.wait_until_done(execution);
        assert_eq!(done.status, "SUCCEEDED", "{name}: {done:?}");
        let output = done.output.expect("the decision record");
        let mut who = voters(&output);
        who.sort();
        assert_eq!(who, [A, B], "{name}");
        assert_eq!(
            sdk.scheduled(execution, "ProcessApprovalFunction"),
            1,
            "{name}"
        );
    }
    for name in &names {
        assert_eq!(
            local
                .outbox()
                .with_subject(&format!("Approved: {name}"))
                .len(),
            1,
            "one decision email for {name}"
        );
    }
}

#[test]
fn a_vote_survives_a_sigkill_and_the_next_one_decides() {
    let mut local = LocalMode::start(&[THREE, "RequiredApprovals=2"]);
    let execution = start(&Sdk::connect(&local), "crash", "maria@example.com");
    let all = emails(&local, "crash", &[A, B, C]);
    {
        let sdk = Sdk::connect(&local);
        sdk.send_task_success(&all[0].token, &approve())
            .expect("a's vote");
        wait_for_votes(&sdk, &execution, 1);
    }
    local.kill();
    local.restart();
    let sdk = Sdk::connect(&local);
    assert_eq!(sdk.describe(&execution).status, "RUNNING");
    sdk.send_task_success(&all[1].token, &approve())
        .expect("b's vote after the restart");
    let done = sdk.wait_until_done(&execution);
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    assert_eq!(voters(&done.output.expect("a record")), [A, B]);
    // Nobody was asked twice.
    for reviewer in [A, B, C] {
        assert_eq!(
            local.outbox().to(reviewer, "Review requested: crash").len(),
            1
        );
    }
}

/// A callback task invokes its function and waits for it, as AWS does; an
/// error the function raises fails the task instead of leaving it waiting for
/// a token that was never handed out. (Ask Reviewer's errors are what the
/// machine's Retry and Catch act on.)
#[test]
fn a_callback_task_whose_function_fails_fails_with_the_functions_error() {
    let local = LocalMode::start_with_definition(
        "crates/hitl/tests/fixtures/callback_function_fails.asl.json",
        &[],
    );
    let sdk = Sdk::connect(&local);
    let execution = sdk.start("callback-error", "{}");
    let done = poll(
        "the callback task to fail",
        TIMEOUT,
        || Some(sdk.describe(&execution)).filter(|d| d.status != "RUNNING"),
        String::new,
    );
    assert_eq!(done.status, "FAILED", "{done:?}");
    let error = done.error.unwrap_or_default();
    assert!(
        !error.is_empty() && error != "States.Timeout",
        "the function's own error, not a timeout: {error}"
    );
    assert_eq!(sdk.scheduled(&execution, "RecordVoteFunction"), 1);
}

#[test]
fn an_answer_without_a_boolean_result_ends_the_review_with_the_value_received() {
    let local = LocalMode::start(&[THREE, "RequiredApprovals=2"]);
    let sdk = Sdk::connect(&local);
    let execution = start(&sdk, "typo", "maria@example.com");
    let a = local.outbox().review_email_to("typo", A);
    sdk.send_task_success(&a.token, r#"{"result":"yes"}"#)
        .expect("delivered");
    let done = sdk.wait_until_done(&execution);
    assert_eq!(done.status, "FAILED", "{done:?}");
    assert_eq!(done.error.as_deref(), Some("InvalidReviewResult"));
    assert!(
        done.cause
            .unwrap_or_default()
            .contains(r#"{"result":"yes"}"#)
    );
}

/// Issue 14 through the CLI: 2 of 3 reviewers, answered with `hitl approve --as`.
#[test]
fn hitl_two_of_three_votes_by_address_until_the_quorum_decides() {
    // GIVEN local mode with three reviewers, two of whom must approve
    let local = LocalMode::start(&[THREE, "RequiredApprovals=2"]);
    let hitl = Hitl::new(&local);
    let name = "two-of-three";
    hitl.ok(&[
        "start",
        "--input",
        "events/start_execution.json",
        "--name",
        name,
    ]);
    let sdk = Sdk::connect(&local);
    let pending_line = |hitl: &Hitl, needle: &str| {
        poll(
            "the review to wait for its reviewers",
            TIMEOUT,
            || {
                let listing = hitl.ok(&["pending"]);
                listing
                    .lines()
                    .find(|line| line.starts_with(name) && line.contains(needle))
                    .map(str::to_owned)
            },
            || hitl.ok(&["status", name]),
        )
    };
    let line = pending_line(&hitl, "0/2 approved");
    assert!(
        line.contains("0/2 approved; waiting for a@x.com, b@x.com, c@x.com"),
        "{line}"
    );
    // Several reviewers wait: answering needs --as.
    let error = hitl.fails(&["approve", "--execution", name]);
    assert!(
        error.contains("waits for 3 reviewers: a@x.com, b@x.com, c@x.com"),
        "{error}"
    );
    // WHEN a approves, the review goes on
    let approved = hitl.ok(&[
        "approve",
        "--execution",
        name,
        "--as",
        "A@x.com",
        "--reviewer",
        "Ana",
    ]);
    assert!(approved.contains("Approved as a@x.com"), "{approved}");
    let line = pending_line(&hitl, "1/2 approved: a@x.com");
    assert!(line.contains("waiting for b@x.com, c@x.com"), "{line}");
    let execution = sdk.execution_arn(name);
    assert_eq!(sdk.describe(&execution).status, "RUNNING");
    // a cannot vote twice; a stranger is not a reviewer
    let twice = hitl.fails(&["reject", "--execution", name, "--as", "a@x.com"]);
    assert!(
        twice.contains("a@x.com has already voted on two-of-three (approved at "),
        "{twice}"
    );
    let stranger = hitl.fails(&["approve", "--execution", name, "--as", "eve@x.com"]);
    assert!(
        stranger.contains("eve@x.com is not a reviewer"),
        "{stranger}"
    );
    // WHEN b approves THEN the quorum decides
    hitl.ok(&[
        "approve",
        "--execution",
        name,
        "--as",
        "b@x.com",
        "--comment",
        "ok",
    ]);
    let done = sdk.wait_until_done(&execution);
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let status = hitl.ok(&["status", name]);
    assert!(
        status.contains("Votes:     2/2 approved: a@x.com, b@x.com"),
        "{status}"
    );
    assert!(status.contains("via cli  name: Ana"), "{status}");
    assert!(status.contains("comment: ok"), "{status}");
    let late = hitl.fails(&["approve", "--execution", name, "--as", "c@x.com"]);
    assert!(late.contains("has ended"), "{late}");
}

/// Every URL in an email body.
fn links(body: &str) -> Vec<&str> {
    body.split_whitespace()
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .collect()
}

/// AWS's task tokens can be 2,048 characters long (SendTaskSuccess, taskToken:
/// 1 to 2,048). With local mode's tokens padded to that length, every link in
/// every email stays short and works, and the token itself still answers.
#[test]
fn with_2048_character_tokens_every_link_is_short_and_works_and_the_token_votes() {
    let local = LocalMode::start_with_options(
        &["--task-token-length", "2048"],
        &[THREE, "RequiredApprovals=2"],
    );
    let sdk = Sdk::connect(&local);
    let name = "longest-tokens";
    let execution = start(&sdk, name, "maria@example.com");
    let all = emails(&local, name, &[A, B, C]);
    for (email, reviewer) in all.iter().zip([A, B, C]) {
        assert_eq!(email.token.len(), 2048, "{reviewer}'s Task token: line");
        // The review's links: the rest are SNS's footer (unsubscribe, support).
        let found: Vec<&str> = links(email.body())
            .into_iter()
            .filter(|link| link.starts_with(local.endpoint()))
            .collect();
        assert_eq!(found, [&email.approve_link, &email.reject_link]);
        for link in found {
            assert!(link.len() <= 200, "{} characters: {link}", link.len());
            assert!(!link.contains(&email.token[..40]), "{link}");
            // Each link opens its reviewer's form (and opening it decides nothing).
            let (status, page) = http("GET", link, None);
            assert_eq!(status, 200, "{link}: {page}");
            assert!(
                page.contains("<form")
                    && page.contains(&format!("<dt>For</dt><dd>{reviewer}</dd>")),
                "{link}: {page}"
            );
        }
    }
    assert_eq!(sdk.describe(&execution).status, "RUNNING");

    // A token cut at a base64 boundary inside its padding is not a's token.
    let a = &all[0];
    let cut = format!("{}{}", &a.token[..1020], &a.token[2036..]);
    assert_eq!(
        sdk.send_task_success(&cut, &approve()),
        Err("InvalidToken".to_owned())
    );
    // WHEN a answers with the whole 2,048-character token (the SDK, as
    // `aws stepfunctions send-task-success` does) THEN the vote counts
    sdk.send_task_success(&a.token, &approve())
        .expect("a's vote with a 2,048-character token");
    wait_for_votes(&sdk, &execution, 1);
    assert_eq!(sdk.describe(&execution).status, "RUNNING");
    // WHEN b answers through their link's form THEN that decides
    let (status, page) = http(
        "POST",
        &format!("{}/review", local.endpoint()),
        Some(&[
            ("s", &query_value(&all[1].approve_link, "s")),
            ("d", "approve"),
        ]),
    );
    assert_eq!(status, 200, "{page}");
    let done = sdk.wait_until_done(&execution);
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let output = done.output.expect("the decision record");
    assert_eq!(output["decision"], "approved");
    assert_eq!(voters(&output), [A, B]);
    assert_eq!(
        (&output["votes"][0]["via"], &output["votes"][1]["via"]),
        (&json!("cli"), &json!("link"))
    );
    assert_refused_as_closed(sdk.send_task_success(&all[2].token, &approve()), "c");
}
