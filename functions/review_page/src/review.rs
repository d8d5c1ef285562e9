//! What a link's review is, and answering it.
//!
//! A task token is opaque, and `SendTaskSuccess` answers `TaskTimedOut` alike
//! for a review that was answered, expired or stopped. So the link also names
//! the execution, and before showing or answering anything the page reads it:
//! [`StepFunctions::describe_execution`] for its status and input (the request
//! summary) and [`StepFunctions::history`] for the `TaskScheduled` event whose
//! parameters (the email it sent) hold the token. A token that no
//! `TaskScheduled` event of that execution holds is an invalid link, so a link
//! cannot show one request while answering another. What happened after that
//! event (`TaskSucceeded` with the answer, `TaskTimedOut`) says whether the
//! review is still open and, if not, why.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::link::{Answer, Choice, ReviewLink};

/// The Step Functions calls the page makes (`DescribeExecution`,
/// `GetExecutionHistory`, `SendTaskSuccess`). The AWS adapter is
/// [`crate::SfnClient`]; tests use a fake.
pub trait StepFunctions {
    /// `DescribeExecution`.
    fn describe_execution(
        &self,
        execution_arn: &str,
    ) -> impl Future<Output = Result<Execution, SfnError>> + Send;
    /// `GetExecutionHistory`, oldest first, with execution data.
    fn history(
        &self,
        execution_arn: &str,
    ) -> impl Future<Output = Result<Vec<Event>, SfnError>> + Send;
    /// `SendTaskSuccess` with `output` (JSON text).
    fn send_task_success(
        &self,
        token: &str,
        output: &str,
    ) -> impl Future<Output = Result<(), SfnError>> + Send;
}

/// What `DescribeExecution` says about an execution.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`, ...
    pub status: String,
    /// The execution input (the request), if the caller may see it.
    pub input: Option<String>,
}

/// One history event, reduced to what the page reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub timestamp: DateTime<Utc>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// `TaskScheduled`: the task's resolved `Parameters` (JSON text) and its timeout.
    TaskScheduled {
        parameters: String,
        timeout_seconds: Option<i64>,
    },
    /// `TaskSucceeded`: the task's output (JSON text; for a review, the answer).
    TaskSucceeded {
        output: Option<String>,
    },
    /// `TaskTimedOut`: the review expired.
    TaskTimedOut,
    /// `TaskFailed`, `TaskStartFailed`, `TaskSubmitFailed`.
    TaskFailed,
    Other,
}

/// A Step Functions call that failed, by its error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SfnError {
    /// `ExecutionDoesNotExist` or `InvalidArn`: the link names no execution of ours.
    #[error("no such execution ({0})")]
    NoSuchExecution(String),
    /// `AccessDeniedException`: the function's role lacks `permission` (an
    /// IAM action, e.g. `states:DescribeExecution`). A broken policy, not a
    /// broken link: the role may read every execution of this stack's state
    /// machine, so a link that names one of them is denied only when the
    /// policy is wrong. (A forged link to another state machine's execution is
    /// denied too; the log line names its ARN, so an operator tells them apart.)
    #[error("access denied: the role lacks {permission}")]
    AccessDenied { permission: &'static str },
    /// `SendTaskSuccess`: `TaskTimedOut` or `TaskDoesNotExist`.
    #[error("the task is closed ({0})")]
    TaskClosed(String),
    /// `SendTaskSuccess`: `InvalidToken`.
    #[error("invalid task token")]
    InvalidToken,
    /// Anything else (throttling, service errors, network). Holds the error
    /// code only, for the log; never shown on the page.
    #[error("step functions call failed ({0})")]
    Service(String),
}

/// A decision as the page words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    Approved,
    Rejected,
    /// Answered, with something other than a boolean `result` (by the CLI).
    Other,
}

impl Decided {
    fn from_answer(output: Option<&str>) -> Self {
        let result = output
            .and_then(|o| serde_json::from_str::<Value>(o).ok())
            .and_then(|v| v.get("result").and_then(Value::as_bool));
        match result {
            Some(true) => Decided::Approved,
            Some(false) => Decided::Rejected,
            None => Decided::Other,
        }
    }
}

impl From<hitl_domain::Decision> for Decided {
    fn from(decision: hitl_domain::Decision) -> Self {
        match decision {
            hitl_domain::Decision::Approved => Decided::Approved,
            hitl_domain::Decision::Rejected => Decided::Rejected,
        }
    }
}

impl From<Choice> for Decided {
    fn from(choice: Choice) -> Self {
        match choice {
            Choice::Approve => Decided::Approved,
            Choice::Reject => Decided::Rejected,
        }
    }
}

/// How a visit ends, when it does not show the form. Each is one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// This POST answered the review.
    Done(Decided),
    /// Someone answered before (by link or CLI).
    AlreadyDecided(Decided),
    /// Nobody answered in time; the review was rejected as expired.
    Expired,
    /// The execution was stopped, failed or timed out before an answer.
    Stopped,
    /// Unparsable link, unknown execution, or a token that is not this
    /// execution's.
    InvalidLink,
    /// The name or comment is longer than the form allows.
    AnswerTooLong,
    /// Step Functions could not be reached or refused for another reason.
    ServiceError,
    /// The function may not do what the page needs (`AccessDeniedException`):
    /// the stack's IAM policy is wrong. The reviewer's link may be fine.
    Misconfigured,
    /// A short link's vote was sent; the approval policy decides the review.
    Voted(Decided),
    /// This short link's reviewer has voted (`at`: RFC 3339, as the tally
    /// keeps it); `review` is the decision when the review is decided too.
    AlreadyVoted {
        vote: Decided,
        at: String,
        review: Option<Decided>,
    },
    /// Nobody decided in time, and the policy's `DecisionOnTimeout` did.
    ExpiredAs(Decided),
    /// Step Functions says the reviewer's wait is closed, and the tally does
    /// not say why yet (a vote it has not recorded).
    WaitClosed,
    /// A short link's secret resolves to nothing: never issued, or expired
    /// from the table. Says nothing else.
    UnknownLink,
    /// The review table could not be read.
    StoreFailed,
    /// A variable the page needs for short links is not set (a deployment
    /// that is not template.yaml's).
    NotConfigured { variable: &'static str },
}

/// A review that can still be answered: what the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenReview {
    pub execution_arn: String,
    pub execution_name: String,
    /// The execution input: the request (a JSON string if it is not JSON).
    pub request: Option<Value>,
    /// When the review was requested (the `TaskScheduled` event).
    pub sent: DateTime<Utc>,
    /// `sent` plus the task's timeout: after it, the review expires.
    pub deadline: Option<DateTime<Utc>>,
}

/// Reads the execution a link names: open (show the form) or an outcome.
pub async fn inspect(sfn: &impl StepFunctions, link: &ReviewLink) -> Result<OpenReview, Outcome> {
    let execution = sfn
        .describe_execution(&link.execution_arn)
        .await
        .map_err(|e| read_failure(&link.execution_arn, &e))?;
    let history = sfn
        .history(&link.execution_arn)
        .await
        .map_err(|e| read_failure(&link.execution_arn, &e))?;

    let Some(position) = history.iter().position(|event| match &event.kind {
        EventKind::TaskScheduled { parameters, .. } => holds_token(parameters, &link.token),
        _ => false,
    }) else {
        tracing::warn!(execution = %link.execution_arn, "the link's token is not one of this execution's");
        return Err(Outcome::InvalidLink);
    };
    let scheduled = &history[position];
    for event in &history[position + 1..] {
        match &event.kind {
            EventKind::TaskSucceeded { output } => {
                return Err(Outcome::AlreadyDecided(Decided::from_answer(
                    output.as_deref(),
                )));
            }
            EventKind::TaskTimedOut => return Err(Outcome::Expired),
            EventKind::TaskFailed => return Err(Outcome::Stopped),
            // A later task's TaskScheduled ends the search: our ASL has one
            // waiting task, but a loop would schedule a new one per round.
            EventKind::TaskScheduled { .. } => break,
            EventKind::Other => {}
        }
    }
    if execution.status != "RUNNING" {
        return Err(Outcome::Stopped);
    }
    let timeout = match &scheduled.kind {
        EventKind::TaskScheduled {
            timeout_seconds, ..
        } => *timeout_seconds,
        _ => None,
    };
    Ok(OpenReview {
        execution_name: execution_name(&link.execution_arn).to_owned(),
        execution_arn: link.execution_arn.clone(),
        request: execution
            .input
            .as_deref()
            .map(|input| serde_json::from_str(input).unwrap_or(Value::String(input.to_owned()))),
        sent: scheduled.timestamp,
        deadline: timeout.map(|seconds| scheduled.timestamp + chrono::Duration::seconds(seconds)),
    })
}

/// Answers the review: checks the link as [`inspect`] does, then sends
/// `{"result", "reviewer"?, "comment"?, "via": "link"}`. When Step Functions
/// says the task is closed, reads the execution again to say why.
pub async fn answer(sfn: &impl StepFunctions, answer: &Answer) -> Outcome {
    let link = &answer.link;
    if let Err(outcome) = inspect(sfn, link).await {
        return outcome;
    }
    let output = answer_output(answer);
    match sfn.send_task_success(&link.token, &output).await {
        Ok(()) => {
            tracing::info!(execution = %link.execution_arn, decision = link.choice.as_param(), via = "link", "review answered");
            Outcome::Done(link.choice.into())
        }
        Err(SfnError::TaskClosed(code)) => {
            tracing::info!(execution = %link.execution_arn, code = %code, "the review closed before this answer");
            match inspect(sfn, link).await {
                Err(outcome) => outcome,
                // Closed for Step Functions, open in the history we read: an
                // answer raced ours and its event is not visible yet.
                Ok(_) => Outcome::AlreadyDecided(Decided::Other),
            }
        }
        Err(SfnError::InvalidToken) => {
            tracing::warn!(execution = %link.execution_arn, "SendTaskSuccess refused the token");
            Outcome::InvalidLink
        }
        Err(SfnError::AccessDenied { permission }) => denied(&link.execution_arn, permission),
        Err(error) => {
            tracing::error!(execution = %link.execution_arn, error = %error, "SendTaskSuccess failed");
            Outcome::ServiceError
        }
    }
}

/// The task output: what the CLI would send, plus `"via": "link"`.
pub fn answer_output(answer: &Answer) -> String {
    output(
        answer.link.choice,
        answer.reviewer.as_deref(),
        answer.comment.as_deref(),
    )
}

/// `{"result", "reviewer"?, "comment"?, "via": "link"}`: the fields
/// `hitl_domain::Ballot::from_answer` reads (`reviewer` becomes the vote's
/// display name, never its identity).
pub(crate) fn output(choice: Choice, reviewer: Option<&str>, comment: Option<&str>) -> String {
    let mut output = json!({"result": choice.result()});
    if let Some(reviewer) = reviewer {
        output["reviewer"] = json!(reviewer);
    }
    if let Some(comment) = comment {
        output["comment"] = json!(comment);
    }
    output["via"] = json!("link");
    output.to_string()
}

fn read_failure(execution_arn: &str, error: &SfnError) -> Outcome {
    match error {
        SfnError::NoSuchExecution(code) => {
            tracing::warn!(execution = %execution_arn, code = %code, "the link names no execution this function may read");
            Outcome::InvalidLink
        }
        SfnError::AccessDenied { permission } => denied(execution_arn, permission),
        other => {
            tracing::error!(execution = %execution_arn, error = %other, "reading the execution failed");
            Outcome::ServiceError
        }
    }
}

/// Logs which permission the role lacks, where to grant it, and what to do.
pub(crate) fn denied(execution_arn: &str, permission: &str) -> Outcome {
    tracing::error!(
        execution = %execution_arn,
        permission = %permission,
        "AccessDeniedException: the review function's role lacks {permission} on this execution; \
         check template.yaml (ReviewFunction's Policies and ReviewFunctionReadsReviews) and redeploy. \
         If the execution belongs to another state machine, the link was forged: nothing to fix"
    );
    Outcome::Misconfigured
}

/// The execution name: the ARN's last field.
pub fn execution_name(execution_arn: &str) -> &str {
    execution_arn.rsplit(':').next().unwrap_or(execution_arn)
}

/// Whether a `TaskScheduled` event's parameters hold `token` as a whole
/// value or word (the email's `Task token: <token>` line, a command's
/// `--task-token <token>`, a link's `t=<token>`), not as a part of a longer
/// token. Searches the JSON text as Step Functions recorded it; a task token
/// has no character JSON escapes, so the text holds it verbatim.
pub fn holds_token(parameters: &str, token: &str) -> bool {
    // A real token is hundreds of characters; refusing short ones keeps a
    // forged link from matching a fragment of the email.
    const MIN_TOKEN_CHARS: usize = 16;
    if token.len() < MIN_TOKEN_CHARS {
        return false;
    }
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "+/=-_".contains(c);
    parameters.match_indices(token).any(|(at, _)| {
        let before = parameters[..at].chars().next_back();
        let after = parameters[at + token.len()..].chars().next();
        // `t=<token>` puts `=` before the token; `=` also ends base64, so
        // accept it before the token only when the query names `t`.
        let starts = before.is_none_or(|c| !is_token_char(c))
            || parameters[..at].ends_with("&t=")
            || parameters[..at].ends_with("?t=");
        let ends = after.is_none_or(|c| !is_token_char(c));
        starts && ends
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "AQCEAAAAKgAAAAMAAAAAAAAAAf+abc/def+ghi==";

    #[test]
    fn the_token_must_be_a_whole_word_of_the_email() {
        let email = format!(
            r#"{{"Message":"Approve:\nhttps://x/review?d=approve&e=arn&t={TOKEN}\n\nTask token: {TOKEN}\n"}}"#
        );
        assert!(holds_token(&email, TOKEN));
        assert!(!holds_token(&email, &TOKEN[..TOKEN.len() - 2]), "a prefix");
        assert!(!holds_token(&email, &TOKEN[2..]), "a suffix");
        assert!(!holds_token(&email, "Task token"), "a fragment");
        assert!(!holds_token(&email, "AQCEAAAAKgAAAAMA"), "a prefix of 16");
        let only_link = format!(r#"{{"Message":"https://x/review?d=approve&e=arn&t={TOKEN}"}}"#);
        assert!(holds_token(&only_link, TOKEN));
    }

    #[test]
    fn the_answer_carries_result_reviewer_comment_and_via() {
        let link = ReviewLink {
            execution_arn: "arn:aws:states:r:1:execution:s:n".to_owned(),
            token: TOKEN.to_owned(),
            choice: Choice::Reject,
        };
        let full = Answer {
            link: link.clone(),
            reviewer: Some("Bo \"B\" Reviewer".to_owned()),
            comment: Some("<b>late</b>".to_owned()),
        };
        let output: Value = serde_json::from_str(&answer_output(&full)).unwrap();
        assert_eq!(
            output,
            json!({"result": false, "reviewer": "Bo \"B\" Reviewer", "comment": "<b>late</b>", "via": "link"})
        );
        let bare = Answer {
            link,
            reviewer: None,
            comment: None,
        };
        assert_eq!(answer_output(&bare), r#"{"result":false,"via":"link"}"#);
    }

    #[test]
    fn an_earlier_answer_is_read_from_the_task_output() {
        assert_eq!(
            Decided::from_answer(Some(r#"{"result":true}"#)),
            Decided::Approved
        );
        assert_eq!(
            Decided::from_answer(Some(r#"{"result":false,"via":"link"}"#)),
            Decided::Rejected
        );
        assert_eq!(
            Decided::from_answer(Some(r#"{"result":"yes"}"#)),
            Decided::Other
        );
        assert_eq!(Decided::from_answer(None), Decided::Other);
    }
}
