//! The local SNS of `hitl local`: no AWS account, email lands in an outbox.
//!
//! Contract:
//! - [`SnsService::publish`] is SNS's `Publish`, callable in process (the Step
//!   Functions engine's `sns:publish` integration) with SNS's validation and
//!   error codes ([`SnsError`]: `NotFound` "Topic does not exist",
//!   `InvalidParameter` "Invalid parameter: ...").
//! - [`router`] / [`handle`] serve SNS's wire protocol on `POST /`: the query
//!   protocol that aws-sdk-sns and the AWS CLI send (and AWS JSON 1.0 if an SDK
//!   switches), for `Publish`, `ListTopics`, `ListSubscriptions(ByTopic)`,
//!   `Get/SetTopicAttributes`, `Get/SetSubscriptionAttributes`, `CreateTopic`,
//!   `DeleteTopic`, `Subscribe`, `ConfirmSubscription` and `Unsubscribe`;
//!   anything else is `InvalidAction`. [`is_sns_request`] tells SNS requests
//!   from Step Functions' on a shared port.
//! - Each `email` subscription's copy is one RFC 5322 `.eml` file in the
//!   outbox (`<UTC time>-<message id>-<n>.eml`, written atomically), with the
//!   body SNS emails carry (message, then the unsubscribe footer) in
//!   quoted-printable; `email-json` gets SNS's JSON notification; `lambda`
//!   goes to [`SnsConfig::with_lambda_invoker`]'s invoker when there is one.
//!   Other protocols (sqs, http/s, sms, ...) are announced as not delivered locally.
//! - Subscription filter policies ([`filter`]: `FilterPolicy` and
//!   `FilterPolicyScope`, set by `Subscribe`'s `Attributes`,
//!   `SetSubscriptionAttributes` or a template's `AWS::SNS::Subscription`)
//!   decide which subscriptions get a message, as on SNS; a filtered-out copy
//!   is [`DeliveryOutcome::FilteredOut`].
//! - Every subscription is confirmed at once; email ones, and every delivery,
//!   are announced through [`SnsConfig::announce`] for the terminal.
//! - [`list_outbox`] and [`read_eml`] read the outbox back (oldest first;
//!   decoded body and subject), so tests and tools need no mail library.
//!
//! Wiring, as local mode does it:
//!
//! ```no_run
//! use std::sync::Arc;
//! use sns_local::{PublishRequest, SnsConfig, SnsService, TopicSpec};
//!
//! # async fn wire() -> Result<(), sns_local::SnsError> {
//! let topic_arn = "arn:aws:sns:us-east-1:123456789012:ReviewTopic";
//! let config = SnsConfig::new(".hitl/outbox", "us-east-1", "123456789012");
//! let topic = TopicSpec::new("ReviewTopic", topic_arn).with_subscription("email", "reviewer@example.com");
//! let sns = Arc::new(SnsService::new(config, vec![topic]));
//!
//! // HTTP: serve `sns_local::router(sns.clone())`, or route `POST /` yourself and
//! // call `sns_local::handle(&sns, &headers, &body)` when `is_sns_request(&headers)`.
//! let _router = sns_local::router(Arc::clone(&sns));
//!
//! // In process, as the engine's sns:publish integration:
//! let output = sns
//!     .publish(PublishRequest {
//!         topic_arn: Some(topic_arn.to_owned()),
//!         subject: Some("Review requested: run-1".to_owned()),
//!         message: "Task token: ...".to_owned(),
//!         ..PublishRequest::default()
//!     })
//!     .await?;
//! println!("MessageId {}", output.message_id);
//! # Ok(())
//! # }
//! ```

mod eml;
mod error;
pub mod filter;
mod message;
mod service;
mod wire;

pub use eml::{
    Email, ParsedEmail, list_outbox, parse_eml, quoted_printable_decode, quoted_printable_encode,
    read_eml,
};
pub use error::SnsError;
pub use message::{
    DEFAULT_EMAIL_SUBJECT, MAX_MESSAGE_BYTES, MAX_SUBJECT_CHARS, MessageAttributeValue,
    PublishRequest,
};
pub use service::{
    Announce, Delivery, DeliveryOutcome, LambdaInvoker, PublishOutput, SNS_FROM_ADDRESS,
    SNS_FROM_NAME, SnsConfig, SnsService, Subscription, SubscriptionSpec, TopicSpec,
};
pub use wire::{JSON_TARGET_PREFIX, XML_NAMESPACE, handle, is_sns_request, router};
