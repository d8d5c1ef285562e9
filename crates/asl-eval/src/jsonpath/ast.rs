//! The compiled form of a JSONPath (private to the `jsonpath` module).

use regex::Regex;
use serde_json::Value;

#[derive(Debug, Clone)]
pub(super) enum Segment {
    Child(Selector),
    Descendant(Selector),
}

#[derive(Debug, Clone)]
pub(super) enum Selector {
    Name(String),
    Names(Vec<String>),
    Wildcard,
    Index(i64),
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>),
    Filter(Box<Filter>),
}

#[derive(Debug, Clone)]
pub(super) enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Compare(Operand, CmpOp, Operand),
    Matches(Operand, Box<Regex>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Size,
    Empty,
}

#[derive(Debug, Clone)]
pub(super) enum Operand {
    /// `@...` relative to the current item.
    Current(Vec<Segment>),
    /// `$...` relative to the document root.
    Root(Vec<Segment>),
    Literal(Value),
}
