//! Condition and filter expressions: [`parse_condition`] and their
//! evaluation against an item.

use super::Placeholders;
use super::ast::{CmpOp, Condition, Operand};
use super::parser::Parser;
use super::resolve::Resolver;
use crate::value::{Item, Value, get_path};

impl CmpOp {
    /// Whether `left op right` holds: values of different types are never
    /// equal and never ordered.
    pub(super) fn holds(self, left: &Value, right: &Value) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Self::Eq => left.equals(right),
            Self::Ne => !left.equals(right),
            op => matches!(
                (op, left.compare(right)),
                (Self::Lt, Some(Less))
                    | (Self::Le, Some(Less | Equal))
                    | (Self::Gt, Some(Greater))
                    | (Self::Ge, Some(Greater | Equal))
            ),
        }
    }
}

/// Parses a ConditionExpression or FilterExpression.
pub fn parse_condition(text: &str, ph: &mut Placeholders) -> Result<Condition, String> {
    let mut p = Parser::new(text)?;
    let raw = p.or()?;
    p.expect_eof()?;
    let mut r = Resolver::default();
    let cond = r.condition(&raw, ph);
    r.finish(cond)
}

impl Operand {
    fn eval<'a>(&'a self, item: &'a Item) -> Option<std::borrow::Cow<'a, Value>> {
        use std::borrow::Cow;
        match self {
            Operand::Path(p) => get_path(item, p).map(Cow::Borrowed),
            Operand::Value(v) => Some(Cow::Borrowed(v)),
            Operand::Size(p) => {
                let n = match get_path(item, p)? {
                    Value::S(s) => s.len(),
                    Value::B(b) => b.len(),
                    Value::Ss(s) => s.len(),
                    Value::Ns(s) => s.len(),
                    Value::Bs(s) => s.len(),
                    Value::L(l) => l.len(),
                    Value::M(m) => m.len(),
                    _ => return None,
                };
                let n = crate::number::Number::parse(&n.to_string()).ok()?;
                Some(Cow::Owned(Value::N(n)))
            }
        }
    }
}

impl Condition {
    /// Whether the condition holds for `item` (empty when there is no item).
    pub fn eval(&self, item: &Item) -> bool {
        match self {
            Condition::Cmp(op, l, r) => match (l.eval(item), r.eval(item)) {
                (Some(a), Some(b)) => op.holds(&a, &b),
                _ => false,
            },
            Condition::Between(a, lo, hi) => match (a.eval(item), lo.eval(item), hi.eval(item)) {
                (Some(a), Some(lo), Some(hi)) => {
                    CmpOp::Ge.holds(&a, &lo) && CmpOp::Le.holds(&a, &hi)
                }
                _ => false,
            },
            Condition::In(a, list) => match a.eval(item) {
                Some(a) => list
                    .iter()
                    .any(|o| o.eval(item).is_some_and(|v| a.equals(&v))),
                None => false,
            },
            Condition::Exists(p) => get_path(item, p).is_some(),
            Condition::NotExists(p) => get_path(item, p).is_none(),
            Condition::Type(p, t) => get_path(item, p).is_some_and(|v| v.type_name() == t),
            Condition::BeginsWith(a, b) => match (a.eval(item).as_deref(), b.eval(item).as_deref())
            {
                (Some(Value::S(a)), Some(Value::S(b))) => a.starts_with(b.as_str()),
                (Some(Value::B(a)), Some(Value::B(b))) => a.starts_with(b),
                _ => false,
            },
            Condition::Contains(a, b) => match (a.eval(item).as_deref(), b.eval(item).as_deref()) {
                (Some(Value::S(a)), Some(Value::S(b))) => a.contains(b.as_str()),
                (Some(Value::Ss(set)), Some(Value::S(b))) => set.contains(b),
                (Some(Value::Ns(set)), Some(Value::N(b))) => set.contains(b),
                (Some(Value::Bs(set)), Some(Value::B(b))) => set.contains(b),
                (Some(Value::L(list)), Some(b)) => list.iter().any(|v| v.equals(b)),
                _ => false,
            },
            Condition::And(a, b) => a.eval(item) && b.eval(item),
            Condition::Or(a, b) => a.eval(item) || b.eval(item),
            Condition::Not(a) => !a.eval(item),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::test_support::{item, ph};
    use serde_json::json;

    fn holds(
        expr: &str,
        names: &[(&str, &str)],
        values: serde_json::Value,
        on: serde_json::Value,
    ) -> bool {
        let mut p = ph(names, values);
        let cond = parse_condition(expr, &mut p).unwrap_or_else(|e| panic!("{expr}: {e}"));
        cond.eval(&item(on))
    }

    #[test]
    fn comparisons_follow_types_and_numbers() {
        let doc = json!({"n": {"N": "10"}, "s": {"S": "abc"}, "v": {"N": "3"}});
        assert!(holds(
            "n > :nine",
            &[],
            json!({":nine": {"N": "9"}}),
            doc.clone()
        ));
        assert!(holds(
            "n = :ten",
            &[],
            json!({":ten": {"N": "10.0"}}),
            doc.clone()
        ));
        assert!(holds(
            "s < :s",
            &[],
            json!({":s": {"S": "abd"}}),
            doc.clone()
        ));
        // Different types: never equal, never ordered.
        assert!(!holds(
            "n = :str10",
            &[],
            json!({":str10": {"S": "10"}}),
            doc.clone()
        ));
        assert!(holds(
            "n <> :str10",
            &[],
            json!({":str10": {"S": "10"}}),
            doc.clone()
        ));
        assert!(!holds(
            "n >= :str10",
            &[],
            json!({":str10": {"S": "10"}}),
            doc.clone()
        ));
        // A missing attribute compares false, even with <>.
        // (`missing` itself is a reserved word, so the test uses `absent`.)
        assert!(!holds(
            "absent <> :nine",
            &[],
            json!({":nine": {"N": "9"}}),
            doc.clone()
        ));
    }

    #[test]
    fn boolean_logic_functions_and_precedence() {
        let doc = json!({"pk": {"S": "R#1"}, "tags": {"SS": ["a", "b"]}, "l": {"L": [{"N": "1"}]},
                         "m": {"M": {"x": {"L": [{"S": "deep"}]}}}, "v": {"N": "2"}});
        let no_vals = json!({});
        assert!(holds(
            "attribute_exists(pk)",
            &[],
            no_vals.clone(),
            doc.clone()
        ));
        assert!(holds(
            "attribute_not_exists(nope)",
            &[],
            no_vals.clone(),
            doc.clone()
        ));
        assert!(!holds(
            "attribute_not_exists(#p)",
            &[("#p", "pk")],
            no_vals.clone(),
            doc.clone()
        ));
        assert!(holds(
            "attribute_exists(m.x[0])",
            &[],
            no_vals.clone(),
            doc.clone()
        ));
        assert!(!holds(
            "attribute_exists(m.x[1])",
            &[],
            no_vals.clone(),
            doc.clone()
        ));
        assert!(holds(
            "begins_with(pk, :p)",
            &[],
            json!({":p": {"S": "R#"}}),
            doc.clone()
        ));
        assert!(holds(
            "contains(tags, :t)",
            &[],
            json!({":t": {"S": "b"}}),
            doc.clone()
        ));
        assert!(holds(
            "contains(pk, :t)",
            &[],
            json!({":t": {"S": "#"}}),
            doc.clone()
        ));
        assert!(holds(
            "size(tags) = :two",
            &[],
            json!({":two": {"N": "2"}}),
            doc.clone()
        ));
        assert!(holds(
            "attribute_type(v, :n)",
            &[],
            json!({":n": {"S": "N"}}),
            doc.clone()
        ));
        assert!(holds(
            "v BETWEEN :a AND :b",
            &[],
            json!({":a": {"N": "1"}, ":b": {"N": "2"}}),
            doc.clone()
        ));
        assert!(holds(
            "v IN (:a, :b)",
            &[],
            json!({":a": {"N": "7"}, ":b": {"N": "2"}}),
            doc.clone()
        ));
        // AND binds tighter than OR; NOT tighter than AND.
        let vals = json!({":one": {"N": "1"}, ":two": {"N": "2"}});
        assert!(holds(
            "v = :one AND v = :one OR v = :two",
            &[],
            vals.clone(),
            doc.clone()
        ));
        assert!(!holds(
            "v = :one AND (v = :one OR v = :two)",
            &[],
            vals.clone(),
            doc.clone()
        ));
        assert!(holds(
            "NOT v = :one AND v = :two",
            &[],
            vals.clone(),
            doc.clone()
        ));
        assert!(holds(
            "not (v = :one) and ((v = :two))",
            &[],
            vals.clone(),
            doc.clone()
        ));
        // The version check of a conditional write.
        assert!(holds(
            "#v = :v",
            &[("#v", "v")],
            json!({":v": {"N": "2"}}),
            doc.clone()
        ));
        assert!(!holds(
            "#v = :v",
            &[("#v", "v")],
            json!({":v": {"N": "1"}}),
            doc.clone()
        ));
        // On no item at all.
        assert!(holds("attribute_not_exists(pk)", &[], no_vals, json!({})));
    }
}
