//! Command-line options of the `sfn-local` binary.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::ServerOptions;

/// Local AWS Step Functions (JSON 1.0 protocol) for the human-approval kit.
///
/// Point the AWS CLI or an SDK at it with `--endpoint-url http://127.0.0.1:<port>`.
#[derive(Debug, clap::Parser)]
#[command(name = "sfn-local", version)]
pub struct Args {
    /// Port to listen on.
    #[arg(long, default_value_t = 8083, env = "SFN_LOCAL_PORT")]
    pub port: u16,
    /// Address to bind. Loopback by default: the service checks no signatures.
    #[arg(long, default_value = "127.0.0.1", env = "SFN_LOCAL_HOST")]
    pub host: IpAddr,
    /// Directory holding the SQLite database (created if missing).
    #[arg(long, default_value = ".hitl", env = "SFN_LOCAL_STATE_DIR")]
    pub state_dir: PathBuf,
    /// Region used in ARNs.
    #[arg(long, default_value = "us-east-1", env = "SFN_LOCAL_REGION")]
    pub region: String,
    /// Account id used in ARNs.
    #[arg(long, default_value = "123456789012", env = "SFN_LOCAL_ACCOUNT")]
    pub account: String,
}

impl Args {
    /// The server options these arguments describe.
    pub fn options(self) -> ServerOptions {
        ServerOptions {
            addr: SocketAddr::new(self.host, self.port),
            state_dir: self.state_dir,
            region: self.region,
            account: self.account,
        }
    }
}
