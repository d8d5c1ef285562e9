//! One execution environment: a function process, its own Runtime API
//! listener, and the readers forwarding its output.

use std::collections::{BTreeMap, HashSet};
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::process::{Pid, Signal};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::sync::watch;

use crate::invocation::{FunctionError, Outcome};
use crate::runtime_api::{Dispatch, RuntimeApi, RuntimeEvent};
use crate::spec::{FunctionSpec, HostConfig, LogFormat, OutputLine, OutputSink, OutputStream};

/// Process groups of the live function processes, host-wide, so `shutdown`
/// and `Drop` can reach busy environments too.
pub(crate) type Registry = Arc<Mutex<HashSet<i32>>>;

/// Sends `signal` to the whole process group (the function and anything it
/// started). Errors (typically `ESRCH`: already gone) are of no interest.
pub(crate) fn signal_group(pgid: i32, signal: Signal) {
    if let Some(pid) = Pid::from_raw(pgid) {
        let _ = rustix::process::kill_process_group(pid, signal);
    }
}

/// How Lambda's (Go) init describes a process exit: `exit status 3`, `signal: killed`.
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(9) => "signal: killed".to_owned(),
        Some(15) => "signal: terminated".to_owned(),
        Some(6) => "signal: aborted".to_owned(),
        Some(11) => "signal: segmentation fault".to_owned(),
        Some(2) => "signal: interrupt".to_owned(),
        Some(n) => format!("signal: {n}"),
        None => "exit status unknown".to_owned(),
    }
}

/// Why no environment could be started.
#[derive(Debug)]
pub(crate) enum SpawnError {
    /// The executable could not be run: a function error (`Runtime.InvalidEntrypoint`).
    Entrypoint(String),
    /// The host failed (e.g. could not bind a listener).
    Host(String),
}

/// What one invocation on an environment produced.
pub(crate) struct RunResult {
    pub(crate) outcome: Outcome,
    pub(crate) log: String,
    /// False when the process was killed or died: the environment is discarded.
    pub(crate) reusable: bool,
}

/// A running function process with its own Runtime API. Dropping it kills
/// the process group.
pub(crate) struct Sandbox {
    pub(crate) pid: u32,
    api: RuntimeApi,
    exit: watch::Receiver<Option<String>>,
    capture: Arc<Mutex<Option<String>>>,
    /// Whether the runtime has already reached `/next` once (init done).
    initialised: bool,
    /// When the process was started; its first `/next` ends the init phase.
    spawned: Instant,
    /// Process start to first `/next`, reported once as Lambda's `Init Duration`.
    init_duration: Option<Duration>,
    /// The executable as it was when this process started.
    stamp: Option<BinaryStamp>,
}

/// Identity of an executable file: a rebuilt binary differs in at least one
/// field (cargo replaces the file, so the inode changes too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BinaryStamp {
    modified: Option<SystemTime>,
    inode: u64,
    len: u64,
}

impl BinaryStamp {
    pub(crate) fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt as _;
        let metadata = std::fs::metadata(path).ok()?;
        Some(Self {
            modified: metadata.modified().ok(),
            inode: metadata.ino(),
            len: metadata.len(),
        })
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if self.exit.borrow().is_none() {
            signal_group(self.pgid(), Signal::KILL);
        }
    }
}

impl Sandbox {
    fn pgid(&self) -> i32 {
        // `process_group(0)` makes the child the leader of a group named by its pid.
        i32::try_from(self.pid).unwrap_or(i32::MAX)
    }

    /// Whether this process runs an older build than `current`.
    pub(crate) fn is_stale(&self, current: Option<&BinaryStamp>) -> bool {
        self.stamp.as_ref() != current
    }

    /// Whether the process has exited (an idle environment can die too).
    pub(crate) fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// Starts the function's process behind a fresh Runtime API listener.
    pub(crate) async fn spawn(
        spec: &FunctionSpec,
        config: &HostConfig,
        registry: &Registry,
    ) -> Result<Self, SpawnError> {
        let api = RuntimeApi::bind().await.map_err(|e| {
            SpawnError::Host(format!(
                "cannot bind a Runtime API listener on 127.0.0.1: {e}"
            ))
        })?;
        let task_root = spec
            .executable
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let env = environment(spec, config, &api.address.to_string(), &task_root);
        let stamp = BinaryStamp::of(&spec.executable);

        let spawned = Instant::now();
        let mut command = tokio::process::Command::new(&spec.executable);
        command
            .args(&spec.args)
            .current_dir(spec.working_dir.as_deref().unwrap_or(&task_root))
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own process group, so a timeout kills whatever the function started too.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| {
            SpawnError::Entrypoint(format!("fork/exec {}: {e}", spec.executable.display()))
        })?;
        let Some(pid) = child.id() else {
            return Err(SpawnError::Host(
                "the function process exited before it was tracked".to_owned(),
            ));
        };
        let pgid = i32::try_from(pid).unwrap_or(i32::MAX);
        if let Ok(mut live) = registry.lock() {
            live.insert(pgid);
        }

        let function: Arc<str> = Arc::from(spec.name.as_str());
        let capture = Arc::new(Mutex::new(None));
        let sink = &config.output;
        if let Some(stdout) = child.stdout.take() {
            forward(
                stdout,
                function.clone(),
                OutputStream::Stdout,
                sink.clone(),
                capture.clone(),
            );
        }
        if let Some(stderr) = child.stderr.take() {
            forward(
                stderr,
                function.clone(),
                OutputStream::Stderr,
                sink.clone(),
                capture.clone(),
            );
        }

        let (exit_tx, exit) = watch::channel(None);
        let registry = registry.clone();
        tokio::spawn(async move {
            let description = match child.wait().await {
                Ok(status) => describe_exit(status),
                Err(e) => format!("wait failed: {e}"),
            };
            // Whatever the function left behind in its group goes with it.
            signal_group(pgid, Signal::KILL);
            if let Ok(mut live) = registry.lock() {
                live.remove(&pgid);
            }
            tracing::debug!(function = %function, pid, exit = %description, "function process exited");
            let _ = exit_tx.send(Some(description));
        });
        tracing::debug!(function = %spec.name, pid, runtime_api = %api.address, "started function process");

        Ok(Self {
            pid,
            api,
            exit,
            capture,
            initialised: false,
            spawned,
            init_duration: None,
            stamp,
        })
    }

    /// Runs one invocation; the caller owns the environment meanwhile (one
    /// invocation per process, as in Lambda).
    pub(crate) async fn run(
        &mut self,
        dispatch: Dispatch,
        spec: &FunctionSpec,
        config: &HostConfig,
    ) -> RunResult {
        let request_id = dispatch.request_id.clone();
        let started = Instant::now();
        if let Ok(mut capture) = self.capture.lock() {
            *capture = Some(String::new());
        }
        let (outcome, reusable) = self.drive(dispatch, spec, config).await;
        let duration = started.elapsed();
        let output = self
            .capture
            .lock()
            .ok()
            .and_then(|mut c| c.take())
            .unwrap_or_default();
        let log = format!(
            "START RequestId: {request_id} Version: $LATEST\n{output}{}END RequestId: {request_id}\n\
             REPORT RequestId: {request_id}\tDuration: {:.2} ms\tBilled Duration: {} ms\t\
             Memory Size: {} MB\tMax Memory Used: {} MB\t{}\n",
            match &outcome {
                Outcome::Error(e) if !reusable =>
                    format!("RequestId: {request_id} Error: {}\n", e.error_message),
                _ => String::new(),
            },
            duration.as_secs_f64() * 1000.0,
            duration.as_millis().max(1),
            spec.memory_mb,
            max_memory_used_mb(self.pid),
            // As Lambda: only the invocation that found a cold process reports its init.
            self.init_duration
                .take()
                .map(|d| format!("Init Duration: {:.2} ms\t", d.as_secs_f64() * 1000.0))
                .unwrap_or_default(),
        );
        RunResult {
            outcome,
            log,
            reusable,
        }
    }

    /// Waits for the first of: the runtime's answer, the process's exit, the
    /// deadline, the memory limit. Messages follow what Lambda returns:
    /// `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: <id> Error:
    /// Task timed out after 3.00 seconds"}` and `Runtime.ExitError` with
    /// "RequestId: <id> Error: Runtime exited with error: exit status 3" (the
    /// same text Lambda writes to the function's log; the exit description is
    /// Go's `os/exec` wording, as Lambda's init is written in Go).
    async fn drive(
        &mut self,
        dispatch: Dispatch,
        spec: &FunctionSpec,
        config: &HostConfig,
    ) -> (Outcome, bool) {
        let request_id = dispatch.request_id.clone();
        // A warm runtime is already parked in `/next`; a new one gets the init limit first.
        let mut deadline = Instant::now()
            + if self.initialised {
                spec.timeout
            } else {
                config.init_timeout.max(spec.timeout)
            };
        if self.api.dispatch.try_send(dispatch).is_err() {
            let error = FunctionError::new(
                "Runtime.Unknown",
                format!("RequestId: {request_id} Error: Unknown application error occurred"),
            );
            return (Outcome::Error(error), false);
        }
        loop {
            tokio::select! {
                // A response posted just before the process exits still counts.
                biased;
                event = self.api.events.recv() => match event {
                    Some(RuntimeEvent::Dispatched { request_id: id, deadline: d }) if id == request_id => {
                        if !self.initialised {
                            self.init_duration = Some(self.spawned.elapsed());
                        }
                        self.initialised = true;
                        deadline = d;
                    }
                    Some(RuntimeEvent::Response { request_id: id, body }) if id == request_id => {
                        return (Outcome::Success(body), true);
                    }
                    Some(RuntimeEvent::Error { request_id: id, error }) if id == request_id => {
                        return (Outcome::Error(error), true);
                    }
                    Some(RuntimeEvent::InitError { error }) => {
                        // Lambda resets the environment after an init error.
                        signal_group(self.pgid(), Signal::KILL);
                        return (Outcome::Error(error), false);
                    }
                    // Late answers to an earlier request id.
                    Some(_) => {}
                    None => {
                        let error = FunctionError::new("Runtime.Unknown", format!("RequestId: {request_id} Error: Unknown application error occurred"));
                        return (Outcome::Error(error), false);
                    }
                },
                exit = wait_exit(&mut self.exit) => {
                    let error = FunctionError::new(
                        "Runtime.ExitError",
                        format!("RequestId: {request_id} Error: Runtime exited with error: {exit}"),
                    );
                    return (Outcome::Error(error), false);
                }
                rss_mb = memory_exceeded(self.pid, spec.memory_mb), if config.enforce_memory => {
                    signal_group(self.pgid(), Signal::KILL);
                    tracing::warn!(function = %spec.name, request_id = %request_id, rss_mb, memory_mb = spec.memory_mb, "function exceeded its MemorySize");
                    // What Lambda reports when the function runs out of memory.
                    let error = FunctionError::new(
                        "Runtime.OutOfMemory",
                        format!("RequestId: {request_id} Error: Runtime exited with error: signal: killed"),
                    );
                    return (Outcome::Error(error), false);
                }
                () = tokio::time::sleep_until(deadline.into()) => {
                    signal_group(self.pgid(), Signal::KILL);
                    let seconds = spec.timeout.as_secs_f64();
                    tracing::warn!(function = %spec.name, request_id = %request_id, "Task timed out after {seconds:.2} seconds");
                    let error = FunctionError::new(
                        "Sandbox.Timedout",
                        format!("RequestId: {request_id} Error: Task timed out after {seconds:.2} seconds"),
                    );
                    return (Outcome::Error(error), false);
                }
            }
        }
    }
}

async fn wait_exit(exit: &mut watch::Receiver<Option<String>>) -> String {
    match exit.wait_for(Option::is_some).await {
        Ok(description) => description.clone().unwrap_or_default(),
        // The supervisor task is gone (runtime shutting down): treat as killed.
        Err(_) => "signal: killed".to_owned(),
    }
}

/// A `/proc/{pid}/status` field in kB (`VmRSS`, `VmHWM`), as MB rounded up;
/// 0 where /proc is unavailable.
fn proc_status_mb(pid: u32, field: &str) -> u64 {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb.div_ceil(1024))
}

/// Peak resident set, as Lambda's `Max Memory Used`.
fn max_memory_used_mb(pid: u32) -> u64 {
    proc_status_mb(pid, "VmHWM")
}

/// Resolves (with the resident size in MB) once the process uses more than
/// `limit_mb`. Resident memory, not address space: an `RLIMIT_AS` would break
/// multi-threaded runtimes (each thread reserves stacks and malloc arenas)
/// long before they really run out, and setting one needs `pre_exec` (unsafe).
async fn memory_exceeded(pid: u32, limit_mb: u32) -> u64 {
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tick.tick().await;
        let rss = proc_status_mb(pid, "VmRSS");
        if rss > u64::from(limit_mb) {
            return rss;
        }
    }
}

fn forward(
    reader: impl AsyncRead + Unpin + Send + 'static,
    function: Arc<str>,
    stream: OutputStream,
    sink: OutputSink,
    capture: Arc<Mutex<Option<String>>>,
) {
    tokio::spawn(async move {
        let mut reader = BufReader::new(reader);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let raw = buf.strip_suffix(b"\n").unwrap_or(&buf);
                    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                    let line = String::from_utf8_lossy(raw);
                    sink.emit(&OutputLine {
                        function: &function,
                        stream,
                        line: &line,
                    });
                    if let Ok(mut capture) = capture.lock()
                        && let Some(log) = capture.as_mut()
                    {
                        log.push_str(&line);
                        log.push('\n');
                    }
                }
            }
        }
    });
}

/// The environment Lambda gives a `provided.al2023` function, locally:
/// inherited basics, then `AWS_ENDPOINT_URL`, then the function's own
/// variables, then the reserved ones (which the function cannot override on Lambda).
///
/// Reserved variables: <https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime>.
/// `lambda_runtime` 1.x requires `AWS_LAMBDA_FUNCTION_NAME`,
/// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (an i32), `AWS_LAMBDA_FUNCTION_VERSION`
/// and `AWS_LAMBDA_RUNTIME_API` (`Config::from_env`, `resolve_uri`: it panics
/// without them), and reads `AWS_LAMBDA_LOG_GROUP_NAME`/`_STREAM_NAME`;
/// its tracing subscriber reads `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL`.
pub(crate) fn environment(
    spec: &FunctionSpec,
    config: &HostConfig,
    runtime_api: &str,
    task_root: &Path,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for key in &config.inherit_env {
        if let Ok(value) = std::env::var(key) {
            env.insert(key.clone(), value);
        }
    }
    if let Some(url) = &config.endpoint_url {
        env.insert("AWS_ENDPOINT_URL".to_owned(), url.clone());
    }
    env.extend(spec.environment.iter().map(|(k, v)| (k.clone(), v.clone())));

    let mut reserved = |k: &str, v: &str| {
        env.insert(k.to_owned(), v.to_owned());
    };
    reserved("_HANDLER", &spec.handler);
    reserved("AWS_REGION", &config.region);
    reserved("AWS_DEFAULT_REGION", &config.region);
    reserved("AWS_LAMBDA_FUNCTION_NAME", &spec.name);
    reserved(
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        &spec.memory_mb.to_string(),
    );
    reserved("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    reserved("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    reserved(
        "AWS_LAMBDA_LOG_GROUP_NAME",
        &format!("/aws/lambda/{}", spec.name),
    );
    reserved("AWS_LAMBDA_LOG_STREAM_NAME", &log_stream_name());
    reserved("AWS_LAMBDA_RUNTIME_API", runtime_api);
    reserved("AWS_ACCESS_KEY_ID", &config.credentials.access_key_id);
    reserved(
        "AWS_SECRET_ACCESS_KEY",
        &config.credentials.secret_access_key,
    );
    reserved("AWS_SESSION_TOKEN", &config.credentials.session_token);
    reserved("LAMBDA_TASK_ROOT", &task_root.display().to_string());
    reserved("TZ", ":UTC");
    match spec.log_format {
        LogFormat::Json => {
            reserved("AWS_LAMBDA_LOG_FORMAT", "JSON");
            if let Some(level) = &spec.application_log_level {
                reserved("AWS_LAMBDA_LOG_LEVEL", level);
            }
        }
        LogFormat::Text => {
            env.remove("AWS_LAMBDA_LOG_FORMAT");
            env.remove("AWS_LAMBDA_LOG_LEVEL");
        }
    }
    env
}

/// `2026/11/25/[$LATEST]<32 hex>`, the shape of Lambda's log stream names.
fn log_stream_name() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{y:04}/{m:02}/{d:02}/[$LATEST]{}",
        uuid::Uuid::new_v4().simple()
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_507), (2026, 2, 23));
    }

    #[test]
    fn exit_descriptions_match_lambda() {
        assert_eq!(describe_exit(ExitStatus::from_raw(3 << 8)), "exit status 3");
        assert_eq!(describe_exit(ExitStatus::from_raw(9)), "signal: killed");
    }

    #[test]
    fn reserved_variables_win_over_function_environment() {
        let mut spec = FunctionSpec::new(
            "f",
            "arn:aws:lambda:eu-west-1:123456789012:function:f",
            "/opt/f/bootstrap",
        );
        spec.environment
            .insert("AWS_REGION".into(), "us-east-1".into());
        spec.environment.insert("TABLE".into(), "t".into());
        spec.environment
            .insert("AWS_ENDPOINT_URL".into(), "http://override".into());
        let mut config = HostConfig::new("eu-west-1");
        config.endpoint_url = Some("http://127.0.0.1:4566".into());
        config.inherit_env.clear();
        let env = environment(&spec, &config, "127.0.0.1:9001", Path::new("/opt/f"));
        assert_eq!(env["AWS_REGION"], "eu-west-1");
        assert_eq!(env["TABLE"], "t");
        assert_eq!(env["AWS_ENDPOINT_URL"], "http://override");
        assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128");
        assert_eq!(env["LAMBDA_TASK_ROOT"], "/opt/f");
        assert!(env["AWS_LAMBDA_LOG_STREAM_NAME"].contains("/[$LATEST]"));
        assert!(!env.contains_key("AWS_LAMBDA_LOG_FORMAT"));
    }
}
