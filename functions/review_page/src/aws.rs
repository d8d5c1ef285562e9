//! [`StepFunctions`] on the AWS SDK.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::{HistoryEvent, HistoryEventType};
use chrono::{DateTime, Utc};

use crate::review::{Event, EventKind, Execution, SfnError, StepFunctions};

/// A review's history is about a dozen events; a page holds up to 1000
/// (`GetExecutionHistory` `maxResults`). Reading stops after this many pages.
const MAX_HISTORY_PAGES: usize = 5;

/// The Step Functions client the function builds once at cold start.
#[derive(Debug, Clone)]
pub struct SfnClient {
    client: Client,
}

impl SfnClient {
    pub fn new(config: &aws_https::SdkConfig) -> Self {
        SfnClient {
            client: Client::new(config),
        }
    }
}

impl StepFunctions for SfnClient {
    async fn describe_execution(&self, execution_arn: &str) -> Result<Execution, SfnError> {
        let output = self
            .client
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
            .map_err(|e| read_error(e.code(), "states:DescribeExecution"))?;
        Ok(Execution {
            status: output.status().as_str().to_owned(),
            input: output.input().map(str::to_owned),
        })
    }

    async fn history(&self, execution_arn: &str) -> Result<Vec<Event>, SfnError> {
        let mut events = Vec::new();
        let mut next_token = None;
        for _ in 0..MAX_HISTORY_PAGES {
            let output = self
                .client
                .get_execution_history()
                .execution_arn(execution_arn)
                .include_execution_data(true)
                .max_results(1000)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|e| read_error(e.code(), "states:GetExecutionHistory"))?;
            events.extend(output.events().iter().map(event));
            next_token = output.next_token().map(str::to_owned);
            if next_token.is_none() {
                break;
            }
        }
        Ok(events)
    }

    async fn send_task_success(&self, token: &str, output: &str) -> Result<(), SfnError> {
        self.client
            .send_task_success()
            .task_token(token)
            .output(output)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| send_error(e.code()))
    }
}

/// Error codes: Step Functions API reference, `DescribeExecution` and
/// `GetExecutionHistory` "Errors". `AccessDeniedException` is IAM's answer when
/// the role lacks `permission` (the action called).
fn read_error(code: Option<&str>, permission: &'static str) -> SfnError {
    match code {
        Some(code @ ("ExecutionDoesNotExist" | "InvalidArn" | "ResourceNotFound")) => {
            SfnError::NoSuchExecution(code.to_owned())
        }
        Some("AccessDeniedException") => SfnError::AccessDenied { permission },
        other => SfnError::Service(other.unwrap_or("no error code").to_owned()),
    }
}

/// Error codes: Step Functions API reference, `SendTaskSuccess` "Errors".
fn send_error(code: Option<&str>) -> SfnError {
    match code {
        Some("AccessDeniedException") => SfnError::AccessDenied {
            permission: "states:SendTaskSuccess",
        },
        Some(code @ ("TaskTimedOut" | "TaskDoesNotExist")) => SfnError::TaskClosed(code.to_owned()),
        Some("InvalidToken") => SfnError::InvalidToken,
        other => SfnError::Service(other.unwrap_or("no error code").to_owned()),
    }
}

fn event(event: &HistoryEvent) -> Event {
    let kind = match event.r#type() {
        HistoryEventType::TaskScheduled => match event.task_scheduled_event_details() {
            Some(details) => EventKind::TaskScheduled {
                parameters: details.parameters().to_owned(),
                timeout_seconds: details.timeout_in_seconds(),
            },
            None => EventKind::Other,
        },
        HistoryEventType::TaskSucceeded => EventKind::TaskSucceeded {
            output: event
                .task_succeeded_event_details()
                .and_then(|d| d.output())
                .map(str::to_owned),
        },
        HistoryEventType::TaskTimedOut => EventKind::TaskTimedOut,
        HistoryEventType::TaskFailed
        | HistoryEventType::TaskStartFailed
        | HistoryEventType::TaskSubmitFailed => EventKind::TaskFailed,
        _ => EventKind::Other,
    };
    Event {
        id: event.id(),
        timestamp: time(event.timestamp()),
        kind,
    }
}

fn time(t: &aws_sdk_sfn::primitives::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_what_the_page_says() {
        const READ: &str = "states:DescribeExecution";
        assert_eq!(
            read_error(Some("ExecutionDoesNotExist"), READ),
            SfnError::NoSuchExecution("ExecutionDoesNotExist".to_owned())
        );
        // A broken IAM policy, not a broken link: the page says so (500).
        assert_eq!(
            read_error(Some("AccessDeniedException"), READ),
            SfnError::AccessDenied { permission: READ }
        );
        assert_eq!(
            send_error(Some("AccessDeniedException")),
            SfnError::AccessDenied {
                permission: "states:SendTaskSuccess"
            }
        );
        assert_eq!(
            read_error(Some("ThrottlingException"), READ),
            SfnError::Service("ThrottlingException".to_owned())
        );
        assert_eq!(
            send_error(Some("TaskTimedOut")),
            SfnError::TaskClosed("TaskTimedOut".to_owned())
        );
        assert_eq!(send_error(Some("InvalidToken")), SfnError::InvalidToken);
        assert_eq!(
            send_error(None),
            SfnError::Service("no error code".to_owned())
        );
    }
}
