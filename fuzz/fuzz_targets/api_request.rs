//! sfn-local's request decoding, in process (no network): the router gets
//! `X-Amz-Target: AWSStepFunctions.<op>` and a body. Every response must be JSON, an
//! error must carry `__type`, and no request may cause a 500 or a panic. The service has
//! a state machine and a waiting execution, so requests can name real ARNs: in the body,
//! `@SM@` and `@EX@` are replaced by them.
//!
//! Input: first byte picks the operation (or, past the list, the rest of the first line
//! is the operation name); the remainder is the body.
//!
//! The body is `hitl_fuzz::api::api_request` (fuzz/src/api.rs), which the replay test runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hitl_fuzz::api::api_request(data));
