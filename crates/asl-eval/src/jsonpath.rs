//! JSONPath as AWS Step Functions implements it (Jayway JsonPath semantics).
//!
//! Contract:
//! * [`JsonPath::parse`] compiles a path once (at definition time) and returns a
//!   [`DefinitionError`] for malformed syntax. Paths start with `$` (the input) or
//!   `$$` (the context object).
//! * Supported: `.name`, `['name']` / `["name"]` (a backslash keeps the next character from closing the
//!   name and is itself kept: no unescaping),
//!   `[n]`, negative `[-n]`, `[*]`, `.*`, `..` deep scan, slices `[a:b]`, unions
//!   `[0,1]` / `['a','b']`, filters `[?(@.x > 1 && @.y == 'a')]` with `== != < <= > >=`,
//!   `=~ /re/i`, `in nin subsetof anyof noneof size empty`, `!`, `&&`, `||`, parentheses.
//! * Definite paths (no scan, wildcard, filter, slice or index union) select one value
//!   or fail with Jayway's [`PathNotFound`] message (e.g. `No results for path: $['a']`).
//!   Indefinite paths always succeed with an array of the matches (possibly empty), which
//!   is what AWS returns (`$.items[*]` on `{}` gives `[]`, recorded in the conformance cases).
//! * A property union `['a','b']` as the last segment merges the found keys into one
//!   object and counts as definite (Jayway's `multiPropertyMergeCase`).
//! * [`ReferencePath`] is a definite path over `$` only, used by `ResultPath`; its
//!   [`ReferencePath::insert`] creates missing intermediate objects like AWS does.
//!
//! Relied on: Jayway JsonPath README ("What is Returned When?": definite paths return
//! an item, indefinite ones a list) and its `PathToken`/`PropertyPathToken` error texts,
//! which AWS prints verbatim after `Invalid path '...' : `.
//!
//! Hostile input: filter nesting is capped at [`MAX_DEPTH`]; evaluation of deep scans is
//! iterative, so deep documents cannot overflow the stack.

use std::borrow::Cow;
use std::fmt;

use regex::Regex;
use serde_json::{Map, Value};

use crate::error::{DefinitionError, EvalError};
use crate::scope::Scope;

/// Maximum nesting of parentheses / filters inside one path.
pub const MAX_DEPTH: usize = 32;

/// Which document a path reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Root {
    /// `$`: the effective input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable (see [`JsonPath::variable`]).
    Variable,
}

/// A compiled JSONPath.
#[derive(Debug, Clone)]
pub struct JsonPath {
    text: String,
    root: Root,
    /// The variable name when `root` is [`Root::Variable`].
    variable: Option<String>,
    segments: Vec<Segment>,
    definite: bool,
}

/// Jayway's "path not found" failure for a definite path; `message` is Jayway's text,
/// e.g. `No results for path: $['NoSuchInputPath']`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PathNotFound {
    /// Jayway's exception message.
    pub message: String,
}

#[derive(Debug, Clone)]
enum Segment {
    Child(Selector),
    Descendant(Selector),
}

#[derive(Debug, Clone)]
enum Selector {
    Name(String),
    Names(Vec<String>),
    Wildcard,
    Index(i64),
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>),
    Filter(Box<Filter>),
}

#[derive(Debug, Clone)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Compare(Operand, CmpOp, Operand),
    Matches(Operand, Box<Regex>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
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
enum Operand {
    /// `@...` relative to the current item.
    Current(Vec<Segment>),
    /// `$...` relative to the document root.
    Root(Vec<Segment>),
    Literal(Value),
}

impl JsonPath {
    /// Compiles `text` (`$...` or `$$...`).
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        let mut p = Parser::new(text);
        let (root, variable, segments) = p.top_level()?;
        let definite = is_definite(&segments);
        Ok(Self {
            text: text.to_owned(),
            root,
            variable,
            segments,
            definite,
        })
    }

    /// The path as written in the definition.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Which document the path reads.
    pub fn root(&self) -> Root {
        self.root
    }

    /// `true` when the path reads the context object (`$$`).
    pub fn is_context(&self) -> bool {
        self.root == Root::Context
    }

    /// The variable read by a `$name...` path.
    pub fn variable(&self) -> Option<&str> {
        self.variable.as_deref()
    }

    /// `true` for a definite path (selects at most one value).
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// `true` for the bare root path `$` (or `$$`).
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// Jayway's normalised form, e.g. `$['items'][0]` (used in its messages).
    pub fn normalized(&self) -> String {
        normalized(&self.segments)
    }

    /// Selects from the document of the scope this path reads (`$`, `$$` or `$name`).
    ///
    /// An unset variable (or a scope without variables) is a [`PathNotFound`].
    pub fn select<'a>(&self, scope: &Scope<'a>) -> Result<Cow<'a, Value>, PathNotFound> {
        let doc =
            root_doc(self.root, self.variable.as_deref(), scope).ok_or_else(|| PathNotFound {
                message: format!("No results for path: {}", self.text),
            })?;
        self.select_in(doc)
    }

    /// Selects from `doc` regardless of the root sign.
    ///
    /// Definite paths give the value or [`PathNotFound`]; indefinite ones give an array.
    pub fn select_in<'a>(&self, doc: &'a Value) -> Result<Cow<'a, Value>, PathNotFound> {
        if self.definite {
            select_definite(&self.segments, doc)
        } else {
            let mut out = Vec::new();
            collect(&self.segments, doc, doc, &mut out);
            Ok(Cow::Owned(Value::Array(out.into_iter().cloned().collect())))
        }
    }

    /// Like [`JsonPath::select`] but `None` when nothing is found.
    pub fn find<'a>(&self, scope: &Scope<'a>) -> Option<Cow<'a, Value>> {
        self.select(scope).ok()
    }
}

/// The document a root refers to in `scope`.
fn root_doc<'a>(root: Root, variable: Option<&str>, scope: &Scope<'a>) -> Option<&'a Value> {
    match root {
        Root::Input => Some(scope.input),
        Root::Context => Some(scope.context),
        Root::Variable => scope.variable(variable?),
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A Reference Path: `$` or `$$` followed by names and indexes only (no wildcards,
/// filters, slices or scans).
///
/// Used as a write target by `ResultPath` ([`ReferencePath::insert`], `$` only) and as a
/// reader by `ItemsPath` ([`ReferencePath::get`]). Both fail with AWS's
/// `States.ReferencePathConflict` and the cause `Unable to apply step "<key>" to input <json>`
/// (the wording and error name as reported from real executions: ResultPath onto a
/// Parallel state's array output, ItemsPath naming a missing key; not in the recorded
/// suite, so the exact printing of `<json>` (compact, whole document) is our best guess).
#[derive(Debug, Clone)]
pub struct ReferencePath {
    text: String,
    root: Root,
    variable: Option<String>,
    steps: Vec<RefStep>,
}

#[derive(Debug, Clone)]
enum RefStep {
    Key(String),
    Index(i64),
}

impl RefStep {
    fn label(&self) -> String {
        match self {
            RefStep::Key(k) => k.clone(),
            RefStep::Index(i) => i.to_string(),
        }
    }
}

/// Error name AWS uses when a Reference Path cannot be applied.
pub const REFERENCE_PATH_CONFLICT: &str = "States.ReferencePathConflict";

impl ReferencePath {
    /// Compiles a reference path for `ResultPath`: `$` followed by names and indexes.
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        let path = Self::parse_any_root(text)?;
        if path.root != Root::Input {
            return Err(DefinitionError::new(format!(
                "The value for the field must be a valid Reference Path, found '{text}'"
            )));
        }
        Ok(path)
    }

    /// Compiles a reference path that may also read the context object or a variable (`ItemsPath`).
    pub fn parse_any_root(text: &str) -> Result<Self, DefinitionError> {
        let path = JsonPath::parse(text)?;
        let mut steps = Vec::with_capacity(path.segments.len());
        for seg in &path.segments {
            match seg {
                Segment::Child(Selector::Name(n)) => steps.push(RefStep::Key(n.clone())),
                Segment::Child(Selector::Index(i)) => steps.push(RefStep::Index(*i)),
                _ => {
                    return Err(DefinitionError::new(format!(
                        "The value for the field must be a valid Reference Path, found '{text}'"
                    )));
                }
            }
        }
        Ok(Self {
            text: text.to_owned(),
            root: path.root,
            variable: path.variable,
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `true` when the path reads the context object (`$$`).
    pub fn is_context(&self) -> bool {
        self.root == Root::Context
    }

    fn conflict(step: &RefStep, doc: &Value) -> EvalError {
        EvalError::new(
            REFERENCE_PATH_CONFLICT,
            format!(
                "Unable to apply step \"{}\" to input {}",
                step.label(),
                compact(doc)
            ),
        )
    }

    /// Reads the value at this path (ItemsPath semantics).
    pub fn get<'a>(&self, scope: &Scope<'a>) -> Result<&'a Value, EvalError> {
        let Some(doc) = root_doc(self.root, self.variable.as_deref(), scope) else {
            return Err(EvalError::runtime(format!(
                "The variable '{}' is not defined",
                self.variable.as_deref().unwrap_or_default()
            )));
        };
        let mut cur = doc;
        for step in &self.steps {
            let next = match (step, cur) {
                (RefStep::Key(k), Value::Object(m)) => m.get(k),
                (RefStep::Index(i), Value::Array(a)) => index(a.len(), *i).map(|p| &a[p]),
                _ => None,
            };
            cur = next.ok_or_else(|| Self::conflict(step, doc))?;
        }
        Ok(cur)
    }

    /// Writes `value` at this path inside `target` and returns the new document.
    ///
    /// `$` replaces the whole document. Missing (or `null`) intermediate keys become
    /// objects; stepping by name into a non-object, or by index outside an array, is
    /// `States.ReferencePathConflict`, and `target` is reported unchanged.
    pub fn insert(&self, mut target: Value, value: Value) -> Result<Value, EvalError> {
        if self.steps.is_empty() {
            return Ok(value);
        }
        // Check first, without mutating, so the error shows the document as it was.
        {
            let mut cur = Some(&target);
            for step in &self.steps {
                let Some(node) = cur else { break };
                cur = match (step, node) {
                    (RefStep::Key(k), Value::Object(m)) => m.get(k).filter(|v| !v.is_null()),
                    (RefStep::Index(i), Value::Array(a)) => match index(a.len(), *i) {
                        Some(p) => Some(&a[p]),
                        None => return Err(Self::conflict(step, &target)),
                    },
                    _ => return Err(Self::conflict(step, &target)),
                };
            }
        }
        let last = self.steps.len() - 1;
        let mut cur = &mut target;
        for (i, step) in self.steps.iter().enumerate() {
            if cur.is_null() {
                *cur = Value::Object(Map::new());
            }
            let slot = match (step, cur) {
                (RefStep::Key(k), Value::Object(map)) => {
                    if i == last {
                        map.insert(k.clone(), value);
                        break;
                    }
                    map.entry(k.clone())
                        .or_insert_with(|| Value::Object(Map::new()))
                }
                (RefStep::Index(idx), Value::Array(arr)) => {
                    let len = arr.len();
                    let Some(p) = index(len, *idx) else { break };
                    if i == last {
                        arr[p] = value;
                        break;
                    }
                    &mut arr[p]
                }
                // Unreachable after the check above; never panic on evaluation paths.
                _ => break,
            };
            cur = slot;
        }
        Ok(target)
    }
}

impl fmt::Display for ReferencePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Compact JSON text (Jackson's default printing, as AWS shows values in messages).
pub fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

// ---------------------------------------------------------------------------------
// evaluation

fn is_definite(segments: &[Segment]) -> bool {
    let n = segments.len();
    segments.iter().enumerate().all(|(i, s)| match s {
        Segment::Descendant(_) => false,
        Segment::Child(sel) => match sel {
            Selector::Name(_) | Selector::Index(_) => true,
            Selector::Names(_) => i + 1 == n,
            _ => false,
        },
    })
}

fn normalized(segments: &[Segment]) -> String {
    let mut s = String::from("$");
    for seg in segments {
        push_segment(&mut s, seg);
    }
    s
}

fn push_segment(s: &mut String, seg: &Segment) {
    let sel = match seg {
        Segment::Child(sel) => sel,
        Segment::Descendant(sel) => {
            s.push_str("..");
            sel
        }
    };
    match sel {
        Selector::Name(n) => {
            s.push_str("['");
            s.push_str(n);
            s.push_str("']");
        }
        Selector::Names(ns) => {
            s.push('[');
            let quoted: Vec<String> = ns.iter().map(|n| format!("'{n}'")).collect();
            s.push_str(&quoted.join(","));
            s.push(']');
        }
        Selector::Wildcard => s.push_str("[*]"),
        Selector::Index(i) => s.push_str(&format!("[{i}]")),
        Selector::Indexes(is) => {
            let parts: Vec<String> = is.iter().map(|i| i.to_string()).collect();
            s.push_str(&format!("[{}]", parts.join(",")));
        }
        Selector::Slice(a, b) => {
            let a = a.map(|v| v.to_string()).unwrap_or_default();
            let b = b.map(|v| v.to_string()).unwrap_or_default();
            s.push_str(&format!("[{a}:{b}]"));
        }
        Selector::Filter(_) => s.push_str("[?]"),
    }
}

fn java_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) if n.is_f64() => "java.lang.Double",
        Value::Number(_) => "java.lang.Integer",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.LinkedHashMap",
    }
}

fn select_definite<'a>(
    segments: &[Segment],
    doc: &'a Value,
) -> Result<Cow<'a, Value>, PathNotFound> {
    let mut cur = doc;
    let n = segments.len();
    let not_found = |upto: usize| PathNotFound {
        message: format!("No results for path: {}", normalized(&segments[..upto])),
    };
    for (i, seg) in segments.iter().enumerate() {
        let leaf = i + 1 == n;
        let Segment::Child(sel) = seg else {
            return Err(not_found(n));
        };
        match sel {
            Selector::Name(name) => match cur {
                Value::Object(map) => match map.get(name) {
                    Some(v) => cur = v,
                    None if leaf => return Err(not_found(n)),
                    None => {
                        return Err(PathNotFound {
                            message: format!(
                                "Missing property in path {}",
                                normalized(&segments[..=i])
                            ),
                        });
                    }
                },
                other => {
                    return Err(PathNotFound {
                        message: format!(
                            "Expected to find an object with property {} in path {} but found '{}'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
                            fragment(seg),
                            normalized(&segments[..i]),
                            java_class(other)
                        ),
                    });
                }
            },
            Selector::Index(idx) => match cur {
                Value::Array(arr) => match index(arr.len(), *idx) {
                    Some(p) => cur = &arr[p],
                    None => return Err(not_found(n)),
                },
                _ => return Err(not_found(n)),
            },
            Selector::Names(names) => {
                let Value::Object(map) = cur else {
                    return Err(not_found(n));
                };
                let mut merged = Map::new();
                for name in names {
                    if let Some(v) = map.get(name) {
                        merged.insert(name.clone(), v.clone());
                    }
                }
                return Ok(Cow::Owned(Value::Object(merged)));
            }
            _ => return Err(not_found(n)),
        }
    }
    Ok(Cow::Borrowed(cur))
}

fn fragment(seg: &Segment) -> String {
    let mut s = String::new();
    push_segment(&mut s, seg);
    s
}

fn index(len: usize, idx: i64) -> Option<usize> {
    let len = len as i64;
    let p = if idx < 0 { len + idx } else { idx };
    (p >= 0 && p < len).then_some(p as usize)
}

/// Collects all matches of an indefinite path (Jayway's semantics: missing things are skipped).
fn collect<'a>(segments: &[Segment], node: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    let mut current = vec![node];
    for seg in segments {
        let mut next = Vec::new();
        match seg {
            Segment::Child(sel) => {
                for n in current {
                    apply(sel, n, root, &mut next);
                }
            }
            Segment::Descendant(sel) => {
                for n in current {
                    // Pre-order walk with an explicit stack: deep documents cannot overflow.
                    let mut stack = vec![n];
                    while let Some(v) = stack.pop() {
                        apply(sel, v, root, &mut next);
                        match v {
                            Value::Object(m) => stack.extend(m.values().rev()),
                            Value::Array(a) => stack.extend(a.iter().rev()),
                            _ => {}
                        }
                    }
                }
            }
        }
        current = next;
    }
    out.extend(current);
}

fn apply<'a>(sel: &Selector, node: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    match sel {
        Selector::Name(name) => {
            if let Some(v) = node.as_object().and_then(|m| m.get(name)) {
                out.push(v);
            }
        }
        Selector::Names(names) => {
            if let Some(m) = node.as_object() {
                out.extend(names.iter().filter_map(|n| m.get(n)));
            }
        }
        Selector::Wildcard => match node {
            Value::Object(m) => out.extend(m.values()),
            Value::Array(a) => out.extend(a.iter()),
            _ => {}
        },
        Selector::Index(i) => {
            if let Value::Array(a) = node
                && let Some(p) = index(a.len(), *i)
            {
                out.push(&a[p]);
            }
        }
        Selector::Indexes(is) => {
            if let Value::Array(a) = node {
                out.extend(is.iter().filter_map(|i| index(a.len(), *i)).map(|p| &a[p]));
            }
        }
        Selector::Slice(from, to) => {
            if let Value::Array(a) = node {
                let len = a.len() as i64;
                let norm = |v: i64| if v < 0 { (len + v).max(0) } else { v.min(len) };
                let start = from.map_or(0, norm);
                let end = to.map_or(len, norm);
                if start < end {
                    out.extend(&a[start as usize..end as usize]);
                }
            }
        }
        Selector::Filter(f) => match node {
            Value::Array(a) => out.extend(a.iter().filter(|item| filter_matches(f, item, root))),
            Value::Object(_) if filter_matches(f, node, root) => out.push(node),
            _ => {}
        },
    }
}

fn operand_values<'a>(op: &'a Operand, item: &'a Value, root: &'a Value) -> Option<Cow<'a, Value>> {
    match op {
        Operand::Literal(v) => Some(Cow::Borrowed(v)),
        Operand::Current(segs) | Operand::Root(segs) => {
            let start = if matches!(op, Operand::Current(_)) {
                item
            } else {
                root
            };
            if is_definite(segs) {
                select_definite(segs, start).ok()
            } else {
                let mut out = Vec::new();
                collect(segs, start, root, &mut out);
                Some(Cow::Owned(Value::Array(out.into_iter().cloned().collect())))
            }
        }
    }
}

fn filter_matches(f: &Filter, item: &Value, root: &Value) -> bool {
    match f {
        Filter::Or(a, b) => filter_matches(a, item, root) || filter_matches(b, item, root),
        Filter::And(a, b) => filter_matches(a, item, root) && filter_matches(b, item, root),
        Filter::Not(a) => !filter_matches(a, item, root),
        Filter::Exists(op) => operand_values(op, item, root).is_some(),
        Filter::Matches(op, re) => match operand_values(op, item, root) {
            Some(v) => v.as_str().is_some_and(|s| re.is_match(s)),
            None => false,
        },
        Filter::Compare(l, op, r) => {
            let (Some(l), Some(r)) = (operand_values(l, item, root), operand_values(r, item, root))
            else {
                return false;
            };
            compare(&l, *op, &r)
        }
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn loose_eq(l: &Value, r: &Value) -> bool {
    match (l, r) {
        // Jayway's NumberNode equals a StringNode holding the same number.
        (Value::Number(_), Value::String(s)) | (Value::String(s), Value::Number(_)) => {
            let n = num(if l.is_number() { l } else { r });
            s.parse::<f64>().ok() == n
        }
        (Value::Number(_), Value::Number(_)) => num(l) == num(r),
        _ => l == r,
    }
}

fn compare(l: &Value, op: CmpOp, r: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = || -> Option<Ordering> {
        match (l, r) {
            (Value::Number(_), Value::Number(_)) => num(l)?.partial_cmp(&num(r)?),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            _ => None,
        }
    };
    let contains = |arr: &Value, v: &Value| {
        arr.as_array()
            .is_some_and(|a| a.iter().any(|x| loose_eq(x, v)))
    };
    match op {
        CmpOp::Eq => loose_eq(l, r),
        CmpOp::Ne => !loose_eq(l, r),
        CmpOp::Lt => ord() == Some(Ordering::Less),
        CmpOp::Le => matches!(ord(), Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord() == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord(), Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::In => contains(r, l),
        CmpOp::Nin => !contains(r, l),
        CmpOp::SubsetOf => l
            .as_array()
            .is_some_and(|a| a.iter().all(|x| contains(r, x))),
        CmpOp::AnyOf => l
            .as_array()
            .is_some_and(|a| a.iter().any(|x| contains(r, x))),
        CmpOp::NoneOf => l
            .as_array()
            .is_some_and(|a| !a.iter().any(|x| contains(r, x))),
        CmpOp::Size => {
            let Some(n) = r.as_u64() else { return false };
            match l {
                Value::Array(a) => a.len() as u64 == n,
                Value::String(s) => s.chars().count() as u64 == n,
                _ => false,
            }
        }
        CmpOp::Empty => {
            let Some(want) = r.as_bool() else {
                return false;
            };
            match l {
                Value::Array(a) => a.is_empty() == want,
                Value::String(s) => s.is_empty() == want,
                _ => false,
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// parsing

struct Parser<'s> {
    src: &'s str,
    pos: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn new(src: &'s str) -> Self {
        Self {
            src,
            pos: 0,
            depth: 0,
        }
    }

    fn err(&self, what: &str) -> DefinitionError {
        DefinitionError::new(format!(
            "The JSONPath '{}' is invalid: {what} at position {}",
            self.src, self.pos
        ))
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn top_level(&mut self) -> Result<(Root, Option<String>, Vec<Segment>), DefinitionError> {
        if !self.eat('$') {
            return Err(self.err("a path must start with '$'"));
        }
        let (root, variable) = if self.eat('$') {
            (Root::Context, None)
        } else if self
            .peek()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        {
            // `$name`: a workflow variable (letters, digits and underscores).
            let start = self.pos;
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.bump();
            }
            (Root::Variable, Some(self.src[start..self.pos].to_owned()))
        } else {
            (Root::Input, None)
        };
        let segments = self.segments(false)?;
        if self.pos != self.src.len() {
            return Err(self.err("unexpected character"));
        }
        Ok((root, variable, segments))
    }

    /// Segments until the end (top level) or until a character that ends an operand
    /// inside a filter.
    fn segments(&mut self, in_filter: bool) -> Result<Vec<Segment>, DefinitionError> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.bump();
                    if self.eat('.') {
                        let sel = match self.peek() {
                            Some('[') => {
                                self.bump();
                                self.bracket()?
                            }
                            Some('*') => {
                                self.bump();
                                Selector::Wildcard
                            }
                            _ => Selector::Name(self.dot_name(in_filter)?),
                        };
                        segs.push(Segment::Descendant(sel));
                    } else if self.eat('*') {
                        segs.push(Segment::Child(Selector::Wildcard));
                    } else {
                        segs.push(Segment::Child(Selector::Name(self.dot_name(in_filter)?)));
                    }
                }
                Some('[') => {
                    self.bump();
                    let sel = self.bracket()?;
                    segs.push(Segment::Child(sel));
                }
                None => return Ok(segs),
                Some(_) if in_filter => return Ok(segs),
                Some(_) => return Err(self.err("expected '.' or '['")),
            }
        }
    }

    fn dot_name(&mut self, in_filter: bool) -> Result<String, DefinitionError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let stop = match c {
                '.' | '[' => true,
                '(' | ')' => true,
                c if c.is_whitespace() => true,
                '=' | '!' | '<' | '>' | '&' | '|' | ',' if in_filter => true,
                _ => false,
            };
            if stop {
                break;
            }
            self.bump();
        }
        if self.pos == start {
            return Err(self.err("empty property name"));
        }
        if !in_filter && self.peek().is_some_and(|c| c == '(' || c.is_whitespace()) {
            return Err(self.err("functions and blanks are not supported in dot notation"));
        }
        Ok(self.src[start..self.pos].to_owned())
    }

    /// After `[`: parses up to and including `]`.
    fn bracket(&mut self) -> Result<Selector, DefinitionError> {
        self.skip_ws();
        let sel = match self.peek() {
            Some('*') => {
                self.bump();
                Selector::Wildcard
            }
            Some('?') => {
                self.bump();
                self.skip_ws();
                if !self.eat('(') {
                    return Err(self.err("expected '(' after '?'"));
                }
                let f = self.filter_or()?;
                self.skip_ws();
                if !self.eat(')') {
                    return Err(self.err("expected ')' closing the filter"));
                }
                Selector::Filter(Box::new(f))
            }
            Some('\'') | Some('"') => {
                let mut names = vec![self.quoted()?];
                loop {
                    self.skip_ws();
                    if !self.eat(',') {
                        break;
                    }
                    self.skip_ws();
                    names.push(self.quoted()?);
                }
                if names.len() == 1 {
                    Selector::Name(names.remove(0))
                } else {
                    Selector::Names(names)
                }
            }
            _ => self.index_like()?,
        };
        self.skip_ws();
        if !self.eat(']') {
            return Err(self.err("expected ']'"));
        }
        Ok(sel)
    }

    /// A quoted property name. A backslash stops the next character from closing the
    /// name but is kept, as is: AWS looks `$['Test\""Name"']` up as the key
    /// `Test\""Name"` (conformance case ESCAPE_SEQUENCES_JSONPATH), i.e. no unescaping.
    fn quoted(&mut self) -> Result<String, DefinitionError> {
        let Some(q) = self.bump() else {
            return Err(self.err("expected a quote"));
        };
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err("unterminated quoted name")),
                Some('\\') => {
                    s.push('\\');
                    if let Some(c) = self.bump() {
                        s.push(c);
                    }
                }
                Some(c) if c == q => return Ok(s),
                Some(c) => s.push(c),
            }
        }
    }

    fn int(&mut self) -> Result<Option<i64>, DefinitionError> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() == Some('-') {
            self.bump();
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        let text = &self.src[start..self.pos];
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<i64>()
            .map(Some)
            .map_err(|_| self.err("invalid array index"))
    }

    fn index_like(&mut self) -> Result<Selector, DefinitionError> {
        let first = self.int()?;
        self.skip_ws();
        if self.eat(':') {
            let second = self.int()?;
            return Ok(Selector::Slice(first, second));
        }
        let Some(first) = first else {
            return Err(self.err("expected an index, a slice, '*', a filter or a quoted name"));
        };
        let mut all = vec![first];
        loop {
            self.skip_ws();
            if !self.eat(',') {
                break;
            }
            match self.int()? {
                Some(i) => all.push(i),
                None => return Err(self.err("expected an index")),
            }
        }
        Ok(if all.len() == 1 {
            Selector::Index(first)
        } else {
            Selector::Indexes(all)
        })
    }

    fn enter(&mut self) -> Result<(), DefinitionError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("filter nested too deeply"));
        }
        Ok(())
    }

    fn filter_or(&mut self) -> Result<Filter, DefinitionError> {
        self.enter()?;
        let mut left = self.filter_and()?;
        loop {
            self.skip_ws();
            if self.src[self.pos..].starts_with("||") {
                self.pos += 2;
                let right = self.filter_and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(left)
    }

    fn filter_and(&mut self) -> Result<Filter, DefinitionError> {
        let mut left = self.filter_unary()?;
        loop {
            self.skip_ws();
            if self.src[self.pos..].starts_with("&&") {
                self.pos += 2;
                let right = self.filter_unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                break;
            }
        }
        Ok(left)
    }

    fn filter_unary(&mut self) -> Result<Filter, DefinitionError> {
        self.skip_ws();
        if self.peek() == Some('!') && self.peek_at(1) != Some('=') {
            self.bump();
            self.enter()?;
            let inner = self.filter_unary()?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some('(') {
            self.bump();
            let inner = self.filter_or()?;
            self.skip_ws();
            if !self.eat(')') {
                return Err(self.err("expected ')'"));
            }
            return Ok(inner);
        }
        let left = self.operand()?;
        self.skip_ws();
        let rest = &self.src[self.pos..];
        let ops: [(&str, CmpOp); 13] = [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
            ("nin", CmpOp::Nin),
            ("in", CmpOp::In),
            ("subsetof", CmpOp::SubsetOf),
            ("anyof", CmpOp::AnyOf),
            ("noneof", CmpOp::NoneOf),
            ("size", CmpOp::Size),
            ("empty", CmpOp::Empty),
        ];
        if rest.starts_with("=~") {
            self.pos += 2;
            self.skip_ws();
            let re = self.regex()?;
            return Ok(Filter::Matches(left, Box::new(re)));
        }
        for (tok, op) in ops {
            if rest.starts_with(tok) {
                self.pos += tok.len();
                let right = self.operand()?;
                return Ok(Filter::Compare(left, op, right));
            }
        }
        Ok(Filter::Exists(left))
    }

    fn regex(&mut self) -> Result<Regex, DefinitionError> {
        if !self.eat('/') {
            return Err(self.err("expected '/' starting a regular expression"));
        }
        let start = self.pos;
        loop {
            match self.bump() {
                None => return Err(self.err("unterminated regular expression")),
                Some('\\') => {
                    self.bump();
                }
                Some('/') => break,
                Some(_) => {}
            }
        }
        let body = &self.src[start..self.pos - 1];
        let mut flags = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_ascii_alphabetic()) {
            self.bump();
            if matches!(c, 'i' | 'm' | 's' | 'x') {
                flags.push(c);
            }
        }
        let prefix = if flags.is_empty() {
            String::new()
        } else {
            format!("(?{flags})")
        };
        // Jayway uses Matcher.matches(): the whole string must match.
        Regex::new(&format!("{prefix}^(?:{body})$"))
            .map_err(|e| self.err(&format!("invalid regular expression ({e})")))
    }

    fn operand(&mut self) -> Result<Operand, DefinitionError> {
        self.skip_ws();
        match self.peek() {
            Some('@') => {
                self.bump();
                Ok(Operand::Current(self.segments(true)?))
            }
            Some('$') => {
                self.bump();
                Ok(Operand::Root(self.segments(true)?))
            }
            _ => Ok(Operand::Literal(self.literal()?)),
        }
    }

    fn literal(&mut self) -> Result<Value, DefinitionError> {
        self.skip_ws();
        match self.peek() {
            Some('\'') | Some('"') => Ok(Value::String(self.quoted()?)),
            Some('[') => {
                self.bump();
                self.enter()?;
                let mut items = Vec::new();
                self.skip_ws();
                if !self.eat(']') {
                    loop {
                        items.push(self.literal()?);
                        self.skip_ws();
                        if self.eat(']') {
                            break;
                        }
                        if !self.eat(',') {
                            return Err(self.err("expected ',' or ']'"));
                        }
                    }
                }
                self.depth -= 1;
                Ok(Value::Array(items))
            }
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
                {
                    self.bump();
                }
                let word = &self.src[start..self.pos];
                match word {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" => Ok(Value::Null),
                    _ => serde_json::from_str::<serde_json::Number>(word)
                        .map(Value::Number)
                        .map_err(|_| self.err("expected a literal")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(path: &str, doc: &Value) -> Result<Value, PathNotFound> {
        JsonPath::parse(path)
            .map_err(|e| PathNotFound { message: e.message })?
            .select_in(doc)
            .map(Cow::into_owned)
    }

    #[test]
    fn definite_paths() {
        let d = json!({"a": {"b": [1, 2, 3]}, "x y": 5, "it's": 6});
        assert_eq!(sel("$", &d).unwrap(), d);
        assert_eq!(sel("$.a.b[0]", &d).unwrap(), json!(1));
        assert_eq!(sel("$.a.b[-1]", &d).unwrap(), json!(3));
        assert_eq!(sel("$['x y']", &d).unwrap(), json!(5));
        assert_eq!(sel("$[\"it's\"]", &d).unwrap(), json!(6));
        assert_eq!(sel("$['it\\'s']", &json!({"it\\'s": 7})).unwrap(), json!(7));
        assert_eq!(
            sel("$['Test\\\"\"Name\"']", &json!({"Test\\\"\"Name\"": 8})).unwrap(),
            json!(8)
        );
        assert_eq!(
            sel("$['a','x y']", &d).unwrap(),
            json!({"a": d["a"], "x y": 5})
        );
    }

    #[test]
    fn missing_definite_paths_use_jayway_messages() {
        let d = json!({"a": 1});
        assert_eq!(
            sel("$.NoSuchInputPath", &d).unwrap_err().message,
            "No results for path: $['NoSuchInputPath']"
        );
        assert_eq!(
            sel("$.b.c", &d).unwrap_err().message,
            "Missing property in path $['b']"
        );
        assert_eq!(
            sel("$.a.b[5]", &json!({"a": {"b": []}}))
                .unwrap_err()
                .message,
            "No results for path: $['a']['b'][5]"
        );
    }

    #[test]
    fn indefinite_paths_return_arrays() {
        let d = json!({"items": [{"v": 1}, {"v": 2}, {"w": 3}, {"v": 4}]});
        assert_eq!(sel("$.items[*].v", &d).unwrap(), json!([1, 2, 4]));
        assert_eq!(
            sel("$.items[1:3]", &d).unwrap(),
            json!([{"v": 2}, {"w": 3}])
        );
        assert_eq!(sel("$.items[:1].v", &d).unwrap(), json!([1]));
        assert_eq!(sel("$.items[-2:].v", &d).unwrap(), json!([4]));
        assert_eq!(sel("$.items[0,3].v", &d).unwrap(), json!([1, 4]));
        assert_eq!(sel("$..v", &d).unwrap(), json!([1, 2, 4]));
        assert_eq!(sel("$.nothing[*]", &d).unwrap(), json!([]));
        assert_eq!(sel("$[*]", &json!({})).unwrap(), json!([]));
    }

    #[test]
    fn filters() {
        let d = json!({"users": [{"year": 1997, "status": 0, "n": "a"}, {"year": 1998, "status": 1, "n": "bb"}]});
        assert_eq!(
            sel("$.users[?(@.status == 0)].year", &d).unwrap(),
            json!([1997])
        );
        assert_eq!(
            sel("$.users[?(@.year > 1997 && @.n == 'bb')].year", &d).unwrap(),
            json!([1998])
        );
        assert_eq!(
            sel("$.users[?(@.year < 1997 || !(@.status == 0))].year", &d).unwrap(),
            json!([1998])
        );
        assert_eq!(
            sel("$.users[?(@.n =~ /B+/i)].year", &d).unwrap(),
            json!([1998])
        );
        assert_eq!(
            sel("$.users[?(@.n in ['a', 'c'])].year", &d).unwrap(),
            json!([1997])
        );
        assert_eq!(sel("$.users[?(@.missing)]", &d).unwrap(), json!([]));
        assert_eq!(
            sel("$.users[?(@.status)].status", &d).unwrap(),
            json!([0, 1])
        );
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "",
            "a",
            "$.",
            "$[",
            "$['a'",
            "$[?(@.a == 1]",
            "$.a b",
            "$.length()",
            "$[abc]",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad} should not parse");
        }
        let deep = format!("$[?({}@.a{})]", "(".repeat(100), ")".repeat(100));
        assert!(JsonPath::parse(&deep).is_err());
        let deep_not = format!("$[?({}@.a)]", "!".repeat(100));
        assert!(JsonPath::parse(&deep_not).is_err());
    }

    #[test]
    fn context_root() {
        let p = JsonPath::parse("$$.Execution.Name").unwrap();
        assert!(p.is_context());
        let input = json!({});
        let ctx = json!({"Execution": {"Name": "n"}});
        assert_eq!(
            p.select(&Scope::new(&input, &ctx)).unwrap().into_owned(),
            json!("n")
        );
    }

    #[test]
    fn reference_path_insert() {
        let r = ReferencePath::parse("$.a.b").unwrap();
        assert_eq!(
            r.insert(json!({"x": 1}), json!(2)).unwrap(),
            json!({"x": 1, "a": {"b": 2}})
        );
        assert_eq!(
            ReferencePath::parse("$")
                .unwrap()
                .insert(json!({"x": 1}), json!(2))
                .unwrap(),
            json!(2)
        );
        let e = r.insert(json!({"a": "str"}), json!(2)).unwrap_err();
        assert_eq!(e.error, "States.ReferencePathConflict");
        assert_eq!(e.cause, r#"Unable to apply step "b" to input {"a":"str"}"#);
        let e = ReferencePath::parse("$.agg")
            .unwrap()
            .insert(json!([1, 2]), json!(2))
            .unwrap_err();
        assert_eq!(e.cause, r#"Unable to apply step "agg" to input [1,2]"#);
        assert_eq!(
            r.insert(json!({"a": null}), json!(2)).unwrap(),
            json!({"a": {"b": 2}})
        );
        let arr = ReferencePath::parse("$.l[1].x").unwrap();
        assert_eq!(
            arr.insert(json!({"l": [0, {}]}), json!(1)).unwrap(),
            json!({"l": [0, {"x": 1}]})
        );
        assert!(arr.insert(json!({"l": [0]}), json!(1)).is_err());
        assert!(ReferencePath::parse("$.a[*]").is_err());
        assert!(ReferencePath::parse("$$.a").is_err());
    }

    #[test]
    fn variables() {
        let input = json!({});
        let ctx = json!({});
        let mut vars = Map::new();
        vars.insert("answer".into(), json!({"v": [1, 2]}));
        let scope = Scope::new(&input, &ctx).with_variables(&vars);
        let p = JsonPath::parse("$answer.v[1]").unwrap();
        assert_eq!(p.root(), Root::Variable);
        assert_eq!(p.variable(), Some("answer"));
        assert_eq!(p.select(&scope).unwrap().into_owned(), json!(2));
        assert!(JsonPath::parse("$nope").unwrap().select(&scope).is_err());
        assert!(p.select(&Scope::new(&input, &ctx)).is_err());
        assert!(ReferencePath::parse("$answer.x").is_err());
        let items = ReferencePath::parse_any_root("$answer.v").unwrap();
        assert_eq!(items.get(&scope).unwrap(), &json!([1, 2]));
    }

    #[test]
    fn reference_path_get() {
        let input = json!({"discovery": {"statusCode": 500}});
        let ctx = json!({"Execution": {"Input": {"items": [1]}}});
        let scope = Scope::new(&input, &ctx);
        let items = ReferencePath::parse_any_root("$$.Execution.Input.items").unwrap();
        assert_eq!(items.get(&scope).unwrap(), &json!([1]));
        let e = ReferencePath::parse_any_root("$.discovery.objects")
            .unwrap()
            .get(&scope)
            .unwrap_err();
        assert_eq!(e.error, "States.ReferencePathConflict");
        assert_eq!(
            e.cause,
            r#"Unable to apply step "objects" to input {"discovery":{"statusCode":500}}"#
        );
    }
}
