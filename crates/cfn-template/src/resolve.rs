//! Intrinsic functions, conditions, and what `!Ref`/`!GetAtt` give for each
//! resource.
//!
//! Relied on: CloudFormation User Guide, "Intrinsic function reference":
//! - `Fn::Sub`: a string, or `[string, {Var: value}]`; `${Name}` is a
//!   parameter, pseudo parameter, logical id (as `Ref`) or a variable of the
//!   map, `${Res.Attr}` is `Fn::GetAtt`, and `${!Literal}` writes `${Literal}`.
//! - `Ref` of `AWS::NoValue` removes the property (or the list element).
//! - `Fn::If` takes a condition name; only the chosen branch is evaluated.
//! - `Fn::And`/`Fn::Or` take conditions (`{"Condition": name}`, or a
//!   condition function); `Fn::Not` takes a one-element list.
//! - Return values (the "Return values" section of each resource type's page):
//!   `Ref` of `AWS::Lambda::Function` is the name, `Arn` attribute; `Ref` of
//!   `AWS::SNS::Topic` is the ARN, `TopicName`/`TopicArn` attributes; `Ref` of
//!   `AWS::StepFunctions::StateMachine` is the ARN, `Name`/`Arn` attributes;
//!   `Ref` of `AWS::KMS::Key` is the key id, `Arn` attribute; `Ref` of
//!   `AWS::Logs::LogGroup` is the name, `Arn` attribute (`...:log-group:NAME:*`);
//!   `Ref` of `AWS::Serverless::HttpApi` is the API id, `ApiEndpoint` attribute.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::env::LocalEnvironment;
use crate::error::ResolveError;
use crate::params::{ParamValue, scalar_string};

/// How many references (condition to condition, resource name to resource
/// name) may be chained: far more than any real template chains, and a
/// reference cycle hits it quickly.
const MAX_DEPTH: usize = 32;

/// The pseudo parameters CloudFormation defines.
pub(crate) const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// Everything an intrinsic may refer to.
pub(crate) struct Resolver<'a> {
    pub(crate) env: &'a LocalEnvironment,
    pub(crate) params: &'a BTreeMap<String, ParamValue>,
    pub(crate) conditions: &'a Map<String, Value>,
    pub(crate) mappings: &'a Map<String, Value>,
    pub(crate) resources: &'a Map<String, Value>,
}

/// What `Ref` and `Fn::GetAtt` give for one resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Identity {
    /// The physical name (or id) of the resource.
    pub(crate) name: String,
    /// What `Ref` returns.
    pub(crate) ref_value: String,
    /// The attributes `Fn::GetAtt` knows.
    pub(crate) attrs: Vec<(&'static str, String)>,
    /// A resource local mode skips: any other attribute gets a placeholder.
    pub(crate) any_attr: bool,
}

impl Identity {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn intrinsic(v: &Value) -> Option<(&str, &Value)> {
    let map = v.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (k, arg) = map.iter().next()?;
    (k == "Ref" || k.starts_with("Fn::")).then_some((k.as_str(), arg))
}

fn args<'v>(name: &str, arg: &'v Value, n: usize) -> Result<&'v [Value], ResolveError> {
    match arg.as_array() {
        Some(items) if items.len() == n => Ok(items),
        _ => Err(ResolveError::new(format!(
            "{name} takes a list of {n} elements, got {arg}"
        ))),
    }
}

/// A scalar as CloudFormation turns it into a string.
fn string_of(what: &str, v: &Value) -> Result<String, ResolveError> {
    scalar_string(v).ok_or_else(|| ResolveError::new(format!("{what} must be a string, got {v}")))
}

pub(crate) enum SubPart {
    Literal(String),
    Var(String),
}

/// Splits a `Fn::Sub` string into literal text and `${...}` variables.
pub(crate) fn sub_parts(template: &str) -> Vec<SubPart> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        literal.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let inner = &after[..end];
                if let Some(lit) = inner.strip_prefix('!') {
                    literal.push_str("${");
                    literal.push_str(lit);
                    literal.push('}');
                } else {
                    if !literal.is_empty() {
                        parts.push(SubPart::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(SubPart::Var(inner.trim().to_owned()));
                }
                rest = &after[end + 1..];
            }
            None => {
                literal.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(SubPart::Literal(literal));
    }
    parts
}

impl Resolver<'_> {
    /// Resolves every intrinsic in `v`. `None` is `AWS::NoValue`: the caller
    /// removes the property.
    pub(crate) fn resolve(&self, v: &Value) -> Result<Option<Value>, ResolveError> {
        self.eval(v, 0)
    }

    /// Resolves `v` to a string (for names, ARNs, environment values).
    pub(crate) fn resolve_string(&self, what: &str, v: &Value) -> Result<String, ResolveError> {
        match self.eval(v, 0)? {
            Some(r) => string_of(what, &r),
            None => Err(ResolveError::new(format!(
                "{what} resolves to AWS::NoValue"
            ))),
        }
    }

    /// The value of a condition of the `Conditions` section.
    pub(crate) fn condition(&self, name: &str) -> Result<bool, ResolveError> {
        self.cond(name, 0)
    }

    fn deeper(depth: usize) -> Result<usize, ResolveError> {
        if depth >= MAX_DEPTH {
            return Err(ResolveError::new(
                "references nest too deeply: is there a cycle (a resource or condition that refers to itself)?",
            ));
        }
        Ok(depth + 1)
    }

    fn cond(&self, name: &str, depth: usize) -> Result<bool, ResolveError> {
        let depth = Self::deeper(depth)?;
        let def = self.conditions.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.conditions.keys().map(String::as_str).collect();
            ResolveError::new(format!(
                "unknown condition {name}; the template's conditions are: {}",
                if known.is_empty() {
                    "(none)".to_owned()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        self.eval_bool(def, depth)
            .map_err(|e| ResolveError::new(format!("condition {name}: {e}")))
    }

    fn eval_bool(&self, v: &Value, depth: usize) -> Result<bool, ResolveError> {
        if let Some(map) = v.as_object()
            && let (1, Some(Value::String(name))) = (map.len(), map.get("Condition"))
        {
            return self.cond(name, depth);
        }
        match self.eval(v, depth)? {
            Some(Value::Bool(b)) => Ok(b),
            Some(Value::String(s)) if s == "true" => Ok(true),
            Some(Value::String(s)) if s == "false" => Ok(false),
            other => Err(ResolveError::new(format!(
                "expected a condition (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition), got {}",
                other.unwrap_or(Value::Null)
            ))),
        }
    }

    /// `depth` counts references followed (conditions, resources' names),
    /// not the nesting of the value: a deep inline definition is fine, a
    /// reference cycle is caught.
    fn eval(&self, v: &Value, depth: usize) -> Result<Option<Value>, ResolveError> {
        if let Some((name, arg)) = intrinsic(v) {
            return self.function(name, arg, depth);
        }
        match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(r) = self.eval(item, depth)? {
                        out.push(r);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, item) in map {
                    if let Some(r) = self
                        .eval(item, depth)
                        .map_err(|e| ResolveError::new(format!("{k}: {e}")))?
                    {
                        out.insert(k.clone(), r);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    fn eval_some(&self, what: &str, v: &Value, depth: usize) -> Result<Value, ResolveError> {
        self.eval(v, depth)?
            .ok_or_else(|| ResolveError::new(format!("{what}: AWS::NoValue is not allowed here")))
    }

    fn eval_string(&self, what: &str, v: &Value, depth: usize) -> Result<String, ResolveError> {
        string_of(what, &self.eval_some(what, v, depth)?)
    }

    fn eval_list(&self, what: &str, v: &Value, depth: usize) -> Result<Vec<Value>, ResolveError> {
        match self.eval_some(what, v, depth)? {
            Value::Array(items) => Ok(items),
            other => Err(ResolveError::new(format!(
                "{what} must be a list, got {other}"
            ))),
        }
    }

    fn function(
        &self,
        name: &str,
        arg: &Value,
        depth: usize,
    ) -> Result<Option<Value>, ResolveError> {
        match name {
            "Ref" => {
                let target = arg
                    .as_str()
                    .ok_or_else(|| ResolveError::new(format!("Ref takes a name, got {arg}")))?;
                self.reference(target, depth)
            }
            "Fn::GetAtt" => {
                let (id, attr) = match arg {
                    Value::String(s) => s
                        .split_once('.')
                        .map(|(a, b)| (a.to_owned(), b.to_owned()))
                        .ok_or_else(|| {
                            ResolveError::new(format!(
                                "Fn::GetAtt {s}: expected Resource.Attribute"
                            ))
                        })?,
                    _ => {
                        let a = args("Fn::GetAtt", arg, 2)?;
                        (
                            self.eval_string("Fn::GetAtt resource", &a[0], depth)?,
                            self.eval_string("Fn::GetAtt attribute", &a[1], depth)?,
                        )
                    }
                };
                Ok(Some(Value::String(self.get_att(&id, &attr, depth)?)))
            }
            "Fn::Sub" => {
                let (template, vars) = match arg {
                    Value::String(s) => (s.as_str(), None),
                    _ => {
                        let a = args("Fn::Sub", arg, 2)?;
                        let s = a[0].as_str().ok_or_else(|| {
                            ResolveError::new("Fn::Sub: the first element must be a string")
                        })?;
                        let vars = a[1].as_object().ok_or_else(|| {
                            ResolveError::new(
                                "Fn::Sub: the second element must be a map of variables",
                            )
                        })?;
                        (s, Some(vars))
                    }
                };
                Ok(Some(Value::String(self.sub(template, vars, depth)?)))
            }
            "Fn::If" => {
                let a = args("Fn::If", arg, 3)?;
                let cond = a[0].as_str().ok_or_else(|| {
                    ResolveError::new("Fn::If: the first element must be a condition name")
                })?;
                if self.cond(cond, depth)? {
                    self.eval(&a[1], depth)
                } else {
                    self.eval(&a[2], depth)
                }
            }
            "Fn::Equals" => {
                let a = args("Fn::Equals", arg, 2)?;
                let l = self.eval(&a[0], depth)?.unwrap_or(Value::Null);
                let r = self.eval(&a[1], depth)?.unwrap_or(Value::Null);
                // Numbers and strings compare by their text, as CloudFormation
                // passes every parameter as a string.
                let eq = match (scalar_string(&l), scalar_string(&r)) {
                    (Some(l), Some(r)) => l == r,
                    _ => l == r,
                };
                Ok(Some(Value::Bool(eq)))
            }
            "Fn::Not" => {
                let a = args("Fn::Not", arg, 1)?;
                Ok(Some(Value::Bool(!self.eval_bool(&a[0], depth)?)))
            }
            "Fn::And" | "Fn::Or" => {
                let items = arg
                    .as_array()
                    .filter(|a| (2..=10).contains(&a.len()))
                    .ok_or_else(|| {
                        ResolveError::new(format!("{name} takes a list of 2 to 10 conditions"))
                    })?;
                let want_all = name == "Fn::And";
                for item in items {
                    let b = self.eval_bool(item, depth)?;
                    if b != want_all {
                        return Ok(Some(Value::Bool(b)));
                    }
                }
                Ok(Some(Value::Bool(want_all)))
            }
            "Fn::Join" => {
                let a = args("Fn::Join", arg, 2)?;
                let delim = self.eval_string("Fn::Join delimiter", &a[0], depth)?;
                let items = self.eval_list("Fn::Join values", &a[1], depth)?;
                let parts = items
                    .iter()
                    .map(|i| string_of("Fn::Join value", i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(Value::String(parts.join(&delim))))
            }
            "Fn::Select" => {
                let a = args("Fn::Select", arg, 2)?;
                let index = self.eval_string("Fn::Select index", &a[0], depth)?;
                let index: usize = index.trim().parse().map_err(|_| {
                    ResolveError::new(format!("Fn::Select index {index:?} is not a number"))
                })?;
                let items = self.eval_list("Fn::Select values", &a[1], depth)?;
                let len = items.len();
                items.into_iter().nth(index).map(Some).ok_or_else(|| {
                    ResolveError::new(format!(
                        "Fn::Select index {index} is out of range: the list has {len} elements"
                    ))
                })
            }
            "Fn::Split" => {
                let a = args("Fn::Split", arg, 2)?;
                let delim = self.eval_string("Fn::Split delimiter", &a[0], depth)?;
                let s = self.eval_string("Fn::Split source", &a[1], depth)?;
                if delim.is_empty() {
                    return Err(ResolveError::new("Fn::Split: the delimiter is empty"));
                }
                Ok(Some(Value::Array(
                    s.split(delim.as_str())
                        .map(|p| Value::String(p.to_owned()))
                        .collect(),
                )))
            }
            "Fn::Base64" => {
                let s = self.eval_string("Fn::Base64", arg, depth)?;
                Ok(Some(Value::String(base64(s.as_bytes()))))
            }
            "Fn::FindInMap" => {
                let a = args("Fn::FindInMap", arg, 3)?;
                let map = self.eval_string("Fn::FindInMap map name", &a[0], depth)?;
                let top = self.eval_string("Fn::FindInMap top-level key", &a[1], depth)?;
                let second = self.eval_string("Fn::FindInMap second-level key", &a[2], depth)?;
                self.mappings
                    .get(&map)
                    .and_then(|m| m.get(&top))
                    .and_then(|m| m.get(&second))
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| {
                        ResolveError::new(format!(
                            "Fn::FindInMap: Mappings has no {map} > {top} > {second}"
                        ))
                    })
            }
            "Fn::GetAZs" => {
                let region = self.eval_string("Fn::GetAZs region", arg, depth)?;
                let region = if region.is_empty() {
                    self.env.region.clone()
                } else {
                    region
                };
                Ok(Some(Value::Array(
                    ["a", "b", "c"]
                        .iter()
                        .map(|z| Value::String(format!("{region}{z}")))
                        .collect(),
                )))
            }
            "Fn::ToJsonString" => {
                let v = self.eval_some("Fn::ToJsonString", arg, depth)?;
                Ok(Some(Value::String(v.to_string())))
            }
            "Fn::Length" => {
                let items = self.eval_list("Fn::Length", arg, depth)?;
                Ok(Some(Value::from(items.len())))
            }
            "Fn::ImportValue" => Err(ResolveError::new(
                "Fn::ImportValue reads another stack's export, which does not exist locally; replace it with a parameter",
            )),
            other => Err(ResolveError::new(format!(
                "{other} is not supported locally"
            ))),
        }
    }

    fn sub(
        &self,
        template: &str,
        vars: Option<&Map<String, Value>>,
        depth: usize,
    ) -> Result<String, ResolveError> {
        let mut out = String::new();
        for part in sub_parts(template) {
            match part {
                SubPart::Literal(s) => out.push_str(&s),
                SubPart::Var(name) => {
                    let value = if let Some(v) = vars.and_then(|m| m.get(&name)) {
                        self.eval_some(&format!("Fn::Sub variable {name}"), v, depth)?
                    } else if let Some((id, attr)) = name.split_once('.') {
                        Value::String(self.get_att(id, attr, depth)?)
                    } else {
                        self.reference(&name, depth)?.ok_or_else(|| {
                            ResolveError::new(format!("Fn::Sub: ${{{name}}} is AWS::NoValue"))
                        })?
                    };
                    let s = scalar_string(&value).ok_or_else(|| {
                        ResolveError::new(format!(
                            "Fn::Sub: ${{{name}}} is a list or map, not a string; use Fn::Join for lists"
                        ))
                    })?;
                    out.push_str(&s);
                }
            }
        }
        Ok(out)
    }

    /// `Ref name`: a parameter, a pseudo parameter, or a resource.
    fn reference(&self, name: &str, depth: usize) -> Result<Option<Value>, ResolveError> {
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

    fn get_att(&self, id: &str, attr: &str, depth: usize) -> Result<String, ResolveError> {
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

    fn identity_at(&self, id: &str, depth: usize) -> Result<Identity, ResolveError> {
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
    fn implicit_identity(&self, id: &str, depth: usize) -> Result<Identity, ResolveError> {
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

fn base64(bytes: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Checks, without resolving, that every `Ref`, `Fn::GetAtt` and `${...}` in
/// `v` names something the template declares: CloudFormation rejects a
/// template with a dangling reference even in a resource local mode skips.
pub(crate) fn check_references(v: &Value, resolver: &Resolver<'_>) -> Result<(), ResolveError> {
    let exists = |name: &str| -> bool {
        resolver.params.contains_key(name)
            || PSEUDO_PARAMETERS.contains(&name)
            || resolver.resources.contains_key(name)
            || resolver.identity(name).is_ok()
    };
    let missing = |what: &str, name: &str| {
        let mut known: Vec<&str> = resolver.params.keys().map(String::as_str).collect();
        known.extend(resolver.resources.keys().map(String::as_str));
        ResolveError::new(format!(
            "{what}: unknown name {name}; the template declares: {}",
            known.join(", ")
        ))
    };
    if let Some((name, arg)) = intrinsic(v) {
        match (name, arg) {
            ("Ref", Value::String(target)) => {
                if !exists(target) {
                    return Err(missing(&format!("Ref {target}"), target));
                }
                return Ok(());
            }
            ("Fn::GetAtt", Value::Array(a)) => {
                if let Some(Value::String(target)) = a.first()
                    && !exists(target)
                {
                    return Err(missing(&format!("Fn::GetAtt {target}"), target));
                }
                return a
                    .iter()
                    .skip(1)
                    .try_for_each(|x| check_references(x, resolver));
            }
            ("Fn::Sub", Value::String(s)) => return check_sub(s, None, &exists, &missing),
            ("Fn::Sub", Value::Array(a)) if a.len() == 2 => {
                check_references(&a[1], resolver)?;
                if let Some(s) = a[0].as_str() {
                    return check_sub(s, a[1].as_object(), &exists, &missing);
                }
                return Ok(());
            }
            _ => {}
        }
    }
    match v {
        Value::Array(items) => items.iter().try_for_each(|x| check_references(x, resolver)),
        Value::Object(map) => map.iter().try_for_each(|(k, x)| {
            check_references(x, resolver).map_err(|e| ResolveError::new(format!("{k}: {e}")))
        }),
        _ => Ok(()),
    }
}

fn check_sub(
    s: &str,
    vars: Option<&Map<String, Value>>,
    exists: &dyn Fn(&str) -> bool,
    missing: &dyn Fn(&str, &str) -> ResolveError,
) -> Result<(), ResolveError> {
    for part in sub_parts(s) {
        let SubPart::Var(name) = part else {
            continue;
        };
        if vars.is_some_and(|m| m.contains_key(&name)) {
            continue;
        }
        let target = name.split_once('.').map_or(name.as_str(), |(id, _)| id);
        if !exists(target) {
            return Err(missing(&format!("Fn::Sub ${{{name}}}"), target));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fixture {
        env: LocalEnvironment,
        params: BTreeMap<String, ParamValue>,
        conditions: Map<String, Value>,
        mappings: Map<String, Value>,
        resources: Map<String, Value>,
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn fixture() -> Fixture {
        let mut params = BTreeMap::new();
        params.insert("Email".to_owned(), ParamValue::String("a@b.c".into()));
        params.insert("Empty".to_owned(), ParamValue::String(String::new()));
        params.insert("Count".to_owned(), ParamValue::String("3".into()));
        params.insert(
            "Names".to_owned(),
            ParamValue::List(vec!["x".into(), "y".into()]),
        );
        Fixture {
            env: LocalEnvironment::new("stk"),
            params,
            conditions: obj(json!({
                "HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Empty"}, ""]}]},
                "IsEmpty": {"Fn::Equals": [{"Ref": "Empty"}, ""]},
                "Both": {"Fn::And": [{"Condition": "IsEmpty"}, {"Fn::Equals": [{"Ref": "Count"}, 3]}]},
                "Either": {"Fn::Or": [{"Condition": "HasEmail"}, {"Condition": "IsEmpty"}]},
                "Loop": {"Fn::Not": [{"Condition": "Loop"}]},
            })),
            mappings: obj(json!({"M": {"us-east-1": {"Size": "L"}}})),
            resources: obj(json!({
                "Fn": {"Type": "AWS::Serverless::Function", "Properties": {}},
                "Named": {"Type": "AWS::Serverless::Function", "Properties": {"FunctionName": {"Fn::Sub": "${AWS::StackName}-named"}}},
                "Topic": {"Type": "AWS::SNS::Topic"},
                "Sm": {"Type": "AWS::Serverless::StateMachine", "Properties": {"Name": "review"}},
                "Key": {"Type": "AWS::KMS::Key"},
                "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/aws/x"}},
                "Thing": {"Type": "AWS::Foo::Bar"},
                "Maybe": {"Type": "AWS::SNS::Topic", "Condition": "HasEmail"},
                "SelfRef": {"Type": "AWS::Serverless::Function", "Properties": {"FunctionName": {"Ref": "SelfRef"}}},
            })),
        }
    }

    impl Fixture {
        fn r(&self) -> Resolver<'_> {
            Resolver {
                env: &self.env,
                params: &self.params,
                conditions: &self.conditions,
                mappings: &self.mappings,
                resources: &self.resources,
            }
        }
        fn ok(&self, v: Value) -> Value {
            match self.r().resolve(&v) {
                Ok(Some(r)) => r,
                Ok(None) => Value::String("<NoValue>".into()),
                Err(e) => panic!("{v}: {e}"),
            }
        }
        fn err(&self, v: Value) -> String {
            match self.r().resolve(&v) {
                Ok(r) => panic!("{v}: expected an error, got {r:?}"),
                Err(e) => e.0,
            }
        }
    }

    #[test]
    fn ref_parameters_and_pseudo_parameters() {
        let f = fixture();
        assert_eq!(f.ok(json!({"Ref": "Email"})), json!("a@b.c"));
        assert_eq!(f.ok(json!({"Ref": "Names"})), json!(["x", "y"]));
        assert_eq!(f.ok(json!({"Ref": "AWS::Region"})), json!("us-east-1"));
        assert_eq!(
            f.ok(json!({"Ref": "AWS::AccountId"})),
            json!("123456789012")
        );
        assert_eq!(f.ok(json!({"Ref": "AWS::Partition"})), json!("aws"));
        assert_eq!(f.ok(json!({"Ref": "AWS::StackName"})), json!("stk"));
        assert_eq!(
            f.ok(json!({"Ref": "AWS::URLSuffix"})),
            json!("amazonaws.com")
        );
        assert_eq!(f.ok(json!({"Ref": "AWS::NotificationARNs"})), json!([]));
        assert!(
            f.err(json!({"Ref": "AWS::Nope"}))
                .contains("unknown pseudo parameter")
        );
    }

    #[test]
    fn no_value_removes_properties_and_elements() {
        let f = fixture();
        assert_eq!(
            f.ok(json!({"a": {"Ref": "AWS::NoValue"}, "b": [1, {"Ref": "AWS::NoValue"}, 2]})),
            json!({"b": [1, 2]})
        );
    }

    #[test]
    fn ref_and_getatt_on_resources() {
        let f = fixture();
        let name = f.ok(json!({"Ref": "Fn"}));
        let name = name.as_str().unwrap_or_default().to_owned();
        assert!(name.starts_with("stk-Fn-"), "{name}");
        assert_eq!(
            f.ok(json!({"Fn::GetAtt": ["Fn", "Arn"]})),
            json!(format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{name}"
            ))
        );
        assert_eq!(f.ok(json!({"Ref": "Named"})), json!("stk-named"));
        let topic_arn = f.ok(json!({"Ref": "Topic"}));
        assert!(
            topic_arn
                .as_str()
                .is_some_and(|a| a.starts_with("arn:aws:sns:us-east-1:123456789012:stk-Topic-"))
        );
        assert_eq!(
            f.ok(json!({"Fn::GetAtt": ["Topic", "TopicArn"]})),
            topic_arn
        );
        assert_eq!(
            f.ok(json!({"Ref": "Sm"})),
            json!("arn:aws:states:us-east-1:123456789012:stateMachine:review")
        );
        assert_eq!(f.ok(json!({"Fn::GetAtt": ["Sm", "Name"]})), json!("review"));
        assert_eq!(f.ok(json!({"Fn::GetAtt": "Sm.Name"})), json!("review"));
        let e = f.err(json!({"Fn::GetAtt": ["Sm", "Nope"]}));
        assert!(
            e.contains("Sm has no attribute Nope; it has: Arn, Name"),
            "{e}"
        );
    }

    #[test]
    fn skipped_resources_get_placeholders() {
        let f = fixture();
        let key_arn = f.ok(json!({"Fn::GetAtt": ["Key", "Arn"]}));
        assert!(
            key_arn
                .as_str()
                .is_some_and(|a| a.starts_with("arn:aws:kms:us-east-1:123456789012:key/"))
        );
        assert_eq!(f.ok(json!({"Ref": "Logs"})), json!("/aws/x"));
        assert_eq!(
            f.ok(json!({"Fn::GetAtt": ["Logs", "Arn"]})),
            json!("arn:aws:logs:us-east-1:123456789012:log-group:/aws/x:*")
        );
        let thing = f.ok(json!({"Fn::GetAtt": ["Thing", "Arn"]}));
        assert!(
            thing
                .as_str()
                .is_some_and(|a| a.starts_with("arn:aws:foo:us-east-1:123456789012:bar/"))
        );
        assert!(
            f.ok(json!({"Fn::GetAtt": ["Thing", "Whatever"]}))
                .is_string()
        );
        let role = f.ok(json!({"Fn::GetAtt": ["FnRole", "Arn"]}));
        assert!(
            role.as_str()
                .is_some_and(|a| a.starts_with("arn:aws:iam::123456789012:role/stk-FnRole-"))
        );
    }

    #[test]
    fn sam_alias_and_version_references() {
        let mut f = fixture();
        f.resources.insert(
            "Live".into(),
            json!({"Type": "AWS::Serverless::Function", "Properties": {"FunctionName": "live-fn", "AutoPublishAlias": "live"}}),
        );
        let prefix = "arn:aws:lambda:us-east-1:123456789012:function:live-fn";
        assert_eq!(
            f.ok(json!({"Ref": "Live.Alias"})),
            json!(format!("{prefix}:live"))
        );
        assert_eq!(
            f.ok(json!({"Ref": "Live.Version"})),
            json!(format!("{prefix}:1"))
        );
        assert!(
            f.err(json!({"Ref": "Fn.Alias"}))
                .contains("unknown name Fn.Alias")
        );
    }

    #[test]
    fn unknown_names_are_errors_naming_them() {
        let f = fixture();
        let e = f.err(json!({"Ref": "Nope"}));
        assert!(e.starts_with("unknown name Nope"), "{e}");
        assert!(
            f.err(json!({"Fn::GetAtt": ["Nope", "Arn"]}))
                .contains("unknown name Nope")
        );
        assert!(
            f.err(json!({"Fn::Sub": "${Nope}"}))
                .contains("unknown name Nope")
        );
    }

    #[test]
    fn references_to_resources_whose_condition_is_false_are_errors() {
        let f = fixture();
        let e = f.err(json!({"Ref": "Maybe"}));
        assert!(e.contains("condition HasEmail is false"), "{e}");
        assert_eq!(
            f.ok(json!({"Fn::If": ["HasEmail", {"Ref": "Maybe"}, {"Ref": "AWS::NoValue"}]})),
            json!("<NoValue>")
        );
    }

    #[test]
    fn sub_forms() {
        let f = fixture();
        assert_eq!(
            f.ok(json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"})),
            json!("arn:aws:iam::123456789012:root")
        );
        assert_eq!(
            f.ok(json!({"Fn::Sub": ["${A}-${Email}-${Sm.Name}", {"A": {"Ref": "Count"}}]})),
            json!("3-a@b.c-review")
        );
        assert_eq!(
            f.ok(json!({"Fn::Sub": "${!Literal} and ${ Email } and $NotAVar and ${unterminated"})),
            json!("${Literal} and a@b.c and $NotAVar and ${unterminated")
        );
        assert!(
            f.err(json!({"Fn::Sub": "${Names}"}))
                .contains("use Fn::Join")
        );
    }

    #[test]
    fn conditions() {
        let f = fixture();
        let r = f.r();
        assert_eq!(r.condition("HasEmail"), Ok(false));
        assert_eq!(r.condition("IsEmpty"), Ok(true));
        assert_eq!(r.condition("Both"), Ok(true));
        assert_eq!(r.condition("Either"), Ok(true));
        assert!(r.condition("Loop").is_err_and(|e| e.0.contains("cycle")));
        assert!(
            r.condition("Nope")
                .is_err_and(|e| e.0.contains("unknown condition Nope"))
        );
        assert_eq!(
            f.ok(json!({"Fn::If": ["IsEmpty", "yes", "no"]})),
            json!("yes")
        );
        assert_eq!(
            f.ok(json!({"Fn::Not": [{"Fn::Equals": ["a", "b"]}]})),
            json!(true)
        );
        assert!(
            f.err(json!({"Fn::Not": ["x"]}))
                .contains("expected a condition")
        );
        assert!(f.err(json!({"Fn::And": [true]})).contains("2 to 10"));
    }

    #[test]
    fn join_select_split_and_friends() {
        let f = fixture();
        assert_eq!(
            f.ok(json!({"Fn::Join": [":", ["a", 1, {"Ref": "Email"}]]})),
            json!("a:1:a@b.c")
        );
        assert_eq!(
            f.ok(json!({"Fn::Join": ["", {"Ref": "Names"}]})),
            json!("xy")
        );
        assert_eq!(
            f.ok(json!({"Fn::Select": ["1", {"Ref": "Names"}]})),
            json!("y")
        );
        assert_eq!(
            f.ok(json!({"Fn::Select": [0, {"Fn::Split": ["/", "a/b"]}]})),
            json!("a")
        );
        assert!(
            f.err(json!({"Fn::Select": [5, ["a"]]}))
                .contains("out of range")
        );
        assert_eq!(f.ok(json!({"Fn::Base64": "hello"})), json!("aGVsbG8="));
        assert_eq!(f.ok(json!({"Fn::Base64": "hi"})), json!("aGk="));
        assert_eq!(
            f.ok(json!({"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Size"]})),
            json!("L")
        );
        assert_eq!(
            f.ok(json!({"Fn::GetAZs": ""})),
            json!(["us-east-1a", "us-east-1b", "us-east-1c"])
        );
        assert_eq!(
            f.ok(json!({"Fn::ToJsonString": {"a": [1]}})),
            json!("{\"a\":[1]}")
        );
        assert_eq!(f.ok(json!({"Fn::Length": [1, 2]})), json!(2));
        assert!(
            f.err(json!({"Fn::ImportValue": "x"}))
                .contains("replace it with a parameter")
        );
        assert!(
            f.err(json!({"Fn::Cidr": []}))
                .contains("not supported locally")
        );
        assert!(f.err(json!({"Fn::Join": ["-"]})).contains("list of 2"));
    }

    #[test]
    fn deep_values_are_not_mistaken_for_cycles() {
        let f = fixture();
        let mut v = json!({"Ref": "Email"});
        for _ in 0..200 {
            v = json!({"k": [v]});
        }
        let r = f.ok(v);
        assert!(r.to_string().contains("a@b.c"));
    }

    #[test]
    fn cycles_are_errors_not_overflows() {
        let f = fixture();
        assert!(f.err(json!({"Ref": "SelfRef"})).contains("cycle"));
    }

    #[test]
    fn check_references_finds_dangling_names() {
        let f = fixture();
        let r = f.r();
        let ok = json!({"a": {"Fn::Sub": ["${X}${Email}${!Y}", {"X": "1"}]}, "b": {"Fn::GetAtt": ["Key", "Arn"]}, "c": {"Ref": "FnRole"}});
        assert_eq!(check_references(&ok, &r), Ok(()));
        let bad = json!({"a": {"b": {"Ref": "Typo"}}});
        let e = check_references(&bad, &r)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.starts_with("a: b: Ref Typo: unknown name Typo"), "{e}");
        let bad = json!({"Fn::Sub": "${Typo.Arn}"});
        assert!(check_references(&bad, &r).is_err());
    }
}
