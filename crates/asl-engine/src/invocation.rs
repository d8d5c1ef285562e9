//! A Task state's invocation as plain data: what the interpreter asks a
//! resource to do ([`TaskRequest`], carried by [`crate::Effect::InvokeTask`])
//! and what came of it ([`TaskOutcome`], fed back as a [`crate::Command`]).
//! Both the interpreter and the ports speak it, so it sits below both: the
//! interpreter never depends on the ports.

use serde_json::Value;

/// What a Task's resource did.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    /// Finished with a result (request-response integrations).
    Succeeded(Value),
    /// Accepted and now waits for a callback with the task token (`.waitForTaskToken`);
    /// the value is what the service returned (e.g. SNS `{"MessageId": ...}`).
    Submitted(Value),
    /// Failed with an ASL error name and cause.
    Failed { error: String, cause: String },
}

/// A request to run a Task state's resource.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    pub resource: String,
    pub parameters: Value,
    /// Present for `.waitForTaskToken` resources.
    pub task_token: Option<String>,
    pub region: String,
}
