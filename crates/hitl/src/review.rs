//! What the CLI knows about a review, without AWS types: reading the task
//! token from the review request, telling whether an execution waits for a
//! review, and building answers the state machine accepts.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

/// The state that waits for the reviewer's answer.
pub(crate) const REVIEW_STATE: &str = "Request Review";

/// The line of the review email that carries the token.
const TOKEN_LINE: &str = "Task token: ";

/// One history event, reduced to what the CLI reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub(crate) kind: String,
    pub(crate) timestamp: DateTime<Utc>,
    /// `stateEnteredEventDetails.name` for `*StateEntered` events.
    pub(crate) state: Option<String>,
    /// `taskScheduledEventDetails` for `TaskScheduled` events.
    pub(crate) scheduled: Option<Scheduled>,
}

/// A scheduled task: its resolved parameters (JSON text) and timeout.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scheduled {
    pub(crate) parameters: String,
    pub(crate) timeout_seconds: Option<i64>,
}

/// A review that waits for an answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WaitingReview {
    pub(crate) token: String,
    pub(crate) since: DateTime<Utc>,
    pub(crate) deadline: Option<DateTime<Utc>>,
}

/// Reads the task token from a review email (or the SNS message the state
/// machine published): the text after `Task token: ` on its own line.
pub(crate) fn token_from_message(message: &str) -> Option<&str> {
    message
        .lines()
        .find_map(|line| line.trim().strip_prefix(TOKEN_LINE.trim_end()))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// Finds the review an execution waits for, from its history in order
/// (oldest first): the last `TaskScheduled` of the review state that no task
/// outcome followed.
pub(crate) fn waiting_review(events: &[Event]) -> Option<WaitingReview> {
    let mut in_review = false;
    let mut waiting = None;
    for event in events {
        match event.kind.as_str() {
            "TaskStateEntered" => in_review = event.state.as_deref() == Some(REVIEW_STATE),
            "TaskScheduled" if in_review => {
                waiting = event.scheduled.as_ref().and_then(|scheduled| {
                    let parameters: Value = serde_json::from_str(&scheduled.parameters).ok()?;
                    let token = token_from_message(parameters.get("Message")?.as_str()?)?;
                    Some(WaitingReview {
                        token: token.to_owned(),
                        since: event.timestamp,
                        deadline: scheduled
                            .timeout_seconds
                            .map(|seconds| event.timestamp + Duration::seconds(seconds)),
                    })
                });
            }
            "TaskSucceeded" | "TaskFailed" | "TaskTimedOut" | "TaskStateExited"
            | "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionTimedOut"
            | "ExecutionAborted" => waiting = None,
            _ => {}
        }
    }
    waiting
}

/// The answer a reviewer sends: always a boolean `result`, so the state
/// machine never rejects it; `reviewer` and `comment` only when given.
pub(crate) fn answer(approve: bool, reviewer: Option<&str>, comment: Option<&str>) -> Value {
    let mut answer = Map::new();
    answer.insert("result".into(), json!(approve));
    if let Some(reviewer) = reviewer {
        answer.insert("reviewer".into(), json!(reviewer));
    }
    if let Some(comment) = comment {
        answer.insert("comment".into(), json!(comment));
    }
    answer.insert("via".into(), json!("hitl"));
    Value::Object(answer)
}

/// A one-line summary of a request for listings: compact JSON, cut to `width`
/// characters.
pub(crate) fn summary(request: &str, width: usize) -> String {
    let compact = serde_json::from_str::<Value>(request)
        .map(|value| value.to_string())
        .unwrap_or_else(|_| request.to_owned());
    if compact.chars().count() <= width {
        return compact;
    }
    let cut: String = compact.chars().take(width.saturating_sub(1)).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, second).unwrap()
    }

    fn event(kind: &str, second: u32) -> Event {
        Event {
            kind: kind.into(),
            timestamp: at(second),
            state: None,
            scheduled: None,
        }
    }

    fn entered(state: &str, second: u32) -> Event {
        Event {
            state: Some(state.into()),
            ..event("TaskStateEntered", second)
        }
    }

    fn scheduled(message: &str, second: u32) -> Event {
        let parameters = json!({"TopicArn": "arn:t", "Message": message}).to_string();
        Event {
            scheduled: Some(Scheduled {
                parameters,
                timeout_seconds: Some(60),
            }),
            ..event("TaskScheduled", second)
        }
    }

    const MESSAGE: &str = "A request...\n\nTask token: AQB+/=abc123==\n";

    #[test]
    fn the_token_is_the_text_of_its_own_line() {
        assert_eq!(token_from_message(MESSAGE), Some("AQB+/=abc123=="));
        assert_eq!(token_from_message("Task token: \n"), None);
        assert_eq!(token_from_message("no token here"), None);
        assert_eq!(token_from_message("Task token:tok\r\n"), Some("tok"));
    }

    #[test]
    fn an_execution_waits_while_its_review_task_has_no_outcome() {
        let history = vec![
            event("ExecutionStarted", 0),
            entered("Request Review", 1),
            scheduled(MESSAGE, 1),
            event("TaskStarted", 1),
            event("TaskSubmitted", 1),
        ];
        let waiting = waiting_review(&history).unwrap();
        assert_eq!(waiting.token, "AQB+/=abc123==");
        assert_eq!(waiting.since, at(1));
        assert_eq!(waiting.deadline, Some(at(1) + Duration::seconds(60)));

        let mut answered = history.clone();
        answered.push(event("TaskSucceeded", 5));
        assert_eq!(waiting_review(&answered), None);
    }

    #[test]
    fn other_tasks_are_not_reviews() {
        let history = vec![entered("Process Approval", 1), scheduled(MESSAGE, 1)];
        assert_eq!(waiting_review(&history), None);
    }

    #[test]
    fn answers_always_carry_a_boolean_result() {
        assert_eq!(
            answer(true, None, None),
            json!({"result": true, "via": "hitl"})
        );
        let rejection = answer(false, Some("Bo"), Some("no budget"));
        assert_eq!(
            rejection,
            json!({"result": false, "reviewer": "Bo", "comment": "no budget", "via": "hitl"})
        );
        hitl_domain::ReviewAnswer::parse(&rejection).unwrap();
    }

    #[test]
    fn summaries_are_compact_and_cut() {
        assert_eq!(summary("{ \"a\" : 1 }", 20), r#"{"a":1}"#);
        assert_eq!(
            summary(r#"{"title":"Refund order 1042"}"#, 12),
            "{\"title\":\"R…"
        );
    }
}
