//! The intrinsic-call parser: `States.Name(arg, ...)` with AWS's literal rules.

use serde_json::{Number, Value};

use super::{Arg, Call, FmtPiece, Function, MAX_DEPTH};
use crate::error::DefinitionError;
use crate::jsonpath::JsonPath;

pub(super) struct Parser<'s> {
    src: &'s str,
    pos: usize,
}

impl<'s> Parser<'s> {
    pub(super) fn new(src: &'s str) -> Self {
        Self { src, pos: 0 }
    }

    /// The whole text as one call, with nothing but whitespace around it.
    pub(super) fn whole_call(mut self) -> Result<Call, DefinitionError> {
        self.skip_ws();
        let call = self.call(0)?;
        self.skip_ws();
        if self.pos != self.src.len() {
            return Err(self.err("unexpected text after the closing ')'"));
        }
        Ok(call)
    }

    fn err(&self, what: &str) -> DefinitionError {
        DefinitionError::new(format!(
            "The intrinsic function '{}' is invalid: {what} (at position {})",
            self.src, self.pos
        ))
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn call(&mut self, depth: usize) -> Result<Call, DefinitionError> {
        if depth >= MAX_DEPTH {
            return Err(self.err("intrinsic functions are nested too deeply"));
        }
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            self.bump();
        }
        let name = &self.src[start..self.pos];
        let func = Function::from_name(name)
            .ok_or_else(|| self.err(&format!("unknown function '{name}'")))?;
        self.skip_ws();
        if self.bump() != Some('(') {
            return Err(self.err("expected '('"));
        }
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(')') {
            self.bump();
        } else {
            loop {
                self.skip_ws();
                args.push(self.arg(depth)?);
                self.skip_ws();
                match self.bump() {
                    Some(',') => continue,
                    Some(')') => break,
                    _ => return Err(self.err("expected ',' or ')'")),
                }
            }
        }
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            return Err(self.err(&format!(
                "{} takes {} but got {} argument(s)",
                func.name(),
                arity_text(min, max),
                args.len()
            )));
        }
        check_literal_types(func, &args).map_err(|m| self.err(&m))?;
        Ok(Call { func, args })
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, DefinitionError> {
        match self.peek() {
            Some('\'') => self.string(),
            Some('$') => self.path(),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' => self.number(),
            Some(_) if self.rest().starts_with("States.") => {
                Ok(Arg::Call(Box::new(self.call(depth + 1)?)))
            }
            Some(_) => {
                for (word, v) in [
                    ("null", Value::Null),
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                ] {
                    if let Some(after) = self.rest().strip_prefix(word)
                        && !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                    {
                        self.pos += word.len();
                        return Ok(Arg::Literal(v));
                    }
                }
                Err(self.err("expected an argument"))
            }
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn string(&mut self) -> Result<Arg, DefinitionError> {
        self.bump(); // opening quote
        let mut value = String::new();
        let mut format = Vec::new();
        let mut text = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err("unterminated string literal")),
                Some('\'') => break,
                Some('\\') => match self.peek() {
                    Some(c @ ('\'' | '{' | '}' | '\\')) => {
                        self.bump();
                        value.push(c);
                        text.push(c);
                    }
                    _ => {
                        value.push('\\');
                        text.push('\\');
                    }
                },
                Some('{') if self.peek() == Some('}') => {
                    self.bump();
                    value.push_str("{}");
                    if !text.is_empty() {
                        format.push(FmtPiece::Text(std::mem::take(&mut text)));
                    }
                    format.push(FmtPiece::Placeholder);
                }
                Some(c) => {
                    value.push(c);
                    text.push(c);
                }
            }
        }
        if !text.is_empty() {
            format.push(FmtPiece::Text(text));
        }
        Ok(Arg::Str { value, format })
    }

    /// A path runs until a `,` or `)` outside brackets, parentheses and quotes.
    fn path(&mut self) -> Result<Arg, DefinitionError> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match quote {
                Some(q) => {
                    if c == '\\' {
                        self.bump();
                    } else if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '\'' | '"' => quote = Some(c),
                    '[' | '(' => depth += 1,
                    ']' | ')' if depth > 0 => depth -= 1,
                    ',' | ')' => break,
                    _ => {}
                },
            }
            self.bump();
        }
        let text = self.src[start..self.pos].trim_end();
        JsonPath::parse(text)
            .map(Arg::Path)
            .map_err(|e| self.err(&e.message))
    }

    fn number(&mut self) -> Result<Arg, DefinitionError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.bump();
        }
        let text = &self.src[start..self.pos];
        serde_json::from_str::<Number>(text.strip_prefix('+').unwrap_or(text))
            .map(|n| Arg::Literal(Value::Number(n)))
            .map_err(|_| self.err(&format!("invalid number '{text}'")))
    }
}

fn arity_text(min: usize, max: usize) -> String {
    if min == max {
        format!("exactly {min}")
    } else if max == usize::MAX {
        format!("at least {min}")
    } else {
        format!("{min} to {max}")
    }
}

/// Kind of a literal argument for definition-time checks.
fn literal_kind(arg: &Arg) -> Option<&'static str> {
    match arg {
        Arg::Str { .. } => Some("string"),
        Arg::Literal(Value::Number(_)) => Some("number"),
        Arg::Literal(Value::Bool(_)) => Some("boolean"),
        Arg::Literal(Value::Null) => Some("null"),
        _ => None,
    }
}

/// Rejects literal arguments that can never be right (paths and calls are checked at run time).
fn check_literal_types(func: Function, args: &[Arg]) -> Result<(), String> {
    use Function as F;
    let want: &[&str] = match func {
        F::Format => &["string"],
        F::StringToJson | F::Base64Encode | F::Base64Decode => &["string"],
        F::ArrayPartition | F::ArrayGetItem | F::ArrayLength | F::ArrayUnique => &["array"],
        F::ArrayContains => &["array"],
        F::ArrayRange => &["number", "number", "number"],
        F::Hash => &["any", "string"],
        F::JsonMerge => &["object", "object", "boolean"],
        F::MathRandom | F::MathAdd => &["number", "number", "number"],
        F::StringSplit => &["string", "string"],
        F::JsonToString | F::Array | F::Uuid => &[],
    };
    for (i, (arg, want)) in args.iter().zip(want).enumerate() {
        if let Some(kind) = literal_kind(arg)
            && *want != "any"
            && kind != *want
        {
            return Err(format!(
                "argument {} of {} must be a {want}, found a {kind} literal",
                i + 1,
                func.name()
            ));
        }
    }
    if func == F::ArrayPartition
        && let Some(Arg::Literal(v)) = args.get(1)
    {
        // checked again at run time for path arguments
        if v.as_f64().is_some_and(|n| n <= 0.0) {
            return Err("the chunk size of States.ArrayPartition must be positive".into());
        }
    }
    Ok(())
}
