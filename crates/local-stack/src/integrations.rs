//! The Task integrations local mode plugs into the engine: Lambda (optimised
//! `arn:aws:states:::lambda:invoke` and bare function ARNs) on the local
//! Lambda host, and SNS (`arn:aws:states:::sns:publish`, with or without
//! `.waitForTaskToken`) on the local SNS.
//!
//! Results and errors take the shapes Step Functions gives them, so `Retry`,
//! `Catch`, `ResultSelector` and `OutputPath` behave as in AWS:
//! - `lambda:invoke` succeeds with `{ExecutedVersion, Payload, SdkHttpMetadata,
//!   SdkResponseMetadata, StatusCode}`; a function error fails the task with
//!   the function's `errorType` as error and its error document as cause; a
//!   Lambda API error fails it with `Lambda.<Exception>`.
//!   (Step Functions developer guide, "Invoke an AWS Lambda function with Step Functions".)
//! - A bare function ARN succeeds with the function's result itself.
//! - `sns:publish` succeeds with `{MessageId, SdkHttpMetadata, SdkResponseMetadata}`;
//!   an SNS error fails the task with `SNS.<Exception>`, e.g.
//!   `SNS.InvalidParameterException` for a message that is too long.

use std::sync::Arc;

use asl_engine::ports::{BoxFuture, Integration, TaskOutcome, TaskRequest};
use bytes::Bytes;
use lambda_local::{InvokeError, LambdaHost, Outcome};
use serde_json::{Value, json};
use sns_local::{PublishRequest, SnsService};

const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";
const SNS_PUBLISH: &str = "arn:aws:states:::sns:publish";
const WAIT_FOR_TASK_TOKEN: &str = ".waitForTaskToken";

/// The response metadata AWS SDK integrations add to their results.
fn sdk_metadata(status: u16) -> (Value, Value) {
    let request_id = uuid::Uuid::new_v4().to_string();
    (
        json!({
            "HttpHeaders": {"Content-Type": "application/json", "x-amzn-RequestId": request_id},
            "HttpStatusCode": status
        }),
        json!({"RequestId": request_id}),
    )
}

/// Lambda on the local host.
pub(crate) struct LambdaIntegration {
    pub(crate) host: LambdaHost,
}

fn is_function_arn(resource: &str) -> bool {
    let parts: Vec<&str> = resource.splitn(7, ':').collect();
    matches!(parts.as_slice(), ["arn", _, "lambda", _, _, "function", _])
}

impl Integration for LambdaIntegration {
    fn handles(&self, resource: &str) -> bool {
        resource == LAMBDA_INVOKE
            || resource == format!("{LAMBDA_INVOKE}{WAIT_FOR_TASK_TOKEN}")
            || is_function_arn(resource)
    }

    fn invoke(&self, request: TaskRequest) -> BoxFuture<TaskOutcome> {
        let host = self.host.clone();
        Box::pin(async move {
            if is_function_arn(&request.resource) {
                let payload = Bytes::from(request.parameters.to_string());
                return match host.invoke(&request.resource, payload).await {
                    Ok(invocation) => match invocation.outcome {
                        Outcome::Success(bytes) => TaskOutcome::Succeeded(parse_payload(&bytes)),
                        Outcome::Error(error) => function_failed(&error),
                    },
                    Err(error) => lambda_api_failed(&error),
                };
            }
            let Some(function) = request
                .parameters
                .get("FunctionName")
                .and_then(Value::as_str)
            else {
                return TaskOutcome::Failed {
                    error: "States.Runtime".into(),
                    cause: "The Parameters of lambda:invoke must name a FunctionName.".into(),
                };
            };
            let payload = match request.parameters.get("Payload") {
                None => Bytes::from_static(b"{}"),
                Some(payload) => Bytes::from(payload.to_string()),
            };
            // A callback task (`.waitForTaskToken`) invokes like any other: Step
            // Functions waits for the function to return ("If you invoke the Lambda
            // function with a callback task, the heartbeat timeout doesn't start
            // counting until after the Lambda function has completed", Step
            // Functions guide, "Invoke an AWS Lambda function with Step Functions"),
            // and an error the function raises fails the task ("If an exception is
            // raised within the Lambda function, the Task will fail"). Only then is
            // the task submitted and waiting for its token. So a task that is still
            // invoking when local mode stops is invoked again on restart, and
            // TaskSubmitted means the function has done its part (sent the email).
            let asynchronous = request
                .parameters
                .get("InvocationType")
                .and_then(Value::as_str)
                == Some("Event");
            if asynchronous {
                return match host.invoke_event(function, payload).await {
                    Ok(_) => {
                        let (http, response) = sdk_metadata(202);
                        let result = json!({
                            "Payload": "", "SdkHttpMetadata": http,
                            "SdkResponseMetadata": response, "StatusCode": 202
                        });
                        if request.task_token.is_some() {
                            TaskOutcome::Submitted(result)
                        } else {
                            TaskOutcome::Succeeded(result)
                        }
                    }
                    Err(error) => lambda_api_failed(&error),
                };
            }
            match host.invoke(function, payload).await {
                Ok(invocation) => match invocation.outcome {
                    Outcome::Success(bytes) => {
                        let (http, response) = sdk_metadata(200);
                        let result = json!({
                            "ExecutedVersion": invocation.executed_version,
                            "Payload": parse_payload(&bytes),
                            "SdkHttpMetadata": http,
                            "SdkResponseMetadata": response,
                            "StatusCode": 200
                        });
                        if request.task_token.is_some() {
                            TaskOutcome::Submitted(result)
                        } else {
                            TaskOutcome::Succeeded(result)
                        }
                    }
                    Outcome::Error(error) => function_failed(&error),
                },
                Err(error) => lambda_api_failed(&error),
            }
        })
    }
}

/// A function's response: JSON when it is JSON (as Step Functions parses it), else text.
fn parse_payload(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn function_failed(error: &lambda_local::FunctionError) -> TaskOutcome {
    TaskOutcome::Failed {
        error: error.error_type.clone(),
        cause: String::from_utf8_lossy(&error.payload).into_owned(),
    }
}

fn lambda_api_failed(error: &InvokeError) -> TaskOutcome {
    let (exception, status) = match error {
        InvokeError::FunctionNotFound { .. } => ("ResourceNotFoundException", 404),
        InvokeError::RequestTooLarge { .. } => ("RequestTooLargeException", 413),
        InvokeError::InvalidRequestContent(_) => ("InvalidRequestContentException", 400),
        _ => ("ServiceException", 500),
    };
    TaskOutcome::Failed {
        error: format!("Lambda.{exception}"),
        cause: format!(
            "{error} (Service: AWSLambda; Status Code: {status}; Error Code: {exception}; Request ID: {})",
            uuid::Uuid::new_v4()
        ),
    }
}

/// SNS on the local outbox.
pub(crate) struct SnsIntegration {
    pub(crate) sns: Arc<SnsService>,
}

impl Integration for SnsIntegration {
    fn handles(&self, resource: &str) -> bool {
        resource == SNS_PUBLISH || resource == format!("{SNS_PUBLISH}{WAIT_FOR_TASK_TOKEN}")
    }

    fn invoke(&self, request: TaskRequest) -> BoxFuture<TaskOutcome> {
        let sns = Arc::clone(&self.sns);
        Box::pin(async move {
            let published = match PublishRequest::from_task_parameters(&request.parameters) {
                Ok(publish) => sns.publish(publish).await,
                Err(error) => Err(error),
            };
            match published {
                Ok(output) => {
                    let (http, response) = sdk_metadata(200);
                    let result = json!({
                        "MessageId": output.message_id,
                        "SdkHttpMetadata": http,
                        "SdkResponseMetadata": response
                    });
                    if request.task_token.is_some() {
                        TaskOutcome::Submitted(result)
                    } else {
                        TaskOutcome::Succeeded(result)
                    }
                }
                Err(error) => TaskOutcome::Failed {
                    error: format!("SNS.{}", error.exception_name()),
                    cause: format!(
                        "{error} (Service: Sns, Status Code: {}, Request ID: {})",
                        error.status(),
                        uuid::Uuid::new_v4()
                    ),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_function_arns_are_lambda_resources() {
        assert!(is_function_arn(
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        ));
        assert!(is_function_arn(
            "arn:aws:lambda:us-east-1:123456789012:function:f:live"
        ));
        assert!(!is_function_arn("arn:aws:states:::lambda:invoke"));
        assert!(!is_function_arn("arn:aws:sns:us-east-1:123456789012:topic"));
    }

    #[test]
    fn payloads_are_json_when_they_can_be() {
        assert_eq!(parse_payload(br#"{"a":1}"#), json!({"a": 1}));
        assert_eq!(parse_payload(b"plain"), json!("plain"));
    }
}
