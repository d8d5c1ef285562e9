//! Replays the committed `definition` fuzz inputs (`fuzz/seeds/definition` and the
//! crash inputs in `fuzz/regressions/definition`) without cargo-fuzz: every definition
//! that validates starts and runs a bounded number of steps, timers firing and tasks
//! succeeding. Takes well under a second; the fuzzers never run in CI (docs/fuzzing.md).

use std::path::PathBuf;

use asl_engine::{Command, Definition, Effect, ExecInfo, Execution, Status, TaskOutcome};
use serde_json::json;

#[test]
fn definition_inputs_replay() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut replayed = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join("definition")) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(bytes) = std::fs::read(e.path()) else {
                continue;
            };
            // As in the fuzz target: the definition ends at the first NUL byte.
            let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
            let Ok(text) = std::str::from_utf8(&bytes[..end]) else {
                continue;
            };
            if let Ok(def) = Definition::parse_str(text) {
                run(&def);
                replayed += 1;
            }
        }
    }
    assert!(replayed >= 3, "the committed definitions are missing");
}

fn run(def: &Definition) {
    let now = 1_700_000_000_000;
    let info = ExecInfo {
        execution_arn: "arn:aws:states:us-east-1:000000000000:execution:sm:e".into(),
        name: "e".into(),
        state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:sm".into(),
        state_machine_name: "sm".into(),
        role_arn: "arn:aws:iam::000000000000:role/r".into(),
        start_ms: now,
        input: json!({"a": 1, "big": i64::MAX, "c": [1, 2, 3]}),
        token_prefix: "tok.".into(),
    };
    let (mut exec, step) = Execution::start(def, info, now);
    let mut effects = step.effects;
    for _ in 0..64 {
        if exec.status != Status::Running || effects.is_empty() {
            break;
        }
        let cmd = match effects.remove(0) {
            Effect::Timer { timer_id, .. } => Command::Timer { timer_id },
            Effect::InvokeTask { task_id, request } => Command::Task {
                task_id,
                outcome: TaskOutcome::Succeeded(request.parameters),
            },
        };
        if let Ok(step) = exec.apply(def, cmd, now) {
            effects.extend(step.effects);
        }
    }
}
