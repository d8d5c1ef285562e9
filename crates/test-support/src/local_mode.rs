//! `hitl local` as a child process of a test.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::{DECISION_EMAIL, NO_SAMCONFIG, Outbox, START_TIMEOUT, STOP_TIMEOUT, poll, repo_root};

/// `hitl local`, running.
pub struct LocalMode {
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
    pub fn start(overrides: &[&str]) -> Self {
        Self::start_in(temp_dir(), None, &[], overrides)
    }

    /// Like [`LocalMode::start`], with more `hitl local` options
    /// (`--task-token-length 2048`).
    pub fn start_with_options(options: &[&str], overrides: &[&str]) -> Self {
        Self::start_in(temp_dir(), None, options, overrides)
    }

    /// Like [`LocalMode::start`], with the state machine defined by `definition`
    /// (a path from the repository root) instead of the deployed one: a copy of
    /// `template.yaml` with that `DefinitionUri`, in the instance's directory.
    pub fn start_with_definition(definition: &str, overrides: &[&str]) -> Self {
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
    pub fn start_with_template(edit: impl FnOnce(String) -> String, overrides: &[&str]) -> Self {
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

    /// `hitl local` on a template of the test's own (a fixture that does not
    /// take the review stack's parameters), with these `Key=Value` parameters.
    pub fn start_with_template_file(template: &Path, overrides: &[&str]) -> Self {
        let dir = temp_dir();
        let overrides: Vec<String> = overrides.iter().map(|o| (*o).to_owned()).collect();
        let template = template.to_owned();
        let (child, endpoint) = spawn(dir.path(), 0, &[], &overrides, Some(&template));
        let port = port_of(&endpoint);
        Self {
            dir: Some(dir),
            overrides,
            options: Vec::new(),
            template: Some(template),
            child,
            endpoint,
            port,
        }
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
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn outbox(&self) -> Outbox {
        Outbox(self.outbox_dir())
    }

    /// Where local SNS writes this instance's emails.
    pub fn outbox_dir(&self) -> PathBuf {
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
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path().join(LOG)).unwrap_or_default()
    }

    /// A crash: SIGKILL, with no chance to stop anything or flush anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops `hitl local` as a user does (SIGTERM, so it stops its function
    /// processes); SIGKILL if it hangs.
    pub fn stop(&mut self) {
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
    pub fn edit_template(&self, edit: impl FnOnce(String) -> String) {
        let template = self
            .template
            .as_ref()
            .expect("started with start_with_template");
        let text = std::fs::read_to_string(template).expect("the template copy");
        std::fs::write(template, edit(text)).expect("the template copy is written");
    }

    /// Starts `hitl local` again on the same state directory and port.
    pub fn restart(&mut self) {
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
    pub fn is_listening(&self) -> bool {
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
    let mut command = Command::new(crate::binary("hitl"));
    // Cargo gives this test the variables of the hitl package (CARGO_MANIFEST_DIR,
    // CARGO_PKG_*, ...). hitl local's own `cargo build` of the functions would
    // inherit them, and build scripts that watch them (ring's watches
    // CARGO_MANIFEST_DIR) would rebuild half the dependency tree on every start.
    crate::cargo_env::without_package_variables(&mut command);
    let mut child = command
        .current_dir(repo_root())
        .args(["--config-file", NO_SAMCONFIG, "local", "--debug", "--port"])
        .arg(port.to_string())
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(template.iter().flat_map(|t| [Path::new("--template"), t]))
        .args(options)
        .args((!overrides.is_empty()).then_some("--parameter-overrides"))
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

fn port_of(endpoint: &str) -> u16 {
    endpoint
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {endpoint}"))
}

/// One instance of `hitl local` shared by the tests that hold it: the first
/// caller starts it, the last holder to drop it stops it. Tests sharing one
/// must use distinct execution names.
pub fn shared(slot: &'static SharedSlot, overrides: &[&str]) -> Arc<LocalMode> {
    let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(running) = slot.upgrade() {
        return running;
    }
    let started = Arc::new(LocalMode::start(overrides));
    *slot = Arc::downgrade(&started);
    started
}

/// Where [`shared`] keeps an instance: `static SLOT: SharedSlot = SharedSlot::new(Weak::new());`.
pub type SharedSlot = Mutex<Weak<LocalMode>>;
