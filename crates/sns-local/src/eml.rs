//! RFC 5322 `.eml` files: writing the outbox, and reading it back.
//!
//! Bodies are `text/plain; charset=UTF-8` in quoted-printable (RFC 2045 §6.7)
//! because review emails carry ~1,000-character task tokens on one line, and
//! RFC 5322 §2.1.1 caps lines at 998 characters (78 recommended). Soft line
//! breaks keep every encoded line at ≤ 76 characters; decoders join them, so
//! `Task token: <token>` comes back as one line. Line breaks are CRLF, the
//! canonical form of text (RFC 2046 §4.1.1), so a decoder hands back the body
//! with CRLF line ends; [`read_eml`] gives it back with `\n`.

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chrono::{DateTime, Utc};

/// RFC 2045 §6.7 rule 5: encoded lines are at most 76 characters; the
/// soft-break `=` is one of them.
const QP_MAX_LINE: usize = 76;

/// One email, as the outbox stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Display name of the sender (SNS uses the topic's `DisplayName`, else "AWS Notifications").
    pub from_name: String,
    /// Sender address.
    pub from_address: String,
    /// Recipient address.
    pub to: String,
    /// Subject, any UTF-8; written as RFC 2047 encoded words when not ASCII.
    pub subject: String,
    /// The `Date` header.
    pub date: DateTime<Utc>,
    /// The `Message-ID` header, without angle brackets.
    pub message_id: String,
    /// Extra headers (ASCII names and values), e.g. `X-Amz-Sns-Message-Id`.
    pub extra_headers: Vec<(String, String)>,
    /// The plain-text body; `\n` or `\r\n` line breaks.
    pub body: String,
}

impl Email {
    /// The message as RFC 5322 bytes with CRLF line ends.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.body.len() * 11 / 10 + 512);
        let mut header = |name: &str, value: &str| {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        };
        header("From", &mailbox(&self.from_name, &self.from_address));
        header("To", &one_line(&self.to));
        header("Subject", &encode_header_text(&self.subject));
        header("Date", &self.date.to_rfc2822());
        header("Message-ID", &format!("<{}>", one_line(&self.message_id)));
        for (name, value) in &self.extra_headers {
            header(&one_line(name), &one_line(value));
        }
        header("MIME-Version", "1.0");
        header("Content-Type", "text/plain; charset=UTF-8");
        header("Content-Transfer-Encoding", "quoted-printable");
        out.push_str("\r\n");
        out.push_str(&quoted_printable_encode(&self.body));
        out
    }
}

/// Writes `contents` to `dir/name` atomically: a hidden temp file in the same
/// directory, then a rename, so a reader watching `*.eml` never sees half a file.
pub(crate) async fn write_atomically(
    dir: &Path,
    name: &str,
    contents: &[u8],
) -> io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let final_path = dir.join(name);
    let temp_path = dir.join(format!(".{name}.tmp"));
    let written = match tokio::fs::write(&temp_path, contents).await {
        Ok(()) => tokio::fs::rename(&temp_path, &final_path).await,
        Err(error) => Err(error),
    };
    if let Err(error) = written {
        // Best effort: the write or rename error is the one worth reporting.
        let _ = tokio::fs::remove_file(&temp_path).await;
        return Err(error);
    }
    Ok(final_path)
}

/// The `.eml` files in an outbox, oldest first (names start with the UTC
/// time); a missing outbox is empty. Temp files (`.*.tmp`) are not listed.
pub fn list_outbox(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let is_eml = path.extension().is_some_and(|extension| extension == "eml");
        let hidden = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if is_eml && !hidden {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Header values are one line: a CR or LF would start a new header.
fn one_line(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

/// `Name <address>`, quoting or encoding the display name as RFC 5322/2047 require.
fn mailbox(name: &str, address: &str) -> String {
    let address = one_line(address);
    let name = one_line(name);
    if name.is_empty() {
        return address;
    }
    let is_atext_or_space =
        |c: char| c.is_ascii_alphanumeric() || c == ' ' || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if name.chars().all(is_atext_or_space) {
        format!("{name} <{address}>")
    } else if name.is_ascii() {
        let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{quoted}\" <{address}>")
    } else {
        format!("{} <{address}>", encode_words(&name))
    }
}

/// An unstructured header value: as is when printable ASCII, else RFC 2047 encoded words.
pub(crate) fn encode_header_text(text: &str) -> String {
    let text = one_line(text);
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        text
    } else {
        encode_words(&text)
    }
}

/// RFC 2047 `B` encoded words, split on character boundaries so each word is
/// at most 75 characters (§2) and folded onto continuation lines.
fn encode_words(text: &str) -> String {
    // "=?UTF-8?B?" + "?=" is 12 characters and 42 bytes encode to 56, so a
    // word is 68 characters and "Subject: " plus one word stays within 78.
    const MAX_BYTES: usize = 42;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > MAX_BYTES {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|word| {
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(word)
            )
        })
        .collect::<Vec<_>>()
        // Whitespace between adjacent encoded words is dropped by decoders (§6.2).
        .join("\r\n ")
}

/// Quoted-printable (RFC 2045 §6.7) with CRLF hard line breaks.
///
/// `\n` and `\r\n` are line breaks; everything else survives byte for byte:
/// `=` becomes `=3D`, non-ASCII and control bytes `=XX`, and a space or tab
/// that ends a line `=20`/`=09` (rule 3: transports may strip trailing white
/// space). Lines longer than 76 characters get soft breaks (`=` CRLF) that
/// never split an `=XX` escape.
pub fn quoted_printable_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 11 / 10);
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let is_last = lines.peek().is_none();
        // "\r\n" is a line break; a lone "\r" is data (encoded below).
        let line = if is_last {
            line
        } else {
            line.strip_suffix('\r').unwrap_or(line)
        };
        encode_line(line.as_bytes(), &mut out);
        if !is_last {
            out.push_str("\r\n");
        }
    }
    out
}

fn encode_line(line: &[u8], out: &mut String) {
    let mut width = 0;
    for (index, &byte) in line.iter().enumerate() {
        let at_end = index + 1 == line.len();
        let literal = match byte {
            b'=' => false,
            b' ' | b'\t' => !at_end,
            33..=126 => true,
            _ => false,
        };
        let token_len = if literal { 1 } else { 3 };
        // Room for the token, and for the soft break's "=" unless this token ends the line.
        let needed = if at_end { token_len } else { token_len + 1 };
        if width + needed > QP_MAX_LINE {
            out.push_str("=\r\n");
            width = 0;
        }
        if literal {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("={byte:02X}"));
        }
        width += token_len;
    }
}

/// Decodes quoted-printable; soft breaks are removed and hard breaks become `\n`.
pub fn quoted_printable_decode(encoded: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut lines = encoded.split('\n').peekable();
    while let Some(line) = lines.next() {
        let is_last = lines.peek().is_none();
        let line = line.strip_suffix('\r').unwrap_or(line);
        // Rule 3: trailing white space was added in transport; drop it.
        let line = line.trim_end_matches([' ', '\t']);
        let (line, soft) = match line.strip_suffix('=') {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let escaped = (bytes[i] == b'=')
                .then(|| bytes.get(i + 1..i + 3))
                .flatten()
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok());
            if let Some(value) = escaped {
                out.push(value);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        if !soft && !is_last {
            out.push(b'\n');
        }
    }
    out
}

/// An `.eml` file read back: headers as written (unfolded) and the decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEmail {
    /// Header names and raw values in file order (continuation lines unfolded).
    pub headers: Vec<(String, String)>,
    /// The decoded body with `\n` line breaks.
    pub body: String,
}

impl ParsedEmail {
    /// The first header with this name (case-insensitive), raw.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The subject with RFC 2047 encoded words decoded.
    pub fn subject(&self) -> Option<String> {
        self.header("Subject").map(decode_words)
    }
}

/// Parses an `.eml` file this crate wrote (or any single-part text email in
/// 7bit, 8bit or quoted-printable), so tests and tools need no mail library.
pub fn parse_eml(raw: &str) -> ParsedEmail {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .unwrap_or((raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let mut parsed = ParsedEmail {
        headers,
        body: String::new(),
    };
    let quoted_printable = parsed
        .header("Content-Transfer-Encoding")
        .is_some_and(|cte| cte.eq_ignore_ascii_case("quoted-printable"));
    parsed.body = if quoted_printable {
        String::from_utf8_lossy(&quoted_printable_decode(body)).into_owned()
    } else {
        body.replace("\r\n", "\n")
    };
    parsed
}

/// Reads and parses one `.eml` file.
pub fn read_eml(path: &Path) -> io::Result<ParsedEmail> {
    Ok(parse_eml(&std::fs::read_to_string(path)?))
}

/// Decodes RFC 2047 encoded words (`B` and `Q`, UTF-8 or ASCII); other text is kept.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut previous_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, after) = rest.split_at(start);
        let decoded = parse_word(after);
        match decoded {
            Some((text, consumed)) => {
                // Linear white space between two encoded words is not part of the text.
                if !(previous_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&text);
                rest = &after[consumed..];
                previous_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &after[2..];
                previous_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `=?charset?enc?text?=` at the start of `word`: the decoded text and the bytes consumed.
fn parse_word(word: &str) -> Option<(String, usize)> {
    let inner = word.strip_prefix("=?")?;
    let mut parts = inner.splitn(3, '?');
    let _charset = parts.next()?;
    let encoding = parts.next()?;
    let tail = parts.next()?;
    let end = tail.find("?=")?;
    let text = &tail[..end];
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?,
        "Q" | "q" => quoted_printable_decode(&text.replace('_', " ")),
        _ => return None,
    };
    let consumed = word.len() - tail.len() + end + 2;
    Some((String::from_utf8_lossy(&bytes).into_owned(), consumed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        text.replace("\r\n", "\n")
    }

    fn assert_round_trip(text: &str) {
        let encoded = quoted_printable_encode(text);
        for line in encoded.split("\r\n") {
            assert!(
                line.len() <= QP_MAX_LINE,
                "line of {} chars: {line:?}",
                line.len()
            );
            assert!(
                !line.ends_with([' ', '\t']),
                "trailing white space: {line:?}"
            );
            assert!(
                line.bytes()
                    .all(|b| (33..=126).contains(&b) || b == b' ' || b == b'\t')
            );
        }
        let decoded = String::from_utf8(quoted_printable_decode(&encoded)).expect("utf-8");
        assert_eq!(decoded, canonical(text));
    }

    #[test]
    fn quoted_printable_round_trips_long_lines_equals_trailing_spaces_and_utf8() {
        let token = "AQCEAAAAKgAAAAMAAAAAAAAAAd8mK9=+/".repeat(32);
        assert_round_trip(&format!("Task token: {token}\n\nNext line\n"));
        assert_round_trip("a=b==c =\n=");
        assert_round_trip("trailing space \ntrailing tab\t\n \n\t");
        assert_round_trip("Grüße, 審査 ✉ — ok\nnaïve café");
        assert_round_trip(&"é".repeat(100));
        assert_round_trip("crlf\r\nline\r\nlone\rcr");
        assert_round_trip("");
        assert_round_trip("\n\n");
        assert_round_trip(&"x".repeat(75));
        assert_round_trip(&"x".repeat(76));
        assert_round_trip(&"x".repeat(77));
        assert_round_trip(&format!("{}=", "x".repeat(74)));
        assert_round_trip(&format!("{} ", "x".repeat(75)));
    }

    #[test]
    fn quoted_printable_encodes_what_the_rfc_requires() {
        assert_eq!(quoted_printable_encode("a=b"), "a=3Db");
        assert_eq!(quoted_printable_encode("end \nx"), "end=20\r\nx");
        assert_eq!(quoted_printable_encode("mid space"), "mid space");
        assert_eq!(quoted_printable_encode("é"), "=C3=A9");
        assert_eq!(quoted_printable_encode("a\nb\n"), "a\r\nb\r\n");
        let long = quoted_printable_encode(&"y".repeat(100));
        assert_eq!(long, format!("{}=\r\n{}", "y".repeat(75), "y".repeat(25)));
    }

    #[test]
    fn soft_breaks_never_split_an_escape() {
        let encoded = quoted_printable_encode(&format!("{}===", "z".repeat(73)));
        assert_eq!(encoded, format!("{}=\r\n=3D=3D=3D", "z".repeat(73)));
    }

    fn email(subject: &str, body: &str) -> Email {
        Email {
            from_name: "AWS Notifications".into(),
            from_address: "no-reply@sns.amazonaws.com".into(),
            to: "reviewer@example.com".into(),
            subject: subject.into(),
            date: DateTime::parse_from_rfc3339("2026-11-25T12:00:00.123Z")
                .expect("date")
                .with_timezone(&Utc),
            message_id: "abc@sns.local".into(),
            extra_headers: vec![("X-Amz-Sns-Message-Id".into(), "m-1".into())],
            body: body.into(),
        }
    }

    #[test]
    fn renders_rfc5322_headers_and_reads_back() {
        let raw = email("Review requested: run-1", "Hello\nTask token: abc=def\n").render();
        assert!(raw.starts_with(
            "From: AWS Notifications <no-reply@sns.amazonaws.com>\r\n\
             To: reviewer@example.com\r\n\
             Subject: Review requested: run-1\r\n\
             Date: Wed, 25 Nov 2026 12:00:00 +0000\r\n\
             Message-ID: <abc@sns.local>\r\n\
             X-Amz-Sns-Message-Id: m-1\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=UTF-8\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ));
        assert!(
            !raw.replace("\r\n", "").contains('\n'),
            "bare LF in {raw:?}"
        );
        let parsed = parse_eml(&raw);
        assert_eq!(parsed.subject().as_deref(), Some("Review requested: run-1"));
        assert_eq!(parsed.header("to"), Some("reviewer@example.com"));
        assert_eq!(parsed.body, "Hello\nTask token: abc=def\n");
    }

    #[test]
    fn non_ascii_subjects_become_encoded_words() {
        let subject = "Prüfung angefordert: Lauf-1 — bitte bis Freitag prüfen ✉ 审查请求";
        let raw = email(subject, "x").render();
        let header = raw
            .lines()
            .find(|line| line.starts_with("Subject:"))
            .expect("subject");
        assert!(header.starts_with("Subject: =?UTF-8?B?"));
        for line in raw.split("\r\n") {
            assert!(line.len() <= 78, "{line:?}");
        }
        assert_eq!(parse_eml(&raw).subject().as_deref(), Some(subject));
    }

    #[test]
    fn header_injection_is_neutralised() {
        let mut message = email("a\r\nBcc: evil@example.com", "x");
        message.to = "r@example.com\nBcc: evil@example.com".into();
        let raw = message.render();
        assert!(!raw.lines().any(|line| line.starts_with("Bcc:")));
    }

    #[test]
    fn display_names_are_quoted_or_encoded() {
        assert_eq!(mailbox("Review Desk", "a@b"), "Review Desk <a@b>");
        assert_eq!(
            mailbox("Desk, \"HITL\"", "a@b"),
            "\"Desk, \\\"HITL\\\"\" <a@b>"
        );
        assert_eq!(mailbox("Prüfung", "a@b"), "=?UTF-8?B?UHLDvGZ1bmc=?= <a@b>");
        assert_eq!(mailbox("", "a@b"), "a@b");
    }
}
