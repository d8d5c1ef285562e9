//! What the host runs (`FunctionSpec`) and how (`HostConfig`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The function's `LoggingConfig.LogFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Plain text (Lambda's default).
    #[default]
    Text,
    /// JSON: the function gets `AWS_LAMBDA_LOG_FORMAT=JSON`, which
    /// `lambda_runtime`'s tracing subscriber reads to print JSON lines.
    Json,
}

/// One Lambda function, as the template declares it.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// Function name (`FunctionName`); the key `invoke` resolves to.
    pub name: String,
    /// Unqualified function ARN, `arn:aws:lambda:{region}:{account}:function:{name}`.
    pub arn: String,
    /// The binary to run (for `provided.al2023` functions, the built `bootstrap`).
    pub executable: PathBuf,
    /// Arguments passed to the executable (usually none).
    pub args: Vec<String>,
    /// Working directory; defaults to the executable's directory, which is
    /// also `LAMBDA_TASK_ROOT` (Lambda runs code from `/var/task`).
    pub working_dir: Option<PathBuf>,
    /// `Handler` property, exported as `_HANDLER` (custom runtimes read it;
    /// Rust functions ignore it).
    pub handler: String,
    /// The function's `Environment.Variables`. Reserved names (those Lambda
    /// sets itself, e.g. `AWS_REGION`) are overridden as Lambda would refuse them.
    pub environment: BTreeMap<String, String>,
    /// `Timeout`: once the invocation has been handed to the runtime, the
    /// process is killed when this elapses (`Sandbox.Timedout`).
    pub timeout: Duration,
    /// `MemorySize`, exported as `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, reported
    /// in the `REPORT` log line, and (see [`HostConfig::enforce_memory`]) the
    /// resident-memory limit of the process.
    pub memory_mb: u32,
    /// `LoggingConfig.LogFormat`.
    pub log_format: LogFormat,
    /// `LoggingConfig.ApplicationLogLevel`, exported as `AWS_LAMBDA_LOG_LEVEL`
    /// when the log format is JSON (Lambda only applies it then).
    pub application_log_level: Option<String>,
    /// Aliases (qualifiers besides `$LATEST`) the function answers to, e.g.
    /// `live` from `AutoPublishAlias`. Every qualifier runs the same code.
    pub aliases: Vec<String>,
}

impl FunctionSpec {
    /// A spec with Lambda's defaults: 3 s timeout, 128 MB, text logs, handler `bootstrap`.
    pub fn new(
        name: impl Into<String>,
        arn: impl Into<String>,
        executable: impl Into<PathBuf>,
    ) -> Self {
        Self {
            name: name.into(),
            arn: arn.into(),
            executable: executable.into(),
            args: Vec::new(),
            working_dir: None,
            handler: "bootstrap".to_owned(),
            environment: BTreeMap::new(),
            timeout: Duration::from_secs(3),
            memory_mb: 128,
            log_format: LogFormat::Text,
            application_log_level: None,
            aliases: Vec::new(),
        }
    }
}

/// Credentials handed to every function (`AWS_ACCESS_KEY_ID`, ...). Local
/// mode passes dummy values so the SDK signs requests to the local endpoint
/// and never finds the developer's real credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN` (Lambda always sets one: execution roles are temporary credentials).
    pub session_token: String,
}

impl Credentials {
    /// Dummy credentials (`test`/`test`/`test`), as local emulators accept.
    pub fn dummy() -> Self {
        Self {
            access_key_id: "test".to_owned(),
            secret_access_key: "test".to_owned(),
            session_token: "test".to_owned(),
        }
    }
}

/// Which stream of the function process a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    /// The process's stdout.
    Stdout,
    /// The process's stderr.
    Stderr,
}

impl fmt::Display for OutputStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutputStream::Stdout => "stdout",
            OutputStream::Stderr => "stderr",
        })
    }
}

/// One line a function process printed (without its line ending).
#[derive(Debug, Clone, Copy)]
pub struct OutputLine<'a> {
    /// The function's name.
    pub function: &'a str,
    /// The stream it came from.
    pub stream: OutputStream,
    /// The line, lossily decoded as UTF-8.
    pub line: &'a str,
}

type SinkFn = dyn Fn(&OutputLine<'_>) + Send + Sync;

/// Where the functions' stdout/stderr lines go. Every line is forwarded, none
/// is swallowed.
#[derive(Clone)]
pub struct OutputSink(Arc<SinkFn>);

impl OutputSink {
    /// A sink calling `f` for every line (called from the reader tasks: keep it quick).
    pub fn new(f: impl Fn(&OutputLine<'_>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// The default: one `tracing` INFO event per line, target
    /// `lambda_local::function`, fields `function` and `stream`.
    pub fn tracing() -> Self {
        Self::new(|l| {
            tracing::info!(target: "lambda_local::function", function = l.function, stream = %l.stream, "{}", l.line);
        })
    }

    /// Writes `[function] line` to the host's stderr, as `sam local` does.
    pub fn stderr() -> Self {
        Self::new(|l| {
            use std::io::Write as _;
            // A closed stderr is no reason to fail the function.
            let _ = writeln!(std::io::stderr().lock(), "[{}] {}", l.function, l.line);
        })
    }

    pub(crate) fn emit(&self, line: &OutputLine<'_>) {
        (self.0)(line)
    }
}

impl fmt::Debug for OutputSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OutputSink(..)")
    }
}

impl Default for OutputSink {
    fn default() -> Self {
        Self::tracing()
    }
}

/// Host-wide settings, shared by every function.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Exported as `AWS_ENDPOINT_URL` so the functions' AWS SDK clients talk
    /// to local mode (the function's own `Environment` may override it).
    pub endpoint_url: Option<String>,
    /// `AWS_REGION` and `AWS_DEFAULT_REGION`.
    pub region: String,
    /// Account id used in ARNs the host makes up (e.g. in "Function not found" errors).
    pub account_id: String,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
    pub credentials: Credentials,
    /// Execution environments (processes) per function; further concurrent
    /// invocations wait for one to be free instead of being throttled.
    pub max_concurrency: usize,
    /// How long a new process has to reach its first `/next` (Lambda's
    /// on-demand init limit is 10 s); past it the process is killed and the
    /// invocation fails with `Sandbox.Timedout`.
    pub init_timeout: Duration,
    /// Between SIGTERM and SIGKILL in [`crate::LambdaHost::shutdown`].
    pub shutdown_grace: Duration,
    /// Kill an invocation whose process's resident memory exceeds the
    /// function's `MemorySize` (`Runtime.OutOfMemory`), checked every 50 ms.
    /// Turn off for debug builds that need more than their release build.
    pub enforce_memory: bool,
    /// Start a fresh process when the executable has changed since an idle
    /// one started (a `cargo build` while local mode runs takes effect on
    /// the next invocation, no restart needed).
    pub reload_on_change: bool,
    /// Variables copied from the host's environment into every function
    /// (everything else is cleared, so the developer's real `AWS_PROFILE` or
    /// credentials never leak into a local function).
    pub inherit_env: Vec<String>,
    /// Where the functions' stdout/stderr lines go.
    pub output: OutputSink,
}

impl HostConfig {
    /// Defaults: no endpoint, account `123456789012`, dummy credentials,
    /// 10 processes per function, 10 s init limit, 2 s shutdown grace, memory enforced,
    /// reload on rebuild,
    /// inheriting `PATH`, `HOME`, `TMPDIR`, `LANG`, `RUST_LOG`, `RUST_BACKTRACE`,
    /// output to `tracing`.
    pub fn new(region: impl Into<String>) -> Self {
        Self {
            endpoint_url: None,
            region: region.into(),
            account_id: "123456789012".to_owned(),
            credentials: Credentials::dummy(),
            max_concurrency: 10,
            init_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(2),
            enforce_memory: true,
            reload_on_change: true,
            inherit_env: [
                "PATH",
                "HOME",
                "TMPDIR",
                "LANG",
                "RUST_LOG",
                "RUST_BACKTRACE",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            output: OutputSink::default(),
        }
    }
}
