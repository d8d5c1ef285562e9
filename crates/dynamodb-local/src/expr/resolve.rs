//! Resolution of raw trees: placeholders replaced by the request's names and
//! values (and marked used), reserved words refused, and the rules of
//! DynamoDB's functions (which exist, where they may stand, their operands)
//! checked, with DynamoDB's messages and its order among them.

use super::Placeholders;
use super::ast::{CmpOp, Condition, Operand};
use super::parser::{RawCond, RawOperand, RawPath, RawStep};
use crate::reserved::is_reserved;
use crate::value::{Path, Step, Value, path_text};

/// Resolution: placeholders, reserved words and function rules. DynamoDB
/// reports an unknown or misplaced function first, then a reserved word, then
/// an undefined placeholder, then a function's operand errors (dynalite's
/// `checkErrors` order), so the first error of each kind is kept and the
/// earliest kind wins.
#[derive(Default)]
pub(super) struct Resolver {
    function_name: Option<String>,
    reserved: Option<String>,
    placeholder: Option<String>,
    function: Option<String>,
}

impl Resolver {
    pub(super) fn finish<T>(self, value: T) -> Result<T, String> {
        match self
            .function_name
            .or(self.reserved)
            .or(self.placeholder)
            .or(self.function)
        {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }

    pub(super) fn note_function(&mut self, message: String) {
        let slot = if message.starts_with("Invalid function name")
            || message.starts_with("The function is not allowed")
        {
            &mut self.function_name
        } else {
            &mut self.function
        };
        slot.get_or_insert(message);
    }

    pub(super) fn path(&mut self, raw: &RawPath, ph: &mut Placeholders) -> Path {
        raw.iter()
            .map(|step| match step {
                RawStep::Word(w) => {
                    if is_reserved(w) && self.reserved.is_none() {
                        self.reserved = Some(format!(
                            "Attribute name is a reserved keyword; reserved keyword: {w}"
                        ));
                    }
                    Step::Key(w.clone())
                }
                RawStep::Placeholder(p) => match ph.name(p) {
                    Ok(name) => Step::Key(name),
                    Err(e) => {
                        self.placeholder.get_or_insert(e);
                        Step::Key(p.clone())
                    }
                },
                RawStep::Index(i) => Step::Index(*i),
            })
            .collect()
    }

    pub(super) fn value(&mut self, raw: &str, ph: &mut Placeholders) -> Value {
        match ph.value(raw) {
            Ok(v) => v,
            Err(e) => {
                self.placeholder.get_or_insert(e);
                Value::Null
            }
        }
    }

    fn operand(&mut self, raw: &RawOperand, ph: &mut Placeholders) -> Operand {
        match raw {
            RawOperand::Path(p) => Operand::Path(self.path(p, ph)),
            RawOperand::Value(v) => Operand::Value(self.value(v, ph)),
            RawOperand::Call(name, args) => {
                let resolved: Vec<Operand> = args.iter().map(|a| self.operand(a, ph)).collect();
                if name == "size" {
                    if resolved.len() != 1 {
                        self.note_function(arity(name, resolved.len()));
                    }
                    match resolved.into_iter().next() {
                        Some(Operand::Path(p)) => return Operand::Size(p),
                        Some(Operand::Value(v)) => {
                            self.note_function(format!(
                                "Incorrect operand type for operator or function; operator or function: size, operand type: {}",
                                v.type_name()
                            ));
                        }
                        _ => {}
                    }
                } else if is_function(name) {
                    self.note_function(format!(
                        "The function is not allowed to be used this way in an expression; function: {name}"
                    ));
                } else {
                    self.note_function(format!("Invalid function name; function: {name}"));
                }
                Operand::Value(Value::Null)
            }
        }
    }

    pub(super) fn condition(&mut self, raw: &RawCond, ph: &mut Placeholders) -> Condition {
        match raw {
            RawCond::Cmp(op, l, r) => {
                let (l, r) = (self.operand(l, ph), self.operand(r, ph));
                if let (Operand::Path(a), Operand::Path(b)) = (&l, &r)
                    && a == b
                {
                    self.note_function(format!(
                        "The first operand must be distinct from the remaining operands for this operator or function; operator: {}, first operand: {}",
                        op.text(),
                        path_text(a)
                    ));
                }
                Condition::Cmp(*op, l, r)
            }
            RawCond::Between(a, lo, hi) => {
                let (a, lo, hi) = (
                    self.operand(a, ph),
                    self.operand(lo, ph),
                    self.operand(hi, ph),
                );
                if let (Operand::Value(x), Operand::Value(y)) = (&lo, &hi) {
                    if x.type_name() != y.type_name() {
                        self.note_function(
                            "The BETWEEN operator requires same data type for lower and upper bounds"
                                .to_owned(),
                        );
                    } else if x.compare(y) == Some(std::cmp::Ordering::Greater) {
                        self.note_function(
                            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound"
                                .to_owned(),
                        );
                    }
                }
                Condition::Between(a, lo, hi)
            }
            RawCond::In(a, list) => {
                let a = self.operand(a, ph);
                let list = list.iter().map(|o| self.operand(o, ph)).collect();
                Condition::In(a, list)
            }
            RawCond::And(a, b) => Condition::And(
                Box::new(self.condition(a, ph)),
                Box::new(self.condition(b, ph)),
            ),
            RawCond::Or(a, b) => Condition::Or(
                Box::new(self.condition(a, ph)),
                Box::new(self.condition(b, ph)),
            ),
            RawCond::Not(a) => Condition::Not(Box::new(self.condition(a, ph))),
            RawCond::Call(name, args) => self.call(name, args, ph),
        }
    }

    fn call(&mut self, name: &str, args: &[RawOperand], ph: &mut Placeholders) -> Condition {
        let resolved: Vec<Operand> = args.iter().map(|a| self.operand(a, ph)).collect();
        let always_false = Condition::Cmp(
            CmpOp::Eq,
            Operand::Value(Value::Null),
            Operand::Value(Value::Bool(false)),
        );
        let want = match name {
            "attribute_exists" | "attribute_not_exists" | "size" => 1,
            "attribute_type" | "begins_with" | "contains" => 2,
            _ => {
                self.note_function(format!("Invalid function name; function: {name}"));
                return always_false;
            }
        };
        if name == "size" {
            self.note_function(
                "The function is not allowed to be used this way in an expression; function: size"
                    .to_owned(),
            );
            return always_false;
        }
        if resolved.len() != want {
            self.note_function(arity(name, resolved.len()));
            return always_false;
        }
        let mut it = resolved.into_iter();
        let (Some(first), second) = (it.next(), it.next()) else {
            return always_false;
        };
        match (name, first, second) {
            ("attribute_exists", Operand::Path(p), _) => Condition::Exists(p),
            ("attribute_not_exists", Operand::Path(p), _) => Condition::NotExists(p),
            ("attribute_exists" | "attribute_not_exists", _, _) => {
                self.note_function(format!(
                    "Operator or function requires a document path; operator or function: {name}"
                ));
                always_false
            }
            ("attribute_type", Operand::Path(p), Some(Operand::Value(Value::S(t)))) => {
                const TYPES: [&str; 10] =
                    ["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"];
                if !TYPES.contains(&t.as_str()) {
                    self.note_function(format!(
                        "Invalid attribute type name found; type: {t}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                    ));
                }
                Condition::Type(p, t)
            }
            ("attribute_type", _, Some(Operand::Value(v))) => {
                self.note_function(format!(
                    "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {}",
                    v.type_name()
                ));
                always_false
            }
            ("attribute_type", _, _) => {
                self.note_function(
                    "Operator or function requires a document path; operator or function: attribute_type"
                        .to_owned(),
                );
                always_false
            }
            ("begins_with", a, Some(b)) => {
                for operand in [&a, &b] {
                    if let Operand::Value(v) = operand
                        && !matches!(v, Value::S(_) | Value::B(_))
                    {
                        self.note_function(format!(
                            "Incorrect operand type for operator or function; operator or function: begins_with, operand type: {}",
                            v.type_name()
                        ));
                    }
                }
                Condition::BeginsWith(a, b)
            }
            ("contains", a, Some(b)) => Condition::Contains(a, b),
            _ => always_false,
        }
    }
}

pub(super) fn is_function(name: &str) -> bool {
    matches!(
        name,
        "attribute_exists"
            | "attribute_not_exists"
            | "attribute_type"
            | "begins_with"
            | "contains"
            | "size"
            | "if_not_exists"
            | "list_append"
    )
}

pub(super) fn arity(name: &str, n: usize) -> String {
    format!(
        "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {n}"
    )
}

#[cfg(test)]
mod tests {
    use crate::expr::parse_condition;
    use crate::expr::test_support::{cond_error, ph};
    use serde_json::json;

    #[test]
    fn placeholders_reserved_words_and_functions_are_checked() {
        assert_eq!(
            cond_error("#x = :v", &[], json!({":v": {"S": "x"}})),
            "An expression attribute name used in the document path is not defined; attribute name: #x"
        );
        assert_eq!(
            cond_error("a = :nope", &[], json!({})),
            "An expression attribute value used in expression is not defined; attribute value: :nope"
        );
        assert_eq!(
            cond_error("role = :v", &[], json!({":v": {"S": "x"}})),
            "Attribute name is a reserved keyword; reserved keyword: role"
        );
        assert_eq!(
            cond_error("frob(a)", &[], json!({})),
            "Invalid function name; function: frob"
        );
        assert_eq!(
            cond_error("attribute_exists(a, b)", &[], json!({})),
            "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"
        );
        assert_eq!(
            cond_error("attribute_exists(:v)", &[], json!({":v": {"S": "x"}})),
            "Operator or function requires a document path; operator or function: attribute_exists"
        );
        assert_eq!(
            cond_error("begins_with(a, :n)", &[], json!({":n": {"N": "1"}})),
            "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
        );
        assert_eq!(
            cond_error("a = a", &[], json!({})),
            "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]"
        );
        // Used and unused placeholders are tracked across expressions.
        let mut p = ph(
            &[("#a", "a"), ("#b", "b")],
            json!({":v": {"S": "x"}, ":w": {"S": "y"}}),
        );
        assert!(parse_condition("#a = :v", &mut p).is_ok());
        assert_eq!(
            p.check_all_used(),
            Err(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
                    .to_owned()
            )
        );
        assert!(parse_condition("#b = :v", &mut p).is_ok());
        assert_eq!(
            p.check_all_used(),
            Err(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
                    .to_owned()
            )
        );
    }
}
