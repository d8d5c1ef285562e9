//! ValidateStateMachineDefinition's diagnostics, case by case, against what AWS answered.
//!
//! Each expected value comes from a response recorded against AWS (LocalStack's
//! `@markers.aws.validated` snapshots under `tests/aws/services/stepfunctions/v2/`, keys
//! named per case) or from the API reference's example
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html>,
//! "S5" below), never from this engine's output. Errors recorded through
//! CreateStateMachine are split into code, message and location as Validate lists them.

use asl_engine::{Definition, Diagnostic, MachineType, Report, Severity};
use serde_json::{Value, json};

/// The answer as the wire shows it (`{"result", "diagnostics", "truncated"}`).
fn answer(definition: &str, ty: MachineType, severity: Severity, max_results: usize) -> Value {
    let r = Report::new(Definition::validate(definition, ty), severity, max_results);
    json!({
        "result": if r.ok { "OK" } else { "FAIL" },
        "diagnostics": r.diagnostics.iter().map(wire).collect::<Vec<_>>(),
        "truncated": r.truncated,
    })
}

fn wire(d: &Diagnostic) -> Value {
    let mut v = json!({"severity": d.severity.as_str(), "code": d.code, "message": d.message});
    if let (Some(l), Some(o)) = (&d.location, v.as_object_mut()) {
        o.insert("location".into(), json!(l));
    }
    v
}

fn error(code: &str, message: &str, location: &str) -> Value {
    json!({"severity": "ERROR", "code": code, "message": message, "location": location})
}

fn fail(diagnostics: Vec<Value>) -> Value {
    json!({"result": "FAIL", "diagnostics": diagnostics, "truncated": false})
}

fn ok() -> Value {
    json!({"result": "OK", "diagnostics": [], "truncated": false})
}

const BOTH: [MachineType; 2] = [MachineType::Standard, MachineType::Express];

/// test_sfn_api_validation.snapshot.json, `TestSfnApiValidation::test_validate_state_machine_definition_*`.
#[test]
fn recorded_validate_answers() {
    let cases: Vec<(&str, String, &[MachineType], Value)> = vec![
        (
            "not_a_definition[EMPTY_STRING]",
            " ".into(),
            &BOTH[..1],
            json!({"result": "FAIL", "truncated": false, "diagnostics": [{"severity": "ERROR",
                "code": "SCHEMA_VALIDATION_FAILED", "message": "Definition must be a valid JSON object"}]}),
        ),
        (
            "not_a_definition[NOT_A_DEF]",
            "not a definition".into(),
            &BOTH[..1],
            fail(vec![json!({"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION",
                "location": "[Source: (String)\"not a definition\"; line: 1, column: 4]",
                "message": "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]"})]),
        ),
        (
            "not_a_definition[EMPTY_DICT]",
            "{}".into(),
            &BOTH[..1],
            fail(vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "These fields are required: [States, StartAt]",
                "/",
            )]),
        ),
        (
            "type_standard/type_express[INVALID_BASE_NO_STARTAT]",
            json!({"States": {"StartState": {"Type": "Pass", "End": true}}}).to_string(),
            &BOTH,
            fail(vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "These fields are required: [StartAt]",
                "/",
            )]),
        ),
        (
            "type_standard/type_express[VALID_BASE_PASS]",
            json!({"StartAt": "StartState", "States": {"StartState": {"Type": "Pass", "End": true}}})
                .to_string(),
            &BOTH,
            ok(),
        ),
        (
            "type_standard/type_express[INVALID_DOWNGRADE_QUERY_LANGUAGE]",
            json!({"StartAt": "Pass", "States": {"Pass": {"Type": "Pass", "End": true,
                "QueryLanguage": "JSONPath"}}, "QueryLanguage": "JSONata"})
            .to_string(),
            &BOTH,
            fail(vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                "/States/Pass",
            )]),
        ),
        (
            "type_standard/type_express[VALID_QUERY_LANGUAGE_PASS]",
            json!({"StartAt": "Map", "QueryLanguage": "JSONPath", "States": {"Map": {
                "Type": "Map", "QueryLanguage": "JSONata", "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Pass",
                    "States": {"Pass": {"QueryLanguage": "JSONPath", "Type": "Pass", "End": true}}},
                "End": true}}})
            .to_string(),
            &BOTH,
            ok(),
        ),
        (
            "type_express[ILLEGAL_WFTT]",
            sqs_wait_for_task_token(),
            &BOTH[1..],
            fail(vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "Express state machine does not support '.waitForTaskToken' service integration ",
                "/States/SendMessageWithWait/Resource",
            )]),
        ),
    ];
    for (key, definition, types, expected) in cases {
        for ty in types {
            assert_eq!(
                answer(&definition, *ty, Severity::Error, 0),
                expected,
                "{key} ({ty:?})"
            );
        }
    }
}

/// templates/callbacks/statemachines/sqs_wait_for_task_token.json5.
fn sqs_wait_for_task_token() -> String {
    json!({"StartAt": "SendMessageWithWait", "States": {"SendMessageWithWait": {"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl.$": "$.QueueUrl",
            "MessageBody": {"Message.$": "$.Message", "TaskToken.$": "$$.Task.Token"}},
        "End": true}}})
    .to_string()
}

/// The errors recorded through CreateStateMachine (the message `Invalid State Machine
/// Definition: '<CODE>: <message> at <location>'`), as Validate lists them.
#[test]
fn errors_recorded_through_create_state_machine() {
    let task = |resource: &str| json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": true}}});
    let rename = |v: Value, name: &str| v.to_string().replace("\"T\"", &format!("\"{name}\""));
    let cases: Vec<(&str, String, MachineType, Vec<Value>)> = vec![
        (
            "test_sfn_api::test_create_delete_invalid_sm",
            json!({"Comment": "BASE_INVALID_DER", "StartAt": "State_1"}).to_string(),
            MachineType::Standard,
            vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "These fields are required: [States]",
                "/",
            )],
        ),
        (
            "test_sfn_api_express::test_illegal_callbacks[SYNC]",
            rename(
                task("arn:aws:states:::states:startExecution.sync"),
                "StartExecution",
            ),
            MachineType::Express,
            vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "Express state machine does not support '.sync' service integration",
                "/States/StartExecution/Resource",
            )],
        ),
        (
            "test_sfn_api_express::test_illegal_callbacks[WAIT_FOR_TASK_TOKEN]",
            rename(
                task("arn:aws:states:::sns:publish.waitForTaskToken"),
                "Publish",
            ),
            MachineType::Express,
            vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "Express state machine does not support '.waitForTaskToken' service integration ",
                "/States/Publish/Resource",
            )],
        ),
        (
            "test_sfn_api_express::test_illegal_activity_task",
            rename(
                task("arn:aws:states:us-east-1:123456789012:activity:act"),
                "ActivityTask",
            ),
            MachineType::Express,
            vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "Express state machine does not support Activity ARN",
                "/States/ActivityTask/Resource",
            )],
        ),
        (
            "test_credentials_base::test_invalid_credentials_field[EMPTY_CREDENTIALS]",
            json!({"StartAt": "State0", "QueryLanguage": "JSONata", "States": {"State0": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": "{% $states.input %}", "Credentials": {}, "End": true}}})
            .to_string(),
            MachineType::Standard,
            vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "The field 'RoleArn' is required but was missing",
                "/States/State0/Credentials",
            )],
        ),
        (
            "test_credentials_base::test_invalid_credentials_field[INVALID_CREDENTIALS_FIELD]",
            json!({"StartAt": "State0", "QueryLanguage": "JSONata", "States": {"State0": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": "{% $states.input %}", "Credentials": {"InvalidField": "invalid"},
                "End": true}}})
            .to_string(),
            MachineType::Standard,
            vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "The field 'RoleArn' is required but was missing",
                "/States/State0/Credentials",
            )],
        ),
        (
            "test_test_state_machine_scenarios::test_state_name_invalid_state_definition",
            json!({"StartAt": "ExistingButInvalidState", "States": {
                "ExistingButInvalidState": {"Type": "Invalid", "End": true}}})
            .to_string(),
            MachineType::Standard,
            vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]",
                "/States/ExistingButInvalidState/Type",
            )],
        ),
        (
            "test_state_mock_validation::test_parallel_state_empty_branches",
            json!({"StartAt": "StateName", "States": {"StateName": {"Type": "Parallel",
                "Branches": [], "End": true}}})
            .to_string(),
            MachineType::Standard,
            vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "Value cannot be empty",
                "/States/StateName/Branches",
            )],
        ),
        (
            "localstack PR #12487 (AWS CLI output)",
            json!({"StartAt": "pass1", "States": {
                "pass1": {"Type": "Pass", "Next": "pass3"},
                "pass2": {"Type": "Pass", "End": true}}})
            .to_string(),
            MachineType::Standard,
            vec![
                error(
                    "MISSING_TRANSITION_TARGET",
                    "Missing 'Next' target: pass3",
                    "/States/pass1/Next",
                ),
                error(
                    "MISSING_TRANSITION_TARGET",
                    "State \"pass2\" is not reachable.",
                    "/States/pass2",
                ),
            ],
        ),
        (
            "serverless-step-functions issue #250 (CloudFormation output)",
            json!({"StartAt": "aws_own.run_step", "States": {"other": {"Type": "Succeed"}}})
                .to_string(),
            MachineType::Standard,
            vec![error(
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: aws_own.run_step",
                "/StartAt",
            )],
        ),
    ];
    for (key, definition, ty, expected) in cases {
        assert_eq!(
            answer(&definition, ty, Severity::Error, 0),
            fail(expected),
            "{key}"
        );
    }
}

/// test_base_scenarios.snapshot.json, `test_wait_timestamp_invalid[NO_T, NO_Z,
/// INVALID_DATE, INVALID_TIME, INVALID_ISO, JSONATA]`.
#[test]
fn wait_timestamps_that_are_not_rfc3339() {
    for (ql, ts) in [
        ("JSONPath", "2016-03-14 01:59:00Z"),
        ("JSONPath", "2016-03-14T01:59:00"),
        ("JSONPath", "2016-13-14T01:59:00Z"),
        ("JSONPath", "2016-03-14T25:59:00Z"),
        ("JSONPath", "not-a-timestamp"),
        ("JSONata", "2016-03-14 01:59:00Z"),
    ] {
        let def = json!({"QueryLanguage": ql, "StartAt": "WaitUntil", "States": {
            "WaitUntil": {"Type": "Wait", "Timestamp": ts, "End": true}}});
        assert_eq!(
            answer(&def.to_string(), MachineType::Standard, Severity::Error, 0),
            fail(vec![error(
                "SCHEMA_VALIDATION_FAILED",
                "String does not match RFC3339 timestamp",
                "/States/WaitUntil/Timestamp",
            )]),
            "{ql} {ts}"
        );
    }
}

/// The definitions S5's example was made from are not shown; these carry exactly the
/// fields its four warnings name.
fn s5_definition() -> String {
    json!({"StartAt": "HelloWorld", "States": {
        "HelloWorld": {"Type": "Pass", "Parameters": {"a": "$.x"}, "Result": {"c.$": "$.y"},
            "Next": "FailState"},
        "FailState": {"Type": "Fail", "Error": "$.e", "Cause": "$.c"}}})
    .to_string()
}

fn s5_warnings() -> Vec<Value> {
    let w = |code: &str, message: &str, location: &str| json!({"severity": "WARNING", "code": code, "message": message, "location": location});
    vec![
        w(
            "NO_DOLLAR",
            "The value of 'a' looks like a JSONPath. Instead of 'a', use 'a.$' to evaluate it as a JSONPath at runtime.",
            "/States/HelloWorld/Parameters",
        ),
        w(
            "PASS_RESULT_IS_STATIC",
            "The value of 'c.$' will not evaluate as a JSONPath or Intrinsic Function at runtime. Instead of 'Result', use 'Parameters' to evaluate it as a JSONPath or Intrinsic Function at runtime.",
            "/States/HelloWorld/Result",
        ),
        w(
            "NO_PATH",
            "The value of 'Error' looks like a JSONPath. Instead of 'Error', use 'ErrorPath' to evaluate it as a JSONPath at runtime.",
            "/States/FailState/Error",
        ),
        w(
            "NO_PATH",
            "The value of 'Cause' looks like a JSONPath. Instead of 'Cause', use 'CausePath' to evaluate it as a JSONPath at runtime.",
            "/States/FailState/Cause",
        ),
    ]
}

/// S5: `--severity WARNING` gives the four warnings and `OK`; the default severity
/// (ERROR) "returns only ERROR diagnostics".
#[test]
fn the_api_reference_warnings_and_severity() {
    let def = s5_definition();
    assert_eq!(
        answer(&def, MachineType::Standard, Severity::Warning, 0),
        json!({"result": "OK", "diagnostics": s5_warnings(), "truncated": false})
    );
    assert_eq!(
        answer(&def, MachineType::Standard, Severity::Error, 0),
        ok()
    );
}

/// S1/S5: maxResults caps the list and sets `truncated`; 0 means 100; the result does not
/// depend on what is shown.
#[test]
fn max_results_truncates() {
    let def = s5_definition();
    let two: Vec<Value> = s5_warnings().into_iter().take(2).collect();
    assert_eq!(
        answer(&def, MachineType::Standard, Severity::Warning, 2),
        json!({"result": "OK", "diagnostics": two, "truncated": true})
    );
    assert_eq!(
        answer(&def, MachineType::Standard, Severity::Warning, 4),
        json!({"result": "OK", "diagnostics": s5_warnings(), "truncated": false})
    );
    let broken = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
        "C": {"Type": "Pass", "Next": "D"}}})
    .to_string();
    let r = answer(&broken, MachineType::Standard, Severity::Error, 1);
    assert_eq!(r["result"], "FAIL");
    assert_eq!(r["truncated"], true);
    assert_eq!(r["diagnostics"].as_array().map(Vec::len), Some(1));
}

/// Warnings are about JSONPath: a JSONata state's strings are not paths to it.
#[test]
fn jsonata_states_get_no_path_warnings() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "F", "States": {
        "F": {"Type": "Fail", "Error": "$.e", "Cause": "$.c"}}})
    .to_string();
    assert_eq!(
        answer(&def, MachineType::Standard, Severity::Warning, 0),
        ok()
    );
}

/// AWS accepts a Distributed Map reading Parquet from S3; local mode cannot run it and says
/// so at CreateStateMachine, but Validate answers as AWS: OK.
#[test]
fn what_only_this_engine_cannot_run_validates_ok() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "PARQUET"},
            "Parameters": {"Bucket": "b", "Key": "k"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}})
    .to_string();
    assert_eq!(
        answer(&def, MachineType::Standard, Severity::Error, 0),
        ok()
    );
    let created = Definition::parse_str(&def).err().map(|e| e.message);
    assert!(
        created.is_some_and(|m| m.contains("not supported by sfn-local")),
        "CreateStateMachine still refuses it"
    );
}

/// CreateStateMachine's message: one pair of quotes around the comma-joined list
/// (localstack PR #12487, AWS CLI output), and the Express refusals for EXPRESS only.
#[test]
fn create_state_machine_messages() {
    let def = json!({"StartAt": "pass1", "States": {
        "pass1": {"Type": "Pass", "Next": "pass3"},
        "pass2": {"Type": "Pass", "End": true}}})
    .to_string();
    assert_eq!(
        Definition::parse_str(&def).err().map(|e| e.message),
        Some(
            "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'"
                .to_owned()
        )
    );
    let wftt = sqs_wait_for_task_token();
    assert!(Definition::parse_str_as(&wftt, MachineType::Standard).is_ok());
    // test_sfn_api_express `[WAIT_FOR_TASK_TOKEN]`: two spaces before `at`.
    assert_eq!(
        Definition::parse_str_as(&wftt, MachineType::Express)
            .err()
            .map(|e| e.message),
        Some(
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration  at /States/SendMessageWithWait/Resource'"
                .to_owned()
        )
    );
}
