//! The tokens of every expression language: words, `#name` and `:value`
//! placeholders, list indexes and punctuation, each with its byte span (the
//! parser quotes spans in its syntax errors).

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) fn tokenize(text: &str) -> Vec<Token> {
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
