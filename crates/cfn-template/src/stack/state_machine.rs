//! State machines: `AWS::Serverless::StateMachine` and
//! `AWS::StepFunctions::StateMachine`, with their definition and substitutions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Loader, Res, join_relative};
use crate::model::{Notice, StateMachine, StateMachineType};
use crate::params::scalar_string;
use crate::policy::{Implicit, Policy};
use crate::resolve::Resolver;
use crate::{TemplateError, subst, yaml};

impl Loader<'_> {
    pub(super) fn state_machine(
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
}

/// A definition's text, where it came from, the property that holds it,
/// and whether it is YAML.
type DefinitionSource = (String, Option<PathBuf>, &'static str, bool);

/// The definition of an `AWS::Serverless::StateMachine`: the file
/// `DefinitionUri` (relative to the template), or `Definition`.
pub(super) fn sam_definition(
    res: &Res<'_>,
    base_dir: &Path,
) -> Result<DefinitionSource, TemplateError> {
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
pub(super) fn cfn_definition(res: &Res<'_>) -> Result<DefinitionSource, TemplateError> {
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
