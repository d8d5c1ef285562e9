//! `hitl local`: runs the stack on this machine and says what to try next.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use local_stack::{LocalStack, Options};

use crate::cli::{LocalArgs, Target};
use crate::connect::SamConfig;

/// Parameters local mode fills in when the template has no default and the
/// user gave none: locally, email only lands in the outbox.
const LOCAL_DEFAULTS: &[(&str, &str)] = &[("ReviewerEmail", "reviewer@example.com")];

/// The stack name when neither --stack-name nor samconfig.toml gives one.
const DEFAULT_STACK: &str = "human-review";

pub(crate) async fn run(args: &LocalArgs, target: &Target) -> Result<()> {
    let stack_name = match &target.stack_name {
        Some(name) => name.clone(),
        None => SamConfig::read(&target.config_file)?
            .stack_name
            .unwrap_or_else(|| DEFAULT_STACK.to_owned()),
    };
    if !args.host.is_loopback() {
        eprintln!(
            "warning: listening on {}: local mode has no authentication; anyone who reaches \
             this address can start executions and answer reviews",
            args.host
        );
    }
    let profile = if args.debug { "debug" } else { "release" };
    let options = Options {
        template: args.template.clone(),
        parameter_overrides: args.parameter_overrides.clone(),
        addr: SocketAddr::new(args.host, args.port),
        state_dir: args.state_dir.clone(),
        stack_name: stack_name.clone(),
        build: !args.no_build,
        release: !args.debug,
        local_defaults: LOCAL_DEFAULTS
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        // The functions are built with this package selected too: the same
        // features as `cargo run -p hitl`, so one compilation of the shared
        // dependencies serves both (crates/local-stack/src/build.rs).
        build_with: vec![env!("CARGO_PKG_NAME").to_owned()],
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
    print_summary(&stack_name, stack.summary(), profile);
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

fn print_summary(stack_name: &str, summary: &local_stack::Summary, profile: &str) {
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
    for route in &summary.routes {
        note!("  http route     {route}");
    }
    note!("  email outbox   {}", summary.outbox.display());
    note!();
    note!("Try it in another terminal:");
    note!("  export AWS_ENDPOINT_URL={}", summary.endpoint_url);
    note!("  target/{profile}/hitl start --input events/start_execution.json");
    note!("  target/{profile}/hitl pending");
    note!("  target/{profile}/hitl approve --execution <NAME> --reviewer \"Your Name\"");
    note!("  target/{profile}/hitl status <NAME>");
    note!(
        "The review emails are .eml files in {}. Ctrl-C stops local mode.",
        summary.outbox.display()
    );
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    note!("\nStopping local mode...");
}
