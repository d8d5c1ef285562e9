//! One reviewer's message: short links, the ready-to-paste commands and the
//! `Task token:` line, in the words of today's single-reviewer email.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::notice::{SNS_MAX_MESSAGE_BYTES, SNS_MAX_SUBJECT_CHARS};

/// A whole link is at most this long (issue 14: some mail systems break long URLs).
pub const MAX_LINK_CHARS: usize = 200;

/// Where links point and which region the commands name. Read once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSettings {
    /// The review API's base URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`.
    pub review_api_endpoint: String,
    pub region: String,
}

/// A short link's secret: 256 bits as 43 base64url characters (no padding).
#[derive(Clone, PartialEq, Eq)]
pub struct LinkSecret(String);

impl std::fmt::Debug for LinkSecret {
    /// A secret is a credential: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSecret(..)")
    }
}

impl LinkSecret {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The text in the link's `s=`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the store keeps instead of the secret.
    pub fn hash(&self) -> String {
        link_hash(&self.0)
    }
}

/// `base64url(SHA-256(secret))` of the secret as it appears in the link: the
/// link item's key. The page hashes `s=` with this to find the link.
pub fn link_hash(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

/// `<endpoint>/review?d=approve|reject&s=<secret>`.
pub fn short_link(endpoint: &str, decision: &str, secret: &LinkSecret) -> String {
    format!(
        "{}/review?d={decision}&s={}",
        endpoint.trim_end_matches('/'),
        secret.as_str()
    )
}

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// The first request to a reviewer.
    Ask,
    /// Reminder `round` of `of`.
    Reminder { round: u32, of: u32 },
    /// The request to the escalation address, whose answer decides alone.
    Escalation,
}

/// What goes into one message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MessageParts<'a> {
    pub(crate) occasion: Occasion,
    pub(crate) execution_name: &'a str,
    pub(crate) execution_arn: &'a str,
    pub(crate) request: &'a Value,
    pub(crate) opened_at: DateTime<Utc>,
    pub(crate) deadline: DateTime<Utc>,
    /// What an expiry decides: `rejected` or `approved`.
    pub(crate) on_timeout: &'a str,
    pub(crate) approve_link: &'a str,
    pub(crate) reject_link: &'a str,
    pub(crate) token: &'a str,
    pub(crate) region: &'a str,
}

pub(crate) fn subject(occasion: Occasion, execution_name: &str) -> String {
    let prefix = match occasion {
        Occasion::Ask => "Review requested".to_owned(),
        Occasion::Reminder { round, of } => format!("Reminder {round} of {of}: review requested"),
        Occasion::Escalation => "Escalated review requested".to_owned(),
    };
    // SNS: ASCII, no line breaks, under 100 characters (Publish API reference).
    format!("{prefix}: {execution_name}")
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .take(SNS_MAX_SUBJECT_CHARS)
        .collect()
}

pub(crate) fn body(parts: &MessageParts<'_>) -> String {
    let full = render(parts, &parts.request.to_string());
    if full.len() <= SNS_MAX_MESSAGE_BYTES {
        return full;
    }
    // A request near Step Functions' 256 KiB limit does not fit beside the
    // rest of the message; the reviewer reads it from the execution instead.
    let omitted = format!(
        "(omitted: the request is too large for an email; read it from the input of execution {})",
        parts.execution_arn
    );
    render(parts, &omitted)
}

fn render(parts: &MessageParts<'_>, request: &str) -> String {
    let intro = match parts.occasion {
        Occasion::Ask => "A request is waiting for your review.".to_owned(),
        Occasion::Reminder { round, of } => format!(
            "Reminder {round} of {of}: a request is still waiting for your review. \
             The links and commands of earlier emails still work."
        ),
        Occasion::Escalation => "A request was escalated to you: nobody decided it in time. \
             Your answer decides it on its own."
            .to_owned(),
    };
    // Today's single-reviewer wording, with the deadline as a time: a
    // reminder is sent later, so "N seconds after it was sent" would mislead.
    let sent = parts.opened_at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let deadline = parts.deadline.to_rfc3339_opts(SecondsFormat::Secs, true);
    let (region, token, on_timeout) = (parts.region, parts.token, parts.on_timeout);
    format!(
        "{intro}\n\nExecution: {name}\nSent: {sent}\nExpires: {deadline}. A review nobody decides in time is {on_timeout}.\
         \n\nWhat is being reviewed:\n{request}\
         \n\nAnswer in your browser. Opening a link changes nothing: the page shows the request and asks you to confirm.\
         \n\nApprove:\n{approve}\n\nReject:\n{reject}\
         \n\nOr answer from a terminal: run one of these commands with AWS credentials that may call states:SendTaskSuccess.\
         \n\nApprove:\naws stepfunctions send-task-success --region {region} --task-token {token} --task-output '{{\"result\":true}}'\
         \n\nReject:\naws stepfunctions send-task-success --region {region} --task-token {token} --task-output '{{\"result\":false}}'\
         \n\nYou may add your name and a comment: --task-output '{{\"result\":false,\"reviewer\":\"Your Name\",\"comment\":\"Why\"}}'\
         \n\nTask token: {token}\n",
        name = parts.execution_name,
        approve = parts.approve_link,
        reject = parts.reject_link,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn a_secret_is_43_url_safe_characters_and_only_its_hash_is_kept() {
        let secret = LinkSecret::from_bytes([0xfb; 32]);
        assert_eq!(secret.as_str().len(), 43);
        assert!(
            secret
                .as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(secret.hash(), link_hash(secret.as_str()));
        assert_eq!(secret.hash().len(), 43);
        assert_ne!(secret.hash(), secret.as_str());
        assert_eq!(format!("{secret:?}"), "LinkSecret(..)");
        // SHA-256("abc"), FIPS 180-2 appendix B.1, in base64url.
        assert_eq!(
            link_hash("abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }

    #[test]
    fn the_body_has_links_commands_and_the_token_line() {
        let request = json!({"order": 7});
        let deadline = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let parts = MessageParts {
            occasion: Occasion::Reminder { round: 1, of: 2 },
            execution_name: "run-1",
            execution_arn: "arn:x",
            request: &request,
            opened_at: deadline - chrono::Duration::days(3),
            deadline,
            on_timeout: "rejected",
            approve_link: "https://x/review?d=approve&s=A",
            reject_link: "https://x/review?d=reject&s=R",
            token: "TOKEN+/=",
            region: "eu-west-1",
        };
        let text = body(&parts);
        assert!(text.starts_with("Reminder 1 of 2: "), "{text}");
        assert!(text.contains("{\"order\":7}"));
        assert!(text.contains(
            "Execution: run-1\nSent: 2026-11-25T12:00:00.000Z\nExpires: 2026-11-28T12:00:00Z. A review nobody decides in time is rejected.\n"
        ), "{text}");
        assert!(text.contains(
            "aws stepfunctions send-task-success --region eu-west-1 --task-token TOKEN+/= --task-output '{\"result\":true}'"
        ));
        assert!(text.ends_with("\n\nTask token: TOKEN+/=\n"));
        assert_eq!(
            subject(Occasion::Reminder { round: 1, of: 2 }, "run-1"),
            "Reminder 1 of 2: review requested: run-1"
        );
        assert_eq!(subject(Occasion::Ask, "rün"), "Review requested: r?n");
    }

    #[test]
    fn a_request_too_large_for_sns_is_replaced_by_a_pointer() {
        let request = json!({"blob": "x".repeat(SNS_MAX_MESSAGE_BYTES)});
        let parts = MessageParts {
            occasion: Occasion::Ask,
            execution_name: "run-1",
            execution_arn: "arn:aws:states:eu-west-1:1:execution:sm:run-1",
            request: &request,
            opened_at: Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(),
            deadline: Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap(),
            on_timeout: "approved",
            approve_link: "a",
            reject_link: "r",
            token: "T",
            region: "eu-west-1",
        };
        let text = body(&parts);
        assert!(text.len() <= SNS_MAX_MESSAGE_BYTES);
        assert!(text.contains("input of execution arn:aws:states:eu-west-1:1:execution:sm:run-1"));
        assert!(text.contains("Task token: T\n"));
    }
}
