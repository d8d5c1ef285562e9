//! SAM features beyond the repo's own template: inline definitions,
//! Globals merging, HTTP APIs, explicit names, notices.

use std::path::Path;

use cfn_template::{
    FunctionCode, LocalEnvironment, Notice, ParameterOverrides, Stack, TemplateError,
};
use serde_json::json;

fn load(yaml: &str) -> Result<Stack, TemplateError> {
    Stack::from_yaml_str(
        yaml,
        Path::new("/srv/app"),
        &LocalEnvironment::new("demo").with_http_api_url("http://127.0.0.1:9000/"),
        &ParameterOverrides::new(),
    )
}

#[test]
fn inline_definition_with_intrinsics_and_substitutions() -> Result<(), TemplateError> {
    let stack = load(
        r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Wait: {Type: Number, Default: 7}
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/worker, FunctionName: !Sub '${AWS::StackName}-worker'}
  Sm:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: my-machine
      Type: EXPRESS
      Role: arn:aws:iam::123456789012:role/explicit
      DefinitionSubstitutions:
        WorkerArn: !GetAtt Worker.Arn
      Definition:
        StartAt: Pause
        States:
          Pause: {Type: Wait, Seconds: !Ref Wait, Next: Work}
          Work:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters: {FunctionName: '${WorkerArn}', Other: '${Unknown}'}
            End: true
"#,
    )?;
    let sm = &stack.state_machines[0];
    assert_eq!(sm.name, "my-machine");
    assert_eq!(
        sm.arn,
        "arn:aws:states:us-east-1:123456789012:stateMachine:my-machine"
    );
    assert_eq!(sm.role_arn, "arn:aws:iam::123456789012:role/explicit");
    assert_eq!(sm.machine_type.to_string(), "EXPRESS");
    assert_eq!(sm.definition_path, None);
    // Parameters are strings when referenced.
    assert_eq!(
        sm.definition.pointer("/States/Pause/Seconds"),
        Some(&json!("7"))
    );
    assert_eq!(
        sm.definition
            .pointer("/States/Work/Parameters/FunctionName"),
        Some(&json!(
            "arn:aws:lambda:us-east-1:123456789012:function:demo-worker"
        ))
    );
    assert_eq!(
        sm.definition.pointer("/States/Work/Parameters/Other"),
        Some(&json!("${Unknown}"))
    );
    assert!(stack.notices.contains(&Notice::UnsubstitutedPlaceholder {
        logical_id: "Sm".into(),
        placeholder: "${Unknown}".into(),
    }));

    let f = &stack.functions[0];
    assert_eq!(f.name, "demo-worker");
    assert_eq!(
        f.code,
        FunctionCode::Dir(Path::new("/srv/app/functions/worker").to_owned())
    );
    assert_eq!(f.binary.as_deref(), Some("worker"));
    // Lambda's defaults when neither the function nor Globals set them.
    assert_eq!(f.timeout_seconds, 3);
    assert_eq!(f.memory_mb, 128);
    assert_eq!(f.architectures, ["x86_64"]);
    assert_eq!(f.log_format, "Text");
    Ok(())
}

#[test]
fn globals_merge_per_sam_rules() -> Result<(), TemplateError> {
    let stack = load(
        r#"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 10
    Architectures: [arm64]
    Environment:
      Variables: {SHARED: g, OVERRIDDEN: g}
    Layers: [global-layer]
Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: a
      Timeout: 20
      Architectures: [x86_64]
      Layers: [local-layer]
      Environment:
        Variables: {OVERRIDDEN: l, OWN: !Ref AWS::Region, DROPPED: !Ref AWS::NoValue}
  B:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: b
      AutoPublishAlias: live
      LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: DEBUG, SystemLogLevel: WARN}
"#,
    )?;
    let a = &stack.functions[0];
    assert_eq!(a.timeout_seconds, 20);
    assert_eq!(a.architectures, ["x86_64"]);
    let env: Vec<(&str, &str)> = a
        .environment
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        env,
        [("OVERRIDDEN", "l"), ("OWN", "us-east-1"), ("SHARED", "g")]
    );
    assert_eq!(
        a.properties.get("Layers"),
        Some(&json!(["global-layer", "local-layer"]))
    );
    let b = &stack.functions[1];
    assert_eq!(b.timeout_seconds, 10);
    assert_eq!(b.architectures, ["arm64"]);
    assert_eq!(b.environment.len(), 2);
    assert_eq!(b.alias.as_deref(), Some("live"));
    assert_eq!(b.log_format, "JSON");
    assert_eq!(b.application_log_level.as_deref(), Some("DEBUG"));
    assert_eq!(b.system_log_level.as_deref(), Some("WARN"));
    assert_eq!(a.alias, None);
    assert_eq!(a.application_log_level, None);
    Ok(())
}

#[test]
fn http_api_routes_and_endpoint() -> Result<(), TemplateError> {
    let stack = load(
        r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  ReviewApi:
    Type: AWS::Serverless::HttpApi
    Properties: {StageName: prod}
  Answer:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/answer
      Environment:
        Variables:
          API_URL: !GetAtt ReviewApi.ApiEndpoint
          API_ID: !Ref ReviewApi
      Events:
        Approve:
          Type: HttpApi
          Properties: {ApiId: !Ref ReviewApi, Path: '/reviews/{token}/approve', Method: post}
        Nightly:
          Type: Schedule
          Properties: {Schedule: rate(1 day)}
  Health:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/health
      Events:
        Get:
          Type: HttpApi
          Properties: {Path: /health, Method: GET, PayloadFormatVersion: '1.0'}
Outputs:
  Url:
    Value: !Sub 'https://${ReviewApi}.execute-api.${AWS::Region}.amazonaws.com'
  Implicit:
    Value: !GetAtt ServerlessHttpApi.ApiEndpoint
"#,
    )?;
    assert_eq!(stack.http_apis.len(), 2);
    let api = &stack.http_apis[0];
    assert_eq!(api.logical_id, "ReviewApi");
    assert_eq!(api.endpoint, "http://127.0.0.1:9000");
    assert_eq!(api.stage_name, "prod");
    assert_eq!(api.api_id.len(), 10);
    assert_eq!(api.routes.len(), 1);
    assert_eq!(api.routes[0].method, "POST");
    assert_eq!(api.routes[0].path, "/reviews/{token}/approve");
    assert_eq!(api.routes[0].function, "Answer");
    assert_eq!(api.routes[0].payload_format_version, "2.0");
    let answer = &stack.functions[0];
    assert_eq!(
        answer.environment.get("API_URL").map(String::as_str),
        Some("http://127.0.0.1:9000")
    );
    assert_eq!(answer.environment.get("API_ID"), Some(&api.api_id));

    let implicit = &stack.http_apis[1];
    assert_eq!(implicit.logical_id, "ServerlessHttpApi");
    assert_eq!(implicit.routes[0].function, "Health");
    assert_eq!(implicit.routes[0].payload_format_version, "1.0");
    assert_eq!(
        stack.output("Implicit").map(|o| o.value.as_str()),
        Some("http://127.0.0.1:9000")
    );

    assert!(
        stack
            .notices
            .iter()
            .any(|n| matches!(n, Notice::IgnoredEvent { event, .. } if event == "Nightly"))
    );
    Ok(())
}

#[test]
fn json_template_with_long_forms() -> Result<(), TemplateError> {
    let stack = load(
        r#"{
  "Transform": ["AWS::Serverless-2016-10-31"],
  "Parameters": {"Names": {"Type": "CommaDelimitedList", "Default": "a,b"}},
  "Conditions": {"Yes": {"Fn::Equals": [{"Fn::Select": [0, {"Ref": "Names"}]}, "a"]}},
  "Resources": {
    "T": {"Type": "AWS::SNS::Topic", "Properties": {
      "TopicName": {"Fn::Join": ["-", {"Ref": "Names"}]},
      "FifoTopic": {"Fn::If": ["Yes", false, true]},
      "DisplayName": {"Fn::If": ["Yes", {"Ref": "AWS::NoValue"}, "no"]}
    }},
    "Q": {"Type": "AWS::SQS::Queue"},
    "S": {"Type": "AWS::SNS::Subscription", "Properties": {
      "TopicArn": {"Fn::GetAtt": ["T", "TopicArn"]}, "Protocol": "sqs",
      "Endpoint": {"Fn::GetAtt": ["Q", "Arn"]}, "RawMessageDelivery": "true"
    }}
  }
}"#,
    )?;
    let t = &stack.topics[0];
    assert_eq!(t.name, "a-b");
    assert_eq!(t.arn, "arn:aws:sns:us-east-1:123456789012:a-b");
    assert!(!t.fifo);
    assert_eq!(t.display_name, None);
    assert_eq!(
        stack.parameters.get("Names").map(String::as_str),
        Some("a,b")
    );
    let s = &stack.subscriptions[0];
    assert_eq!(s.topic_arn, t.arn);
    assert!(
        s.endpoint
            .starts_with("arn:aws:sqs:us-east-1:123456789012:demo-Q-")
    );
    assert!(s.raw_message_delivery);
    assert_eq!(stack.subscriptions_of(&t.arn).len(), 1);
    assert_eq!(stack.skipped.len(), 1);
    Ok(())
}

#[test]
fn misspelt_properties_are_pointed_out() -> Result<(), TemplateError> {
    let stack = load(
        r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: f, Timout: 30, SomethingNew: 1}
"#,
    )?;
    assert_eq!(stack.functions[0].timeout_seconds, 3);
    let lines: Vec<String> = stack.notices.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "F: property Timout is not known (did you mean Timeout?); local mode ignores it and deploying would fail"
        ]
    );
    Ok(())
}

#[test]
fn the_stack_serialises_for_a_dump() -> Result<(), TemplateError> {
    let stack = load(
        r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Sm:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {StartAt: A, States: {A: {Type: Succeed}}}
  K: {Type: AWS::KMS::Key}
"#,
    )?;
    let dump = serde_json::to_value(&stack).map_err(|e| TemplateError::Section {
        section: "(test)".into(),
        message: e.to_string(),
    })?;
    assert_eq!(
        dump.pointer("/state_machines/0/machine_type"),
        Some(&json!("STANDARD"))
    );
    assert_eq!(dump.pointer("/notices/0/kind"), Some(&json!("skipped")));
    assert_eq!(dump.pointer("/env/stack_name"), Some(&json!("demo")));
    Ok(())
}

#[test]
fn errors_can_cross_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<TemplateError>();
    assert_send_sync::<Stack>();
}

#[test]
fn plain_cloudformation_state_machine() -> Result<(), TemplateError> {
    use cfn_template::Access;

    let stack = load(
        r#"
Resources:
  Role: {Type: AWS::IAM::Role}
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: plain
      StateMachineType: EXPRESS
      RoleArn: !GetAtt Role.Arn
      DefinitionString: !Sub |
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "${AWS::Region}/${!Greeting}", "End": true}}}
      DefinitionSubstitutions:
        Greeting: hello
"#,
    )?;
    let sm = &stack.state_machines[0];
    assert_eq!(sm.name, "plain");
    assert_eq!(sm.machine_type.to_string(), "EXPRESS");
    assert!(
        sm.role_arn
            .starts_with("arn:aws:iam::123456789012:role/demo-Role-")
    );
    assert_eq!(
        sm.definition.pointer("/States/A/Result"),
        Some(&json!("us-east-1/hello"))
    );
    assert_eq!(
        sm.policy.allows("lambda:InvokeFunction", "arn:x"),
        Access::Unknown
    );
    assert_eq!(stack.skipped.len(), 1);
    Ok(())
}

#[test]
fn sns_events_subscribe_the_function() -> Result<(), TemplateError> {
    let stack = load(
        r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Decisions: {Type: AWS::SNS::Topic}
  Audit:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/audit
      Events:
        OnDecision:
          Type: SNS
          Properties:
            Topic: !Ref Decisions
            FilterPolicy: {approved: [true]}
"#,
    )?;
    let topic = stack
        .topic("Decisions")
        .map(|t| t.arn.clone())
        .unwrap_or_default();
    let audit = stack
        .function("Audit")
        .map(|f| f.arn.clone())
        .unwrap_or_default();
    let subs = stack.subscriptions_of(&topic);
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].protocol, "lambda");
    assert_eq!(subs[0].endpoint, audit);
    let sub = &stack.subscriptions[0];
    assert_eq!(sub.logical_id, "AuditOnDecision");
    assert_eq!(sub.filter_policy, Some(json!({"approved": [true]})));
    assert!(stack.notices.is_empty(), "{:?}", stack.notices);
    Ok(())
}
