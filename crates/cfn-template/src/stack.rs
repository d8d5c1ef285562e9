//! Reading a template into a [`Stack`]: sections, `Globals`, conditions,
//! then each resource type local mode runs.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use crate::env::LocalEnvironment;
use crate::model::{
    Function, FunctionCode, FunctionEvent, HttpApi, HttpRoute, KeyElement, Notice, Output,
    SkippedResource, Stack, StateMachine, StateMachineType, Subscription, Table, Topic,
    TopicSubscription,
};
use crate::params::{self, ParamValue, ParameterOverrides, scalar_string};
use crate::policy::{self, Implicit, Policy};
use crate::resolve::{IMPLICIT_HTTP_API, Resolver, check_references};
use crate::{TemplateError, globals, known, subst, yaml};

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

    fn function(
        &self,
        r: &Resolver<'_>,
        res: &Res<'_>,
        notices: &mut Vec<Notice>,
    ) -> Result<Function, TemplateError> {
        let id = res.id;
        let identity = r
            .identity(id)
            .map_err(|e| TemplateError::resource(id, Some("FunctionName"), e.0))?;
        let arn = identity.attr("Arn").unwrap_or_default().to_owned();

        let code_uri = res.opt_string("CodeUri")?;
        let code = if let Some(inline) = res.opt_string("InlineCode")? {
            FunctionCode::Inline(inline)
        } else {
            match (&code_uri, res.props.get("CodeUri")) {
                (Some(uri), _) if uri.starts_with("s3://") => {
                    return Err(res.err("CodeUri", s3_code_message(uri)));
                }
                (Some(uri), _) => FunctionCode::Dir(join_relative(self.base_dir, uri)),
                (None, Some(_)) => {
                    return Err(res.err("CodeUri", s3_code_message("an S3 location")));
                }
                (None, None) => {
                    if res.opt_string("PackageType")?.as_deref() == Some("Image") {
                        return Err(res.err(
                            "PackageType",
                            "container image functions are not supported locally; use a zip package with CodeUri",
                        ));
                    }
                    return Err(res.err(
                        "CodeUri",
                        "missing: set CodeUri (or Globals.Function.CodeUri) to the function's source directory",
                    ));
                }
            }
        };

        let binary = res
            .resource
            .pointer("/Metadata/BuildProperties/Binary")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                code_uri.as_deref().and_then(|uri| {
                    Path::new(uri).components().rev().find_map(|c| match c {
                        Component::Normal(s) => s.to_str().map(str::to_owned),
                        _ => None,
                    })
                })
            });

        let architectures = match res.props.get("Architectures") {
            None => vec!["x86_64".to_owned()],
            Some(Value::Array(items)) => {
                let archs: Vec<String> = items.iter().filter_map(scalar_string).collect();
                let valid = archs.len() == 1
                    && items.len() == 1
                    && matches!(archs[0].as_str(), "x86_64" | "arm64");
                if !valid {
                    return Err(res.err(
                        "Architectures",
                        format!(
                            "Lambda takes exactly one architecture, [x86_64] or [arm64], got {}",
                            Value::Array(items.clone())
                        ),
                    ));
                }
                archs
            }
            Some(other) => {
                return Err(res.err(
                    "Architectures",
                    format!("must be a list like [arm64], got {other}"),
                ));
            }
        };

        let mut environment = BTreeMap::new();
        if let Some(env) = res.props.get("Environment") {
            let vars = match env.get("Variables") {
                None => None,
                Some(Value::Object(vars)) => Some(vars),
                Some(other) => {
                    return Err(res.err(
                        "Environment",
                        format!("Variables must be a map, got {other}"),
                    ));
                }
            };
            for (k, v) in vars.into_iter().flatten() {
                let s = scalar_string(v).ok_or_else(|| {
                    res.err(
                        "Environment",
                        format!("variable {k} must resolve to a string, got {v}"),
                    )
                })?;
                environment.insert(k.clone(), s);
            }
        }

        let logging = res.props.get("LoggingConfig");
        let log_format = match logging.and_then(|l| l.get("LogFormat")) {
            None => "Text".to_owned(),
            Some(v) => scalar_string(v)
                .ok_or_else(|| res.err("LoggingConfig", "LogFormat must be Text or JSON"))?,
        };
        let logging_field = |key: &str| logging.and_then(|l| l.get(key)).and_then(scalar_string);
        let log_group = logging_field("LogGroup");

        let mut events = Vec::new();
        if let Some(map) = res.props.get("Events") {
            let map = map
                .as_object()
                .ok_or_else(|| res.err("Events", "must be a map of event sources"))?;
            for (name, event) in map {
                let event_type = event
                    .get("Type")
                    .and_then(Value::as_str)
                    .ok_or_else(|| res.err("Events", format!("event {name} has no Type")))?
                    .to_owned();
                if !matches!(event_type.as_str(), "HttpApi" | "SNS") {
                    notices.push(Notice::IgnoredEvent {
                        function: id.to_owned(),
                        event: name.clone(),
                        event_type: event_type.clone(),
                    });
                }
                events.push(FunctionEvent {
                    name: name.clone(),
                    event_type,
                    properties: event
                        .get("Properties")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                });
            }
        }

        Ok(Function {
            logical_id: id.to_owned(),
            name: identity.name,
            arn,
            code,
            code_uri,
            binary,
            build_method: res
                .resource
                .pointer("/Metadata/BuildMethod")
                .and_then(Value::as_str)
                .map(str::to_owned),
            handler: res.opt_string("Handler")?,
            runtime: res.opt_string("Runtime")?,
            architectures,
            environment,
            timeout_seconds: res.opt_u32("Timeout")?.unwrap_or(3),
            memory_mb: res.opt_u32("MemorySize")?.unwrap_or(128),
            log_format,
            log_group,
            application_log_level: logging_field("ApplicationLogLevel"),
            system_log_level: logging_field("SystemLogLevel"),
            alias: res.opt_string("AutoPublishAlias")?,
            events,
            policy: self.policy(
                res,
                Implicit::Function {
                    traced: res.opt_string("Tracing")?.as_deref() == Some("Active"),
                },
            )?,
            properties: res.props.clone(),
        })
    }

    fn state_machine(
        &self,
        r: &Resolver<'_>,
        res: &Res<'_>,
        notices: &mut Vec<Notice>,
    ) -> Result<StateMachine, TemplateError> {
        let id = res.id;
        // A plain AWS::StepFunctions::StateMachine names its properties
        // differently (CloudFormation template reference).
        let cfn = res.resource.get("Type").and_then(Value::as_str)
            == Some("AWS::StepFunctions::StateMachine");
        let (name_key, type_key, role_key) = if cfn {
            ("StateMachineName", "StateMachineType", "RoleArn")
        } else {
            ("Name", "Type", "Role")
        };
        let identity = r
            .identity(id)
            .map_err(|e| TemplateError::resource(id, Some(name_key), e.0))?;
        let arn = identity.ref_value.clone();
        let machine_type = match res.opt_string(type_key)?.as_deref() {
            None | Some("STANDARD") => StateMachineType::Standard,
            Some("EXPRESS") => StateMachineType::Express,
            Some(other) => {
                return Err(res.err(
                    type_key,
                    format!("must be STANDARD or EXPRESS, got {other}"),
                ));
            }
        };
        let role_arn = match res.opt_string(role_key)? {
            Some(role) => role,
            None => r
                .identity(&format!("{id}Role"))
                .ok()
                .and_then(|i| i.attr("Arn").map(str::to_owned))
                .unwrap_or_else(|| self.env.global_arn("iam", &format!("role/{id}Role"))),
        };

        // SAM hands DefinitionUri/Definition and DefinitionSubstitutions to
        // AWS::StepFunctions::StateMachine, which replaces each ${Key} in the
        // definition text (SAM developer guide, AWS::Serverless::StateMachine,
        // "DefinitionSubstitutions"; CloudFormation AWS::StepFunctions::StateMachine).
        let (text, definition_path, property, is_yaml) = if cfn {
            cfn_definition(res)?
        } else {
            sam_definition(res, self.base_dir)?
        };

        let mut substitutions = BTreeMap::new();
        if let Some(subs) = res.props.get("DefinitionSubstitutions") {
            let subs = subs
                .as_object()
                .ok_or_else(|| res.err("DefinitionSubstitutions", "must be a map"))?;
            for (k, v) in subs {
                let s = scalar_string(v).ok_or_else(|| {
                    res.err(
                        "DefinitionSubstitutions",
                        format!("{k} must resolve to a string, number or boolean, got {v}"),
                    )
                })?;
                substitutions.insert(k.clone(), s);
            }
        }
        let (text, left) = subst::substitute(&text, &substitutions);
        for placeholder in left {
            notices.push(Notice::UnsubstitutedPlaceholder {
                logical_id: id.to_owned(),
                placeholder,
            });
        }
        let definition = if is_yaml {
            yaml::parse(&text).map_err(|e| {
                res.err(
                    property,
                    format!("not valid YAML after DefinitionSubstitutions: {e}"),
                )
            })?
        } else {
            serde_json::from_str::<Value>(&text).map_err(|e| {
                res.err(
                    property,
                    format!("not valid JSON after DefinitionSubstitutions: {e}"),
                )
            })?
        };
        if !definition.get("States").is_some_and(Value::is_object) {
            return Err(res.err(
                property,
                "is not a state machine definition: it has no States map",
            ));
        }

        Ok(StateMachine {
            logical_id: id.to_owned(),
            name: identity.name,
            arn,
            definition,
            definition_path,
            machine_type,
            role_arn,
            policy: if cfn {
                // The role is a separate resource: its permissions are not read here.
                Policy {
                    external_role: true,
                    ..Policy::default()
                }
            } else {
                self.policy(res, Implicit::None)?
            },
            properties: res.props.clone(),
        })
    }

    fn policy(&self, res: &Res<'_>, implicit: Implicit) -> Result<Policy, TemplateError> {
        policy::read(
            res.props.get("Policies"),
            res.props.contains_key("Role"),
            implicit,
            self.env,
        )
        .map_err(|e| res.err("Policies", e))
    }

    fn http_api(&self, r: &Resolver<'_>, res: &Res<'_>) -> Result<HttpApi, TemplateError> {
        let identity = r
            .identity(res.id)
            .map_err(|e| TemplateError::resource(res.id, None, e.0))?;
        Ok(HttpApi {
            logical_id: res.id.to_owned(),
            api_id: identity.ref_value,
            endpoint: self.env.http_api_url.clone(),
            stage_name: res
                .opt_string("StageName")?
                .unwrap_or_else(|| "$default".to_owned()),
            routes: Vec::new(),
        })
    }

    /// Adds the routes of the functions' `HttpApi` events to their APIs,
    /// creating SAM's implicit `ServerlessHttpApi` when an event has no `ApiId`.
    fn attach_routes(&self, r: &Resolver<'_>, stack: &mut Stack) -> Result<(), TemplateError> {
        for function in &stack.functions {
            for event in function.events.iter().filter(|e| e.event_type == "HttpApi") {
                let p = &event.properties;
                let err = |message: String| {
                    TemplateError::resource(
                        &function.logical_id,
                        Some("Events"),
                        format!("event {}: {message}", event.name),
                    )
                };
                let api_index = match p.get("ApiId") {
                    Some(api_id) => {
                        let api_id = scalar_string(api_id)
                            .ok_or_else(|| err("ApiId must be !Ref of an HttpApi".to_owned()))?;
                        stack
                            .http_apis
                            .iter()
                            .position(|a| a.api_id == api_id)
                            .ok_or_else(|| {
                                err(format!(
                                    "ApiId {api_id} is not an AWS::Serverless::HttpApi of this template"
                                ))
                            })?
                    }
                    None => match stack
                        .http_apis
                        .iter()
                        .position(|a| a.logical_id == IMPLICIT_HTTP_API)
                    {
                        Some(i) => i,
                        None => {
                            let identity = r.identity(IMPLICIT_HTTP_API).map_err(|e| err(e.0))?;
                            stack.http_apis.push(HttpApi {
                                logical_id: IMPLICIT_HTTP_API.to_owned(),
                                api_id: identity.ref_value,
                                endpoint: self.env.http_api_url.clone(),
                                stage_name: "$default".to_owned(),
                                routes: Vec::new(),
                            });
                            stack.http_apis.len() - 1
                        }
                    },
                };
                let text = |key: &str, default: &str| -> Result<String, TemplateError> {
                    match p.get(key) {
                        None => Ok(default.to_owned()),
                        Some(v) => {
                            scalar_string(v).ok_or_else(|| err(format!("{key} must be a string")))
                        }
                    }
                };
                let route = HttpRoute {
                    method: text("Method", "ANY")?.to_ascii_uppercase(),
                    path: text("Path", "$default")?,
                    function: function.logical_id.clone(),
                    payload_format_version: text("PayloadFormatVersion", "2.0")?,
                };
                if let Some(api) = stack.http_apis.get_mut(api_index) {
                    api.routes.push(route);
                }
            }
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

/// A function's `SNS` events are subscriptions of the function to the
/// topic (SAM generates an `AWS::SNS::Subscription` named
/// `<Function><Event>` with protocol `lambda`; SAM developer guide,
/// "SNS" event source type: `Topic`, `FilterPolicy`, `FilterPolicyScope`).
fn sns_event_subscriptions(stack: &mut Stack) -> Result<(), TemplateError> {
    let mut found = Vec::new();
    for f in &stack.functions {
        for event in f.events.iter().filter(|e| e.event_type == "SNS") {
            let p = &event.properties;
            let topic_arn = p.get("Topic").and_then(scalar_string).ok_or_else(|| {
                TemplateError::resource(
                    &f.logical_id,
                    Some("Events"),
                    format!("event {}: Topic (the topic's ARN) is required", event.name),
                )
            })?;
            found.push(Subscription {
                logical_id: format!("{}{}", f.logical_id, event.name),
                topic_arn,
                protocol: "lambda".to_owned(),
                endpoint: f.arn.clone(),
                raw_message_delivery: false,
                filter_policy: p.get("FilterPolicy").cloned(),
                filter_policy_scope: p.get("FilterPolicyScope").and_then(scalar_string),
                properties: p.clone(),
            });
        }
    }
    stack.subscriptions.extend(found);
    Ok(())
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

/// A definition's text, where it came from, the property that holds it,
/// and whether it is YAML.
type DefinitionSource = (String, Option<PathBuf>, &'static str, bool);

/// The definition of an `AWS::Serverless::StateMachine`: the file
/// `DefinitionUri` (relative to the template), or `Definition`.
fn sam_definition(res: &Res<'_>, base_dir: &Path) -> Result<DefinitionSource, TemplateError> {
    const S3: &str =
        "local mode reads a local file: set DefinitionUri to a path relative to the template";
    match (res.props.get("DefinitionUri"), res.props.get("Definition")) {
        (Some(_), Some(_)) => Err(res.err(
            "DefinitionUri",
            "set either DefinitionUri or Definition, not both",
        )),
        (Some(Value::String(uri)), None) if uri.starts_with("s3://") => {
            Err(res.err("DefinitionUri", format!("{uri} is in S3; {S3}")))
        }
        (Some(Value::String(uri)), None) => {
            let path = join_relative(base_dir, uri);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| res.err("DefinitionUri", format!("cannot read {uri}: {e}")))?;
            let is_yaml = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            );
            Ok((text, Some(path), "DefinitionUri", is_yaml))
        }
        (Some(_), None) => Err(res.err("DefinitionUri", format!("is an S3 location; {S3}"))),
        (None, Some(definition)) => Ok((definition.to_string(), None, "Definition", false)),
        (None, None) => Err(TemplateError::resource(
            res.id,
            None,
            "needs DefinitionUri (a file) or Definition (inline)",
        )),
    }
}

/// The definition of a plain `AWS::StepFunctions::StateMachine`:
/// `DefinitionString` or `Definition`.
fn cfn_definition(res: &Res<'_>) -> Result<DefinitionSource, TemplateError> {
    if res.props.contains_key("DefinitionS3Location") {
        return Err(res.err(
            "DefinitionS3Location",
            "is in S3; local mode reads the definition from the template: use DefinitionString or Definition",
        ));
    }
    match (
        res.props.get("DefinitionString"),
        res.props.get("Definition"),
    ) {
        (Some(_), Some(_)) => Err(res.err(
            "DefinitionString",
            "set either DefinitionString or Definition, not both",
        )),
        (Some(text), None) => {
            let text = scalar_string(text)
                .ok_or_else(|| res.err("DefinitionString", "must resolve to a string"))?;
            Ok((text, None, "DefinitionString", false))
        }
        (None, Some(definition)) => Ok((definition.to_string(), None, "Definition", false)),
        (None, None) => Err(TemplateError::resource(
            res.id,
            None,
            "needs DefinitionString or Definition",
        )),
    }
}

fn topic(r: &Resolver<'_>, res: &Res<'_>) -> Result<Topic, TemplateError> {
    let identity = r
        .identity(res.id)
        .map_err(|e| TemplateError::resource(res.id, Some("TopicName"), e.0))?;
    let mut subscriptions = Vec::new();
    if let Some(subs) = res.props.get("Subscription") {
        let subs = subs
            .as_array()
            .ok_or_else(|| res.err("Subscription", "must be a list of {Protocol, Endpoint}"))?;
        for (i, sub) in subs.iter().enumerate() {
            let field = |key: &str| {
                sub.get(key).and_then(scalar_string).ok_or_else(|| {
                    res.err("Subscription", format!("entry {i} needs {key} (a string)"))
                })
            };
            subscriptions.push(TopicSubscription {
                protocol: field("Protocol")?,
                endpoint: field("Endpoint")?,
                filter_policy: None,
                filter_policy_scope: None,
            });
        }
    }
    Ok(Topic {
        logical_id: res.id.to_owned(),
        name: identity.name,
        arn: identity.ref_value,
        display_name: res.opt_string("DisplayName")?,
        kms_master_key_id: res.opt_string("KmsMasterKeyId")?,
        fifo: res.opt_bool("FifoTopic")?,
        subscriptions,
        properties: res.props.clone(),
    })
}

fn subscription(res: &Res<'_>) -> Result<Subscription, TemplateError> {
    Ok(Subscription {
        logical_id: res.id.to_owned(),
        topic_arn: res.req_string("TopicArn")?,
        protocol: res.req_string("Protocol")?,
        endpoint: res.opt_string("Endpoint")?.unwrap_or_default(),
        raw_message_delivery: res.opt_bool("RawMessageDelivery")?,
        filter_policy: match res.props.get("FilterPolicy") {
            None => None,
            Some(policy @ Value::Object(_)) => Some(policy.clone()),
            // CloudFormation also takes the policy as a string of JSON.
            Some(Value::String(text)) => Some(
                serde_json::from_str::<Value>(text)
                    .ok()
                    .filter(Value::is_object)
                    .ok_or_else(|| {
                        res.err(
                            "FilterPolicy",
                            "must be a JSON object (or a string holding one)",
                        )
                    })?,
            ),
            Some(_) => {
                return Err(res.err(
                    "FilterPolicy",
                    "must be a JSON object (or a string holding one)",
                ));
            }
        },
        filter_policy_scope: match res.opt_string("FilterPolicyScope")? {
            None => None,
            Some(scope) if scope == "MessageAttributes" || scope == "MessageBody" => Some(scope),
            Some(other) => {
                return Err(res.err(
                    "FilterPolicyScope",
                    format!("{other} is not a scope: use MessageAttributes or MessageBody"),
                ));
            }
        },
        properties: res.props.clone(),
    })
}

/// An `AWS::DynamoDB::Table`, checked as CloudFormation and DynamoDB check it
/// (`AWS::DynamoDB::Table` in the CloudFormation template reference;
/// DynamoDB `CreateTable`: one HASH key, then at most one RANGE key, each
/// defined in `AttributeDefinitions` as S, N or B).
fn table(r: &Resolver<'_>, res: &Res<'_>) -> Result<Table, TemplateError> {
    let identity = r
        .identity(res.id)
        .map_err(|e| TemplateError::resource(res.id, Some("TableName"), e.0))?;
    let list = |key: &str| -> Result<&Vec<Value>, TemplateError> {
        res.props
            .get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| res.err(key, "missing: a list is required"))
    };
    let mut attribute_definitions = Vec::new();
    for (i, def) in list("AttributeDefinitions")?.iter().enumerate() {
        let field = |k: &str| {
            def.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    res.err(
                        "AttributeDefinitions",
                        format!("entry {i} needs {k} (a string)"),
                    )
                })
        };
        let (name, ty) = (field("AttributeName")?, field("AttributeType")?);
        if !matches!(ty.as_str(), "S" | "N" | "B") {
            return Err(res.err(
                "AttributeDefinitions",
                format!("{name}: AttributeType {ty} is not S, N or B"),
            ));
        }
        attribute_definitions.push((name, ty));
    }
    let mut key_schema = Vec::new();
    for (i, key) in list("KeySchema")?.iter().enumerate() {
        let field = |k: &str| {
            key.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| res.err("KeySchema", format!("entry {i} needs {k} (a string)")))
        };
        key_schema.push(KeyElement {
            attribute_name: field("AttributeName")?,
            key_type: field("KeyType")?,
        });
    }
    let types: Vec<&str> = key_schema.iter().map(|k| k.key_type.as_str()).collect();
    if !matches!(types.as_slice(), ["HASH"] | ["HASH", "RANGE"]) {
        return Err(res.err(
            "KeySchema",
            format!("must be one HASH key, optionally followed by one RANGE key; got {types:?}"),
        ));
    }
    for key in &key_schema {
        if !attribute_definitions
            .iter()
            .any(|(name, _)| *name == key.attribute_name)
        {
            return Err(res.err(
                "AttributeDefinitions",
                format!("the key attribute {} is not defined", key.attribute_name),
            ));
        }
    }
    let billing_mode = res
        .opt_string("BillingMode")?
        .unwrap_or_else(|| "PROVISIONED".to_owned());
    match billing_mode.as_str() {
        "PAY_PER_REQUEST" => {}
        "PROVISIONED" if res.props.contains_key("ProvisionedThroughput") => {}
        "PROVISIONED" => {
            return Err(res.err(
                "ProvisionedThroughput",
                "required unless BillingMode is PAY_PER_REQUEST",
            ));
        }
        other => {
            return Err(res.err(
                "BillingMode",
                format!("{other} is not PAY_PER_REQUEST or PROVISIONED"),
            ));
        }
    }
    let ttl_attribute = res
        .props
        .get("TimeToLiveSpecification")
        .filter(|ttl| ttl.get("Enabled").and_then(scalar_string).as_deref() == Some("true"))
        .and_then(|ttl| ttl.get("AttributeName"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Table {
        logical_id: res.id.to_owned(),
        arn: identity.attr("Arn").map(str::to_owned).unwrap_or_default(),
        name: identity.name,
        key_schema,
        attribute_definitions,
        billing_mode,
        ttl_attribute,
        properties: res.props.clone(),
    })
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
