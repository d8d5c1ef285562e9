//! Definitions Step Functions accepts that a strict reading of the ASL spec would
//! refuse (issue 17), each as definition, input and expected outcome. The expected
//! values come from what AWS is documented or reported to do (sources beside each
//! case), never from this engine's output.

mod common;

use asl_engine::{Definition, Execution, MachineType, Report, Severity, Step};
use common::info;
use serde_json::{Value, json};

fn run(definition: Value, input: Value) -> Step {
    let text = definition.to_string();
    let report = Report::new(
        Definition::validate(&text, MachineType::Standard),
        Severity::Error,
        100,
    );
    assert!(report.ok, "AWS accepts it: {:?}", report.diagnostics);
    let d = Definition::parse(&definition).expect("definition parses");
    Execution::start(&d, info(input), 0).1
}

fn last(step: &Step) -> (&str, &Value) {
    let e = step.events.last().expect("events");
    (e.event_type.as_str(), &e.details)
}

fn output(step: &Step) -> Value {
    let (kind, details) = last(step);
    assert_eq!(kind, "ExecutionSucceeded", "{details}");
    serde_json::from_str(details["output"].as_str().expect("output")).expect("JSON output")
}

/// `Parameters` given as an array or a scalar: the Step Functions team "validated that
/// customers are able to create and execute state machines with Parameters values of
/// type number, array, object, boolean, string, and null"
/// (aws/amazon-states-language-service#83); the array form is from
/// aws/aws-toolkit-vscode#2459 and ChristopheBougere/asl-validator#67 ("The SFN
/// deploys correctly ... and produces the expected output").
#[test]
fn parameters_may_be_an_array_or_a_scalar() {
    let machine = |parameters: Value| {
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Parameters": parameters, "End": true}}})
    };
    let out = output(&run(
        machine(json!([
            {"Prop1": "Value1", "id.$": "$.id"},
            {"Prop1": "Value3", "name.$": "$$.Execution.Name"},
            "plain"
        ])),
        json!({"id": 7}),
    ));
    assert_eq!(
        out,
        json!([{"Prop1": "Value1", "id": 7}, {"Prop1": "Value3", "name": "e1"}, "plain"])
    );
    for scalar in [json!("abc"), json!(42), json!(true), json!(null)] {
        assert_eq!(output(&run(machine(scalar.clone()), json!({}))), scalar);
    }
    // A Task's array Parameters reach the resource as an array.
    let step = run(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": [{"FunctionName": "f", "Payload.$": "$"}], "End": true}}}),
        json!({"a": 1}),
    );
    let (_, request) = step.tasks().next().expect("the task is invoked");
    assert_eq!(
        request.parameters,
        json!([{"FunctionName": "f", "Payload": {"a": 1}}])
    );
}

/// `ResultSelector` and `ItemSelector` were not part of that change: still objects.
#[test]
fn result_selector_stays_an_object() {
    let text = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke", "ResultSelector": ["x"], "End": true}}})
    .to_string();
    let report = Report::new(
        Definition::validate(&text, MachineType::Standard),
        Severity::Error,
        100,
    );
    assert!(!report.ok);
    assert_eq!(
        report.diagnostics[0].message,
        "The value for the field 'ResultSelector' must be an OBJECT"
    );
}

/// A filter comparing with an unquoted word: Jayway cannot compile it, Step Functions
/// accepts the definition and fails the state that evaluates it
/// (aws-samples/aws-batch-runtime-monitoring#6 and #7: "This would lead to failed
/// states in the state machines"). The failure is `States.Runtime`, with Jayway's
/// text after AWS's `Invalid path '...' : ` prefix.
#[test]
fn a_filter_with_an_unquoted_word_fails_when_evaluated() {
    let step = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
            "Parameters": {"ids.$": "$.items[?(@.kind==es)].id"}, "End": true}}}),
        json!({"items": [{"kind": "es", "id": 1}]}),
    );
    let (kind, details) = last(&step);
    assert_eq!(kind, "ExecutionFailed");
    assert_eq!(details["error"], "States.Runtime");
    let cause = details["cause"].as_str().expect("cause");
    assert!(
        cause.starts_with("An error occurred while executing the state 'P'"),
        "{cause}"
    );
    assert!(
        cause.ends_with(
            "Invalid path '$.items[?(@.kind==es)].id' : Failed to parse filter: \
             [?(@.kind==es)], error on position: 12, char: s"
        ),
        "{cause}"
    );
    // Only when it is evaluated: a branch that never reads it succeeds.
    let step = run(
        json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": true, "Next": "Bad"}],
                  "Default": "Done"},
            "Bad": {"Type": "Pass", "InputPath": "$[?(@.kind==es)]", "End": true},
            "Done": {"Type": "Succeed"}}}),
        json!({"go": false}),
    );
    assert_eq!(last(&step).0, "ExecutionSucceeded");
}
