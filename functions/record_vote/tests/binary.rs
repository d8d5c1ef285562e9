//! The real `record_vote` binary behind lambda-local, against local
//! DynamoDB: votes sent at once from two invocations decide exactly once.

use hitl_domain::PolicyParameters;
use hitl_domain::policy_flow::{OpenReviewInput, ReviewStore, open_review};
use hitl_policy_aws::SystemClock;
use hitl_policy_aws::testing::LocalAws;
use serde_json::json;

const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:Review:run-1";

#[tokio::test]
async fn two_votes_at_once_through_the_binary_are_decided_once() {
    let aws = LocalAws::start(&[]).await;
    let policy = PolicyParameters {
        reviewer_emails: "a@example.com,b@example.com,c@example.com",
        required_approvals: "2",
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
    let function = aws.function(env!("CARGO_BIN_EXE_record_vote"), &[]);
    let vote =
        |who: &str| json!({"executionArn": ARN, "reviewer": who, "answer": {"result": true}});
    let (vote_a, vote_b) = (vote("a@example.com"), vote("b@example.com"));
    let (a, b) = tokio::join!(function.invoke(&vote_a), function.invoke(&vote_b));
    let mut states = [a.unwrap(), b.unwrap()].map(|o| o["state"].as_str().unwrap().to_owned());
    states.sort();
    assert_eq!(states, ["counted", "decided"]);
    let late = function.invoke(&vote("c@example.com")).await.unwrap();
    assert_eq!(late["state"], "late");
    assert_eq!(late["record"]["decision"], "approved");
    assert_eq!(late["record"]["votes"].as_array().unwrap().len(), 2);
    let (error_type, _) = function
        .invoke(
            &json!({"executionArn": ARN, "reviewer": "a@example.com", "answer": {"result": "yes"}}),
        )
        .await
        .unwrap_err();
    assert_eq!(error_type, "InvalidReviewResult");
    assert_eq!(aws.store.get_review(ARN).await.unwrap().unwrap().version, 2);
    function.logs().await;
}
