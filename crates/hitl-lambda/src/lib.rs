//! What Process Approval and Process Rejection share.
//!
//! Both functions run the same flow ([`process`]): check the review answer and
//! build the decision record, run the function's own action, then announce the
//! decision on the decision topic. Only the expected decision and the action
//! differ, so each function crate is a thin `main.rs` plus its action.
//!
//! The approval-policy functions share [`policy`]: the DynamoDB and SNS
//! adapters of `hitl_domain::policy_flow`'s ports.
//!
//! Step Functions retries a failed invocation (see the state machine's `Retry`),
//! so an action must be idempotent: it may run again for the same execution.

mod flow;
pub mod policy;
mod sns;

#[cfg(feature = "testing")]
pub mod testing;

pub use flow::{ActionError, DecisionAction, ProcessError, process};
pub use sns::{ConfigError, SnsPublisher, TOPIC_ENV};
