//! What each protocol receives: the email body, SNS's JSON notification
//! (`email-json`), and the Lambda event.

use chrono::{DateTime, SecondsFormat, Utc};

use super::{Subscription, Topic};
use crate::message::{PublishRequest, ValidatedMessage};

pub(super) struct DeliveryContext<'a> {
    pub(super) message_id: &'a str,
    pub(super) topic: &'a Topic,
    pub(super) region: &'a str,
    pub(super) subject: Option<&'a str>,
    pub(super) message: &'a ValidatedMessage,
    pub(super) request: &'a PublishRequest,
    pub(super) timestamp: DateTime<Utc>,
}

/// The text of an `email` delivery: the message, then SNS's footer with the
/// unsubscribe link. The footer is SNS's, as seen in delivered notifications:
///
/// ```text
/// <message>
///
/// --
/// If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:
/// https://sns.<region>.amazonaws.com/unsubscribe.html?SubscriptionArn=<arn>&Endpoint=<address>
///
/// Please do not reply directly to this email. If you have any questions or comments regarding this email, please contact us at https://aws.amazon.com/support
/// ```
pub(super) fn email_body(context: &DeliveryContext<'_>, subscription: &Subscription) -> String {
    format!(
        "{message}\n\n--\n\
         If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n\
         https://sns.{region}.amazonaws.com/unsubscribe.html?SubscriptionArn={arn}&Endpoint={endpoint}\n\n\
         Please do not reply directly to this email. If you have any questions or comments regarding this email, please contact us at https://aws.amazon.com/support\n",
        message = context.message.for_protocol("email"),
        region = context.region,
        arn = subscription.subscription_arn,
        endpoint = subscription.endpoint,
    )
}

/// The body of an `email-json` delivery: SNS's JSON notification document
/// (the fields of the HTTP/S notification format, printed as SNS prints them,
/// `"Key" : value`). Locally nothing is signed, and `Signature` says so.
pub(super) fn json_notification(
    context: &DeliveryContext<'_>,
    subscription: &Subscription,
) -> String {
    let quote = |text: &str| serde_json::Value::from(text).to_string();
    let mut fields: Vec<(&str, String)> = vec![
        ("Type", quote("Notification")),
        ("MessageId", quote(context.message_id)),
        ("TopicArn", quote(&context.topic.arn)),
    ];
    if let Some(subject) = context.subject {
        fields.push(("Subject", quote(subject)));
    }
    fields.extend([
        ("Message", quote(context.message.for_protocol("email-json"))),
        (
            "Timestamp",
            quote(
                &context
                    .timestamp
                    .to_rfc3339_opts(SecondsFormat::Millis, true),
            ),
        ),
        ("SignatureVersion", quote("1")),
        ("Signature", quote("UNSIGNED-LOCAL")),
        ("SigningCertURL", quote("")),
        (
            "UnsubscribeURL",
            quote(&format!(
                "https://sns.{}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={}",
                context.region, subscription.subscription_arn
            )),
        ),
    ]);
    if !context.request.message_attributes.is_empty() {
        fields.push((
            "MessageAttributes",
            notification_attributes(context).to_string(),
        ));
    }
    let lines: Vec<String> = fields
        .into_iter()
        .map(|(key, value)| format!("  \"{key}\" : {value}"))
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

/// Message attributes as notifications carry them: `{"name":{"Type":..,"Value":..}}`.
pub(super) fn notification_attributes(context: &DeliveryContext<'_>) -> serde_json::Value {
    let attributes: serde_json::Map<String, serde_json::Value> = context
        .request
        .message_attributes
        .iter()
        .map(|(name, value)| {
            let text = value
                .string_value
                .clone()
                .or_else(|| value.binary_value.clone())
                .unwrap_or_default();
            (
                name.clone(),
                serde_json::json!({ "Type": value.data_type, "Value": text }),
            )
        })
        .collect();
    serde_json::Value::Object(attributes)
}

/// SNS's event for a Lambda subscription (the `SNSEvent` shape: `Records[].Sns`,
/// with `SigningCertUrl`/`UnsubscribeUrl` spelled as in that event).
pub(super) fn lambda_event(
    context: &DeliveryContext<'_>,
    subscription: &Subscription,
) -> serde_json::Value {
    serde_json::json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription.subscription_arn,
            "Sns": {
                "Type": "Notification",
                "MessageId": context.message_id,
                "TopicArn": context.topic.arn,
                "Subject": context.subject,
                "Message": context.message.for_protocol("lambda"),
                "Timestamp": context.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true),
                "SignatureVersion": "1",
                "Signature": "UNSIGNED-LOCAL",
                "SigningCertUrl": "",
                "UnsubscribeUrl": format!(
                    "https://sns.{}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={}",
                    context.region, subscription.subscription_arn
                ),
                "MessageAttributes": notification_attributes(context),
            }
        }]
    })
}
