//! `template.yaml`: the contract of the deployable stack that cfn-lint and
//! checkov do not check.

use std::collections::BTreeSet;

use serde_yaml_ng::Value;
use workflow_tests::{placeholders, read, template};

fn resource(name: &str) -> Value {
    template()["Resources"][name].clone()
}

#[test]
fn definition_substitutions_match_the_asl_placeholders() {
    let machine = resource("HumanReviewStateMachine");
    let properties = &machine["Properties"];
    assert_eq!(properties["Type"], Value::from("STANDARD"));
    assert_eq!(
        properties["DefinitionUri"],
        Value::from("statemachine/human_in_the_loop.asl.json")
    );
    let provided: BTreeSet<String> = properties["DefinitionSubstitutions"]
        .as_mapping()
        .unwrap()
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    let used = placeholders(&read("statemachine/human_in_the_loop.asl.json"));
    assert_eq!(provided, used);
}

#[test]
fn execution_data_stays_out_of_the_logs_because_it_holds_task_tokens() {
    let logging = &resource("HumanReviewStateMachine")["Properties"]["Logging"];
    assert_eq!(logging["IncludeExecutionData"], Value::from(false));
    let tracing = &resource("HumanReviewStateMachine")["Properties"]["Tracing"];
    assert_eq!(tracing["Enabled"], Value::from(true));
}

#[test]
fn functions_are_rust_on_arm64_built_by_cargo_lambda_with_json_logs() {
    let globals = &template()["Globals"]["Function"];
    assert_eq!(globals["Runtime"], Value::from("provided.al2023"));
    assert_eq!(globals["Architectures"][0], Value::from("arm64"));
    assert_eq!(globals["Handler"], Value::from("bootstrap"));
    assert_eq!(globals["Tracing"], Value::from("Active"));
    for (name, binary) in [
        ("ProcessApprovalFunction", "process_approval"),
        ("ProcessRejectionFunction", "process_rejection"),
    ] {
        let function = resource(name);
        assert_eq!(
            function["Metadata"]["BuildMethod"],
            Value::from("rust-cargolambda")
        );
        assert_eq!(
            function["Metadata"]["BuildProperties"]["Binary"],
            Value::from(binary)
        );
        // The binary must exist in the workspace under that name.
        let manifest = read(&format!("functions/{binary}/Cargo.toml"));
        assert!(manifest.contains(&format!("name = \"{binary}\"")));
        let properties = &function["Properties"];
        assert_eq!(
            properties["LoggingConfig"]["LogFormat"],
            Value::from("JSON")
        );
        assert!(matches!(
            properties["Environment"]["Variables"]["DECISION_TOPIC_ARN"],
            Value::Tagged(_)
        ));
    }
}

#[test]
fn topics_are_encrypted_and_the_decision_email_is_optional() {
    for topic in ["ReviewTopic", "DecisionTopic"] {
        assert!(
            !resource(topic)["Properties"]["KmsMasterKeyId"].is_null(),
            "{topic} must be encrypted"
        );
    }
    let subscription = &resource("ReviewTopic")["Properties"]["Subscription"][0];
    assert_eq!(subscription["Protocol"], Value::from("email"));
    assert_eq!(
        resource("DecisionEmailSubscription")["Condition"],
        Value::from("HasDecisionEmail")
    );
    let parameters = &template()["Parameters"];
    assert_eq!(parameters["DecisionEmail"]["Default"], Value::from(""));
    assert_eq!(
        parameters["ReviewTimeoutSeconds"]["Default"],
        Value::from(259200)
    );
    assert!(
        parameters["ReviewerEmail"].get("Default").is_none(),
        "required"
    );
}

#[test]
fn no_resource_has_a_fixed_name_so_stacks_deploy_side_by_side() {
    let text = read("template.yaml");
    for fixed in [
        "TopicName:",
        "FunctionName:",
        "StateMachineName:",
        "AlarmName:",
    ] {
        for line in text
            .lines()
            .filter(|line| line.trim_start().starts_with(fixed))
        {
            // Policy templates take the generated name as a parameter.
            assert!(
                line.contains("!GetAtt") || line.contains("!Ref"),
                "fixed name: {line}"
            );
        }
    }
    let log_group = &resource("StateMachineLogGroup")["Properties"]["LogGroupName"];
    let name = format!("{log_group:?}");
    assert!(
        name.contains("/aws/vendedlogs/states/") && name.contains("${AWS::StackName}"),
        "{name}"
    );
}

#[test]
fn alarms_watch_failed_and_timed_out_executions_and_notify_the_decision_topic() {
    let mut metrics = BTreeSet::new();
    for (_, resource) in template()["Resources"].as_mapping().unwrap() {
        if resource["Type"] == "AWS::CloudWatch::Alarm" {
            let properties = &resource["Properties"];
            metrics.insert(properties["MetricName"].as_str().unwrap().to_owned());
            assert!(format!("{:?}", properties["AlarmActions"][0]).contains("DecisionTopic"));
        }
    }
    assert_eq!(
        metrics,
        BTreeSet::from([
            "ExecutionsFailed".to_owned(),
            "ExecutionsTimedOut".to_owned()
        ])
    );
}

#[test]
fn outputs_name_the_state_machine_its_console_url_and_both_topics() {
    let outputs = template()["Outputs"].clone();
    for key in [
        "StateMachineArn",
        "StateMachineConsoleUrl",
        "ReviewTopicArn",
        "DecisionTopicArn",
    ] {
        assert!(!outputs[key]["Value"].is_null(), "missing output {key}");
    }
}
