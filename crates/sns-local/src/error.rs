//! SNS's error codes, as the query protocol reports them.

use thiserror::Error;

/// An error SNS would return, with SNS's code and wording.
///
/// The wording follows what SNS sends (and what LocalStack's AWS-validated
/// snapshot tests record), e.g. `Invalid parameter: Message too long`, so
/// code that matches on messages behaves the same against the local service.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SnsError {
    /// `NotFound` (HTTP 404): the topic or subscription does not exist.
    #[error("{0}")]
    NotFound(String),
    /// `InvalidParameter` (HTTP 400): a parameter SNS rejects.
    #[error("{0}")]
    InvalidParameter(String),
    /// `ValidationError` (HTTP 400): a required parameter is missing.
    #[error("{0}")]
    ValidationError(String),
    /// `InvalidAction` (HTTP 400): the action is unknown or not supported locally.
    #[error("The action {0} is not valid for this web service.")]
    InvalidAction(String),
    /// `MalformedQueryString` (HTTP 400): the request body is not a form or JSON document.
    #[error("{0}")]
    Malformed(String),
}

impl SnsError {
    /// SNS's error code: what the query protocol puts in `<Code>`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "NotFound",
            Self::InvalidParameter(_) => "InvalidParameter",
            Self::ValidationError(_) => "ValidationError",
            Self::InvalidAction(_) => "InvalidAction",
            Self::Malformed(_) => "MalformedQueryString",
        }
    }

    /// The exception shape's name, as the JSON protocol's `__type` and Step
    /// Functions' service integrations (`SNS.NotFoundException`) name it.
    pub fn exception_name(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "NotFoundException",
            Self::InvalidParameter(_) => "InvalidParameterException",
            Self::ValidationError(_) => "ValidationException",
            Self::InvalidAction(_) => "InvalidActionException",
            Self::Malformed(_) => "MalformedQueryStringException",
        }
    }

    /// The HTTP status SNS answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            _ => 400,
        }
    }

    /// `Sender` or `Receiver`: whose fault it is. Every error here is the caller's.
    pub fn fault(&self) -> &'static str {
        "Sender"
    }

    pub(crate) fn topic_not_found() -> Self {
        Self::NotFound("Topic does not exist".to_owned())
    }

    pub(crate) fn invalid(what: &str) -> Self {
        Self::InvalidParameter(format!("Invalid parameter: {what}"))
    }

    /// The message SNS sends when a required member is absent.
    pub(crate) fn missing(member: &str) -> Self {
        Self::ValidationError(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_snss() {
        let error = SnsError::topic_not_found();
        assert_eq!(error.code(), "NotFound");
        assert_eq!(error.status(), 404);
        assert_eq!(error.to_string(), "Topic does not exist");
        let error = SnsError::invalid("Message too long");
        assert_eq!(error.code(), "InvalidParameter");
        assert_eq!(error.exception_name(), "InvalidParameterException");
        assert_eq!(error.status(), 400);
        assert_eq!(
            SnsError::InvalidAction("Frobnicate".into()).to_string(),
            "The action Frobnicate is not valid for this web service."
        );
    }
}
