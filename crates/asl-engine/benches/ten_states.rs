//! In-process throughput of the interpreter on a 10-state Pass/Choice machine (no HTTP,
//! no SQLite): `cargo bench -p asl-engine`. Prints figures; checks no speed. The same
//! machine over sfn-local's HTTP API, against moto and LocalStack, is in `bench/`
//! (hitl-bench), whose table the README shows.
#![allow(clippy::print_stderr)] // a benchmark prints its figures

use asl_engine::{Definition, ExecInfo, Execution, Status};
use serde_json::{Map, json};

fn main() {
    let mut states = Map::new();
    for i in 0..9 {
        let next = format!("S{}", i + 1);
        let st = if i % 3 == 2 {
            json!({"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": next}], "Default": next})
        } else {
            json!({"Type": "Pass", "Next": next})
        };
        states.insert(format!("S{i}"), st);
    }
    states.insert("S9".into(), json!({"Type": "Succeed"}));
    let d = match Definition::parse(&json!({"StartAt": "S0", "States": states})) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let n = 20_000;
    let t0 = std::time::Instant::now();
    for i in 0..n {
        let info = ExecInfo {
            execution_arn: format!("arn:aws:states:us-east-1:1:execution:sm:{i}"),
            name: i.to_string(),
            state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:sm".into(),
            state_machine_name: "sm".into(),
            role_arn: "r".into(),
            start_ms: 0,
            input: json!({"n": 1, "payload": {"a": [1, 2, 3], "b": "text"}}),
            token_prefix: String::new(),
        };
        let (exec, step) = Execution::start(&d, info, 0);
        assert_eq!(exec.status, Status::Succeeded);
        let _rendered: Vec<String> = step
            .events
            .iter()
            .map(|e| e.to_aws_json().to_string())
            .collect();
    }
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{n} executions of a 10-state Pass/Choice machine: {:.0} executions/s ({:.0} states/s)",
        n as f64 / secs,
        10.0 * n as f64 / secs
    );
}
