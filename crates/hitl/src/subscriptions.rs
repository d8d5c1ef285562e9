//! Who receives review requests: the review topic's email subscriptions held
//! against the reviewers the stack names. Pure, so `hitl check`'s verdicts are
//! tested without SNS.

/// One email subscription of the review topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subscribed {
    /// The address.
    pub(crate) endpoint: String,
    /// SNS still waits for the address to confirm (`PendingConfirmation`).
    pub(crate) pending: bool,
}

/// What `hitl check` says about one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finding {
    /// Confirmed: it receives review requests.
    Receives(String),
    /// Subscribed, not confirmed: it receives nothing until it confirms.
    Pending(String),
    /// A reviewer with no subscription (never subscribed, or unsubscribed).
    Missing(String),
}

impl Finding {
    /// Whether this address fails to receive review requests.
    pub(crate) fn is_problem(&self) -> bool {
        !matches!(self, Finding::Receives(_))
    }
}

/// One finding per expected reviewer, in the order given, then one per other
/// subscribed address. Addresses compare case-insensitively, as mailboxes do
/// in practice (and as `ReviewerEmails` does).
pub(crate) fn findings(expected: &[String], subscribed: &[Subscribed]) -> Vec<Finding> {
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let verdict = |s: &Subscribed| {
        if s.pending {
            Finding::Pending(s.endpoint.clone())
        } else {
            Finding::Receives(s.endpoint.clone())
        }
    };
    let mut out = Vec::new();
    for reviewer in expected {
        // A confirmed subscription wins over a pending one for the same address.
        let mut matching: Vec<&Subscribed> = subscribed
            .iter()
            .filter(|s| same(&s.endpoint, reviewer))
            .collect();
        matching.sort_by_key(|s| s.pending);
        out.push(
            matching
                .first()
                .map_or_else(|| Finding::Missing(reviewer.clone()), |s| verdict(s)),
        );
    }
    for s in subscribed {
        if !expected.iter().any(|reviewer| same(reviewer, &s.endpoint)) {
            out.push(verdict(s));
        }
    }
    out
}

/// The reviewers a `ReviewerEmails` (or `ReviewerEmail`) value names.
pub(crate) fn addresses(parameter: &str) -> Vec<String> {
    parameter
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(endpoint: &str, pending: bool) -> Subscribed {
        Subscribed {
            endpoint: endpoint.to_owned(),
            pending,
        }
    }

    #[test]
    fn given_reviewers_when_some_are_pending_or_missing_then_each_is_named() {
        let expected = addresses("a@x.io, B@x.io,c@x.io");
        let subscribed = [
            sub("a@x.io", false),
            sub("b@x.io", true),
            sub("ops@x.io", false),
        ];
        let found = findings(&expected, &subscribed);
        assert_eq!(
            found,
            [
                Finding::Receives("a@x.io".into()),
                Finding::Pending("b@x.io".into()),
                Finding::Missing("c@x.io".into()),
                Finding::Receives("ops@x.io".into()),
            ]
        );
        assert_eq!(found.iter().filter(|f| f.is_problem()).count(), 2);
    }

    #[test]
    fn given_a_pending_and_a_confirmed_subscription_of_one_reviewer_then_it_receives() {
        let found = findings(
            &addresses("a@x.io"),
            &[sub("A@x.io", true), sub("a@x.io", false)],
        );
        assert_eq!(found[0], Finding::Receives("a@x.io".into()));
    }

    #[test]
    fn given_no_expected_reviewers_then_every_subscription_is_reported() {
        let found = findings(&[], &[sub("a@x.io", true)]);
        assert_eq!(found, [Finding::Pending("a@x.io".into())]);
        assert!(addresses(" , ").is_empty());
    }
}
