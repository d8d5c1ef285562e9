//! `AWS::DynamoDB::Table`.

use serde_json::Value;

use super::Res;
use crate::TemplateError;
use crate::model::{KeyElement, Table};
use crate::params::scalar_string;
use crate::resolve::Resolver;

/// An `AWS::DynamoDB::Table`, checked as CloudFormation and DynamoDB check it
/// (`AWS::DynamoDB::Table` in the CloudFormation template reference;
/// DynamoDB `CreateTable`: one HASH key, then at most one RANGE key, each
/// defined in `AttributeDefinitions` as S, N or B).
pub(super) fn table(r: &Resolver<'_>, res: &Res<'_>) -> Result<Table, TemplateError> {
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
