//! The review link and the answer form: parsing, leniently where mail clients
//! and form encoding damage values, strictly where the contract forbids.
//!
//! The link is `<ApiEndpoint>/review?d=approve|reject&e=<execution ARN>&t=<task token>`,
//! built by the state machine with `States.Format`, which cannot percent-encode:
//! the ARN and the token go into the URL raw. A token is base64-like text with
//! `+`, `/` and `=`; `/` and `=` are legal in a query value, but form decoding
//! (WHATWG `application/x-www-form-urlencoded`, which `form_urlencoded`
//! implements) turns `+` into a space. Neither a task token nor an execution
//! ARN may contain white space (execution names exclude it, see the
//! `StartExecution` API reference), so every space is turned back into `+`.
//! A percent-encoded value (`%2B`, `%2F`, `%3D`, as some clients rewrite
//! links) decodes to the same text.
//!
//! A short link (approval policies, issue 14) is
//! `<ApiEndpoint>/review?d=approve|reject&s=<secret>`, the secret being 43
//! base64url characters (`hitl_domain::policy_flow::short_link`): no
//! character in it needs encoding, so it is read as sent, trimmed of the
//! white space a mail client may add.

use std::fmt;

/// `SendTaskSuccess`'s `taskToken` is 1 to 2048 characters (API reference).
pub const MAX_TOKEN_CHARS: usize = 2048;
/// An execution ARN: `arn:aws:states:` + region + account + `:execution:` +
/// a state machine name (at most 80) + `:` + an execution name (at most 80).
pub const MAX_EXECUTION_ARN_CHARS: usize = 256;
/// The reviewer's name, as the form allows it (`maxlength`).
pub const MAX_REVIEWER_CHARS: usize = 100;
/// The comment, as the form allows it (`maxlength`).
pub const MAX_COMMENT_CHARS: usize = 1000;
/// A query string or form body longer than this is refused before parsing.
/// The largest valid one is about 2048 + 256 + 4 * 1000 (a comment of
/// multi-byte characters, percent-encoded) + field names.
pub const MAX_INPUT_BYTES: usize = 16 * 1024;

/// A short link's secret: 256 bits in base64url without padding.
pub const SECRET_CHARS: usize = 43;

/// What the reviewer chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Approve,
    Reject,
}

impl Choice {
    /// The `result` sent to the state machine.
    pub fn result(self) -> bool {
        matches!(self, Choice::Approve)
    }

    /// The value in links and the form (`d=`).
    pub fn as_param(self) -> &'static str {
        match self {
            Choice::Approve => "approve",
            Choice::Reject => "reject",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "approve" => Some(Choice::Approve),
            "reject" => Some(Choice::Reject),
            _ => None,
        }
    }
}

/// What a review link names: the execution, its task token and the decision
/// the reviewer clicked.
#[derive(Clone, PartialEq, Eq)]
pub struct ReviewLink {
    pub execution_arn: String,
    pub token: String,
    pub choice: Choice,
}

/// Never print the token, not even in a test failure or a debug log.
impl fmt::Debug for ReviewLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReviewLink")
            .field("execution_arn", &self.execution_arn)
            .field("token", &format_args!("<{} chars>", self.token.len()))
            .field("choice", &self.choice)
            .finish()
    }
}

/// What a short link names: a secret that the review table resolves to one
/// reviewer of one review, and the decision the reviewer clicked.
#[derive(Clone, PartialEq, Eq)]
pub struct ShortLink {
    pub secret: String,
    pub choice: Choice,
}

/// A secret is a credential: never printed, not even in a test failure.
impl fmt::Debug for ShortLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShortLink")
            .field("secret", &"<hidden>")
            .field("choice", &self.choice)
            .finish()
    }
}

/// The form the page posts for a short link: the secret and the decision,
/// plus the reviewer's name and comment (empty means not given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortAnswer {
    pub link: ShortLink,
    pub reviewer: Option<String>,
    pub comment: Option<String>,
}

/// The form the page posts: the link's fields, plus the reviewer's name and
/// comment (empty means not given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub link: ReviewLink,
    pub reviewer: Option<String>,
    pub comment: Option<String>,
}

/// Why a link or form was refused. The page says "invalid or damaged link"
/// (or, for a name or comment, what is too long); the variant is logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the {0} parameter is missing")]
    Missing(&'static str),
    #[error("the {0} parameter is too long")]
    TooLong(&'static str),
    #[error("the {0} parameter is not valid")]
    Invalid(&'static str),
    #[error("the request is too large")]
    TooLarge,
}

impl LinkError {
    /// Whether the reviewer typed too much (rather than the link being damaged).
    pub fn is_answer_too_long(&self) -> bool {
        matches!(self, LinkError::TooLong("reviewer" | "comment"))
    }
}

/// Whether a query string or form names a short link's secret (`s=`), which
/// wins over `e=` and `t=`: the page then never takes a token from the request.
pub fn is_short(input: &[u8]) -> bool {
    input.len() <= MAX_INPUT_BYTES && form_urlencoded::parse(input).any(|(key, _)| key == "s")
}

/// Parses a short link's query string.
pub fn parse_short_link(query: &str) -> Result<ShortLink, LinkError> {
    Fields::parse(query.as_bytes())?.short_link()
}

/// Parses the form body the page posts for a short link.
pub fn parse_short_answer(body: &[u8]) -> Result<ShortAnswer, LinkError> {
    let fields = Fields::parse(body)?;
    Ok(ShortAnswer {
        link: fields.short_link()?,
        reviewer: fields.text("reviewer", MAX_REVIEWER_CHARS)?,
        comment: fields.text("comment", MAX_COMMENT_CHARS)?,
    })
}

/// Parses a link's query string (`rawQueryString` of payload format 2.0).
pub fn parse_link(query: &str) -> Result<ReviewLink, LinkError> {
    let fields = Fields::parse(query.as_bytes())?;
    fields.link()
}

/// Parses the form body the page posts (`application/x-www-form-urlencoded`).
pub fn parse_answer(body: &[u8]) -> Result<Answer, LinkError> {
    let fields = Fields::parse(body)?;
    let link = fields.link()?;
    let reviewer = fields.text("reviewer", MAX_REVIEWER_CHARS)?;
    let comment = fields.text("comment", MAX_COMMENT_CHARS)?;
    Ok(Answer {
        link,
        reviewer,
        comment,
    })
}

/// The first value of each field we know; others are ignored.
#[derive(Default)]
struct Fields {
    execution: Option<String>,
    token: Option<String>,
    secret: Option<String>,
    choice: Option<String>,
    reviewer: Option<String>,
    comment: Option<String>,
}

impl Fields {
    fn parse(input: &[u8]) -> Result<Self, LinkError> {
        if input.len() > MAX_INPUT_BYTES {
            return Err(LinkError::TooLarge);
        }
        let mut fields = Fields::default();
        for (key, value) in form_urlencoded::parse(input) {
            let slot = match key.as_ref() {
                "e" => &mut fields.execution,
                "t" => &mut fields.token,
                "s" => &mut fields.secret,
                "d" => &mut fields.choice,
                "reviewer" => &mut fields.reviewer,
                "comment" => &mut fields.comment,
                _ => continue,
            };
            // The first wins: a damaged link that repeats a field is read as sent.
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        Ok(fields)
    }

    fn link(&self) -> Result<ReviewLink, LinkError> {
        let token = restore_plus(self.token.as_deref(), "t")?;
        if token.chars().count() > MAX_TOKEN_CHARS {
            return Err(LinkError::TooLong("t"));
        }
        if !token.chars().all(|c| c.is_ascii_graphic()) {
            return Err(LinkError::Invalid("t"));
        }
        let execution_arn = restore_plus(self.execution.as_deref(), "e")?;
        if execution_arn.chars().count() > MAX_EXECUTION_ARN_CHARS {
            return Err(LinkError::TooLong("e"));
        }
        if !is_execution_arn(&execution_arn) {
            return Err(LinkError::Invalid("e"));
        }
        let choice = self.choice.as_deref().ok_or(LinkError::Missing("d"))?;
        let choice = Choice::parse(choice).ok_or(LinkError::Invalid("d"))?;
        Ok(ReviewLink {
            execution_arn,
            token,
            choice,
        })
    }

    fn short_link(&self) -> Result<ShortLink, LinkError> {
        let secret = self
            .secret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(LinkError::Missing("s"))?;
        let base64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if secret.len() != SECRET_CHARS || !secret.chars().all(base64url) {
            return Err(LinkError::Invalid("s"));
        }
        let choice = self.choice.as_deref().ok_or(LinkError::Missing("d"))?;
        let choice = Choice::parse(choice).ok_or(LinkError::Invalid("d"))?;
        Ok(ShortLink {
            secret: secret.to_owned(),
            choice,
        })
    }

    fn text(&self, name: &'static str, max: usize) -> Result<Option<String>, LinkError> {
        let value = match name {
            "reviewer" => &self.reviewer,
            _ => &self.comment,
        };
        // Browsers send a textarea's line breaks as CRLF (HTML's form
        // submission normalises them); the answer keeps the LF the reviewer
        // typed, and is measured as the form's maxlength measures it.
        let value = value
            .as_deref()
            .map(|v| v.replace("\r\n", "\n").replace('\r', "\n"));
        let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if value.chars().count() > max {
            return Err(LinkError::TooLong(name));
        }
        Ok(Some(value.to_owned()))
    }
}

/// Turns every space (a `+` that form decoding turned into a space) back
/// into `+`, then trims line breaks and tabs a mail client may have added.
/// Spaces are not trimmed: a token may begin or end with `+`.
fn restore_plus(value: Option<&str>, name: &'static str) -> Result<String, LinkError> {
    let value = value.unwrap_or_default().replace(' ', "+");
    let value = value.trim_matches(|c: char| c.is_whitespace());
    if value.is_empty() {
        return Err(LinkError::Missing(name));
    }
    Ok(value.to_owned())
}

/// `arn:PARTITION:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME`, with
/// no control characters. Which state machine it may name is enforced by IAM
/// (the function may read only this stack's executions).
fn is_execution_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() == 8
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "states"
        && parts[5] == "execution"
        && parts[3..5]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && parts[6..8].iter().all(|p| !p.is_empty())
        && !arn.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:HumanReviewStateMachine-AbCdEf123456:refund-1042";
    const TOKEN: &str = "AQCEAAAAKgAAAAMAAAAAAAAAAf+abc/def+ghi==";

    fn query(d: &str, e: &str, t: &str) -> String {
        format!("d={d}&e={e}&t={t}")
    }

    #[test]
    fn a_raw_token_with_plus_slash_and_equals_survives() {
        let link = parse_link(&query("approve", ARN, TOKEN)).unwrap();
        assert_eq!(link.token, TOKEN);
        assert_eq!(link.execution_arn, ARN);
        assert_eq!(link.choice, Choice::Approve);
    }

    #[test]
    fn a_percent_encoded_token_decodes_to_the_same_token() {
        let encoded = TOKEN
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        let link = parse_link(&query("reject", &ARN.replace(':', "%3A"), &encoded)).unwrap();
        assert_eq!(link.token, TOKEN);
        assert_eq!(link.execution_arn, ARN);
        assert_eq!(link.choice, Choice::Reject);
    }

    #[test]
    fn a_token_that_begins_or_ends_with_plus_keeps_it() {
        let link = parse_link(&query("approve", ARN, "+abc+")).unwrap();
        assert_eq!(link.token, "+abc+");
    }

    #[test]
    fn a_plus_in_the_execution_name_survives_too() {
        let arn = format!("{ARN}+retry=2");
        let link = parse_link(&query("approve", &arn, TOKEN)).unwrap();
        assert_eq!(link.execution_arn, arn);
    }

    #[test]
    fn field_order_case_and_surrounding_space_do_not_matter() {
        let link = parse_link(&format!("t={TOKEN}%0D%0A&e={ARN}&d=Approve&utm_source=x")).unwrap();
        assert_eq!(link.token, TOKEN);
        assert_eq!(link.choice, Choice::Approve);
    }

    #[test]
    fn missing_parameters_are_named() {
        assert_eq!(parse_link(""), Err(LinkError::Missing("t")));
        assert_eq!(
            parse_link(&format!("d=approve&t={TOKEN}")),
            Err(LinkError::Missing("e"))
        );
        assert_eq!(
            parse_link(&format!("e={ARN}&t={TOKEN}")),
            Err(LinkError::Missing("d"))
        );
        assert_eq!(
            parse_link(&format!("d=approve&e={ARN}&t=")),
            Err(LinkError::Missing("t"))
        );
    }

    #[test]
    fn oversized_parameters_are_refused() {
        let long_token = "A".repeat(MAX_TOKEN_CHARS + 1);
        assert_eq!(
            parse_link(&query("approve", ARN, &long_token)),
            Err(LinkError::TooLong("t"))
        );
        let token = "A".repeat(MAX_TOKEN_CHARS);
        assert!(parse_link(&query("approve", ARN, &token)).is_ok());
        let long_arn = format!("{ARN}{}", "x".repeat(MAX_EXECUTION_ARN_CHARS));
        assert_eq!(
            parse_link(&query("approve", &long_arn, TOKEN)),
            Err(LinkError::TooLong("e"))
        );
        let huge = "x".repeat(MAX_INPUT_BYTES + 1);
        assert_eq!(parse_link(&huge), Err(LinkError::TooLarge));
    }

    #[test]
    fn damaged_values_are_invalid() {
        assert_eq!(
            parse_link(&query("maybe", ARN, TOKEN)),
            Err(LinkError::Invalid("d"))
        );
        for arn in [
            "refund-1042",
            "arn:aws:states:eu-west-1:123456789012:stateMachine:Sm",
            "arn:aws:sns:eu-west-1:123456789012:execution:Sm:x",
            "arn:aws:states:eu-west-1:123456789012:execution:Sm:",
            "arn:aws:states:eu-west-1:123456789012:execution:Sm:a%0Ab",
        ] {
            assert_eq!(
                parse_link(&query("approve", arn, TOKEN)),
                Err(LinkError::Invalid("e")),
                "{arn}"
            );
        }
        assert_eq!(
            parse_link(&query("approve", ARN, "abc%0Adef")),
            Err(LinkError::Invalid("t"))
        );
        assert_eq!(
            parse_link(&query("approve", ARN, "abc%C3%A9")),
            Err(LinkError::Invalid("t"))
        );
    }

    #[test]
    fn the_form_carries_the_link_and_an_optional_name_and_comment() {
        let body = format!(
            "e={}&t={}&d=reject&reviewer=Bo+Reviewer&comment=Too+late%21%0Asorry",
            ARN.replace(':', "%3A"),
            TOKEN
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        );
        let answer = parse_answer(body.as_bytes()).unwrap();
        assert_eq!(answer.link.token, TOKEN);
        assert_eq!(answer.link.choice, Choice::Reject);
        assert_eq!(answer.reviewer.as_deref(), Some("Bo Reviewer"));
        assert_eq!(answer.comment.as_deref(), Some("Too late!\nsorry"));

        let blank = format!("{}&reviewer=+&comment=", query("approve", ARN, TOKEN));
        let answer = parse_answer(blank.as_bytes()).unwrap();
        assert_eq!((answer.reviewer, answer.comment), (None, None));
    }

    #[test]
    fn a_name_or_comment_over_the_limit_is_refused() {
        let body = format!(
            "{}&comment={}",
            query("approve", ARN, TOKEN),
            "é".repeat(MAX_COMMENT_CHARS + 1)
        );
        let error = parse_answer(body.as_bytes()).unwrap_err();
        assert_eq!(error, LinkError::TooLong("comment"));
        assert!(error.is_answer_too_long());
        let body = format!(
            "{}&comment={}",
            query("approve", ARN, TOKEN),
            "é".repeat(MAX_COMMENT_CHARS)
        );
        assert!(
            parse_answer(body.as_bytes()).is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn a_browsers_crlf_line_breaks_arrive_as_typed_and_count_once() {
        // A textarea's "a\nb" is posted as a%0D%0Ab (HTML form submission).
        let body = format!(
            "{}&comment=first%0D%0Asecond%0Dthird%0D%0A",
            query("approve", ARN, TOKEN)
        );
        let answer = parse_answer(body.as_bytes()).unwrap();
        assert_eq!(answer.comment.as_deref(), Some("first\nsecond\nthird"));
        // A comment at the form's maxlength, counted with one character per
        // line break as the browser counts it, is not too long.
        let lines = "x%0D%0A".repeat(MAX_COMMENT_CHARS / 2 - 1);
        let body = format!("{}&comment={lines}y", query("approve", ARN, TOKEN));
        let answer = parse_answer(body.as_bytes()).unwrap();
        assert_eq!(
            answer.comment.map(|c| c.chars().count()),
            Some(MAX_COMMENT_CHARS - 1)
        );
    }

    const SECRET: &str = "q2Vn0oYH5cB1x_9-Jm3Tt8a7ZkPp4WdLsE6rUyQgNfA";

    #[test]
    fn a_short_link_is_read_by_its_secret_and_wins_over_a_token() {
        let q = format!("d=approve&s={SECRET}%0A");
        assert!(is_short(q.as_bytes()));
        let link = parse_short_link(&q).unwrap();
        assert_eq!(link.secret, SECRET);
        assert_eq!(link.choice, Choice::Approve);
        assert!(is_short(
            format!("{}&s={SECRET}", query("reject", ARN, TOKEN)).as_bytes()
        ));
        assert!(!is_short(query("reject", ARN, TOKEN).as_bytes()));
        let shown = format!("{link:?}");
        assert!(!shown.contains(SECRET), "{shown}");
    }

    #[test]
    fn a_damaged_secret_is_invalid() {
        for secret in [
            &SECRET[..42],
            &format!("{SECRET}A"),
            &SECRET.replace('q', "+"),
        ] {
            assert_eq!(
                parse_short_link(&format!("d=approve&s={secret}")),
                Err(LinkError::Invalid("s")),
                "{secret}"
            );
        }
        assert_eq!(
            parse_short_link("d=approve&s="),
            Err(LinkError::Missing("s"))
        );
        assert_eq!(
            parse_short_link(&format!("s={SECRET}")),
            Err(LinkError::Missing("d"))
        );
    }

    #[test]
    fn the_short_form_carries_the_secret_a_name_and_a_comment() {
        let body = format!("s={SECRET}&d=reject&reviewer=Bo&comment=Too+late");
        let answer = parse_short_answer(body.as_bytes()).unwrap();
        assert_eq!(answer.link.secret, SECRET);
        assert_eq!(answer.link.choice, Choice::Reject);
        assert_eq!(answer.reviewer.as_deref(), Some("Bo"));
        assert_eq!(answer.comment.as_deref(), Some("Too late"));
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let link = parse_link(&query("approve", ARN, TOKEN)).unwrap();
        let shown = format!("{link:?}");
        assert!(!shown.contains("abc/def"), "{shown}");
        assert!(shown.contains("refund-1042"));
    }
}
