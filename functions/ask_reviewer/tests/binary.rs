//! The real `ask_reviewer` binary behind lambda-local's Runtime API, with
//! DynamoDB and SNS served locally on one loopback port (as `hitl local`
//! does): the reviewer's email lands in the outbox under their own `To:`,
//! the token is stored, and the JSON logs never carry the token.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use hitl_domain::PolicyParameters;
use hitl_domain::policy_flow::{OpenReviewInput, ReviewStore, open_review};
use hitl_lambda::policy::{DynamoReviewStore, SystemClock};
use lambda_local::{FunctionSpec, HostConfig, LambdaHost, LogFormat, Outcome, OutputSink};
use serde_json::{Value, json};

const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:ReviewTopic";
const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:Review:run-1";
const TABLE: &str = "Reviews";

fn filtered(address: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(
        "FilterPolicy".to_owned(),
        format!(r#"{{"reviewer": ["{address}"]}}"#),
    )])
}

#[tokio::test]
async fn the_binary_emails_one_reviewer_stores_the_token_and_never_logs_it() {
    let dir = tempfile::tempdir().unwrap();
    let ddb = Arc::new(
        dynamodb_local::Service::open(dir.path(), dynamodb_local::Config::default()).unwrap(),
    );
    ddb.call(
        "CreateTable",
        &json!({
            "TableName": TABLE, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
        }),
    )
    .unwrap();
    let topic = sns_local::TopicSpec::new("ReviewTopic", TOPIC)
        .with_subscription_attributes("email", "a@example.com", filtered("a@example.com"))
        .unwrap()
        .with_subscription_attributes("email", "b@example.com", filtered("b@example.com"))
        .unwrap();
    let sns = Arc::new(sns_local::SnsService::new(
        sns_local::SnsConfig::new(dir.path().join("outbox"), "eu-west-1", "123456789012"),
        vec![topic],
    ));
    let (ddb_route, sns_route) = (Arc::clone(&ddb), Arc::clone(&sns));
    let app = axum::Router::new().route(
        "/",
        post(move |headers: HeaderMap, body: Bytes| {
            let (ddb, sns) = (Arc::clone(&ddb_route), Arc::clone(&sns_route));
            async move {
                if dynamodb_local::is_dynamodb_request(&headers) {
                    dynamodb_local::handle(&ddb, &headers, &body).await
                } else {
                    sns_local::handle(&sns, &headers, &body).await
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // GIVEN an open review of a and b.
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "local"))
            .endpoint_url(&endpoint)
            .build(),
    );
    let store = DynamoReviewStore::new(client, TABLE);
    let policy = PolicyParameters {
        reviewer_emails: "a@example.com,b@example.com",
        ..PolicyParameters::default()
    }
    .parse();
    open_review(
        &store,
        &SystemClock,
        &policy,
        OpenReviewInput {
            execution_arn: ARN.into(),
            request: json!({"order": 7}),
        },
    )
    .await
    .unwrap();

    // WHEN the binary asks b.
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&lines);
    let mut config = HostConfig::new("eu-west-1");
    config.account_id = "123456789012".into();
    config.endpoint_url = Some(endpoint.clone());
    config.shutdown_grace = Duration::from_millis(500);
    config.output = OutputSink::new(move |line| {
        if let Ok(mut lines) = sink.lock() {
            lines.push(line.line.to_owned());
        }
    });
    let mut spec = FunctionSpec::new(
        "AskReviewer",
        "arn:aws:lambda:eu-west-1:123456789012:function:AskReviewer",
        env!("CARGO_BIN_EXE_ask_reviewer"),
    );
    spec.timeout = Duration::from_secs(20);
    // As template.yaml deploys it (LoggingConfig: LogFormat: JSON).
    spec.log_format = LogFormat::Json;
    spec.environment.insert("REVIEW_TABLE".into(), TABLE.into());
    spec.environment
        .insert("REVIEW_TOPIC_ARN".into(), TOPIC.into());
    spec.environment.insert(
        "REVIEW_API_ENDPOINT".into(),
        "https://abc123.execute-api.eu-west-1.amazonaws.com".into(),
    );
    let host = LambdaHost::start(vec![spec], config).unwrap();
    let token = format!("AQCE{}==", "tok+/".repeat(400));
    let payload = json!({
        "executionArn": ARN, "executionName": "run-1", "reviewer": "b@example.com",
        "taskToken": token, "request": {"order": 7}
    });
    let invocation = host
        .invoke("AskReviewer", Bytes::from(payload.to_string()))
        .await
        .unwrap();
    let output: Value = match &invocation.outcome {
        Outcome::Success(body) => serde_json::from_slice(body).unwrap(),
        Outcome::Error(error) => panic!("{}: {}", error.error_type, error.error_message),
    };
    assert_eq!(
        output,
        json!({"state": "asked", "reviewer": "b@example.com"})
    );

    // THEN only b's outbox file exists, with b's token and links under 200 characters.
    let files = sns_local::list_outbox(sns.outbox_dir()).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    let email = sns_local::read_eml(&files[0]).unwrap();
    assert_eq!(email.header("To"), Some("b@example.com"));
    assert!(email.body.contains(&format!("Task token: {token}")));
    let links: Vec<&str> = email
        .body
        .lines()
        .filter(|l| l.starts_with("https://abc123"))
        .collect();
    assert_eq!(links.len(), 2);
    assert!(links.iter().all(|l| l.len() <= 200), "{links:?}");
    let stored = store
        .get_reviewer(ARN, "b@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.token, token);

    // A second ask of a reviewer who voted is AlreadyVoted, by its stable name.
    let mut review = store.get_review(ARN).await.unwrap().unwrap();
    review
        .tally
        .record(
            "b@example.com",
            hitl_domain::Ballot::from_answer(&json!({"result": true})).unwrap(),
            chrono::Utc::now(),
        )
        .unwrap();
    let _ = store
        .update_tally(ARN, review.version, &review.tally)
        .await
        .unwrap();
    let again = host
        .invoke("AskReviewer", Bytes::from(payload.to_string()))
        .await
        .unwrap();
    match &again.outcome {
        Outcome::Error(error) => assert_eq!(error.error_type, "AlreadyVoted"),
        Outcome::Success(body) => panic!("expected AlreadyVoted, got {body:?}"),
    }
    host.shutdown().await;

    let logs = lines.lock().unwrap().join("\n");
    assert!(logs.contains("reviewer asked"), "{logs}");
    assert!(!logs.contains("tok+/"), "no token in the logs: {logs}");
    assert!(
        logs.lines()
            .filter(|l| l.contains("reviewer asked"))
            .all(|l| l.trim_start().starts_with('{')),
        "JSON logs: {logs}"
    );
}
