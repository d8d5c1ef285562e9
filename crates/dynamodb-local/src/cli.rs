//! Command-line options of the `dynamodb-local` binary.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::ServerOptions;

/// Local DynamoDB (AWS JSON 1.0) for the human-approval kit: the operations
/// its functions use, stored in SQLite. No Docker, no JVM.
///
/// Point the AWS CLI or an SDK at it with `--endpoint-url http://127.0.0.1:<port>`.
#[derive(Debug, clap::Parser)]
#[command(name = "dynamodb-local", version)]
pub struct Args {
    /// Port to listen on.
    #[arg(long, default_value_t = 8000, env = "DYNAMODB_LOCAL_PORT")]
    pub port: u16,
    /// Address to bind. Loopback by default: the service checks no signatures.
    #[arg(long, default_value = "127.0.0.1", env = "DYNAMODB_LOCAL_HOST")]
    pub host: IpAddr,
    /// Directory holding the SQLite database (created if missing).
    #[arg(long, default_value = ".hitl", env = "DYNAMODB_LOCAL_STATE_DIR")]
    pub state_dir: PathBuf,
    /// Region used in table ARNs.
    #[arg(long, default_value = "us-east-1", env = "DYNAMODB_LOCAL_REGION")]
    pub region: String,
    /// Account id used in table ARNs.
    #[arg(long, default_value = "123456789012", env = "DYNAMODB_LOCAL_ACCOUNT")]
    pub account: String,
}

impl Args {
    /// The server options these arguments describe.
    pub fn options(self) -> ServerOptions {
        ServerOptions {
            addr: SocketAddr::new(self.host, self.port),
            state_dir: self.state_dir,
            config: crate::Config {
                region: self.region,
                account: self.account,
            },
        }
    }
}
