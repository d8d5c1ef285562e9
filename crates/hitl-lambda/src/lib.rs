//! What Process Approval and Process Rejection share.
//!
//! Both functions run the same flow ([`process`]): check the review answer and
//! build the decision record, run the function's own action, then announce the
//! decision on the decision topic. Only the expected decision and the action
//! differ, so each function crate is a thin `main.rs` plus its action.
//!
//! An expired review is counted in the `ReviewsExpired` metric ([`metrics`]).
//!
//! The approval-policy functions' adapters are in `hitl-policy-aws`, so these
//! two functions do not compile the DynamoDB SDK.
//!
//! Step Functions retries a failed invocation (see the state machine's `Retry`),
//! so an action must be idempotent: it may run again for the same execution.

mod drill;
mod flow;
pub mod metrics;
mod sns;

pub use drill::{DRILL_ENV, FailureDrill};
pub use flow::{ActionError, DecisionAction, ProcessError, process};
pub use sns::{ConfigError, SnsPublisher, TOPIC_ENV};
