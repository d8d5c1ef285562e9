//! `DynamoReviewStore` against dynamodb-local in process, through the real
//! aws-sdk-dynamodb client on loopback: the table as the design creates it,
//! each operation, the conditional writes, and the domain's steps on top.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use chrono::{TimeZone, Utc};
use hitl_domain::policy_flow::memory::RecordingMailer;
use hitl_domain::policy_flow::{
    AskReviewerInput, LinkItem, MessageSettings, OpenReviewInput, RecordVoteInput,
    RecordVoteOutput, ReviewStore, ReviewerItem, Role, TimerWrite, Written, ask_reviewer,
    link_hash, open_review, record_vote,
};
use hitl_domain::{Ballot, PolicyParameters};
use hitl_policy_aws::{DynamoReviewStore, RandomSecrets, SystemClock};
use serde_json::json;

const TABLE: &str = "Reviews";

struct Local {
    client: Client,
    store: DynamoReviewStore,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// dynamodb-local on 127.0.0.1:0 over a fresh directory, with the review
/// table created as the template declares it (key `pk` S + `sk` S, on demand).
async fn start() -> Local {
    let dir = tempfile::tempdir().unwrap();
    let service =
        dynamodb_local::Service::open(dir.path(), dynamodb_local::Config::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = dynamodb_local::router(Arc::new(service));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    // No SDK retries: a retried conditional write would hide what happened.
    let config = test_support::loopback_sdk_config_in(&format!("http://{addr}"), "eu-west-1").await;
    let client = Client::new(&config);
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .unwrap();
    Local {
        store: DynamoReviewStore::new(client.clone(), TABLE),
        client,
        _stop: stop,
        _dir: dir,
    }
}

const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:Review:run-1";

fn policy() -> Result<hitl_domain::Policy, hitl_domain::PolicyError> {
    PolicyParameters {
        reviewer_emails: "a@example.com,B@Example.com,c@example.com",
        required_approvals: "2",
        reminder_after_seconds: "10",
        escalation_email: "boss@example.com",
        review_timeout_seconds: "100",
        ..PolicyParameters::default()
    }
    .parse()
}

async fn open(local: &Local, arn: &str) {
    open_review(
        &local.store,
        &SystemClock,
        &policy(),
        OpenReviewInput {
            execution_arn: arn.into(),
            request: json!({"requestedBy": "c@example.com"}),
        },
    )
    .await
    .unwrap();
}

async fn raw(local: &Local, pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    local
        .client
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap()
}

#[tokio::test]
async fn the_review_item_is_written_once_in_the_design_layout_and_read_back_whole() {
    let local = start().await;
    open(&local, ARN).await;
    let stored = local.store.get_review(ARN).await.unwrap().unwrap();
    assert_eq!(stored.execution_arn, ARN);
    assert_eq!((stored.version, stored.timers_done), (0, 0));
    assert_eq!(stored.snapshot.eligibility.excluded.len(), 1);
    assert_eq!(stored.snapshot.policy, policy().unwrap());

    // Put-if-absent: a second create is a conflict and changes nothing.
    let mut other = stored.clone();
    other.timers_done = 9;
    assert_eq!(
        local.store.create_review(&other).await.unwrap(),
        Written::Conflict
    );
    assert_eq!(local.store.get_review(ARN).await.unwrap().unwrap(), stored);

    let item = raw(&local, &format!("R#{ARN}"), "REVIEW").await;
    assert_eq!(item["version"], AttributeValue::N("0".into()));
    assert_eq!(item["timersDone"], AttributeValue::N("0".into()));
    assert!(matches!(item["expiresAt"], AttributeValue::N(_)));
    let AttributeValue::M(policy) = &item["policy"] else {
        panic!("policy is a map: {:?}", item["policy"])
    };
    assert!(policy.contains_key("openedAt"));
    let AttributeValue::M(tally) = &item["tally"] else {
        panic!("tally is a map")
    };
    assert_eq!(tally["votes"], AttributeValue::L(vec![]));

    assert_eq!(local.store.get_review("arn:none").await.unwrap(), None);
}

#[tokio::test]
async fn two_concurrent_version_checked_updates_exactly_one_wins() {
    let local = start().await;
    open(&local, ARN).await;
    let seen = local.store.get_review(ARN).await.unwrap().unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
    let vote = |who: &str| {
        let mut tally = seen.tally.clone();
        tally
            .record(
                who,
                Ballot::from_answer(&json!({"result": true})).unwrap(),
                at,
            )
            .unwrap();
        tally
    };
    let (a, b) = (vote("a@example.com"), vote("b@example.com"));
    let (first, second) = tokio::join!(
        local.store.update_tally(ARN, seen.version, &a),
        local.store.update_tally(ARN, seen.version, &b),
    );
    let results = [first.unwrap(), second.unwrap()];
    assert_eq!(
        results.iter().filter(|w| **w == Written::Done).count(),
        1,
        "{results:?}"
    );
    let after = local.store.get_review(ARN).await.unwrap().unwrap();
    assert_eq!(after.version, 1);
    assert_eq!(after.tally.votes().len(), 1);
    assert!(after.tally == a || after.tally == b);
    // A stale version is refused.
    assert_eq!(
        local.store.update_tally(ARN, 0, &a).await.unwrap(),
        Written::Conflict
    );
    // No item, no write (the condition fails on a missing item too).
    assert_eq!(
        local.store.update_tally("arn:none", 0, &a).await.unwrap(),
        Written::Conflict
    );
}

#[tokio::test]
async fn timers_advance_once_and_an_expiry_also_checks_the_version() {
    let local = start().await;
    open(&local, ARN).await;
    let seen = local.store.get_review(ARN).await.unwrap().unwrap();
    let plain = TimerWrite {
        seen_done: 0,
        expiry: None,
    };
    assert_eq!(
        local
            .store
            .advance_timers(ARN, plain.clone())
            .await
            .unwrap(),
        Written::Done
    );
    assert_eq!(
        local.store.advance_timers(ARN, plain).await.unwrap(),
        Written::Conflict
    );

    let mut expired = seen.tally.clone();
    expired
        .expire(hitl_domain::DecisionOnTimeout::Reject, Utc::now())
        .unwrap();
    let stale_version = TimerWrite {
        seen_done: 1,
        expiry: Some((7, &expired)),
    };
    assert_eq!(
        local
            .store
            .advance_timers(ARN, stale_version)
            .await
            .unwrap(),
        Written::Conflict
    );
    let expiry = TimerWrite {
        seen_done: 1,
        expiry: Some((0, &expired)),
    };
    assert_eq!(
        local.store.advance_timers(ARN, expiry).await.unwrap(),
        Written::Done
    );
    let after = local.store.get_review(ARN).await.unwrap().unwrap();
    assert_eq!((after.timers_done, after.version), (2, 1));
    assert!(after.tally.outcome().unwrap().expired);
}

#[tokio::test]
async fn links_are_put_if_absent_and_reviewer_items_keep_the_token() {
    let local = start().await;
    let link = LinkItem {
        hash: link_hash("secret"),
        execution_arn: ARN.into(),
        reviewer: "b@example.com".into(),
        expires_at: 1_800_000_000,
    };
    assert_eq!(local.store.create_link(&link).await.unwrap(), Written::Done);
    assert_eq!(
        local.store.create_link(&link).await.unwrap(),
        Written::Conflict
    );
    assert_eq!(
        local.store.get_link(&link.hash).await.unwrap(),
        Some(link.clone())
    );
    assert_eq!(local.store.get_link("nope").await.unwrap(), None);
    let item = raw(&local, &format!("L#{}", link.hash), "LINK").await;
    assert_eq!(item["reviewer"], AttributeValue::S("b@example.com".into()));

    let asked_at = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
    let reviewer = ReviewerItem {
        execution_arn: ARN.into(),
        address: "B@Example.com".into(),
        role: Role::Escalation,
        token: "AQ+token/==".into(),
        link_hash: link.hash.clone(),
        asked_at,
        expires_at: 1_800_000_000,
    };
    local.store.put_reviewer(&reviewer).await.unwrap();
    assert_eq!(
        local
            .store
            .get_reviewer(ARN, "b@example.com")
            .await
            .unwrap(),
        Some(reviewer.clone())
    );
    // Overwritten by a retried task's new token.
    let retried = ReviewerItem {
        token: "new-token".into(),
        ..reviewer
    };
    local.store.put_reviewer(&retried).await.unwrap();
    let item = raw(&local, &format!("R#{ARN}"), "V#b@example.com").await;
    assert_eq!(item["token"], AttributeValue::S("new-token".into()));
    assert_eq!(item["role"], AttributeValue::S("escalation".into()));
    assert_eq!(item["address"], AttributeValue::S("B@Example.com".into()));
}

#[tokio::test]
async fn the_steps_over_dynamodb_decide_racing_votes_exactly_once() {
    let local = start().await;
    let settings = MessageSettings {
        review_api_endpoint: "https://abc.execute-api.eu-west-1.amazonaws.com".into(),
        region: "eu-west-1".into(),
    };
    let mailer = RecordingMailer::default();
    for run in 0..10 {
        let arn = format!("{ARN}-{run}");
        open(&local, &arn).await;
        for reviewer in ["a@example.com", "B@Example.com"] {
            ask_reviewer(
                &local.store,
                &mailer,
                &SystemClock,
                &RandomSecrets,
                &settings,
                AskReviewerInput {
                    execution_arn: arn.clone(),
                    execution_name: format!("run-{run}"),
                    reviewer: reviewer.into(),
                    role: Role::Reviewer,
                    task_token: format!("token-{reviewer}"),
                    request: json!({}),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("ask {reviewer}: {e}"));
        }
        let vote = |who: &'static str| {
            record_vote(
                &local.store,
                &SystemClock,
                RecordVoteInput {
                    execution_arn: arn.clone(),
                    reviewer: who.into(),
                    answer: json!({"result": true}),
                },
            )
        };
        let (a, b) = tokio::join!(vote("a@example.com"), vote("b@example.com"));
        let outcomes = [a.unwrap(), b.unwrap()];
        let decided = outcomes
            .iter()
            .filter(|o| matches!(o, RecordVoteOutput::Decided { .. }))
            .count();
        let counted = outcomes
            .iter()
            .filter(|o| matches!(o, RecordVoteOutput::Counted { approvals: 1, .. }))
            .count();
        assert_eq!((decided, counted), (1, 1), "run {run}: {outcomes:?}");
        let stored = local.store.get_review(&arn).await.unwrap().unwrap();
        assert_eq!(stored.version, 2, "two writes, no more");
        assert_eq!(stored.tally.votes().len(), 2);
    }
    assert_eq!(mailer.sent().len(), 20);
}
