//! The review topic must not have a subscription without a `reviewer`
//! filter: such a subscription would receive every reviewer's token and
//! links (docs/approval-policies.md, "SNS: one message per reviewer").

use serde_json::Value;

use super::contracts::PolicyFlowError;

/// One subscription of the review topic, as SNS describes it
/// (`ListSubscriptionsByTopic`, then `GetSubscriptionAttributes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSubscription {
    pub protocol: String,
    pub endpoint: String,
    /// The `FilterPolicy` attribute, when set.
    pub filter_policy: Option<String>,
    /// The `FilterPolicyScope` attribute, when set (`MessageAttributes` by default).
    pub filter_policy_scope: Option<String>,
}

impl TopicSubscription {
    /// Whether SNS delivers this subscription only messages whose `reviewer`
    /// message attribute matches its filter.
    pub fn is_filtered_by_reviewer(&self) -> bool {
        let scope_ok = self
            .filter_policy_scope
            .as_deref()
            .is_none_or(|scope| scope == "MessageAttributes");
        let names_reviewer = self
            .filter_policy
            .as_deref()
            .and_then(|policy| serde_json::from_str::<Value>(policy).ok())
            .is_some_and(|policy| policy.get("reviewer").is_some());
        scope_ok && names_reviewer
    }
}

/// Refuses a review topic with any subscription that is not filtered on
/// `reviewer`, naming each such endpoint (`UnfilteredReviewSubscription`).
pub fn check_review_subscriptions(
    subscriptions: &[TopicSubscription],
) -> Result<(), PolicyFlowError> {
    let unfiltered: Vec<String> = subscriptions
        .iter()
        .filter(|s| !s.is_filtered_by_reviewer())
        .map(|s| format!("{}:{}", s.protocol, s.endpoint))
        .collect();
    if unfiltered.is_empty() {
        Ok(())
    } else {
        Err(PolicyFlowError::UnfilteredReviewSubscription {
            endpoints: unfiltered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(filter: Option<&str>, scope: Option<&str>) -> TopicSubscription {
        TopicSubscription {
            protocol: "email".into(),
            endpoint: "a@example.com".into(),
            filter_policy: filter.map(str::to_owned),
            filter_policy_scope: scope.map(str::to_owned),
        }
    }

    #[test]
    fn given_filtered_subscriptions_then_accepted() {
        let filtered = subscription(Some(r#"{"reviewer": ["a@example.com"]}"#), None);
        let scoped = subscription(
            Some(r#"{"reviewer": ["a@example.com"]}"#),
            Some("MessageAttributes"),
        );
        assert_eq!(check_review_subscriptions(&[filtered, scoped]), Ok(()));
        assert_eq!(check_review_subscriptions(&[]), Ok(()));
    }

    #[test]
    fn given_an_unfiltered_or_body_scoped_subscription_then_refused_naming_it() {
        let cases = [
            subscription(None, None),
            subscription(Some(r#"{"kind": ["review"]}"#), None),
            subscription(
                Some(r#"{"reviewer": ["a@example.com"]}"#),
                Some("MessageBody"),
            ),
            subscription(Some("not json"), None),
        ];
        for case in cases {
            let error = check_review_subscriptions(std::slice::from_ref(&case)).unwrap_err();
            assert_eq!(
                error.error_type(),
                "UnfilteredReviewSubscription",
                "{case:?}"
            );
            assert!(error.to_string().contains("email:a@example.com"), "{error}");
        }
    }
}
