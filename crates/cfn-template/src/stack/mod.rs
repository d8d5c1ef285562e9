//! Reading a template into a [`Stack`]: sections, `Globals`, conditions,
//! rules, then each resource type local mode runs, one module per kind:
//! `function`, `state_machine`, `sns` (topics and subscriptions), `table`
//! (DynamoDB) and `http_api`.

mod bucket;
mod function;
mod http_api;
mod sns;
mod state_machine;
mod table;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use crate::env::LocalEnvironment;
use crate::model::{Notice, Output, SkippedResource, Stack};
use crate::params::{self, ParamValue, ParameterOverrides, scalar_string};
use crate::resolve::{Resolver, check_references};
use crate::{TemplateError, globals, known, yaml};

use bucket::bucket;
use sns::{sns_event_subscriptions, subscription, topic};
use table::table;

/// The transform a template with `AWS::Serverless::*` resources declares.
const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

impl Stack {
    /// Reads the template at `path`. Relative paths in it (`CodeUri`,
    /// `DefinitionUri`) are relative to the template's directory, as for
    /// `sam build`.
    pub fn load(
        path: impl AsRef<Path>,
        env: &LocalEnvironment,
        overrides: &ParameterOverrides,
    ) -> Result<Stack, TemplateError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base_dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        Stack::from_yaml_str(&text, &base_dir, env, overrides)
    }

    /// Reads template text; relative paths in it are relative to `base_dir`.
    pub fn from_yaml_str(
        text: &str,
        base_dir: &Path,
        env: &LocalEnvironment,
        overrides: &ParameterOverrides,
    ) -> Result<Stack, TemplateError> {
        let root = yaml::parse(text)?;
        let root = root.as_object().ok_or_else(|| {
            TemplateError::section("(template)", "must be a map with a Resources section")
        })?;
        Loader::new(root, base_dir, env, overrides)?.load()
    }
}

fn section(root: &Map<String, Value>, name: &str) -> Result<Map<String, Value>, TemplateError> {
    match root.get(name) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(TemplateError::section(name, "must be a map")),
    }
}

struct Loader<'a> {
    root: &'a Map<String, Value>,
    base_dir: &'a Path,
    env: &'a LocalEnvironment,
    params: BTreeMap<String, ParamValue>,
    unchecked_patterns: Vec<(String, String)>,
    mappings: Map<String, Value>,
    conditions: Map<String, Value>,
    resources: Map<String, Value>,
    outputs: Map<String, Value>,
}

impl<'a> Loader<'a> {
    fn new(
        root: &'a Map<String, Value>,
        base_dir: &'a Path,
        env: &'a LocalEnvironment,
        overrides: &ParameterOverrides,
    ) -> Result<Self, TemplateError> {
        let parameters = section(root, "Parameters")?;
        let (params, unchecked_patterns) = params::resolve(&parameters, overrides)?;
        let raw = section(root, "Resources")?;
        if raw.is_empty() {
            return Err(TemplateError::section(
                "Resources",
                "missing or empty; a template declares at least one resource",
            ));
        }
        let resources = apply_globals(&section(root, "Globals")?, raw)?;
        check_transform(root, &resources)?;
        Ok(Loader {
            root,
            base_dir,
            env,
            params,
            unchecked_patterns,
            mappings: section(root, "Mappings")?,
            conditions: section(root, "Conditions")?,
            resources,
            outputs: section(root, "Outputs")?,
        })
    }

    fn resolver(&self) -> Resolver<'_> {
        Resolver {
            env: self.env,
            params: &self.params,
            conditions: &self.conditions,
            mappings: &self.mappings,
            resources: &self.resources,
        }
    }

    fn load(self) -> Result<Stack, TemplateError> {
        let r = self.resolver();

        let mut conditions = BTreeMap::new();
        for name in self.conditions.keys() {
            let value = r.condition(name).map_err(|e| {
                let prefix = format!("condition {name}: ");
                TemplateError::Condition {
                    name: name.clone(),
                    message: e.0.strip_prefix(&prefix).unwrap_or(&e.0).to_owned(),
                }
            })?;
            conditions.insert(name.clone(), value);
        }

        self.check_all_references(&r, &conditions)?;
        let mut rule_notices = Vec::new();
        crate::rules::check(&r, &section(self.root, "Rules")?, &mut rule_notices)?;

        let mut stack = Stack {
            env: self.env.clone(),
            template_dir: self.base_dir.to_owned(),
            description: self
                .root
                .get("Description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            parameters: self
                .params
                .iter()
                .map(|(k, v)| {
                    let s = match v {
                        ParamValue::String(s) => s.clone(),
                        ParamValue::List(items) => items.join(","),
                    };
                    (k.clone(), s)
                })
                .collect(),
            conditions: conditions.clone(),
            functions: Vec::new(),
            state_machines: Vec::new(),
            topics: Vec::new(),
            subscriptions: Vec::new(),
            http_apis: Vec::new(),
            tables: Vec::new(),
            buckets: Vec::new(),
            skipped: Vec::new(),
            outputs: Vec::new(),
            notices: self
                .unchecked_patterns
                .iter()
                .map(|(parameter, reason)| Notice::UncheckedPattern {
                    parameter: parameter.clone(),
                    reason: reason.clone(),
                })
                .collect(),
        };
        stack.notices.extend(rule_notices);

        for (id, resource) in &self.resources {
            let ty = resource_type(id, resource)?;
            if let Some(cond) = resource.get("Condition").and_then(Value::as_str)
                && !conditions.get(cond).copied().unwrap_or(false)
            {
                stack.notices.push(Notice::ConditionFalse {
                    logical_id: id.clone(),
                    condition: cond.to_owned(),
                });
                continue;
            }
            let understood = matches!(
                ty,
                "AWS::Serverless::Function"
                    | "AWS::Serverless::StateMachine"
                    | "AWS::StepFunctions::StateMachine"
                    | "AWS::SNS::Topic"
                    | "AWS::SNS::Subscription"
                    | "AWS::Serverless::HttpApi"
                    | "AWS::DynamoDB::Table"
                    | "AWS::S3::Bucket"
            );
            if !understood {
                stack.skipped.push(SkippedResource {
                    logical_id: id.clone(),
                    resource_type: ty.to_owned(),
                });
                stack.notices.push(Notice::Skipped {
                    logical_id: id.clone(),
                    resource_type: ty.to_owned(),
                });
                continue;
            }
            for key in resource
                .get("Properties")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys())
            {
                if let Some(suggestion) = known::near_miss(ty, key) {
                    stack.notices.push(Notice::MisspeltProperty {
                        logical_id: id.clone(),
                        property: key.clone(),
                        suggestion: suggestion.to_owned(),
                    });
                }
            }
            let props = resolve_properties(&r, id, resource)?;
            let res = Res {
                id,
                resource,
                props: &props,
            };
            match ty {
                "AWS::Serverless::Function" => {
                    let f = self.function(&r, &res, &mut stack.notices)?;
                    stack.functions.push(f);
                }
                "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => {
                    let sm = self.state_machine(&r, &res, &mut stack.notices)?;
                    stack.state_machines.push(sm);
                }
                "AWS::SNS::Topic" => stack.topics.push(topic(&r, &res)?),
                "AWS::SNS::Subscription" => stack.subscriptions.push(subscription(&res)?),
                "AWS::DynamoDB::Table" => stack.tables.push(table(&r, &res)?),
                "AWS::S3::Bucket" => stack.buckets.push(bucket(&r, &res)?),
                _ => stack.http_apis.push(self.http_api(&r, &res)?),
            }
        }

        self.attach_routes(&r, &mut stack)?;
        sns_event_subscriptions(&mut stack)?;
        stack.outputs = self.outputs(&r, &conditions)?;
        Ok(stack)
    }

    /// CloudFormation rejects dangling references anywhere in the template,
    /// including resources local mode skips and branches not taken.
    fn check_all_references(
        &self,
        r: &Resolver<'_>,
        conditions: &BTreeMap<String, bool>,
    ) -> Result<(), TemplateError> {
        for (id, resource) in &self.resources {
            if let Some(cond) = resource.get("Condition") {
                let known = cond.as_str().is_some_and(|c| conditions.contains_key(c));
                if !known {
                    let names: Vec<&str> = conditions.keys().map(String::as_str).collect();
                    return Err(TemplateError::resource(
                        id,
                        Some("Condition"),
                        format!(
                            "unknown condition {}; the template's conditions are: {}",
                            cond.as_str()
                                .map_or_else(|| cond.to_string(), str::to_owned),
                            if names.is_empty() {
                                "(none)".to_owned()
                            } else {
                                names.join(", ")
                            }
                        ),
                    ));
                }
            }
            if let Some(depends_on) = resource.get("DependsOn") {
                let names: Vec<&Value> = match depends_on {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                for name in names {
                    let known = name
                        .as_str()
                        .is_some_and(|n| self.resources.contains_key(n));
                    if !known {
                        return Err(TemplateError::resource(
                            id,
                            Some("DependsOn"),
                            format!("{name} is not a resource of this template"),
                        ));
                    }
                }
            }
            if let Some(props) = resource.get("Properties").and_then(Value::as_object) {
                for (key, value) in props {
                    check_references(value, r)
                        .map_err(|e| TemplateError::resource(id, Some(key), e.0))?;
                }
            }
        }
        for (name, output) in &self.outputs {
            check_references(output, r).map_err(|e| TemplateError::Output {
                name: name.clone(),
                message: e.0,
            })?;
        }
        Ok(())
    }

    fn outputs(
        &self,
        r: &Resolver<'_>,
        conditions: &BTreeMap<String, bool>,
    ) -> Result<Vec<Output>, TemplateError> {
        let mut out = Vec::new();
        for (name, output) in &self.outputs {
            let err = |message: String| TemplateError::Output {
                name: name.clone(),
                message,
            };
            if let Some(cond) = output.get("Condition") {
                let c = cond.as_str().unwrap_or_default();
                match conditions.get(c) {
                    Some(true) => {}
                    Some(false) => continue,
                    None => return Err(err(format!("unknown condition {cond}"))),
                }
            }
            let value = output
                .get("Value")
                .ok_or_else(|| err("has no Value".to_owned()))?;
            let value = r.resolve_string("Value", value).map_err(|e| err(e.0))?;
            let description = match output.get("Description") {
                None => None,
                Some(d) => Some(r.resolve_string("Description", d).map_err(|e| err(e.0))?),
            };
            let export_name = match output.pointer("/Export/Name") {
                None => None,
                Some(n) => Some(r.resolve_string("Export.Name", n).map_err(|e| err(e.0))?),
            };
            out.push(Output {
                name: name.clone(),
                value,
                description,
                export_name,
            });
        }
        Ok(out)
    }
}

/// A resource being read, with its resolved properties.
struct Res<'a> {
    id: &'a str,
    resource: &'a Value,
    props: &'a Map<String, Value>,
}

impl Res<'_> {
    fn err(&self, property: &str, message: impl Into<String>) -> TemplateError {
        TemplateError::resource(self.id, Some(property), message)
    }

    fn opt_string(&self, key: &str) -> Result<Option<String>, TemplateError> {
        match self.props.get(key) {
            None => Ok(None),
            Some(v) => scalar_string(v)
                .map(Some)
                .ok_or_else(|| self.err(key, format!("must be a string, got {v}"))),
        }
    }

    fn req_string(&self, key: &str) -> Result<String, TemplateError> {
        self.opt_string(key)?
            .ok_or_else(|| self.err(key, "missing: the property is required"))
    }

    fn opt_u32(&self, key: &str) -> Result<Option<u32>, TemplateError> {
        match self.props.get(key) {
            None => Ok(None),
            Some(v) => scalar_string(v)
                .and_then(|s| s.trim().parse::<u32>().ok())
                .map(Some)
                .ok_or_else(|| self.err(key, format!("must be a whole number, got {v}"))),
        }
    }

    fn opt_bool(&self, key: &str) -> Result<bool, TemplateError> {
        match self.props.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s == "true" => Ok(true),
            Some(Value::String(s)) if s == "false" => Ok(false),
            Some(v) => Err(self.err(key, format!("must be true or false, got {v}"))),
        }
    }
}

fn resource_type<'v>(id: &str, resource: &'v Value) -> Result<&'v str, TemplateError> {
    if id.starts_with("Fn::ForEach") {
        return Err(TemplateError::resource(
            id,
            None,
            "Fn::ForEach (the AWS::LanguageExtensions transform) is not supported locally; write the resources out",
        ));
    }
    if !resource.is_object() {
        return Err(TemplateError::resource(
            id,
            None,
            "must be a map with Type and Properties",
        ));
    }
    resource
        .get("Type")
        .and_then(Value::as_str)
        .ok_or_else(|| TemplateError::resource(id, Some("Type"), "missing"))
}

/// Resolves every property; an `AWS::NoValue` property is removed.
fn resolve_properties(
    r: &Resolver<'_>,
    id: &str,
    resource: &Value,
) -> Result<Map<String, Value>, TemplateError> {
    let mut out = Map::new();
    let Some(props) = resource.get("Properties") else {
        return Ok(out);
    };
    let props = props
        .as_object()
        .ok_or_else(|| TemplateError::resource(id, Some("Properties"), "must be a map"))?;
    for (key, value) in props {
        match r.resolve(value) {
            Ok(Some(v)) => {
                out.insert(key.clone(), v);
            }
            Ok(None) => {}
            Err(e) => return Err(TemplateError::resource(id, Some(key), e.0)),
        }
    }
    Ok(out)
}

/// Merges each `Globals` section into the resources of its type.
fn apply_globals(
    globals: &Map<String, Value>,
    mut resources: Map<String, Value>,
) -> Result<Map<String, Value>, TemplateError> {
    for (name, props) in globals {
        let Some((_, ty)) = globals::SECTIONS.iter().find(|(s, _)| s == name) else {
            let known: Vec<&str> = globals::SECTIONS.iter().map(|(s, _)| *s).collect();
            return Err(TemplateError::section(
                "Globals",
                format!("{name} is not supported; use one of {}", known.join(", ")),
            ));
        };
        let props = props.as_object().ok_or_else(|| {
            TemplateError::section("Globals", format!("{name} must be a map of properties"))
        })?;
        if let Some(key) = props
            .keys()
            .find(|k| globals::NOT_GLOBAL.contains(&(name.as_str(), k.as_str())))
        {
            return Err(TemplateError::section(
                "Globals",
                format!("{name}.{key} cannot be global (SAM rejects it); set it on each resource"),
            ));
        }
        for (id, resource) in resources.iter_mut() {
            if resource.get("Type").and_then(Value::as_str) != Some(ty) {
                continue;
            }
            let Some(obj) = resource.as_object_mut() else {
                continue;
            };
            let local = match obj.get("Properties") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(m)) => m.clone(),
                Some(_) => {
                    return Err(TemplateError::resource(
                        id,
                        Some("Properties"),
                        "must be a map",
                    ));
                }
            };
            obj.insert(
                "Properties".to_owned(),
                Value::Object(globals::merge(props, &local)),
            );
        }
    }
    Ok(resources)
}

/// `AWS::Serverless::*` resources only exist with the SAM transform.
fn check_transform(
    root: &Map<String, Value>,
    resources: &Map<String, Value>,
) -> Result<(), TemplateError> {
    let has_sam = match root.get("Transform") {
        Some(Value::String(s)) => s == SAM_TRANSFORM,
        Some(Value::Array(items)) => items.iter().any(|t| t.as_str() == Some(SAM_TRANSFORM)),
        _ => false,
    };
    if has_sam {
        return Ok(());
    }
    let sam = resources.iter().find_map(|(id, r)| {
        r.get("Type")
            .and_then(Value::as_str)
            .filter(|t| t.starts_with("AWS::Serverless::"))
            .map(|t| (id, t))
    });
    match sam {
        Some((id, ty)) => Err(TemplateError::section(
            "Transform",
            format!(
                "{id} is an {ty}, which needs Transform: {SAM_TRANSFORM} at the top of the template"
            ),
        )),
        None => Ok(()),
    }
}

/// `base` joined with a template-relative path, without `./` noise.
fn join_relative(base: &Path, rel: &str) -> PathBuf {
    let mut out = base.to_path_buf();
    for c in Path::new(rel).components() {
        if c != Component::CurDir {
            out.push(c);
        }
    }
    out
}

fn s3_code_message(what: &str) -> String {
    format!(
        "{what} is in S3; local mode builds from source: set CodeUri to the function's directory, relative to the template"
    )
}
