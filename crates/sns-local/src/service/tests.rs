//! The service's behaviour through its in-process API.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::*;
use crate::eml::read_eml;
use crate::message::{DEFAULT_EMAIL_SUBJECT, PublishRequest};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:review-requests";

fn service(dir: &Path) -> (SnsService, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let config = SnsConfig::new(dir.join("outbox"), "us-east-1", "123456789012")
        .with_announce(move |line| sink.lock().expect("lines").push(line.to_owned()));
    let topics = vec![
        TopicSpec::new("review-requests", TOPIC)
            .with_subscription("email", "reviewer@example.com")
            .with_subscription("sqs", "arn:aws:sqs:us-east-1:123456789012:audit"),
    ];
    (SnsService::new(config, topics), lines)
}

fn written(output: &PublishOutput) -> Vec<PathBuf> {
    output
        .deliveries
        .iter()
        .filter_map(|delivery| match &delivery.outcome {
            DeliveryOutcome::Written(path) => Some(path.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn email_subscriptions_are_confirmed_and_announced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sns, lines) = service(dir.path());
    let subscriptions = sns.list_subscriptions_by_topic(TOPIC).expect("topic");
    assert_eq!(subscriptions.len(), 2);
    assert!(
        subscriptions[0]
            .subscription_arn
            .starts_with(&format!("{TOPIC}:"))
    );
    let attributes = sns
        .subscription_attributes(&subscriptions[0].subscription_arn)
        .expect("subscription");
    assert_eq!(attributes["PendingConfirmation"], "false");
    let lines = lines.lock().expect("lines");
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].contains("reviewer@example.com") && lines[0].contains("confirmed automatically")
    );
}

#[tokio::test]
async fn publish_writes_one_eml_per_email_subscription_and_announces_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sns, lines) = service(dir.path());
    let token = "AQB".repeat(340);
    let output = sns
        .publish(PublishRequest {
            topic_arn: Some(TOPIC.into()),
            subject: Some("Review requested: run-1".into()),
            message: format!("Please review.\n\nTask token: {token}\n"),
            ..PublishRequest::default()
        })
        .await
        .expect("publish");
    let paths = written(&output);
    assert_eq!(paths.len(), 1);
    assert_eq!(
        output.deliveries[1].outcome,
        DeliveryOutcome::NotDeliveredLocally
    );
    let name = paths[0]
        .file_name()
        .and_then(|name| name.to_str())
        .expect("name");
    assert!(
        name.ends_with(&format!("-{}-1.eml", output.message_id)),
        "{name}"
    );
    assert_eq!(
        name.len(),
        "20261125T120000.123Z-".len() + 36 + "-1.eml".len()
    );
    let email = read_eml(&paths[0]).expect("eml");
    assert_eq!(email.subject().as_deref(), Some("Review requested: run-1"));
    assert_eq!(email.header("To"), Some("reviewer@example.com"));
    assert_eq!(
        email.header("From"),
        Some("AWS Notifications <no-reply@sns.amazonaws.com>")
    );
    let token_line = email
        .body
        .lines()
        .find_map(|line| line.strip_prefix("Task token: "));
    assert_eq!(token_line, Some(token.as_str()));
    assert!(email.body.starts_with("Please review.\n\nTask token: "));
    assert!(email.body.contains(&format!(
        "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n\
         https://sns.us-east-1.amazonaws.com/unsubscribe.html?SubscriptionArn={}&Endpoint=reviewer@example.com\n",
        output.deliveries[0].subscription_arn
    )));
    let lines = lines.lock().expect("lines");
    let announced = format!(
        "✉  email to reviewer@example.com: \"Review requested: run-1\" -> {}",
        paths[0].display()
    );
    assert!(lines.contains(&announced), "{lines:?}");
    assert!(lines.iter().any(
        |line| line.contains("sqs subscription") && line.contains("not delivered locally")
    ));
    let leftovers: Vec<_> = std::fs::read_dir(sns.outbox_dir())
        .expect("outbox")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[tokio::test]
async fn json_structure_sends_the_email_key_and_default_subject() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sns, _) = service(dir.path());
    let output = sns
        .publish(PublishRequest {
            topic_arn: Some(TOPIC.into()),
            message: r#"{"default":"short","email":"Approved by ana"}"#.into(),
            message_structure: Some("json".into()),
            ..PublishRequest::default()
        })
        .await
        .expect("publish");
    let email = read_eml(&written(&output)[0]).expect("eml");
    assert_eq!(email.subject().as_deref(), Some(DEFAULT_EMAIL_SUBJECT));
    assert!(email.body.starts_with("Approved by ana\n\n--\n"));
}

#[tokio::test]
async fn email_json_gets_the_notification_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sns, _) = service(dir.path());
    sns.subscribe(TOPIC, "email-json", "robot@example.com", BTreeMap::new())
        .expect("subscribe");
    let output = sns
        .publish(PublishRequest {
            topic_arn: Some(TOPIC.into()),
            subject: Some("Decision".into()),
            message: r#"{"default":"plain","email-json":"for robots"}"#.into(),
            message_structure: Some("json".into()),
            ..PublishRequest::default()
        })
        .await
        .expect("publish");
    let paths = written(&output);
    assert_eq!(paths.len(), 2);
    let email = read_eml(&paths[1]).expect("eml");
    assert_eq!(email.header("To"), Some("robot@example.com"));
    let notification: serde_json::Value = serde_json::from_str(&email.body).expect("json body");
    assert_eq!(notification["Type"], "Notification");
    assert_eq!(notification["MessageId"], output.message_id.as_str());
    assert_eq!(notification["TopicArn"], TOPIC);
    assert_eq!(notification["Subject"], "Decision");
    assert_eq!(notification["Message"], "for robots");
    assert!(
        email
            .body
            .starts_with("{\n  \"Type\" : \"Notification\",\n")
    );
}

#[tokio::test]
async fn display_name_is_the_sender_and_empty_topics_are_announced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let config = SnsConfig::new(dir.path().join("outbox"), "us-east-1", "123456789012")
        .with_announce(move |line| sink.lock().expect("lines").push(line.to_owned()));
    let mut review = TopicSpec::new("review", "arn:aws:sns:us-east-1:123456789012:review")
        .with_subscription("email", "r@example.com");
    review.display_name = Some("Review requests".into());
    let decisions = TopicSpec::new("decisions", "arn:aws:sns:us-east-1:123456789012:decisions");
    let sns = SnsService::new(config, vec![review, decisions]);
    let publish = |topic: &str| PublishRequest {
        topic_arn: Some(format!("arn:aws:sns:us-east-1:123456789012:{topic}")),
        message: "x".into(),
        ..PublishRequest::default()
    };
    let output = sns.publish(publish("review")).await.expect("publish");
    let email = read_eml(&written(&output)[0]).expect("eml");
    assert_eq!(
        email.header("From"),
        Some("Review requests <no-reply@sns.amazonaws.com>")
    );
    let output = sns.publish(publish("decisions")).await.expect("publish");
    assert!(output.deliveries.is_empty());
    let lines = lines.lock().expect("lines");
    assert!(
        lines
            .last()
            .is_some_and(|line| line.contains("topic decisions: no subscriptions")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn announcements_can_go_to_a_channel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let config =
        SnsConfig::new(dir.path().join("outbox"), "us-east-1", "123456789012").with_channel(sender);
    let _sns = SnsService::new(
        config,
        vec![
            TopicSpec::new("t", "arn:aws:sns:us-east-1:123456789012:t")
                .with_subscription("email", "a@example.com"),
        ],
    );
    let line = receiver.recv().await.expect("line");
    assert!(
        line.starts_with("✓  email subscription a@example.com to topic t confirmed automatically"),
        "{line}"
    );
}

#[tokio::test]
async fn lambda_subscriptions_go_to_the_invoker_when_there_is_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let config = SnsConfig::new(dir.path().join("outbox"), "us-east-1", "123456789012")
        .with_announce(|_| {})
        .with_lambda_invoker(move |function, event| {
            let sender = sender.clone();
            async move {
                let _ = sender.send((function, event));
            }
        });
    let function = "arn:aws:lambda:us-east-1:123456789012:function:audit";
    let sns = SnsService::new(
        config,
        vec![
            TopicSpec::new("t", "arn:aws:sns:us-east-1:123456789012:t")
                .with_subscription("lambda", function),
        ],
    );
    let output = sns
        .publish(PublishRequest {
            topic_arn: Some("arn:aws:sns:us-east-1:123456789012:t".into()),
            message: r#"{"default":"d","lambda":"for the function"}"#.into(),
            message_structure: Some("json".into()),
            ..PublishRequest::default()
        })
        .await
        .expect("publish");
    assert_eq!(output.deliveries[0].outcome, DeliveryOutcome::Invoked);
    let (invoked, event) = receiver.recv().await.expect("invocation");
    assert_eq!(invoked, function);
    let record = &event["Records"][0];
    assert_eq!(record["EventSource"], "aws:sns");
    assert_eq!(
        record["EventSubscriptionArn"],
        output.deliveries[0].subscription_arn.as_str()
    );
    assert_eq!(record["Sns"]["Message"], "for the function");
    assert_eq!(record["Sns"]["MessageId"], output.message_id.as_str());
    assert_eq!(record["Sns"]["Subject"], serde_json::Value::Null);
}

#[tokio::test]
async fn publish_errors_are_snss() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sns, _) = service(dir.path());
    let publish = |topic: Option<&str>| PublishRequest {
        topic_arn: topic.map(str::to_owned),
        message: "x".into(),
        ..PublishRequest::default()
    };
    let missing = sns
        .publish(publish(Some("arn:aws:sns:us-east-1:123456789012:nope")))
        .await
        .expect_err("missing topic");
    assert_eq!(
        (missing.code(), missing.to_string().as_str()),
        ("NotFound", "Topic does not exist")
    );
    let malformed = sns
        .publish(publish(Some("nope")))
        .await
        .expect_err("bad arn");
    assert_eq!(malformed.to_string(), "Invalid parameter: TopicArn");
    let none = sns.publish(publish(None)).await.expect_err("no topic");
    assert_eq!(none.code(), "InvalidParameter");
    assert!(!sns.outbox_dir().exists(), "nothing delivered");
}

#[tokio::test]
async fn unwritable_outbox_fails_the_delivery_not_the_publish() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").expect("write");
    let config =
        SnsConfig::new(blocker.join("outbox"), "us-east-1", "123456789012").with_announce(|_| {});
    let sns = SnsService::new(
        config,
        vec![
            TopicSpec::new("t", "arn:aws:sns:us-east-1:123456789012:t")
                .with_subscription("email", "a@example.com"),
        ],
    );
    let output = sns
        .publish(PublishRequest {
            topic_arn: Some("arn:aws:sns:us-east-1:123456789012:t".into()),
            message: "x".into(),
            ..PublishRequest::default()
        })
        .await
        .expect("publish succeeds");
    assert!(matches!(
        output.deliveries[0].outcome,
        DeliveryOutcome::Failed(_)
    ));
}

#[test]
fn topics_and_subscriptions_are_managed_like_snss() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sns, _) = service(dir.path());
    let arn = sns
        .create_topic("decisions", BTreeMap::new())
        .expect("create");
    assert_eq!(arn, "arn:aws:sns:us-east-1:123456789012:decisions");
    assert_eq!(
        sns.create_topic("decisions", BTreeMap::new())
            .expect("again"),
        arn
    );
    assert_eq!(sns.list_topics(), vec![TOPIC.to_owned(), arn.clone()]);
    assert_eq!(
        sns.create_topic("bad name", BTreeMap::new())
            .expect_err("name")
            .to_string(),
        "Invalid parameter: Topic Name"
    );
    let first = sns
        .subscribe(&arn, "email", "a@example.com", BTreeMap::new())
        .expect("subscribe");
    assert_eq!(
        sns.subscribe(&arn, "email", "a@example.com", BTreeMap::new())
            .expect("again"),
        first
    );
    assert_eq!(
        sns.confirm_subscription(&arn, "any-token")
            .expect("confirm"),
        first
    );
    assert_eq!(
        sns.subscribe(&arn, "carrier-pigeon", "x", BTreeMap::new())
            .expect_err("protocol")
            .to_string(),
        "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"
    );
    sns.set_topic_attribute(&arn, "DisplayName", "Review Desk")
        .expect("set");
    let attributes = sns.topic_attributes(&arn).expect("attributes");
    assert_eq!(attributes["DisplayName"], "Review Desk");
    assert_eq!(attributes["SubscriptionsConfirmed"], "1");
    assert_eq!(attributes["Owner"], "123456789012");
    sns.unsubscribe(&first).expect("unsubscribe");
    assert!(
        sns.list_subscriptions_by_topic(&arn)
            .expect("topic")
            .is_empty()
    );
    sns.delete_topic(&arn).expect("delete");
    assert_eq!(sns.list_topics(), vec![TOPIC.to_owned()]);
    assert_eq!(
        sns.list_subscriptions_by_topic(&arn)
            .expect_err("gone")
            .code(),
        "NotFound"
    );
}
