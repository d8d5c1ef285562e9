//! The properties of the resource types local mode reads, to point out a
//! misspelt property ("Timout") that SAM or CloudFormation would reject at
//! deploy time while local mode would quietly use a default.
//!
//! Relied on: the "Syntax" sections of the SAM developer guide
//! (AWS::Serverless::Function, AWS::Serverless::StateMachine,
//! AWS::Serverless::HttpApi) and the CloudFormation template reference
//! (AWS::SNS::Topic, AWS::SNS::Subscription, AWS::StepFunctions::StateMachine). New properties appear over
//! time, so only a near miss of a known name is reported, and only as a notice.

const FUNCTION: &[&str] = &[
    "Architectures",
    "AssumeRolePolicyDocument",
    "AutoPublishAlias",
    "AutoPublishAliasAllProperties",
    "AutoPublishCodeSha256",
    "CapacityProviderConfig",
    "CodeSigningConfigArn",
    "CodeUri",
    "DeadLetterQueue",
    "DeploymentPreference",
    "Description",
    "DurableConfig",
    "Environment",
    "EphemeralStorage",
    "EventInvokeConfig",
    "Events",
    "FileSystemConfigs",
    "FunctionName",
    "FunctionScalingConfig",
    "FunctionUrlConfig",
    "Handler",
    "ImageConfig",
    "ImageUri",
    "InlineCode",
    "KmsKeyArn",
    "Layers",
    "LoggingConfig",
    "MemorySize",
    "PackageType",
    "PermissionsBoundary",
    "Policies",
    "PropagateTags",
    "ProvisionedConcurrencyConfig",
    "PublishToLatestPublished",
    "RecursiveLoop",
    "ReservedConcurrentExecutions",
    "Role",
    "RolePath",
    "Runtime",
    "RuntimeManagementConfig",
    "SnapStart",
    "SourceKMSKeyArn",
    "Tags",
    "TenancyConfig",
    "Timeout",
    "Tracing",
    "VersionDescription",
    "VpcConfig",
];

const STATE_MACHINE: &[&str] = &[
    "AutoPublishAlias",
    "Definition",
    "DefinitionSubstitutions",
    "DefinitionUri",
    "DeploymentPreference",
    "Events",
    "Logging",
    "Name",
    "PermissionsBoundary",
    "Policies",
    "PropagateTags",
    "Role",
    "RolePath",
    "Tags",
    "Tracing",
    "Type",
    "UseAliasAsEventTarget",
];

const CFN_STATE_MACHINE: &[&str] = &[
    "Definition",
    "DefinitionS3Location",
    "DefinitionString",
    "DefinitionSubstitutions",
    "EncryptionConfiguration",
    "LoggingConfiguration",
    "RoleArn",
    "StateMachineName",
    "StateMachineType",
    "Tags",
    "TracingConfiguration",
];

const TOPIC: &[&str] = &[
    "ArchivePolicy",
    "ContentBasedDeduplication",
    "DataProtectionPolicy",
    "DeliveryStatusLogging",
    "DisplayName",
    "FifoThroughputScope",
    "FifoTopic",
    "KmsMasterKeyId",
    "SignatureVersion",
    "Subscription",
    "Tags",
    "TopicName",
    "TracingConfig",
];

const SUBSCRIPTION: &[&str] = &[
    "DeliveryPolicy",
    "Endpoint",
    "FilterPolicy",
    "FilterPolicyScope",
    "Protocol",
    "RawMessageDelivery",
    "RedrivePolicy",
    "Region",
    "ReplayPolicy",
    "SubscriptionRoleArn",
    "TopicArn",
];

const HTTP_API: &[&str] = &[
    "AccessLogSettings",
    "Auth",
    "CorsConfiguration",
    "DefaultRouteSettings",
    "DefinitionBody",
    "DefinitionUri",
    "Description",
    "DisableExecuteApiEndpoint",
    "Domain",
    "FailOnWarnings",
    "Name",
    "PropagateTags",
    "RouteSettings",
    "StageName",
    "StageVariables",
    "Tags",
];

fn properties_of(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        "AWS::Serverless::Function" => FUNCTION,
        "AWS::Serverless::StateMachine" => STATE_MACHINE,
        "AWS::StepFunctions::StateMachine" => CFN_STATE_MACHINE,
        "AWS::SNS::Topic" => TOPIC,
        "AWS::SNS::Subscription" => SUBSCRIPTION,
        "AWS::Serverless::HttpApi" => HTTP_API,
        _ => &[],
    }
}

/// The known property `property` is probably a misspelling of, if any.
pub(crate) fn near_miss(resource_type: &str, property: &str) -> Option<&'static str> {
    let known = properties_of(resource_type);
    if known.contains(&property) {
        return None;
    }
    known
        .iter()
        .map(|k| {
            (
                distance(&k.to_ascii_lowercase(), &property.to_ascii_lowercase()),
                *k,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses() {
        assert_eq!(
            near_miss("AWS::Serverless::Function", "Timout"),
            Some("Timeout")
        );
        assert_eq!(
            near_miss("AWS::Serverless::Function", "codeUri"),
            Some("CodeUri")
        );
        assert_eq!(near_miss("AWS::Serverless::Function", "Timeout"), None);
        assert_eq!(near_miss("AWS::Serverless::Function", "SomethingNew"), None);
        assert_eq!(
            near_miss("AWS::SNS::Topic", "Subscriptions"),
            Some("Subscription")
        );
        assert_eq!(near_miss("AWS::Other::Type", "Timout"), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
