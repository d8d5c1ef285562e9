//! The wire protocol through the real aws-sdk-sns client, as our Lambdas call SNS.

mod common;

use std::sync::Arc;

use aws_sdk_sns::types::MessageAttributeValue;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::{REVIEWER, TOPIC, local, outbox, sdk_client, serve, task_token};
use sns_local::{SnsService, is_sns_request, read_eml, router};

#[tokio::test]
async fn publish_through_the_sdk_writes_the_email() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = local(dir.path());
    let client = sdk_client(serve(router(Arc::clone(&local.service))).await);
    let token = task_token();
    let output = client
        .publish()
        .topic_arn(TOPIC)
        .subject("Review requested: run-1")
        .message(format!("A review is waiting.\n\nTask token: {token}\n"))
        .message_attributes(
            "kind",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("review")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("publish");
    let message_id = output.message_id().expect("message id");
    assert_eq!(message_id.len(), 36);

    let files = outbox(&local.service);
    assert_eq!(files.len(), 1);
    assert!(files[0].to_string_lossy().contains(message_id));
    let email = read_eml(&files[0]).expect("eml");
    assert_eq!(email.subject().as_deref(), Some("Review requested: run-1"));
    assert_eq!(email.header("To"), Some(REVIEWER));
    let recovered = email
        .body
        .lines()
        .find_map(|line| line.strip_prefix("Task token: "));
    assert_eq!(recovered, Some(token.as_str()));
    let lines = local.lines.lock().expect("lines");
    assert!(
        lines.iter().any(|line| line
            .starts_with("✉  email to reviewer@example.com: \"Review requested: run-1\" -> ")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn message_structure_json_through_the_sdk_sends_the_email_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = local(dir.path());
    let client = sdk_client(serve(router(Arc::clone(&local.service))).await);
    let message = serde_json::json!({
        "default": "Decision: approved",
        "email": "Run run-1 was approved by ana@example.com.\nComment: looks good = ship it",
    });
    client
        .publish()
        .topic_arn(TOPIC)
        .subject("Approved: run-1")
        .message_structure("json")
        .message(message.to_string())
        .send()
        .await
        .expect("publish");
    let email = read_eml(&outbox(&local.service)[0]).expect("eml");
    assert!(
        email.body.starts_with(
            "Run run-1 was approved by ana@example.com.\nComment: looks good = ship it\n\n--\n"
        ),
        "{}",
        email.body
    );
}

#[tokio::test]
async fn topics_and_subscriptions_list_through_the_sdk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = local(dir.path());
    let client = sdk_client(serve(router(Arc::clone(&local.service))).await);

    let created = client
        .create_topic()
        .name("decisions")
        .send()
        .await
        .expect("create");
    let decisions = created.topic_arn().expect("arn").to_owned();
    assert_eq!(decisions, "arn:aws:sns:us-east-1:123456789012:decisions");
    let subscribed = client
        .subscribe()
        .topic_arn(&decisions)
        .protocol("email")
        .endpoint("approver@example.com")
        .send()
        .await
        .expect("subscribe");
    let subscription_arn = subscribed.subscription_arn().expect("arn").to_owned();
    assert!(subscription_arn.starts_with(&format!("{decisions}:")));

    let topics = client.list_topics().send().await.expect("list topics");
    let arns: Vec<&str> = topics
        .topics()
        .iter()
        .filter_map(|topic| topic.topic_arn())
        .collect();
    assert_eq!(arns, [TOPIC, decisions.as_str()]);
    assert!(topics.next_token().is_none());

    let by_topic = client
        .list_subscriptions_by_topic()
        .topic_arn(TOPIC)
        .send()
        .await
        .expect("list subscriptions");
    let subscriptions = by_topic.subscriptions();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0].protocol(), Some("email"));
    assert_eq!(subscriptions[0].endpoint(), Some(REVIEWER));
    assert_eq!(subscriptions[0].owner(), Some("123456789012"));
    assert!(
        subscriptions[0]
            .subscription_arn()
            .is_some_and(|arn| arn.starts_with(&format!("{TOPIC}:")))
    );

    let all = client.list_subscriptions().send().await.expect("list all");
    assert_eq!(all.subscriptions().len(), 2);

    let attributes = client
        .get_subscription_attributes()
        .subscription_arn(&subscription_arn)
        .send()
        .await
        .expect("subscription attributes");
    let attributes = attributes.attributes().expect("attributes");
    assert_eq!(
        attributes.get("PendingConfirmation").map(String::as_str),
        Some("false")
    );

    let topic_attributes = client
        .get_topic_attributes()
        .topic_arn(&decisions)
        .send()
        .await
        .expect("topic attributes");
    let topic_attributes = topic_attributes.attributes().expect("attributes");
    assert_eq!(
        topic_attributes
            .get("SubscriptionsConfirmed")
            .map(String::as_str),
        Some("1")
    );

    client
        .unsubscribe()
        .subscription_arn(&subscription_arn)
        .send()
        .await
        .expect("unsubscribe");
    client
        .delete_topic()
        .topic_arn(&decisions)
        .send()
        .await
        .expect("delete");
    assert_eq!(
        client
            .list_topics()
            .send()
            .await
            .expect("list")
            .topics()
            .len(),
        1
    );

    let lines = local.lines.lock().expect("lines");
    assert!(
        lines
            .iter()
            .any(|line| line.contains("approver@example.com")
                && line.contains("confirmed automatically")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn errors_arrive_as_the_sdks_typed_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = local(dir.path());
    let client = sdk_client(serve(router(Arc::clone(&local.service))).await);

    let missing = client
        .publish()
        .topic_arn("arn:aws:sns:us-east-1:123456789012:no-such-topic")
        .message("hello")
        .send()
        .await
        .expect_err("missing topic")
        .into_service_error();
    assert!(missing.is_not_found_exception(), "{missing:?}");
    assert_eq!(
        aws_sdk_sns::error::ProvideErrorMetadata::code(&missing),
        Some("NotFound")
    );
    assert_eq!(
        aws_sdk_sns::error::ProvideErrorMetadata::message(&missing),
        Some("Topic does not exist")
    );

    let too_long = client
        .publish()
        .topic_arn(TOPIC)
        .message("x".repeat(262_145))
        .send()
        .await
        .expect_err("too long")
        .into_service_error();
    assert!(too_long.is_invalid_parameter_exception(), "{too_long:?}");
    assert_eq!(
        aws_sdk_sns::error::ProvideErrorMetadata::message(&too_long),
        Some("Invalid parameter: Message too long")
    );

    let no_default = client
        .publish()
        .topic_arn(TOPIC)
        .message_structure("json")
        .message(r#"{"email":"only email"}"#)
        .send()
        .await
        .expect_err("no default")
        .into_service_error();
    assert!(no_default.is_invalid_parameter_exception());
    assert_eq!(
        aws_sdk_sns::error::ProvideErrorMetadata::message(&no_default),
        Some("Invalid parameter: Message Structure - No default entry in JSON message body")
    );

    let subject = client
        .publish()
        .topic_arn(TOPIC)
        .subject("line\nbreak")
        .message("x")
        .send()
        .await
        .expect_err("subject")
        .into_service_error();
    assert!(subject.is_invalid_parameter_exception());

    let listing = client
        .list_subscriptions_by_topic()
        .topic_arn("arn:aws:sns:us-east-1:123456789012:no-such-topic")
        .send()
        .await
        .expect_err("missing topic")
        .into_service_error();
    assert!(listing.is_not_found_exception());
    assert!(outbox(&local.service).is_empty());
}

#[tokio::test]
async fn raw_query_requests_get_snss_xml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = local(dir.path());
    let address = serve(router(Arc::clone(&local.service))).await;
    let http = reqwest::Client::new();
    let post = |body: &'static str| {
        http.post(format!("http://{address}/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };

    let response = post("Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Areview-requests&Message=hi")
        .await
        .expect("publish");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/xml")
    );
    let text = response.text().await.expect("body");
    assert!(
        text.contains("<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>"),
        "{text}"
    );
    assert!(text.contains("</MessageId></PublishResult><ResponseMetadata><RequestId>"));

    let response = post("Action=Frobnicate&Version=2010-03-31")
        .await
        .expect("frobnicate");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let text = response.text().await.expect("body");
    assert!(
        text.contains(
            "<Error><Type>Sender</Type><Code>InvalidAction</Code><Message>The action Frobnicate is not valid for this web service.</Message></Error>"
        ),
        "{text}"
    );

    let response = post(
        "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Anope&Message=hi",
    )
    .await
    .expect("not found");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("<Code>NotFound</Code><Message>Topic does not exist</Message>")
    );

    let response = post(
        "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Areview-requests",
    )
    .await
    .expect("no message");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("<Code>ValidationError</Code>")
    );
}

#[tokio::test]
async fn json_protocol_requests_get_json_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = local(dir.path());
    let address = serve(router(Arc::clone(&local.service))).await;
    let http = reqwest::Client::new();
    let call = |action: &str, body: serde_json::Value| {
        http.post(format!("http://{address}/"))
            .header("content-type", "application/x-amz-json-1.0")
            .header(
                "x-amz-target",
                format!("AmazonSimpleNotificationService.{action}"),
            )
            .header("x-amzn-query-mode", "true")
            .body(body.to_string())
            .send()
    };
    let response = call(
        "Publish",
        serde_json::json!({ "TopicArn": TOPIC, "Message": "hello", "Subject": "Hi" }),
    )
    .await
    .expect("publish");
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["MessageId"].as_str().map(str::len), Some(36));
    assert_eq!(outbox(&local.service).len(), 1);

    let response = call(
        "Publish",
        serde_json::json!({ "TopicArn": format!("{TOPIC}-nope"), "Message": "x" }),
    )
    .await
    .expect("missing");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response
            .headers()
            .get("x-amzn-query-error")
            .and_then(|v| v.to_str().ok()),
        Some("NotFound;Sender")
    );
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["__type"], "com.amazonaws.sns#NotFoundException");

    let response = call("ListTopics", serde_json::json!({}))
        .await
        .expect("list");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["Topics"][0]["TopicArn"], TOPIC);
}

/// Local mode serves Step Functions and SNS on one port; `is_sns_request` routes.
#[tokio::test]
async fn a_shared_port_routes_sns_and_step_functions_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = local(dir.path());
    let service = Arc::clone(&local.service);
    let shared = axum::Router::new().route(
        "/",
        post(move |headers: HeaderMap, body: Bytes| {
            let service: Arc<SnsService> = Arc::clone(&service);
            async move {
                if is_sns_request(&headers) {
                    sns_local::handle(&service, &headers, &body).await
                } else {
                    let step_functions: Response =
                        (StatusCode::OK, "step functions").into_response();
                    step_functions
                }
            }
        }),
    );
    let address = serve(shared).await;
    let client = sdk_client(address);
    client
        .publish()
        .topic_arn(TOPIC)
        .message("through the shared port")
        .send()
        .await
        .expect("publish");
    assert_eq!(outbox(&local.service).len(), 1);
    let other = reqwest::Client::new()
        .post(format!("http://{address}/"))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
        .body("{}")
        .send()
        .await
        .expect("sfn");
    assert_eq!(other.text().await.expect("body"), "step functions");
}

/// Per-reviewer delivery (docs/approval-policies.md): one subscription per
/// address, each filtered on the `reviewer` message attribute, so no reviewer
/// receives another's message.
#[tokio::test]
async fn filter_policies_deliver_each_message_to_the_matching_subscription_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = local(dir.path());
    let client = sdk_client(serve(router(Arc::clone(&local.service))).await);
    let topic = client
        .create_topic()
        .name("reviews")
        .send()
        .await
        .expect("create")
        .topic_arn()
        .expect("arn")
        .to_owned();
    let mut arns = Vec::new();
    for address in ["a@example.com", "b@example.com"] {
        let subscribed = client
            .subscribe()
            .topic_arn(&topic)
            .protocol("email")
            .endpoint(address)
            .attributes("FilterPolicy", format!(r#"{{"reviewer": ["{address}"]}}"#))
            .send()
            .await
            .expect("subscribe with a filter policy");
        arns.push(subscribed.subscription_arn().expect("arn").to_owned());
    }
    let reviewer = |address: &str| {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(address)
            .build()
            .expect("attribute")
    };

    // GIVEN two filtered subscriptions, WHEN a message names b, THEN only b gets it.
    client
        .publish()
        .topic_arn(&topic)
        .subject("For b")
        .message("only b")
        .message_attributes("reviewer", reviewer("b@example.com"))
        .send()
        .await
        .expect("publish");
    // WHEN a message names nobody, THEN nobody gets it.
    client
        .publish()
        .topic_arn(&topic)
        .message("nobody")
        .send()
        .await
        .expect("publish without attributes");
    let files = outbox(&local.service);
    assert_eq!(files.len(), 1, "{files:?}");
    let email = read_eml(&files[0]).expect("eml");
    assert_eq!(email.header("To"), Some("b@example.com"));

    // The policy reads back with its scope, as SNS reports it.
    let attributes = client
        .get_subscription_attributes()
        .subscription_arn(&arns[0])
        .send()
        .await
        .expect("attributes");
    let attributes = attributes.attributes().expect("attributes");
    assert_eq!(
        attributes.get("FilterPolicy").map(String::as_str),
        Some(r#"{"reviewer": ["a@example.com"]}"#)
    );
    assert_eq!(
        attributes.get("FilterPolicyScope").map(String::as_str),
        Some("MessageAttributes")
    );

    // A policy SNS would refuse is refused, and the old one stays.
    let refused = client
        .set_subscription_attributes()
        .subscription_arn(&arns[0])
        .attribute_name("FilterPolicy")
        .attribute_value(r#"{"reviewer": "a@example.com"}"#)
        .send()
        .await
        .expect_err("a policy value must be an array");
    let service_error = refused.into_service_error();
    assert!(
        service_error.is_invalid_parameter_exception(),
        "{service_error:?}"
    );
    assert!(
        service_error
            .meta()
            .message()
            .is_some_and(|m| m.starts_with("Invalid parameter: FilterPolicy: ")),
        "{service_error:?}"
    );
    // Subscribing again with other attributes is refused, as SNS does.
    let again = client
        .subscribe()
        .topic_arn(&topic)
        .protocol("email")
        .endpoint("a@example.com")
        .send()
        .await
        .expect_err("same endpoint, different attributes");
    assert!(
        again.into_service_error().is_invalid_parameter_exception(),
        "subscribe again"
    );

    // WHEN the policy is removed (an empty value), THEN a gets every message.
    client
        .set_subscription_attributes()
        .subscription_arn(&arns[0])
        .attribute_name("FilterPolicy")
        .attribute_value("")
        .send()
        .await
        .expect("remove the policy");
    client
        .publish()
        .topic_arn(&topic)
        .message("everyone unfiltered")
        .send()
        .await
        .expect("publish");
    let files = outbox(&local.service);
    assert_eq!(files.len(), 2, "{files:?}");
    let email = read_eml(&files[1]).expect("eml");
    assert_eq!(email.header("To"), Some("a@example.com"));
}
