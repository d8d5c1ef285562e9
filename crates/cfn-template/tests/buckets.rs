//! `AWS::S3::Bucket`s are resources local mode runs (local S3 creates them):
//! named or with CloudFormation's generated name, `!Ref` giving the name and
//! `!GetAtt Arn` the ARN, and no "skipped" notice.

use cfn_template::{LocalEnvironment, Notice, ParameterOverrides, Stack};

const TEMPLATE: &str = "
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  Inputs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'inputs-${Stage}-${AWS::AccountId}'
      VersioningConfiguration: {Status: Enabled}
  Results:
    Type: AWS::S3::Bucket
Outputs:
  InputsName: {Value: !Ref Inputs}
  InputsArn: {Value: !GetAtt Inputs.Arn}
  ResultsName: {Value: !Ref Results}
  ResultsArn: {Value: !GetAtt Results.Arn}
";

#[test]
fn buckets_are_read_with_their_names_and_arns() {
    let overrides = ParameterOverrides::parse(["Stage=prod"]).expect("overrides");
    let stack = Stack::from_yaml_str(
        TEMPLATE,
        ".".as_ref(),
        &LocalEnvironment::new("My-Stack"),
        &overrides,
    )
    .expect("the template loads");
    let names: Vec<(&str, &str, &str)> = stack
        .buckets
        .iter()
        .map(|b| (b.logical_id.as_str(), b.name.as_str(), b.arn.as_str()))
        .collect();
    let [
        ("Inputs", inputs, inputs_arn),
        ("Results", results, results_arn),
    ] = names[..]
    else {
        panic!("two buckets in template order: {names:?}");
    };
    assert_eq!(inputs, "inputs-prod-123456789012");
    assert_eq!(inputs_arn, "arn:aws:s3:::inputs-prod-123456789012");
    // CloudFormation's generated name: stack name, logical id, a suffix, lower case.
    assert!(results.starts_with("my-stack-results-"), "{results}");
    assert!(results.len() <= 63, "{results}");
    assert_eq!(results, results.to_ascii_lowercase());
    assert_eq!(results_arn, format!("arn:aws:s3:::{results}"));
    assert_eq!(
        stack.buckets[0].properties["VersioningConfiguration"]["Status"],
        "Enabled"
    );

    let outputs: Vec<(&str, &str)> = stack
        .outputs
        .iter()
        .map(|o| (o.name.as_str(), o.value.as_str()))
        .collect();
    assert_eq!(
        outputs,
        [
            ("InputsName", inputs),
            ("InputsArn", inputs_arn),
            ("ResultsName", results),
            ("ResultsArn", results_arn),
        ]
    );
    assert!(
        !stack
            .notices
            .iter()
            .any(|n| matches!(n, Notice::Skipped { .. })),
        "{:?}",
        stack.notices
    );
    assert!(stack.skipped.is_empty(), "{:?}", stack.skipped);
}
