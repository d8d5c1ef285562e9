//! `TestState`: one state, alone or named in a whole definition, run on an input with
//! variables, a context object, a mocked task outcome and a state configuration.
//!
//! Contract: [`test_state`] is pure (no I/O, no clock; the caller passes `now_ms` and
//! the names in the context object). It validates the request as AWS does, with AWS's
//! error codes and messages where they are recorded (LocalStack's AWS-validated
//! snapshots `tests/aws/services/stepfunctions/v2/test_state/*.snapshot.json`, cited
//! by file and key below), then runs the state with the interpreter's own code
//! ([`crate::interp::single`]): the same InputPath, Parameters/Arguments,
//! ResultSelector, ResultPath, OutputPath, Assign, Retry and Catch, each step recorded
//! in [`Inspection`].
//!
//! * A state given alone is named `StateName`, as AWS names it (its messages say
//!   `at /States/StateName/...` and `$$.State.Name` is `StateName`).
//! * Status: `SUCCEEDED` (with `nextState` unless the state ends), `FAILED`,
//!   `RETRIABLE` (a retrier matched and has attempts left: `errorDetails.retryIndex`
//!   and `retryBackoffIntervalSeconds`; no output) or `CAUGHT_ERROR` (a catcher
//!   matched: `errorDetails.catchIndex`, its output and `nextState`).
//! * Task, Map and Parallel states take the mock as the outcome of the work they would
//!   start. AWS calls the service for real when a Task has no mock; this engine never
//!   calls anything, so a Task without a mock is refused with a message that says so.
//!   Map and Parallel states require a mock on AWS too.
//! * A Wait state does not wait.
//! * `fieldValidationMode` (default `STRICT`) checks a mocked result against the
//!   response shapes of the integrations this project uses (`lambda:invoke`,
//!   `sns:publish`, `states:startExecution`); results of other resources are not
//!   checked (AWS checks them against every service's API model).
//! * Not supported: `mapItemReaderData` (the engine refuses `ItemReader`), HTTP Task
//!   request/response at `TRACE` (no HTTP Task runs locally).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::definition::{Definition, Kind};
pub use crate::inspection::{ErrorDetails, Inspection, TestStateError};
use crate::interp::ExecInfo;
use crate::interp::single::{Mocked, Single, run_one};

/// `inspectionLevel`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InspectionLevel {
    #[default]
    Info,
    Debug,
    Trace,
}

/// `mock.fieldValidationMode`; AWS's default is `STRICT` (API reference, MockInput).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldValidationMode {
    #[default]
    Strict,
    Present,
    None,
}

/// `mock`: a result (JSON text) or an error output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mock {
    pub result: Option<String>,
    pub error_output: Option<(Option<String>, Option<String>)>,
    pub field_validation_mode: FieldValidationMode,
}

/// `stateConfiguration`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateConfiguration {
    pub retrier_retry_count: Option<u32>,
    pub error_caused_by_state: Option<String>,
    pub map_iteration_failure_count: Option<u64>,
    pub map_item_reader_data: Option<String>,
}

/// One TestState request. JSON members (`input`, `variables`, `context`) are the text
/// the client sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestStateRequest {
    pub definition: String,
    pub state_name: Option<String>,
    pub role_arn: Option<String>,
    pub input: Option<String>,
    pub variables: Option<String>,
    pub context: Option<String>,
    pub inspection_level: InspectionLevel,
    pub reveal_secrets: bool,
    pub mock: Option<Mock>,
    pub state_configuration: StateConfiguration,
}

/// Names for the context object (`$$.Execution`, `$$.StateMachine`); AWS makes up an
/// express execution of a made-up state machine for each call.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    pub region: String,
    pub account: String,
    pub state_machine_name: String,
    pub execution_name: String,
    pub now_ms: i64,
}

/// `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStateStatus {
    Succeeded,
    Failed,
    Retriable,
    CaughtError,
}

impl TestStateStatus {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStateStatus::Succeeded => "SUCCEEDED",
            TestStateStatus::Failed => "FAILED",
            TestStateStatus::Retriable => "RETRIABLE",
            TestStateStatus::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// What the state did.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStateResult {
    pub status: TestStateStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub next_state: Option<String>,
    /// `None` at `INFO`.
    pub inspection: Option<Inspection>,
}

impl TestStateResult {
    /// The TestState response body.
    pub fn to_wire(&self) -> Value {
        let mut m = Map::new();
        m.insert("status".into(), self.status.as_str().into());
        if let Some(o) = &self.output {
            m.insert("output".into(), crate::history::json_text(o).into());
        }
        if let Some(e) = &self.error {
            m.insert("error".into(), e.clone().into());
        }
        if let Some(c) = &self.cause {
            m.insert("cause".into(), c.clone().into());
        }
        if let Some(n) = &self.next_state {
            m.insert("nextState".into(), n.clone().into());
        }
        if let Some(i) = &self.inspection {
            m.insert("inspectionData".into(), i.to_wire());
        }
        Value::Object(m)
    }
}

fn invalid(msg: impl Into<String>) -> TestStateError {
    TestStateError::Validation(msg.into())
}

/// The name AWS gives a state tested alone.
pub const SINGLE_STATE_NAME: &str = "StateName";

/// Runs one state as TestState does.
pub fn test_state(
    req: &TestStateRequest,
    env: &Environment,
) -> Result<TestStateResult, TestStateError> {
    let (def, name) = definition(req)?;
    let Some(st) = def.states.get(&name) else {
        // Recorded on AWS: `test_test_state_machine_scenarios`,
        // `test_base_state_name_validation_failures[dne]`.
        return Err(invalid("State not found in definition"));
    };
    let input: Value = match &req.input {
        None => json!({}),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            TestStateError::InvalidExecutionInput(format!("Invalid Execution Input: {e}"))
        })?,
    };
    let variables = match &req.variables {
        None => Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(m)) => m,
            _ => return Err(invalid("Variables must be a valid JSON object")),
        },
    };
    let mock = check_mock(req, st)?;
    let context = req
        .context
        .as_deref()
        .map(|text| check_context(text, st))
        .transpose()?;
    if req
        .state_configuration
        .map_iteration_failure_count
        .is_some()
        && mock.is_none()
    {
        // Recorded on AWS: `test_state_mock_validation`,
        // `test_map_iteration_failure_count_without_mock`.
        return Err(invalid(
            "TestState does not support MapIterationFailureCount when a mock is not specified.",
        ));
    }
    if req.state_configuration.map_item_reader_data.is_some() {
        return Err(invalid(
            "mapItemReaderData is not supported by sfn-local's TestState yet: run the Map state in an execution to read its ItemReader",
        ));
    }
    let execution_arn = format!(
        "arn:aws:states:{}:{}:express:{}:{}",
        env.region, env.account, env.state_machine_name, env.execution_name
    );
    let state_machine_arn = format!(
        "arn:aws:states:{}:{}:stateMachine:{}",
        env.region, env.account, env.state_machine_name
    );
    // `$$.Execution` as recorded on AWS (`test_test_state_scenarios`,
    // `test_state_with_variables[base_expressions]`): an express execution ARN, and a
    // null RoleArn when the request has none.
    let statics = (
        json!({
            "Id": execution_arn,
            "Input": input,
            "StartTime": crate::interp::iso_time(env.now_ms),
            "Name": env.execution_name,
            "RoleArn": req.role_arn,
            "RedriveCount": 0,
        }),
        json!({"Id": state_machine_arn, "Name": env.state_machine_name}),
    );
    let info = ExecInfo {
        execution_arn,
        name: env.execution_name.clone(),
        state_machine_arn,
        state_machine_name: env.state_machine_name.clone(),
        role_arn: req.role_arn.clone().unwrap_or_default(),
        start_ms: env.now_ms,
        input: input.clone(),
        token_prefix: String::new(),
    };
    let single = Single {
        inspection: Inspection {
            input: Some(input),
            ..Inspection::default()
        },
        context,
        retrier_retry_count: req.state_configuration.retrier_retry_count.unwrap_or(0),
        ..Single::default()
    };
    let (exec, single) = run_one(
        &def,
        &name,
        info,
        statics,
        variables.clone(),
        single,
        mock,
        req.state_configuration.map_iteration_failure_count,
        env.now_ms,
    )?;
    let mut inspection = single.inspection;
    // AWS reports the variables the state saw or set when there are any (recorded:
    // `test_state_with_variables[base_expressions]`).
    inspection.variables = single
        .variables
        .filter(|v| !v.is_empty())
        .or((!variables.is_empty()).then_some(variables));
    let caught = exec.status == crate::Status::Succeeded && single.failure.is_some();
    let (status, output, error, cause, next_state) = if single.retriable {
        let (error, cause) = single.failure.unwrap_or_default();
        (TestStateStatus::Retriable, None, error, cause, None)
    } else if caught {
        let (error, cause) = single.failure.unwrap_or_default();
        (
            TestStateStatus::CaughtError,
            exec.output,
            error,
            cause,
            single.next_state,
        )
    } else if exec.status == crate::Status::Succeeded {
        (
            TestStateStatus::Succeeded,
            exec.output,
            None,
            None,
            single.next_state,
        )
    } else {
        (TestStateStatus::Failed, None, exec.error, exec.cause, None)
    };
    Ok(TestStateResult {
        status,
        output,
        error,
        cause,
        next_state,
        inspection: (req.inspection_level != InspectionLevel::Info).then_some(inspection),
    })
}

/// The definition to run and the name of the state under test.
fn definition(req: &TestStateRequest) -> Result<(Definition, String), TestStateError> {
    let bad = |e: crate::DefinitionError| TestStateError::InvalidDefinition(e.message);
    let value: Value = serde_json::from_str(&req.definition).map_err(|e| {
        TestStateError::InvalidDefinition(format!(
            "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {e}'"
        ))
    })?;
    if value.get("States").is_some() {
        let def = Definition::parse(&value).map_err(bad)?;
        // Without a stateName, the machine's first state.
        let name = req.state_name.clone().unwrap_or(def.start_at.clone());
        return Ok((def, name));
    }
    // A state alone: wrap it in a machine where every state it can go to is a Succeed
    // state, so the transitions validate and the run stops there.
    let mut targets = BTreeSet::new();
    let mut add = |v: Option<&Value>| {
        if let Some(Value::String(s)) = v
            && s != SINGLE_STATE_NAME
        {
            targets.insert(s.clone());
        }
    };
    add(value.get("Next"));
    add(value.get("Default"));
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(items)) = value.get(list) {
            for item in items {
                add(item.get("Next"));
            }
        }
    }
    let mut states = Map::new();
    states.insert(SINGLE_STATE_NAME.into(), value);
    for t in targets {
        states.insert(t, json!({"Type": "Succeed"}));
    }
    let machine = json!({"StartAt": SINGLE_STATE_NAME, "States": states});
    let def = Definition::parse(&machine).map_err(bad)?;
    Ok((def, SINGLE_STATE_NAME.to_owned()))
}

/// The mock, checked against the state as AWS checks it.
fn check_mock(
    req: &TestStateRequest,
    st: &crate::definition::State,
) -> Result<Option<Mocked>, TestStateError> {
    let children = matches!(st.kind, Kind::Map(_) | Kind::Parallel { .. });
    let Some(mock) = &req.mock else {
        if children {
            // Recorded on AWS: `test_state_mock_validation`,
            // `test_state_type_requires_mock[MapState]` / `[ParallelState]`.
            return Err(TestStateError::InvalidDefinition(
                "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]".into(),
            ));
        }
        if let Kind::Task(task) = &st.kind {
            if req.role_arn.is_none() {
                // Recorded on AWS: `test_test_state_scenarios`,
                // `test_base_lambda_service_task_state_no_role_arn_validation`.
                return Err(invalid(
                    "RoleArn must be specified when testing a Task state",
                ));
            }
            return Err(invalid(format!(
                "TestState in sfn-local needs a mock for a Task state: AWS would call '{}' for real, and sfn-local calls nothing. Give --mock '{{\"result\": \"<the result as JSON text>\"}}' or --mock '{{\"errorOutput\": {{\"error\": \"...\", \"cause\": \"...\"}}}}'",
                task.resource
            )));
        }
        return Ok(None);
    };
    if !matches!(st.kind, Kind::Task(_)) && !children {
        // Recorded on AWS: `test_state_mock_validation`,
        // `test_state_type_does_not_accept_mock[mock_result-PassState]` and the others.
        return Err(invalid(format!(
            "State type '{}' is not supported when a mock is specified",
            st.type_name()
        )));
    }
    if req.reveal_secrets {
        // Recorded on AWS: `test_reveal_secrets_is_true_and_mock_result_is_set`.
        return Err(invalid(
            "TestState does not support RevealSecrets when a mock is specified.",
        ));
    }
    match (&mock.result, &mock.error_output) {
        // Recorded on AWS: `test_both_mock_result_and_mock_error_output_are_set`.
        (Some(_), Some(_)) | (None, None) => Err(invalid(
            "A test mock should have only one of the following fields: [result, errorOutput].",
        )),
        (None, Some((error, cause))) => Ok(Some(Mocked::Error {
            error: error.clone().unwrap_or_default(),
            cause: cause.clone().unwrap_or_default(),
        })),
        (Some(text), None) => {
            // Recorded on AWS (`test_test_state_mock_scenarios`,
            // `test_base_lambda_service_task_mock_is_not_json_string`).
            let v: Value = serde_json::from_str(text)
                .map_err(|_| invalid("Mocked result must be valid JSON"))?;
            match &st.kind {
                // Recorded on AWS (`test_state_mock_validation`,
                // `test_mock_result_is_not_array_on_parallel_state`,
                // `test_mock_result_array_size_mismatch_on_parallel_state`,
                // `test_mock_result_is_not_array_on_map_state_without_result_writer`).
                Kind::Parallel { branches } => match &v {
                    Value::Array(items) if items.len() == branches.len() => {}
                    Value::Array(_) => {
                        return Err(invalid(
                            "Mocked result must contain the same number of items as number of Parallel branches.",
                        ));
                    }
                    _ => return Err(invalid("Mocked result must be an array.")),
                },
                Kind::Map(_) if !v.is_array() => {
                    return Err(invalid("Mocked result must be an array."));
                }
                Kind::Task(task) => check_fields(&task.resource, &v, mock.field_validation_mode)?,
                _ => {}
            }
            Ok(Some(Mocked::Result(v)))
        }
    }
}

/// A field of an integration's response: its name, type and whether it is required.
type FieldSpec = (&'static str, &'static str, bool);

/// Response shapes of the integrations this project uses, from the AWS API models
/// (Lambda `InvokeResponse`; SNS `PublishResponse`; Step Functions
/// `StartExecutionOutput`, whose `executionArn` and `startDate` are required and which
/// Step Functions returns with capitalised names). A `.waitForTaskToken` result is
/// what the callback sent, so it has no shape.
fn response_shape(resource: &str) -> Option<&'static [FieldSpec]> {
    match resource {
        "arn:aws:states:::lambda:invoke" => Some(&[
            ("StatusCode", "number", false),
            ("FunctionError", "string", false),
            ("LogResult", "string", false),
            ("ExecutedVersion", "string", false),
        ]),
        "arn:aws:states:::sns:publish" => Some(&[
            ("MessageId", "string", false),
            ("SequenceNumber", "string", false),
        ]),
        "arn:aws:states:::states:startExecution" => Some(&[
            ("ExecutionArn", "string", true),
            ("StartDate", "string", true),
        ]),
        _ => None,
    }
}

/// `fieldValidationMode`: STRICT checks required and present fields, PRESENT only the
/// present ones, NONE nothing. Messages recorded on AWS (`test_field_validation_mode`,
/// `test_strict_mode_lambda_task[wrong_integer_type_string]`,
/// `test_strict_mode_sfn_task[missing_required_fields]`); fields outside the shape
/// pass (`test_strict_mode_mock_result_field_not_in_api_spec`).
fn check_fields(
    resource: &str,
    v: &Value,
    mode: FieldValidationMode,
) -> Result<(), TestStateError> {
    let (Some(shape), Value::Object(m)) = (response_shape(resource), v) else {
        return Ok(());
    };
    if mode == FieldValidationMode::None {
        return Ok(());
    }
    for (name, ty, required) in shape {
        match m.get(*name) {
            None if *required && mode == FieldValidationMode::Strict => {
                return Err(invalid(format!(
                    "Mock result schema validation error: Required field '{name}' is missing"
                )));
            }
            None => {}
            Some(field) => {
                let ok = match *ty {
                    "number" => field.is_number(),
                    _ => field.is_string(),
                };
                if !ok {
                    return Err(invalid(format!(
                        "Mock result schema validation error: Field '{name}' must be a {ty}"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The request's `context`, checked as AWS checks it (messages recorded on AWS:
/// `test_state_context_object`, `test_state_context_object_validation_failures` and
/// `test_state_context_object_invalid_states[TOKEN_TASK_NOT_SYNC]`).
fn check_context(text: &str, st: &crate::definition::State) -> Result<Value, TestStateError> {
    let bad = |m: String| invalid(format!("Invalid Context object provided: {m}"));
    let v: Value = serde_json::from_str(text).map_err(|e| bad(format!("{e}")))?;
    let Value::Object(top) = &v else {
        return Err(bad("the context object must be a JSON object".into()));
    };
    let allowed: &[(&str, &[&str])] = &[
        (
            "Execution",
            &[
                "Id",
                "Input",
                "Name",
                "RoleArn",
                "StartTime",
                "RedriveCount",
                "RedriveTime",
            ],
        ),
        ("State", &["Name", "EnteredTime", "RetryCount"]),
        ("StateMachine", &["Id", "Name"]),
        ("Task", &["Token"]),
    ];
    for (key, value) in top {
        if key == "Map" {
            return Err(bad(
                "'Map' field is not supported when mocking a Context object".into(),
            ));
        }
        let Some((_, fields)) = allowed.iter().find(|(k, _)| k == key) else {
            return Err(bad(format!("Field '{key}' is not allowed")));
        };
        if key == "Task"
            && !matches!(&st.kind, Kind::Task(t)
                if t.resource.ends_with(".sync") || t.resource.ends_with(".waitForTaskToken"))
        {
            return Err(bad("Context object contains 'Task' when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern".into()));
        }
        if let Value::Object(inner) = value {
            for (field, fv) in inner {
                if !fields.contains(&field.as_str()) {
                    return Err(bad(format!("Field '{field}' is not allowed")));
                }
                let must_be_string = matches!(
                    field.as_str(),
                    "Id" | "Name" | "RoleArn" | "StartTime" | "EnteredTime" | "Token"
                );
                if must_be_string && !fv.is_string() {
                    return Err(bad(format!("{key}.{field} must be a string")));
                }
            }
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests;
