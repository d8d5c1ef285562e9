//! A resource's `Policies`, expanded so local mode can refuse a call that
//! AWS would refuse with AccessDenied (a missing policy should fail locally,
//! not on the first deploy).
//!
//! Relied on:
//! - SAM developer guide, AWS::Serverless::Function / StateMachine,
//!   `Policies`: a managed policy name or ARN, a SAM policy template
//!   (`{TemplateName: {Param: value}}`), or an inline policy document
//!   (`{Statement: [...]}`); a string, a map, or a list of those.
//! - The policy template definitions in aws/serverless-application-model,
//!   `samtranslator/policy_templates_data/policy_templates.json` (the
//!   templates below copy their actions and resource ARNs).
//! - IAM policy evaluation: an explicit Deny wins, then an Allow, else the
//!   request is implicitly denied; `*` and `?` are wildcards in actions
//!   (case-insensitive) and resources.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::LocalEnvironment;
use crate::params::scalar_string;

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

/// One statement of a policy, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyStatement {
    /// `Effect`.
    pub effect: Effect,
    /// `Action`, e.g. `sns:Publish`, `logs:*`.
    pub actions: Vec<String>,
    /// `Resource` ARNs, possibly with wildcards.
    pub resources: Vec<String>,
    /// The statement has a `Condition`, `NotAction` or `NotResource`, which
    /// local mode does not evaluate: a match makes the answer
    /// [`Access::Unknown`], never a definite one.
    pub conditional: bool,
}

/// What a policy says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Access {
    /// An Allow statement matches and no Deny does.
    Allowed,
    /// A Deny statement matches, or nothing allows it and every policy of
    /// the resource is known.
    Denied,
    /// Something local mode cannot see decides: a managed policy, a policy
    /// template it does not expand, a role defined elsewhere, or a condition.
    Unknown,
}

/// The permissions of a function's or state machine's execution role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Statements from policy templates and inline documents (and, for
    /// functions, the `AWSLambdaBasicExecutionRole` SAM always attaches).
    pub statements: Vec<PolicyStatement>,
    /// Managed policies named in `Policies` that local mode does not expand.
    pub managed_policies: Vec<String>,
    /// Policy templates local mode does not expand.
    pub unexpanded_templates: Vec<String>,
    /// The resource sets `Role`: its permissions are defined elsewhere.
    pub external_role: bool,
}

impl Policy {
    /// Whether the role may perform `action` (e.g. `sns:Publish`) on
    /// `resource` (an ARN).
    pub fn allows(&self, action: &str, resource: &str) -> Access {
        let mut uncertain = self.external_role
            || !self.managed_policies.is_empty()
            || !self.unexpanded_templates.is_empty();
        let mut allowed = false;
        for s in &self.statements {
            let matches = s.actions.iter().any(|a| wildcard(a, action, true))
                && s.resources.iter().any(|r| wildcard(r, resource, false));
            if !matches {
                continue;
            }
            match (s.effect, s.conditional) {
                (Effect::Deny, false) => return Access::Denied,
                (_, true) => uncertain = true,
                (Effect::Allow, false) => allowed = true,
            }
        }
        match (allowed, uncertain) {
            (true, _) => Access::Allowed,
            (false, true) => Access::Unknown,
            (false, false) => Access::Denied,
        }
    }
}

/// IAM wildcard match: `*` any run of characters, `?` one character.
fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if ignore_case {
        (
            pattern.to_ascii_lowercase().chars().collect(),
            text.to_ascii_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A policy template: its parameter and statements (actions, resource ARN
/// with `{P}` for the parameter, `{partition}`, `{region}`, `{account}`).
struct Template {
    name: &'static str,
    param: &'static str,
    statements: &'static [(&'static [&'static str], &'static [&'static str])],
}

const SNS: &str = "arn:{partition}:sns:{region}:{account}:{P}";
const SQS: &str = "arn:{partition}:sqs:{region}:{account}:{P}";
const DYNAMO: &[&str] = &[
    "arn:{partition}:dynamodb:{region}:{account}:table/{P}",
    "arn:{partition}:dynamodb:{region}:{account}:table/{P}/index/*",
];
const S3: &[&str] = &["arn:{partition}:s3:::{P}", "arn:{partition}:s3:::{P}/*"];
const KMS: &str = "arn:{partition}:kms:{region}:{account}:key/{P}";

/// The object reads S3ReadPolicy and S3CrudPolicy share, in SAM's order.
const S3_OBJECT_READ: [&str; 4] = [
    "s3:GetObject",
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:GetObjectVersion",
];
const S3_READ: [&str; 5] = join(S3_OBJECT_READ, ["s3:GetLifecycleConfiguration"]);
const S3_CRUD: [&str; 9] = join(
    S3_OBJECT_READ,
    [
        "s3:PutObject",
        "s3:PutObjectAcl",
        "s3:GetLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:DeleteObject",
    ],
);

/// `a` then `b`, at compile time (a length that does not add up fails the build).
const fn join<const A: usize, const B: usize, const N: usize>(
    a: [&'static str; A],
    b: [&'static str; B],
) -> [&'static str; N] {
    assert!(A + B == N, "join: the lengths do not add up");
    let mut out = [""; N];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

const TEMPLATES: &[Template] = &[
    Template {
        name: "SNSPublishMessagePolicy",
        param: "TopicName",
        statements: &[(&["sns:Publish"], &[SNS])],
    },
    Template {
        name: "SNSCrudPolicy",
        param: "TopicName",
        statements: &[(
            &[
                "sns:ListSubscriptionsByTopic",
                "sns:CreateTopic",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:Publish",
            ],
            &["arn:{partition}:sns:{region}:{account}:{P}*"],
        )],
    },
    Template {
        name: "LambdaInvokePolicy",
        param: "FunctionName",
        statements: &[(
            &["lambda:InvokeFunction"],
            &["arn:{partition}:lambda:{region}:{account}:function:{P}*"],
        )],
    },
    Template {
        name: "SQSSendMessagePolicy",
        param: "QueueName",
        statements: &[(&["sqs:SendMessage*"], &[SQS])],
    },
    Template {
        name: "SQSPollerPolicy",
        param: "QueueName",
        statements: &[(
            &[
                "sqs:ChangeMessageVisibility",
                "sqs:ChangeMessageVisibilityBatch",
                "sqs:DeleteMessage",
                "sqs:DeleteMessageBatch",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            &[SQS],
        )],
    },
    Template {
        name: "KMSDecryptPolicy",
        param: "KeyId",
        statements: &[(&["kms:Decrypt"], &[KMS])],
    },
    Template {
        name: "KMSEncryptPolicy",
        param: "KeyId",
        statements: &[(&["kms:Encrypt"], &[KMS])],
    },
    Template {
        name: "DynamoDBCrudPolicy",
        param: "TableName",
        statements: &[(
            &[
                "dynamodb:GetItem",
                "dynamodb:DeleteItem",
                "dynamodb:PutItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:BatchGetItem",
                "dynamodb:DescribeTable",
                "dynamodb:ConditionCheckItem",
            ],
            DYNAMO,
        )],
    },
    Template {
        name: "DynamoDBReadPolicy",
        param: "TableName",
        statements: &[(
            &[
                "dynamodb:GetItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:DescribeTable",
            ],
            DYNAMO,
        )],
    },
    Template {
        name: "S3ReadPolicy",
        param: "BucketName",
        statements: &[(&S3_READ, S3)],
    },
    Template {
        name: "S3CrudPolicy",
        param: "BucketName",
        statements: &[(&S3_CRUD, S3)],
    },
];

/// The managed policy SAM attaches to every function role it generates.
const BASIC_EXECUTION: &str = "AWSLambdaBasicExecutionRole";

fn basic_execution() -> PolicyStatement {
    PolicyStatement {
        effect: Effect::Allow,
        actions: vec![
            "logs:CreateLogGroup".to_owned(),
            "logs:CreateLogStream".to_owned(),
            "logs:PutLogEvents".to_owned(),
        ],
        resources: vec!["*".to_owned()],
        conditional: false,
    }
}

/// `AWSXrayWriteOnlyAccess`, which SAM attaches to the role of a function
/// with `Tracing: Active`.
fn xray_write() -> PolicyStatement {
    PolicyStatement {
        effect: Effect::Allow,
        actions: vec![
            "xray:PutTraceSegments".to_owned(),
            "xray:PutTelemetryRecords".to_owned(),
            "xray:GetSamplingRules".to_owned(),
            "xray:GetSamplingTargets".to_owned(),
            "xray:GetSamplingStatisticSummaries".to_owned(),
        ],
        resources: vec!["*".to_owned()],
        conditional: false,
    }
}

/// What SAM adds to the role it generates besides `Policies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Implicit {
    /// A state machine: nothing.
    None,
    /// A function: basic execution, and X-Ray writes if `traced`.
    Function {
        /// `Tracing: Active`.
        traced: bool,
    },
}

/// Reads a resolved `Policies` property, plus what SAM attaches to the role
/// it generates. Errors are messages for the `Policies` property.
pub(crate) fn read(
    policies: Option<&Value>,
    role_given: bool,
    implicit: Implicit,
    env: &LocalEnvironment,
) -> Result<Policy, String> {
    let mut policy = Policy {
        external_role: role_given,
        ..Policy::default()
    };
    if role_given {
        // SAM ignores Policies when Role is set.
        return Ok(policy);
    }
    if let Implicit::Function { traced } = implicit {
        policy.statements.push(basic_execution());
        if traced {
            policy.statements.push(xray_write());
        }
    }
    let items: Vec<&Value> = match policies {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    };
    for item in items {
        match item {
            Value::String(name) => {
                let short = name.rsplit('/').next().unwrap_or(name);
                if short == BASIC_EXECUTION {
                    policy.statements.push(basic_execution());
                } else {
                    policy.managed_policies.push(name.clone());
                }
            }
            Value::Object(map) if map.contains_key("Statement") => {
                read_document(map, &mut policy)?;
            }
            Value::Object(map) if map.len() == 1 => {
                let Some((name, params)) = map.iter().next() else {
                    continue;
                };
                match TEMPLATES.iter().find(|t| t.name == name) {
                    Some(t) => expand(t, params, env, &mut policy)?,
                    None => policy.unexpanded_templates.push(name.clone()),
                }
            }
            other => {
                return Err(format!(
                    "each policy must be a managed policy name, a policy template {{Name: {{...}}}} or a document with Statement, got {other}"
                ));
            }
        }
    }
    Ok(policy)
}

fn expand(
    t: &Template,
    params: &Value,
    env: &LocalEnvironment,
    policy: &mut Policy,
) -> Result<(), String> {
    let value = params
        .get(t.param)
        .and_then(scalar_string)
        .ok_or_else(|| format!("{} needs {} (a string)", t.name, t.param))?;
    for (actions, resources) in t.statements {
        policy.statements.push(PolicyStatement {
            effect: Effect::Allow,
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            resources: resources
                .iter()
                .map(|r| {
                    r.replace("{partition}", &env.partition)
                        .replace("{region}", &env.region)
                        .replace("{account}", &env.account_id)
                        .replace("{P}", &value)
                })
                .collect(),
            conditional: false,
        });
    }
    Ok(())
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(scalar_string).collect(),
        Some(v) => scalar_string(v).into_iter().collect(),
        None => Vec::new(),
    }
}

fn read_document(doc: &Map<String, Value>, policy: &mut Policy) -> Result<(), String> {
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    };
    for s in statements {
        let effect = match s.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            other => {
                return Err(format!(
                    "a statement's Effect must be Allow or Deny, got {}",
                    other.unwrap_or("nothing")
                ));
            }
        };
        let conditional = s.get("Condition").is_some()
            || s.get("NotAction").is_some()
            || s.get("NotResource").is_some();
        let mut actions = strings(s.get("Action"));
        let mut resources = strings(s.get("Resource"));
        // NotAction/NotResource: which requests they cover is left to AWS;
        // treat them as covering everything, but only ever as "unknown".
        if s.get("NotAction").is_some() {
            actions = vec!["*".to_owned()];
        }
        if s.get("NotResource").is_some() {
            resources = vec!["*".to_owned()];
        }
        policy.statements.push(PolicyStatement {
            effect,
            actions,
            resources,
            conditional,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> LocalEnvironment {
        LocalEnvironment::new("s")
    }

    fn read_ok(v: Value) -> Policy {
        match read(Some(&v), false, Implicit::None, &env()) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("arn:*:fn*", "arn:aws:fnX", false));
        assert!(wildcard("sns:*", "SNS:Publish", true));
        assert!(wildcard("a?c", "abc", false));
        assert!(!wildcard("a?c", "ac", false));
        assert!(!wildcard("arn:x", "arn:xy", false));
        assert!(wildcard("*", "", false));
        assert!(wildcard("a*b*c", "aXbYbZc", false));
        assert!(!wildcard("Arn", "arn", false));
    }

    #[test]
    fn templates_documents_and_managed_policies() {
        let p = read_ok(json!([
            {"SNSPublishMessagePolicy": {"TopicName": "t"}},
            {"LambdaInvokePolicy": {"FunctionName": "f"}},
            {"Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "arn:aws:kms:us-east-1:123456789012:key/k"}]},
        ]));
        let topic = "arn:aws:sns:us-east-1:123456789012:t";
        assert_eq!(p.allows("sns:Publish", topic), Access::Allowed);
        assert_eq!(p.allows("sns:Subscribe", topic), Access::Denied);
        assert_eq!(
            p.allows("sns:Publish", "arn:aws:sns:us-east-1:123456789012:other"),
            Access::Denied
        );
        let f = "arn:aws:lambda:us-east-1:123456789012:function:f";
        assert_eq!(p.allows("lambda:InvokeFunction", f), Access::Allowed);
        assert_eq!(
            p.allows("lambda:InvokeFunction", &format!("{f}:$LATEST")),
            Access::Allowed
        );
        assert_eq!(
            p.allows("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/k"),
            Access::Allowed
        );

        let p = read_ok(json!(["AmazonSNSFullAccess", {"SESCrudPolicy": {"IdentityName": "x"}}]));
        assert_eq!(p.managed_policies, ["AmazonSNSFullAccess"]);
        assert_eq!(p.unexpanded_templates, ["SESCrudPolicy"]);
        assert_eq!(p.allows("sns:Publish", "arn:x"), Access::Unknown);
    }

    #[test]
    fn deny_and_conditions() {
        let p = read_ok(json!({"Statement": [
            {"Effect": "Allow", "Action": "sns:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "sns:Publish", "Resource": "arn:secret"},
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        ]}));
        assert_eq!(p.allows("sns:Publish", "arn:open"), Access::Allowed);
        assert_eq!(p.allows("sns:Publish", "arn:secret"), Access::Denied);
        assert_eq!(p.allows("sqs:SendMessage", "arn:q"), Access::Unknown);
        assert_eq!(p.allows("s3:GetObject", "arn:b"), Access::Denied);
    }

    #[test]
    fn functions_get_basic_execution_and_role_means_unknown() -> Result<(), String> {
        let p = read(None, false, Implicit::Function { traced: false }, &env())?;
        assert_eq!(p.allows("logs:PutLogEvents", "arn:any"), Access::Allowed);
        assert_eq!(p.allows("xray:PutTraceSegments", "*"), Access::Denied);
        let p = read(None, false, Implicit::Function { traced: true }, &env())?;
        assert_eq!(p.allows("xray:PutTraceSegments", "*"), Access::Allowed);
        let p = read(
            Some(&json!([{"SNSPublishMessagePolicy": {"TopicName": "t"}}])),
            true,
            Implicit::Function { traced: false },
            &env(),
        )?;
        assert!(p.external_role);
        assert_eq!(
            p.allows("sns:Publish", "arn:aws:sns:us-east-1:123456789012:t"),
            Access::Unknown
        );
        Ok(())
    }

    #[test]
    fn malformed_policies_are_errors() {
        let e = read(
            Some(&json!([{"SNSPublishMessagePolicy": {}}])),
            false,
            Implicit::None,
            &env(),
        );
        assert_eq!(
            e,
            Err("SNSPublishMessagePolicy needs TopicName (a string)".to_owned())
        );
        let e = read(
            Some(&json!([{"Statement": [{"Effect": "Maybe"}]}])),
            false,
            Implicit::None,
            &env(),
        );
        assert!(e.is_err_and(|e| e.contains("Allow or Deny")));
        let e = read(Some(&json!([1])), false, Implicit::None, &env());
        assert!(e.is_err());
    }
}
