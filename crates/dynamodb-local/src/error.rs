//! DynamoDB's errors, as AWS JSON 1.0 reports them.
//!
//! The body is `{"__type": "<namespace>#<Code>", "message": "..."}` with HTTP
//! 400 for the caller's errors. The namespaces are the real service's:
//! DynamoDB's own exceptions are `com.amazonaws.dynamodb.v20120810#…`
//! (moto's `ERROR_TYPE_PREFIX`), while request validation and protocol
//! errors come from AWS's Coral framework: `com.amazon.coral.validate#ValidationException`,
//! `com.amazon.coral.service#SerializationException` and
//! `com.amazon.coral.service#UnknownOperationException` (the last with no
//! message, as dynalite answers to match the service). The SDKs and the CLI
//! keep only what follows `#`.

/// An error a DynamoDB operation returns.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DynamoError {
    /// `ValidationException`: a request DynamoDB refuses.
    #[error("{0}")]
    Validation(String),
    /// `SerializationException`: a member of the wrong JSON type.
    #[error("{0}")]
    Serialization(String),
    /// `ResourceNotFoundException`: no such table.
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ResourceInUseException`: the table already exists.
    #[error("{0}")]
    ResourceInUse(String),
    /// `ConditionalCheckFailedException`, with the item as it was when
    /// `ReturnValuesOnConditionCheckFailure` is `ALL_OLD` (and there was one),
    /// already in its wire form (so this module needs none of `value`'s types).
    #[error("The conditional request failed")]
    ConditionalCheckFailed { item: Option<serde_json::Value> },
    /// `UnknownOperationException`: an operation this service does not serve.
    #[error("")]
    UnknownOperation(String),
    /// `InternalServerError` (HTTP 500): the store failed.
    #[error("{0}")]
    Internal(String),
}

impl DynamoError {
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::Validation(message.into())
    }

    /// "Requested resource not found", which item operations answer for a missing table.
    pub(crate) fn no_table() -> Self {
        Self::ResourceNotFound("Requested resource not found".to_owned())
    }

    /// What DescribeTable and DeleteTable answer for a missing table
    /// (LocalStack's AWS-recorded snapshot `test_table_crud`).
    pub(crate) fn table_not_found(name: &str) -> Self {
        Self::ResourceNotFound(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    }

    /// The error code, without namespace: what the SDKs and the CLI show.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "ValidationException",
            Self::Serialization(_) => "SerializationException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::ResourceInUse(_) => "ResourceInUseException",
            Self::ConditionalCheckFailed { .. } => "ConditionalCheckFailedException",
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::Internal(_) => "InternalServerError",
        }
    }

    /// The `__type` on the wire.
    pub fn wire_type(&self) -> String {
        let namespace = match self {
            Self::Validation(_) => "com.amazon.coral.validate",
            Self::Serialization(_) | Self::UnknownOperation(_) => "com.amazon.coral.service",
            _ => "com.amazonaws.dynamodb.v20120810",
        };
        format!("{namespace}#{}", self.code())
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Internal(_) => 500,
            _ => 400,
        }
    }

    /// The JSON error body.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert("__type".to_owned(), self.wire_type().into());
        match self {
            Self::UnknownOperation(_) => {}
            Self::ConditionalCheckFailed { item } => {
                body.insert("message".to_owned(), self.to_string().into());
                if let Some(item) = item {
                    body.insert("Item".to_owned(), item.clone());
                }
            }
            _ => {
                body.insert("message".to_owned(), self.to_string().into());
            }
        }
        serde_json::Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_carry_the_services_type_and_message() {
        assert_eq!(
            DynamoError::ConditionalCheckFailed { item: None }.body(),
            json!({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                   "message": "The conditional request failed"})
        );
        assert_eq!(
            DynamoError::validation("x").body(),
            json!({"__type": "com.amazon.coral.validate#ValidationException", "message": "x"})
        );
        assert_eq!(
            DynamoError::UnknownOperation("Frob".into()).body(),
            json!({"__type": "com.amazon.coral.service#UnknownOperationException"})
        );
        assert_eq!(DynamoError::no_table().status(), 400);
        assert_eq!(DynamoError::Internal("disk".into()).status(), 500);
    }
}
