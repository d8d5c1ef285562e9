//! The HTML pages: the review form and one page per [`Outcome`].
//!
//! No script at all, one inline style block allowed by its hash, every shown
//! value escaped with [`escape`]. The headers ([`HEADERS`]) keep the page out
//! of caches (it holds a task token or a link secret), out of `Referer`
//! headers, and out of frames.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use hitl_domain::policy_flow::Role;

use crate::link::{Choice, MAX_COMMENT_CHARS, MAX_REVIEWER_CHARS, ReviewLink, ShortLink};
use crate::review::{Decided, OpenReview, Outcome};
use crate::short::ShortReview;

/// The page's only style. Changing it changes [`STYLE_HASH`]; a unit test
/// checks that they match.
pub const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f6f6}main{max-width:40rem;margin:2rem auto;padding:1.5rem;background:#fff;border:1px solid #ccc;border-radius:8px}h1{font-size:1.4rem;margin-top:0}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere;white-space:pre-wrap}fieldset{border:1px solid #ccc;border-radius:6px;margin:1rem 0}legend{font-weight:600;padding:0 .25rem}fieldset label{display:flex;align-items:center;gap:.5rem;margin:.25rem 0}input[type=radio]{width:1.1rem;height:1.1rem;margin:0;accent-color:#0b5cad}label{display:block;margin:.5rem 0 .25rem}input[type=text],textarea{width:100%;box-sizing:border-box;font:inherit;padding:.4rem}button{font:inherit;font-weight:600;padding:.6rem 1.2rem;margin-top:1rem;border:0;border-radius:6px;background:#0b5cad;color:#fff;cursor:pointer}button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #f5a623;outline-offset:2px}.note{color:#555;font-size:.9rem}";

/// `'sha256-<base64 of SHA-256 of STYLE>'` for the CSP's `style-src` (CSP
/// Level 2 hash sources). A macro so that [`CSP`] can `concat!` it.
macro_rules! style_hash {
    () => {
        "'sha256-bRTSCN1Kv10Bx2ag1hwP2jV6o1U7wJ2ozKf6R1FnFpY='"
    };
}
pub const STYLE_HASH: &str = style_hash!();

/// The response headers of every page.
pub const HEADERS: [(&str, &str); 7] = [
    ("content-type", "text/html; charset=utf-8"),
    // The form page holds a task token or a short link's secret: no browser
    // or proxy may keep it.
    ("cache-control", "no-store"),
    // Links on the page (there are none) and the form post send no Referer,
    // which would carry the token in the URL.
    ("referrer-policy", "no-referrer"),
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("x-robots-tag", "noindex, nofollow"),
];

/// No script, no images, no fetches; the style block by hash; the form may
/// post only to this origin; no framing; no `<base>`.
pub const CSP: &str = concat!(
    "default-src 'none'; style-src ",
    style_hash!(),
    "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
);

/// At most this many fields of the request are shown, each at most
/// [`MAX_VALUE_CHARS`]; the rest is summarised.
const MAX_FIELDS: usize = 30;
const MAX_VALUE_CHARS: usize = 500;

/// A page and its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub status: u16,
    pub html: String,
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The review form: what is being reviewed, the clicked decision selected,
/// an optional name and comment, one button. It posts the execution, token
/// and decision back to the same path.
pub fn form(review: &OpenReview, link: &ReviewLink) -> Page {
    let hidden = [
        ("e", link.execution_arn.as_str()),
        ("t", link.token.as_str()),
    ];
    form_page(
        review,
        link.choice,
        &hidden,
        "",
        "a review nobody answers in time is rejected",
        "Your decision is final: the first answer decides the review.",
    )
}

/// A short link's form: as [`form`], plus whom the link is for and the
/// votes so far; it posts the secret (never a token) and the decision.
pub fn short_form(review: &ShortReview, link: &ShortLink) -> Page {
    let mut about = String::from(
        "<dl>
",
    );
    let whom = match review.role {
        Role::Reviewer => review.reviewer.clone(),
        Role::Escalation => format!(
            "{} (escalation: your answer decides the review)",
            review.reviewer
        ),
    };
    push_field(&mut about, "For", &whom);
    push_field(&mut about, "Votes so far", &votes_line(review));
    about.push_str("</dl>\n");
    let deadline = format!(
        "if the review is not decided by then, it is {}",
        review.on_timeout.as_str()
    );
    form_page(
        &review.open,
        link.choice,
        &[("s", link.secret.as_str())],
        &about,
        &deadline,
        "Your vote is final and counts once. The review is decided by its approval policy: enough approvals, or one rejection.",
    )
}

/// `1 of 2 approvals: a@example.com approved`.
fn votes_line(review: &ShortReview) -> String {
    let mut line = format!("{} of {} approvals", review.approvals, review.required);
    if review.votes.is_empty() {
        line.push_str(": no votes yet");
        return line;
    }
    let votes: Vec<String> = review
        .votes
        .iter()
        .map(|vote| {
            let verb = if vote.result { "approved" } else { "rejected" };
            let role = if vote.escalation { " (escalation)" } else { "" };
            format!("{}{role} {verb}", vote.reviewer)
        })
        .collect();
    line.push_str(": ");
    line.push_str(&votes.join(", "));
    line
}

fn form_page(
    review: &OpenReview,
    choice: Choice,
    hidden: &[(&str, &str)],
    about: &str,
    after_deadline: &str,
    note: &str,
) -> Page {
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>Review request: {}</h1>\n",
        escape(&review.execution_name)
    ));
    body.push_str("<p>Check the request, choose, and send your decision. Opening this page changed nothing.</p>\n");
    body.push_str("<dl>\n");
    push_field(&mut body, "Execution", &review.execution_name);
    push_field(&mut body, "Sent", &time(review.sent));
    if let Some(deadline) = review.deadline {
        push_field(
            &mut body,
            "Answer by",
            &format!("{} ({after_deadline})", time(deadline)),
        );
    }
    body.push_str("</dl>\n");
    body.push_str(about);
    body.push_str("<h2>What is being reviewed</h2>\n");
    body.push_str(&request_summary(review.request.as_ref()));
    let checked = |option: Choice| if option == choice { " checked" } else { "" };
    body.push_str("<form method=\"post\" action=\"review\">\n");
    for (name, value) in hidden {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(name),
            escape(value)
        ));
    }
    body.push_str(&format!(
        concat!(
            "<fieldset>\n<legend>Your decision</legend>\n",
            "<label><input type=\"radio\" name=\"d\" value=\"approve\" required{approve}> Approve</label>\n",
            "<label><input type=\"radio\" name=\"d\" value=\"reject\"{reject}> Reject</label>\n",
            "</fieldset>\n",
            "<label for=\"reviewer\">Your name (optional)</label>\n",
            "<input type=\"text\" id=\"reviewer\" name=\"reviewer\" maxlength=\"{max_reviewer}\" autocomplete=\"name\">\n",
            "<label for=\"comment\">Comment (optional)</label>\n",
            "<textarea id=\"comment\" name=\"comment\" rows=\"4\" maxlength=\"{max_comment}\"></textarea>\n",
            "<button type=\"submit\">Send my decision</button>\n",
            "</form>\n",
            "<p class=\"note\">{note}</p>\n",
        ),
        approve = checked(Choice::Approve),
        reject = checked(Choice::Reject),
        max_reviewer = MAX_REVIEWER_CHARS,
        max_comment = MAX_COMMENT_CHARS,
        note = escape(note),
    ));
    Page {
        status: 200,
        html: document(&format!("Review {}", review.execution_name), &body),
    }
}

/// The page for an outcome, in plain words. Never shows error text.
pub fn outcome(outcome: &Outcome) -> Page {
    let owned: String;
    let (status, title, text): (u16, &str, &str) = match outcome {
        Outcome::Done(Decided::Approved) => (
            200,
            "Approved",
            "Thank you. You approved the request; the workflow carries on with the approval.",
        ),
        Outcome::Done(_) => (
            200,
            "Rejected",
            "Thank you. You rejected the request; the workflow carries on with the rejection.",
        ),
        Outcome::AlreadyDecided(Decided::Approved) => (
            409,
            "Already approved",
            "This request was already approved (already decided: approved). Your answer was not needed, and nothing changed.",
        ),
        Outcome::AlreadyDecided(Decided::Rejected) => (
            409,
            "Already rejected",
            "This request was already rejected (already decided: rejected). Your answer was not needed, and nothing changed.",
        ),
        Outcome::AlreadyDecided(Decided::Other) => (
            409,
            "Already answered",
            "Someone already answered this request. Nothing changed.",
        ),
        Outcome::Expired => (
            410,
            "Review expired",
            "Nobody answered in time, so the request was rejected. Ask the requester to start a new review if it is still needed.",
        ),
        Outcome::Stopped => (
            410,
            "Review closed",
            "This review was stopped before anyone answered. Nothing changed.",
        ),
        Outcome::InvalidLink => (
            400,
            "Invalid or damaged link",
            "This link is not valid. It may have been cut or changed by your mail program. Open the link from the email again, or copy it whole into the address bar. Nothing changed.",
        ),
        Outcome::AnswerTooLong => (
            400,
            "Answer too long",
            "Your name or comment is longer than the form allows. Go back, shorten it, and send again. Nothing changed.",
        ),
        Outcome::ServiceError => (
            503,
            "Try again later",
            "The review service could not be reached. Your answer was not recorded. Go back and send it again in a minute.",
        ),
        // A broken IAM policy (AccessDeniedException): the link may be fine,
        // and trying again will not help until the stack is fixed.
        Outcome::Misconfigured => (
            500,
            "Server problem",
            "The review page is not set up correctly, so it could not read or record this review. This is a problem on our side, not with your link. Your answer was not recorded. Tell the team that runs the review workflow, and use the link again once they have fixed it.",
        ),
        Outcome::Voted(Decided::Rejected) => (
            200,
            "Rejected",
            "Thank you. You rejected the request, and your vote is counted. One rejection decides the review.",
        ),
        Outcome::Voted(_) => (
            200,
            "Approved",
            "Thank you. You approved the request, and your vote is counted. The review is approved once enough reviewers have approved.",
        ),
        Outcome::AlreadyVoted { vote, at, review } => {
            let voted = format!(
                "You have already voted: you {} at {}. A vote counts once, and nothing changed.",
                decided_word(*vote),
                shown_time(at)
            );
            match review {
                // The decision heads the page, as for any late answer.
                Some(Decided::Approved) => {
                    owned = format!(
                        "This request was already approved (already decided: approved). {voted}"
                    );
                    (409, "Already approved", &owned)
                }
                Some(Decided::Rejected) => {
                    owned = format!(
                        "This request was already rejected (already decided: rejected). {voted}"
                    );
                    (409, "Already rejected", &owned)
                }
                Some(Decided::Other) | None => {
                    owned = voted;
                    (409, "You have already voted", &owned)
                }
            }
        }
        Outcome::ExpiredAs(decided) => {
            owned = format!(
                "Nobody decided this request in time, so it was {} as the review's policy says. Nothing changed.",
                decided_word(*decided)
            );
            (410, "Review expired", &owned)
        }
        Outcome::WaitClosed => (
            409,
            "Already answered",
            "This link's review step is already closed: your answer was already received, or the review was decided. Nothing changed.",
        ),
        Outcome::UnknownLink => (
            404,
            "Link not valid or expired",
            "This link is not valid, or it has expired. Nothing changed. If you still need to review the request, ask for a new review email.",
        ),
        Outcome::StoreFailed => (
            500,
            "Server problem",
            "The review page could not read this review. This is a problem on our side, not with your link. Your answer was not recorded. Try again in a few minutes; if it keeps happening, tell the team that runs the review workflow.",
        ),
        Outcome::NotConfigured { variable } => {
            owned = format!(
                "The review page is not set up for this kind of link: {variable} is not set. This is a problem on our side, not with your link. Your answer was not recorded. Tell the team that runs the review workflow (deploying with template.yaml sets it)."
            );
            (500, "Server problem", &owned)
        }
    };
    let body = format!("<h1>{}</h1>\n<p>{}</p>\n", escape(title), escape(text));
    Page {
        status,
        html: document(title, &body),
    }
}

fn decided_word(decided: Decided) -> &'static str {
    match decided {
        Decided::Approved => "approved",
        Decided::Rejected => "rejected",
        Decided::Other => "answered",
    }
}

/// An RFC 3339 time as the page shows times; as given if it does not parse.
fn shown_time(at: &str) -> String {
    DateTime::parse_from_rfc3339(at)
        .map(|t| time(t.with_timezone(&Utc)))
        .unwrap_or_else(|_| at.to_owned())
}

/// The page for a path or method this function does not serve.
pub fn not_found() -> Page {
    let body = "<h1>Page not found</h1>\n<p>Open the review link from the email.</p>\n";
    Page {
        status: 404,
        html: document("Page not found", body),
    }
}

fn document(title: &str, body: &str) -> String {
    format!(
        concat!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n",
            "<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<meta name=\"robots\" content=\"noindex, nofollow\">\n",
            "<title>{title}</title>\n<style>{style}</style>\n</head>\n",
            "<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
        ),
        title = escape(title),
        style = STYLE,
        body = body,
    )
}

fn push_field(out: &mut String, name: &str, value: &str) {
    out.push_str(&format!(
        "<dt>{}</dt><dd>{}</dd>\n",
        escape(name),
        escape(value)
    ));
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
        .replace('T', " ")
        .replace('Z', " UTC")
}

/// The request, readably: an object as a list of its fields (strings shown
/// as text, other values as compact JSON), anything else as compact JSON.
fn request_summary(request: Option<&Value>) -> String {
    let Some(request) = request else {
        return "<p>The request could not be read. Check it in the Step Functions console before you decide.</p>\n".to_owned();
    };
    let Some(fields) = request.as_object() else {
        return format!(
            "<dl>\n<dt>Request</dt><dd>{}</dd>\n</dl>\n",
            escape(&shown(request))
        );
    };
    if fields.is_empty() {
        return "<p>The request is empty.</p>\n".to_owned();
    }
    let mut out = String::from("<dl>\n");
    for (key, value) in fields.iter().take(MAX_FIELDS) {
        push_field(&mut out, key, &shown(value));
    }
    out.push_str("</dl>\n");
    if fields.len() > MAX_FIELDS {
        out.push_str(&format!(
            "<p class=\"note\">{} more fields are not shown; see the execution input in the Step Functions console.</p>\n",
            fields.len() - MAX_FIELDS
        ));
    }
    out
}

fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > MAX_VALUE_CHARS {
        let cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
        format!("{cut}… (shortened)")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use serde_json::json;
    use sha2::{Digest, Sha256};

    use super::*;

    const HOSTILE: &str = r#"<script>alert("x")</script>' onmouseover='x' &amp;"#;

    fn review(request: Value) -> OpenReview {
        OpenReview {
            execution_arn: "arn:aws:states:eu-west-1:123456789012:execution:Sm:refund-1042"
                .to_owned(),
            execution_name: "refund-1042".to_owned(),
            request: Some(request),
            sent: "2026-11-25T12:00:00Z".parse().unwrap(),
            deadline: Some("2026-11-28T12:00:00Z".parse().unwrap()),
        }
    }

    fn link(choice: Choice) -> ReviewLink {
        ReviewLink {
            execution_arn: "arn:aws:states:eu-west-1:123456789012:execution:Sm:refund-1042"
                .to_owned(),
            token: "AQCE+abc/def==".to_owned(),
            choice,
        }
    }

    #[test]
    fn the_style_hash_in_the_csp_is_the_hash_of_the_style() {
        let digest = Sha256::digest(STYLE.as_bytes());
        let hash = format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        );
        assert_eq!(STYLE_HASH, hash);
        assert!(CSP.contains(&format!("style-src {hash};")), "{CSP}");
    }

    #[test]
    fn the_csp_allows_no_script_and_posts_only_to_this_origin() {
        assert!(CSP.starts_with("default-src 'none';"));
        assert!(!CSP.contains("script-src"));
        assert!(!CSP.contains("unsafe"));
        assert!(CSP.contains("form-action 'self'"));
        assert!(CSP.contains("frame-ancestors 'none'"));
        let page = form(&review(json!({"title": "x"})), &link(Choice::Approve));
        assert!(!page.html.contains("<script"));
        let handlers = page
            .html
            .match_indices(" on")
            .filter(|(at, _)| {
                let rest = &page.html[at + 3..];
                let name_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
                name_len > 0 && rest[name_len..].starts_with('=')
            })
            .count();
        assert_eq!(handlers, 0, "no event handler attributes");
    }

    #[test]
    fn escape_covers_the_five_html_specials() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_form_shows_the_request_and_preselects_the_clicked_decision() {
        let request = json!({"title": "Refund order 1042", "amount": 129.9, "tags": ["a", "b"]});
        let page = form(&review(request), &link(Choice::Reject));
        assert_eq!(page.status, 200);
        let html = &page.html;
        assert!(html.contains("<dt>title</dt><dd>Refund order 1042</dd>"));
        assert!(html.contains("<dt>amount</dt><dd>129.9</dd>"));
        assert!(html.contains("<dt>tags</dt><dd>[&quot;a&quot;,&quot;b&quot;]</dd>"));
        assert!(html.contains("<dt>Sent</dt><dd>2026-11-25 12:00:00 UTC</dd>"));
        assert!(
            html.contains("2026-11-28 12:00:00 UTC (a review nobody answers in time is rejected)")
        );
        assert!(html.contains(r#"value="reject" checked>"#));
        assert!(html.contains(r#"value="approve" required>"#));
        assert!(html.contains(r#"<input type="hidden" name="t" value="AQCE+abc/def==">"#));
        assert!(html.contains(r#"<form method="post" action="review">"#));
        assert_eq!(html.matches("<button").count(), 1);
        assert!(html.contains(r#"<label for="comment">"#), "labelled fields");
        assert!(html.contains(r#"<html lang="en">"#));
    }

    #[test]
    fn hostile_request_values_keys_and_names_are_escaped() {
        let request = json!({ HOSTILE: HOSTILE, "nested": {"k": HOSTILE} });
        let mut open = review(request);
        open.execution_name = HOSTILE.to_owned();
        let mut link = link(Choice::Approve);
        link.token = format!("\"><script>{HOSTILE}");
        link.execution_arn = HOSTILE.to_owned();
        let html = form(&open, &link).html;
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("' onmouseover"), "{html}");
        assert!(!html.contains("\"x\""), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &amp;amp;"));
    }

    #[test]
    fn a_long_request_is_shortened_and_a_non_object_shown_as_json() {
        let mut big = serde_json::Map::new();
        for i in 0..(MAX_FIELDS + 5) {
            big.insert(format!("k{i:02}"), json!("v".repeat(MAX_VALUE_CHARS + 10)));
        }
        let html = form(&review(Value::Object(big)), &link(Choice::Approve)).html;
        assert_eq!(html.matches("(shortened)").count(), MAX_FIELDS);
        assert!(html.contains("5 more fields are not shown"));
        let html = form(&review(json!([1, "two"])), &link(Choice::Approve)).html;
        assert!(html.contains("<dt>Request</dt><dd>[1,&quot;two&quot;]</dd>"));
        let mut unreadable = review(json!(null));
        unreadable.request = None;
        let html = form(&unreadable, &link(Choice::Approve)).html;
        assert!(html.contains("could not be read"));
    }

    #[test]
    fn every_outcome_has_its_own_plain_page() {
        let cases = [
            (Outcome::Done(Decided::Approved), 200, "You approved"),
            (Outcome::Done(Decided::Rejected), 200, "You rejected"),
            (
                Outcome::AlreadyDecided(Decided::Approved),
                409,
                "already approved",
            ),
            (
                Outcome::AlreadyDecided(Decided::Rejected),
                409,
                "already rejected",
            ),
            (
                Outcome::AlreadyDecided(Decided::Other),
                409,
                "already answered",
            ),
            (Outcome::Expired, 410, "Nobody answered in time"),
            (Outcome::Stopped, 410, "stopped"),
            (Outcome::InvalidLink, 400, "not valid"),
            (Outcome::AnswerTooLong, 400, "longer than the form allows"),
            (Outcome::ServiceError, 503, "could not be reached"),
            (Outcome::Misconfigured, 500, "not with your link"),
            (
                Outcome::Voted(Decided::Approved),
                200,
                "once enough reviewers have approved",
            ),
            (
                Outcome::Voted(Decided::Rejected),
                200,
                "One rejection decides",
            ),
            (
                Outcome::AlreadyVoted {
                    vote: Decided::Rejected,
                    at: "2026-11-25T12:00:00.000Z".into(),
                    review: None,
                },
                409,
                "You have already voted: you rejected at 2026-11-25 12:00:00 UTC.",
            ),
            (
                Outcome::AlreadyVoted {
                    vote: Decided::Approved,
                    at: "2026-11-25T12:00:00.000Z".into(),
                    review: Some(Decided::Approved),
                },
                409,
                "already decided: approved). You have already voted: you approved at",
            ),
            (
                Outcome::ExpiredAs(Decided::Approved),
                410,
                "so it was approved as the review",
            ),
            (Outcome::WaitClosed, 409, "already closed"),
            (Outcome::UnknownLink, 404, "not valid, or it has expired"),
            (Outcome::StoreFailed, 500, "could not read this review"),
            (
                Outcome::NotConfigured {
                    variable: "REVIEW_TABLE",
                },
                500,
                "REVIEW_TABLE is not set",
            ),
        ];
        for (case, status, words) in cases {
            let page = outcome(&case);
            assert_eq!(page.status, status, "{case:?}");
            assert!(page.html.contains(words), "{case:?}: {}", page.html);
            assert!(!page.html.contains("<form"), "{case:?}");
        }
        assert_eq!(not_found().status, 404);
    }
}
