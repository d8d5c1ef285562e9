//! Publish validation and what each protocol receives.
//!
//! Limits and wording follow the SNS API reference for `Publish` (as shipped
//! in aws-sdk-sns 1.121's docs: "messages must be UTF-8 encoded strings and at
//! most 256 KB in size (262,144 bytes, not 262,144 characters)"; "Subjects must
//! be UTF-8 text with no line breaks or control characters, and less than 100
//! characters long"; with `MessageStructure=json`, "Keys in the JSON object
//! that correspond to supported transport protocols must have simple JSON
//! string values") and the error messages SNS returns, as recorded by
//! LocalStack's AWS-validated SNS provider (`Invalid parameter: Empty message`,
//! `Invalid parameter: Message too long`, `Invalid parameter: Subject`,
//! `Invalid parameter: Message Structure - No default entry in JSON message body`,
//! `Invalid parameter: Message Structure - JSON message body failed to parse`).

use std::collections::BTreeMap;

use crate::error::SnsError;

/// Largest message (plus message attributes) SNS accepts, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 262_144;

/// Subjects must be shorter than this many characters.
pub const MAX_SUBJECT_CHARS: usize = 100;

/// The subject SNS gives emails published without one.
pub const DEFAULT_EMAIL_SUBJECT: &str = "AWS Notification Message";

/// One message attribute (`MessageAttributes.entry.N.Value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAttributeValue {
    /// `String`, `Number`, `Binary` or `String.Array`, optionally with a custom `.suffix`.
    pub data_type: String,
    /// The value for string-like types.
    pub string_value: Option<String>,
    /// The value for `Binary`, base64-encoded as on the wire.
    pub binary_value: Option<String>,
}

/// What `Publish` takes: the in-process equivalent of the API call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublishRequest {
    /// The topic (`TopicArn`, or a topic ARN given as `TargetArn`).
    pub topic_arn: Option<String>,
    /// `PhoneNumber`: SMS is not delivered locally, only announced.
    pub phone_number: Option<String>,
    /// The message, or with `message_structure = Some("json")` a JSON object of per-protocol messages.
    pub message: String,
    /// Email subject (and `Subject` in JSON notifications).
    pub subject: Option<String>,
    /// `json` or absent.
    pub message_structure: Option<String>,
    /// Message attributes by name.
    pub message_attributes: BTreeMap<String, MessageAttributeValue>,
}

impl PublishRequest {
    /// Reads a Step Functions `arn:aws:states:::sns:publish` task's resolved
    /// `Parameters` (the API's PascalCase members: `TopicArn`, `TargetArn`,
    /// `PhoneNumber`, `Message`, `Subject`, `MessageStructure`,
    /// `MessageAttributes`), so the engine can call [`crate::SnsService::publish`].
    /// A `Message` that is not a string is sent as its JSON text, as Step
    /// Functions does.
    pub fn from_task_parameters(parameters: &serde_json::Value) -> Result<Self, SnsError> {
        let object = parameters.as_object().ok_or_else(|| {
            SnsError::ValidationError(
                "The Parameters of sns:publish must be a JSON object".to_owned(),
            )
        })?;
        let text = |key: &str| -> Result<Option<String>, SnsError> {
            match object.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(text)) => Ok(Some(text.clone())),
                Some(_) => Err(SnsError::invalid(key)),
            }
        };
        let message = match object.get("Message") {
            None | Some(serde_json::Value::Null) => return Err(SnsError::missing("message")),
            Some(serde_json::Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        };
        let mut message_attributes = BTreeMap::new();
        if let Some(attributes) = object
            .get("MessageAttributes")
            .and_then(serde_json::Value::as_object)
        {
            for (name, value) in attributes {
                let field = |key: &str| {
                    value
                        .get(key)
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned)
                };
                message_attributes.insert(
                    name.clone(),
                    MessageAttributeValue {
                        data_type: field("DataType").unwrap_or_default(),
                        string_value: field("StringValue"),
                        binary_value: field("BinaryValue"),
                    },
                );
            }
        }
        Ok(Self {
            topic_arn: text("TopicArn")?.or(text("TargetArn")?),
            phone_number: text("PhoneNumber")?,
            message,
            subject: text("Subject")?,
            message_structure: text("MessageStructure")?,
            message_attributes,
        })
    }
}

/// The message after validation: what each protocol gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValidatedMessage {
    default: String,
    per_protocol: BTreeMap<String, String>,
}

impl ValidatedMessage {
    /// The text a subscription of `protocol` receives: its own key with
    /// `MessageStructure=json`, else `default`.
    pub(crate) fn for_protocol(&self, protocol: &str) -> &str {
        self.per_protocol.get(protocol).unwrap_or(&self.default)
    }
}

/// Checks a publish request as SNS does and resolves `MessageStructure`.
pub(crate) fn validate(request: &PublishRequest) -> Result<ValidatedMessage, SnsError> {
    if let Some(subject) = &request.subject {
        validate_subject(subject)?;
    }
    if request.message.is_empty() {
        return Err(SnsError::invalid("Empty message"));
    }
    if total_size(request) > MAX_MESSAGE_BYTES {
        return Err(SnsError::invalid("Message too long"));
    }
    validate_attributes(&request.message_attributes)?;
    match request.message_structure.as_deref() {
        None | Some("") => Ok(ValidatedMessage {
            default: request.message.clone(),
            per_protocol: BTreeMap::new(),
        }),
        Some("json") => parse_structured(&request.message),
        Some(_) => Err(SnsError::invalid("MessageStructure")),
    }
}

fn validate_subject(subject: &str) -> Result<(), SnsError> {
    let too_long = subject.chars().count() >= MAX_SUBJECT_CHARS;
    // Line breaks are control characters; so are the rest of C0 and DEL.
    let has_control = subject.chars().any(char::is_control);
    if subject.is_empty() || too_long || has_control {
        return Err(SnsError::invalid("Subject"));
    }
    Ok(())
}

/// SNS counts the message and every attribute's name, type and value towards the limit.
fn total_size(request: &PublishRequest) -> usize {
    let attributes: usize = request
        .message_attributes
        .iter()
        .map(|(name, value)| {
            name.len()
                + value.data_type.len()
                + value.string_value.as_ref().map_or(0, String::len)
                + value.binary_value.as_ref().map_or(0, String::len)
        })
        .sum();
    request.message.len() + attributes
}

fn validate_attributes(
    attributes: &BTreeMap<String, MessageAttributeValue>,
) -> Result<(), SnsError> {
    for (name, value) in attributes {
        let base_type = value.data_type.split('.').next().unwrap_or_default();
        let known = matches!(base_type, "String" | "Number" | "Binary");
        if !known {
            return Err(SnsError::invalid(&format!(
                "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
            )));
        }
        let has_value = if base_type == "Binary" {
            value.binary_value.is_some()
        } else {
            value.string_value.is_some()
        };
        if !has_value {
            return Err(SnsError::invalid(&format!(
                "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{}'.",
                value.data_type
            )));
        }
    }
    Ok(())
}

fn parse_structured(message: &str) -> Result<ValidatedMessage, SnsError> {
    let failed = || SnsError::invalid("Message Structure - JSON message body failed to parse");
    let value: serde_json::Value = serde_json::from_str(message).map_err(|_| failed())?;
    let object = value.as_object().ok_or_else(failed)?;
    // Only string values are messages; other keys are ignored, as SNS does.
    let per_protocol: BTreeMap<String, String> = object
        .iter()
        .filter_map(|(key, value)| value.as_str().map(|text| (key.clone(), text.to_owned())))
        .collect();
    let default = per_protocol.get("default").cloned().ok_or_else(|| {
        SnsError::invalid("Message Structure - No default entry in JSON message body")
    })?;
    Ok(ValidatedMessage {
        default,
        per_protocol,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(message: &str) -> PublishRequest {
        PublishRequest {
            topic_arn: Some("arn:aws:sns:us-east-1:123456789012:t".into()),
            message: message.into(),
            ..PublishRequest::default()
        }
    }

    fn message_of(result: Result<ValidatedMessage, SnsError>) -> String {
        match result {
            Ok(_) => "ok".into(),
            Err(error) => format!("{}: {error}", error.code()),
        }
    }

    #[test]
    fn step_functions_task_parameters_become_a_request() {
        let parameters = serde_json::json!({
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
            "Subject": "Review requested: run-1",
            "Message": "Task token: abc",
            "MessageAttributes": { "kind": { "DataType": "String", "StringValue": "review" } },
        });
        let request = PublishRequest::from_task_parameters(&parameters).expect("parameters");
        assert_eq!(
            request.topic_arn.as_deref(),
            Some("arn:aws:sns:us-east-1:123456789012:t")
        );
        assert_eq!(request.subject.as_deref(), Some("Review requested: run-1"));
        assert_eq!(request.message, "Task token: abc");
        assert_eq!(
            request.message_attributes["kind"].string_value.as_deref(),
            Some("review")
        );

        let object_message = serde_json::json!({ "TopicArn": "t", "Message": { "default": "d" }, "MessageStructure": "json" });
        let request = PublishRequest::from_task_parameters(&object_message).expect("parameters");
        assert_eq!(request.message, r#"{"default":"d"}"#);
        assert!(validate(&request).is_ok());

        let missing = PublishRequest::from_task_parameters(&serde_json::json!({ "TopicArn": "t" }));
        assert_eq!(
            missing.map(|_| ()).map_err(|error| error.code()),
            Err("ValidationError")
        );
        let wrong_type = PublishRequest::from_task_parameters(
            &serde_json::json!({ "TopicArn": 1, "Message": "m" }),
        );
        assert_eq!(
            wrong_type.map(|_| ()).map_err(|error| error.to_string()),
            Err("Invalid parameter: TopicArn".to_owned())
        );
    }

    #[test]
    fn plain_messages_go_to_every_protocol() {
        let message = validate(&request("hello")).expect("valid");
        assert_eq!(message.for_protocol("email"), "hello");
        assert_eq!(message.for_protocol("sqs"), "hello");
    }

    #[test]
    fn json_structure_picks_the_protocol_key_else_default() {
        let mut json =
            request(r#"{"default":"short","email":"long\nbody","sqs":{"not":"a string"}}"#);
        json.message_structure = Some("json".into());
        let message = validate(&json).expect("valid");
        assert_eq!(message.for_protocol("email"), "long\nbody");
        assert_eq!(message.for_protocol("email-json"), "short");
        assert_eq!(message.for_protocol("sqs"), "short");
    }

    #[test]
    fn json_structure_errors_use_snss_wording() {
        let structured = |body: &str| {
            let mut request = request(body);
            request.message_structure = Some("json".into());
            message_of(validate(&request))
        };
        assert_eq!(
            structured(r#"{"email":"x"}"#),
            "InvalidParameter: Invalid parameter: Message Structure - No default entry in JSON message body"
        );
        assert_eq!(
            structured(r#"{"default":1}"#),
            "InvalidParameter: Invalid parameter: Message Structure - No default entry in JSON message body"
        );
        assert_eq!(
            structured("not json"),
            "InvalidParameter: Invalid parameter: Message Structure - JSON message body failed to parse"
        );
        assert_eq!(
            structured(r#"["default"]"#),
            "InvalidParameter: Invalid parameter: Message Structure - JSON message body failed to parse"
        );
        let mut other = request("x");
        other.message_structure = Some("xml".into());
        assert_eq!(
            message_of(validate(&other)),
            "InvalidParameter: Invalid parameter: MessageStructure"
        );
    }

    #[test]
    fn empty_and_oversized_messages_are_rejected() {
        assert_eq!(
            message_of(validate(&request(""))),
            "InvalidParameter: Invalid parameter: Empty message"
        );
        assert_eq!(
            message_of(validate(&request(&"a".repeat(MAX_MESSAGE_BYTES)))),
            "ok"
        );
        assert_eq!(
            message_of(validate(&request(&"a".repeat(MAX_MESSAGE_BYTES + 1)))),
            "InvalidParameter: Invalid parameter: Message too long"
        );
        // Bytes, not characters: 87,382 three-byte characters are 262,146 bytes.
        assert_eq!(
            message_of(validate(&request(&"審".repeat(87_382)))),
            "InvalidParameter: Invalid parameter: Message too long"
        );
        let mut with_attribute = request(&"a".repeat(MAX_MESSAGE_BYTES - 10));
        with_attribute.message_attributes.insert(
            "k".into(),
            MessageAttributeValue {
                data_type: "String".into(),
                string_value: Some("0123456789".into()),
                binary_value: None,
            },
        );
        assert_eq!(
            message_of(validate(&with_attribute)),
            "InvalidParameter: Invalid parameter: Message too long"
        );
    }

    #[test]
    fn subjects_follow_snss_constraints() {
        let with_subject = |subject: &str| {
            let mut request = request("x");
            request.subject = Some(subject.into());
            message_of(validate(&request))
        };
        assert_eq!(with_subject(&"s".repeat(99)), "ok");
        assert_eq!(with_subject("Prüfung angefordert"), "ok");
        let rejected = "InvalidParameter: Invalid parameter: Subject";
        assert_eq!(with_subject(&"s".repeat(100)), rejected);
        assert_eq!(with_subject("two\nlines"), rejected);
        assert_eq!(with_subject("carriage\rreturn"), rejected);
        assert_eq!(with_subject("tab\there"), rejected);
        assert_eq!(with_subject(""), rejected);
    }

    #[test]
    fn attributes_need_a_known_type_and_a_value() {
        let with_attribute = |data_type: &str, string_value: Option<&str>| {
            let mut request = request("x");
            request.message_attributes.insert(
                "decision".into(),
                MessageAttributeValue {
                    data_type: data_type.into(),
                    string_value: string_value.map(str::to_owned),
                    binary_value: None,
                },
            );
            message_of(validate(&request))
        };
        assert_eq!(with_attribute("String", Some("approved")), "ok");
        assert_eq!(with_attribute("String.Array", Some("[\"a\"]")), "ok");
        assert!(
            with_attribute("Blob", Some("x")).starts_with(
                "InvalidParameter: Invalid parameter: The message attribute 'decision'"
            )
        );
        assert!(
            with_attribute("Number", None).starts_with(
                "InvalidParameter: Invalid parameter: The message attribute 'decision'"
            )
        );
    }
}
