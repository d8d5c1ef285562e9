//! `dynamodb-local --port 8000 --state-dir .hitl`: the local DynamoDB.
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dynamodb-local: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<()> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let opts = dynamodb_local::cli::Args::parse().options();
    let rt = tokio::runtime::Runtime::new().context("could not start the async runtime")?;
    rt.block_on(dynamodb_local::serve(opts))?;
    Ok(())
}
