//! Each expected value is AWS's, as recorded in LocalStack's AWS-validated snapshots
//! (`tests/aws/services/stepfunctions/v2/test_state/<file>.snapshot.json`, named by
//! file and key); the definitions are the templates those tests send
//! (`tests/aws/services/stepfunctions/templates/test_state/statemachines/`).

use serde_json::{Value, json};

use super::*;

const ROLE: &str = "arn:aws:iam::111111111111:role/test";

fn env() -> Environment {
    Environment {
        region: "us-east-1".into(),
        account: "111111111111".into(),
        state_machine_name: "TestStateMachine".into(),
        execution_name: "TestExecution".into(),
        now_ms: 1_700_000_000_000,
    }
}

fn request(definition: Value, input: Value, level: InspectionLevel) -> TestStateRequest {
    TestStateRequest {
        definition: definition.to_string(),
        role_arn: Some(ROLE.into()),
        input: Some(input.to_string()),
        inspection_level: level,
        ..TestStateRequest::default()
    }
}

fn run(req: &TestStateRequest) -> TestStateResult {
    match test_state(req, &env()) {
        Ok(r) => r,
        Err(e) => panic!("TestState refused the request: {e}"),
    }
}

fn refused(req: &TestStateRequest) -> TestStateError {
    match test_state(req, &env()) {
        Ok(r) => panic!("TestState accepted the request: {r:?}"),
        Err(e) => e,
    }
}

fn mock_result(v: Value) -> Option<Mock> {
    Some(Mock {
        result: Some(v.to_string()),
        ..Mock::default()
    })
}

fn mock_error(error: &str, cause: &str) -> Option<Mock> {
    Some(Mock {
        error_output: Some((Some(error.into()), Some(cause.into()))),
        ..Mock::default()
    })
}

fn hello() -> Value {
    json!({"Value": "HelloWorld"})
}

fn nested() -> Value {
    json!({"initialData": {"fieldFromInput": "value from input", "otherField": "other"},
           "unrelatedData": {"someOtherField": 1234}})
}

fn inspection(r: &TestStateResult) -> Inspection {
    r.inspection.clone().unwrap_or_default()
}

// test_test_state_scenarios: test_base_inspection_level_debug[BASE_PASS_STATE]
#[test]
fn pass_reports_every_step() {
    let r = run(&request(
        json!({"Type": "Pass", "End": true}),
        hello(),
        InspectionLevel::Debug,
    ));
    assert_eq!(r.status, TestStateStatus::Succeeded);
    assert_eq!(r.output, Some(hello()));
    assert_eq!(r.next_state, None);
    let i = inspection(&r);
    assert_eq!(
        i,
        Inspection {
            input: Some(hello()),
            after_input_path: Some(hello()),
            after_parameters: Some(hello()),
            after_result_selector: Some(hello()),
            after_result_path: Some(hello()),
            ..Inspection::default()
        }
    );
}

// test_test_state_scenarios: test_base_inspection_level_info[BASE_PASS_STATE]
#[test]
fn info_level_has_no_inspection_data() {
    let r = run(&request(
        json!({"Type": "Pass", "End": true}),
        hello(),
        InspectionLevel::Info,
    ));
    assert_eq!(r.inspection, None);
    assert_eq!(
        r.to_wire(),
        json!({"status": "SUCCEEDED", "output": "{\"Value\":\"HelloWorld\"}"})
    );
}

// test_test_state_scenarios: test_base_inspection_level_debug[IO_PASS_STATE]
#[test]
fn pass_input_path_parameters_result_path() {
    let def = json!({"Type": "Pass", "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "ResultPath": "$.modifiedData", "End": true});
    let r = run(&request(def, nested(), InspectionLevel::Debug));
    let params = json!({"staticValue": "some value", "inputValue": "value from input"});
    let mut out = nested();
    out["modifiedData"] = params.clone();
    assert_eq!(r.output, Some(out.clone()));
    assert_eq!(
        inspection(&r),
        Inspection {
            input: Some(nested()),
            after_input_path: Some(
                json!({"fieldFromInput": "value from input", "otherField": "other"})
            ),
            after_parameters: Some(params.clone()),
            after_result_selector: Some(params),
            after_result_path: Some(out),
            ..Inspection::default()
        }
    );
}

// test_test_state_scenarios: test_base_inspection_level_debug[IO_RESULT_PASS_STATE]
#[test]
fn pass_with_result_reports_the_result_not_the_input_steps() {
    let def = json!({"Type": "Pass", "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "Result": {"resultKey": "result value"},
        "ResultPath": "$.modifiedData", "End": true});
    let r = run(&request(def, nested(), InspectionLevel::Debug));
    let result = json!({"resultKey": "result value"});
    let mut out = nested();
    out["modifiedData"] = result.clone();
    assert_eq!(r.output, Some(out.clone()));
    assert_eq!(
        inspection(&r),
        Inspection {
            input: Some(nested()),
            result: Some(result.clone()),
            after_result_selector: Some(result),
            after_result_path: Some(out),
            ..Inspection::default()
        }
    );
}

fn choice() -> Value {
    json!({"Type": "Choice", "Choices": [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                 {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}],
        "Default": "DefaultState"})
}

// test_test_state_scenarios: test_base_inspection_level_debug[BASE_CHOICE_STATE]
#[test]
fn choice_gives_the_next_state() {
    let input = json!({"type": "Private", "value": 22});
    let r = run(&request(choice(), input.clone(), InspectionLevel::Debug));
    assert_eq!(r.status, TestStateStatus::Succeeded);
    assert_eq!(r.next_state.as_deref(), Some("ValueInTwenties"));
    assert_eq!(r.output, Some(input.clone()));
    assert_eq!(
        inspection(&r),
        Inspection {
            input: Some(input.clone()),
            after_input_path: Some(input),
            ..Inspection::default()
        }
    );
}

// test_test_state_scenarios: test_base_inspection_level_debug[BASE_FAIL_STATE]
#[test]
fn fail_reports_error_and_cause() {
    let def = json!({"Type": "Fail", "Error": "SomeFailure",
        "Cause": "This state machines raises a 'SomeFailure' failure."});
    let r = run(&request(def, hello(), InspectionLevel::Debug));
    assert_eq!(r.status, TestStateStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("SomeFailure"));
    assert_eq!(
        r.cause.as_deref(),
        Some("This state machines raises a 'SomeFailure' failure.")
    );
    assert_eq!(r.output, None);
    assert_eq!(
        inspection(&r),
        Inspection {
            input: Some(hello()),
            after_input_path: Some(hello()),
            ..Inspection::default()
        }
    );
}

// test_test_state_scenarios: test_base_inspection_level_debug[BASE_SUCCEED_STATE]
#[test]
fn succeed_ends_without_a_next_state() {
    let r = run(&request(
        json!({"Type": "Succeed"}),
        hello(),
        InspectionLevel::Debug,
    ));
    assert_eq!(r.status, TestStateStatus::Succeeded);
    assert_eq!(r.output, Some(hello()));
    assert_eq!(r.next_state, None);
    assert_eq!(inspection(&r).after_input_path, Some(hello()));
}

// No recording: the ASL specification says a Wait state passes its input on. TestState
// reports what it leads to at once (a one-hour wait does not make the test wait).
#[test]
fn wait_does_not_wait() {
    let def = json!({"Type": "Wait", "Seconds": 3600, "Next": "After"});
    let r = run(&request(def, hello(), InspectionLevel::Info));
    assert_eq!(r.status, TestStateStatus::Succeeded);
    assert_eq!(r.output, Some(hello()));
    assert_eq!(r.next_state.as_deref(), Some("After"));
}

// test_test_state_machine_scenarios: test_base_state_name_multi_state[DEBUG-State0] and
// [DEBUG-State1]
#[test]
fn state_name_picks_a_state_of_a_whole_machine() {
    let machine = json!({"QueryLanguage": "JSONata", "StartAt": "State0", "States": {
        "State0": {"Type": "Pass", "Next": "State1"},
        "State1": {"Type": "Fail", "Error": "SomeFailure",
                   "Cause": "This state machines raises a 'SomeFailure' failure."}}});
    let mut req = request(machine, hello(), InspectionLevel::Debug);
    req.state_name = Some("State0".into());
    let r = run(&req);
    assert_eq!(r.status, TestStateStatus::Succeeded);
    assert_eq!(r.next_state.as_deref(), Some("State1"));
    assert_eq!(r.output, Some(hello()));
    assert_eq!(
        inspection(&r),
        Inspection {
            input: Some(hello()),
            ..Inspection::default()
        }
    );
    req.state_name = Some("State1".into());
    let r = run(&req);
    assert_eq!(r.status, TestStateStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("SomeFailure"));
    req.state_name = Some("DoesNotExist".into());
    // test_base_state_name_validation_failures[dne]
    assert_eq!(
        refused(&req),
        TestStateError::Validation("State not found in definition".into())
    );
}

fn lambda_invoke() -> Value {
    json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"},
        "End": true})
}

// test_test_state_mock_scenarios: test_base_lambda_service_task_mock_success
#[test]
fn task_with_a_mocked_result() {
    let result = json!({"Payload": "function output", "SdkHttpMetadata": {"HttpStatusCode": 200}});
    let mut req = request(
        lambda_invoke(),
        json!({"FunctionName": "f", "Payload": null}),
        InspectionLevel::Info,
    );
    req.mock = mock_result(result.clone());
    let r = run(&req);
    assert_eq!(r.status, TestStateStatus::Succeeded);
    assert_eq!(r.output, Some(result));
}

// test_state_context_object: test_state_task_context_object[EXECUTION_INPUT] shows the
// steps AWS reports for a JSONPath Task; the template is io_lambda_service_task_state.
#[test]
fn task_reports_parameters_result_selector_and_result_path() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "InputPath": "$.inputPathField",
        "Parameters": {"FunctionName.$": "$.FunctionName",
                       "Payload": {"Input.$": "$", "AdditionalParam": "Value"}},
        "ResultSelector": {"LambdaOutput.$": "$"},
        "ResultPath": "$.resultPathField", "End": true});
    let input = json!({"inputPathField": {"FunctionName": "f"}});
    let mut req = request(def, input.clone(), InspectionLevel::Debug);
    let result = json!({"Payload": {"ok": true}, "StatusCode": 200});
    req.mock = mock_result(result.clone());
    let r = run(&req);
    let i = inspection(&r);
    assert_eq!(i.after_input_path, Some(json!({"FunctionName": "f"})));
    assert_eq!(
        i.after_parameters,
        Some(json!({"FunctionName": "f",
            "Payload": {"Input": {"FunctionName": "f"}, "AdditionalParam": "Value"}}))
    );
    assert_eq!(i.result, Some(result.clone()));
    assert_eq!(
        i.after_result_selector,
        Some(json!({"LambdaOutput": result.clone()}))
    );
    let mut out = input;
    out["resultPathField"] = json!({"LambdaOutput": result});
    assert_eq!(i.after_result_path, Some(out.clone()));
    assert_eq!(r.output, Some(out));
}

fn retry_task() -> Value {
    json!({"QueryLanguage": "JSONata", "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 1,
                   "MaxAttempts": 5, "BackoffRate": 2.0}],
        "End": true})
}

// test_state_configuration: test_state_configuration_retrier_retry_count[DEBUG]
#[test]
fn task_error_with_retries_left_is_retriable() {
    let input = json!({"Values": ["first", "second", "third"]});
    let mut req = request(retry_task(), input.clone(), InspectionLevel::Debug);
    req.mock = mock_error("MockException", "Mock the cause of the error.");
    req.state_configuration.retrier_retry_count = Some(4);
    let r = run(&req);
    assert_eq!(r.status, TestStateStatus::Retriable);
    assert_eq!(r.error.as_deref(), Some("MockException"));
    assert_eq!(r.cause.as_deref(), Some("Mock the cause of the error."));
    assert_eq!(r.output, None);
    assert_eq!(
        inspection(&r),
        Inspection {
            input: Some(input.clone()),
            after_arguments: Some(json!({"FunctionName": "foo", "Payload": "bar"})),
            error_details: Some(ErrorDetails {
                retry_index: Some(0),
                retry_backoff_interval_seconds: Some(16),
                catch_index: None,
            }),
            ..Inspection::default()
        }
    );
    // exceeds_tolerated_retry_count: the retrier is named, the state fails.
    req.state_configuration.retrier_retry_count = Some(5);
    let r = run(&req);
    assert_eq!(r.status, TestStateStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("MockException"));
    assert_eq!(
        inspection(&r).error_details,
        Some(ErrorDetails {
            retry_index: Some(0),
            ..ErrorDetails::default()
        })
    );
}

// test_test_state_scenarios: test_state_task_catch_error[DEBUG]
#[test]
fn task_error_caught_goes_to_the_catcher() {
    let def = json!({"QueryLanguage": "JSONata", "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "Catch": [
            {"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "HandleMockError"},
            {"ErrorEquals": ["States.TaskFailed"], "Output": "{% $states %}", "Next": "HandleThreshold"}],
        "End": true});
    let mut req = request(def, hello(), InspectionLevel::Debug);
    req.mock = mock_error("MockException", "Mock the cause of the error.");
    let r = run(&req);
    assert_eq!(r.status, TestStateStatus::CaughtError);
    assert_eq!(r.error.as_deref(), Some("MockException"));
    assert_eq!(r.cause.as_deref(), Some("Mock the cause of the error."));
    assert_eq!(r.next_state.as_deref(), Some("HandleMockError"));
    let out = r.output.clone().unwrap_or_default();
    assert_eq!(out["input"], hello());
    assert_eq!(
        out["errorOutput"],
        json!({"Error": "MockException", "Cause": "Mock the cause of the error."})
    );
    assert_eq!(out["context"]["State"]["Name"], "StateName");
    assert_eq!(out["context"]["State"]["RetryCount"], 0);
    assert_eq!(out["context"]["Execution"]["RoleArn"], ROLE);
    assert_eq!(out["context"]["Execution"]["Input"], hello());
    assert!(
        out["context"]["Execution"]["Id"]
            .as_str()
            .is_some_and(|id| id.starts_with("arn:aws:states:us-east-1:111111111111:express:")),
        "{out}"
    );
    let i = inspection(&r);
    assert_eq!(
        i.after_arguments,
        Some(json!({"FunctionName": "foo", "Payload": "bar"}))
    );
    assert_eq!(
        i.error_details,
        Some(ErrorDetails {
            catch_index: Some(0),
            ..ErrorDetails::default()
        })
    );
    // catch_task_failed_response
    req.mock = mock_error("States.TaskFailed", "The task failed.");
    let r = run(&req);
    assert_eq!(r.status, TestStateStatus::CaughtError);
    assert_eq!(r.next_state.as_deref(), Some("HandleThreshold"));
    assert_eq!(
        inspection(&r).error_details.and_then(|d| d.catch_index),
        Some(1)
    );
}

// test_test_state_mock_scenarios: test_io_parallel_state_mock_success[DEBUG]
#[test]
fn parallel_takes_the_mock_as_the_branches_result() {
    let def = json!({"Type": "Parallel", "InputPath": "$.parallelInput",
        "ResultPath": "$.parallelResult", "OutputPath": "$",
        "Branches": [
            {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": true}}},
            {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": true}}}],
        "End": true});
    let input = json!({"parallelInput": {"data": "input_value"}});
    let result = json!([{"branch1": "result"}, {"branch2": "result"}]);
    let mut req = request(def, input.clone(), InspectionLevel::Debug);
    req.mock = mock_result(result.clone());
    let r = run(&req);
    let out = json!({"parallelInput": {"data": "input_value"}, "parallelResult": result});
    assert_eq!(r.status, TestStateStatus::Succeeded);
    assert_eq!(r.output, Some(out.clone()));
    assert_eq!(
        inspection(&r),
        Inspection {
            input: Some(input),
            after_result_selector: Some(result),
            after_result_path: Some(out),
            ..Inspection::default()
        }
    );
}

fn map_retry() -> Value {
    json!({"Type": "Map", "QueryLanguage": "JSONata",
        "Items": "{% $states.input.Values %}",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "TestState", "States": {"TestState": {"Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:111111111111:function:f", "End": true}}},
        "Retry": [{"ErrorEquals": ["MockException"], "MaxAttempts": 3},
                  {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 2}],
        "ToleratedFailureCount": 1, "End": true})
}

// test_state_configuration: test_map_state_failure_count[DEBUG-BASE_MAP_STATE_RETRY]
#[test]
fn map_iteration_failures_over_the_tolerance_are_retriable() {
    let input = json!({"Values": ["first", "second", "third"]});
    let mut req = request(map_retry(), input.clone(), InspectionLevel::Debug);
    req.mock = mock_result(json!([1, 1, 1]));
    req.state_configuration.map_iteration_failure_count = Some(0);
    let r = run(&req);
    assert_eq!(r.status, TestStateStatus::Succeeded);
    assert_eq!(r.output, Some(json!([1, 1, 1])));
    let below = Inspection {
        input: Some(input.clone()),
        max_concurrency: Some(0),
        tolerated_failure_count: Some(1),
        ..Inspection::default()
    };
    assert_eq!(inspection(&r), below);
    req.mock = mock_result(json!([0, 0, 1]));
    req.state_configuration.map_iteration_failure_count = Some(2);
    let r = run(&req);
    assert_eq!(r.status, TestStateStatus::Retriable);
    assert_eq!(
        r.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    assert_eq!(
        r.cause.as_deref(),
        Some("The specified tolerated failure threshold was exceeded")
    );
    assert_eq!(
        inspection(&r),
        Inspection {
            error_details: Some(ErrorDetails {
                retry_index: Some(1),
                retry_backoff_interval_seconds: Some(1),
                catch_index: None,
            }),
            ..below
        }
    );
    // test_state_mock_validation:
    // test_map_iteration_failure_count_exceeds_mock_result_items
    req.state_configuration.map_iteration_failure_count = Some(4);
    assert_eq!(
        refused(&req),
        TestStateError::Validation(
            "Map iteration failure count must be less than or equal to the number of Map iterations".into()
        )
    );
}

// test_state_mock_validation (all validated on AWS).
#[test]
fn mocks_are_validated_as_aws_does() {
    let mut req = request(
        json!({"Type": "Pass", "End": true}),
        hello(),
        InspectionLevel::Info,
    );
    req.mock = mock_result(json!({}));
    // test_state_type_does_not_accept_mock[mock_result-PassState]
    assert_eq!(
        refused(&req),
        TestStateError::Validation(
            "State type 'Pass' is not supported when a mock is specified".into()
        )
    );
    // test_state_type_requires_mock[MapState]
    let req = request(map_retry(), hello(), InspectionLevel::Info);
    let e = refused(&req);
    assert_eq!(e.code(), "InvalidDefinition");
    assert_eq!(
        e.to_string(),
        "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]"
    );
    // test_both_mock_result_and_mock_error_output_are_set
    let mut req = request(lambda_invoke(), hello(), InspectionLevel::Info);
    req.mock = Some(Mock {
        result: Some("{}".into()),
        error_output: Some((Some("E".into()), None)),
        ..Mock::default()
    });
    assert_eq!(
        refused(&req).to_string(),
        "A test mock should have only one of the following fields: [result, errorOutput]."
    );
    // test_test_state_mock_scenarios: test_base_lambda_service_task_mock_is_not_json_string
    req.mock = Some(Mock {
        result: Some("not json".into()),
        ..Mock::default()
    });
    assert_eq!(
        refused(&req).to_string(),
        "Mocked result must be valid JSON"
    );
    // test_reveal_secrets_is_true_and_mock_result_is_set
    req.mock = mock_result(json!({}));
    req.reveal_secrets = true;
    assert_eq!(
        refused(&req).to_string(),
        "TestState does not support RevealSecrets when a mock is specified."
    );
    // test_test_state_scenarios: test_base_lambda_service_task_state_no_role_arn_validation
    let mut req = request(lambda_invoke(), hello(), InspectionLevel::Info);
    req.role_arn = None;
    assert_eq!(
        refused(&req),
        TestStateError::Validation("RoleArn must be specified when testing a Task state".into())
    );
    // Local rule: without a mock the service would be called, which sfn-local never does.
    req.role_arn = Some(ROLE.into());
    let e = refused(&req);
    assert_eq!(e.code(), "ValidationException");
    assert!(
        e.to_string().contains("needs a mock") && e.to_string().contains("lambda:invoke"),
        "{e}"
    );
}

// test_state_mock_validation: test_mock_result_array_size_mismatch_on_parallel_state,
// test_mock_result_is_not_array_on_parallel_state, test_parallel_state_empty_branches
#[test]
fn parallel_mocks_match_the_branches() {
    let def = json!({"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": true}}},
        {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": true}}}]});
    let mut req = request(def, hello(), InspectionLevel::Info);
    req.mock = mock_result(json!([1]));
    assert_eq!(
        refused(&req).to_string(),
        "Mocked result must contain the same number of items as number of Parallel branches."
    );
    req.mock = mock_result(json!({"a": 1}));
    assert_eq!(refused(&req).to_string(), "Mocked result must be an array.");
    let empty = json!({"Type": "Parallel", "End": true, "Branches": []});
    let mut req = request(empty, hello(), InspectionLevel::Info);
    req.mock = mock_result(json!([]));
    assert_eq!(
        refused(&req),
        TestStateError::InvalidDefinition(
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/StateName/Branches'".into()
        )
    );
}

// test_field_validation_mode: test_strict_mode_lambda_task[wrong_integer_type_string],
// test_strict_mode_sfn_task[missing_required_fields],
// test_strict_mode_mock_result_field_not_in_api_spec[field_not_part_of_api_spec];
// test_field_validation_mode_present / _none: the same results pass.
#[test]
fn field_validation_modes() {
    let input = json!({"FunctionName": "f", "Payload": null});
    let mut req = request(lambda_invoke(), input, InspectionLevel::Info);
    req.mock = mock_result(json!({"StatusCode": "200"}));
    assert_eq!(
        refused(&req).to_string(),
        "Mock result schema validation error: Field 'StatusCode' must be a number"
    );
    req.mock = mock_result(json!({"random": "json"}));
    assert_eq!(run(&req).output, Some(json!({"random": "json"})));
    let start = json!({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:111111111111:stateMachine:T"},
        "End": true});
    let mut req = request(start, hello(), InspectionLevel::Info);
    req.mock = mock_result(json!({}));
    assert_eq!(
        refused(&req).to_string(),
        "Mock result schema validation error: Required field 'ExecutionArn' is missing"
    );
    for mode in [FieldValidationMode::Present, FieldValidationMode::None] {
        req.mock = Some(Mock {
            result: Some("{}".into()),
            field_validation_mode: mode,
            ..Mock::default()
        });
        assert_eq!(run(&req).output, Some(json!({})), "{mode:?}");
    }
}

// test_state_context_object: test_state_context_object_edge_cases[EMPTY] and
// test_state_context_object_validation_failures[INVALID_MAP] / [INVALID_FIELD]
#[test]
fn context_replaces_the_context_object() {
    let def = json!({"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": true});
    let mut req = request(def, hello(), InspectionLevel::Info);
    req.context = Some("{}".into());
    assert_eq!(run(&req).output, Some(json!({"ctx": {}})));
    req.context = Some(r#"{"Map": {}}"#.into());
    assert_eq!(
        refused(&req).to_string(),
        "Invalid Context object provided: 'Map' field is not supported when mocking a Context object"
    );
    req.context = Some(r#"{"Pokedex": {}}"#.into());
    assert_eq!(
        refused(&req).to_string(),
        "Invalid Context object provided: Field 'Pokedex' is not allowed"
    );
}

// test_test_state_scenarios: test_state_with_variables[base_expressions] reports the
// variables in the inspection data; a JSONPath state reads them too.
#[test]
fn variables_are_in_scope_and_reported() {
    let def = json!({"Type": "Pass", "Parameters": {"v.$": "$var_input_value"}, "End": true});
    let mut req = request(def, hello(), InspectionLevel::Debug);
    req.variables = Some(r#"{"var_input_value": "test_value", "var_constant_1": 10}"#.into());
    let r = run(&req);
    assert_eq!(r.output, Some(json!({"v": "test_value"})));
    let vars = inspection(&r).variables.map(Value::Object);
    assert_eq!(
        vars,
        Some(json!({"var_input_value": "test_value", "var_constant_1": 10}))
    );
}
