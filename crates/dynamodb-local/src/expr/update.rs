//! Update expressions: the `SET`, `REMOVE`, `ADD` and `DELETE` clauses
//! parsed and resolved into an [`Update`], and their application to an item.

use std::collections::BTreeSet;

use super::Placeholders;
use super::ast::{Action, SetOperand, SetValue, Update};
use super::lexer::Tok;
use super::parser::{PResult, Parser, RawPath};
use super::projection::check_overlaps;
use super::resolve::{Resolver, arity, is_function};
use crate::value::{Item, Path, Value, get_path};

#[derive(Debug, Clone)]
enum RawSetOperand {
    Path(RawPath),
    Value(String),
    Call(String, Vec<RawSetOperand>),
}

impl Parser<'_> {
    fn set_operand(&mut self) -> PResult<RawSetOperand> {
        match self.peek().clone() {
            Tok::Val(v) => {
                self.bump();
                Ok(RawSetOperand::Value(v))
            }
            Tok::Word(w) if matches!(self.peek_at(1), Tok::Sym(s) if s == "(") => {
                self.bump();
                let args = self.parenthesised_list(Self::set_operand)?;
                Ok(RawSetOperand::Call(w, args))
            }
            _ => Ok(RawSetOperand::Path(self.path()?)),
        }
    }
}

const CLAUSES: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];

/// Parses an UpdateExpression.
pub fn parse_update(text: &str, ph: &mut Placeholders) -> Result<Update, String> {
    enum RawAction {
        Set(RawPath, RawSetOperand, Option<(bool, RawSetOperand)>),
        Remove(RawPath),
        Add(RawPath, String),
        Delete(RawPath, String),
    }
    let mut p = Parser::new(text)?;
    let mut raw = Vec::new();
    let mut seen = BTreeSet::new();
    while *p.peek() != Tok::Eof {
        let clause = match p.peek() {
            Tok::Word(w) => CLAUSES
                .iter()
                .find(|c| w.eq_ignore_ascii_case(c))
                .copied()
                .ok_or_else(|| p.error())?,
            _ => return Err(p.error()),
        };
        p.bump();
        if !seen.insert(clause) {
            return Err(format!(
                "The \"{clause}\" section can only be used once in an update expression;"
            ));
        }
        let actions = p.comma_list(|p| {
            let path = p.path()?;
            Ok(match clause {
                "SET" => {
                    p.expect_sym("=")?;
                    let left = p.set_operand()?;
                    let arith = if p.is_sym("+") || p.is_sym("-") {
                        let plus = p.is_sym("+");
                        p.bump();
                        Some((plus, p.set_operand()?))
                    } else {
                        None
                    };
                    RawAction::Set(path, left, arith)
                }
                "REMOVE" => RawAction::Remove(path),
                _ => {
                    let Tok::Val(v) = p.peek().clone() else {
                        return Err(p.error());
                    };
                    p.bump();
                    if clause == "ADD" {
                        RawAction::Add(path, v)
                    } else {
                        RawAction::Delete(path, v)
                    }
                }
            })
        })?;
        raw.extend(actions);
        let at_clause =
            matches!(p.peek(), Tok::Word(w) if CLAUSES.iter().any(|c| w.eq_ignore_ascii_case(c)));
        if !at_clause && *p.peek() != Tok::Eof {
            return Err(p.error());
        }
    }

    let mut r = Resolver::default();
    let mut actions = Vec::new();
    for action in &raw {
        actions.push(match action {
            RawAction::Set(path, left, arith) => {
                let target = r.path(path, ph);
                let left = resolve_set_operand(&mut r, left, ph);
                let value = match arith {
                    None => SetValue::Plain(left),
                    Some((true, right)) => SetValue::Plus(left, resolve_set_operand(&mut r, right, ph)),
                    Some((false, right)) => SetValue::Minus(left, resolve_set_operand(&mut r, right, ph)),
                };
                Action::Set(target, value)
            }
            RawAction::Remove(path) => Action::Remove(r.path(path, ph)),
            RawAction::Add(path, v) => {
                let target = r.path(path, ph);
                let value = r.value(v, ph);
                if !matches!(value, Value::N(_) | Value::Ss(_) | Value::Ns(_) | Value::Bs(_)) {
                    r.note_function(format!(
                        "Incorrect operand type for operator or function; operator: ADD, operand type: {}",
                        long_type_name(&value)
                    ));
                }
                Action::Add(target, value)
            }
            RawAction::Delete(path, v) => {
                let target = r.path(path, ph);
                let value = r.value(v, ph);
                if !matches!(value, Value::Ss(_) | Value::Ns(_) | Value::Bs(_)) {
                    r.note_function(format!(
                        "Incorrect operand type for operator or function; operator: DELETE, operand type: {}",
                        long_type_name(&value)
                    ));
                }
                Action::Delete(target, value)
            }
        });
    }
    let update = r.finish(Update { actions })?;
    check_overlaps(&update.targets())?;
    Ok(update)
}

/// The type names DynamoDB's ADD/DELETE operand errors use.
fn long_type_name(v: &Value) -> &'static str {
    match v {
        Value::S(_) => "STRING",
        Value::N(_) => "NUMBER",
        Value::B(_) => "BINARY",
        Value::Bool(_) => "BOOLEAN",
        Value::Null => "NULL",
        Value::M(_) => "MAP",
        Value::L(_) => "LIST",
        Value::Ss(_) => "STRING_SET",
        Value::Ns(_) => "NUMBER_SET",
        Value::Bs(_) => "BINARY_SET",
    }
}

fn resolve_set_operand(r: &mut Resolver, raw: &RawSetOperand, ph: &mut Placeholders) -> SetOperand {
    match raw {
        RawSetOperand::Path(p) => SetOperand::Path(r.path(p, ph)),
        RawSetOperand::Value(v) => SetOperand::Value(r.value(v, ph)),
        RawSetOperand::Call(name, args) => {
            let resolved: Vec<SetOperand> =
                args.iter().map(|a| resolve_set_operand(r, a, ph)).collect();
            match name.as_str() {
                "if_not_exists" | "list_append" if resolved.len() != 2 => {
                    r.note_function(arity(name, resolved.len()));
                    SetOperand::Value(Value::Null)
                }
                "if_not_exists" => {
                    let mut it = resolved.into_iter();
                    match (it.next(), it.next()) {
                        (Some(SetOperand::Path(p)), Some(fallback)) => {
                            SetOperand::IfNotExists(p, Box::new(fallback))
                        }
                        _ => {
                            r.note_function(
                                "Operator or function requires a document path; operator or function: if_not_exists"
                                    .to_owned(),
                            );
                            SetOperand::Value(Value::Null)
                        }
                    }
                }
                "list_append" => {
                    let mut it = resolved.into_iter();
                    match (it.next(), it.next()) {
                        (Some(a), Some(b)) => SetOperand::ListAppend(Box::new(a), Box::new(b)),
                        _ => SetOperand::Value(Value::Null),
                    }
                }
                other if is_function(other) => {
                    r.note_function(format!(
                        "The function is not allowed to be used this way in an expression; function: {other}"
                    ));
                    SetOperand::Value(Value::Null)
                }
                other => {
                    r.note_function(format!("Invalid function name; function: {other}"));
                    SetOperand::Value(Value::Null)
                }
            }
        }
    }
}

/// Why an update could not be applied to an item: DynamoDB's ValidationException message.
pub type ApplyError = String;

const MISSING_ATTRIBUTE: &str =
    "The provided expression refers to an attribute that does not exist in the item";
const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";
const BAD_PATH: &str = "The document path provided in the update expression is invalid for update";

impl Update {
    /// The paths the actions write or remove.
    pub fn targets(&self) -> Vec<Path> {
        self.actions
            .iter()
            .map(|a| match a {
                Action::Set(p, _)
                | Action::Remove(p)
                | Action::Add(p, _)
                | Action::Delete(p, _) => p.clone(),
            })
            .collect()
    }

    /// Applies the actions to `old`: every operand reads `old` (DynamoDB
    /// evaluates the whole expression against the item before the update).
    pub fn apply(&self, old: &Item) -> Result<Item, ApplyError> {
        let mut new = old.clone();
        for action in &self.actions {
            match action {
                Action::Set(path, value) => {
                    let v = eval_set_value(value, old)?;
                    crate::value::set_path(&mut new, path, v).map_err(|_| BAD_PATH.to_owned())?;
                }
                Action::Remove(path) => {
                    crate::value::remove_path(&mut new, path).map_err(|_| BAD_PATH.to_owned())?;
                }
                Action::Add(path, value) => {
                    let merged = match (get_path(old, path), value) {
                        (None, v) => v.clone(),
                        (Some(Value::N(a)), Value::N(b)) => {
                            Value::N(a.add(b).map_err(|e| e.to_string())?)
                        }
                        (Some(Value::Ss(a)), Value::Ss(b)) => Value::Ss(union(a, b)),
                        (Some(Value::Ns(a)), Value::Ns(b)) => Value::Ns(union(a, b)),
                        (Some(Value::Bs(a)), Value::Bs(b)) => Value::Bs(union(a, b)),
                        _ => return Err(WRONG_TYPE.to_owned()),
                    };
                    crate::value::set_path(&mut new, path, merged)
                        .map_err(|_| BAD_PATH.to_owned())?;
                }
                Action::Delete(path, value) => {
                    let Some(current) = get_path(old, path) else {
                        continue;
                    };
                    let left = match (current, value) {
                        (Value::Ss(a), Value::Ss(b)) => minus(a, b).map(Value::Ss),
                        (Value::Ns(a), Value::Ns(b)) => minus(a, b).map(Value::Ns),
                        (Value::Bs(a), Value::Bs(b)) => minus(a, b).map(Value::Bs),
                        _ => return Err(WRONG_TYPE.to_owned()),
                    };
                    // An emptied set is removed: DynamoDB has no empty sets.
                    match left {
                        Some(v) => crate::value::set_path(&mut new, path, v),
                        None => crate::value::remove_path(&mut new, path),
                    }
                    .map_err(|_| BAD_PATH.to_owned())?;
                }
            }
        }
        Ok(new)
    }
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

fn minus<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Option<Vec<T>> {
    let out: Vec<T> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
    (!out.is_empty()).then_some(out)
}

fn eval_set_operand(op: &SetOperand, item: &Item) -> Result<Value, ApplyError> {
    match op {
        SetOperand::Value(v) => Ok(v.clone()),
        SetOperand::Path(p) => get_path(item, p)
            .cloned()
            .ok_or_else(|| MISSING_ATTRIBUTE.to_owned()),
        SetOperand::IfNotExists(p, fallback) => match get_path(item, p) {
            Some(v) => Ok(v.clone()),
            None => eval_set_operand(fallback, item),
        },
        SetOperand::ListAppend(a, b) => {
            match (eval_set_operand(a, item)?, eval_set_operand(b, item)?) {
                (Value::L(mut a), Value::L(b)) => {
                    a.extend(b);
                    Ok(Value::L(a))
                }
                _ => Err(WRONG_TYPE.to_owned()),
            }
        }
    }
}

fn eval_set_value(value: &SetValue, item: &Item) -> Result<Value, ApplyError> {
    let arith = |a: &SetOperand, b: &SetOperand, plus: bool| -> Result<Value, ApplyError> {
        match (eval_set_operand(a, item)?, eval_set_operand(b, item)?) {
            (Value::N(x), Value::N(y)) => {
                let r = if plus { x.add(&y) } else { x.sub(&y) };
                r.map(Value::N).map_err(|e| e.to_string())
            }
            _ => Err(WRONG_TYPE.to_owned()),
        }
    };
    match value {
        SetValue::Plain(op) => eval_set_operand(op, item),
        SetValue::Plus(a, b) => arith(a, b, true),
        SetValue::Minus(a, b) => arith(a, b, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::test_support::{item, ph};
    use crate::value::item_to_json;
    use serde_json::json;

    fn update(
        expr: &str,
        names: &[(&str, &str)],
        values: serde_json::Value,
        on: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let mut p = ph(names, values);
        let u = parse_update(expr, &mut p)?;
        p.check_all_used()?;
        u.apply(&item(on)).map(|i| item_to_json(&i))
    }

    #[test]
    fn updates_set_arithmetic_remove_add_and_delete() {
        let doc = json!({"pk": {"S": "k"}, "version": {"N": "4"}, "prev": {"S": "x"}, "tags": {"SS": ["a", "b"]},
                         "m": {"M": {"x": {"N": "1"}}}, "l": {"L": [{"S": "a"}]}});
        let out = update(
            "SET #t = :t, version = version + :one, m.x = m.x - :one, fresh = if_not_exists(fresh, :zero), prev = if_not_exists(prev, :zero), l = list_append(l, :more) REMOVE tags ADD hits :one",
            &[("#t", "tally")],
            json!({":t": {"M": {"votes": {"L": []}}}, ":one": {"N": "1"}, ":zero": {"N": "0"}, ":more": {"L": [{"S": "b"}]}}),
            doc.clone(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            out,
            json!({"fresh": {"N": "0"}, "l": {"L": [{"S": "a"}, {"S": "b"}]},
                   "hits": {"N": "1"}, "m": {"M": {"x": {"N": "0"}}}, "prev": {"S": "x"}, "pk": {"S": "k"},
                   "tally": {"M": {"votes": {"L": []}}}, "version": {"N": "5"}})
        );
        let out = update(
            "ADD tags :t DELETE l :x",
            &[],
            json!({":t": {"SS": ["c", "a"]}, ":x": {"SS": ["z"]}}),
            json!({"tags": {"SS": ["a"]}}),
        );
        assert_eq!(out, Ok(json!({"tags": {"SS": ["a", "c"]}})));
        let out = update(
            "DELETE tags :t",
            &[],
            json!({":t": {"SS": ["a"]}}),
            json!({"tags": {"SS": ["a"]}}),
        );
        assert_eq!(out, Ok(json!({})), "an emptied set is removed");
        // Operands read the item as it was: both see version 4.
        let out = update(
            "SET a = version, version = version + :one",
            &[],
            json!({":one": {"N": "1"}}),
            json!({"version": {"N": "4"}}),
        );
        assert_eq!(out, Ok(json!({"a": {"N": "4"}, "version": {"N": "5"}})));
    }

    #[test]
    fn updates_refuse_what_dynamodb_refuses() {
        let v = json!({":one": {"N": "1"}, ":s": {"S": "x"}});
        assert_eq!(
            update(
                "SET a = absent + :one",
                &[],
                json!({":one": {"N": "1"}}),
                json!({})
            ),
            Err(MISSING_ATTRIBUTE.to_owned())
        );
        assert_eq!(
            update(
                "SET a = a + :one",
                &[],
                json!({":one": {"N": "1"}}),
                json!({"a": {"S": "x"}})
            ),
            Err(WRONG_TYPE.to_owned())
        );
        assert_eq!(
            update(
                "SET a.b = :one",
                &[],
                json!({":one": {"N": "1"}}),
                json!({})
            ),
            Err(BAD_PATH.to_owned())
        );
        assert_eq!(
            update("ADD a :s", &[], json!({":s": {"S": "x"}}), json!({})),
            Err("Incorrect operand type for operator or function; operator: ADD, operand type: STRING".to_owned())
        );
        assert_eq!(
            update("SET a = :one,", &[], v.clone(), json!({})),
            Err("Syntax error; token: \"<EOF>\", near: \",\"".to_owned())
        );
        assert_eq!(
            update("SET a = :one SET b = :s", &[], v.clone(), json!({})),
            Err("The \"SET\" section can only be used once in an update expression;".to_owned())
        );
        assert_eq!(
            update("SET a = :one REMOVE a", &[], json!({":one": {"N": "1"}}), json!({})),
            Err("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]".to_owned())
        );
        assert_eq!(
            update("SET a = :one", &[], v, json!({})),
            Err(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {:s}"
                    .to_owned()
            )
        );
        assert_eq!(
            update("SET token = :s", &[], json!({":s": {"S": "x"}}), json!({})),
            Err("Attribute name is a reserved keyword; reserved keyword: token".to_owned())
        );
        assert_eq!(
            update("SET a = frob(b)", &[], json!({}), json!({})),
            Err("Invalid function name; function: frob".to_owned())
        );
        assert!(update("UPSERT a = :s", &[], json!({":s": {"S": "x"}}), json!({})).is_err());
    }
}
