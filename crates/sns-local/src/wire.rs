//! SNS's wire protocols on `POST /`.
//!
//! Both clients the product uses speak the **query protocol**: aws-sdk-sns
//! 1.121 serialises `Publish` with `aws_smithy_query::QueryWriter::new(.., "Publish",
//! "2010-03-31")` as `application/x-www-form-urlencoded`, and botocore (AWS CLI
//! v1) has `"protocol": "query"` in `sns/2010-03-31/service-2.json`. Requests
//! are `Action=Publish&Version=2010-03-31&TopicArn=...`; maps are flattened as
//! `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue`
//! and `Attributes.entry.N.key` / `.value`. Responses are XML in the
//! `http://sns.amazonaws.com/doc/2010-03-31/` namespace (botocore's
//! `xmlNamespace`): `<PublishResponse><PublishResult><MessageId>` plus
//! `<ResponseMetadata><RequestId>`; errors are
//! `<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>`,
//! which aws-sdk-sns's `rest_xml_wrapped_errors` parses into typed errors.
//!
//! SDKs that move SNS to AWS JSON 1.0 (as SQS moved) would send
//! `X-Amz-Target: AmazonSimpleNotificationService.<Action>` with a JSON body;
//! that is accepted too and answered in JSON, with the query error code in
//! `x-amzn-query-error` (the `awsQueryCompatible` convention).
//!
//! Local mode serves Step Functions on the same port, also `POST /`, with
//! `X-Amz-Target: AWSStepFunctions.*`; [`is_sns_request`] tells them apart.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use uuid::Uuid;

use crate::error::SnsError;
use crate::message::{MessageAttributeValue, PublishRequest};
use crate::service::{SnsService, Subscription};

/// The query protocol's XML namespace for SNS.
pub const XML_NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// `X-Amz-Target` prefix of SNS operations in AWS JSON 1.0.
pub const JSON_TARGET_PREFIX: &str = "AmazonSimpleNotificationService.";

/// Whether a `POST /` is meant for SNS rather than another service on the same port.
///
/// In order: an `X-Amz-Target` header decides (SNS's JSON prefix, anything
/// else such as `AWSStepFunctions.StartExecution` is not SNS); else the SigV4
/// credential scope names the service (`Credential=AKID/20261125/us-east-1/sns/aws4_request`);
/// else an unsigned form post (curl) is taken to be SNS's query protocol.
pub fn is_sns_request(headers: &HeaderMap) -> bool {
    if let Some(target) = headers.get("x-amz-target") {
        return target
            .to_str()
            .is_ok_and(|target| target.starts_with(JSON_TARGET_PREFIX));
    }
    if let Some(service) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(signing_service)
    {
        return service == "sns";
    }
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with("application/x-www-form-urlencoded"))
}

/// The service in a SigV4 `Authorization` header's credential scope.
fn signing_service(authorization: &str) -> Option<&str> {
    let credential = authorization.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    // AKID/date/region/service/aws4_request
    scope.split('/').nth(3)
}

/// An axum router serving SNS on `POST /`. Local mode that shares the port
/// can instead route `POST /` itself and call [`handle`] when
/// [`is_sns_request`] says so.
pub fn router(service: Arc<SnsService>) -> Router {
    Router::new()
        .route("/", post(axum_handler))
        .with_state(service)
}

async fn axum_handler(
    State(service): State<Arc<SnsService>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&service, &headers, &body).await
}

/// Answers one SNS request (query protocol or AWS JSON 1.0) with SNS's response.
pub async fn handle(service: &SnsService, headers: &HeaderMap, body: &[u8]) -> Response {
    let request_id = Uuid::new_v4().to_string();
    let json_action = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .and_then(|target| target.strip_prefix(JSON_TARGET_PREFIX))
        .map(str::to_owned);
    match json_action {
        Some(action) => {
            let result = match json_params(body) {
                Ok(params) => dispatch(service, &action, &params).await,
                Err(error) => Err(error),
            };
            json_response(result, &request_id)
        }
        None => {
            let params = Params(form_urlencoded::parse(body).into_owned().collect());
            let result = match params.get("Action") {
                Some(action) => dispatch(service, action, &params)
                    .await
                    .map(|output| (action.to_owned(), output)),
                None => Err(SnsError::Malformed(
                    "The request must contain the parameter Action.".to_owned(),
                )),
            };
            xml_response(result, &request_id)
        }
    }
}

/// Flat request parameters, as the query protocol sends them.
#[derive(Debug, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A required member; `member` is its name as SNS's validation message spells it.
    fn required(&self, key: &str, member: &str) -> Result<&str, SnsError> {
        self.get(key).ok_or_else(|| SnsError::missing(member))
    }

    /// The entries of a flattened map `PREFIX.entry.N.<field>`, by N, as field → value.
    fn entries(&self, prefix: &str) -> BTreeMap<u32, BTreeMap<&str, &str>> {
        let mut entries: BTreeMap<u32, BTreeMap<&str, &str>> = BTreeMap::new();
        let prefix = format!("{prefix}.entry.");
        for (key, value) in &self.0 {
            let Some(rest) = key.strip_prefix(&prefix) else {
                continue;
            };
            let Some((index, field)) = rest.split_once('.') else {
                continue;
            };
            let Ok(index) = index.parse() else { continue };
            entries.entry(index).or_default().insert(field, value);
        }
        entries
    }

    /// `PREFIX.entry.N.key` / `.value` pairs.
    fn string_map(&self, prefix: &str) -> BTreeMap<String, String> {
        self.entries(prefix)
            .values()
            .filter_map(|entry| {
                Some((
                    entry.get("key")?.to_string(),
                    entry.get("value")?.to_string(),
                ))
            })
            .collect()
    }

    fn message_attributes(&self) -> BTreeMap<String, MessageAttributeValue> {
        self.entries("MessageAttributes")
            .values()
            .filter_map(|entry| {
                let name = entry.get("Name")?;
                let value = MessageAttributeValue {
                    data_type: entry
                        .get("Value.DataType")
                        .copied()
                        .unwrap_or_default()
                        .to_owned(),
                    string_value: entry.get("Value.StringValue").map(|v| v.to_string()),
                    binary_value: entry.get("Value.BinaryValue").map(|v| v.to_string()),
                };
                Some((name.to_string(), value))
            })
            .collect()
    }
}

/// Turns an AWS JSON 1.0 body into the query protocol's flat parameters.
fn json_params(body: &[u8]) -> Result<Params, SnsError> {
    let body = if body.is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| SnsError::Malformed(format!("Invalid JSON body: {error}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| SnsError::Malformed("The JSON body must be an object".to_owned()))?;
    let scalar = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Bool(_) | serde_json::Value::Number(_) => Some(value.to_string()),
        _ => None,
    };
    let mut params = Vec::new();
    for (key, value) in object {
        match value {
            serde_json::Value::Object(map) if key == "MessageAttributes" => {
                for (index, (name, attribute)) in map.iter().enumerate() {
                    let prefix = format!("MessageAttributes.entry.{}", index + 1);
                    params.push((format!("{prefix}.Name"), name.clone()));
                    for (field, field_value) in attribute.as_object().into_iter().flatten() {
                        if let Some(text) = scalar(field_value) {
                            params.push((format!("{prefix}.Value.{field}"), text));
                        }
                    }
                }
            }
            serde_json::Value::Object(map) => {
                for (index, (map_key, map_value)) in map.iter().enumerate() {
                    let prefix = format!("{key}.entry.{}", index + 1);
                    params.push((format!("{prefix}.key"), map_key.clone()));
                    params.push((
                        format!("{prefix}.value"),
                        scalar(map_value).unwrap_or_default(),
                    ));
                }
            }
            other => {
                if let Some(text) = scalar(other) {
                    params.push((key.clone(), text));
                }
            }
        }
    }
    Ok(Params(params))
}

/// What an action answers, independent of the protocol.
#[derive(Debug)]
enum Output {
    MessageId(String),
    Topics(Vec<String>),
    Subscriptions(Vec<Subscription>),
    Attributes(BTreeMap<String, String>),
    TopicArn(String),
    SubscriptionArn(String),
    Empty,
}

async fn dispatch(service: &SnsService, action: &str, params: &Params) -> Result<Output, SnsError> {
    let topic_arn = || params.required("TopicArn", "topicArn");
    match action {
        "Publish" => {
            let topic_arn = match (params.get("TopicArn"), params.get("TargetArn")) {
                (Some(topic), _) => Some(topic.to_owned()),
                // A TargetArn that names a topic is a topic publish; platform endpoints do not exist locally.
                (None, Some(target)) if !target.contains(":endpoint/") => Some(target.to_owned()),
                (None, Some(_)) => {
                    return Err(SnsError::invalid(
                        "TargetArn Reason: No endpoint found for the target arn specified",
                    ));
                }
                (None, None) => None,
            };
            let request = PublishRequest {
                topic_arn,
                phone_number: params.get("PhoneNumber").map(str::to_owned),
                message: params.required("Message", "message")?.to_owned(),
                subject: params.get("Subject").map(str::to_owned),
                message_structure: params.get("MessageStructure").map(str::to_owned),
                message_attributes: params.message_attributes(),
            };
            let output = service.publish(request).await?;
            Ok(Output::MessageId(output.message_id))
        }
        // One page holds everything: no NextToken locally.
        "ListTopics" => Ok(Output::Topics(service.list_topics())),
        "ListSubscriptions" => Ok(Output::Subscriptions(service.list_subscriptions())),
        "ListSubscriptionsByTopic" => Ok(Output::Subscriptions(
            service.list_subscriptions_by_topic(topic_arn()?)?,
        )),
        "GetTopicAttributes" => Ok(Output::Attributes(service.topic_attributes(topic_arn()?)?)),
        "SetTopicAttributes" => {
            let name = params.required("AttributeName", "attributeName")?;
            let value = params.get("AttributeValue").unwrap_or_default();
            service.set_topic_attribute(topic_arn()?, name, value)?;
            Ok(Output::Empty)
        }
        "GetSubscriptionAttributes" => Ok(Output::Attributes(
            service
                .subscription_attributes(params.required("SubscriptionArn", "subscriptionArn")?)?,
        )),
        "SetSubscriptionAttributes" => {
            service.set_subscription_attribute(
                params.required("SubscriptionArn", "subscriptionArn")?,
                params.required("AttributeName", "attributeName")?,
                params.get("AttributeValue").unwrap_or_default(),
            )?;
            Ok(Output::Empty)
        }
        "CreateTopic" => Ok(Output::TopicArn(service.create_topic(
            params.required("Name", "name")?,
            params.string_map("Attributes"),
        )?)),
        "DeleteTopic" => {
            service.delete_topic(topic_arn()?)?;
            Ok(Output::Empty)
        }
        "Subscribe" => {
            let protocol = params.required("Protocol", "protocol")?;
            let endpoint = params.get("Endpoint").unwrap_or_default();
            Ok(Output::SubscriptionArn(service.subscribe(
                topic_arn()?,
                protocol,
                endpoint,
                params.string_map("Attributes"),
            )?))
        }
        "ConfirmSubscription" => Ok(Output::SubscriptionArn(
            service.confirm_subscription(topic_arn()?, params.required("Token", "token")?)?,
        )),
        "Unsubscribe" => {
            service.unsubscribe(params.required("SubscriptionArn", "subscriptionArn")?)?;
            Ok(Output::Empty)
        }
        other => Err(SnsError::InvalidAction(other.to_owned())),
    }
}

/// Escapes text for XML 1.0; characters XML cannot carry become U+FFFD.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", xml_escape(text));
}

fn xml_result(output: &Output) -> Option<String> {
    let mut out = String::new();
    match output {
        Output::MessageId(id) => element(&mut out, "MessageId", id),
        Output::Topics(arns) => {
            out.push_str("<Topics>");
            for arn in arns {
                out.push_str("<member>");
                element(&mut out, "TopicArn", arn);
                out.push_str("</member>");
            }
            out.push_str("</Topics>");
        }
        Output::Subscriptions(subscriptions) => {
            out.push_str("<Subscriptions>");
            for subscription in subscriptions {
                out.push_str("<member>");
                element(&mut out, "TopicArn", &subscription.topic_arn);
                element(&mut out, "Protocol", &subscription.protocol);
                element(&mut out, "SubscriptionArn", &subscription.subscription_arn);
                element(&mut out, "Owner", &subscription.owner);
                element(&mut out, "Endpoint", &subscription.endpoint);
                out.push_str("</member>");
            }
            out.push_str("</Subscriptions>");
        }
        Output::Attributes(attributes) => {
            out.push_str("<Attributes>");
            for (key, value) in attributes {
                out.push_str("<entry>");
                element(&mut out, "key", key);
                element(&mut out, "value", value);
                out.push_str("</entry>");
            }
            out.push_str("</Attributes>");
        }
        Output::TopicArn(arn) => element(&mut out, "TopicArn", arn),
        Output::SubscriptionArn(arn) => element(&mut out, "SubscriptionArn", arn),
        Output::Empty => return None,
    }
    Some(out)
}

fn xml_response(result: Result<(String, Output), SnsError>, request_id: &str) -> Response {
    let mut body = String::from("<?xml version=\"1.0\"?>\n");
    let status = match result {
        Ok((action, output)) => {
            let _ = write!(body, "<{action}Response xmlns=\"{XML_NAMESPACE}\">");
            if let Some(result) = xml_result(&output) {
                let _ = write!(body, "<{action}Result>{result}</{action}Result>");
            }
            let _ = writeln!(
                body,
                "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
            );
            StatusCode::OK
        }
        Err(error) => {
            tracing::debug!(code = error.code(), "SNS request rejected");
            let _ = write!(body, "<ErrorResponse xmlns=\"{XML_NAMESPACE}\"><Error>");
            element(&mut body, "Type", error.fault());
            element(&mut body, "Code", error.code());
            element(&mut body, "Message", &error.to_string());
            let _ = writeln!(
                body,
                "</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            );
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST)
        }
    };
    respond(status, "text/xml", request_id, body, None)
}

fn json_response(result: Result<Output, SnsError>, request_id: &str) -> Response {
    use serde_json::json;
    match result {
        Ok(output) => {
            let body = match output {
                Output::MessageId(id) => json!({ "MessageId": id }),
                Output::Topics(arns) => {
                    json!({ "Topics": arns.iter().map(|arn| json!({ "TopicArn": arn })).collect::<Vec<_>>() })
                }
                Output::Subscriptions(subscriptions) => json!({
                    "Subscriptions": subscriptions.iter().map(|s| json!({
                        "SubscriptionArn": s.subscription_arn,
                        "Owner": s.owner,
                        "Protocol": s.protocol,
                        "Endpoint": s.endpoint,
                        "TopicArn": s.topic_arn,
                    })).collect::<Vec<_>>()
                }),
                Output::Attributes(attributes) => json!({ "Attributes": attributes }),
                Output::TopicArn(arn) => json!({ "TopicArn": arn }),
                Output::SubscriptionArn(arn) => json!({ "SubscriptionArn": arn }),
                Output::Empty => json!({}),
            };
            respond(
                StatusCode::OK,
                "application/x-amz-json-1.0",
                request_id,
                body.to_string(),
                None,
            )
        }
        Err(error) => {
            let body = json!({
                "__type": format!("com.amazonaws.sns#{}", error.exception_name()),
                "message": error.to_string(),
            });
            let query_error = format!("{};{}", error.code(), error.fault());
            respond(
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
                "application/x-amz-json-1.0",
                request_id,
                body.to_string(),
                Some(query_error),
            )
        }
    }
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    request_id: &str,
    body: String,
    query_error: Option<String>,
) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    if let Some(value) = query_error.and_then(|value| HeaderValue::from_str(&value).ok()) {
        headers.insert("x-amzn-query-error", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn sns_requests_are_told_apart_from_step_functions() {
        let form = (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        );
        assert!(is_sns_request(&headers(&[form])));
        assert!(is_sns_request(&headers(&[
            form,
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=abc"
            ),
        ])));
        assert!(is_sns_request(&headers(&[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "AmazonSimpleNotificationService.Publish"),
        ])));
        assert!(!is_sns_request(&headers(&[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "AWSStepFunctions.StartExecution"),
        ])));
        assert!(!is_sns_request(&headers(&[
            form,
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=abc"
            ),
        ])));
        assert!(!is_sns_request(&headers(&[(
            "content-type",
            "application/json"
        )])));
    }

    #[test]
    fn flattened_maps_are_read_by_index() {
        let params = Params(
            form_urlencoded::parse(
                b"Action=Publish&MessageAttributes.entry.2.Name=b&MessageAttributes.entry.2.Value.DataType=Number\
                  &MessageAttributes.entry.2.Value.StringValue=2&MessageAttributes.entry.1.Name=a\
                  &MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=x%3Dy\
                  &Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=Review+Desk",
            )
            .into_owned()
            .collect(),
        );
        let attributes = params.message_attributes();
        assert_eq!(attributes["a"].string_value.as_deref(), Some("x=y"));
        assert_eq!(attributes["b"].data_type, "Number");
        assert_eq!(
            params.string_map("Attributes")["DisplayName"],
            "Review Desk"
        );
    }

    #[test]
    fn json_bodies_flatten_like_the_query_protocol() {
        let params = json_params(
            br#"{"TopicArn":"t","Message":"m","MessageAttributes":{"k":{"DataType":"String","StringValue":"v"}},"Attributes":{"DisplayName":"D"},"ReturnSubscriptionArn":true}"#,
        )
        .expect("json");
        assert_eq!(params.get("TopicArn"), Some("t"));
        assert_eq!(
            params.message_attributes()["k"].string_value.as_deref(),
            Some("v")
        );
        assert_eq!(params.string_map("Attributes")["DisplayName"], "D");
        assert_eq!(params.get("ReturnSubscriptionArn"), Some("true"));
    }

    #[test]
    fn xml_escaping_keeps_documents_well_formed() {
        assert_eq!(
            xml_escape("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
    }
}
