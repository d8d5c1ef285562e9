//! Templates local mode cannot run fail with an error naming the resource
//! and property (or parameter, condition, section), and what to do.

use std::path::{Path, PathBuf};

use cfn_template::{LocalEnvironment, ParameterOverrides, Stack};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn error_of(yaml: &str) -> String {
    error_in(yaml, &repo_root(), &[])
}

fn error_in(yaml: &str, base: &Path, overrides: &[&str]) -> String {
    let result = ParameterOverrides::parse(overrides)
        .and_then(|o| Stack::from_yaml_str(yaml, base, &LocalEnvironment::new("t"), &o));
    match result {
        Ok(stack) => format!("<loaded: {stack:?}>"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str = "Transform: AWS::Serverless-2016-10-31\n";

#[test]
fn unknown_ref_names_the_resource_property_and_name() {
    let e = error_of(&format!(
        "{HEAD}Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Environment:
        Variables:
          TOPIC: !Ref DecisionTopc
"
    ));
    assert!(
        e.starts_with("resource Fn, property Environment: Variables: TOPIC: Ref DecisionTopc: unknown name DecisionTopc; the template declares: Fn"),
        "{e}"
    );
}

#[test]
fn unknown_ref_in_a_skipped_resource_is_still_an_error() {
    let e = error_of(&format!(
        "{HEAD}Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      KmsKeyId: !GetAtt NoSuchKey.Arn
"
    ));
    assert!(
        e.starts_with(
            "resource Logs, property KmsKeyId: Fn::GetAtt NoSuchKey: unknown name NoSuchKey"
        ),
        "{e}"
    );
    let e = error_of(&format!(
        "{HEAD}Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub '/x/${{Nope}}'
"
    ));
    assert!(
        e.contains("property LogGroupName: Fn::Sub ${Nope}: unknown name Nope"),
        "{e}"
    );
}

#[test]
fn missing_definition_file_names_the_file() {
    let e = error_of(&format!(
        "{HEAD}Resources:
  HumanReviewStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachine/x.json
"
    ));
    assert!(
        e.starts_with("resource HumanReviewStateMachine, property DefinitionUri: cannot read statemachine/x.json: "),
        "{e}"
    );
    assert!(e.contains("No such file"), "{e}");
}

#[test]
fn definition_that_is_not_json_after_substitution() {
    let dir = std::env::temp_dir().join(format!("cfn-template-test-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let written = std::fs::write(
        dir.join("sm.json"),
        r#"{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": ${Seconds}}}}"#,
    );
    assert!(written.is_ok());
    let template = format!(
        "{HEAD}Resources:
  Sm:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: sm.json
      DefinitionSubstitutions:
        Seconds: '\"ten'
"
    );
    let e = error_in(&template, &dir, &[]);
    assert!(
        e.starts_with(
            "resource Sm, property DefinitionUri: not valid JSON after DefinitionSubstitutions"
        ),
        "{e}"
    );
    // A number substitution makes valid JSON: the value is put in as text.
    let ok = template.replace("'\"ten'", "10");
    let stack = Stack::from_yaml_str(
        &ok,
        &dir,
        &LocalEnvironment::new("t"),
        &ParameterOverrides::new(),
    );
    let seconds = stack.ok().and_then(|s| {
        s.state_machines[0]
            .definition
            .pointer("/States/A/Seconds")
            .cloned()
    });
    assert_eq!(seconds, Some(serde_json::json!(10)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_parameter_values() {
    let template = format!(
        "{HEAD}Parameters:
  Timeout:
    Type: Number
    Default: 5
    MinValue: 1
    MaxValue: 900
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Resources:
  T:
    Type: AWS::SNS::Topic
"
    );
    let e = error_in(&template, &repo_root(), &["Timeout=soon"]);
    assert_eq!(
        e,
        "parameter Timeout value \"soon\" is not a number: pass --parameter-overrides Timeout=1"
    );
    let e = error_in(&template, &repo_root(), &["Timeout=901"]);
    assert!(e.contains("greater than MaxValue 900"), "{e}");
    let e = error_in(&template, &repo_root(), &["Stage=test"]);
    assert_eq!(
        e,
        "parameter Stage value \"test\" is not one of the AllowedValues dev, prod: pass --parameter-overrides Stage=dev"
    );
    let e = error_in(&template, &repo_root(), &["Stage"]);
    assert!(e.contains("is not Key=Value"), "{e}");
}

#[test]
fn shape_errors() {
    assert!(error_of("Resources: {}").starts_with("section Resources: missing or empty"));
    assert!(error_of("just a string").starts_with("section (template): must be a map"));
    assert!(error_of("a: [").starts_with("template is not valid YAML"));
    let e = error_of(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: .}\n",
    );
    assert!(e.starts_with("section Transform: F is an AWS::Serverless::Function, which needs Transform: AWS::Serverless-2016-10-31"), "{e}");
    let e = error_of(&format!("{HEAD}Resources:\n  X:\n    Properties: {{}}\n"));
    assert_eq!(e, "resource X, property Type: missing");
    let e = error_of(&format!(
        "{HEAD}Globals:\n  Lambda: {{Timeout: 3}}\nResources:\n  T: {{Type: AWS::SNS::Topic}}\n"
    ));
    assert!(
        e.starts_with("section Globals: Lambda is not supported; use one of Function,"),
        "{e}"
    );
    let e = error_of(&format!(
        "{HEAD}Globals:\n  Function: {{Policies: [AWSLambdaBasicExecutionRole]}}\nResources:\n  T: {{Type: AWS::SNS::Topic}}\n"
    ));
    assert_eq!(
        e,
        "section Globals: Function.Policies cannot be global (SAM rejects it); set it on each resource"
    );
}

#[test]
fn function_errors() {
    let e = error_of(&format!(
        "{HEAD}Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {{Handler: bootstrap}}\n"
    ));
    assert_eq!(
        e,
        "resource F, property CodeUri: missing: set CodeUri (or Globals.Function.CodeUri) to the function's source directory"
    );
    let e = error_of(&format!(
        "{HEAD}Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {{CodeUri: 's3://b/k.zip'}}\n"
    ));
    assert!(
        e.starts_with("resource F, property CodeUri: s3://b/k.zip is in S3"),
        "{e}"
    );
    let e = error_of(&format!(
        "{HEAD}Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {{CodeUri: ., Timeout: soon}}\n"
    ));
    assert_eq!(
        e,
        "resource F, property Timeout: must be a whole number, got \"soon\""
    );
    let e = error_of(&format!(
        "{HEAD}Globals:\n  Function: {{Architectures: [arm64]}}\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {{CodeUri: ., Architectures: [x86_64, arm64]}}\n"
    ));
    assert!(
        e.starts_with("resource F, property Architectures: Lambda takes exactly one architecture"),
        "{e}"
    );
    let e = error_of(&format!(
        "{HEAD}Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n      Environment: {{Variables: {{A: [1]}}}}\n"
    ));
    assert_eq!(
        e,
        "resource F, property Environment: variable A must resolve to a string, got [1]"
    );
}

#[test]
fn state_machine_errors() {
    let e = error_of(&format!(
        "{HEAD}Resources:\n  Sm:\n    Type: AWS::Serverless::StateMachine\n    Properties: {{Type: FAST}}\n"
    ));
    assert_eq!(
        e,
        "resource Sm, property Type: must be STANDARD or EXPRESS, got FAST"
    );
    let e = error_of(&format!(
        "{HEAD}Resources:\n  Sm:\n    Type: AWS::Serverless::StateMachine\n    Properties: {{}}\n"
    ));
    assert_eq!(
        e,
        "resource Sm: needs DefinitionUri (a file) or Definition (inline)"
    );
    let e = error_of(&format!(
        "{HEAD}Resources:\n  Sm:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      DefinitionUri: {{Bucket: b, Key: k}}\n"
    ));
    assert!(
        e.starts_with("resource Sm, property DefinitionUri: is an S3 location"),
        "{e}"
    );
    let e = error_of(&format!(
        "{HEAD}Resources:\n  Sm:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      Definition: {{StartAt: A}}\n"
    ));
    assert_eq!(
        e,
        "resource Sm, property Definition: is not a state machine definition: it has no States map"
    );
}

#[test]
fn condition_errors() {
    let e = error_of(&format!(
        "{HEAD}Conditions:\n  C: !Equals [!Ref Nope, '']\nResources:\n  T: {{Type: AWS::SNS::Topic}}\n"
    ));
    assert!(e.starts_with("condition C: unknown name Nope"), "{e}");
    let e = error_of(&format!(
        "{HEAD}Resources:\n  T: {{Type: AWS::SNS::Topic, Condition: Missing}}\n"
    ));
    assert_eq!(
        e,
        "resource T, property Condition: unknown condition Missing; the template's conditions are: (none)"
    );
    // A reference to a resource that a false condition leaves out.
    let e = error_of(&format!(
        "{HEAD}Conditions:\n  Never: !Equals [a, b]\nResources:\n  T: {{Type: AWS::SNS::Topic, Condition: Never}}\n  S:\n    Type: AWS::SNS::Subscription\n    Properties: {{TopicArn: !Ref T, Protocol: email, Endpoint: a@b.c}}\n"
    ));
    assert!(
        e.starts_with(
            "resource S, property TopicArn: T is not created because its condition Never is false"
        ),
        "{e}"
    );
}

#[test]
fn unsupported_intrinsics_name_the_property() {
    let e = error_of(&format!(
        "{HEAD}Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !ImportValue shared-name\n"
    ));
    assert!(
        e.starts_with(
            "resource T, property DisplayName: Fn::ImportValue reads another stack's export"
        ),
        "{e}"
    );
}

#[test]
fn depends_on_an_unknown_resource() {
    let e = error_of(&format!(
        "{HEAD}Resources:\n  T:\n    Type: AWS::SNS::Topic\n    DependsOn: [Missing]\n"
    ));
    assert_eq!(
        e,
        "resource T, property DependsOn: \"Missing\" is not a resource of this template"
    );
}

#[test]
fn for_each_is_named() {
    let e = error_of(&format!(
        "{HEAD}Resources:\n  Fn::ForEach::Topics:\n    - Name\n    - [A, B]\n    - Topic${{Name}}: {{Type: AWS::SNS::Topic}}\n"
    ));
    assert!(e.starts_with("resource Fn::ForEach::Topics: Fn::ForEach (the AWS::LanguageExtensions transform) is not supported locally"), "{e}");
}

/// No input panics: every prefix of the real template (most of them broken
/// YAML or broken templates) gives a stack or an error.
#[test]
fn every_prefix_of_the_real_template_loads_or_fails_cleanly() {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap_or_default();
    assert!(!text.is_empty());
    let lines: Vec<&str> = text.lines().collect();
    let overrides = ParameterOverrides::new().with("ReviewerEmail", "r@example.com");
    let mut loaded = 0;
    for n in 0..=lines.len() {
        let prefix = lines[..n].join("\n");
        let result = std::panic::catch_unwind(|| {
            Stack::from_yaml_str(
                &prefix,
                &repo_root(),
                &LocalEnvironment::new("t"),
                &overrides,
            )
            .is_ok()
        });
        match result {
            Ok(true) => loaded += 1,
            Ok(false) => {}
            Err(_) => panic!("panicked on the first {n} lines"),
        }
    }
    assert!(loaded > 0);
}
