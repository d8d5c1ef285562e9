//! The email outbox of local SNS, and the review request read from an email.

use std::path::PathBuf;

use sns_local::ParsedEmail;

use crate::{TIMEOUT, poll};

/// The email outbox of local SNS.
pub struct Outbox(pub(crate) PathBuf);

impl Outbox {
    /// Every email with this exact subject, oldest first.
    pub fn with_subject(&self, subject: &str) -> Vec<ParsedEmail> {
        sns_local::list_outbox(&self.0)
            .expect("the outbox is readable")
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            // Headers first: decoding every body on every poll is slow with large requests.
            .filter(|raw| subject_of(raw).as_deref() == Some(subject))
            .map(|raw| sns_local::parse_eml(&raw))
            .collect()
    }

    /// Waits for the email with this subject.
    pub fn wait_for(&self, subject: &str) -> ParsedEmail {
        poll(
            &format!("an email with subject {subject:?}"),
            TIMEOUT,
            || self.with_subject(subject).into_iter().next(),
            || format!("subjects in the outbox: {:?}", self.subjects()),
        )
    }

    fn subjects(&self) -> Vec<String> {
        sns_local::list_outbox(&self.0)
            .unwrap_or_default()
            .iter()
            .filter_map(|path| subject_of(&std::fs::read_to_string(path).ok()?))
            .collect()
    }

    /// Every email to `to` whose subject starts with `prefix`, oldest first.
    pub fn to(&self, to: &str, prefix: &str) -> Vec<ParsedEmail> {
        sns_local::list_outbox(&self.0)
            .expect("the outbox is readable")
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .filter(|raw| subject_of(raw).is_some_and(|s| s.starts_with(prefix)))
            .map(|raw| sns_local::parse_eml(&raw))
            .filter(|email| email.header("To") == Some(to))
            .collect()
    }

    /// Waits for the review request of an execution to one reviewer.
    pub fn review_email_to(&self, execution_name: &str, to: &str) -> ReviewEmail {
        let subject = format!("Review requested: {execution_name}");
        ReviewEmail::read(poll(
            &format!("{subject:?} to {to}"),
            TIMEOUT,
            || {
                self.to(to, &subject)
                    .into_iter()
                    .find(|email| email.subject().as_deref() == Some(subject.as_str()))
            },
            || format!("subjects in the outbox: {:?}", self.subjects()),
        ))
    }

    /// Waits for the review request of an execution.
    pub fn review_email(&self, execution_name: &str) -> ReviewEmail {
        ReviewEmail::read(self.wait_for(&format!("Review requested: {execution_name}")))
    }
}

/// The decoded subject of a raw email, read from its headers only.
fn subject_of(raw: &str) -> Option<String> {
    let head = raw.split_once("\r\n\r\n").map_or(raw, |(head, _)| head);
    sns_local::parse_eml(head).subject()
}

/// A review request email, with the parts a reviewer uses.
#[derive(Debug)]
pub struct ReviewEmail {
    pub email: ParsedEmail,
    /// The text after `Task token: `.
    pub token: String,
    /// The command line after `Approve:`.
    pub approve_command: String,
    /// The command line after `Reject:`.
    pub reject_command: String,
    /// The link line after `Approve:`.
    pub approve_link: String,
    /// The link line after `Reject:`.
    pub reject_link: String,
}

impl ReviewEmail {
    pub fn read(email: ParsedEmail) -> Self {
        let lines: Vec<&str> = email.body.lines().collect();
        // Each label comes twice: before the link and before the command.
        let after = |label: &str, starts: &str| {
            lines
                .windows(2)
                .find(|pair| pair[0] == label && pair[1].starts_with(starts))
                .map(|pair| pair[1].to_owned())
                .unwrap_or_else(|| panic!("no {starts:?} line after {label:?} in:\n{}", email.body))
        };
        let token = lines
            .iter()
            .find_map(|line| line.strip_prefix("Task token: "))
            .unwrap_or_else(|| panic!("no 'Task token: ' line in:\n{}", email.body))
            .to_owned();
        Self {
            approve_command: after("Approve:", "aws "),
            reject_command: after("Reject:", "aws "),
            approve_link: after("Approve:", "http"),
            reject_link: after("Reject:", "http"),
            token,
            email,
        }
    }

    pub fn body(&self) -> &str {
        &self.email.body
    }
}
