//! Open Review's handler over the in-memory ports.

use chrono::{TimeZone, Utc};
use hitl_domain::PolicyParameters;
use hitl_domain::policy_flow::OpenReviewInput;
use hitl_domain::policy_flow::PolicyFlowError;
use hitl_domain::policy_flow::memory::{FixedClock, MemoryStore};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use open_review::{ColdStart, handler};
use serde_json::json;

fn event(request: serde_json::Value) -> LambdaEvent<OpenReviewInput> {
    let payload = json!({"executionArn": "arn:aws:states:eu-west-1:1:execution:sm:run-1", "request": request});
    LambdaEvent::new(serde_json::from_value(payload).unwrap(), Context::default())
}

fn checked(policy: Result<hitl_domain::Policy, hitl_domain::PolicyError>) -> ColdStart {
    ColdStart {
        policy,
        topic: Ok(()),
    }
}

#[tokio::test]
async fn an_unfiltered_review_subscription_fails_every_execution_before_anything_is_stored() {
    let store = MemoryStore::default();
    let clock = FixedClock::at(Utc::now());
    let policy = PolicyParameters {
        reviewer_emails: "a@example.com",
        ..PolicyParameters::default()
    }
    .parse();
    let checked = ColdStart {
        policy,
        topic: Err(PolicyFlowError::UnfilteredReviewSubscription {
            endpoints: vec!["email:everyone@example.com".into()],
        }),
    };
    let error = handler(&store, &clock, &checked, event(json!({})))
        .await
        .unwrap_err();
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "UnfilteredReviewSubscription");
    assert!(diagnostic.error_message.contains("everyone@example.com"));
    assert!(
        store
            .review("arn:aws:states:eu-west-1:1:execution:sm:run-1")
            .is_none()
    );
}

#[tokio::test]
async fn opens_the_review_and_returns_the_map_items_as_json() {
    let store = MemoryStore::default();
    let clock = FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap());
    let policy = PolicyParameters {
        reviewer_emails: "a@example.com,b@example.com",
        ..PolicyParameters::default()
    }
    .parse();
    let output = handler(
        &store,
        &clock,
        &checked(policy),
        event(json!({"requestedBy": "b@example.com"})),
    )
    .await
    .unwrap();
    let json = serde_json::to_value(&output).unwrap();
    assert_eq!(json["eligible"], json!(["a@example.com"]));
    assert_eq!(json["next"]["kind"], "expire");
    assert_eq!(json["next"]["at"], "2026-11-28T12:00:00Z");
    assert_eq!(json["schedule"]["backstopSeconds"], 259_500);
    assert!(
        store
            .review("arn:aws:states:eu-west-1:1:execution:sm:run-1")
            .is_some()
    );
}

#[tokio::test]
async fn an_invalid_policy_fails_each_execution_with_its_message() {
    let store = MemoryStore::default();
    let clock = FixedClock::at(Utc::now());
    let policy = PolicyParameters {
        reviewer_emails: "a@example.com",
        required_approvals: "2",
        ..PolicyParameters::default()
    }
    .parse();
    let error = handler(&store, &clock, &checked(policy), event(json!({})))
        .await
        .unwrap_err();
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "InvalidReviewPolicy");
    assert!(diagnostic.error_message.contains("RequiredApprovals is 2"));
}

#[tokio::test]
async fn too_few_eligible_reviewers_is_a_named_error() {
    let store = MemoryStore::default();
    let clock = FixedClock::at(Utc::now());
    let policy = PolicyParameters {
        reviewer_emails: "a@example.com,b@example.com",
        required_approvals: "2",
        ..PolicyParameters::default()
    }
    .parse();
    let error = handler(
        &store,
        &clock,
        &checked(policy),
        event(json!({"requestedBy": "A@example.com"})),
    )
    .await
    .unwrap_err();
    assert_eq!(
        Diagnostic::from(error).error_type,
        "NotEnoughEligibleReviewers"
    );
}
