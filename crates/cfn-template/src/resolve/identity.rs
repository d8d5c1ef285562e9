//! What `Ref` and `Fn::GetAtt` give: parameters, pseudo parameters, and
//! each resource type's return values.

use serde_json::{Map, Value};

use super::{Identity, PSEUDO_PARAMETERS, Resolver, string_of};
use crate::env::LocalEnvironment;
use crate::error::ResolveError;

impl Resolver<'_> {
    /// `Ref name`: a parameter, a pseudo parameter, or a resource.
    pub(super) fn reference(
        &self,
        name: &str,
        depth: usize,
    ) -> Result<Option<Value>, ResolveError> {
        if let Some(p) = self.params.get(name) {
            return Ok(Some(p.to_json()));
        }
        let env = self.env;
        let s = |v: &str| Ok(Some(Value::String(v.to_owned())));
        match name {
            "AWS::NoValue" => Ok(None),
            "AWS::Region" => s(&env.region),
            "AWS::AccountId" => s(&env.account_id),
            "AWS::Partition" => s(&env.partition),
            "AWS::StackName" => s(&env.stack_name),
            "AWS::StackId" => s(&env.stack_id()),
            "AWS::URLSuffix" => s(&env.url_suffix),
            "AWS::NotificationARNs" => Ok(Some(Value::Array(
                env.notification_arns
                    .iter()
                    .cloned()
                    .map(Value::String)
                    .collect(),
            ))),
            _ if name.starts_with("AWS::") => Err(ResolveError::new(format!(
                "unknown pseudo parameter {name}; known: {}",
                PSEUDO_PARAMETERS.join(", ")
            ))),
            _ => Ok(Some(Value::String(
                self.identity_at(name, depth)?.ref_value,
            ))),
        }
    }

    pub(super) fn get_att(
        &self,
        id: &str,
        attr: &str,
        depth: usize,
    ) -> Result<String, ResolveError> {
        let identity = self.identity_at(id, depth)?;
        if let Some(v) = identity.attr(attr) {
            return Ok(v.to_owned());
        }
        if identity.any_attr {
            return Ok(format!("{}.{attr}", identity.name));
        }
        let known: Vec<&str> = identity.attrs.iter().map(|(k, _)| *k).collect();
        Err(ResolveError::new(format!(
            "Fn::GetAtt {id}.{attr}: {id} has no attribute {attr}; it has: {}",
            known.join(", ")
        )))
    }

    /// What `Ref`/`Fn::GetAtt` give for the resource `id`.
    pub(crate) fn identity(&self, id: &str) -> Result<Identity, ResolveError> {
        self.identity_at(id, 0)
    }

    pub(super) fn identity_at(&self, id: &str, depth: usize) -> Result<Identity, ResolveError> {
        let depth = Self::deeper(depth)?;
        let Some(resource) = self.resources.get(id) else {
            return self.implicit_identity(id, depth);
        };
        let ty = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        if let Some(cond) = resource.get("Condition").and_then(Value::as_str)
            && !self.cond(cond, depth)?
        {
            return Err(ResolveError::new(format!(
                "{id} is not created because its condition {cond} is false; guard the reference with !If [{cond}, ..., !Ref AWS::NoValue]"
            )));
        }
        let empty = Map::new();
        let props = resource
            .get("Properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let name_prop = |key: &str| -> Result<Option<String>, ResolveError> {
            match props.get(key) {
                None => Ok(None),
                Some(v) => match self.eval(v, depth)? {
                    None => Ok(None),
                    Some(r) => string_of(&format!("{id}.{key}"), &r).map(Some),
                },
            }
        };
        let env = self.env;
        let generated = |max: usize| env.generated_name(id, max);
        let id_like = |len: usize| -> String {
            let mut s = env.suffix(id).to_ascii_lowercase();
            s.truncate(len);
            s
        };
        let identity = match ty {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => {
                let name = name_prop("FunctionName")?.unwrap_or_else(|| generated(64));
                let arn = env.arn("lambda", &format!("function:{name}"));
                known(name.clone(), name, vec![("Arn", arn)])
            }
            "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => {
                let key = if ty == "AWS::Serverless::StateMachine" {
                    "Name"
                } else {
                    "StateMachineName"
                };
                let name = name_prop(key)?.unwrap_or_else(|| format!("{id}-{}", env.suffix(id)));
                let arn = env.arn("states", &format!("stateMachine:{name}"));
                known(
                    name.clone(),
                    arn.clone(),
                    vec![("Arn", arn), ("Name", name)],
                )
            }
            "AWS::SNS::Topic" => {
                let fifo = matches!(props.get("FifoTopic"), Some(Value::Bool(true)))
                    || props.get("FifoTopic").and_then(Value::as_str) == Some("true");
                let name = name_prop("TopicName")?.unwrap_or_else(|| {
                    if fifo {
                        format!("{}.fifo", generated(251))
                    } else {
                        generated(256)
                    }
                });
                let arn = env.arn("sns", &name);
                known(
                    name.clone(),
                    arn.clone(),
                    vec![("TopicArn", arn), ("TopicName", name)],
                )
            }
            "AWS::SNS::Subscription" => {
                let arn = env.arn("sns", &format!("{}:{}", generated(256), uuid_like(env, id)));
                known(arn.clone(), arn.clone(), vec![("Arn", arn)])
            }
            "AWS::Serverless::HttpApi" | "AWS::ApiGatewayV2::Api" => {
                http_api_identity(env, &id_like(10))
            }
            "AWS::KMS::Key" => {
                let key_id = uuid_like(env, id);
                let arn = env.arn("kms", &format!("key/{key_id}"));
                skipped(
                    key_id.clone(),
                    key_id.clone(),
                    vec![("Arn", arn), ("KeyId", key_id)],
                )
            }
            "AWS::KMS::Alias" => {
                let name =
                    name_prop("AliasName")?.unwrap_or_else(|| format!("alias/{}", generated(250)));
                skipped(name.clone(), name, vec![])
            }
            "AWS::Logs::LogGroup" => {
                let name = name_prop("LogGroupName")?.unwrap_or_else(|| generated(512));
                let arn = env.arn("logs", &format!("log-group:{name}:*"));
                skipped(name.clone(), name, vec![("Arn", arn)])
            }
            "AWS::CloudWatch::Alarm" => {
                let name = name_prop("AlarmName")?.unwrap_or_else(|| generated(255));
                let arn = env.arn("cloudwatch", &format!("alarm:{name}"));
                skipped(name.clone(), name, vec![("Arn", arn)])
            }
            "AWS::IAM::Role" => {
                let name = name_prop("RoleName")?.unwrap_or_else(|| generated(64));
                role_identity(env, id, name)
            }
            "AWS::IAM::ManagedPolicy" => {
                let name = name_prop("ManagedPolicyName")?.unwrap_or_else(|| generated(128));
                let arn = env.global_arn("iam", &format!("policy/{name}"));
                skipped(name, arn.clone(), vec![("PolicyArn", arn)])
            }
            "AWS::SQS::Queue" => {
                let name = name_prop("QueueName")?.unwrap_or_else(|| generated(80));
                let url = format!(
                    "https://sqs.{}.{}/{}/{name}",
                    env.region, env.url_suffix, env.account_id
                );
                let arn = env.arn("sqs", &name);
                skipped(
                    name.clone(),
                    url.clone(),
                    vec![("Arn", arn), ("QueueName", name), ("QueueUrl", url)],
                )
            }
            "AWS::S3::Bucket" => {
                let name =
                    name_prop("BucketName")?.unwrap_or_else(|| generated(63).to_ascii_lowercase());
                let arn = format!("arn:{}:s3:::{name}", env.partition);
                let domain = format!("{name}.s3.{}", env.url_suffix);
                skipped(
                    name.clone(),
                    name,
                    vec![("Arn", arn), ("DomainName", domain)],
                )
            }
            "AWS::DynamoDB::Table" => {
                let name = name_prop("TableName")?.unwrap_or_else(|| generated(255));
                let arn = env.arn("dynamodb", &format!("table/{name}"));
                // Local mode serves the table but not its stream; the ARN is a placeholder.
                let stream = format!("{arn}/stream/1970-01-01T00:00:00.000");
                known(
                    name.clone(),
                    name,
                    vec![("Arn", arn), ("StreamArn", stream)],
                )
            }
            "" => {
                return Err(ResolveError::new(format!("{id} has no Type")));
            }
            other => {
                // Any other type: a generated name, and an ARN in the
                // service's namespace. Plausible, never used for real.
                let name = generated(255);
                let mut parts = other.split("::").skip(1);
                let service = parts.next().unwrap_or("local").to_ascii_lowercase();
                let kind = parts.next().unwrap_or("resource").to_ascii_lowercase();
                let arn = env.arn(&service, &format!("{kind}/{name}"));
                skipped(name.clone(), name, vec![("Arn", arn)])
            }
        };
        Ok(identity)
    }

    /// Resources SAM generates and a template may refer to: `<Function>Role`
    /// and `<StateMachine>Role` (when the resource has no `Role`), and
    /// `ServerlessHttpApi` (the implicit HTTP API of `HttpApi` events without
    /// an `ApiId`). Relied on: SAM developer guide, "Generated CloudFormation
    /// resources for AWS SAM" (referenceable `<function-LogicalId>Role` and
    /// `ServerlessHttpApi`).
    pub(super) fn implicit_identity(
        &self,
        id: &str,
        depth: usize,
    ) -> Result<Identity, ResolveError> {
        // `!Ref MyFunction.Alias` / `!Ref MyFunction.Version` with
        // `AutoPublishAlias` (SAM developer guide, AutoPublishAlias: "you can
        // reference the generated alias and version resources").
        if let Some((owner, kind @ ("Alias" | "Version"))) = id.split_once('.')
            && let Some(alias) = self
                .resources
                .get(owner)
                .filter(|r| {
                    r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Function")
                })
                .and_then(|r| r.pointer("/Properties/AutoPublishAlias"))
        {
            let alias = self.eval_string("AutoPublishAlias", alias, depth)?;
            let function = self.identity_at(owner, depth)?;
            let base = function.attr("Arn").unwrap_or_default();
            let qualifier = if kind == "Alias" { alias.as_str() } else { "1" };
            let arn = format!("{base}:{qualifier}");
            return Ok(known(arn.clone(), arn, vec![]));
        }
        if let Some(owner) = id.strip_suffix("Role") {
            let is_sam = self.resources.get(owner).is_some_and(|r| {
                matches!(
                    r.get("Type").and_then(Value::as_str),
                    Some("AWS::Serverless::Function" | "AWS::Serverless::StateMachine")
                ) && r.pointer("/Properties/Role").is_none()
            });
            if is_sam {
                return Ok(role_identity(self.env, id, self.env.generated_name(id, 64)));
            }
        }
        if id == IMPLICIT_HTTP_API && self.has_implicit_http_api() {
            let mut api_id = self.env.suffix(id).to_ascii_lowercase();
            api_id.truncate(10);
            return Ok(http_api_identity(self.env, &api_id));
        }
        let mut known: Vec<&str> = self.params.keys().map(String::as_str).collect();
        known.extend(self.resources.keys().map(String::as_str));
        Err(ResolveError::new(format!(
            "unknown name {id}: not a parameter, pseudo parameter or resource of this template; it declares: {}",
            known.join(", ")
        )))
    }

    /// Whether a function has an `HttpApi` event without `ApiId`.
    pub(crate) fn has_implicit_http_api(&self) -> bool {
        self.resources.values().any(|r| {
            r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Function")
                && r.pointer("/Properties/Events")
                    .and_then(Value::as_object)
                    .is_some_and(|events| {
                        events.values().any(|e| {
                            e.get("Type").and_then(Value::as_str) == Some("HttpApi")
                                && e.pointer("/Properties/ApiId").is_none()
                        })
                    })
        })
    }
}

/// The logical id SAM gives the implicit HTTP API.
pub(crate) const IMPLICIT_HTTP_API: &str = "ServerlessHttpApi";

fn known(name: String, ref_value: String, attrs: Vec<(&'static str, String)>) -> Identity {
    Identity {
        name,
        ref_value,
        attrs,
        any_attr: false,
    }
}

fn skipped(name: String, ref_value: String, attrs: Vec<(&'static str, String)>) -> Identity {
    Identity {
        name,
        ref_value,
        attrs,
        any_attr: true,
    }
}

fn role_identity(env: &LocalEnvironment, id: &str, name: String) -> Identity {
    let arn = env.global_arn("iam", &format!("role/{name}"));
    let role_id = format!("AROA{}", env.suffix(id).to_ascii_uppercase());
    skipped(name.clone(), name, vec![("Arn", arn), ("RoleId", role_id)])
}

fn http_api_identity(env: &LocalEnvironment, api_id: &str) -> Identity {
    known(
        api_id.to_owned(),
        api_id.to_owned(),
        vec![
            ("ApiEndpoint", env.http_api_url.clone()),
            ("ApiId", api_id.to_owned()),
        ],
    )
}

/// A UUID-shaped id derived from the stack and logical id (KMS key ids,
/// subscription ids), the same on every start.
fn uuid_like(env: &LocalEnvironment, id: &str) -> String {
    let a = crate::env::fnv1a(format!("{}/{id}/a", env.stack_name).as_bytes());
    let b = crate::env::fnv1a(format!("{}/{id}/b", env.stack_name).as_bytes());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a as u16) & 0x0fff,
        ((b >> 48) as u16) & 0x0fff,
        b & 0xffff_ffff_ffff
    )
}
