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

/// The tag and value of a short-form intrinsic (`!GetAtt A.B` -> ("GetAtt", "A.B")).
fn intrinsic(value: &Value) -> (String, String) {
    match value {
        Value::Tagged(tagged) => (
            tagged.tag.to_string().trim_start_matches('!').to_owned(),
            tagged.value.as_str().unwrap_or_default().to_owned(),
        ),
        other => panic!("not a short-form intrinsic: {other:?}"),
    }
}

#[test]
fn the_email_links_point_at_the_review_api_endpoint() {
    let substitutions =
        &resource("HumanReviewStateMachine")["Properties"]["DefinitionSubstitutions"];
    assert_eq!(
        intrinsic(&substitutions["ReviewApiEndpoint"]),
        ("GetAtt".to_owned(), "ReviewApi.ApiEndpoint".to_owned())
    );
    assert_eq!(
        resource("ReviewApi")["Type"],
        Value::from("AWS::Serverless::HttpApi")
    );
}

#[test]
fn the_review_page_serves_get_and_post_review_with_payload_2_and_throttling() {
    let function = resource("ReviewFunction");
    assert_eq!(
        function["Metadata"]["BuildMethod"],
        Value::from("rust-cargolambda")
    );
    assert_eq!(
        function["Metadata"]["BuildProperties"]["Binary"],
        Value::from("review_page")
    );
    let manifest = read("functions/review_page/Cargo.toml");
    assert!(manifest.contains("name = \"review_page\""));
    let properties = &function["Properties"];
    assert_eq!(
        properties["LoggingConfig"]["LogFormat"],
        Value::from("JSON")
    );
    let mut routes = BTreeSet::new();
    for (_, event) in properties["Events"].as_mapping().unwrap() {
        assert_eq!(event["Type"], Value::from("HttpApi"));
        let event = &event["Properties"];
        assert_eq!(
            intrinsic(&event["ApiId"]),
            ("Ref".to_owned(), "ReviewApi".to_owned())
        );
        assert_eq!(event["PayloadFormatVersion"], Value::from("2.0"));
        routes.insert(format!(
            "{} {}",
            event["Method"].as_str().unwrap(),
            event["Path"].as_str().unwrap()
        ));
    }
    assert_eq!(
        routes,
        BTreeSet::from(["GET /review".to_owned(), "POST /review".to_owned()])
    );
    // Routes must not collide with local mode's Lambda Invoke API
    // (/2015-03-31/functions/...) or its Step Functions and SNS endpoint (POST /).
    for route in &routes {
        let path = route.split_once(' ').unwrap().1;
        assert!(path != "/" && !path.starts_with("/2015-03-31/"), "{route}");
    }

    let api = &resource("ReviewApi")["Properties"];
    let throttling = &api["DefaultRouteSettings"];
    assert!(throttling["ThrottlingRateLimit"].as_f64().unwrap() > 0.0);
    assert!(throttling["ThrottlingBurstLimit"].as_u64().unwrap() > 0);
    // Access logs must not carry query strings, which hold task tokens.
    let format = api["AccessLogSettings"]["Format"].as_str().unwrap();
    for leaky in ["$context.path", "querystring", "$context.requestOverride"] {
        assert!(!format.contains(leaky), "{format}");
    }
    assert!(format.contains("$context.routeKey"));
}

#[test]
fn the_review_function_may_answer_reviews_and_read_only_this_stacks_executions() {
    let policies = &resource("ReviewFunction")["Properties"]["Policies"];
    let statements = policies[0]["Statement"].as_sequence().unwrap();
    assert_eq!(policies.as_sequence().unwrap().len(), 1);
    assert_eq!(statements.len(), 1);
    // SendTaskSuccess takes no resource type in IAM: '*' is the only form that works.
    assert_eq!(
        statements[0]["Action"],
        Value::from("states:SendTaskSuccess")
    );
    assert_eq!(statements[0]["Resource"], Value::from("*"));

    let reads = resource("ReviewFunctionReadsReviews");
    assert_eq!(reads["Type"], Value::from("AWS::IAM::Policy"));
    let properties = &reads["Properties"];
    assert_eq!(
        intrinsic(&properties["Roles"][0]),
        ("Ref".to_owned(), "ReviewFunctionRole".to_owned())
    );
    let statements = properties["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    assert_eq!(statements.len(), 1);
    let actions: BTreeSet<&str> = statements[0]["Action"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        actions,
        BTreeSet::from(["states:DescribeExecution", "states:GetExecutionHistory"])
    );
    let (tag, resource) = intrinsic(&statements[0]["Resource"]);
    assert_eq!(tag, "Sub");
    assert!(
        resource.ends_with(":execution:${HumanReviewStateMachine.Name}:*"),
        "{resource}"
    );
}
