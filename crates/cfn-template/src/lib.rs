//! Reads a CloudFormation/SAM template (`template.yaml`) into a resolved,
//! typed [`Stack`] that local mode runs without an AWS account.
//!
//! The contract:
//! - YAML with the short-form tags (`!Ref`, `!GetAtt`, `!Sub`, `!If`, ...) or
//!   JSON with the long forms; both mean the same.
//! - `Parameters` take their default or a `--parameter-overrides` value
//!   ([`ParameterOverrides`]) and are checked like CloudFormation checks them;
//!   an error says which override to pass.
//! - Pseudo parameters come from the caller's [`LocalEnvironment`] (default
//!   region `us-east-1`, account `123456789012`, partition `aws`).
//! - `Rules` are checked as CloudFormation checks them before a deploy: a
//!   failed assertion is a [`TemplateError::Rule`] with its
//!   `AssertDescription`; a rule that reads the AWS account (`Fn::RefAll`,
//!   `Fn::ValueOf`) is a [`Notice`].
//! - `Conditions` are evaluated; a resource or output whose condition is
//!   false is left out. `Globals` are merged as SAM merges them.
//! - Resources of the types local mode runs become typed values
//!   ([`Function`], [`StateMachine`], [`Topic`], [`Subscription`],
//!   [`HttpApi`], [`Table`], [`Bucket`]); every other resource is listed in
//!   [`Stack::skipped`] with a one-line [`Notice`], and `!Ref`/`!GetAtt` on
//!   it give a plausible placeholder (a KMS key ARN, a log group name, ...).
//! - `Policies` (SAM policy templates, inline statements) are expanded into
//!   a [`Policy`] that answers "may this role call X on Y" like IAM would,
//!   so local mode can fail where AWS would answer AccessDenied.
//! - Generated names and ARNs are derived from the stack name and logical
//!   id, so they are the same on every load.
//! - Anything it cannot understand is a [`TemplateError`] naming the
//!   resource and property (or parameter, condition, output).
//!
//! Decisions worth knowing:
//! - A `${Name}` in a state machine definition with no
//!   `DefinitionSubstitutions` entry is left as written (CloudFormation only
//!   replaces the keys it is given) and reported as a [`Notice`].
//! - A reference to a resource whose condition is false is an error, unless
//!   it sits in the branch of an `Fn::If` that is not taken.
//! - Dangling `Ref`/`Fn::GetAtt`/`${...}` are errors even inside skipped
//!   resources, as CloudFormation rejects them there too.
//!
//! Not supported (each is an error naming the resource and property, never
//! a silent default): S3 locations for `CodeUri`/`DefinitionUri`, container
//! image functions, `Fn::ImportValue`, `Fn::Cidr`, `Fn::Transform`/`AWS::Include`,
//! `Fn::ForEach`, SSM parameter types. Plain `AWS::Lambda::Function` resources
//! are skipped (placeholders only), as are `AWS::Serverless::Api` and the
//! other SAM types; plain `AWS::StepFunctions::StateMachine`s are read
//! (`DefinitionString` or `Definition`), their role's policies are not.
//!
//! ```
//! use cfn_template::{LocalEnvironment, ParameterOverrides, Stack};
//!
//! let yaml = r#"
//! Transform: AWS::Serverless-2016-10-31
//! Parameters:
//!   Email: {Type: String}
//! Resources:
//!   Topic:
//!     Type: AWS::SNS::Topic
//!     Properties:
//!       Subscription: [{Protocol: email, Endpoint: !Ref Email}]
//! "#;
//! let overrides = ParameterOverrides::parse(["Email=me@example.com"])?;
//! let stack = Stack::from_yaml_str(yaml, ".".as_ref(), &LocalEnvironment::new("demo"), &overrides)?;
//! assert_eq!(stack.topics[0].subscriptions[0].endpoint, "me@example.com");
//! # Ok::<(), cfn_template::TemplateError>(())
//! ```

mod env;
mod error;
mod globals;
mod known;
mod model;
mod params;
mod policy;
mod resolve;
mod rules;
mod stack;
mod subst;
mod yaml;

pub use env::{DEFAULT_ACCOUNT_ID, DEFAULT_HTTP_API_URL, DEFAULT_REGION, LocalEnvironment};
pub use error::TemplateError;
pub use model::{
    Bucket, Function, FunctionCode, FunctionEvent, HttpApi, HttpRoute, KeyElement, Notice, Output,
    SkippedResource, Stack, StateMachine, StateMachineType, Subscription, Table, Topic,
    TopicSubscription,
};
pub use params::{ParamValue, ParameterOverrides};
pub use policy::{Access, Effect, Policy, PolicyStatement};
