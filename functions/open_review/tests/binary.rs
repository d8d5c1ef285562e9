//! The real `open_review` binary behind lambda-local, against local
//! DynamoDB, with the policy in its environment as template.yaml sets it.

use hitl_domain::policy_flow::ReviewStore;
use hitl_policy_aws::testing::{LocalAws, TOPIC};
use serde_json::json;

const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:Review:run-1";
const SAMPLE: &str = include_str!("../../../events/open_review.json");

#[tokio::test]
async fn the_binary_opens_once_and_refuses_what_the_policy_forbids() {
    let aws = LocalAws::start(&["a@example.com", "b@example.com", "c@example.com"]).await;
    let function = aws.function(
        env!("CARGO_BIN_EXE_open_review"),
        &[
            (
                "REVIEWER_EMAILS",
                "a@example.com,b@example.com,c@example.com",
            ),
            ("REQUIRED_APPROVALS", "2"),
            ("REVIEW_TIMEOUT_SECONDS", "3600"),
        ],
    );
    let payload = json!({"executionArn": ARN, "request": {"requestedBy": "C@example.com"}});
    let first = function.invoke(&payload).await.unwrap();
    assert_eq!(first["eligible"], json!(["a@example.com", "b@example.com"]));
    assert_eq!(first["policy"]["excluded"], json!(["c@example.com"]));
    assert_eq!(first["next"]["kind"], "expire");
    // A retry returns the stored snapshot.
    let retried = function.invoke(&payload).await.unwrap();
    assert_eq!(retried["schedule"], first["schedule"]);
    assert_eq!(aws.store.get_review(ARN).await.unwrap().unwrap().version, 0);

    let (error_type, message) = function
        .invoke(&json!({"executionArn": "arn:2", "request": {"requestedBy": ["a@example.com"]}}))
        .await
        .unwrap_err();
    assert_eq!(error_type, "InvalidRequestedBy", "{message}");
    function.logs().await;

    // An invalid policy does not fail the cold start; it fails each execution.
    let invalid = aws.function(
        env!("CARGO_BIN_EXE_open_review"),
        &[
            ("REVIEWER_EMAILS", "a@example.com"),
            ("REQUIRED_APPROVALS", "2"),
        ],
    );
    let (error_type, message) = invalid.invoke(&payload).await.unwrap_err();
    assert_eq!(error_type, "InvalidReviewPolicy");
    assert!(message.contains("RequiredApprovals is 2"), "{message}");
    invalid.logs().await;

    // A subscription without a reviewer filter would get every token: refused.
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
    sns.subscribe()
        .topic_arn(TOPIC)
        .protocol("email")
        .endpoint("everyone@example.com")
        .send()
        .await
        .unwrap();
    let exposed = aws.function(
        env!("CARGO_BIN_EXE_open_review"),
        &[("REVIEWER_EMAILS", "a@example.com")],
    );
    let (error_type, message) = exposed
        .invoke(&json!({"executionArn": "arn:3", "request": {}}))
        .await
        .unwrap_err();
    assert_eq!(error_type, "UnfilteredReviewSubscription");
    assert!(message.contains("email:everyone@example.com"), "{message}");
    assert_eq!(aws.store.get_review("arn:3").await.unwrap(), None);
    exposed.logs().await;
}

#[tokio::test]
async fn the_sample_event_opens_a_two_of_two_review() {
    let aws = LocalAws::start(&["ana@example.com", "bo@example.com"]).await;
    let function = aws.function(
        env!("CARGO_BIN_EXE_open_review"),
        &[
            ("REVIEWER_EMAILS", "ana@example.com,bo@example.com"),
            ("REQUIRED_APPROVALS", "2"),
        ],
    );
    let sample: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    let output = function.invoke(&sample).await.unwrap();
    assert_eq!(
        output["eligible"],
        json!(["ana@example.com", "bo@example.com"])
    );
    assert_eq!(output["policy"]["required"], 2);
    assert_eq!(output["decisionOnTimeout"], "reject");
    let arn = sample["executionArn"].as_str().unwrap();
    let stored = aws.store.get_review(arn).await.unwrap().unwrap();
    assert_eq!(stored.snapshot.policy.required, 2);
    function.logs().await;
}
