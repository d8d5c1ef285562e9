//! `sfn-local --port 8083 --state-dir .hitl`: the local Step Functions service.
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sfn-local: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<()> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let opts = sfn_local::cli::Args::parse().options();
    let rt = tokio::runtime::Runtime::new().context("could not start the async runtime")?;
    // The errors say what failed and what to do (a busy port, a damaged database).
    rt.block_on(sfn_local::serve(opts))?;
    Ok(())
}
