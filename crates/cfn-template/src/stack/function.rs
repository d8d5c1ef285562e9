//! `AWS::Serverless::Function`: code, runtime, environment, events and policies.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use serde_json::Value;

use super::{Loader, Res, join_relative, s3_code_message};
use crate::TemplateError;
use crate::model::{Function, FunctionCode, FunctionEvent, Notice};
use crate::params::scalar_string;
use crate::policy::{self, Implicit, Policy};
use crate::resolve::Resolver;

impl Loader<'_> {
    pub(super) fn function(
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

    pub(super) fn policy(
        &self,
        res: &Res<'_>,
        implicit: Implicit,
    ) -> Result<Policy, TemplateError> {
        policy::read(
            res.props.get("Policies"),
            res.props.contains_key("Role"),
            implicit,
            self.env,
        )
        .map_err(|e| res.err("Policies", e))
    }
}
