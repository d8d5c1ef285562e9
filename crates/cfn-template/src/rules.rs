//! The `Rules` section: assertions on the parameters, checked before any
//! resource is read, so a bad combination of parameters fails the way
//! `sam deploy` fails (CloudFormation refuses the change set with the
//! assertion's `AssertDescription`).
//!
//! Relied on: CloudFormation User Guide, "Rules" ("Rules syntax": each rule
//! has an optional `RuleCondition` and `Assertions`, each an `Assert` with an
//! optional `AssertDescription`; a rule whose condition is false is not
//! checked) and "Rule functions" (`Fn::And`, `Fn::Contains`,
//! `Fn::EachMemberEquals`, `Fn::EachMemberIn`, `Fn::Equals`, `Fn::Not`,
//! `Fn::Or`, `Fn::RefAll`, `Fn::ValueOf`, `Fn::ValueOfAll`, and `Ref` of a
//! parameter). When an assertion has no description, CloudFormation's
//! message is "Assertion failed"; here it also names the rule.
//!
//! `Fn::RefAll`, `Fn::ValueOf` and `Fn::ValueOfAll` read the AWS account
//! (every VPC id, a subnet's tag, ...): a rule that uses them is reported as
//! unchecked ([`Notice::UncheckedRule`]), never silently passed.

use serde_json::{Map, Value};

use crate::error::{ResolveError, TemplateError};
use crate::model::Notice;
use crate::params::scalar_string;
use crate::resolve::{Resolver, intrinsic};

/// A rule function that needs an AWS account.
struct NeedsAccount(&'static str);

/// Checks every rule. A failed assertion is a [`TemplateError::Rule`]; a
/// rule that cannot be checked locally is a notice.
pub(crate) fn check(
    r: &Resolver<'_>,
    rules: &Map<String, Value>,
    notices: &mut Vec<Notice>,
) -> Result<(), TemplateError> {
    for (name, rule) in rules {
        let rule_err = |message: String| TemplateError::Rule {
            rule: name.clone(),
            message,
        };
        let Some(rule) = rule.as_object() else {
            return Err(rule_err("must be a map with Assertions".to_owned()));
        };
        let condition = match rule.get("RuleCondition") {
            None => Ok(true),
            Some(c) => eval_bool(r, c),
        };
        let applies = match condition {
            Ok(applies) => applies,
            Err(Eval::NeedsAccount(NeedsAccount(function))) => {
                notices.push(unchecked(name, function));
                continue;
            }
            Err(Eval::Invalid(e)) => return Err(rule_err(format!("RuleCondition: {e}"))),
        };
        if !applies {
            continue;
        }
        let assertions = rule
            .get("Assertions")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                rule_err("Assertions: missing; a rule needs a list of Assert".to_owned())
            })?;
        for (i, assertion) in assertions.iter().enumerate() {
            let assert = assertion
                .get("Assert")
                .ok_or_else(|| rule_err(format!("Assertions entry {i} has no Assert")))?;
            match eval_bool(r, assert) {
                Ok(true) => {}
                Ok(false) => {
                    let description = assertion
                        .get("AssertDescription")
                        .and_then(Value::as_str)
                        .unwrap_or("Assertion failed");
                    return Err(rule_err(description.to_owned()));
                }
                Err(Eval::NeedsAccount(NeedsAccount(function))) => {
                    notices.push(unchecked(name, function));
                }
                Err(Eval::Invalid(e)) => {
                    return Err(rule_err(format!("Assertions entry {i}: {e}")));
                }
            }
        }
    }
    Ok(())
}

fn unchecked(rule: &str, function: &str) -> Notice {
    Notice::UncheckedRule {
        rule: rule.to_owned(),
        reason: format!("{function} reads the AWS account"),
    }
}

enum Eval {
    NeedsAccount(NeedsAccount),
    Invalid(ResolveError),
}

impl From<ResolveError> for Eval {
    fn from(e: ResolveError) -> Self {
        Eval::Invalid(e)
    }
}

fn invalid(message: impl Into<String>) -> Eval {
    Eval::Invalid(ResolveError::new(message))
}

fn eval_bool(r: &Resolver<'_>, v: &Value) -> Result<bool, Eval> {
    let Some((name, arg)) = intrinsic(v) else {
        return match scalar_string(v).as_deref() {
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            _ => Err(invalid(format!(
                "expected a rule function (Fn::Equals, Fn::Contains, Fn::EachMemberIn, ...), got {v}"
            ))),
        };
    };
    let items = |n: usize| -> Result<&Vec<Value>, Eval> {
        arg.as_array()
            .filter(|a| a.len() == n)
            .ok_or_else(|| invalid(format!("{name} takes a list of {n} elements, got {arg}")))
    };
    match name {
        "Fn::And" | "Fn::Or" => {
            let list = arg
                .as_array()
                .filter(|a| (2..=10).contains(&a.len()))
                .ok_or_else(|| invalid(format!("{name} takes 2 to 10 conditions, got {arg}")))?;
            let mut values = Vec::with_capacity(list.len());
            for item in list {
                values.push(eval_bool(r, item)?);
            }
            Ok(if name == "Fn::And" {
                values.iter().all(|b| *b)
            } else {
                values.iter().any(|b| *b)
            })
        }
        "Fn::Not" => Ok(!eval_bool(r, &items(1)?[0])?),
        "Fn::Equals" => {
            let a = items(2)?;
            Ok(text(r, &a[0])? == text(r, &a[1])?)
        }
        "Fn::Contains" => {
            let a = items(2)?;
            Ok(list(r, &a[0])?.contains(&text(r, &a[1])?))
        }
        "Fn::EachMemberEquals" => {
            let a = items(2)?;
            let wanted = text(r, &a[1])?;
            Ok(list(r, &a[0])?.iter().all(|m| *m == wanted))
        }
        "Fn::EachMemberIn" => {
            let a = items(2)?;
            let allowed = list(r, &a[1])?;
            Ok(list(r, &a[0])?.iter().all(|m| allowed.contains(m)))
        }
        "Fn::RefAll" => Err(Eval::NeedsAccount(NeedsAccount("Fn::RefAll"))),
        "Fn::ValueOf" => Err(Eval::NeedsAccount(NeedsAccount("Fn::ValueOf"))),
        "Fn::ValueOfAll" => Err(Eval::NeedsAccount(NeedsAccount("Fn::ValueOfAll"))),
        other => Err(invalid(format!(
            "{other} cannot be used in Rules; rule functions are Fn::And, Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn, Fn::Equals, Fn::Not, Fn::Or, Fn::RefAll, Fn::ValueOf, Fn::ValueOfAll"
        ))),
    }
}

/// A value that must be one string: a literal or a `Ref` to a parameter.
fn text(r: &Resolver<'_>, v: &Value) -> Result<String, Eval> {
    let value = value(r, v)?;
    match value {
        Value::Array(items) => Ok(items
            .iter()
            .filter_map(scalar_string)
            .collect::<Vec<_>>()
            .join(",")),
        other => {
            scalar_string(&other).ok_or_else(|| invalid(format!("expected a string, got {other}")))
        }
    }
}

/// A list of strings: a literal list, or a `Ref` to a list parameter (a
/// `CommaDelimitedList` or `List<...>`).
fn list(r: &Resolver<'_>, v: &Value) -> Result<Vec<String>, Eval> {
    match value(r, v)? {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                scalar_string(item)
                    .ok_or_else(|| invalid(format!("expected strings in the list, got {item}")))
            })
            .collect(),
        other => scalar_string(&other)
            .map(|s| vec![s])
            .ok_or_else(|| invalid(format!("expected a list of strings, got {other}"))),
    }
}

fn value(r: &Resolver<'_>, v: &Value) -> Result<Value, Eval> {
    match intrinsic(v) {
        Some(("Ref", _)) => r
            .resolve(v)?
            .ok_or_else(|| invalid("Ref resolves to AWS::NoValue")),
        Some(("Fn::ValueOf" | "Fn::ValueOfAll" | "Fn::RefAll", _)) => {
            eval_bool(r, v).map(Value::Bool)
        }
        Some((other, _)) if !matches!(other, "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not") => {
            Err(invalid(format!(
                "{other} cannot be used in Rules: a rule reads parameters with Ref and compares them with rule functions"
            )))
        }
        Some(_) => eval_bool(r, v).map(Value::Bool),
        None => match v {
            Value::Array(items) => items
                .iter()
                .map(|item| value(r, item))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        },
    }
}
