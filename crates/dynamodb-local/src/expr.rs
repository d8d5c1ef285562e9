//! DynamoDB's expression languages: condition (ConditionExpression,
//! FilterExpression, KeyConditionExpression), update and projection.
//!
//! Pure: [`Placeholders`] holds a request's `ExpressionAttributeNames` and
//! `ExpressionAttributeValues`; the `parse_*` functions resolve them (and
//! record which were used, for the "unused in expressions" check), and the
//! results evaluate against items.
//!
//! Grammar and messages follow the DynamoDB developer guide ("Condition and
//! filter expressions, operators, and functions", "Update expressions") and the
//! wording AWS returns, as recorded by moto's AWS-verified tests and dynalite's
//! tests against the service, e.g. `Syntax error; token: "<EOF>", near: ","`,
//! `Attribute name is a reserved keyword; reserved keyword: role`,
//! `An expression attribute value used in expression is not defined; attribute value: :v`.
//! A message here lacks the `Invalid ConditionExpression: ` prefix, which the
//! caller adds for the member it parsed.
//!
//! Supported: comparators `= <> < <= > >=`, `BETWEEN … AND …`, `IN (…)`,
//! `AND`, `OR`, `NOT`, parentheses; functions `attribute_exists`,
//! `attribute_not_exists`, `attribute_type`, `begins_with`, `contains`, `size`;
//! document paths `a.b[0]` with `#name` placeholders; updates `SET` (with `+`,
//! `-`, `if_not_exists`, `list_append`), `REMOVE`, `ADD` (numbers and sets),
//! `DELETE` (sets).

use std::collections::{BTreeMap, BTreeSet};

use crate::reserved::is_reserved;
use crate::value::{Item, Path, Step, Value, get_path, path_text};

/// A request's placeholders, and which of them the parsed expressions used.
#[derive(Debug, Default)]
pub struct Placeholders {
    names: BTreeMap<String, String>,
    values: Item,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Placeholders {
    pub fn new(names: BTreeMap<String, String>, values: Item) -> Self {
        Self {
            names,
            values,
            ..Self::default()
        }
    }

    /// DynamoDB's check once every expression is parsed: each placeholder
    /// given must be used (names are checked before values).
    pub fn check_all_used(&self) -> Result<(), String> {
        let unused = |given: Vec<&String>, used: &BTreeSet<String>| -> Vec<String> {
            given
                .into_iter()
                .filter(|k| !used.contains(*k))
                .cloned()
                .collect()
        };
        let names = unused(self.names.keys().collect(), &self.used_names);
        if !names.is_empty() {
            return Err(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                names.join(", ")
            ));
        }
        let values = unused(self.values.keys().collect(), &self.used_values);
        if !values.is_empty() {
            return Err(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                values.join(", ")
            ));
        }
        Ok(())
    }

    fn name(&mut self, placeholder: &str) -> Result<String, String> {
        match self.names.get(placeholder) {
            Some(name) => {
                self.used_names.insert(placeholder.to_owned());
                Ok(name.clone())
            }
            None => Err(format!(
                "An expression attribute name used in the document path is not defined; attribute name: {placeholder}"
            )),
        }
    }

    fn value(&mut self, placeholder: &str) -> Result<Value, String> {
        match self.values.get(placeholder) {
            Some(value) => {
                self.used_values.insert(placeholder.to_owned());
                Ok(value.clone())
            }
            None => Err(format!(
                "An expression attribute value used in expression is not defined; attribute value: {placeholder}"
            )),
        }
    }
}

// ---------------------------------------------------------------- tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A bare word: attribute name, keyword or function name.
    Word(String),
    /// `#name`
    Name(String),
    /// `:value`
    Val(String),
    /// Digits (list indexes).
    Int(String),
    /// Punctuation and operators: `( ) [ ] , . = <> < <= > >= + -`, or any
    /// other character, which no rule accepts (a syntax error there).
    Sym(String),
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let word_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = if b == b'#' || b == b':' {
            i += 1;
            while i < bytes.len() && word_char(bytes[i]) {
                i += 1;
            }
            let s = text[start..i].to_owned();
            if b == b'#' { Tok::Name(s) } else { Tok::Val(s) }
        } else if b.is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            Tok::Int(text[start..i].to_owned())
        } else if b.is_ascii_alphabetic() || b == b'_' {
            while i < bytes.len() && word_char(bytes[i]) {
                i += 1;
            }
            Tok::Word(text[start..i].to_owned())
        } else {
            let two = text.get(i..i + 2);
            if matches!(two, Some("<>" | "<=" | ">=")) {
                i += 2;
            } else {
                // One character, which may be multi-byte.
                i += text[i..].chars().next().map_or(1, char::len_utf8);
            }
            Tok::Sym(text[start..i].to_owned())
        };
        out.push(Token { tok, start, end: i });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: text.len(),
        end: text.len(),
    });
    out
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    pos: usize,
}

type PResult<T> = Result<T, String>;

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> PResult<Self> {
        if text.trim().is_empty() {
            return Err("The expression can not be empty;".to_owned());
        }
        Ok(Self {
            text,
            toks: tokenize(text),
            pos: 0,
        })
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        let i = (self.pos + ahead).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    fn bump(&mut self) -> Tok {
        let tok = self.toks[self.pos].tok.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        tok
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if x == s)
    }

    fn is_keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w.eq_ignore_ascii_case(k))
    }

    /// DynamoDB's syntax error at the current token: `near` spans the token
    /// before it through this one, as the service quotes them. AWS-recorded
    /// messages (moto's `SET #attr1 = :val1, #attr2 = :val2,` gives `token: "<EOF>", near:
    /// ","`; botocore's test of DynamoDB and DynamoDB Local, `foo` gives `near:
    /// "foo"`) show the end of input quoting the last token. None has trailing
    /// blanks; we keep them, as the end-of-input token sits after them (so
    /// `a = ` quotes `"= "`, as another emulator also answers for `SET a = `).
    fn error(&self) -> String {
        let here = &self.toks[self.pos];
        let token = match &here.tok {
            Tok::Eof => "<EOF>".to_owned(),
            _ => self.text[here.start..here.end].to_owned(),
        };
        let near_start = if self.pos > 0 {
            self.toks[self.pos - 1].start
        } else {
            here.start
        };
        let near = &self.text[near_start..here.end];
        format!("Syntax error; token: \"{token}\", near: \"{near}\"")
    }

    fn expect_sym(&mut self, s: &str) -> PResult<()> {
        if self.is_sym(s) {
            self.bump();
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn expect_eof(&self) -> PResult<()> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// `name ('.' name | '[' int ']')*`
    fn path(&mut self) -> PResult<RawPath> {
        let mut steps = vec![self.path_name()?];
        loop {
            if self.is_sym(".") {
                self.bump();
                steps.push(self.path_name()?);
            } else if self.is_sym("[") {
                self.bump();
                let Tok::Int(n) = self.peek().clone() else {
                    return Err(self.error());
                };
                let index = n.parse().map_err(|_| self.error())?;
                self.bump();
                self.expect_sym("]")?;
                steps.push(RawStep::Index(index));
            } else {
                return Ok(steps);
            }
        }
    }

    fn path_name(&mut self) -> PResult<RawStep> {
        match self.peek().clone() {
            Tok::Word(w) if !is_keyword(&w) => {
                self.bump();
                Ok(RawStep::Word(w))
            }
            Tok::Name(n) => {
                self.bump();
                Ok(RawStep::Placeholder(n))
            }
            _ => Err(self.error()),
        }
    }

    /// An operand: `:v`, a path, or `f(args)`.
    fn operand(&mut self) -> PResult<RawOperand> {
        match self.peek().clone() {
            Tok::Val(v) => {
                self.bump();
                Ok(RawOperand::Value(v))
            }
            Tok::Word(w)
                if !is_keyword(&w) && matches!(self.peek_at(1), Tok::Sym(s) if s == "(") =>
            {
                self.bump();
                self.bump();
                let mut args = vec![self.operand()?];
                while self.is_sym(",") {
                    self.bump();
                    args.push(self.operand()?);
                }
                self.expect_sym(")")?;
                Ok(RawOperand::Call(w, args))
            }
            Tok::Sym(s) if s == "(" => {
                self.bump();
                let inner = self.operand()?;
                self.expect_sym(")")?;
                Ok(inner)
            }
            _ => Ok(RawOperand::Path(self.path()?)),
        }
    }

    // condition := or
    fn or(&mut self) -> PResult<RawCond> {
        let mut left = self.and()?;
        while self.is_keyword("OR") {
            self.bump();
            let right = self.and()?;
            left = RawCond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> PResult<RawCond> {
        let mut left = self.not()?;
        while self.is_keyword("AND") {
            self.bump();
            let right = self.not()?;
            left = RawCond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> PResult<RawCond> {
        if self.is_keyword("NOT") {
            self.bump();
            let inner = self.not()?;
            return Ok(RawCond::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<RawCond> {
        if self.is_sym("(") {
            // Either a parenthesised condition or a parenthesised operand
            // starting a comparison: try the condition first.
            let save = self.pos;
            self.bump();
            let first = match self.or() {
                Ok(inner) if self.is_sym(")") => {
                    self.bump();
                    return Ok(inner);
                }
                Ok(_) => (self.pos, self.error()),
                Err(e) => (self.pos, e),
            };
            self.pos = save;
            // When both readings fail, the one that read further names the
            // error, as DynamoDB's does: `(a = :v` ends at "<EOF>", not at "=".
            return self.comparison().map_err(
                |second| {
                    if first.0 > self.pos { first.1 } else { second }
                },
            );
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<RawCond> {
        let left = self.operand()?;
        if let Tok::Sym(s) = self.peek().clone()
            && let Some(op) = CmpOp::from_sym(&s)
        {
            self.bump();
            let right = self.operand()?;
            return Ok(RawCond::Cmp(op, left, right));
        }
        if self.is_keyword("BETWEEN") {
            self.bump();
            let low = self.operand()?;
            if !self.is_keyword("AND") {
                return Err(self.error());
            }
            self.bump();
            let high = self.operand()?;
            return Ok(RawCond::Between(left, low, high));
        }
        if self.is_keyword("IN") {
            self.bump();
            self.expect_sym("(")?;
            let mut list = vec![self.operand()?];
            while self.is_sym(",") {
                self.bump();
                list.push(self.operand()?);
            }
            self.expect_sym(")")?;
            return Ok(RawCond::In(left, list));
        }
        match left {
            RawOperand::Call(name, args) => Ok(RawCond::Call(name, args)),
            // A bare path or value is not a condition.
            _ => Err(self.error()),
        }
    }
}

/// The words the condition grammar keeps for itself (never path names).
fn is_keyword(word: &str) -> bool {
    ["AND", "OR", "NOT", "BETWEEN", "IN"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

#[derive(Debug, Clone)]
enum RawStep {
    Word(String),
    Placeholder(String),
    Index(usize),
}

type RawPath = Vec<RawStep>;

#[derive(Debug, Clone)]
enum RawOperand {
    Path(RawPath),
    Value(String),
    Call(String, Vec<RawOperand>),
}

#[derive(Debug, Clone)]
enum RawCond {
    Cmp(CmpOp, RawOperand, RawOperand),
    Between(RawOperand, RawOperand, RawOperand),
    In(RawOperand, Vec<RawOperand>),
    Call(String, Vec<RawOperand>),
    And(Box<RawCond>, Box<RawCond>),
    Or(Box<RawCond>, Box<RawCond>),
    Not(Box<RawCond>),
}

// ---------------------------------------------------------------- resolved trees

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
    fn from_sym(s: &str) -> Option<Self> {
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

    fn text(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    fn holds(self, left: &Value, right: &Value) -> bool {
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

/// Resolution: placeholders, reserved words and function rules. DynamoDB
/// reports an unknown or misplaced function first, then a reserved word, then
/// an undefined placeholder, then a function's operand errors (dynalite's
/// `checkErrors` order), so the first error of each kind is kept and the
/// earliest kind wins.
#[derive(Default)]
struct Resolver {
    function_name: Option<String>,
    reserved: Option<String>,
    placeholder: Option<String>,
    function: Option<String>,
}

impl Resolver {
    fn finish<T>(self, value: T) -> Result<T, String> {
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

    fn note_function(&mut self, message: String) {
        let slot = if message.starts_with("Invalid function name")
            || message.starts_with("The function is not allowed")
        {
            &mut self.function_name
        } else {
            &mut self.function
        };
        slot.get_or_insert(message);
    }

    fn path(&mut self, raw: &RawPath, ph: &mut Placeholders) -> Path {
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

    fn value(&mut self, raw: &str, ph: &mut Placeholders) -> Value {
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

    fn condition(&mut self, raw: &RawCond, ph: &mut Placeholders) -> Condition {
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

fn is_function(name: &str) -> bool {
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

fn arity(name: &str, n: usize) -> String {
    format!(
        "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {n}"
    )
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

// ---------------------------------------------------------------- evaluation

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

// ---------------------------------------------------------------- key conditions

/// The sort-key part of a KeyConditionExpression.
#[derive(Debug, Clone)]
pub enum SortCondition {
    Cmp(CmpOp, Value),
    Between(Value, Value),
    BeginsWith(Value),
}

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

/// A KeyConditionExpression: conditions by attribute name (at most two).
#[derive(Debug, Clone, Default)]
pub struct KeyCondition {
    pub parts: Vec<(String, SortCondition)>,
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

// ---------------------------------------------------------------- projection

/// Parses a ProjectionExpression: paths separated by commas.
pub fn parse_projection(text: &str, ph: &mut Placeholders) -> Result<Vec<Path>, String> {
    let mut p = Parser::new(text)?;
    let mut raw = vec![p.path()?];
    while p.is_sym(",") {
        p.bump();
        raw.push(p.path()?);
    }
    p.expect_eof()?;
    let mut r = Resolver::default();
    let paths: Vec<Path> = raw.iter().map(|path| r.path(path, ph)).collect();
    let paths = r.finish(paths)?;
    check_overlaps(&paths)?;
    Ok(paths)
}

fn check_overlaps(paths: &[Path]) -> Result<(), String> {
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            let n = a.len().min(b.len());
            if a[..n] == b[..n] {
                return Err(format!(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    path_text(a),
                    path_text(b)
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- updates

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
                self.bump();
                let mut args = vec![self.set_operand()?];
                while self.is_sym(",") {
                    self.bump();
                    args.push(self.set_operand()?);
                }
                self.expect_sym(")")?;
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
        loop {
            let path = p.path()?;
            match clause {
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
                    raw.push(RawAction::Set(path, left, arith));
                }
                "REMOVE" => raw.push(RawAction::Remove(path)),
                _ => {
                    let Tok::Val(v) = p.peek().clone() else {
                        return Err(p.error());
                    };
                    p.bump();
                    raw.push(if clause == "ADD" {
                        RawAction::Add(path, v)
                    } else {
                        RawAction::Delete(path, v)
                    });
                }
            }
            if p.is_sym(",") {
                p.bump();
                continue;
            }
            break;
        }
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
    use crate::value::{item_from_json, item_to_json};
    use serde_json::json;

    fn item(j: serde_json::Value) -> Item {
        item_from_json(Some(&j))
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("item {j}"))
    }

    fn ph(names: &[(&str, &str)], values: serde_json::Value) -> Placeholders {
        Placeholders::new(
            names
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            item(values),
        )
    }

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

    fn cond_error(expr: &str, names: &[(&str, &str)], values: serde_json::Value) -> String {
        let mut p = ph(names, values);
        match parse_condition(expr, &mut p) {
            Ok(c) => panic!("{expr} parsed as {c:?}"),
            Err(e) => e,
        }
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

    #[test]
    fn syntax_errors_quote_the_token_and_its_neighbour() {
        assert_eq!(
            cond_error("a =", &[], json!({})),
            "Syntax error; token: \"<EOF>\", near: \"=\""
        );
        // Trailing blanks stay in `near`: see `Parser::error`.
        assert_eq!(
            cond_error("a = ", &[], json!({})),
            "Syntax error; token: \"<EOF>\", near: \"= \""
        );
        assert_eq!(
            cond_error(
                "a = :v :w",
                &[],
                json!({":v": {"S": "x"}, ":w": {"S": "x"}})
            ),
            "Syntax error; token: \":w\", near: \":v :w\""
        );
        assert_eq!(
            cond_error("a", &[], json!({})),
            "Syntax error; token: \"<EOF>\", near: \"a\""
        );
        assert_eq!(
            cond_error("(a = :v", &[], json!({":v": {"S": "x"}})),
            "Syntax error; token: \"<EOF>\", near: \":v\""
        );
        assert_eq!(
            cond_error("a ; b", &[], json!({})),
            "Syntax error; token: \";\", near: \"a ;\""
        );
        assert_eq!(
            cond_error("  ", &[], json!({})),
            "The expression can not be empty;"
        );
    }

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

    #[test]
    fn projections_name_paths_and_refuse_overlaps() {
        let mut p = ph(&[("#t", "token")], json!({}));
        let paths = parse_projection("pk, #t, m.x[0]", &mut p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(paths.len(), 3);
        let mut p = ph(&[], json!({}));
        assert!(parse_projection("a, a.b", &mut p).is_err());
        let mut p = ph(&[], json!({}));
        assert_eq!(
            parse_projection("status", &mut p),
            Err("Attribute name is a reserved keyword; reserved keyword: status".to_owned())
        );
    }
}
