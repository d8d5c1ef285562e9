//! The reviewer's answer.
//!
//! A reviewer answers with `send-task-success --task-output '{"result":true}'`
//! (or `false`), optionally with `reviewer` and `comment` strings; an expired
//! review is recorded by the state machine as `{"result": false, "expired": true}`.
//! The answer is kept exactly as received (other fields are passed on untouched);
//! [`ReviewAnswer`] is a typed *view* of it.

use serde_json::Value;
use thiserror::Error;

/// A typed view of a review answer. Borrowed from the JSON as received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewAnswer<'a> {
    /// `true` approves, `false` rejects.
    pub result: bool,
    /// Who answered, when the answer says so.
    pub reviewer: Option<&'a str>,
    /// Why, when the answer says so.
    pub comment: Option<&'a str>,
    /// The review timed out before anyone answered.
    pub expired: bool,
}

/// Why an answer is not a valid review. The message says what a valid answer looks like.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidReview {
    #[error(
        "the review answer must be a JSON object such as {{\"result\": true}}, but it is {found}"
    )]
    NotAnObject { found: &'static str },
    #[error(
        "the review answer has no \"result\": answer {{\"result\": true}} to approve or {{\"result\": false}} to reject"
    )]
    MissingResult,
    #[error(
        "the review answer's \"result\" must be the boolean true or false (without quotes), but it is {found}"
    )]
    ResultNotBoolean { found: &'static str },
}

impl<'a> ReviewAnswer<'a> {
    /// Reads a review answer. Only `result` is required; `reviewer` and `comment`
    /// are read when they are strings and ignored (but kept in the JSON) otherwise,
    /// because the answer is passed on untouched.
    pub fn parse(review: &'a Value) -> Result<Self, InvalidReview> {
        let object = review.as_object().ok_or(InvalidReview::NotAnObject {
            found: kind_of(review),
        })?;
        let result = match object.get("result") {
            None => return Err(InvalidReview::MissingResult),
            Some(Value::Bool(result)) => *result,
            Some(other) => {
                return Err(InvalidReview::ResultNotBoolean {
                    found: kind_of(other),
                });
            }
        };
        Ok(Self {
            result,
            reviewer: object.get("reviewer").and_then(Value::as_str),
            comment: object.get("comment").and_then(Value::as_str),
            expired: object.get("expired") == Some(&Value::Bool(true)),
        })
    }
}

/// A short, payload-free description of a JSON value's kind, for error messages.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_result_reviewer_and_comment() {
        let answer = json!({"result": true, "reviewer": "Ana", "comment": "ok", "ticket": 7});
        let view = ReviewAnswer::parse(&answer).unwrap();
        assert!(view.result);
        assert_eq!(view.reviewer, Some("Ana"));
        assert_eq!(view.comment, Some("ok"));
        assert!(!view.expired);
    }

    #[test]
    fn expired_review_is_a_rejection() {
        let answer = json!({"result": false, "expired": true});
        let view = ReviewAnswer::parse(&answer).unwrap();
        assert!(!view.result);
        assert!(view.expired);
    }

    #[test]
    fn non_string_reviewer_is_ignored_not_rejected() {
        let answer = json!({"result": false, "reviewer": 42});
        assert_eq!(ReviewAnswer::parse(&answer).unwrap().reviewer, None);
    }

    #[test]
    fn rejects_answers_the_state_machine_would_reject() {
        let cases = [
            (
                json!(true),
                InvalidReview::NotAnObject { found: "a boolean" },
            ),
            (
                json!("yes"),
                InvalidReview::NotAnObject { found: "a string" },
            ),
            (json!({}), InvalidReview::MissingResult),
            (
                json!({"result": "true"}),
                InvalidReview::ResultNotBoolean { found: "a string" },
            ),
            (
                json!({"result": 1}),
                InvalidReview::ResultNotBoolean { found: "a number" },
            ),
            (
                json!({"result": null}),
                InvalidReview::ResultNotBoolean { found: "null" },
            ),
        ];
        for (answer, expected) in cases {
            assert_eq!(ReviewAnswer::parse(&answer), Err(expected), "{answer}");
        }
    }

    #[test]
    fn error_messages_say_what_a_valid_answer_is() {
        let message = InvalidReview::MissingResult.to_string();
        assert!(message.contains(r#"{"result": true}"#), "{message}");
    }
}
