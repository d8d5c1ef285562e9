//! The JSONPath parser (Jayway's grammar plus `$$` and `$name` roots).

use regex::Regex;
use serde_json::Value;

use super::ast::{CmpOp, Filter, Operand, Segment, Selector};
use super::{MAX_DEPTH, Root};
use crate::error::DefinitionError;

pub(super) struct Parser<'s> {
    src: &'s str,
    pos: usize,
    depth: usize,
    /// Where the `[` of the filter being parsed is.
    filter_start: usize,
    /// The first bare word met where a filter literal goes, as
    /// (filter start, position of the character Jayway stops at).
    bare_word: Option<(usize, usize)>,
}

impl<'s> Parser<'s> {
    pub(super) fn new(src: &'s str) -> Self {
        Self {
            src,
            pos: 0,
            depth: 0,
            filter_start: 0,
            bare_word: None,
        }
    }

    /// Jayway's compile failure for a filter that compares with a bare word
    /// (`[?(@.kind==es)]`), once the whole path is parsed. See [`Parser::literal`].
    pub(super) fn jayway_failure(&self) -> Option<String> {
        let (start, at) = self.bare_word?;
        let end = self.src[start..]
            .find(")]")
            .map_or(self.src.len(), |i| start + i + 2);
        let filter = &self.src[start..end];
        let c = self.src[at..].chars().next().unwrap_or(' ');
        Some(format!(
            "Failed to parse filter: {filter}, error on position: {}, char: {c}",
            at - start
        ))
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

    pub(super) fn top_level(
        &mut self,
    ) -> Result<(Root, Option<String>, Vec<Segment>), DefinitionError> {
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
        let segs = self.segments_raw(in_filter)?;
        // Jayway: "Multi properties can only be used as path leafs".
        let inner = segs.len().saturating_sub(1);
        let multi_inside = segs[..inner].iter().any(|s| {
            matches!(
                s,
                Segment::Child(Selector::Names(_)) | Segment::Descendant(Selector::Names(_))
            )
        });
        if multi_inside {
            return Err(self.err("multi properties can only be used as path leafs"));
        }
        Ok(segs)
    }

    fn segments_raw(&mut self, in_filter: bool) -> Result<Vec<Segment>, DefinitionError> {
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
                    } else if self.peek() == Some('[') {
                        // Jayway (which AWS evaluates JSONPath with) reads the token
                        // after a single '.' as it reads any token, so `$.[0]`,
                        // `$.items.[0].id` and `$.a.['b']` are `$[0]`, `$.items[0].id`
                        // and `$.a['b']` (PathCompiler.readDotToken -> readNextToken).
                        continue;
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
                self.filter_start = self.src[..self.pos].rfind('[').unwrap_or(0);
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
                    "" => Err(self.err("expected a literal")),
                    _ => match serde_json::from_str::<serde_json::Number>(word) {
                        Ok(n) => Ok(Value::Number(n)),
                        // A bare word (`@.kind==es`): Jayway's FilterCompiler reads it as a
                        // number literal, taking the number characters it finds (digits,
                        // '-', '.', 'e', 'E'), and `new BigDecimal(...)` of those fails, so
                        // the path never compiles (FilterCompiler.readLiteral ->
                        // readNumberLiteral; compile() turns the exception into
                        // "Failed to parse filter: ..."). Step Functions accepts such a
                        // definition and fails when the path is evaluated (aws-samples/
                        // aws-batch-runtime-monitoring#6: a deployed sample with
                        // `[?(@.name==ecs.availability-zone)]` failed its states at run time).
                        // So the path parses, remembers Jayway's failure, and every
                        // evaluation of it fails with States.Runtime (JsonPath::usable).
                        Err(_) if word.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                            let stop = word
                                .find(|c: char| {
                                    !(c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | 'E'))
                                })
                                .unwrap_or(word.len());
                            if self.bare_word.is_none() {
                                self.bare_word = Some((self.filter_start, start + stop));
                            }
                            Ok(Value::Null)
                        }
                        Err(_) => Err(self.err("expected a literal")),
                    },
                }
            }
        }
    }
}
