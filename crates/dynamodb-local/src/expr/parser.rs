//! The shared grammar: a cursor over the tokens with DynamoDB's syntax-error
//! wording, document paths, operands and the condition grammar (`OR`, `AND`,
//! `NOT`, comparisons, `BETWEEN`, `IN`, function calls). It yields raw trees
//! whose names, placeholders and functions `resolve` checks.

use super::ast::CmpOp;
use super::lexer::{Tok, Token, tokenize};

pub(super) struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    pos: usize,
}

pub(super) type PResult<T> = Result<T, String>;

impl<'a> Parser<'a> {
    pub(super) fn new(text: &'a str) -> PResult<Self> {
        if text.trim().is_empty() {
            return Err("The expression can not be empty;".to_owned());
        }
        Ok(Self {
            text,
            toks: tokenize(text),
            pos: 0,
        })
    }

    pub(super) fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    pub(super) fn peek_at(&self, ahead: usize) -> &Tok {
        let i = (self.pos + ahead).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    pub(super) fn bump(&mut self) -> Tok {
        let tok = self.toks[self.pos].tok.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        tok
    }

    pub(super) fn is_sym(&self, s: &str) -> bool {
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
    pub(super) fn error(&self) -> String {
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

    pub(super) fn expect_sym(&mut self, s: &str) -> PResult<()> {
        if self.is_sym(s) {
            self.bump();
            Ok(())
        } else {
            Err(self.error())
        }
    }

    pub(super) fn expect_eof(&self) -> PResult<()> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// `name ('.' name | '[' int ']')*`
    pub(super) fn path(&mut self) -> PResult<RawPath> {
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
                let args = self.parenthesised_list(Self::operand)?;
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

    /// `item (',' item)*`
    pub(super) fn comma_list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let mut items = vec![item(self)?];
        while self.is_sym(",") {
            self.bump();
            items.push(item(self)?);
        }
        Ok(items)
    }

    /// `'(' item (',' item)* ')'`: a function's arguments, an `IN` list.
    pub(super) fn parenthesised_list<T>(
        &mut self,
        item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        self.expect_sym("(")?;
        let items = self.comma_list(item)?;
        self.expect_sym(")")?;
        Ok(items)
    }

    // condition := or
    pub(super) fn or(&mut self) -> PResult<RawCond> {
        self.joined("OR", Self::and, RawCond::Or)
    }

    fn and(&mut self) -> PResult<RawCond> {
        self.joined("AND", Self::not, RawCond::And)
    }

    /// `operand (keyword operand)*`, joined from the left.
    fn joined(
        &mut self,
        keyword: &str,
        operand: fn(&mut Self) -> PResult<RawCond>,
        join: fn(Box<RawCond>, Box<RawCond>) -> RawCond,
    ) -> PResult<RawCond> {
        let mut left = operand(self)?;
        while self.is_keyword(keyword) {
            self.bump();
            let right = operand(self)?;
            left = join(Box::new(left), Box::new(right));
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
            let list = self.parenthesised_list(Self::operand)?;
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
pub(super) enum RawStep {
    Word(String),
    Placeholder(String),
    Index(usize),
}

pub(super) type RawPath = Vec<RawStep>;

#[derive(Debug, Clone)]
pub(super) enum RawOperand {
    Path(RawPath),
    Value(String),
    Call(String, Vec<RawOperand>),
}

#[derive(Debug, Clone)]
pub(super) enum RawCond {
    Cmp(CmpOp, RawOperand, RawOperand),
    Between(RawOperand, RawOperand, RawOperand),
    In(RawOperand, Vec<RawOperand>),
    Call(String, Vec<RawOperand>),
    And(Box<RawCond>, Box<RawCond>),
    Or(Box<RawCond>, Box<RawCond>),
    Not(Box<RawCond>),
}

#[cfg(test)]
mod tests {
    use crate::expr::test_support::cond_error;
    use serde_json::json;

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
}
