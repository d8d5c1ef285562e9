//! The real `record_vote` binary behind lambda-local, against local
//! DynamoDB: votes sent at once from two invocations decide exactly once.

use hitl_domain::PolicyParameters;
use hitl_domain::policy_flow::{OpenReviewInput, ReviewStore, open_review};
use hitl_policy_aws::SystemClock;
use hitl_policy_aws::testing::LocalAws;
use serde_json::json;

const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:Review:run-1";
const SAMPLE: &str = include_str!("../../../events/record_vote.json");

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

#[tokio::test]
async fn the_sample_event_counts_anas_link_vote() {
    let aws = LocalAws::start(&[]).await;
    let sample: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    let arn = sample["executionArn"].as_str().unwrap();
    let policy = PolicyParameters {
        reviewer_emails: "ana@example.com,bo@example.com",
        required_approvals: "2",
        ..PolicyParameters::default()
    }
    .parse();
    let input = OpenReviewInput {
        execution_arn: arn.into(),
        request: json!({"requestedBy": "maria@example.com"}),
    };
    open_review(&aws.store, &SystemClock, &policy, input)
        .await
        .unwrap();
    let function = aws.function(env!("CARGO_BIN_EXE_record_vote"), &[]);
    let output = function.invoke(&sample).await.unwrap();
    assert_eq!(
        output,
        json!({"state": "counted", "approvals": 1, "required": 2})
    );
    let again = function.invoke(&sample).await.unwrap();
    assert_eq!(
        again,
        json!({"state": "duplicate", "reviewer": "ana@example.com"})
    );
    let stored = aws.store.get_review(arn).await.unwrap().unwrap();
    let votes = stored.tally.votes();
    assert_eq!(votes.len(), 1);
    assert_eq!(votes[0].reviewer, "ana@example.com");
    assert_eq!(votes[0].name.as_deref(), Some("Ana Reviewer"));
    assert_eq!(votes[0].via, hitl_domain::policy::Via::Link);
    function.logs().await;
}
