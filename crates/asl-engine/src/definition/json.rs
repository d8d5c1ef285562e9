//! Reading the definition's JSON text, with AWS's diagnostics for text that is not JSON.
//!
//! AWS parses definitions with Jackson, so a syntax error is reported in Jackson's words,
//! and the diagnostic's `location` is Jackson's source snippet rather than a JSON
//! pointer. Recorded (LocalStack's AWS-validated snapshot `test_sfn_api_validation`,
//! `test_validate_state_machine_definition_not_a_definition[NOT_A_DEF]`), for the text
//! `not a definition`: message `Unrecognized token 'not': was expecting (JSON String,
//! Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)"not
//! a definition"; line: 1, column: 4]`, location `[Source: (String)"not a definition";
//! line: 1, column: 4]`. Jackson reads a bad bare word whole and points after it.
//! Other syntax errors keep serde's wording in the same frame: AWS's texts for them are
//! not recorded.

use serde_json::Value;

use super::Diagnostic;

/// Jackson quotes at most this many characters of the source (its default
/// `ErrorReportConfiguration` length), then says how many it left out.
const MAX_SNIPPET: usize = 500;

/// The definition as JSON, or the one diagnostic AWS gives for text that is not.
pub(super) fn read(text: &str) -> Result<Value, Diagnostic> {
    if text.trim().is_empty() {
        // Recorded for `" "` ([EMPTY_STRING] in the snapshot above), without a location.
        return Err(not_an_object());
    }
    serde_json::from_str(text).map_err(|e| syntax(text, &e))
}

/// `Definition must be a valid JSON object`, with no location.
fn not_an_object() -> Diagnostic {
    Diagnostic {
        location: None,
        ..Diagnostic::error(
            "SCHEMA_VALIDATION_FAILED",
            "Definition must be a valid JSON object",
            "",
        )
    }
}

fn syntax(text: &str, e: &serde_json::Error) -> Diagnostic {
    // serde's line and column (bytes, 1-based) → the character offset of the error.
    let line_start: usize = text
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(str::len)
        .sum();
    let mut at = (line_start + e.column().saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let token_start = text[..at]
        .char_indices()
        .rev()
        .take_while(|(_, c)| ident(*c))
        .last()
        .map_or(at, |(i, _)| i);
    let token: String = text[token_start..]
        .chars()
        .take_while(|c| ident(*c))
        .collect();
    let serde_text = e.to_string();
    let what = serde_text
        .rsplit_once(" at line ")
        .map_or(serde_text.as_str(), |(w, _)| w);
    let unrecognized = !token.is_empty()
        && (what.starts_with("expected value") || what.starts_with("expected ident"));
    let (message, end) = if unrecognized {
        (
            format!(
                "Unrecognized token '{token}': was expecting (JSON String, Number, Array, \
                 Object or token 'null', 'true' or 'false')"
            ),
            token_start + token.len(),
        )
    } else {
        (what.to_owned(), at)
    };
    let line = text[..end].matches('\n').count() + 1;
    let column = text[..end]
        .rsplit('\n')
        .next()
        .map_or(0, |l| l.chars().count())
        + 1;
    let location = format!(
        "[Source: (String){}; line: {line}, column: {column}]",
        snippet(text)
    );
    Diagnostic {
        location: Some(location.clone()),
        ..Diagnostic::error(
            "INVALID_JSON_DESCRIPTION",
            format!("{message}\n at {location}"),
            "",
        )
    }
}

/// `"<text>"`, cut to [`MAX_SNIPPET`] characters as Jackson cuts it.
fn snippet(text: &str) -> String {
    let total = text.chars().count();
    if total <= MAX_SNIPPET {
        return format!("\"{text}\"");
    }
    let kept: String = text.chars().take(MAX_SNIPPET).collect();
    format!("\"{kept}\"[truncated {} chars]", total - MAX_SNIPPET)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS-validated snapshot test_sfn_api_validation, `..._not_a_definition[NOT_A_DEF]`.
    #[test]
    fn a_bare_word_is_an_unrecognized_token_as_jackson_says() {
        let d = read("not a definition").err();
        let location = "[Source: (String)\"not a definition\"; line: 1, column: 4]";
        assert_eq!(
            d,
            Some(Diagnostic {
                severity: super::super::Severity::Error,
                code: "INVALID_JSON_DESCRIPTION",
                message: format!(
                    "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object \
                     or token 'null', 'true' or 'false')\n at {location}"
                ),
                location: Some(location.to_owned()),
            })
        );
    }

    /// `..._not_a_definition[EMPTY_STRING]`: one space.
    #[test]
    fn blank_text_is_not_a_json_object_and_has_no_location() {
        let d = read(" ").err();
        assert_eq!(
            d.as_ref().map(|d| d.message.as_str()),
            Some("Definition must be a valid JSON object")
        );
        assert_eq!(d.and_then(|d| d.location), None);
    }

    #[test]
    fn other_syntax_errors_point_at_the_line_and_column() {
        let d = read("{\n  \"StartAt\": \"A\",\n  \"States\": nope\n}").err();
        let location = d.and_then(|d| d.location).unwrap_or_default();
        assert!(location.ends_with("; line: 3, column: 17]"), "{location}");
    }
}
