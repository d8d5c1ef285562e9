//! `sfn-local --port 8083 --state-dir .hitl`: the local Step Functions service.
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

/// Local AWS Step Functions (JSON 1.0 protocol) for the human-approval kit.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Port to listen on.
    #[arg(long, default_value_t = 8083, env = "SFN_LOCAL_PORT")]
    port: u16,
    /// Address to bind (loopback by default; the service has no authentication).
    #[arg(long, default_value = "127.0.0.1", env = "SFN_LOCAL_HOST")]
    host: std::net::IpAddr,
    /// Directory holding the SQLite database.
    #[arg(long, default_value = ".hitl", env = "SFN_LOCAL_STATE_DIR")]
    state_dir: std::path::PathBuf,
    /// Region used in ARNs.
    #[arg(long, default_value = "us-east-1", env = "AWS_REGION")]
    region: String,
    /// Account id used in ARNs.
    #[arg(long, default_value = "123456789012")]
    account: String,
}

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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let a = Args::parse();
    let opts = sfn_local::ServerOptions {
        addr: std::net::SocketAddr::new(a.host, a.port),
        state_dir: a.state_dir,
        region: a.region,
        account: a.account,
    };
    let rt = tokio::runtime::Runtime::new().context("could not start the async runtime")?;
    rt.block_on(sfn_local::serve(opts))
        .context("sfn-local stopped; is the port free and the state directory writable?")
}
