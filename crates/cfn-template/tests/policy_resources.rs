//! What approval policies need from a template (docs/approval-policies.md):
//! `Rules` that refuse a bad combination of parameters before anything runs,
//! an `AWS::DynamoDB::Table` local mode can create, and per-reviewer
//! `AWS::SNS::Subscription`s whose `FilterPolicy` reaches the local SNS.
//!
//! Rule functions are written in their long form (`Fn::Contains: [...]`):
//! the CloudFormation reference documents no YAML short form for them.

use cfn_template::{LocalEnvironment, Notice, ParameterOverrides, Stack, TemplateError};

fn load(yaml: &str, overrides: &[&str]) -> Result<Stack, TemplateError> {
    let overrides = ParameterOverrides::parse(overrides)?;
    Stack::from_yaml_str(yaml, ".".as_ref(), &LocalEnvironment::new("t"), &overrides)
}

const RULES: &str = "
Parameters:
  ReviewerEmails: {Type: CommaDelimitedList, Default: a@x.io}
  RequiredApprovals: {Type: Number, Default: 1}
  EscalationEmail: {Type: String, Default: ''}
  ReminderAfterSeconds: {Type: Number, Default: 0}
  Stage: {Type: String, Default: dev}
Rules:
  EscalationNeedsReminders:
    RuleCondition: !Not [!Equals [!Ref EscalationEmail, '']]
    Assertions:
      - Assert: !Not [!Equals [!Ref ReminderAfterSeconds, 0]]
        AssertDescription: EscalationEmail needs ReminderAfterSeconds above 0
  TwoApprovalsNeedTwoReviewers:
    RuleCondition: {'Fn::Contains': [['2'], !Ref RequiredApprovals]}
    Assertions:
      - Assert: !Not [{'Fn::EachMemberEquals': [!Ref ReviewerEmails, !Select [0, !Ref ReviewerEmails]]}]
        AssertDescription: RequiredApprovals is 2 but ReviewerEmails lists one reviewer
  KnownStage:
    Assertions:
      - Assert: {'Fn::EachMemberIn': [[!Ref Stage], [dev, prod]]}
Resources:
  Topic: {Type: AWS::SNS::Topic}
";

#[test]
fn given_rules_when_the_parameters_satisfy_them_then_the_stack_loads() {
    let stack = load(RULES, &[]).expect("defaults satisfy every rule");
    assert_eq!(stack.topics.len(), 1);
    let stack = load(
        RULES,
        &[
            "EscalationEmail=e@x.io",
            "ReminderAfterSeconds=60",
            "Stage=prod",
        ],
    )
    .expect("an escalation with reminders");
    assert!(
        stack
            .notices
            .iter()
            .all(|n| !matches!(n, Notice::UncheckedRule { .. }))
    );
}

#[test]
fn given_rules_when_an_assertion_fails_then_its_description_is_the_error() {
    let e = load(RULES, &["EscalationEmail=e@x.io"]).expect_err("no reminders");
    assert_eq!(
        e.to_string(),
        "rule EscalationNeedsReminders: EscalationEmail needs ReminderAfterSeconds above 0"
    );
    // Without an AssertDescription, CloudFormation's own wording.
    let e = load(RULES, &["Stage=qa"]).expect_err("unknown stage");
    assert_eq!(e.to_string(), "rule KnownStage: Assertion failed");
}

#[test]
fn given_a_rule_that_uses_a_function_outside_the_rule_functions_then_it_is_refused() {
    // Fn::Select is not a rule function (CloudFormation "Rule functions").
    let e = load(RULES, &["RequiredApprovals=2"]).expect_err("Fn::Select in an assertion");
    let text = e.to_string();
    assert!(
        text.starts_with("rule TwoApprovalsNeedTwoReviewers: Assertions entry 0: Fn::Select cannot be used in Rules"),
        "{text}"
    );
}

#[test]
fn given_a_rule_that_reads_the_account_then_it_is_a_notice_not_a_pass() {
    let yaml = "
Parameters:
  Vpc: {Type: String, Default: vpc-1}
Rules:
  VpcExists:
    Assertions:
      - Assert: {'Fn::Contains': [{'Fn::RefAll': 'AWS::EC2::VPC::Id'}, !Ref Vpc]}
Resources:
  Topic: {Type: AWS::SNS::Topic}
";
    let stack = load(yaml, &[]).expect("loads");
    let notice = stack
        .notices
        .iter()
        .find(|n| matches!(n, Notice::UncheckedRule { .. }))
        .expect("an unchecked-rule notice");
    assert_eq!(
        notice.to_string(),
        "rule VpcExists is not checked locally (Fn::RefAll reads the AWS account); CloudFormation checks it at deploy time"
    );
}

const TABLE: &str = "
Resources:
  Reviews:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: true}
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Ref Reviews
      TopicName: !Select [1, !Split ['/', !GetAtt Reviews.Arn]]
";

#[test]
fn given_a_dynamodb_table_then_it_is_typed_and_referable() {
    let stack = load(TABLE, &[]).expect("loads");
    assert_eq!(stack.tables.len(), 1);
    let table = &stack.tables[0];
    assert!(table.name.starts_with("t-Reviews-"), "{}", table.name);
    assert_eq!(
        table.arn,
        format!(
            "arn:aws:dynamodb:us-east-1:123456789012:table/{}",
            table.name
        )
    );
    let keys: Vec<(&str, &str)> = table
        .key_schema
        .iter()
        .map(|k| (k.attribute_name.as_str(), k.key_type.as_str()))
        .collect();
    assert_eq!(keys, [("pk", "HASH"), ("sk", "RANGE")]);
    assert_eq!(table.billing_mode, "PAY_PER_REQUEST");
    assert_eq!(table.ttl_attribute.as_deref(), Some("expiresAt"));
    // Ref is the name, GetAtt Arn the ARN.
    assert_eq!(
        stack.topics[0].display_name.as_deref(),
        Some(table.name.as_str())
    );
    assert_eq!(stack.topics[0].name, table.name);
    assert!(stack.skipped.iter().all(|s| s.logical_id != "Reviews"));
}

#[test]
fn given_a_table_dynamodb_would_refuse_then_the_error_names_the_property() {
    let cases = [
        (
            "- {AttributeName: sk, KeyType: RANGE}\n        - {AttributeName: pk, KeyType: HASH}",
            "resource Reviews, property KeySchema: must be one HASH key, optionally followed by one RANGE key",
        ),
        (
            "- {AttributeName: id, KeyType: HASH}",
            "resource Reviews, property AttributeDefinitions: the key attribute id is not defined",
        ),
    ];
    for (keys, expected) in cases {
        let yaml = TABLE.replace(
            "- {AttributeName: pk, KeyType: HASH}\n        - {AttributeName: sk, KeyType: RANGE}",
            keys,
        );
        let e = load(&yaml, &[]).expect_err(keys).to_string();
        assert!(e.starts_with(expected), "{e}");
    }
    let e = load(
        &TABLE.replace("BillingMode: PAY_PER_REQUEST", "BillingMode: ON_DEMAND"),
        &[],
    )
    .expect_err("unknown billing mode")
    .to_string();
    assert_eq!(
        e,
        "resource Reviews, property BillingMode: ON_DEMAND is not PAY_PER_REQUEST or PROVISIONED"
    );
}

#[test]
fn given_filtered_subscriptions_then_their_policies_reach_the_topics_subscriptions() {
    let yaml = r#"
Parameters:
  ReviewerEmails: {Type: String, Default: 'a@x.io,b@x.io'}
Resources:
  Reviews: {Type: AWS::SNS::Topic}
  Reviewer1:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Reviews
      Protocol: email
      Endpoint: !Select [0, !Split [',', !Ref ReviewerEmails]]
      FilterPolicy:
        reviewer: [!Select [0, !Split [',', !Ref ReviewerEmails]]]
  Reviewer2:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Reviews
      Protocol: email
      Endpoint: b@x.io
      FilterPolicy: '{"reviewer": ["b@x.io"]}'
      FilterPolicyScope: MessageAttributes
"#;
    let stack = load(yaml, &[]).expect("loads");
    let subscriptions = stack.subscriptions_of(&stack.topics[0].arn);
    let got: Vec<(&str, Option<&str>, Option<&str>)> = subscriptions
        .iter()
        .map(|s| {
            (
                s.endpoint.as_str(),
                s.filter_policy.as_deref(),
                s.filter_policy_scope.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a@x.io", Some(r#"{"reviewer":["a@x.io"]}"#), None),
            (
                "b@x.io",
                // Given as a string of JSON, the policy is read, so it reaches SNS re-serialised.
                Some(r#"{"reviewer":["b@x.io"]}"#),
                Some("MessageAttributes")
            ),
        ]
    );
    let e = load(
        &yaml.replace(
            "FilterPolicyScope: MessageAttributes",
            "FilterPolicyScope: Body",
        ),
        &[],
    )
    .expect_err("bad scope")
    .to_string();
    assert_eq!(
        e,
        "resource Reviewer2, property FilterPolicyScope: Body is not a scope: use MessageAttributes or MessageBody"
    );
}
