//! The workflow on a deployed stack, driven by `hitl` as an operator would.
//!
//! Never runs in CI, which has no AWS credentials: set `HITL_DEPLOYED_STACK` to the
//! name of a stack deployed with `sam deploy` (and the usual AWS credentials and
//! region) to run it. Without the variable each test says it skipped and passes.
//!
//! ```sh
//! HITL_DEPLOYED_STACK=human-review AWS_REGION=eu-west-1 \
//!     cargo test -p hitl --test deployed -- --nocapture
//! ```
//!
//! Each test starts an execution named `hitl-deployed-test-<time>-<decision>`, answers
//! it with `hitl approve|reject --execution`, and waits (up to 3 minutes, for Lambda
//! cold starts) until the outcome Lambda's decision is in the execution's output. The
//! reviewers subscribed to the stack's topic get the two review emails.
#![allow(clippy::print_stderr)] // says why it skipped

use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const STACK_VAR: &str = "HITL_DEPLOYED_STACK";

/// The stack to test, or `None` (after saying so) when none is given.
fn deployed_stack(test: &str) -> Option<String> {
    match std::env::var(STACK_VAR) {
        Ok(stack) if !stack.trim().is_empty() => Some(stack),
        _ => {
            eprintln!(
                "{test}: skipped: set {STACK_VAR} to a deployed stack's name (with AWS \
                 credentials and region) to run it"
            );
            None
        }
    }
}

fn hitl(stack: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hitl"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        // Never local mode: the endpoint comes from the region.
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("HITL_STATE_MACHINE")
        .args(["--stack-name", stack])
        .args(args)
        .output()
        .expect("hitl runs")
}

fn ok(stack: &str, args: &[&str]) -> String {
    let output = hitl(stack, args);
    assert!(
        output.status.success(),
        "hitl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Polls `hitl status NAME` until `done` holds for its output.
fn wait_for(stack: &str, name: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let status = ok(stack, &["status", name]);
        if done(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: still not {what} after 3 minutes:\n{status}"
        );
        std::thread::sleep(Duration::from_secs(3));
    }
}

fn review_decided(decision: &str) {
    let Some(stack) = deployed_stack(&format!("deployed_{decision}")) else {
        return;
    };
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let name = format!("hitl-deployed-test-{time}-{decision}");
    ok(
        &stack,
        &[
            "start",
            "--input",
            "events/start_execution.json",
            "--name",
            &name,
        ],
    );
    wait_for(&stack, &name, "waiting for a review", |s| {
        s.contains("Waiting for a review since")
    });
    let verb = if decision == "approved" {
        "approve"
    } else {
        "reject"
    };
    ok(
        &stack,
        &[
            verb,
            "--execution",
            &name,
            "--reviewer",
            "hitl deployed test",
            "--comment",
            "automated test",
        ],
    );
    let status = wait_for(&stack, &name, "finished", |s| {
        !s.contains("Status:    RUNNING")
    });
    assert!(status.contains("Status:    SUCCEEDED"), "{status}");
    assert!(
        status.contains(&format!("Decision:  {decision}")),
        "{status}"
    );
    assert!(status.contains("reviewer:  hitl deployed test"), "{status}");
}

#[test]
fn deployed_approval_runs_process_approval() {
    review_decided("approved");
}

#[test]
fn deployed_rejection_runs_process_rejection() {
    review_decided("rejected");
}
