//! `template.yaml`: the contract of the deployable stack that cfn-lint and
//! checkov do not check.

use std::collections::BTreeSet;

use serde_yaml_ng::Value;
use workflow_tests::{NUMBER_PLACEHOLDERS, placeholders, read, template};

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

/// CloudFormation substitutes the definition's text before it parses it, so an
/// unquoted `${Name}` becomes a JSON number; it must be one the template
/// constrains to a number, and the tests must know it (NUMBER_PLACEHOLDERS).
#[test]
fn unquoted_placeholders_are_number_parameters() {
    let substitutions =
        &resource("HumanReviewStateMachine")["Properties"]["DefinitionSubstitutions"];
    let parameters = &template()["Parameters"];
    for file in [
        "statemachine/human_in_the_loop.asl.json",
        "statemachine/human_in_the_loop.jsonata.asl.json",
    ] {
        let text = read(file);
        // A placeholder in a value's place (`: ${Name}`), not inside a string.
        let unquoted: BTreeSet<String> = text
            .match_indices("${")
            .filter(|(at, _)| text[..*at].ends_with(": "))
            .filter_map(|(at, _)| {
                text[at + 2..]
                    .split_once('}')
                    .map(|(name, _)| name.to_owned())
            })
            .collect();
        let expected: BTreeSet<String> = NUMBER_PLACEHOLDERS
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        assert_eq!(unquoted, expected, "{file}");
    }
    for (name, _) in NUMBER_PLACEHOLDERS {
        let (tag, parameter) = intrinsic(&substitutions[name]);
        assert_eq!(tag, "Ref", "{name}");
        assert_eq!(
            parameters[parameter.as_str()]["Type"],
            Value::from("Number"),
            "{name}"
        );
    }
    let max = |name: &str| parameters[name]["MaxValue"].as_u64().unwrap();
    let default = |name: &str| parameters[name]["Default"].as_u64().unwrap();
    // A Standard execution runs at most a year; the default execution timeout
    // leaves the default review its margin.
    assert_eq!(max("ExecutionTimeoutSeconds"), 365 * 24 * 3600);
    assert!(max("ReviewTimeoutSeconds") < max("ExecutionTimeoutSeconds"));
    assert_eq!(
        default("ExecutionTimeoutSeconds"),
        default("ReviewTimeoutSeconds") + 3600
    );
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
fn topics_are_encrypted_and_the_decision_and_alarm_emails_are_optional() {
    for topic in ["ReviewTopic", "DecisionTopic", "AlarmTopic"] {
        assert!(
            !resource(topic)["Properties"]["KmsMasterKeyId"].is_null(),
            "{topic} must be encrypted"
        );
    }
    // Reviewers subscribe one by one, each filtered on the `reviewer` message
    // attribute, so no reviewer receives another's token (issue 14).
    assert!(resource("ReviewTopic")["Properties"]["Subscription"].is_null());
    for n in 1..=10 {
        let slot = resource(&format!("ReviewerSubscription{n}"));
        assert_eq!(slot["Condition"], Value::from(format!("HasReviewer{n}")));
        assert_eq!(slot["Properties"]["Protocol"], Value::from("email"));
        assert_eq!(
            slot["Properties"]["FilterPolicy"]["reviewer"][0], slot["Properties"]["Endpoint"],
            "slot {n} filters on its own address"
        );
    }
    let escalation = resource("EscalationSubscription");
    assert_eq!(escalation["Condition"], Value::from("HasEscalation"));
    assert_eq!(
        escalation["Properties"]["FilterPolicy"]["reviewer"][0],
        escalation["Properties"]["Endpoint"]
    );
    assert_eq!(
        resource("DecisionEmailSubscription")["Condition"],
        Value::from("HasDecisionEmail")
    );
    assert_eq!(
        resource("AlarmEmailSubscription")["Condition"],
        Value::from("HasAlarmEmail")
    );
    let parameters = &template()["Parameters"];
    assert_eq!(parameters["DecisionEmail"]["Default"], Value::from(""));
    assert_eq!(parameters["AlarmEmail"]["Default"], Value::from(""));
    assert_eq!(
        parameters["ReviewTimeoutSeconds"]["Default"],
        Value::from(259200)
    );
    // One of ReviewerEmails and ReviewerEmail is required, by the template's Rules.
    assert_eq!(parameters["ReviewerEmails"]["Default"], Value::from(""));
    assert_eq!(parameters["ReviewerEmail"]["Default"], Value::from(""));
    for rule in [
        "ReviewersGiven",
        "OneReviewerParameter",
        "EscalationNeedsReminders",
    ] {
        assert!(
            template()["Rules"][rule]["Assertions"][0]["AssertDescription"].is_string(),
            "rule {rule}"
        );
    }
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

/// Alarms go to the operations channel; decision consumers never see them
/// (tests/operations_doc.rs checks each alarm against docs/operations.md).
#[test]
fn every_alarm_notifies_the_alarm_topic_and_only_alarms_may_publish_there() {
    let mut alarms = 0;
    for (_, resource) in template()["Resources"].as_mapping().unwrap() {
        if resource["Type"] == "AWS::CloudWatch::Alarm" {
            alarms += 1;
            let actions = resource["Properties"]["AlarmActions"]
                .as_sequence()
                .unwrap();
            assert_eq!(actions.len(), 1);
            assert_eq!(
                intrinsic(&actions[0]),
                ("Ref".to_owned(), "AlarmTopic".to_owned())
            );
        }
    }
    assert!(alarms >= 10, "{alarms} alarms");
    let policy = &resource("AlarmTopicPolicy")["Properties"];
    assert_eq!(
        intrinsic(&policy["Topics"][0]),
        ("Ref".to_owned(), "AlarmTopic".to_owned())
    );
    assert!(
        template()["Resources"].get("DecisionTopicPolicy").is_none(),
        "CloudWatch no longer publishes to the decision topic"
    );
}

#[test]
fn the_logs_key_statement_covers_only_this_stacks_log_groups() {
    let statements = resource("WorkflowKey")["Properties"]["KeyPolicy"]["Statement"].clone();
    let logs = statements
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "CloudWatchLogsEncryptThisStacksLogs")
        .cloned()
        .expect("the logs statement");
    let arns = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|arn| intrinsic(arn).1)
        .collect::<Vec<_>>();
    assert!(!arns.is_empty());
    for arn in &arns {
        assert!(
            arn.contains(":log-group:") && arn.contains("${AWS::StackName}-"),
            "{arn}"
        );
        assert!(!arn.ends_with(":log-group:*"), "{arn}");
    }
}

#[test]
fn outputs_name_the_state_machine_its_console_url_and_both_topics() {
    let outputs = template()["Outputs"].clone();
    for key in [
        "StateMachineArn",
        "StateMachineConsoleUrl",
        "ReviewTopicArn",
        "DecisionTopicArn",
        "AlarmTopicArn",
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
    for function in ["AskReviewerFunction", "ReviewTickFunction"] {
        let variables = &resource(function)["Properties"]["Environment"]["Variables"];
        assert_eq!(
            intrinsic(&variables["REVIEW_API_ENDPOINT"]),
            ("GetAtt".to_owned(), "ReviewApi.ApiEndpoint".to_owned()),
            "{function}"
        );
    }
    assert_eq!(
        resource("ReviewApi")["Type"],
        Value::from("AWS::Serverless::HttpApi")
    );
}

/// The table holds task tokens: encrypted with the stack's key, recoverable,
/// billed per request, and each function may do only what its step needs.
#[test]
fn the_review_table_is_encrypted_and_each_function_gets_only_its_operations() {
    let table = &resource("ReviewTable")["Properties"];
    assert_eq!(table["BillingMode"], Value::from("PAY_PER_REQUEST"));
    assert_eq!(table["SSESpecification"]["SSEEnabled"], Value::from(true));
    assert_eq!(
        intrinsic(&table["SSESpecification"]["KMSMasterKeyId"]),
        ("Ref".to_owned(), "WorkflowKey".to_owned())
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        Value::from(true)
    );
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        Value::from("expiresAt")
    );
    for (function, allowed) in [
        (
            "OpenReviewFunction",
            vec!["dynamodb:GetItem", "dynamodb:PutItem"],
        ),
        (
            "AskReviewerFunction",
            vec!["dynamodb:GetItem", "dynamodb:PutItem"],
        ),
        (
            "RecordVoteFunction",
            vec!["dynamodb:GetItem", "dynamodb:UpdateItem"],
        ),
        (
            "ReviewTickFunction",
            vec![
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
            ],
        ),
        ("ReviewFunction", vec!["dynamodb:GetItem"]),
    ] {
        let policies = &resource(function)["Properties"]["Policies"];
        let mut dynamodb = BTreeSet::new();
        for policy in policies.as_sequence().unwrap() {
            for statement in policy["Statement"].as_sequence().into_iter().flatten() {
                let actions: Vec<String> = match &statement["Action"] {
                    Value::String(one) => vec![one.clone()],
                    list => list
                        .as_sequence()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap().to_owned())
                        .collect(),
                };
                for action in actions.into_iter().filter(|a| a.starts_with("dynamodb:")) {
                    assert_eq!(
                        intrinsic(&statement["Resource"]),
                        ("GetAtt".to_owned(), "ReviewTable.Arn".to_owned()),
                        "{function}: {action} on the review table only"
                    );
                    dynamodb.insert(action);
                }
            }
        }
        let allowed: BTreeSet<String> = allowed.into_iter().map(str::to_owned).collect();
        assert_eq!(dynamodb, allowed, "{function}");
        assert_eq!(
            intrinsic(
                &resource(function)["Properties"]["Environment"]["Variables"]["REVIEW_TABLE"]
            ),
            ("Ref".to_owned(), "ReviewTable".to_owned())
        );
    }
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
    assert_eq!(policies.as_sequence().unwrap().len(), 1);
    let statements = policies[0]["Statement"].as_sequence().unwrap();
    let answer: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Action"] == "states:SendTaskSuccess")
        .collect();
    assert_eq!(answer.len(), 1);
    // SendTaskSuccess takes no resource type in IAM: '*' is the only form that works.
    assert_eq!(answer[0]["Resource"], Value::from("*"));
    // Besides it: reading short links from the table, and its key.
    for statement in statements {
        if statement["Resource"] == "*" {
            assert_eq!(statement["Action"], Value::from("states:SendTaskSuccess"));
        }
    }

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
