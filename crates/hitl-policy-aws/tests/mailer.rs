//! `SnsReviewerMailer` against sns-local in process, through the real
//! aws-sdk-sns client: two email subscriptions filtered on `reviewer`, as the
//! template declares them, and each reviewer's message lands only in theirs.

use std::collections::BTreeMap;
use std::sync::Arc;

use hitl_domain::policy_flow::{ReviewerMailer, ReviewerMessage, check_review_subscriptions};
use hitl_policy_aws::SnsReviewerMailer;
use sns_local::{SnsConfig, SnsService, TopicSpec, list_outbox, read_eml, router};

const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:ReviewTopic";

fn filtered(address: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(
        "FilterPolicy".to_owned(),
        format!(r#"{{"reviewer": ["{address}"]}}"#),
    )])
}

/// aws-sdk-sns on sns-local at `addr`, in the topic's region.
async fn sns_client(addr: std::net::SocketAddr) -> aws_sdk_sns::Client {
    let config = test_support::loopback_sdk_config_in(&format!("http://{addr}"), "eu-west-1").await;
    aws_sdk_sns::Client::new(&config)
}

#[tokio::test]
async fn each_reviewers_message_lands_only_in_their_own_outbox_file() {
    let dir = tempfile::tempdir().unwrap();
    let topic = TopicSpec::new("ReviewTopic", TOPIC)
        .with_subscription_attributes("email", "a@example.com", filtered("a@example.com"))
        .unwrap()
        .with_subscription_attributes("email", "B@Example.com", filtered("B@Example.com"))
        .unwrap();
    let service = Arc::new(SnsService::new(
        SnsConfig::new(dir.path().join("outbox"), "eu-west-1", "123456789012"),
        vec![topic],
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(Arc::clone(&service));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mailer = SnsReviewerMailer::new(sns_client(addr).await, TOPIC);

    for (to, token) in [("a@example.com", "token-A"), ("B@Example.com", "token-B")] {
        mailer
            .send(&ReviewerMessage {
                to: to.into(),
                subject: "Review requested: run-1".into(),
                body: format!("A request is waiting.\n\nTask token: {token}\n"),
            })
            .await
            .unwrap();
    }

    let files = list_outbox(service.outbox_dir()).unwrap();
    assert_eq!(files.len(), 2, "one copy per reviewer, not four: {files:?}");
    let mut seen = Vec::new();
    for file in files {
        let email = read_eml(&file).unwrap();
        let to = email.header("To").unwrap().to_owned();
        let token = email
            .body
            .lines()
            .find_map(|line| line.strip_prefix("Task token: "))
            .unwrap()
            .to_owned();
        assert_eq!(email.subject().as_deref(), Some("Review requested: run-1"));
        seen.push((to, token));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            ("B@Example.com".to_owned(), "token-B".to_owned()),
            ("a@example.com".to_owned(), "token-A".to_owned()),
        ]
    );

    // The audit Open Review runs at cold start: both subscriptions are filtered…
    let subscriptions = mailer.subscriptions().await.unwrap();
    assert_eq!(subscriptions.len(), 2);
    assert_eq!(
        subscriptions[1]
            .filter_policy
            .as_deref()
            .map(|p| p.replace(' ', "")),
        Some(r#"{"reviewer":["B@Example.com"]}"#.to_owned())
    );
    assert_eq!(check_review_subscriptions(&subscriptions), Ok(()));
    // …until someone subscribes without a filter.
    let client = sns_client(addr).await;
    client
        .subscribe()
        .topic_arn(TOPIC)
        .protocol("email")
        .endpoint("everyone@example.com")
        .send()
        .await
        .unwrap();
    let error = check_review_subscriptions(&mailer.subscriptions().await.unwrap()).unwrap_err();
    assert_eq!(error.error_type(), "UnfilteredReviewSubscription");
    assert!(
        error.to_string().contains("email:everyone@example.com"),
        "{error}"
    );
    assert!(!error.to_string().contains("a@example.com"), "{error}");

    // A topic that does not exist is a typed error naming SNS's code.
    let lost = SnsReviewerMailer::new(
        sns_client(addr).await,
        "arn:aws:sns:eu-west-1:123456789012:Gone",
    );
    let error = lost
        .send(&ReviewerMessage {
            to: "a@example.com".into(),
            subject: "s".into(),
            body: "Task token: secret-token".into(),
        })
        .await
        .unwrap_err();
    assert!(error.reason.contains("NotFound"), "{error}");
    assert!(!error.to_string().contains("secret-token"));
}
