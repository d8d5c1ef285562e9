//! Local mode serves what approval policies need from the template
//! (docs/approval-policies.md): its `AWS::DynamoDB::Table`s through the
//! DynamoDB API on the shared port, kept across restarts, and each
//! `AWS::SNS::Subscription`'s `FilterPolicy`, so a message meant for one
//! reviewer lands only in that reviewer's email.

use std::path::Path;

use aws_sdk_dynamodb::types::AttributeValue;
use local_stack::{LocalError, LocalStack, Options};

const TEMPLATE: &str = r#"
Parameters:
  ReviewerEmails: {Type: String, Default: 'a@example.com,b@example.com'}
Resources:
  Reviews:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: true}
  ReviewTopic: {Type: AWS::SNS::Topic}
  Reviewer1:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref ReviewTopic
      Protocol: email
      Endpoint: !Select [0, !Split [',', !Ref ReviewerEmails]]
      FilterPolicy:
        reviewer: [!Select [0, !Split [',', !Ref ReviewerEmails]]]
  Reviewer2:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref ReviewTopic
      Protocol: email
      Endpoint: !Select [1, !Split [',', !Ref ReviewerEmails]]
      FilterPolicy:
        reviewer: [!Select [1, !Split [',', !Ref ReviewerEmails]]]
"#;

fn options(dir: &Path, template: &str) -> Options {
    let path = dir.join("template.yaml");
    std::fs::write(&path, template).expect("template written");
    Options {
        template: path,
        parameter_overrides: Vec::new(),
        addr: "127.0.0.1:0".parse().expect("an address"),
        state_dir: dir.join("state"),
        stack_name: "policies".to_owned(),
        build: false,
        release: false,
        local_defaults: Vec::new(),
        build_with: Vec::new(),
        task_token_length: local_stack::TokenLength::default(),
        s3_endpoint_url: None,
    }
}

async fn start(dir: &Path, template: &str) -> Result<LocalStack, LocalError> {
    LocalStack::start(options(dir, template), |_| {}, |_| {}).await
}

async fn dynamodb(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&test_support::loopback_sdk_config(endpoint).await)
}

async fn sns(endpoint: &str) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&test_support::loopback_sdk_config(endpoint).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_templates_table_is_served_and_kept_and_filters_pick_the_reviewer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stack = start(dir.path(), TEMPLATE)
        .await
        .expect("local mode starts");
    let endpoint = stack.summary().endpoint_url.clone();
    let table = stack.stack().tables[0].name.clone();
    assert_eq!(
        stack.summary().tables,
        [("Reviews".to_owned(), table.clone())]
    );
    let topic = stack.stack().topics[0].arn.clone();
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(stack.serve(async {
        let _ = stopped.await;
    }));

    // GIVEN the template's table, WHEN an item is written through the
    // DynamoDB API on the shared port, THEN it reads back.
    let ddb = dynamodb(&endpoint).await;
    ddb.put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("R#run-1".into()))
        .item("sk", AttributeValue::S("REVIEW".into()))
        .item("version", AttributeValue::N("1".into()))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await
        .expect("put-if-absent");
    let ttl = ddb
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .expect("describe ttl");
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some("expiresAt")
    );

    // GIVEN one filtered subscription per reviewer, WHEN a message names b,
    // THEN only b's email is written.
    sns(&endpoint)
        .await
        .publish()
        .topic_arn(&topic)
        .subject("Review requested: run-1")
        .message("for b only")
        .message_attributes(
            "reviewer",
            aws_sdk_sns::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value("b@example.com")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("publish");
    let outbox = sns_local::list_outbox(&dir.path().join("state/outbox")).expect("outbox");
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let email = sns_local::read_eml(&outbox[0]).expect("eml");
    assert_eq!(email.header("To"), Some("b@example.com"));

    shutdown.send(()).expect("server running");
    served.await.expect("joined").expect("served");

    // WHEN local mode restarts on the same state directory, THEN the item is still there.
    let stack = start(dir.path(), TEMPLATE).await.expect("restarts");
    let endpoint = stack.summary().endpoint_url.clone();
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(stack.serve(async {
        let _ = stopped.await;
    }));
    let item = dynamodb(&endpoint)
        .await
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("R#run-1".into()))
        .key("sk", AttributeValue::S("REVIEW".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get");
    assert_eq!(
        item.item().and_then(|i| i.get("version")),
        Some(&AttributeValue::N("1".into()))
    );
    shutdown.send(()).expect("server running");
    served.await.expect("joined").expect("served");

    // WHEN the template changes the table's keys, THEN the start is refused
    // with what to do, rather than serving the old keys.
    let changed = TEMPLATE
        .replace("        - {AttributeName: sk, KeyType: RANGE}\n", "")
        .replace("        - {AttributeName: sk, AttributeType: S}\n", "");
    let Err(error) = start(dir.path(), &changed).await else {
        panic!("a changed key schema must be refused");
    };
    let text = error.to_string();
    assert!(
        text.starts_with("table Reviews: its key schema changed since")
            && text.contains("another --state-dir"),
        "{text}"
    );
}

#[tokio::test]
async fn a_filter_policy_sns_would_refuse_fails_the_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = TEMPLATE.replace(
        "        reviewer: [!Select [1, !Split [',', !Ref ReviewerEmails]]]",
        "        reviewer: [{wildcard: 'b*'}]",
    );
    let Err(error) = start(dir.path(), &bad).await else {
        panic!("an unknown filter operator must be refused");
    };
    let text = error.to_string();
    assert!(
        text.contains("the email subscription b@example.com of topic ReviewTopic")
            && text.contains("Unrecognized match type wildcard"),
        "{text}"
    );
}
