//! SNS: topics, their `Subscription` property, `AWS::SNS::Subscription`s
//! and functions' `SNS` events.

use serde_json::Value;

use super::Res;
use crate::TemplateError;
use crate::model::{Stack, Subscription, Topic, TopicSubscription};
use crate::params::scalar_string;
use crate::resolve::Resolver;

/// A function's `SNS` events are subscriptions of the function to the
/// topic (SAM generates an `AWS::SNS::Subscription` named
/// `<Function><Event>` with protocol `lambda`; SAM developer guide,
/// "SNS" event source type: `Topic`, `FilterPolicy`, `FilterPolicyScope`).
pub(super) fn sns_event_subscriptions(stack: &mut Stack) -> Result<(), TemplateError> {
    let mut found = Vec::new();
    for f in &stack.functions {
        for event in f.events.iter().filter(|e| e.event_type == "SNS") {
            let p = &event.properties;
            let topic_arn = p.get("Topic").and_then(scalar_string).ok_or_else(|| {
                TemplateError::resource(
                    &f.logical_id,
                    Some("Events"),
                    format!("event {}: Topic (the topic's ARN) is required", event.name),
                )
            })?;
            found.push(Subscription {
                logical_id: format!("{}{}", f.logical_id, event.name),
                topic_arn,
                protocol: "lambda".to_owned(),
                endpoint: f.arn.clone(),
                raw_message_delivery: false,
                filter_policy: p.get("FilterPolicy").cloned(),
                filter_policy_scope: p.get("FilterPolicyScope").and_then(scalar_string),
                properties: p.clone(),
            });
        }
    }
    stack.subscriptions.extend(found);
    Ok(())
}

pub(super) fn topic(r: &Resolver<'_>, res: &Res<'_>) -> Result<Topic, TemplateError> {
    let identity = r
        .identity(res.id)
        .map_err(|e| TemplateError::resource(res.id, Some("TopicName"), e.0))?;
    let mut subscriptions = Vec::new();
    if let Some(subs) = res.props.get("Subscription") {
        let subs = subs
            .as_array()
            .ok_or_else(|| res.err("Subscription", "must be a list of {Protocol, Endpoint}"))?;
        for (i, sub) in subs.iter().enumerate() {
            let field = |key: &str| {
                sub.get(key).and_then(scalar_string).ok_or_else(|| {
                    res.err("Subscription", format!("entry {i} needs {key} (a string)"))
                })
            };
            subscriptions.push(TopicSubscription {
                protocol: field("Protocol")?,
                endpoint: field("Endpoint")?,
                filter_policy: None,
                filter_policy_scope: None,
            });
        }
    }
    Ok(Topic {
        logical_id: res.id.to_owned(),
        name: identity.name,
        arn: identity.ref_value,
        display_name: res.opt_string("DisplayName")?,
        kms_master_key_id: res.opt_string("KmsMasterKeyId")?,
        fifo: res.opt_bool("FifoTopic")?,
        subscriptions,
        properties: res.props.clone(),
    })
}

pub(super) fn subscription(res: &Res<'_>) -> Result<Subscription, TemplateError> {
    Ok(Subscription {
        logical_id: res.id.to_owned(),
        topic_arn: res.req_string("TopicArn")?,
        protocol: res.req_string("Protocol")?,
        endpoint: res.opt_string("Endpoint")?.unwrap_or_default(),
        raw_message_delivery: res.opt_bool("RawMessageDelivery")?,
        filter_policy: match res.props.get("FilterPolicy") {
            None => None,
            Some(policy @ Value::Object(_)) => Some(policy.clone()),
            // CloudFormation also takes the policy as a string of JSON.
            Some(Value::String(text)) => Some(
                serde_json::from_str::<Value>(text)
                    .ok()
                    .filter(Value::is_object)
                    .ok_or_else(|| {
                        res.err(
                            "FilterPolicy",
                            "must be a JSON object (or a string holding one)",
                        )
                    })?,
            ),
            Some(_) => {
                return Err(res.err(
                    "FilterPolicy",
                    "must be a JSON object (or a string holding one)",
                ));
            }
        },
        filter_policy_scope: match res.opt_string("FilterPolicyScope")? {
            None => None,
            Some(scope) if scope == "MessageAttributes" || scope == "MessageBody" => Some(scope),
            Some(other) => {
                return Err(res.err(
                    "FilterPolicyScope",
                    format!("{other} is not a scope: use MessageAttributes or MessageBody"),
                ));
            }
        },
        properties: res.props.clone(),
    })
}
