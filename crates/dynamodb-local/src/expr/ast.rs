//! The resolved trees the parsers produce and the evaluators read: conditions
//! (with key conditions, the form Query takes) and update actions. Every name
//! here is a real attribute name and every value a real value: placeholders
//! are gone.

use crate::value::{Path, Value};

/// A comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(super) fn from_sym(s: &str) -> Option<Self> {
        Some(match s {
            "=" => Self::Eq,
            "<>" => Self::Ne,
            "<" => Self::Lt,
            "<=" => Self::Le,
            ">" => Self::Gt,
            ">=" => Self::Ge,
            _ => return None,
        })
    }

    pub(super) fn text(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

/// An operand of a condition.
#[derive(Debug, Clone)]
pub enum Operand {
    Path(Path),
    Value(Value),
    Size(Path),
}

/// A parsed, resolved condition.
#[derive(Debug, Clone)]
pub enum Condition {
    Cmp(CmpOp, Operand, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    Exists(Path),
    NotExists(Path),
    Type(Path, String),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
}

/// The sort-key part of a KeyConditionExpression.
#[derive(Debug, Clone)]
pub enum SortCondition {
    Cmp(CmpOp, Value),
    Between(Value, Value),
    BeginsWith(Value),
}

/// A KeyConditionExpression: conditions by attribute name (at most two).
#[derive(Debug, Clone, Default)]
pub struct KeyCondition {
    pub parts: Vec<(String, SortCondition)>,
}

/// A value on the right of `SET path =`.
#[derive(Debug, Clone)]
pub enum SetOperand {
    Path(Path),
    Value(Value),
    IfNotExists(Path, Box<SetOperand>),
    ListAppend(Box<SetOperand>, Box<SetOperand>),
}

#[derive(Debug, Clone)]
pub enum SetValue {
    Plain(SetOperand),
    Plus(SetOperand, SetOperand),
    Minus(SetOperand, SetOperand),
}

/// One action of an update expression.
#[derive(Debug, Clone)]
pub enum Action {
    Set(Path, SetValue),
    Remove(Path),
    Add(Path, Value),
    Delete(Path, Value),
}

/// A parsed UpdateExpression.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub actions: Vec<Action>,
}
