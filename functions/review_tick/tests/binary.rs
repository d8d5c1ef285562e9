//! The real `review_tick` binary behind lambda-local, against local DynamoDB
//! and SNS: a due reminder reaches only the reviewer who has not voted.

use hitl_domain::PolicyParameters;
use hitl_domain::policy_flow::MessageSettings;
use hitl_domain::policy_flow::{
    AskReviewerInput, OpenReviewInput, RecordVoteInput, Role, ask_reviewer, open_review,
    record_vote,
};
use hitl_policy_aws::testing::{LocalAws, REVIEW_API_ENDPOINT, TOPIC};
use hitl_policy_aws::{RandomSecrets, SnsReviewerMailer, SystemClock};
use serde_json::json;

const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:Review:run-1";
const SAMPLE: &str = include_str!("../../../events/review_tick.json");

#[tokio::test]
async fn a_due_reminder_goes_only_to_the_reviewer_who_has_not_voted() {
    let aws = LocalAws::start(&["a@example.com", "b@example.com"]).await;
    // Reminders every second, so the first is due by the time the binary runs.
    let policy = PolicyParameters {
        reviewer_emails: "a@example.com,b@example.com",
        required_approvals: "2",
        reminder_after_seconds: "1",
        max_reminders: "1",
        review_timeout_seconds: "3600",
        ..PolicyParameters::default()
    }
    .parse();
    let input = OpenReviewInput {
        execution_arn: ARN.into(),
        request: json!({}),
    };
    open_review(&aws.store, &SystemClock, &policy, input)
        .await
        .unwrap();
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::Config::builder()
            .http_client(aws_https::https_client())
            .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
            .region(aws_sdk_sns::config::Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_sns::config::Credentials::new(
                "t", "t", None, None, "local",
            ))
            .endpoint_url(&aws.endpoint)
            .build(),
    );
    let mailer = SnsReviewerMailer::new(sns, TOPIC);
    let settings = MessageSettings {
        review_api_endpoint: REVIEW_API_ENDPOINT.into(),
        region: "eu-west-1".into(),
    };
    for reviewer in ["a@example.com", "b@example.com"] {
        let ask = AskReviewerInput {
            execution_arn: ARN.into(),
            execution_name: "run-1".into(),
            reviewer: reviewer.into(),
            role: Role::Reviewer,
            task_token: format!("token-of-{reviewer}"),
            request: json!({}),
        };
        ask_reviewer(
            &aws.store,
            &mailer,
            &SystemClock,
            &RandomSecrets,
            &settings,
            ask,
        )
        .await
        .unwrap();
    }
    let vote = RecordVoteInput {
        execution_arn: ARN.into(),
        reviewer: "a@example.com".into(),
        answer: json!({"result": true}),
    };
    record_vote(&aws.store, &SystemClock, vote).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let function = aws.function(env!("CARGO_BIN_EXE_review_tick"), &[]);
    let payload = json!({"executionArn": ARN, "executionName": "run-1", "request": {}});
    let output = function.invoke(&payload).await.unwrap();
    assert_eq!(output["state"], "waiting", "{output}");
    assert_eq!(output["reminded"], json!(["b@example.com"]));
    assert_eq!(output["next"]["kind"], "expire");
    let outbox = aws.outbox();
    assert_eq!(outbox.len(), 3, "two asks and one reminder");
    let reminder = &outbox[2];
    assert_eq!(reminder.header("To"), Some("b@example.com"));
    assert_eq!(
        reminder.subject().as_deref(),
        Some("Reminder 1 of 1: review requested: run-1")
    );
    assert!(reminder.body.contains("Task token: token-of-b@example.com"));
    // Ticking again sends nothing more.
    let again = function.invoke(&payload).await.unwrap();
    assert_eq!(again["reminded"], json!([]));
    assert_eq!(aws.outbox().len(), 3);
    let logs = function.logs().await.join("\n");
    assert!(!logs.contains("token-of-"), "{logs}");
}

#[tokio::test]
async fn the_sample_event_before_any_timer_is_due_waits_for_the_expiry() {
    let aws = LocalAws::start(&["ana@example.com", "bo@example.com"]).await;
    let sample: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    let policy = PolicyParameters {
        reviewer_emails: "ana@example.com,bo@example.com",
        review_timeout_seconds: "3600",
        ..PolicyParameters::default()
    }
    .parse();
    let input = OpenReviewInput {
        execution_arn: sample["executionArn"].as_str().unwrap().into(),
        request: sample["request"].clone(),
    };
    let opened = open_review(&aws.store, &SystemClock, &policy, input)
        .await
        .unwrap();
    let function = aws.function(env!("CARGO_BIN_EXE_review_tick"), &[]);
    let output = function.invoke(&sample).await.unwrap();
    assert_eq!(output["state"], "waiting", "{output}");
    assert_eq!(output["reminded"], json!([]));
    assert_eq!(output["next"]["kind"], "expire");
    assert_eq!(output["next"]["at"], json!(opened.next.at), "{output}");
    assert!(aws.outbox().is_empty(), "nothing is due, nothing is sent");
    function.logs().await;
}
