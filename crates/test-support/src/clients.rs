//! The three ways a user drives the workflow: the AWS CLI, aws-sdk-sfn and `hitl`.

use std::path::PathBuf;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;

use aws_sdk_sfn::error::ProvideErrorMetadata;
use serde_json::Value;

use crate::{LocalMode, NO_SAMCONFIG, REGION, TIMEOUT, poll, repo_root};

/// An execution as `DescribeExecution` tells it.
#[derive(Debug, Clone)]
pub struct Described {
    pub status: String,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// The Step Functions calls the flows make, by the AWS CLI or by the SDK.
pub trait StepFunctions: Sync {
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
pub struct Sdk {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_sfn::Client,
    state_machine: String,
}

impl Sdk {
    /// On the only state machine of `local`.
    pub fn connect(local: &LocalMode) -> Self {
        Self::connect_to(local, "")
    }

    /// On the one state machine of `local` whose name contains `name`.
    pub fn connect_to(local: &LocalMode, name: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let config = runtime.block_on(crate::loopback_sdk_config(local.endpoint()));
        let client = aws_sdk_sfn::Client::new(&config);
        let machines = runtime
            .block_on(client.list_state_machines().send())
            .expect("ListStateMachines");
        let named: Vec<_> = machines
            .state_machines()
            .iter()
            .filter(|m| m.name().contains(name))
            .collect();
        let [machine] = named.as_slice() else {
            panic!("one state machine named like '{name}' expected: {machines:?}");
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
    pub fn execution_arn(&self, name: &str) -> String {
        format!(
            "{}:{name}",
            self.state_machine
                .replacen(":stateMachine:", ":execution:", 1)
        )
    }

    /// Every event of the execution's history, oldest first, all pages.
    pub fn history(&self, execution_arn: &str) -> Vec<aws_sdk_sfn::types::HistoryEvent> {
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
    pub fn scheduled(&self, execution_arn: &str, needle: &str) -> usize {
        self.history(execution_arn)
            .iter()
            .filter_map(|event| event.task_scheduled_event_details())
            .filter(|scheduled| scheduled.parameters().contains(needle))
            .count()
    }

    /// How many times the execution left states named `state`.
    pub fn exited(&self, execution_arn: &str, state: &str) -> usize {
        self.history(execution_arn)
            .iter()
            .filter_map(|event| event.state_exited_event_details())
            .filter(|exited| exited.name() == state)
            .count()
    }

    /// DescribeExecution's `redriveCount`.
    pub fn redrive_count(&self, execution_arn: &str) -> i32 {
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
    pub fn task_failures(&self, execution_arn: &str) -> Vec<String> {
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
pub struct AwsCli {
    program: PathBuf,
    endpoint: String,
    /// For waiting: a CLI call costs a Python start (about half a second).
    sdk: Sdk,
}

impl AwsCli {
    /// The AWS CLI: `<repo>/.tools/venv/bin/aws` (where scripts/test.sh
    /// installs it), else `aws` on PATH. `None`, with the reason printed, when
    /// neither runs: the CLI-driven tests are then skipped.
    pub fn find() -> Option<PathBuf> {
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

    /// On the only state machine of `local`.
    pub fn connect(program: PathBuf, local: &LocalMode) -> Self {
        Self::connect_to(program, local, "")
    }

    /// On the one state machine of `local` whose name contains `name`.
    pub fn connect_to(program: PathBuf, local: &LocalMode, name: &str) -> Self {
        Self {
            program,
            endpoint: local.endpoint().to_owned(),
            sdk: Sdk::connect_to(local, name),
        }
    }

    /// `program` with the environment the tests allow (see [`cli_command`]).
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = cli_command(program);
        command.current_dir(repo_root());
        command
    }

    /// Runs `aws ARGS --endpoint-url ENDPOINT`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(&self.program)
            .args(args)
            .args(["--endpoint-url", &self.endpoint])
            .output()
            .expect("the AWS CLI runs")
    }

    /// Runs a command that must succeed and print JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "aws {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        parse_json(&String::from_utf8_lossy(&output.stdout))
    }

    /// Runs a shell command line, as a reviewer pastes it, with `aws` on PATH.
    pub fn shell(&self, line: &str) -> Output {
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

/// `program` (the AWS CLI, or a shell that runs it) with the environment the
/// tests allow: dummy credentials, region [`REGION`], no profile, no endpoint
/// from the environment (each call passes `--endpoint-url`), no retries, no
/// instance metadata. Async tests turn it into `tokio::process::Command::from`.
pub fn cli_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
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
pub struct Hitl {
    endpoint: String,
}

impl Hitl {
    pub fn new(local: &LocalMode) -> Self {
        Self {
            endpoint: local.endpoint().to_owned(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("hitl runs")
    }

    /// Runs a command whose standard output is a pipe already closed by its reader, as in
    /// `hitl status X | head -0`; gives its exit status and error output.
    pub fn run_into_closed_pipe(&self, args: &[&str]) -> (ExitStatus, String) {
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
        let mut command = Command::new(crate::binary("hitl"));
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
    pub fn ok(&self, args: &[&str]) -> String {
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
    pub fn fails(&self, args: &[&str]) -> String {
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
    pub fn pending(&self) -> Vec<String> {
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
