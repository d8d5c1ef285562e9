//! `hitl check`: the template's definitions as ValidateStateMachineDefinition
//! answers for them, then the deployed stack's topic and subscriptions.

use std::path::Path;

use anyhow::{Result, bail};

use crate::connect::Connection;
use crate::subscriptions;

/// `hitl check`'s first half: the template's definitions, as ValidateStateMachineDefinition
/// would answer for them. Returns whether to go on to the deployed stack's subscriptions:
/// yes when one is named (an endpoint, a stack, a topic or a state machine), or when there
/// is no template here to check (the subscription check then says what it needs).
pub(super) fn check_definitions(
    template: Option<&Path>,
    overrides: &[String],
    target: &crate::cli::Target,
) -> Result<bool> {
    let path = template.unwrap_or(Path::new("template.yaml"));
    if template.is_none() && !path.is_file() {
        return Ok(true);
    }
    let stack_name = crate::local::stack_name(target)?;
    let overrides = crate::local::local_overrides(path, overrides);
    let findings = crate::definition::check(path, &overrides, &stack_name)?;
    for line in &findings.lines {
        say!("{line}");
    }
    findings.refuse_errors(
        "run `hitl check` again (before `sam deploy`, or `hitl local`, which refuses to start on them)",
    )?;
    let warnings = findings.lines.len();
    say!(
        "ok: {} state machine definition(s) in {} validate{}",
        findings.machines,
        path.display(),
        if warnings > 0 {
            format!(" ({warnings} warning(s) above: they do not stop a deploy)")
        } else {
            String::new()
        }
    );
    let deployed = target.endpoint_url.is_some()
        || target.stack_name.is_some()
        || target.state_machine.is_some()
        || crate::connect::SamConfig::read(&target.config_file)?
            .stack_name
            .is_some();
    if !deployed {
        say!(
            "No deployed stack named (--stack-name, stack_name in samconfig.toml, or \
             --endpoint-url for local mode): reviewer subscriptions not checked."
        );
    }
    Ok(deployed)
}

pub(super) async fn check(
    connection: &Connection,
    topic_arn: Option<String>,
    reviewers: Vec<String>,
) -> Result<()> {
    let sns = aws_sdk_sns::Client::new(&connection.config);
    let topic = match topic_arn {
        Some(arn) => arn,
        None => connection.review_topic(&sns).await?,
    };
    // Whom to expect: --reviewers, else the deployed stack's reviewer parameter.
    let (expected, source) = if reviewers.is_empty() {
        match connection.stack_reviewers().await? {
            Some((parameter, value)) => (subscriptions::addresses(&value), Some(parameter)),
            None => (Vec::new(), None),
        }
    } else {
        let listed = reviewers
            .iter()
            .flat_map(|r| subscriptions::addresses(r))
            .collect();
        (listed, Some("--reviewers".to_owned()))
    };
    let mut pages = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .into_paginator()
        .send();
    let mut subscribed = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| {
            connection.explain(
                error,
                "sns:ListSubscriptionsByTopic",
                "list the review topic's subscriptions",
            )
        })?;
        subscribed.extend(
            page.subscriptions()
                .iter()
                .filter(|subscription| subscription.protocol() == Some("email"))
                .map(|subscription| subscriptions::Subscribed {
                    endpoint: subscription.endpoint().unwrap_or("?").to_owned(),
                    pending: subscription.subscription_arn() == Some("PendingConfirmation"),
                }),
        );
    }
    say!("Review topic: {topic}");
    if let Some(source) = &source {
        say!("Reviewers ({source}): {}", expected.join(", "));
    }
    let findings = subscriptions::findings(&expected, &subscribed);
    for finding in &findings {
        match finding {
            subscriptions::Finding::Receives(address) => {
                say!("ok: {address} receives review requests");
            }
            subscriptions::Finding::Pending(address) => say!(
                "warning: {address} has not confirmed the subscription: it receives no review requests until it clicks the link in SNS's confirmation email"
            ),
            subscriptions::Finding::Missing(address) => say!(
                "missing: {address} is not subscribed to the review topic (never subscribed, or unsubscribed): it receives no review requests. \
                 Subscribe it with: aws sns subscribe --topic-arn {topic} --protocol email --notification-endpoint {address} \
                 (it must then confirm), or deploy the stack again"
            ),
        }
    }
    // `findings` lists the expected reviewers first, in order.
    let problems = findings
        .iter()
        .take(expected.len())
        .filter(|f| f.is_problem())
        .count();
    if !findings.iter().any(|f| !f.is_problem()) {
        bail!(
            "no confirmed email subscription on {topic}: nobody receives review requests. \
             Subscribe the reviewer again (aws sns subscribe --protocol email ...), then confirm \
             with --authenticate-on-unsubscribe true so mail scanners cannot unsubscribe it"
        );
    }
    if problems > 0 {
        bail!(
            "{problems} of {} reviewers cannot receive review requests (see above): the reviews they are asked for would expire unanswered",
            expected.len()
        );
    }
    Ok(())
}
