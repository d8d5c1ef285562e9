//! The real `ask_reviewer` binary behind lambda-local's Runtime API, with
//! DynamoDB and SNS served locally: the reviewer's email lands in the outbox
//! under their own `To:`, the token is stored, and the JSON logs never carry it.

use hitl_domain::policy_flow::{OpenReviewInput, ReviewStore, open_review};
use hitl_domain::{Ballot, PolicyParameters};
use hitl_policy_aws::SystemClock;
use hitl_policy_aws::testing::{LocalAws, REVIEW_API_ENDPOINT};
use serde_json::json;

const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:Review:run-1";
const SAMPLE: &str = include_str!("../../../events/ask_reviewer.json");

#[tokio::test]
async fn the_binary_emails_one_reviewer_stores_the_token_and_never_logs_it() {
    let aws = LocalAws::start(&["a@example.com", "b@example.com"]).await;
    let policy = PolicyParameters {
        reviewer_emails: "a@example.com,b@example.com",
        ..PolicyParameters::default()
    }
    .parse();
    let input = OpenReviewInput {
        execution_arn: ARN.into(),
        request: json!({"order": 7}),
    };
    open_review(&aws.store, &SystemClock, &policy, input)
        .await
        .unwrap();

    let function = aws.function(env!("CARGO_BIN_EXE_ask_reviewer"), &[]);
    let token = format!("AQCE{}==", "tok+/".repeat(400));
    let payload = json!({
        "executionArn": ARN, "executionName": "run-1", "reviewer": "b@example.com",
        "taskToken": token, "request": {"order": 7}
    });
    let output = function.invoke(&payload).await.unwrap();
    assert_eq!(
        output,
        json!({"state": "asked", "reviewer": "b@example.com"})
    );

    // Only b's email, with b's 2,004-character token and links of at most 200 characters.
    let outbox = aws.outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].header("To"), Some("b@example.com"));
    assert!(outbox[0].body.contains(&format!("Task token: {token}")));
    let links: Vec<&str> = outbox[0]
        .body
        .lines()
        .filter(|l| l.starts_with(REVIEW_API_ENDPOINT))
        .collect();
    assert_eq!(links.len(), 2);
    assert!(links.iter().all(|l| l.len() <= 200), "{links:?}");
    let stored = aws
        .store
        .get_reviewer(ARN, "b@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.token, token);

    // Once b has voted, asking b again is AlreadyVoted, by its stable name.
    let mut review = aws.store.get_review(ARN).await.unwrap().unwrap();
    let ballot = Ballot::from_answer(&json!({"result": true})).unwrap();
    review
        .tally
        .record("b@example.com", ballot, chrono::Utc::now())
        .unwrap();
    let _ = aws
        .store
        .update_tally(ARN, review.version, &review.tally)
        .await
        .unwrap();
    let (error_type, _) = function.invoke(&payload).await.unwrap_err();
    assert_eq!(error_type, "AlreadyVoted");

    let logs = function.logs().await.join("\n");
    assert!(logs.contains("reviewer asked"), "{logs}");
    assert!(!logs.contains("tok+/"), "no token in the logs: {logs}");
    assert!(
        logs.lines()
            .filter(|l| l.contains("reviewer asked"))
            .all(|l| l.trim_start().starts_with('{')),
        "JSON logs: {logs}"
    );
}

#[tokio::test]
async fn the_sample_event_emails_ana_her_links_and_token() {
    let aws = LocalAws::start(&["ana@example.com", "bo@example.com"]).await;
    let sample: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    let policy = PolicyParameters {
        reviewer_emails: "ana@example.com,bo@example.com",
        ..PolicyParameters::default()
    }
    .parse();
    let input = OpenReviewInput {
        execution_arn: sample["executionArn"].as_str().unwrap().into(),
        request: sample["request"].clone(),
    };
    open_review(&aws.store, &SystemClock, &policy, input)
        .await
        .unwrap();
    let function = aws.function(env!("CARGO_BIN_EXE_ask_reviewer"), &[]);
    let output = function.invoke(&sample).await.unwrap();
    assert_eq!(
        output,
        json!({"state": "asked", "reviewer": "ana@example.com"})
    );
    let outbox = aws.outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].header("To"), Some("ana@example.com"));
    assert_eq!(
        outbox[0].subject().as_deref(),
        Some("Review requested: refund-1042")
    );
    let token = sample["taskToken"].as_str().unwrap();
    assert!(outbox[0].body.contains(&format!("Task token: {token}")));
    assert!(outbox[0].body.contains("Refund order 1042"));
    function.logs().await;
}
