//! sfn-local's request decoding, in process (no network): the router gets
//! `X-Amz-Target: AWSStepFunctions.<op>` and a body. Every response must be JSON, an
//! error must carry `__type`, and no request may cause a 500 or a panic. The service has
//! a state machine and a waiting execution, so requests can name real ARNs: in the body,
//! `@SM@` and `@EX@` are replaced by them.
//!
//! Input: first byte picks the operation (or, past the list, the rest of the first line
//! is the operation name); the remainder is the body.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const OPS: &[&str] = &[
    "CreateStateMachine",
    "DescribeStateMachine",
    "ListStateMachines",
    "UpdateStateMachine",
    "DeleteStateMachine",
    "ValidateStateMachineDefinition",
    "StartExecution",
    "DescribeExecution",
    "ListExecutions",
    "StopExecution",
    "GetExecutionHistory",
    "SendTaskSuccess",
    "SendTaskFailure",
    "SendTaskHeartbeat",
    "DescribeStateMachineForExecution",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

static API: OnceLock<hitl_fuzz::Api> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let api = API.get_or_init(hitl_fuzz::Api::new);
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let (op, body) = match OPS.get(usize::from(first)) {
        Some(op) => ((*op).to_owned(), rest),
        None => {
            let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            let op = String::from_utf8_lossy(&rest[..end]).into_owned();
            (op, rest.get(end + 1..).unwrap_or_default())
        }
    };
    // Deleting or stopping the shared fixtures would make later inputs less useful.
    if op == "DeleteStateMachine" || op == "StopExecution" {
        return;
    }
    let body = String::from_utf8_lossy(body)
        .replace("@SM@", &api.sm_arn)
        .replace("@EX@", &api.exec_arn);
    let _ = api.call(&op, body.as_bytes());
});
