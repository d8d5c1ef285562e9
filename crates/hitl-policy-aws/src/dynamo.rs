//! [`ReviewStore`] on DynamoDB: the items and conditional writes of
//! docs/approval-policies.md ("DynamoDB table").
//!
//! Every expression names attributes through `#placeholders`: `token`,
//! `role`, `status` and others are DynamoDB reserved words ("Reserved words
//! in DynamoDB", developer guide), and a failed `ConditionExpression` is
//! `ConditionalCheckFailedException` (PutItem/UpdateItem API reference),
//! which becomes [`Written::Conflict`].

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use hitl_domain::Tally;
use hitl_domain::policy_flow::{
    LinkItem, ReviewSnapshot, ReviewStore, ReviewerItem, Role, StoreError, StoredReview,
    TimerWrite, Written,
};

use crate::attr::{to_attribute, to_json};
use crate::{ConfigError, required_env};

/// The environment variable that names the review table (set by `template.yaml`).
pub const TABLE_ENV: &str = "REVIEW_TABLE";

type Item = HashMap<String, AttributeValue>;

/// The review table through aws-sdk-dynamodb.
#[derive(Debug, Clone)]
pub struct DynamoReviewStore {
    client: Client,
    table: String,
}

impl DynamoReviewStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Reads [`TABLE_ENV`] once, at cold start.
    pub fn from_env(config: &aws_https::SdkConfig) -> Result<Self, ConfigError> {
        let table = required_env(TABLE_ENV, "the review table's name")?;
        Ok(Self::new(Client::new(config), table))
    }
}

fn review_pk(execution_arn: &str) -> String {
    format!("R#{execution_arn}")
}

fn s(text: impl Into<String>) -> AttributeValue {
    AttributeValue::S(text.into())
}

fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn failed<E>(error: &SdkError<E>) -> StoreError
where
    E: std::error::Error + 'static,
{
    // The SDK error's Display is "service error"; the context has the code and
    // message DynamoDB sent, which never include item data.
    StoreError {
        reason: DisplayErrorContext(error).to_string(),
    }
}

fn json_attribute<T: serde::Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_value(value)
        .map(|json| to_attribute(&json))
        .map_err(|error| StoreError {
            reason: format!("could not encode an item: {error}"),
        })
}

fn malformed(attribute: &str) -> StoreError {
    StoreError {
        reason: format!("a stored item has no valid `{attribute}`"),
    }
}

fn get_s<'a>(item: &'a Item, attribute: &str) -> Result<&'a str, StoreError> {
    match item.get(attribute) {
        Some(AttributeValue::S(text)) => Ok(text),
        _ => Err(malformed(attribute)),
    }
}

fn get_n<T: std::str::FromStr>(item: &Item, attribute: &str) -> Result<T, StoreError> {
    match item.get(attribute) {
        Some(AttributeValue::N(text)) => text.parse().map_err(|_| malformed(attribute)),
        _ => Err(malformed(attribute)),
    }
}

fn get_json<T: serde::de::DeserializeOwned>(item: &Item, attribute: &str) -> Result<T, StoreError> {
    item.get(attribute)
        .and_then(to_json)
        .and_then(|json| serde_json::from_value(json).ok())
        .ok_or_else(|| malformed(attribute))
}

fn review_from(item: &Item) -> Result<StoredReview, StoreError> {
    let pk = get_s(item, "pk")?;
    Ok(StoredReview {
        execution_arn: pk.strip_prefix("R#").unwrap_or(pk).to_owned(),
        version: get_n(item, "version")?,
        snapshot: get_json::<ReviewSnapshot>(item, "policy")?,
        tally: get_json::<Tally>(item, "tally")?,
        timers_done: get_n(item, "timersDone")?,
        expires_at: get_n(item, "expiresAt")?,
    })
}

fn reviewer_from(execution_arn: &str, item: &Item) -> Result<ReviewerItem, StoreError> {
    let role = match get_s(item, "role")? {
        "escalation" => Role::Escalation,
        "reviewer" => Role::Reviewer,
        _ => return Err(malformed("role")),
    };
    let asked_at = DateTime::parse_from_rfc3339(get_s(item, "askedAt")?)
        .map_err(|_| malformed("askedAt"))?
        .with_timezone(&Utc);
    Ok(ReviewerItem {
        execution_arn: execution_arn.to_owned(),
        address: get_s(item, "address")?.to_owned(),
        role,
        token: get_s(item, "token")?.to_owned(),
        link_hash: get_s(item, "linkHash")?.to_owned(),
        asked_at,
        expires_at: get_n(item, "expiresAt")?,
    })
}

impl DynamoReviewStore {
    /// Writes `item` only if no item has its key: `Conflict` when one does.
    async fn put_if_absent(&self, item: Item) -> Result<Written, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", "pk")
            .send()
            .await;
        conditional_write(result)
    }

    /// `UpdateItem` of the review item; the caller adds the expressions.
    fn update_review(&self, execution_arn: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(review_pk(execution_arn), "REVIEW")))
    }

    /// `GetItem` of `key` with `ConsistentRead`. A builder, not an `async fn`:
    /// one more future layer around each read overflows the compiler's layout
    /// depth in review_page's binary.
    fn get(&self, key: Item) -> GetItemFluentBuilder {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
    }
}

impl ReviewStore for DynamoReviewStore {
    async fn create_review(&self, review: &StoredReview) -> Result<Written, StoreError> {
        let mut item = key(review_pk(&review.execution_arn), "REVIEW");
        item.insert("version".into(), n(review.version));
        item.insert("policy".into(), json_attribute(&review.snapshot)?);
        item.insert("tally".into(), json_attribute(&review.tally)?);
        item.insert("timersDone".into(), n(review.timers_done));
        item.insert("expiresAt".into(), n(review.expires_at));
        self.put_if_absent(item).await
    }

    async fn get_review(&self, execution_arn: &str) -> Result<Option<StoredReview>, StoreError> {
        let read = self.get(key(review_pk(execution_arn), "REVIEW")).send();
        let output = read.await.map_err(|error| failed(&error))?;
        output.item().map(review_from).transpose()
    }

    async fn update_tally(
        &self,
        execution_arn: &str,
        seen_version: u64,
        tally: &Tally,
    ) -> Result<Written, StoreError> {
        let request = self
            .update_review(execution_arn)
            .update_expression("SET #tally = :tally, #version = :next")
            .condition_expression("#version = :seen");
        let result = with_tally(request, seen_version, tally)?.send().await;
        conditional_write(result)
    }

    async fn advance_timers(
        &self,
        execution_arn: &str,
        write: TimerWrite<'_>,
    ) -> Result<Written, StoreError> {
        let mut request = self
            .update_review(execution_arn)
            .expression_attribute_names("#done", "timersDone")
            .expression_attribute_values(":seenDone", n(write.seen_done))
            .expression_attribute_values(":nextDone", n(write.seen_done + 1));
        request = match write.expiry {
            None => request
                .update_expression("SET #done = :nextDone")
                .condition_expression("#done = :seenDone"),
            Some((seen_version, tally)) => {
                let request = request
                    .update_expression("SET #done = :nextDone, #tally = :tally, #version = :next")
                    .condition_expression("#done = :seenDone AND #version = :seen");
                with_tally(request, seen_version, tally)?
            }
        };
        conditional_write(request.send().await)
    }

    async fn create_link(&self, link: &LinkItem) -> Result<Written, StoreError> {
        let mut item = key(format!("L#{}", link.hash), "LINK");
        item.insert("executionArn".into(), s(&link.execution_arn));
        item.insert("reviewer".into(), s(&link.reviewer));
        item.insert("expiresAt".into(), n(link.expires_at));
        self.put_if_absent(item).await
    }

    async fn get_link(&self, hash: &str) -> Result<Option<LinkItem>, StoreError> {
        let read = self.get(key(format!("L#{hash}"), "LINK")).send();
        let output = read.await.map_err(|error| failed(&error))?;
        output
            .item()
            .map(|item| {
                Ok(LinkItem {
                    hash: hash.to_owned(),
                    execution_arn: get_s(item, "executionArn")?.to_owned(),
                    reviewer: get_s(item, "reviewer")?.to_owned(),
                    expires_at: get_n(item, "expiresAt")?,
                })
            })
            .transpose()
    }

    async fn put_reviewer(&self, reviewer: &ReviewerItem) -> Result<(), StoreError> {
        let mut item = key(
            review_pk(&reviewer.execution_arn),
            format!("V#{}", reviewer.address.to_lowercase()),
        );
        item.insert("address".into(), s(&reviewer.address));
        item.insert("role".into(), s(reviewer.role.as_str()));
        item.insert("token".into(), s(&reviewer.token));
        item.insert("linkHash".into(), s(&reviewer.link_hash));
        item.insert(
            "askedAt".into(),
            s(reviewer
                .asked_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
        item.insert("expiresAt".into(), n(reviewer.expires_at));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| failed(&error))
    }

    async fn get_reviewer(
        &self,
        execution_arn: &str,
        reviewer_key: &str,
    ) -> Result<Option<ReviewerItem>, StoreError> {
        let sk = format!("V#{reviewer_key}");
        let read = self.get(key(review_pk(execution_arn), sk)).send();
        let output = read.await.map_err(|error| failed(&error))?;
        output
            .item()
            .map(|item| reviewer_from(execution_arn, item))
            .transpose()
    }
}

/// The names and values of the tally's versioned write, for an update whose
/// expressions say `#tally = :tally, #version = :next` under `#version = :seen`.
fn with_tally(
    request: UpdateItemFluentBuilder,
    seen_version: u64,
    tally: &Tally,
) -> Result<UpdateItemFluentBuilder, StoreError> {
    Ok(request
        .expression_attribute_names("#tally", "tally")
        .expression_attribute_names("#version", "version")
        .expression_attribute_values(":tally", json_attribute(tally)?)
        .expression_attribute_values(":seen", n(seen_version))
        .expression_attribute_values(":next", n(seen_version + 1)))
}

/// A conditional write's result: `Conflict` when its condition failed
/// (`ConditionalCheckFailedException`, the same code for PutItem and
/// UpdateItem), else done or the store's error.
fn conditional_write<T, E>(result: Result<T, SdkError<E>>) -> Result<Written, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(_) => Ok(Written::Done),
        Err(error)
            if error
                .as_service_error()
                .and_then(ProvideErrorMetadata::code)
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(Written::Conflict)
        }
        Err(error) => Err(failed(&error)),
    }
}
