//! Key condition expressions, the form Query takes: a condition limited to
//! the key attributes, read into one part per key, and the sort-key match.

use super::Placeholders;
use super::ast::{CmpOp, Condition, KeyCondition, Operand, SortCondition};
use super::condition::parse_condition;
use crate::value::{Step, Value};

impl SortCondition {
    pub fn matches(&self, v: &Value) -> bool {
        match self {
            SortCondition::Cmp(op, w) => op.holds(v, w),
            SortCondition::Between(lo, hi) => CmpOp::Ge.holds(v, lo) && CmpOp::Le.holds(v, hi),
            SortCondition::BeginsWith(prefix) => match (v, prefix) {
                (Value::S(a), Value::S(b)) => a.starts_with(b.as_str()),
                (Value::B(a), Value::B(b)) => a.starts_with(b),
                _ => false,
            },
        }
    }
}

/// Parses a KeyConditionExpression: `=`, `<`, `<=`, `>`, `>=`, `BETWEEN`,
/// `begins_with` on top-level attributes, joined by `AND` (messages: dynalite's
/// `checkExpr`, recorded against DynamoDB).
pub fn parse_key_condition(text: &str, ph: &mut Placeholders) -> Result<KeyCondition, String> {
    let cond = parse_condition(text, ph)?;
    let mut out = KeyCondition::default();
    collect_key(&cond, &mut out)?;
    Ok(out)
}

fn collect_key(cond: &Condition, out: &mut KeyCondition) -> Result<(), String> {
    let key_name = |o: &Operand| -> Result<Option<String>, String> {
        match o {
            Operand::Path(p) if p.len() == 1 => match &p[0] {
                Step::Key(k) => Ok(Some(k.clone())),
                Step::Index(_) => Err(
                    "KeyConditionExpressions cannot have conditions on nested attributes"
                        .to_owned(),
                ),
            },
            Operand::Path(_) => Err(
                "KeyConditionExpressions cannot have conditions on nested attributes".to_owned(),
            ),
            Operand::Size(_) => {
                Err("KeyConditionExpressions cannot contain nested operations".to_owned())
            }
            Operand::Value(_) => Ok(None),
        }
    };
    let value = |o: &Operand| match o {
        Operand::Value(v) => Some(v.clone()),
        _ => None,
    };
    let (name, part) = match cond {
        Condition::And(a, b) => {
            collect_key(a, out)?;
            return collect_key(b, out);
        }
        Condition::Or(..) => {
            return Err("Invalid operator used in KeyConditionExpression: OR".to_owned());
        }
        Condition::Not(..) => {
            return Err("Invalid operator used in KeyConditionExpression: NOT".to_owned());
        }
        Condition::In(..) => {
            return Err("Invalid operator used in KeyConditionExpression: IN".to_owned());
        }
        Condition::Exists(_) => {
            return Err(
                "Invalid operator used in KeyConditionExpression: attribute_exists".to_owned(),
            );
        }
        Condition::NotExists(_) => {
            return Err(
                "Invalid operator used in KeyConditionExpression: attribute_not_exists".to_owned(),
            );
        }
        Condition::Type(..) => {
            return Err(
                "Invalid operator used in KeyConditionExpression: attribute_type".to_owned(),
            );
        }
        Condition::Contains(..) => {
            return Err("Invalid operator used in KeyConditionExpression: contains".to_owned());
        }
        Condition::Cmp(CmpOp::Ne, ..) => {
            return Err("Invalid operator used in KeyConditionExpression: <>".to_owned());
        }
        Condition::Cmp(op, l, r) => match (key_name(l)?, key_name(r)?) {
            (Some(_), Some(_)) => {
                return Err("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition".to_owned());
            }
            (None, None) => {
                return Err(
                    "Invalid condition in KeyConditionExpression: No key attribute specified"
                        .to_owned(),
                );
            }
            (Some(name), None) => (
                name,
                SortCondition::Cmp(*op, value(r).unwrap_or(Value::Null)),
            ),
            // `:v < k` is `k > :v`.
            (None, Some(name)) => {
                let flipped = match op {
                    CmpOp::Lt => CmpOp::Gt,
                    CmpOp::Le => CmpOp::Ge,
                    CmpOp::Gt => CmpOp::Lt,
                    CmpOp::Ge => CmpOp::Le,
                    other => *other,
                };
                (
                    name,
                    SortCondition::Cmp(flipped, value(l).unwrap_or(Value::Null)),
                )
            }
        },
        Condition::Between(a, lo, hi) => {
            let Some(name) = key_name(a)? else {
                return Err("Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand".to_owned());
            };
            if key_name(lo)?.is_some() || key_name(hi)?.is_some() {
                return Err("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition".to_owned());
            }
            (
                name,
                SortCondition::Between(
                    value(lo).unwrap_or(Value::Null),
                    value(hi).unwrap_or(Value::Null),
                ),
            )
        }
        Condition::BeginsWith(a, b) => {
            let Some(name) = key_name(a)? else {
                return Err("Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand".to_owned());
            };
            if key_name(b)?.is_some() {
                return Err("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition".to_owned());
            }
            (
                name,
                SortCondition::BeginsWith(value(b).unwrap_or(Value::Null)),
            )
        }
    };
    if out.parts.iter().any(|(n, _)| *n == name) {
        return Err("KeyConditionExpressions must only contain one condition per key".to_owned());
    }
    out.parts.push((name, part));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::test_support::ph;
    use serde_json::json;

    #[test]
    fn key_conditions_accept_only_key_shapes() {
        let vals =
            json!({":pk": {"S": "R#1"}, ":p": {"S": "V#"}, ":a": {"S": "a"}, ":b": {"S": "b"}});
        let mut p = ph(&[], vals.clone());
        let k = parse_key_condition("pk = :pk AND begins_with(sk, :p)", &mut p)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k.parts.len(), 2);
        assert!(k.parts[1].1.matches(&Value::S("V#x".into())));
        assert!(!k.parts[1].1.matches(&Value::S("L#x".into())));
        let mut p = ph(&[], vals.clone());
        let k = parse_key_condition(":a < sk", &mut p).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            k.parts[0].1.matches(&Value::S("b".into())),
            "flipped to sk > :a"
        );
        for (expr, want) in [
            (
                "pk = :pk OR sk = :a",
                "Invalid operator used in KeyConditionExpression: OR",
            ),
            (
                "pk <> :pk",
                "Invalid operator used in KeyConditionExpression: <>",
            ),
            (
                "attribute_exists(pk)",
                "Invalid operator used in KeyConditionExpression: attribute_exists",
            ),
            (
                "pk = :pk AND pk = :a",
                "KeyConditionExpressions must only contain one condition per key",
            ),
            (
                "a.b = :a",
                "KeyConditionExpressions cannot have conditions on nested attributes",
            ),
            (
                "pk = sk",
                "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
            ),
        ] {
            let mut p = ph(&[], vals.clone());
            assert_eq!(
                parse_key_condition(expr, &mut p).err().as_deref(),
                Some(want),
                "{expr}"
            );
        }
    }
}
