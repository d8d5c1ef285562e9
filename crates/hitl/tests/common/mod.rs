//! Fixtures for the end-to-end tests of local mode.
//!
//! - [`LocalMode`]: the real `hitl local` binary as a child process, on a free
//!   loopback port and a temporary state directory. Dropping it stops it as a
//!   user would (SIGTERM, so it stops its function processes), then SIGKILL if
//!   it hangs; [`LocalMode::kill`] is the crash a test may want.
//! - [`shared`]: one instance for many tests, alive while a test holds it and
//!   stopped by the last one (a `static` is never dropped and would leave
//!   `hitl local` running after the tests).
//! - The three ways a user drives the workflow, all pointed at local mode and
//!   never at AWS: [`AwsCli`] (the real AWS CLI, skipped when not installed),
//!   [`Sdk`] (aws-sdk-sfn) and [`Hitl`] (the `hitl` commands). The first two
//!   implement [`StepFunctions`], so a flow is written once for both.
//! - [`Outbox`]: the `.eml` files local SNS writes, and [`ReviewEmail`], the
//!   review request read from one.
//!
//! Waits poll against a deadline ([`poll`]); nothing sleeps a fixed time.
//! A failing test keeps the instance's directory (state and `hitl-local.log`)
//! and prints where; `HITL_E2E_KEEP=1` keeps every one.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use aws_sdk_sfn::config::{Credentials, Region};
use aws_sdk_sfn::error::ProvideErrorMetadata;
use serde_json::Value;
use sns_local::ParsedEmail;

/// Where the decision topic's email subscription points (`DecisionEmail`).
pub(crate) const DECISION_EMAIL: &str = "decisions@example.com";
/// The reviewer address local mode fills in for `ReviewerEmail`.
pub(crate) const REVIEWER_EMAIL: &str = "reviewer@example.com";
/// Local mode's region, as the review email's commands name it.
pub(crate) const REGION: &str = "us-east-1";
/// A SAM configuration file that does not exist, so no developer's
/// samconfig.toml (stack name, region) is read.
const NO_SAMCONFIG: &str = "/nonexistent/samconfig.toml";

/// How long `hitl local` may take to be ready. The first run compiles the
/// functions in the dev profile; later runs only check that they are fresh.
const START_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a SIGTERM'd `hitl local` may take to stop its functions and exit.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an execution, an email or a listing may take to appear.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(20);

/// The repository root: `template.yaml`, `events/` and `statemachine/`.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of `events/`, as text.
pub(crate) fn event_text(name: &str) -> String {
    let path = repo_root().join("events").join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// A file of `events/`, parsed.
pub(crate) fn event(name: &str) -> Value {
    serde_json::from_str(&event_text(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// Calls `probe` until it gives a value, or panics after `timeout` naming
/// `what` and what `context` tells about the state at that moment.
pub(crate) fn poll<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Option<T>,
    context: impl FnOnce() -> String,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        if Instant::now() >= deadline {
            panic!(
                "timed out after {:.1}s waiting for {what}\n{}",
                timeout.as_secs_f64(),
                context()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `hitl local`, running.
pub(crate) struct LocalMode {
    /// Holds the state directory and the log; removed on drop unless a test
    /// failed or HITL_E2E_KEEP is set.
    dir: Option<tempfile::TempDir>,
    overrides: Vec<String>,
    /// More `hitl local` options, before `--parameter-overrides`.
    options: Vec<String>,
    /// `--template`, when not the repository's `template.yaml`.
    template: Option<PathBuf>,
    child: Child,
    endpoint: String,
    port: u16,
}

impl LocalMode {
    /// Starts `hitl local` on a free port with `DecisionEmail` set and the
    /// given extra `Key=Value` template parameters, and waits until it serves.
    pub(crate) fn start(overrides: &[&str]) -> Self {
        Self::start_in(temp_dir(), None, &[], overrides)
    }

    /// Like [`LocalMode::start`], with more `hitl local` options
    /// (`--task-token-length 2048`).
    pub(crate) fn start_with_options(options: &[&str], overrides: &[&str]) -> Self {
        Self::start_in(temp_dir(), None, options, overrides)
    }

    /// Like [`LocalMode::start`], with the state machine defined by `definition`
    /// (a path from the repository root) instead of the deployed one: a copy of
    /// `template.yaml` with that `DefinitionUri`, in the instance's directory.
    pub(crate) fn start_with_definition(definition: &str, overrides: &[&str]) -> Self {
        let root = repo_root()
            .canonicalize()
            .expect("the repository root exists");
        let definition = root.join(definition);
        Self::start_with_template(
            |text| {
                let deployed = "DefinitionUri: statemachine/human_in_the_loop.asl.json";
                assert!(text.contains(deployed), "template.yaml names {deployed}");
                text.replace(
                    deployed,
                    &format!("DefinitionUri: {}", definition.display()),
                )
            },
            overrides,
        )
    }

    /// Like [`LocalMode::start`], on a copy of `template.yaml` that `edit`
    /// changed (the copy's own relative paths are made absolute first).
    pub(crate) fn start_with_template(
        edit: impl FnOnce(String) -> String,
        overrides: &[&str],
    ) -> Self {
        let dir = temp_dir();
        let root = repo_root()
            .canonicalize()
            .expect("the repository root exists");
        let text = std::fs::read_to_string(root.join("template.yaml")).expect("template.yaml");
        // The copy lives elsewhere: its relative paths become absolute.
        let text = edit(text)
            .replace("CodeUri: .", &format!("CodeUri: {}", root.display()))
            .replace(
                "DefinitionUri: statemachine/",
                &format!("DefinitionUri: {}/statemachine/", root.display()),
            );
        let template = dir.path().join("template.yaml");
        std::fs::write(&template, text).expect("the template copy is written");
        Self::start_in(dir, Some(template), &[], overrides)
    }

    fn start_in(
        dir: tempfile::TempDir,
        template: Option<PathBuf>,
        options: &[&str],
        overrides: &[&str],
    ) -> Self {
        let mut overrides: Vec<String> = overrides.iter().map(|o| (*o).to_owned()).collect();
        overrides.push(format!("DecisionEmail={DECISION_EMAIL}"));
        let options: Vec<String> = options.iter().map(|o| (*o).to_owned()).collect();
        // Port 0: the system picks a free port, and the banner tells which.
        let (child, endpoint) = spawn(dir.path(), 0, &options, &overrides, template.as_deref());
        let port = port_of(&endpoint);
        Self {
            dir: Some(dir),
            overrides,
            options,
            template,
            child,
            endpoint,
            port,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub(crate) fn outbox(&self) -> Outbox {
        Outbox(self.outbox_dir())
    }

    /// Where local SNS writes this instance's emails.
    pub(crate) fn outbox_dir(&self) -> PathBuf {
        self.state_dir().join("outbox")
    }

    fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .map(tempfile::TempDir::path)
            .expect("the directory lives as long as self")
    }

    fn state_dir(&self) -> PathBuf {
        self.path().join("state")
    }

    /// Everything `hitl local` printed, across restarts.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.path().join(LOG)).unwrap_or_default()
    }

    /// A crash: SIGKILL, with no chance to stop anything or flush anything.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops `hitl local` as a user does (SIGTERM, so it stops its function
    /// processes); SIGKILL if it hangs.
    pub(crate) fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + STOP_TIMEOUT;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if matches!(self.child.try_wait(), Ok(None)) {
                eprintln!("hitl local did not stop within {STOP_TIMEOUT:?} of SIGTERM: killing it");
                self.kill();
            }
        }
    }

    /// Changes the template copy of [`LocalMode::start_with_template`] with
    /// `edit`; a [`LocalMode::restart`] then runs it.
    pub(crate) fn edit_template(&self, edit: impl FnOnce(String) -> String) {
        let template = self
            .template
            .as_ref()
            .expect("started with start_with_template");
        let text = std::fs::read_to_string(template).expect("the template copy");
        std::fs::write(template, edit(text)).expect("the template copy is written");
    }

    /// Starts `hitl local` again on the same state directory and port.
    pub(crate) fn restart(&mut self) {
        let (child, endpoint) = spawn(
            self.path(),
            self.port,
            &self.options,
            &self.overrides,
            self.template.as_deref(),
        );
        assert_eq!(endpoint, self.endpoint, "the restart listens where it did");
        self.child = child;
    }

    /// Whether anything accepts connections on the port.
    pub(crate) fn is_listening(&self) -> bool {
        std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
    }
}

impl Drop for LocalMode {
    fn drop(&mut self) {
        // SIGTERM: hitl local stops its function processes (in their own
        // process groups, out of reach of a kill of this child) and exits.
        self.stop();
        let keep = std::thread::panicking() || std::env::var_os("HITL_E2E_KEEP").is_some();
        if keep && let Some(dir) = self.dir.take() {
            eprintln!(
                "hitl local's state and log are kept in {}",
                dir.keep().display()
            );
        }
    }
}

const LOG: &str = "hitl-local.log";

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("hitl-e2e-")
        .tempdir()
        .expect("a temporary directory")
}

/// Spawns `hitl local` and waits for its "is running on URL" line; gives the
/// child and the URL. Its output goes to a file: a pipe nobody reads would
/// block it, and one closed by an ended test would fail its prints.
fn spawn(
    dir: &Path,
    port: u16,
    options: &[String],
    overrides: &[String],
    template: Option<&Path>,
) -> (Child, String) {
    let log_path = dir.join(LOG);
    let log = File::options()
        .create(true)
        .append(true)
        .open(&log_path)
        .expect("the log file");
    let already = log.metadata().map(|m| m.len()).unwrap_or(0) as usize;
    let mut command = Command::new(env!("CARGO_BIN_EXE_hitl"));
    // Cargo gives this test the variables of the hitl package (CARGO_MANIFEST_DIR,
    // CARGO_PKG_*, ...). hitl local's own `cargo build` of the functions would
    // inherit them, and build scripts that watch them (ring's watches
    // CARGO_MANIFEST_DIR) would rebuild half the dependency tree on every start.
    for (key, _) in std::env::vars_os() {
        if is_package_variable(&key.to_string_lossy()) {
            command.env_remove(key);
        }
    }
    let mut child = command
        .current_dir(repo_root())
        .args(["--config-file", NO_SAMCONFIG, "local", "--debug", "--port"])
        .arg(port.to_string())
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(template.iter().flat_map(|t| [Path::new("--template"), t]))
        .args(options)
        .arg("--parameter-overrides")
        .args(overrides)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("the log file"))
        .stderr(log)
        .spawn()
        .expect("hitl starts");
    let output = || {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        text.get(already..).unwrap_or_default().to_owned()
    };
    let mut exited = None;
    let endpoint = poll(
        "hitl local to serve",
        START_TIMEOUT,
        || {
            if let Ok(Some(status)) = child.try_wait() {
                exited = Some(status);
                return Some(None);
            }
            output()
                .lines()
                .find_map(|line| line.split_once(" is running on "))
                .and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_owned))
                .map(Some)
        },
        || format!("its output so far:\n{}", output()),
    );
    match endpoint {
        Some(endpoint) => (child, endpoint),
        None => panic!(
            "hitl local exited ({}) before serving; its output:\n{}",
            exited.map(|status| status.to_string()).unwrap_or_default(),
            output()
        ),
    }
}

/// The variables cargo sets for running a package's tests, as opposed to
/// the ones that configure cargo (CARGO_HOME, CARGO_TARGET_DIR, ...).
fn is_package_variable(key: &str) -> bool {
    const PREFIXES: &[&str] = &["CARGO_PKG_", "CARGO_BIN_EXE_", "CARGO_MANIFEST_"];
    const NAMES: &[&str] = &[
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    NAMES.contains(&key) || PREFIXES.iter().any(|prefix| key.starts_with(prefix))
}

fn port_of(endpoint: &str) -> u16 {
    endpoint
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {endpoint}"))
}

/// One instance of `hitl local` shared by the tests that hold it: the first
/// caller starts it, the last holder to drop it stops it. Tests sharing one
/// must use distinct execution names.
pub(crate) fn shared(slot: &'static SharedSlot, overrides: &[&str]) -> Arc<LocalMode> {
    let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(running) = slot.upgrade() {
        return running;
    }
    let started = Arc::new(LocalMode::start(overrides));
    *slot = Arc::downgrade(&started);
    started
}

/// Where [`shared`] keeps an instance: `static SLOT: SharedSlot = SharedSlot::new(Weak::new());`.
pub(crate) type SharedSlot = Mutex<Weak<LocalMode>>;

/// An execution as `DescribeExecution` tells it.
#[derive(Debug, Clone)]
pub(crate) struct Described {
    pub(crate) status: String,
    pub(crate) output: Option<Value>,
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
}

/// The Step Functions calls the flows make, by the AWS CLI or by the SDK.
pub(crate) trait StepFunctions: Sync {
    /// Who makes the calls, for messages.
    fn name(&self) -> &'static str;
    /// `StartExecution` with the JSON text `input`; gives the execution ARN.
    fn start(&self, name: &str, input: &str) -> String;
    /// `SendTaskSuccess`; an error is the error code (e.g. `TaskTimedOut`).
    fn send_task_success(&self, token: &str, output: &str) -> Result<(), String>;
    /// `DescribeExecution`.
    fn describe(&self, execution_arn: &str) -> Described;

    /// Polls until the execution has ended.
    fn wait_until_done(&self, execution_arn: &str) -> Described {
        poll(
            "the execution to end",
            TIMEOUT,
            || Some(self.describe(execution_arn)).filter(|d| d.status != "RUNNING"),
            || format!("{execution_arn}: {:?}", self.describe(execution_arn)),
        )
    }
}

/// aws-sdk-sfn, on local mode.
pub(crate) struct Sdk {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_sfn::Client,
    state_machine: String,
}

impl Sdk {
    pub(crate) fn connect(local: &LocalMode) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let config = runtime.block_on(
            aws_https::defaults()
                .endpoint_url(local.endpoint())
                .region(Region::new(REGION))
                .credentials_provider(Credentials::new("test", "test", None, None, "e2e"))
                .load(),
        );
        let client = aws_sdk_sfn::Client::new(&config);
        let machines = runtime
            .block_on(client.list_state_machines().send())
            .expect("ListStateMachines");
        let [machine] = machines.state_machines() else {
            panic!("one state machine expected: {machines:?}");
        };
        let state_machine = machine.state_machine_arn().to_owned();
        Self {
            runtime,
            client,
            state_machine,
        }
    }
}

impl Sdk {
    /// The ARN of this state machine's execution named `name`.
    pub(crate) fn execution_arn(&self, name: &str) -> String {
        format!(
            "{}:{name}",
            self.state_machine
                .replacen(":stateMachine:", ":execution:", 1)
        )
    }

    /// Every event of the execution's history, oldest first, all pages.
    pub(crate) fn history(&self, execution_arn: &str) -> Vec<aws_sdk_sfn::types::HistoryEvent> {
        let mut events = Vec::new();
        let mut next = None;
        loop {
            let page = self
                .runtime
                .block_on(
                    self.client
                        .get_execution_history()
                        .execution_arn(execution_arn)
                        .max_results(1000)
                        .set_next_token(next)
                        .send(),
                )
                .unwrap_or_else(|error| panic!("GetExecutionHistory {execution_arn}: {error:?}"));
            events.extend_from_slice(page.events());
            match page.next_token() {
                Some(token) => next = Some(token.to_owned()),
                None => return events,
            }
        }
    }

    /// How many tasks of the execution were scheduled with parameters that
    /// contain `needle` (e.g. a function's logical id, which its name holds).
    pub(crate) fn scheduled(&self, execution_arn: &str, needle: &str) -> usize {
        self.history(execution_arn)
            .iter()
            .filter_map(|event| event.task_scheduled_event_details())
            .filter(|scheduled| scheduled.parameters().contains(needle))
            .count()
    }

    /// How many times the execution left states named `state`.
    pub(crate) fn exited(&self, execution_arn: &str, state: &str) -> usize {
        self.history(execution_arn)
            .iter()
            .filter_map(|event| event.state_exited_event_details())
            .filter(|exited| exited.name() == state)
            .count()
    }

    /// DescribeExecution's `redriveCount`.
    pub(crate) fn redrive_count(&self, execution_arn: &str) -> i32 {
        self.runtime
            .block_on(
                self.client
                    .describe_execution()
                    .execution_arn(execution_arn)
                    .send(),
            )
            .unwrap_or_else(|error| panic!("DescribeExecution {execution_arn}: {error:?}"))
            .redrive_count()
            .unwrap_or(-1)
    }

    /// The errors of the execution's failed task attempts (`TaskFailed` events), oldest first.
    pub(crate) fn task_failures(&self, execution_arn: &str) -> Vec<String> {
        self.history(execution_arn)
            .iter()
            .filter_map(|event| event.task_failed_event_details())
            .map(|failed| failed.error().unwrap_or_default().to_owned())
            .collect()
    }
}

impl StepFunctions for Sdk {
    fn name(&self) -> &'static str {
        "aws-sdk-sfn"
    }

    fn start(&self, name: &str, input: &str) -> String {
        let started = self
            .runtime
            .block_on(
                self.client
                    .start_execution()
                    .state_machine_arn(&self.state_machine)
                    .name(name)
                    .input(input)
                    .send(),
            )
            .unwrap_or_else(|error| panic!("StartExecution {name}: {error:?}"));
        started.execution_arn().to_owned()
    }

    fn send_task_success(&self, token: &str, output: &str) -> Result<(), String> {
        self.runtime
            .block_on(
                self.client
                    .send_task_success()
                    .task_token(token)
                    .output(output)
                    .send(),
            )
            .map(drop)
            .map_err(|error| error.code().unwrap_or("no error code").to_owned())
    }

    fn describe(&self, execution_arn: &str) -> Described {
        let described = self
            .runtime
            .block_on(
                self.client
                    .describe_execution()
                    .execution_arn(execution_arn)
                    .send(),
            )
            .unwrap_or_else(|error| panic!("DescribeExecution {execution_arn}: {error:?}"));
        Described {
            status: described.status().as_str().to_owned(),
            output: described.output().map(parse_json),
            error: described.error().map(str::to_owned),
            cause: described.cause().map(str::to_owned),
        }
    }
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

/// The real AWS CLI (PyPI `awscli`), with dummy credentials and
/// `--endpoint-url`, reading no profile.
pub(crate) struct AwsCli {
    program: PathBuf,
    endpoint: String,
    /// For waiting: a CLI call costs a Python start (about half a second).
    sdk: Sdk,
}

impl AwsCli {
    /// The AWS CLI: `<repo>/.tools/venv/bin/aws` (where scripts/test.sh
    /// installs it), else `aws` on PATH. `None`, with the reason printed, when
    /// neither runs: the CLI-driven tests are then skipped.
    pub(crate) fn find() -> Option<PathBuf> {
        static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
        let found = FOUND.get_or_init(|| {
            let installed = repo_root().join(".tools/venv/bin/aws");
            [installed, PathBuf::from("aws")]
                .into_iter()
                .find(|program| {
                    Command::new(program)
                        .arg("--version")
                        .output()
                        .is_ok_and(|output| output.status.success())
                })
        });
        if found.is_none() {
            // scripts/test.sh installs the CLI and sets this, so CI never skips quietly.
            assert!(
                std::env::var_os("HITL_REQUIRE_AWS_CLI").is_none(),
                "no AWS CLI (neither .tools/venv/bin/aws nor aws on PATH runs), and \
                 HITL_REQUIRE_AWS_CLI is set: install it (scripts/test.sh does)"
            );
            eprintln!(
                "skipped: no AWS CLI (neither .tools/venv/bin/aws nor aws on PATH runs); \
                 scripts/test.sh installs it"
            );
        }
        found.clone()
    }

    pub(crate) fn connect(program: PathBuf, local: &LocalMode) -> Self {
        Self {
            program,
            endpoint: local.endpoint().to_owned(),
            sdk: Sdk::connect(local),
        }
    }

    /// `program` with the environment the tests allow: dummy credentials, no
    /// profile, no retries, no instance metadata.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(repo_root())
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .envs([
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
                ("AWS_DEFAULT_REGION", REGION),
                ("AWS_MAX_ATTEMPTS", "1"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
                ("AWS_CONFIG_FILE", "/nonexistent"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
            ]);
        command
    }

    /// Runs `aws ARGS --endpoint-url ENDPOINT`.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command(&self.program)
            .args(args)
            .args(["--endpoint-url", &self.endpoint])
            .output()
            .expect("the AWS CLI runs")
    }

    /// Runs a command that must succeed and print JSON.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "aws {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        parse_json(&String::from_utf8_lossy(&output.stdout))
    }

    /// Runs a shell command line, as a reviewer pastes it, with `aws` on PATH.
    pub(crate) fn shell(&self, line: &str) -> Output {
        self.command("sh")
            .env("PATH", self.path_with_cli())
            .args(["-c", line])
            .output()
            .expect("sh runs")
    }

    /// PATH with the `aws` program's directory first.
    fn path_with_cli(&self) -> std::ffi::OsString {
        let mut dirs = Vec::new();
        if let Some(dir) = self
            .program
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
        {
            dirs.push(dir.to_path_buf());
        }
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).expect("a PATH")
    }
}

/// The error code in the AWS CLI's message: `An error occurred (CODE) when calling ...`.
fn cli_error_code(stderr: &str) -> String {
    stderr
        .split_once("An error occurred (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(code, _)| code.to_owned())
        .unwrap_or_else(|| format!("no error code in: {stderr}"))
}

impl StepFunctions for AwsCli {
    fn name(&self) -> &'static str {
        "the AWS CLI"
    }

    fn start(&self, name: &str, input: &str) -> String {
        let started = self.json(&[
            "stepfunctions",
            "start-execution",
            "--state-machine-arn",
            &self.sdk.state_machine,
            "--name",
            name,
            "--input",
            input,
        ]);
        started["executionArn"]
            .as_str()
            .unwrap_or_else(|| panic!("no executionArn: {started}"))
            .to_owned()
    }

    fn send_task_success(&self, token: &str, output: &str) -> Result<(), String> {
        let result = self.run(&[
            "stepfunctions",
            "send-task-success",
            "--task-token",
            token,
            "--task-output",
            output,
        ]);
        if result.status.success() {
            Ok(())
        } else {
            Err(cli_error_code(&String::from_utf8_lossy(&result.stderr)))
        }
    }

    /// Waits with the SDK, then reads the result with the CLI.
    fn wait_until_done(&self, execution_arn: &str) -> Described {
        self.sdk.wait_until_done(execution_arn);
        self.describe(execution_arn)
    }

    fn describe(&self, execution_arn: &str) -> Described {
        let described = self.json(&[
            "stepfunctions",
            "describe-execution",
            "--execution-arn",
            execution_arn,
        ]);
        let text = |key: &str| described[key].as_str().map(str::to_owned);
        Described {
            status: text("status").unwrap_or_default(),
            output: text("output").as_deref().map(parse_json),
            error: text("error"),
            cause: text("cause"),
        }
    }
}

/// The `hitl` commands, on local mode through `AWS_ENDPOINT_URL`, in an
/// environment without the developer's AWS profile or samconfig.toml.
pub(crate) struct Hitl {
    endpoint: String,
}

impl Hitl {
    pub(crate) fn new(local: &LocalMode) -> Self {
        Self {
            endpoint: local.endpoint().to_owned(),
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("hitl runs")
    }

    /// Runs a command whose standard output is a pipe already closed by its reader, as in
    /// `hitl status X | head -0`; gives its exit status and error output.
    pub(crate) fn run_into_closed_pipe(&self, args: &[&str]) -> (ExitStatus, String) {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let output = self
            .command(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .and_then(std::process::Child::wait_with_output)
            .expect("hitl runs");
        (
            output.status,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn command(&self, args: &[&str]) -> Command {
        let home = std::env::temp_dir().join("hitl-e2e-home");
        let mut command = Command::new(env!("CARGO_BIN_EXE_hitl"));
        command
            .current_dir(repo_root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .args(["--config-file", NO_SAMCONFIG])
            .args(args);
        command
    }

    /// Runs a command that must succeed; gives its standard output.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "hitl {args:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs a command that must fail with exit status 2; gives its error output.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "hitl {args:?} should fail; stdout: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// The names `hitl pending` lists (first column of its table).
    pub(crate) fn pending(&self) -> Vec<String> {
        let listing = self.ok(&["pending"]);
        if listing.contains("No review is waiting.") {
            return Vec::new();
        }
        listing
            .lines()
            .skip(1)
            .take_while(|line| !line.trim().is_empty())
            .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
            .collect()
    }
}

/// The email outbox of local SNS.
pub(crate) struct Outbox(PathBuf);

impl Outbox {
    /// Every email with this exact subject, oldest first.
    pub(crate) fn with_subject(&self, subject: &str) -> Vec<ParsedEmail> {
        sns_local::list_outbox(&self.0)
            .expect("the outbox is readable")
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            // Headers first: decoding every body on every poll is slow with large requests.
            .filter(|raw| subject_of(raw).as_deref() == Some(subject))
            .map(|raw| sns_local::parse_eml(&raw))
            .collect()
    }

    /// Waits for the email with this subject.
    pub(crate) fn wait_for(&self, subject: &str) -> ParsedEmail {
        poll(
            &format!("an email with subject {subject:?}"),
            TIMEOUT,
            || self.with_subject(subject).into_iter().next(),
            || format!("subjects in the outbox: {:?}", self.subjects()),
        )
    }

    fn subjects(&self) -> Vec<String> {
        sns_local::list_outbox(&self.0)
            .unwrap_or_default()
            .iter()
            .filter_map(|path| subject_of(&std::fs::read_to_string(path).ok()?))
            .collect()
    }

    /// Every email to `to` whose subject starts with `prefix`, oldest first.
    pub(crate) fn to(&self, to: &str, prefix: &str) -> Vec<ParsedEmail> {
        sns_local::list_outbox(&self.0)
            .expect("the outbox is readable")
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .filter(|raw| subject_of(raw).is_some_and(|s| s.starts_with(prefix)))
            .map(|raw| sns_local::parse_eml(&raw))
            .filter(|email| email.header("To") == Some(to))
            .collect()
    }

    /// Waits for the review request of an execution to one reviewer.
    pub(crate) fn review_email_to(&self, execution_name: &str, to: &str) -> ReviewEmail {
        let subject = format!("Review requested: {execution_name}");
        ReviewEmail::read(poll(
            &format!("{subject:?} to {to}"),
            TIMEOUT,
            || {
                self.to(to, &subject)
                    .into_iter()
                    .find(|email| email.subject().as_deref() == Some(subject.as_str()))
            },
            || format!("subjects in the outbox: {:?}", self.subjects()),
        ))
    }

    /// Waits for the review request of an execution.
    pub(crate) fn review_email(&self, execution_name: &str) -> ReviewEmail {
        ReviewEmail::read(self.wait_for(&format!("Review requested: {execution_name}")))
    }
}

/// The decoded subject of a raw email, read from its headers only.
fn subject_of(raw: &str) -> Option<String> {
    let head = raw.split_once("\r\n\r\n").map_or(raw, |(head, _)| head);
    sns_local::parse_eml(head).subject()
}

/// A review request email, with the parts a reviewer uses.
#[derive(Debug)]
pub(crate) struct ReviewEmail {
    pub(crate) email: ParsedEmail,
    /// The text after `Task token: `.
    pub(crate) token: String,
    /// The command line after `Approve:`.
    pub(crate) approve_command: String,
    /// The command line after `Reject:`.
    pub(crate) reject_command: String,
    /// The link line after `Approve:`.
    pub(crate) approve_link: String,
    /// The link line after `Reject:`.
    pub(crate) reject_link: String,
}

impl ReviewEmail {
    pub(crate) fn read(email: ParsedEmail) -> Self {
        let lines: Vec<&str> = email.body.lines().collect();
        // Each label comes twice: before the link and before the command.
        let after = |label: &str, starts: &str| {
            lines
                .windows(2)
                .find(|pair| pair[0] == label && pair[1].starts_with(starts))
                .map(|pair| pair[1].to_owned())
                .unwrap_or_else(|| panic!("no {starts:?} line after {label:?} in:\n{}", email.body))
        };
        let token = lines
            .iter()
            .find_map(|line| line.strip_prefix("Task token: "))
            .unwrap_or_else(|| panic!("no 'Task token: ' line in:\n{}", email.body))
            .to_owned();
        Self {
            approve_command: after("Approve:", "aws "),
            reject_command: after("Reject:", "aws "),
            approve_link: after("Approve:", "http"),
            reject_link: after("Reject:", "http"),
            token,
            email,
        }
    }

    pub(crate) fn body(&self) -> &str {
        &self.email.body
    }
}

/// A minimal HTTP/1.1 exchange on loopback, as a browser or a mail scanner
/// would make it: gives the status and the body.
pub(crate) fn http(method: &str, url: &str, form: Option<&[(&str, &str)]>) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let body = form
        .map(|fields| {
            fields
                .iter()
                .map(|(name, value)| format!("{name}={}", percent_encode(value)))
                .collect::<Vec<_>>()
                .join("&")
        })
        .unwrap_or_default();
    let mut stream = std::net::TcpStream::connect(host).expect("connect to local mode");
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         User-Agent: e2e\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The raw value of a query parameter of a link (no decoding: the review
/// page parses `+ / =` leniently).
pub(crate) fn query_value(link: &str, name: &str) -> String {
    link.split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {link}"))
        .to_owned()
}
