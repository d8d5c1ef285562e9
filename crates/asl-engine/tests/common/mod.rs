//! What the engine's integration tests share: the execution they start.

use asl_engine::ExecInfo;
use serde_json::Value;

/// Execution `e1` of state machine `sm`, with `input`.
pub(crate) fn info(input: Value) -> ExecInfo {
    ExecInfo {
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:e1".into(),
        name: "e1".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
        state_machine_name: "sm".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        start_ms: 1_700_000_000_000,
        input,
        token_prefix: "tok-".into(),
    }
}
