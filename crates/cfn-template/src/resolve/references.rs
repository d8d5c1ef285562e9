//! Dangling names: CloudFormation refuses a template whose `Ref`,
//! `Fn::GetAtt` or `${...}` names nothing it declares.

use serde_json::{Map, Value};

use super::{PSEUDO_PARAMETERS, Resolver, SubPart, intrinsic, sub_parts};
use crate::error::ResolveError;

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
