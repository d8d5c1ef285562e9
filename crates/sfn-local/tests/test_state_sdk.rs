//! TestState through the real `aws-sdk-sfn` client against an in-process server.
//!
//! The SDK puts the model's `sync-` host prefix on TestState's endpoint and has no
//! setting to turn it off (aws-sdk-sfn 1.125: `TestStateEndpointParamsInterceptor`
//! stores `EndpointPrefix::new("sync-")`, and aws-smithy-runtime's
//! `apply_endpoint_to_request` prepends it to any endpoint URL). [`NoHostPrefix`], the
//! interceptor docs/testing-with-teststate.md gives, strips it again before signing.

mod common;

use std::time::Duration;

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_sfn::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sfn::error::{BoxError, ProvideErrorMetadata};
use aws_sdk_sfn::types::{InspectionLevel, MockErrorOutput, MockInput, TestExecutionStatus};
use common::LocalServer;
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::123456789012:role/r";

/// Removes the `sync-` host prefix the SDK adds to TestState (and StartSyncExecution)
/// requests, so they reach a local endpoint.
#[derive(Debug)]
struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }

    fn modify_before_signing(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = ctx.request().uri().to_owned();
        if let Some((scheme, rest)) = uri.split_once("://sync-") {
            ctx.request_mut().set_uri(format!("{scheme}://{rest}"))?;
        }
        Ok(())
    }
}

async fn client(server: &LocalServer, strip_prefix: bool) -> Client {
    let conf = test_support::loopback_sdk_config(&server.url).await;
    let mut b = aws_sdk_sfn::config::Builder::from(&conf);
    if strip_prefix {
        b = b.interceptor(NoHostPrefix);
    }
    Client::from_conf(b.build())
}

fn json_of(text: Option<&str>) -> Value {
    serde_json::from_str(text.unwrap_or("null")).unwrap_or_else(|e| panic!("{e}: {text:?}"))
}

#[tokio::test]
async fn test_state_through_the_sdk() {
    let server = LocalServer::start("sdk-test-state").await;
    let sfn = client(&server, true).await;

    // A Choice state: expected values from LocalStack's AWS-validated snapshot
    // test_test_state_scenarios `test_base_inspection_level_debug[BASE_CHOICE_STATE]`.
    let choice = json!({"Type": "Choice", "Choices": [
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                 {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}],
        "Default": "DefaultState"});
    let input = json!({"type": "Private", "value": 22});
    let out = sfn
        .test_state()
        .definition(choice.to_string())
        .role_arn(ROLE)
        .input(input.to_string())
        .inspection_level(InspectionLevel::Debug)
        .send()
        .await
        .unwrap_or_else(|e| panic!("TestState: {e:?}"));
    assert_eq!(out.status(), Some(&TestExecutionStatus::Succeeded));
    assert_eq!(out.next_state(), Some("ValueInTwenties"));
    assert_eq!(json_of(out.output()), input);
    let data = out
        .inspection_data()
        .unwrap_or_else(|| panic!("no inspectionData"));
    assert_eq!(json_of(data.after_input_path()), input);

    // A Task whose mocked error is caught: test_test_state_scenarios
    // `test_state_task_catch_error[DEBUG]` (catchIndex 0, nextState HandleMockError).
    let task = json!({"QueryLanguage": "JSONata", "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "Catch": [{"ErrorEquals": ["MockException"], "Output": "{% $states.errorOutput %}",
                   "Next": "HandleMockError"}],
        "End": true});
    let error = MockErrorOutput::builder()
        .error("MockException")
        .cause("Mock the cause of the error.")
        .build();
    let out = sfn
        .test_state()
        .definition(task.to_string())
        .role_arn(ROLE)
        .input("{}")
        .inspection_level(InspectionLevel::Debug)
        .mock(MockInput::builder().error_output(error).build())
        .send()
        .await
        .unwrap_or_else(|e| panic!("TestState: {e:?}"));
    assert_eq!(out.status(), Some(&TestExecutionStatus::CaughtError));
    assert_eq!(out.error(), Some("MockException"));
    assert_eq!(out.next_state(), Some("HandleMockError"));
    assert_eq!(
        json_of(out.output()),
        json!({"Error": "MockException", "Cause": "Mock the cause of the error."})
    );
    let details = out
        .inspection_data()
        .and_then(|d| d.error_details())
        .unwrap_or_else(|| panic!("no errorDetails"));
    assert_eq!(details.catch_index(), Some(0));

    // A mock on a Pass state: AWS's ValidationException (test_state_mock_validation
    // `test_state_type_does_not_accept_mock[mock_result-PassState]`).
    let err = sfn
        .test_state()
        .definition(json!({"Type": "Pass", "End": true}).to_string())
        .mock(MockInput::builder().result("{}").build())
        .send()
        .await
        .err()
        .map(|e| e.into_service_error())
        .unwrap_or_else(|| panic!("a mock on a Pass state was accepted"));
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("State type 'Pass' is not supported when a mock is specified")
    );
}

#[tokio::test]
async fn without_the_interceptor_the_prefixed_host_is_not_reached() {
    let server = LocalServer::start("sdk-test-state-prefix").await;
    let sfn = client(&server, false).await;
    let call = sfn
        .test_state()
        .definition(json!({"Type": "Pass", "End": true}).to_string())
        .send();
    // `sync-127.0.0.1` does not resolve; a resolver that hangs instead counts too.
    match tokio::time::timeout(Duration::from_secs(30), call).await {
        Ok(Ok(out)) => panic!("the prefixed host answered: {out:?}"),
        Ok(Err(e)) => assert!(
            format!("{e:?}").contains("sync-127.0.0.1") || e.as_service_error().is_none(),
            "{e:?}"
        ),
        Err(_) => {}
    }
}
