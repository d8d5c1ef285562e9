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

//!
//! Layout: this module evaluates values and conditions; `functions` holds
//! the intrinsic functions (`Fn::Sub`, `Fn::Join`, ...), `identity` what
//! `Ref`/`Fn::GetAtt` give for each resource type, and `references` the
//! check for dangling names.

mod functions;
mod identity;
mod references;
#[cfg(test)]
mod tests;

pub(crate) use functions::{SubPart, sub_parts};
pub(crate) use identity::IMPLICIT_HTTP_API;
pub(crate) use references::check_references;

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

pub(super) fn args<'v>(name: &str, arg: &'v Value, n: usize) -> Result<&'v [Value], ResolveError> {
    match arg.as_array() {
        Some(items) if items.len() == n => Ok(items),
        _ => Err(ResolveError::new(format!(
            "{name} takes a list of {n} elements, got {arg}"
        ))),
    }
}

/// A scalar as CloudFormation turns it into a string.
pub(super) fn string_of(what: &str, v: &Value) -> Result<String, ResolveError> {
    scalar_string(v).ok_or_else(|| ResolveError::new(format!("{what} must be a string, got {v}")))
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

    pub(super) fn deeper(depth: usize) -> Result<usize, ResolveError> {
        if depth >= MAX_DEPTH {
            return Err(ResolveError::new(
                "references nest too deeply: is there a cycle (a resource or condition that refers to itself)?",
            ));
        }
        Ok(depth + 1)
    }

    pub(super) fn cond(&self, name: &str, depth: usize) -> Result<bool, ResolveError> {
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

    pub(super) fn eval_bool(&self, v: &Value, depth: usize) -> Result<bool, ResolveError> {
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
    pub(super) fn eval(&self, v: &Value, depth: usize) -> Result<Option<Value>, ResolveError> {
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

    pub(super) fn eval_some(
        &self,
        what: &str,
        v: &Value,
        depth: usize,
    ) -> Result<Value, ResolveError> {
        self.eval(v, depth)?
            .ok_or_else(|| ResolveError::new(format!("{what}: AWS::NoValue is not allowed here")))
    }

    pub(super) fn eval_string(
        &self,
        what: &str,
        v: &Value,
        depth: usize,
    ) -> Result<String, ResolveError> {
        string_of(what, &self.eval_some(what, v, depth)?)
    }

    pub(super) fn eval_list(
        &self,
        what: &str,
        v: &Value,
        depth: usize,
    ) -> Result<Vec<Value>, ResolveError> {
        match self.eval_some(what, v, depth)? {
            Value::Array(items) => Ok(items),
            other => Err(ResolveError::new(format!(
                "{what} must be a list, got {other}"
            ))),
        }
    }
}
