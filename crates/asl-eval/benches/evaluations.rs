//! How many typical state evaluations fit in a second: `cargo bench -p asl-eval`.
//! Prints a figure; checks no speed (the house rule: speed is read off benchmarks, not
//! asserted by tests).
//!
//! One iteration does what a typical state does: a payload template with paths, a
//! context path, an intrinsic and a filter; two Choice rules; InputPath; ResultPath.
//! The engine targets >2,000 executions/s, i.e. well under 500 µs per execution for
//! everything; this reports how many such state evaluations fit in a second.

#![allow(clippy::print_stderr)] // a benchmark prints its figures

use std::time::Instant;

use asl_eval::choice::{choose, compile_choices};
use asl_eval::fieldpath::FieldPath;
use asl_eval::jsonpath::ReferencePath;
use asl_eval::template::Template;
use asl_eval::{EvalError, Scope};
use serde_json::json;

fn main() -> Result<(), EvalError> {
    let def = |e: asl_eval::DefinitionError| EvalError::new("Definition", e.message);
    let template = Template::compile(&json!({
        "approver.$": "$.request.approver",
        "summary.$": "States.Format('{} asks {} for {}', $.request.by, $.request.approver, $.request.amount)",
        "execution.$": "$$.Execution.Name",
        "big.$": "$.items[?(@.amount > 100)].id",
        "static": {"kind": "approval", "version": 1}
    }))
    .map_err(def)?;
    let rules = compile_choices(&json!([
        {"And": [
            {"Variable": "$.request.amount", "NumericGreaterThan": 1000},
            {"Variable": "$.request.by", "StringMatches": "*@example.com"}
        ], "Next": "Escalate"},
        {"Variable": "$.request.deadline", "TimestampLessThan": "2030-01-01T00:00:00Z", "Next": "Review"}
    ]))
    .map_err(def)?;
    let input_path = FieldPath::compile("InputPath", "$.request").map_err(def)?;
    let result_path = ReferencePath::parse("$.review.payload").map_err(def)?;

    let input = json!({
        "request": {"approver": "bob", "by": "ann@example.com", "amount": 1500, "deadline": "2029-05-01T12:00:00Z"},
        "items": (0..20).map(|i| json!({"id": i, "amount": i * 10})).collect::<Vec<_>>()
    });
    let context = json!({"Execution": {"Name": "exec-1", "Input": input.clone()}});

    let n = 100_000;
    let start = Instant::now();
    for _ in 0..n {
        let scope = Scope::new(&input, &context);
        let payload = template.evaluate(&scope)?;
        let next = choose(&rules, &scope)?;
        assert_eq!(next, Some("Escalate"));
        let _effective = input_path.select_input(&scope)?;
        let _output = result_path.insert(input.clone(), payload)?;
    }
    let elapsed = start.elapsed();
    eprintln!(
        "{n} state evaluations in {elapsed:?}: {:.0}/s ({:.1} µs each)",
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / n as f64
    );
    Ok(())
}
