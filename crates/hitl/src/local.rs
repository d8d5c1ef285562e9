//! `hitl local`: runs the stack on this machine and says what to try next.
//!
//! Before anything is built it reads the template's parameters and checks the
//! approval policy (`ReviewerEmails`/`ReviewerEmail`, `RequiredApprovals`, the
//! reminder and timeout settings) with `hitl_domain::policy::PolicyParameters`,
//! from `--parameter-overrides` and the template's defaults: a policy the
//! functions would refuse at every execution is refused here, at once, with
//! the domain's message. With neither reviewer parameter given (and no
//! non-empty default), local mode reviews as `reviewer@example.com`: locally,
//! email only lands in the outbox.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use cfn_template::ParameterOverrides;
use hitl_domain::policy::PolicyParameters;
use local_stack::{LocalStack, Options};

use crate::cli::{LocalArgs, Target};
use crate::connect::SamConfig;

/// The template parameters the approval policy reads.
const POLICY_PARAMETERS: &[&str] = &[
    "ReviewerEmails",
    "ReviewerEmail",
    "RequiredApprovals",
    "ReminderAfterSeconds",
    "MaxReminders",
    "EscalationEmail",
    "ReviewTimeoutSeconds",
    "DecisionOnTimeout",
];

/// The reviewer local mode uses when none is given.
pub(crate) const LOCAL_REVIEWER: &str = "reviewer@example.com";

/// The stack name when neither --stack-name nor samconfig.toml gives one.
const DEFAULT_STACK: &str = "human-review";

/// The stack name local mode uses: --stack-name, else samconfig.toml's, else the default.
pub(crate) fn stack_name(target: &Target) -> Result<String> {
    Ok(match &target.stack_name {
        Some(name) => name.clone(),
        None => SamConfig::read(&target.config_file)?
            .stack_name
            .unwrap_or_else(|| DEFAULT_STACK.to_owned()),
    })
}

/// The overrides local mode runs `template` with: `given`, plus its reviewer when none is
/// named (see [`reviewer_fill`]).
pub(crate) fn local_overrides(template: &Path, given: &[String]) -> Vec<String> {
    let mut overrides = given.to_vec();
    if let Some(fill) =
        declared_parameters(template).and_then(|declared| reviewer_fill(&declared, given))
    {
        overrides.push(fill);
    }
    overrides
}

pub(crate) async fn run(args: &LocalArgs, target: &Target) -> Result<()> {
    let mut parameter_overrides = args.parameter_overrides.clone();
    if let Some(declared) = declared_parameters(&args.template) {
        if let Some(fill) = reviewer_fill(&declared, &parameter_overrides) {
            note!(
                "No reviewer given: local mode uses --parameter-overrides {fill} (its email \
                 lands in the outbox; pass your own reviewers to change it)"
            );
            parameter_overrides.push(fill);
        }
        check_policy(&declared, &parameter_overrides).with_context(|| {
            format!(
                "the approval policy of {} cannot be used, so local mode did not start",
                args.template.display()
            )
        })?;
    }
    let stack_name = stack_name(target)?;
    // The definitions as AWS would validate them: an ERROR stops local mode here, with
    // the same lines as `hitl check`. A template that cannot be read is left to
    // local-stack, whose error names the resource and property.
    if let Ok(findings) =
        crate::definition::check(&args.template, &parameter_overrides, &stack_name)
    {
        for line in &findings.lines {
            eprintln!("{line}");
        }
        findings
            .refuse_errors("start `hitl local` again (`hitl check` checks without starting)")
            .context("local mode did not start")?;
    }
    if !args.host.is_loopback() {
        eprintln!(
            "warning: listening on {}: local mode has no authentication; anyone who reaches \
             this address can start executions and answer reviews",
            args.host
        );
    }
    let release = functions_in_release(args.debug, args.release);
    let options = Options {
        template: args.template.clone(),
        parameter_overrides,
        addr: SocketAddr::new(args.host, args.port),
        state_dir: args.state_dir.clone(),
        stack_name: stack_name.clone(),
        build: !args.no_build,
        release,
        // The reviewer is filled above, as an override: the template gives
        // both reviewer parameters a default (''), so a "no default" fill
        // would never apply.
        local_defaults: Vec::new(),
        // The functions are built with this package selected too: the same
        // features as `cargo run -p hitl`, so one compilation of the shared
        // dependencies serves both (crates/local-stack/src/build.rs).
        build_with: vec![env!("CARGO_PKG_NAME").to_owned()],
        task_token_length: args.task_token_length,
        s3_endpoint_url: args.s3_endpoint_url.clone(),
    };
    note!(
        "Starting local mode ({}, state in {}); until it prints Ready, requests get 503 \"not ready yet\"...",
        args.template.display(),
        args.state_dir.display()
    );
    let started = std::time::Instant::now();
    let stack = LocalStack::start(options, |line| note!("{line}"), |line| note!("{line}"))
        .await
        .with_context(|| format!("local mode could not start {}", args.template.display()))?;
    print_summary(&stack_name, stack.summary(), &this_command());
    note!(
        "Ready: local mode answers on {} (started in {:.1} s)",
        stack.summary().endpoint_url,
        started.elapsed().as_secs_f64()
    );
    stack.serve(shutdown_signal()).await?;
    note!(
        "Stopped. Waiting reviews are kept in {}; run `hitl local` again to resume them.",
        args.state_dir.display()
    );
    Ok(())
}

/// The template's parameters and their defaults (`None`: no default), or
/// `None` when the template cannot be read here; local-stack then reports
/// why, with the template's own error.
fn declared_parameters(template: &Path) -> Option<BTreeMap<String, Option<String>>> {
    let text = std::fs::read_to_string(template).ok()?;
    // Short-form tags (`!Ref`) parse as tagged values; only the scalars of
    // `Parameters` are read.
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).ok()?;
    let parameters = yaml.get("Parameters")?.as_mapping()?;
    Some(
        parameters
            .iter()
            .filter_map(|(name, declaration)| {
                let default = declaration.get("Default").and_then(|value| match value {
                    serde_yaml_ng::Value::String(text) => Some(text.clone()),
                    serde_yaml_ng::Value::Number(number) => Some(number.to_string()),
                    serde_yaml_ng::Value::Bool(flag) => Some(flag.to_string()),
                    _ => None,
                });
                Some((name.as_str()?.to_owned(), default))
            })
            .collect(),
    )
}

/// The value a parameter gets: the last override, else the template's default.
fn value_of<'a>(
    declared: &'a BTreeMap<String, Option<String>>,
    overrides: &'a ParameterOverrides,
    name: &str,
) -> Option<&'a str> {
    if !declared.contains_key(name) {
        return None;
    }
    overrides
        .get(name)
        .or_else(|| declared.get(name).and_then(Option::as_deref))
}

/// The override that names local mode's reviewer, when the template declares a
/// reviewer parameter and neither an override nor a default gives one.
fn reviewer_fill(declared: &BTreeMap<String, Option<String>>, given: &[String]) -> Option<String> {
    // Overrides that do not parse are reported by local-stack, as sam deploy does.
    let overrides = ParameterOverrides::parse(given).ok()?;
    let named = |name: &str| {
        value_of(declared, &overrides, name).is_some_and(|value| !value.trim().is_empty())
            || overrides.get(name).is_some()
    };
    if named("ReviewerEmails") || named("ReviewerEmail") {
        return None;
    }
    ["ReviewerEmails", "ReviewerEmail"]
        .into_iter()
        .find(|name| declared.contains_key(*name))
        .map(|name| format!("{name}={LOCAL_REVIEWER}"))
}

/// Checks the approval policy as Open Review will at its cold start. Runs only
/// for templates with a reviewer parameter; a parameter the template does not
/// declare takes the domain's default.
fn check_policy(declared: &BTreeMap<String, Option<String>>, given: &[String]) -> Result<()> {
    if !declared.contains_key("ReviewerEmails") && !declared.contains_key("ReviewerEmail") {
        return Ok(());
    }
    let Ok(overrides) = ParameterOverrides::parse(given) else {
        return Ok(());
    };
    // An override of a parameter the template lacks (ReviewerEmails on a template
    // from before issue 14) is local-stack's "unknown parameter" error, which names
    // the parameters there are: checking the policy without it would misreport it.
    let undeclared = POLICY_PARAMETERS
        .iter()
        .any(|name| overrides.get(name).is_some() && !declared.contains_key(*name));
    if undeclared {
        return Ok(());
    }
    let defaults = PolicyParameters::default();
    let value = |name: &str, fallback: &'static str| -> String {
        value_of(declared, &overrides, name)
            .unwrap_or(fallback)
            .to_owned()
    };
    let list = value("ReviewerEmails", "");
    let single = value("ReviewerEmail", "");
    if !list.trim().is_empty() && !single.trim().is_empty() {
        bail!(
            "ReviewerEmails ({list}) and ReviewerEmail ({single}) are both set: put every \
             address in ReviewerEmails and pass ReviewerEmail='' (ReviewerEmail is kept only \
             for stacks deployed with one reviewer)"
        );
    }
    let reviewers = if list.trim().is_empty() { single } else { list };
    let required = value("RequiredApprovals", defaults.required_approvals);
    let reminder = value("ReminderAfterSeconds", defaults.reminder_after_seconds);
    let max_reminders = value("MaxReminders", defaults.max_reminders);
    let escalation = value("EscalationEmail", defaults.escalation_email);
    let timeout = value("ReviewTimeoutSeconds", defaults.review_timeout_seconds);
    let on_timeout = value("DecisionOnTimeout", defaults.decision_on_timeout);
    PolicyParameters {
        reviewer_emails: &reviewers,
        required_approvals: &required,
        reminder_after_seconds: &reminder,
        max_reminders: &max_reminders,
        escalation_email: &escalation,
        review_timeout_seconds: &timeout,
        decision_on_timeout: &on_timeout,
    }
    .parse()
    .map(drop)
    .map_err(|error| {
        anyhow!(
            "{error}. Change it with --parameter-overrides (or the template's Default) and \
             start again"
        )
    })
}

/// Whether the functions are built in the release profile: as asked, else the profile this
/// hitl was built in. Cargo's dev profile has debug assertions on and its release profile
/// off, which is all a program can see of its profile; the same profile is what lets the
/// nested build reuse hitl's compiled dependencies (crates/local-stack/src/build.rs).
fn functions_in_release(debug: bool, release: bool) -> bool {
    match (debug, release) {
        (true, _) => false,
        (_, true) => true,
        _ => !cfg!(debug_assertions),
    }
}

/// How to run this hitl again from the current directory (`target/debug/hitl` after
/// `cargo run -p hitl`), for the hints printed at start-up.
fn this_command() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "hitl".to_owned();
    };
    let relative = std::env::current_dir()
        .ok()
        .and_then(|dir| exe.strip_prefix(dir).ok().map(std::path::Path::to_path_buf));
    relative.unwrap_or(exe).display().to_string()
}

fn print_summary(stack_name: &str, summary: &local_stack::Summary, hitl: &str) {
    note!();
    note!(
        "Local stack {stack_name} is running on {} (state in {})",
        summary.endpoint_url,
        summary.state_dir.display()
    );
    for notice in &summary.notices {
        note!("  note: {notice}");
    }
    for (id, arn) in &summary.state_machines {
        note!("  state machine  {id}  {arn}");
    }
    for (id, arn, subscriptions) in &summary.topics {
        note!("  topic          {id}  {arn}");
        for subscription in subscriptions {
            note!("                 -> {subscription} (confirmed automatically in local mode)");
        }
    }
    for (id, name) in &summary.functions {
        note!("  function       {id}  {name}");
    }
    for (id, name) in &summary.tables {
        note!("  dynamodb table {id}  {name}");
    }
    for (id, name) in &summary.buckets {
        note!("  s3 bucket      {id}  s3://{name}");
    }
    for route in &summary.routes {
        note!("  http route     {route}");
    }
    note!("  email outbox   {}", summary.outbox.display());
    note!();
    note!("Try it in another terminal:");
    note!("  export AWS_ENDPOINT_URL={}", summary.endpoint_url);
    note!("  {hitl} start --input events/start_execution.json");
    note!("  {hitl} pending");
    note!("  {hitl} approve --execution <NAME> --reviewer \"Your Name\"");
    note!("  {hitl} status <NAME>");
    note!(
        "The review emails are .eml files in {}. Ctrl-C stops local mode.",
        summary.outbox.display()
    );
}

async fn shutdown_signal() {
    local_server::shutdown_signal().await;
    note!("\nStopping local mode...");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(parameters: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        parameters
            .iter()
            .map(|(name, default)| ((*name).to_owned(), default.map(str::to_owned)))
            .collect()
    }

    /// The policy parameters as the issue-14 template declares them.
    fn policy_template() -> BTreeMap<String, Option<String>> {
        declared(&[
            ("ReviewerEmails", Some("")),
            ("ReviewerEmail", Some("")),
            ("RequiredApprovals", Some("1")),
            ("ReminderAfterSeconds", Some("0")),
            ("MaxReminders", Some("2")),
            ("EscalationEmail", Some("")),
            ("DecisionOnTimeout", Some("reject")),
            ("ReviewTimeoutSeconds", Some("259200")),
        ])
    }

    #[test]
    fn the_functions_follow_hitls_profile_unless_asked() {
        // GIVEN neither flag, --debug, or --release
        // THEN the default is hitl's own profile (this test binary's), the flags override it
        assert_eq!(functions_in_release(false, false), !cfg!(debug_assertions));
        assert!(!functions_in_release(true, false));
        assert!(functions_in_release(false, true));
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn the_template_parameters_and_defaults_are_read_from_yaml_with_tags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("template.yaml");
        std::fs::write(
            &path,
            "Parameters:\n  ReviewerEmails: {Type: String, Default: ''}\n  \
             RequiredApprovals: {Type: Number, Default: 2}\n  ReviewerEmail: {Type: String}\n\
             Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: !Ref AWS::StackName}\n",
        )
        .unwrap();
        let read = declared_parameters(&path).unwrap();
        assert_eq!(
            read,
            declared(&[
                ("ReviewerEmails", Some("")),
                ("RequiredApprovals", Some("2")),
                ("ReviewerEmail", None),
            ])
        );
        assert_eq!(declared_parameters(&dir.path().join("missing.yaml")), None);
    }

    #[test]
    fn the_local_reviewer_fills_reviewer_emails_only_when_no_reviewer_is_given() {
        let template = policy_template();
        assert_eq!(
            reviewer_fill(&template, &[]),
            Some("ReviewerEmails=reviewer@example.com".to_owned())
        );
        assert_eq!(
            reviewer_fill(&template, &args(&["RequiredApprovals=1"])),
            Some("ReviewerEmails=reviewer@example.com".to_owned())
        );
        for given in [
            "ReviewerEmails=a@x.com",
            "ReviewerEmail=a@x.com",
            "ReviewerEmails=",
        ] {
            assert_eq!(reviewer_fill(&template, &args(&[given])), None, "{given}");
        }
        // A template from before issue 14: ReviewerEmail without a default.
        let old = declared(&[
            ("ReviewerEmail", None),
            ("ReviewTimeoutSeconds", Some("60")),
        ]);
        assert_eq!(
            reviewer_fill(&old, &[]),
            Some("ReviewerEmail=reviewer@example.com".to_owned())
        );
        // A template with no reviewer parameter gets none.
        assert_eq!(reviewer_fill(&declared(&[("Other", None)]), &[]), None);
    }

    #[test]
    fn the_policy_is_checked_from_overrides_and_defaults() {
        let template = policy_template();
        check_policy(
            &template,
            &args(&["ReviewerEmails=a@x.com,b@x.com RequiredApprovals=2"]),
        )
        .unwrap();
        let error = check_policy(
            &template,
            &args(&["ReviewerEmails=a@x.com,b@x.com", "RequiredApprovals=3"]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("RequiredApprovals is 3 but ReviewerEmails lists only 2 reviewer(s)"),
            "{error}"
        );
        assert!(error.contains("--parameter-overrides"), "{error}");
        // The template's defaults count: a default of 3 approvals with one reviewer.
        let mut strict = template.clone();
        strict.insert("RequiredApprovals".into(), Some("3".into()));
        assert!(check_policy(&strict, &args(&["ReviewerEmails=a@x.com"])).is_err());
        // ReviewerEmail alone is a one-reviewer policy.
        check_policy(&template, &args(&["ReviewerEmail=a@x.com"])).unwrap();
        let both = check_policy(
            &template,
            &args(&["ReviewerEmail=a@x.com", "ReviewerEmails=b@x.com"]),
        )
        .unwrap_err()
        .to_string();
        assert!(both.contains("both set"), "{both}");
        let escalation = check_policy(
            &template,
            &args(&["ReviewerEmails=a@x.com", "EscalationEmail=boss@x.com"]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            escalation.contains("ReminderAfterSeconds is 0"),
            "{escalation}"
        );
        let timeout = check_policy(
            &template,
            &args(&["ReviewerEmails=a@x.com", "DecisionOnTimeout=maybe"]),
        )
        .unwrap_err()
        .to_string();
        assert!(timeout.contains("DecisionOnTimeout"), "{timeout}");
    }

    #[test]
    fn an_override_the_template_does_not_declare_is_left_to_the_template_loader() {
        // A template from before issue 14 has no ReviewerEmails: local-stack says
        // "unknown parameter", not the policy check "ReviewerEmails is empty".
        let old = declared(&[
            ("ReviewerEmail", None),
            ("ReviewTimeoutSeconds", Some("60")),
        ]);
        check_policy(&old, &args(&["ReviewerEmails=a@x.com,b@x.com"])).unwrap();
        assert!(check_policy(&old, &args(&["ReviewerEmail="])).is_err());
    }

    #[test]
    fn templates_without_a_reviewer_parameter_are_not_checked() {
        check_policy(&declared(&[("RequiredApprovals", Some("5"))]), &[]).unwrap();
    }
}
