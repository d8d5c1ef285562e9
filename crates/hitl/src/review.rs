//! What the CLI knows about a review, without AWS types: the history events
//! it reads (see `votes` for who waits and who voted), reading the task token
//! from a review email, and building answers the state machine accepts.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The line of the review email that carries the token.
const TOKEN_LINE: &str = "Task token: ";

/// One history event, reduced to what the CLI reads.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Event {
    pub(crate) id: i64,
    /// `previousEventId`: the event before it in the same thread of control (0: none).
    pub(crate) previous: i64,
    pub(crate) kind: String,
    pub(crate) timestamp: DateTime<Utc>,
    /// `stateEnteredEventDetails.name` for `*StateEntered` events.
    pub(crate) state: Option<String>,
    /// `stateExitedEventDetails.name` for `*StateExited` events.
    pub(crate) exited: Option<String>,
    /// `taskScheduledEventDetails` for `TaskScheduled` events.
    pub(crate) scheduled: Option<Scheduled>,
    /// The Map's name and the index, for `MapIteration*` events.
    pub(crate) iteration: Option<(String, i32)>,
    /// `taskSucceededEventDetails.output` (JSON text).
    pub(crate) output: Option<String>,
    /// `taskFailedEventDetails.error`.
    pub(crate) error: Option<String>,
}

/// A scheduled task: its resolved parameters (JSON text) and timeout.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scheduled {
    pub(crate) parameters: String,
    pub(crate) timeout_seconds: Option<i64>,
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

/// The answer a reviewer sends: always a boolean `result`, so the state
/// machine never rejects it; `reviewer` (a display name) and `comment` only
/// when given; `via: cli`, as `hitl_domain::policy::Ballot` reads it.
pub(crate) fn answer(approve: bool, reviewer: Option<&str>, comment: Option<&str>) -> Value {
    let mut answer = Map::new();
    answer.insert("result".into(), json!(approve));
    if let Some(reviewer) = reviewer {
        answer.insert("reviewer".into(), json!(reviewer));
    }
    if let Some(comment) = comment {
        answer.insert("comment".into(), json!(comment));
    }
    answer.insert("via".into(), json!("cli"));
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

    const MESSAGE: &str = "A request...\n\nTask token: AQB+/=abc123==\n";

    #[test]
    fn the_token_is_the_text_of_its_own_line() {
        assert_eq!(token_from_message(MESSAGE), Some("AQB+/=abc123=="));
        assert_eq!(token_from_message("Task token: \n"), None);
        assert_eq!(token_from_message("no token here"), None);
        assert_eq!(token_from_message("Task token:tok\r\n"), Some("tok"));
    }

    #[test]
    fn answers_always_carry_a_boolean_result() {
        assert_eq!(
            answer(true, None, None),
            json!({"result": true, "via": "cli"})
        );
        let rejection = answer(false, Some("Bo"), Some("no budget"));
        assert_eq!(
            rejection,
            json!({"result": false, "reviewer": "Bo", "comment": "no budget", "via": "cli"})
        );
        hitl_domain::ReviewAnswer::parse(&rejection).unwrap();
        // The vote counts as a CLI vote, with the name and comment given.
        let ballot = hitl_domain::policy::Ballot::from_answer(&rejection).unwrap();
        assert_eq!(ballot.via, hitl_domain::policy::Via::Cli);
        assert_eq!(ballot.name.as_deref(), Some("Bo"));
        assert_eq!(ballot.comment.as_deref(), Some("no budget"));
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
