//! The typed, resolved model local mode runs. Every string here is final:
//! intrinsics, parameters, conditions and `Globals` have been applied.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

/// A template read for local mode. It serialises to JSON (for a
/// `--print-stack` style dump).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stack {
    /// `AWS::StackName` and the rest of the pseudo parameters used.
    pub env: crate::LocalEnvironment,
    /// The directory the template is in; `CodeUri` and `DefinitionUri` are
    /// relative to it (and `sam build` runs there).
    pub template_dir: PathBuf,
    /// The template's `Description`, if any.
    pub description: Option<String>,
    /// Parameter values after defaults and overrides (what `!Ref` gives;
    /// lists are comma-joined here).
    pub parameters: BTreeMap<String, String>,
    /// Every condition of the `Conditions` section and its value.
    pub conditions: BTreeMap<String, bool>,
    /// `AWS::Serverless::Function`s, in template order.
    pub functions: Vec<Function>,
    /// `AWS::Serverless::StateMachine`s (and plain
    /// `AWS::StepFunctions::StateMachine`s), in template order.
    pub state_machines: Vec<StateMachine>,
    /// `AWS::SNS::Topic`s, in template order.
    pub topics: Vec<Topic>,
    /// `AWS::SNS::Subscription`s, in template order, then the functions'
    /// `SNS` events (protocol `lambda`). Not the `Subscription` property of
    /// topics: those are in [`Topic::subscriptions`]; [`Stack::subscriptions_of`]
    /// gives both.
    pub subscriptions: Vec<Subscription>,
    /// `AWS::Serverless::HttpApi`s (explicit, and SAM's implicit
    /// `ServerlessHttpApi`) with the routes of the functions' `HttpApi` events.
    pub http_apis: Vec<HttpApi>,
    /// `AWS::DynamoDB::Table`s, in template order.
    pub tables: Vec<Table>,
    /// `AWS::S3::Bucket`s, in template order.
    pub buckets: Vec<Bucket>,
    /// Resources of types local mode does not run.
    pub skipped: Vec<SkippedResource>,
    /// `Outputs`, resolved, in template order (those whose condition is false
    /// are left out).
    pub outputs: Vec<Output>,
    /// One-line notices for the user: skipped resources, resources left out
    /// by a false condition, placeholders left in a state machine definition.
    pub notices: Vec<Notice>,
}

impl Stack {
    /// The function with this logical id, name, or ARN (qualified ARNs such
    /// as `...:function:name:$LATEST` match too), as the Lambda API accepts
    /// `FunctionName`.
    /// The function with this logical id, name, or ARN, as the Lambda API
    /// accepts `FunctionName`: `name`, `name:qualifier`, the full ARN
    /// `arn:aws:lambda:REGION:ACCOUNT:function:name[:qualifier]` or the
    /// partial ARN `ACCOUNT:function:name[:qualifier]`. The qualifier
    /// (version or alias) is ignored: local mode runs one version.
    pub fn function(&self, id_name_or_arn: &str) -> Option<&Function> {
        let by_id = self
            .functions
            .iter()
            .find(|f| f.logical_id == id_name_or_arn);
        if by_id.is_some() {
            return by_id;
        }
        let name = match id_name_or_arn.split_once(":function:") {
            Some((_, rest)) => rest,
            None => id_name_or_arn,
        };
        let name = name.split(':').next().unwrap_or(name);
        self.functions.iter().find(|f| f.name == name)
    }

    /// The state machine with this logical id, name, or ARN.
    pub fn state_machine(&self, id_name_or_arn: &str) -> Option<&StateMachine> {
        self.state_machines.iter().find(|s| {
            s.logical_id == id_name_or_arn || s.name == id_name_or_arn || s.arn == id_name_or_arn
        })
    }

    /// The topic with this logical id, name, or ARN.
    pub fn topic(&self, id_name_or_arn: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| {
            t.logical_id == id_name_or_arn || t.name == id_name_or_arn || t.arn == id_name_or_arn
        })
    }

    /// The output with this name.
    pub fn output(&self, name: &str) -> Option<&Output> {
        self.outputs.iter().find(|o| o.name == name)
    }

    /// Every subscription of the topic with this ARN: the topic's own
    /// `Subscription` property, then `AWS::SNS::Subscription` resources.
    pub fn subscriptions_of(&self, topic_arn: &str) -> Vec<TopicSubscription> {
        let mut out: Vec<TopicSubscription> = self
            .topics
            .iter()
            .filter(|t| t.arn == topic_arn)
            .flat_map(|t| t.subscriptions.iter().cloned())
            .collect();
        out.extend(
            self.subscriptions
                .iter()
                .filter(|s| s.topic_arn == topic_arn)
                .map(|s| TopicSubscription {
                    protocol: s.protocol.clone(),
                    endpoint: s.endpoint.clone(),
                    filter_policy: s.filter_policy.as_ref().map(policy_text),
                    filter_policy_scope: s.filter_policy_scope.clone(),
                }),
        );
        out
    }
}

/// Where a function's code is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FunctionCode {
    /// `CodeUri`: a directory, already joined to the template's directory.
    Dir(PathBuf),
    /// `InlineCode`.
    Inline(String),
}

/// An `AWS::Serverless::Function` with `Globals.Function` merged in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Function {
    /// Logical id in the template.
    pub logical_id: String,
    /// `FunctionName`, or the name CloudFormation would generate
    /// (`STACK-LogicalId-SUFFIX`, the same on every load). `!Ref` gives it.
    pub name: String,
    /// `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME`. `!GetAtt F.Arn` gives it.
    pub arn: String,
    /// The code: `CodeUri` relative to the template's directory, or inline.
    pub code: FunctionCode,
    /// `CodeUri` as written (after intrinsics), if given.
    pub code_uri: Option<String>,
    /// The Rust binary to run: `Metadata.BuildProperties.Binary`, else the
    /// last component of `CodeUri` (cargo-lambda's default for a package
    /// directory), else `None`.
    pub binary: Option<String>,
    /// `Metadata.BuildMethod`, e.g. `rust-cargolambda`.
    pub build_method: Option<String>,
    /// `Handler`.
    pub handler: Option<String>,
    /// `Runtime`, e.g. `provided.al2023`.
    pub runtime: Option<String>,
    /// `Architectures`; default `["x86_64"]` as Lambda's.
    pub architectures: Vec<String>,
    /// `Environment.Variables`, each value resolved to a string.
    pub environment: BTreeMap<String, String>,
    /// `Timeout` in seconds; default 3 as Lambda's.
    pub timeout_seconds: u32,
    /// `MemorySize` in MB; default 128 as Lambda's.
    pub memory_mb: u32,
    /// `LoggingConfig.LogFormat`: `Text` (the default) or `JSON`.
    pub log_format: String,
    /// `LoggingConfig.LogGroup`, resolved, if given.
    pub log_group: Option<String>,
    /// `LoggingConfig.ApplicationLogLevel` (Lambda applies it with JSON logs only).
    pub application_log_level: Option<String>,
    /// `LoggingConfig.SystemLogLevel` (likewise).
    pub system_log_level: Option<String>,
    /// `AutoPublishAlias`, if set: the alias the function also answers to.
    pub alias: Option<String>,
    /// The function's event sources (`Events`).
    pub events: Vec<FunctionEvent>,
    /// The execution role's permissions, from `Policies` (unknown if `Role` is set).
    pub policy: crate::Policy,
    /// All properties after `Globals` and intrinsics, for anything the typed
    /// fields do not cover (`Policies`, `Tracing`, ...).
    pub properties: Map<String, Value>,
}

/// One entry of a function's `Events`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionEvent {
    /// The event's name (its key under `Events`).
    pub name: String,
    /// `Type`, e.g. `HttpApi`, `SNS`, `Schedule`.
    pub event_type: String,
    /// `Properties`, resolved.
    pub properties: Map<String, Value>,
}

/// `STANDARD` or `EXPRESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StateMachineType {
    /// `STANDARD` (the default).
    Standard,
    /// `EXPRESS`.
    Express,
}

impl fmt::Display for StateMachineType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateMachineType::Standard => "STANDARD",
            StateMachineType::Express => "EXPRESS",
        })
    }
}

/// An `AWS::Serverless::StateMachine`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateMachine {
    /// Logical id in the template.
    pub logical_id: String,
    /// `Name`, or the name CloudFormation would generate (`LogicalId-SUFFIX`).
    pub name: String,
    /// `arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME`. `!Ref` gives it.
    pub arn: String,
    /// The ASL definition after `DefinitionSubstitutions`: loaded from
    /// `DefinitionUri` (relative to the template's directory) or `Definition`.
    pub definition: Value,
    /// Where the definition came from: the file, if `DefinitionUri`.
    pub definition_path: Option<PathBuf>,
    /// `Type`.
    pub machine_type: StateMachineType,
    /// `Role`, or the ARN of the role SAM would generate (`<LogicalId>Role`).
    pub role_arn: String,
    /// The role's permissions, from `Policies` (unknown if `Role` is set).
    pub policy: crate::Policy,
    /// All properties after intrinsics.
    pub properties: Map<String, Value>,
}

/// A subscription declared in a topic's `Subscription` property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicSubscription {
    /// `Protocol`: `email`, `sqs`, `lambda`, `https`, ...
    pub protocol: String,
    /// `Endpoint`: the address, ARN or URL.
    pub endpoint: String,
    /// `FilterPolicy` as JSON text (only `AWS::SNS::Subscription` has one;
    /// a topic's `Subscription` property cannot).
    pub filter_policy: Option<String>,
    /// `FilterPolicyScope`, if given.
    pub filter_policy_scope: Option<String>,
}

/// A `FilterPolicy` property as SNS takes it: JSON text. CloudFormation
/// accepts the policy as an object or as a string of JSON.
fn policy_text(policy: &Value) -> String {
    match policy {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// An `AWS::DynamoDB::Table`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Logical id in the template.
    pub logical_id: String,
    /// `TableName`, or the generated `STACK-LogicalId-SUFFIX`. `!Ref` gives it.
    pub name: String,
    /// `arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME`: `!GetAtt T.Arn`.
    pub arn: String,
    /// `KeySchema`: the partition key, then the sort key if any.
    pub key_schema: Vec<KeyElement>,
    /// `AttributeDefinitions`: name and type (`S`, `N` or `B`).
    pub attribute_definitions: Vec<(String, String)>,
    /// `BillingMode` (`PROVISIONED` when absent, as in CloudFormation).
    pub billing_mode: String,
    /// `TimeToLiveSpecification.AttributeName` when enabled.
    pub ttl_attribute: Option<String>,
    /// All properties after intrinsics.
    pub properties: Map<String, Value>,
}

/// An `AWS::S3::Bucket`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// Logical id in the template.
    pub logical_id: String,
    /// `BucketName`, or the generated lower-case `stack-logicalid-suffix`. `!Ref` gives it.
    pub name: String,
    /// `arn:PARTITION:s3:::NAME`: `!GetAtt B.Arn`.
    pub arn: String,
    /// All properties after intrinsics.
    pub properties: Map<String, Value>,
}

/// One element of a table's `KeySchema`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyElement {
    /// `AttributeName`.
    pub attribute_name: String,
    /// `HASH` or `RANGE`.
    pub key_type: String,
}

/// An `AWS::SNS::Topic`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Topic {
    /// Logical id in the template.
    pub logical_id: String,
    /// `TopicName`, or the generated `STACK-LogicalId-SUFFIX`. `!GetAtt T.TopicName` gives it.
    pub name: String,
    /// `arn:PARTITION:sns:REGION:ACCOUNT:NAME`. `!Ref` gives it.
    pub arn: String,
    /// `DisplayName`, if any.
    pub display_name: Option<String>,
    /// `KmsMasterKeyId`, resolved; ignored locally.
    pub kms_master_key_id: Option<String>,
    /// `FifoTopic`.
    pub fifo: bool,
    /// The `Subscription` property.
    pub subscriptions: Vec<TopicSubscription>,
    /// All properties after intrinsics.
    pub properties: Map<String, Value>,
}

/// An `AWS::SNS::Subscription`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subscription {
    /// Logical id in the template.
    pub logical_id: String,
    /// `TopicArn`, resolved.
    pub topic_arn: String,
    /// `Protocol`.
    pub protocol: String,
    /// `Endpoint`.
    pub endpoint: String,
    /// `RawMessageDelivery`.
    pub raw_message_delivery: bool,
    /// `FilterPolicy`, if any.
    pub filter_policy: Option<Value>,
    /// `FilterPolicyScope`, if any (`MessageAttributes` or `MessageBody`).
    pub filter_policy_scope: Option<String>,
    /// All properties after intrinsics.
    pub properties: Map<String, Value>,
}

/// An HTTP API served locally: `AWS::Serverless::HttpApi`, or SAM's implicit
/// `ServerlessHttpApi` for `HttpApi` events without `ApiId`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpApi {
    /// Logical id (`ServerlessHttpApi` for the implicit API).
    pub logical_id: String,
    /// The API id `!Ref` gives.
    pub api_id: String,
    /// The local server's URL, which `!GetAtt Api.ApiEndpoint` gives.
    pub endpoint: String,
    /// `StageName`, if given (`$default` otherwise).
    pub stage_name: String,
    /// Routes from the functions' `HttpApi` events, in template order.
    pub routes: Vec<HttpRoute>,
}

/// One route of an [`HttpApi`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpRoute {
    /// `Method`, upper case; `ANY` when not given.
    pub method: String,
    /// `Path`, e.g. `/reviews/{id}`; `$default` when not given.
    pub path: String,
    /// Logical id of the function that handles it.
    pub function: String,
    /// `PayloadFormatVersion`; SAM's default is `2.0`.
    pub payload_format_version: String,
}

/// A resource whose type local mode does not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedResource {
    /// Logical id in the template.
    pub logical_id: String,
    /// Its `Type`.
    pub resource_type: String,
}

/// An entry of `Outputs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    /// The output's name.
    pub name: String,
    /// `Value`, resolved.
    pub value: String,
    /// `Description`, if any.
    pub description: Option<String>,
    /// `Export.Name`, resolved, if any.
    pub export_name: Option<String>,
}

/// Something the user should know about how the template runs locally; its
/// `Display` is one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A resource of a type local mode does not run.
    Skipped {
        /// Logical id.
        logical_id: String,
        /// Its `Type`.
        resource_type: String,
    },
    /// A resource left out because its condition is false.
    ConditionFalse {
        /// Logical id.
        logical_id: String,
        /// The condition's name.
        condition: String,
    },
    /// A `${Name}` left in a state machine definition because
    /// `DefinitionSubstitutions` has no `Name` (AWS leaves it as well).
    UnsubstitutedPlaceholder {
        /// Logical id of the state machine.
        logical_id: String,
        /// The placeholder, e.g. `${Foo}`.
        placeholder: String,
    },
    /// A property that is probably a misspelling: SAM or CloudFormation
    /// would reject it at deploy time; local mode ignores it.
    MisspeltProperty {
        /// Logical id.
        logical_id: String,
        /// The property as written.
        property: String,
        /// The known property it is close to.
        suggestion: String,
    },
    /// A parameter's `AllowedPattern` that local mode cannot check.
    UncheckedPattern {
        /// The parameter.
        parameter: String,
        /// Why.
        reason: String,
    },
    /// A rule of the `Rules` section that local mode cannot check (it needs
    /// data from an AWS account: `Fn::RefAll`, `Fn::ValueOf`, ...).
    UncheckedRule {
        /// The rule's name.
        rule: String,
        /// Why.
        reason: String,
    },
    /// A function event of a type local mode does not deliver.
    IgnoredEvent {
        /// Logical id of the function.
        function: String,
        /// The event's name.
        event: String,
        /// Its `Type`.
        event_type: String,
    },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Skipped {
                logical_id,
                resource_type,
            } => write!(
                f,
                "skipping {logical_id} ({resource_type}): not needed locally"
            ),
            Notice::ConditionFalse {
                logical_id,
                condition,
            } => write!(
                f,
                "skipping {logical_id}: its condition {condition} is false"
            ),
            Notice::UnsubstitutedPlaceholder {
                logical_id,
                placeholder,
            } => write!(
                f,
                "{logical_id}: {placeholder} is left in the definition: DefinitionSubstitutions has no value for it"
            ),
            Notice::MisspeltProperty {
                logical_id,
                property,
                suggestion,
            } => write!(
                f,
                "{logical_id}: property {property} is not known (did you mean {suggestion}?); local mode ignores it and deploying would fail"
            ),
            Notice::UncheckedPattern { parameter, reason } => {
                write!(f, "parameter {parameter}: {reason}")
            }
            Notice::IgnoredEvent {
                function,
                event,
                event_type,
            } => write!(
                f,
                "{function}: event {event} ({event_type}) is not delivered locally; invoke the function directly"
            ),
            Notice::UncheckedRule { rule, reason } => write!(
                f,
                "rule {rule} is not checked locally ({reason}); CloudFormation checks it at deploy time"
            ),
        }
    }
}
