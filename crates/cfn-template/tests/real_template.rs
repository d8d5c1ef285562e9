//! Loads the repository's own `template.yaml` and its state machine, as
//! `hitl local` does.

use std::path::PathBuf;

use cfn_template::{
    FunctionCode, LocalEnvironment, Notice, ParameterOverrides, Stack, StateMachineType,
    TemplateError,
};

fn template_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

fn load(overrides: &[&str]) -> Result<Stack, TemplateError> {
    let mut all = vec!["ReviewerEmail=reviewer@example.com"];
    all.extend_from_slice(overrides);
    Stack::load(
        template_path(),
        &LocalEnvironment::new("human-review"),
        &ParameterOverrides::parse(all)?,
    )
}

#[test]
fn functions() -> Result<(), TemplateError> {
    let stack = load(&[])?;
    // Process Approval/Rejection, the review page and the policy's four.
    assert_eq!(stack.functions.len(), 7);
    assert_eq!(
        stack.template_dir.join("template.yaml").canonicalize().ok(),
        template_path().canonicalize().ok()
    );
    let decision_topic = stack.topic("DecisionTopic").map(|t| t.arn.clone());
    assert!(decision_topic.is_some());

    for (id, binary) in [
        ("ProcessApprovalFunction", "process_approval"),
        ("ProcessRejectionFunction", "process_rejection"),
    ] {
        let f = stack
            .function(id)
            .ok_or_else(|| panic_msg(&format!("no function {id}")))?;
        assert_eq!(f.binary.as_deref(), Some(binary));
        assert_eq!(f.build_method.as_deref(), Some("rust-cargolambda"));
        assert_eq!(
            f.environment.get("DECISION_TOPIC_ARN"),
            decision_topic.as_ref()
        );
        assert_eq!(f.environment.len(), 1);
        // Globals.Function merged in.
        assert_eq!(f.runtime.as_deref(), Some("provided.al2023"));
        assert_eq!(f.handler.as_deref(), Some("bootstrap"));
        assert_eq!(f.architectures, vec!["arm64".to_owned()]);
        assert_eq!(f.timeout_seconds, 10);
        assert_eq!(f.memory_mb, 128);
        assert_eq!(f.log_format, "JSON");
        assert!(f.log_group.is_some());
        // CodeUri "." is the template's directory, the workspace root.
        let FunctionCode::Dir(dir) = &f.code else {
            return Err(panic_msg("CodeUri should be a directory"));
        };
        assert_eq!(
            dir.join("template.yaml").canonicalize().ok(),
            template_path().canonicalize().ok()
        );
        assert!(
            f.name.starts_with(&format!("human-review-{id}-")),
            "{}",
            f.name
        );
        assert_eq!(
            f.arn,
            format!("arn:aws:lambda:us-east-1:123456789012:function:{}", f.name)
        );
        // Found by name and by (qualified) ARN, as Step Functions passes it.
        assert_eq!(
            stack.function(&f.name).map(|x| &x.logical_id),
            Some(&f.logical_id)
        );
        assert_eq!(
            stack
                .function(&format!("{}:$LATEST", f.arn))
                .map(|x| &x.logical_id),
            Some(&f.logical_id)
        );
        let partial = format!("123456789012:function:{}:live", f.name);
        assert_eq!(
            stack.function(&partial).map(|x| &x.logical_id),
            Some(&f.logical_id)
        );
        assert!(stack.function(&format!("{}x", f.name)).is_none());
    }
    Ok(())
}

#[test]
fn state_machine() -> Result<(), TemplateError> {
    let stack = load(&[])?;
    assert_eq!(stack.state_machines.len(), 1);
    let sm = &stack.state_machines[0];
    assert_eq!(sm.logical_id, "HumanReviewStateMachine");
    assert_eq!(sm.machine_type, StateMachineType::Standard);
    assert_eq!(
        sm.arn,
        format!(
            "arn:aws:states:us-east-1:123456789012:stateMachine:{}",
            sm.name
        )
    );
    assert!(sm.name.starts_with("HumanReviewStateMachine-"));
    assert!(sm.role_arn.starts_with("arn:aws:iam::123456789012:role/"));

    let text = sm.definition.to_string();
    assert!(!text.contains("${"), "placeholders left: {text}");
    let open_review = stack.function("OpenReviewFunction").map(|f| f.arn.as_str());
    assert_eq!(
        sm.definition
            .pointer("/States/Open Review/Parameters/FunctionName")
            .and_then(|v| v.as_str()),
        open_review
    );
    let approval = stack
        .function("ProcessApprovalFunction")
        .map(|f| f.arn.as_str());
    let rejection = stack
        .function("ProcessRejectionFunction")
        .map(|f| f.arn.as_str());
    assert_eq!(
        sm.definition
            .pointer("/States/Process Approval/Parameters/FunctionName")
            .and_then(|v| v.as_str()),
        approval
    );
    assert_eq!(
        sm.definition
            .pointer("/States/Process Rejection/Parameters/FunctionName")
            .and_then(|v| v.as_str()),
        rejection
    );
    let redrive = sm
        .definition
        .pointer("/States/Prepare Review/Parameters/text/failedRedrive")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    assert!(redrive.contains("--region us-east-1 "), "{redrive}");
    // Key order is kept (preserve_order): StartAt comes before States.
    let keys: Vec<&String> = sm
        .definition
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["Comment", "StartAt", "TimeoutSeconds", "States"]);
    // The unquoted number placeholders become JSON numbers.
    assert_eq!(
        sm.definition.get("TimeoutSeconds"),
        Some(&serde_json::json!(262_800))
    );
    assert_eq!(
        sm.definition
            .pointer("/States/Process Approval/Retry/2/MaxAttempts")
            .cloned(),
        Some(serde_json::json!(3))
    );
    let alarm_topic = stack.topic("AlarmTopic").map(|t| t.arn.as_str());
    assert_eq!(
        sm.definition
            .pointer("/States/Report Failed Approval/Parameters/TopicArn")
            .and_then(|v| v.as_str()),
        alarm_topic
    );
    assert!(
        !stack
            .notices
            .iter()
            .any(|n| matches!(n, Notice::UnsubstitutedPlaceholder { .. }))
    );
    Ok(())
}

#[test]
fn topics_subscriptions_and_the_decision_email_condition() -> Result<(), TemplateError> {
    let stack = load(&[])?;
    assert_eq!(stack.topics.len(), 3);
    let review = stack
        .topic("ReviewTopic")
        .ok_or_else(|| panic_msg("no ReviewTopic"))?;
    // Reviewers subscribe through the filtered slots, not inline.
    assert!(review.subscriptions.is_empty());
    let reviewers = stack.subscriptions_of(&review.arn);
    assert_eq!(reviewers.len(), 1);
    assert_eq!(reviewers[0].protocol, "email");
    assert_eq!(reviewers[0].endpoint, "reviewer@example.com");
    assert_eq!(review.display_name.as_deref(), Some("Review requests"));
    assert_eq!(review.kms_master_key_id.as_deref(), Some("alias/aws/sns"));
    assert_eq!(
        review.arn,
        format!("arn:aws:sns:us-east-1:123456789012:{}", review.name)
    );
    let decision = stack
        .topic("DecisionTopic")
        .ok_or_else(|| panic_msg("no DecisionTopic"))?;
    assert!(decision.subscriptions.is_empty());
    // Ref on the customer managed key gives a key id placeholder.
    assert!(
        decision
            .kms_master_key_id
            .as_deref()
            .is_some_and(|k| k.len() == 36 && k.matches('-').count() == 4),
        "{:?}",
        decision.kms_master_key_id
    );

    // DecisionEmail defaults to '': HasDecisionEmail is false.
    assert_eq!(stack.conditions.get("HasDecisionEmail"), Some(&false));
    let ids: Vec<&str> = stack
        .subscriptions
        .iter()
        .map(|s| s.logical_id.as_str())
        .collect();
    assert_eq!(ids, ["ReviewerSubscription1"]);
    assert!(stack.notices.contains(&Notice::ConditionFalse {
        logical_id: "DecisionEmailSubscription".into(),
        condition: "HasDecisionEmail".into(),
    }));
    assert!(stack.subscriptions_of(&decision.arn).is_empty());

    let stack = load(&["DecisionEmail=x@y.z"])?;
    assert_eq!(stack.conditions.get("HasDecisionEmail"), Some(&true));
    assert_eq!(stack.subscriptions.len(), 2);
    let sub = stack
        .subscriptions
        .iter()
        .find(|s| s.logical_id == "DecisionEmailSubscription")
        .ok_or_else(|| panic_msg("no DecisionEmailSubscription"))?;
    let decision_arn = stack
        .topic("DecisionTopic")
        .map(|t| t.arn.clone())
        .unwrap_or_default();
    assert_eq!(sub.logical_id, "DecisionEmailSubscription");
    assert_eq!(sub.topic_arn, decision_arn);
    assert_eq!(sub.protocol, "email");
    assert_eq!(sub.endpoint, "x@y.z");
    assert_eq!(stack.subscriptions_of(&decision_arn).len(), 1);

    // AlarmEmail likewise, on the alarm topic.
    assert_eq!(stack.conditions.get("HasAlarmEmail"), Some(&false));
    let stack = load(&["AlarmEmail=ops@y.z"])?;
    assert_eq!(stack.conditions.get("HasAlarmEmail"), Some(&true));
    let alarm_arn = stack
        .topic("AlarmTopic")
        .map(|t| t.arn.clone())
        .unwrap_or_default();
    let subs = stack.subscriptions_of(&alarm_arn);
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].endpoint, "ops@y.z");
    Ok(())
}

#[test]
fn skipped_resources_and_notices() -> Result<(), TemplateError> {
    let stack = load(&[])?;
    let skipped: Vec<(&str, &str)> = stack
        .skipped
        .iter()
        .map(|s| (s.logical_id.as_str(), s.resource_type.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("WorkflowKey", "AWS::KMS::Key"),
            ("AlarmTopicPolicy", "AWS::SNS::TopicPolicy"),
            ("ReviewFunctionReadsReviews", "AWS::IAM::Policy"),
            ("ProcessApprovalLogGroup", "AWS::Logs::LogGroup"),
            ("ProcessRejectionLogGroup", "AWS::Logs::LogGroup"),
            ("ReviewFunctionLogGroup", "AWS::Logs::LogGroup"),
            ("OpenReviewLogGroup", "AWS::Logs::LogGroup"),
            ("AskReviewerLogGroup", "AWS::Logs::LogGroup"),
            ("RecordVoteLogGroup", "AWS::Logs::LogGroup"),
            ("ReviewTickLogGroup", "AWS::Logs::LogGroup"),
            ("ReviewApiAccessLogGroup", "AWS::Logs::LogGroup"),
            ("StateMachineLogGroup", "AWS::Logs::LogGroup"),
            ("FailedExecutionsAlarm", "AWS::CloudWatch::Alarm"),
            ("AbortedExecutionsAlarm", "AWS::CloudWatch::Alarm"),
            ("TimedOutExecutionsAlarm", "AWS::CloudWatch::Alarm"),
            ("ProcessApprovalErrorsAlarm", "AWS::CloudWatch::Alarm"),
            ("ProcessApprovalThrottlesAlarm", "AWS::CloudWatch::Alarm"),
            ("ProcessRejectionErrorsAlarm", "AWS::CloudWatch::Alarm"),
            ("ProcessRejectionThrottlesAlarm", "AWS::CloudWatch::Alarm"),
            ("ReviewPageErrorsAlarm", "AWS::CloudWatch::Alarm"),
            ("ReviewPageThrottlesAlarm", "AWS::CloudWatch::Alarm"),
            ("OpenReviewErrorsAlarm", "AWS::CloudWatch::Alarm"),
            ("OpenReviewThrottlesAlarm", "AWS::CloudWatch::Alarm"),
            ("AskReviewerErrorsAlarm", "AWS::CloudWatch::Alarm"),
            ("AskReviewerThrottlesAlarm", "AWS::CloudWatch::Alarm"),
            ("RecordVoteErrorsAlarm", "AWS::CloudWatch::Alarm"),
            ("RecordVoteThrottlesAlarm", "AWS::CloudWatch::Alarm"),
            ("ReviewTickErrorsAlarm", "AWS::CloudWatch::Alarm"),
            ("ReviewTickThrottlesAlarm", "AWS::CloudWatch::Alarm"),
            ("ReviewApi5xxAlarm", "AWS::CloudWatch::Alarm"),
            ("ExpiredReviewsAlarm", "AWS::CloudWatch::Alarm"),
        ]
    );
    let lines: Vec<String> = stack.notices.iter().map(ToString::to_string).collect();
    assert!(lines.contains(&"skipping WorkflowKey (AWS::KMS::Key): not needed locally".to_owned()));
    assert!(lines.iter().all(|l| !l.contains('\n')));
    // Thirty-one skipped resources, the two optional email subscriptions,
    // nine empty reviewer slots and the escalation's; nothing else.
    assert_eq!(lines.len(), 31 + 2 + 9 + 1, "{lines:#?}");

    // The function's log group is the skipped log group's placeholder name.
    let f = stack
        .function("ProcessApprovalFunction")
        .ok_or_else(|| panic_msg("no function"))?;
    assert!(
        f.log_group
            .as_deref()
            .is_some_and(|g| g.starts_with("human-review-ProcessApprovalLogGroup-"))
    );
    Ok(())
}

#[test]
fn overrides_reach_the_definition_and_outputs() -> Result<(), TemplateError> {
    let stack = load(&["ReviewTimeoutSeconds=2"])?;
    let open_review = stack
        .function("OpenReviewFunction")
        .ok_or_else(|| panic_msg("no OpenReviewFunction"))?;
    assert_eq!(
        open_review
            .environment
            .get("REVIEW_TIMEOUT_SECONDS")
            .map(String::as_str),
        Some("2")
    );
    assert_eq!(
        stack
            .parameters
            .get("ReviewTimeoutSeconds")
            .map(String::as_str),
        Some("2")
    );

    let sm_arn = stack.state_machines[0].arn.clone();
    assert_eq!(
        stack.output("StateMachineArn").map(|o| o.value.as_str()),
        Some(sm_arn.as_str())
    );
    let url = stack
        .output("StateMachineConsoleUrl")
        .map(|o| o.value.clone())
        .unwrap_or_default();
    assert!(url.starts_with("https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/statemachines/view/arn:aws:states:"), "{url}");
    let review_arn = stack.topic("ReviewTopic").map(|t| t.arn.clone());
    assert_eq!(
        stack.output("ReviewTopicArn").map(|o| o.value.clone()),
        review_arn
    );
    assert_eq!(stack.outputs.len(), 7);
    let table = stack.tables.first().map(|t| t.name.clone());
    assert_eq!(
        stack.output("ReviewTableName").map(|o| o.value.clone()),
        table
    );
    Ok(())
}

#[test]
fn names_are_the_same_on_every_load_and_differ_per_stack() -> Result<(), TemplateError> {
    let a = load(&[])?;
    let b = load(&[])?;
    assert_eq!(a, b);
    let other = Stack::load(
        template_path(),
        &LocalEnvironment::new("other").with_region("eu-west-1"),
        &ParameterOverrides::parse(["ReviewerEmail=reviewer@example.com"])?,
    )?;
    assert_ne!(a.functions[0].name, other.functions[0].name);
    assert!(
        other.functions[0]
            .arn
            .starts_with("arn:aws:lambda:eu-west-1:123456789012:function:other-")
    );
    Ok(())
}

#[test]
fn parameter_errors_on_the_real_template() {
    let env = LocalEnvironment::new("human-review");
    let err = |args: &[&str]| -> String {
        match ParameterOverrides::parse(args).and_then(|o| Stack::load(template_path(), &env, &o)) {
            Ok(_) => String::from("<loaded>"),
            Err(e) => e.to_string(),
        }
    };
    assert_eq!(
        err(&[]),
        "rule ReviewersGiven: Give the reviewers: ReviewerEmails=a@example.com,b@example.com (or, for a stack deployed before it existed, ReviewerEmail)."
    );
    let e = err(&["ReviewerEmail=not-an-email"]);
    assert!(
        e.starts_with(
            "parameter ReviewerEmail value \"not-an-email\" does not match AllowedPattern"
        ),
        "{e}"
    );
    assert!(e.contains("must be empty or one email address"), "{e}");
    let e = err(&["ReviewerEmails=a@example.com;b@example.com"]);
    assert!(e.contains("without spaces"), "{e}");
    let e = err(&[
        "ReviewerEmails=a@example.com",
        "ReviewerEmail=b@example.com",
    ]);
    assert!(e.starts_with("rule OneReviewerParameter: "), "{e}");
    let e = err(&[
        "ReviewerEmails=a@example.com",
        "EscalationEmail=boss@example.com",
    ]);
    assert!(e.starts_with("rule EscalationNeedsReminders: "), "{e}");
    assert_eq!(
        err(&[
            "ReviewerEmails=a@example.com",
            "EscalationEmail=boss@example.com",
            "ReminderAfterSeconds=60"
        ]),
        "<loaded>"
    );
    let e = err(&["ReviewerEmails=a@example.com", "DecisionOnTimeout=maybe"]);
    assert!(e.contains("AllowedValues"), "{e}");
    let e = err(&["ReviewerEmail=r@example.com", "ReviewTimeoutSeconds=0"]);
    assert!(e.contains("less than MinValue 1"), "{e}");
    let e = err(&["ReviewerEmail=r@example.com", "Reviewer=x"]);
    assert_eq!(
        e,
        "unknown parameter Reviewer in --parameter-overrides; the template's parameters are: ReviewerEmails, ReviewerEmail, RequiredApprovals, ReminderAfterSeconds, MaxReminders, EscalationEmail, DecisionOnTimeout, ReviewTimeoutSeconds, ExecutionTimeoutSeconds, ActionMaxAttempts, DecisionEmail, AlarmEmail"
    );
}

fn panic_msg(message: &str) -> TemplateError {
    TemplateError::Section {
        section: "(test)".into(),
        message: message.into(),
    }
}

#[test]
fn policies_allow_exactly_what_the_workflow_calls() -> Result<(), TemplateError> {
    use cfn_template::Access;

    let stack = load(&[])?;
    let review = stack
        .topic("ReviewTopic")
        .map(|t| t.arn.clone())
        .unwrap_or_default();
    let decision = stack
        .topic("DecisionTopic")
        .map(|t| t.arn.clone())
        .unwrap_or_default();
    let approval = stack
        .function("ProcessApprovalFunction")
        .map(|f| f.arn.clone())
        .unwrap_or_default();
    let rejection = stack
        .function("ProcessRejectionFunction")
        .map(|f| f.arn.clone())
        .unwrap_or_default();

    let sm = &stack.state_machines[0].policy;
    // Ask Reviewer and Tick email the reviewers; the state machine never does.
    assert_eq!(sm.allows("sns:Publish", &review), Access::Denied);
    for id in [
        "OpenReviewFunction",
        "AskReviewerFunction",
        "RecordVoteFunction",
        "ReviewTickFunction",
    ] {
        let arn = stack
            .function(id)
            .map(|f| f.arn.clone())
            .unwrap_or_default();
        assert_eq!(
            sm.allows("lambda:InvokeFunction", &arn),
            Access::Allowed,
            "{id}"
        );
    }
    assert_eq!(sm.allows("sns:Publish", &decision), Access::Denied);
    assert_eq!(
        sm.allows("lambda:InvokeFunction", &approval),
        Access::Allowed
    );
    assert_eq!(
        sm.allows("lambda:InvokeFunction", &rejection),
        Access::Allowed
    );
    assert_eq!(sm.allows("xray:PutTraceSegments", "*"), Access::Allowed);

    let key_arn = stack
        .functions
        .iter()
        .flat_map(|f| f.policy.statements.iter())
        .flat_map(|s| s.resources.iter())
        .find(|r| r.contains(":kms:"))
        .cloned()
        .unwrap_or_default();
    assert!(
        key_arn.starts_with("arn:aws:kms:us-east-1:123456789012:key/"),
        "{key_arn}"
    );
    let review_page = stack
        .function("ReviewFunction")
        .expect("the review page function");
    assert_eq!(
        review_page.policy.allows("states:SendTaskSuccess", "*"),
        Access::Allowed
    );
    assert_eq!(
        review_page.policy.allows("sns:Publish", &decision),
        Access::Denied
    );
    // The policy's functions: the table, and the review topic for the two that email.
    let table = stack
        .tables
        .first()
        .map(|t| t.arn.clone())
        .unwrap_or_default();
    for (id, emails) in [
        ("OpenReviewFunction", false),
        ("AskReviewerFunction", true),
        ("RecordVoteFunction", false),
        ("ReviewTickFunction", true),
    ] {
        let f = stack.function(id).expect("a policy function");
        assert_eq!(
            f.policy.allows("dynamodb:GetItem", &table),
            Access::Allowed,
            "{id}"
        );
        assert_eq!(
            f.policy.allows("dynamodb:DeleteItem", &table),
            Access::Denied,
            "{id}"
        );
        assert_eq!(
            f.policy.allows("dynamodb:Scan", &table),
            Access::Denied,
            "{id}"
        );
        let publish = if emails {
            Access::Allowed
        } else {
            Access::Denied
        };
        assert_eq!(f.policy.allows("sns:Publish", &review), publish, "{id}");
        assert_eq!(
            f.policy.allows("sns:Publish", &decision),
            Access::Denied,
            "{id}"
        );
        assert_eq!(
            f.policy.allows("states:SendTaskSuccess", "*"),
            Access::Denied,
            "{id}"
        );
    }
    for f in stack.functions.iter().filter(|f| {
        ["ProcessApprovalFunction", "ProcessRejectionFunction"].contains(&f.logical_id.as_str())
    }) {
        assert_eq!(f.policy.allows("sns:Publish", &decision), Access::Allowed);
        assert_eq!(f.policy.allows("sns:Publish", &review), Access::Denied);
        assert_eq!(
            f.policy.allows("kms:GenerateDataKey", &key_arn),
            Access::Allowed
        );
        assert_eq!(
            f.policy.allows("logs:PutLogEvents", "arn:aws:logs:x"),
            Access::Allowed
        );
        assert_eq!(
            f.policy.allows("lambda:InvokeFunction", &approval),
            Access::Denied
        );
        // Tracing: Active in Globals: SAM attaches AWSXrayWriteOnlyAccess.
        assert_eq!(
            f.policy.allows("xray:PutTraceSegments", "*"),
            Access::Allowed
        );
    }
    Ok(())
}
