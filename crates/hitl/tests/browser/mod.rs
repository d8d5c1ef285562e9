//! A real headless browser for the end-to-end tests: Debian's Chromium,
//! driven by `session.mjs` (playwright-core) beside this file.
//!
//! One Node process per [`Browser`] keeps one Chromium running and takes one
//! command per line on its standard input ("open this link in tab a", "fill
//! in the form", "click Send my decision", "take a screenshot"), answering
//! each with a JSON line: the page as the reviewer sees it ([`Page`]). So a
//! test steps the browser and the workflow in turns, with no fixed sleeps:
//! open a form, let the review expire, then click. Why not WebDriver
//! (fantoccini + chromedriver): that adds a Rust HTTP client tree to every
//! build of the tests on a 2-core machine, and the project already installs
//! Node tools with `npm ci`; playwright-core has no dependencies, brings no
//! browser, and finds fields by their accessible names.
//!
//! [`Browser::launch`] gives `None` (the test is skipped, with the reason)
//! when Node, playwright-core or Chromium is missing, unless
//! `HITL_REQUIRE_BROWSER=1` (set by scripts/test.sh), which makes a missing
//! browser a failure.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

/// How long one command may take: a page load calls Step Functions, and on a
/// loaded 2-core machine Chromium's first page takes a few seconds.
const STEP_TIMEOUT: Duration = Duration::from_secs(90);
/// How long the browser may take to close after its last command.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(15);
/// Debian's Chromium; `HITL_CHROMIUM` names another.
const CHROMIUM: &str = "/usr/bin/chromium";

/// A page as the reviewer sees it, after `open` or `send`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Page {
    /// The HTTP status of the response the browser shows.
    pub(crate) status: u16,
    /// The response's `Content-Security-Policy` header.
    pub(crate) csp: Option<String>,
    /// The URL's path (never its query: it holds the token).
    pub(crate) path: String,
    pub(crate) title: String,
    /// The text of the page's `<h1>`.
    pub(crate) heading: Option<String>,
    /// The visible text of `<main>` (`innerText`).
    pub(crate) text: String,
    pub(crate) forms: usize,
    /// The buttons' labels.
    pub(crate) buttons: Vec<String>,
    /// The checked decision radio (`approve`/`reject`), if any.
    pub(crate) decision: Option<String>,
    /// Whether the page's style block applied (it would not if the CSP's hash
    /// were wrong): `<main>`'s background differs from the body's.
    pub(crate) styled: bool,
    /// What the console reported while the page loaded (CSP violations,
    /// failed loads), as `type: text`.
    pub(crate) console: Vec<String>,
}

/// What to fill in on the review form; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub(crate) struct Fill<'a> {
    pub(crate) decision: Option<&'a str>,
    pub(crate) reviewer: Option<&'a str>,
    pub(crate) comment: Option<&'a str>,
}

/// A running headless Chromium with its tabs.
pub(crate) struct Browser {
    child: Child,
    stdin: Option<ChildStdin>,
    answers: Receiver<String>,
    /// Holds Chromium's profile and the script's error output.
    dir: tempfile::TempDir,
}

impl Browser {
    /// Launches Chromium, or gives `None` after saying why a test is skipped.
    ///
    /// # Panics
    /// When `HITL_REQUIRE_BROWSER` is set and something is missing.
    pub(crate) fn launch() -> Option<Self> {
        if let Err(missing) = prerequisites() {
            let required = std::env::var("HITL_REQUIRE_BROWSER")
                .is_ok_and(|value| !value.is_empty() && value != "0");
            assert!(
                !required,
                "HITL_REQUIRE_BROWSER is set, but {missing}. scripts/test.sh installs \
                 Chromium (apt-get install chromium) and playwright-core (npm ci)."
            );
            eprintln!(
                "skipped: no headless browser ({missing}); scripts/test.sh installs it \
                 (apt-get install chromium; npm ci)"
            );
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("hitl-browser-")
            .tempdir()
            .expect("a temporary directory");
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).expect("a log file");
        let mut child = Command::new("node")
            .arg(script())
            .current_dir(test_support::repo_root())
            .env("HITL_CHROMIUM", chromium())
            .env("HITL_BROWSER_PROFILE", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            // Its own process group: a hung browser is killed with its children.
            .process_group(0)
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, answers) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Some(Self {
            child,
            stdin,
            answers,
            dir,
        })
    }

    /// Opens `url` in `tab` (a new tab the first time) and gives the page.
    pub(crate) fn open(&mut self, tab: &str, url: &str) -> Page {
        self.page(json!({"cmd": "open", "tab": tab, "url": url}))
    }

    /// Fills in the review form in `tab`, as a person would: by the fields' labels.
    pub(crate) fn fill(&mut self, tab: &str, fill: &Fill<'_>) {
        let mut command = json!({"cmd": "fill", "tab": tab});
        for (key, value) in [
            ("decision", fill.decision),
            ("reviewer", fill.reviewer),
            ("comment", fill.comment),
        ] {
            if let Some(value) = value {
                command[key] = json!(value);
            }
        }
        self.command(command);
    }

    /// Clicks "Send my decision" in `tab` and gives the page the post leads to.
    pub(crate) fn send(&mut self, tab: &str) -> Page {
        self.page(json!({"cmd": "send", "tab": tab}))
    }

    /// Saves a full-page PNG of `tab` at `path`.
    pub(crate) fn screenshot(&mut self, tab: &str, path: &Path) {
        self.command(json!({"cmd": "screenshot", "tab": tab, "path": path}));
    }

    fn page(&mut self, command: Value) -> Page {
        let answer = self.command(command);
        serde_json::from_value(answer["page"].clone())
            .unwrap_or_else(|error| panic!("not a page ({error}): {answer}"))
    }

    /// Sends one command and waits for its answer; panics with the reason
    /// (the script's, or its error output) when it fails.
    fn command(&mut self, command: Value) -> Value {
        let what = command["cmd"].as_str().unwrap_or_default().to_owned();
        let stdin = self.stdin.as_mut().expect("stdin is open until drop");
        writeln!(stdin, "{command}")
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|error| {
                panic!("the browser script is gone ({error}){}", self.stderr())
            });
        let line = match self.answers.recv_timeout(STEP_TIMEOUT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                panic!(
                    "browser: {what} took over {STEP_TIMEOUT:?}{}",
                    self.stderr()
                )
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("browser: the script ended during {what}{}", self.stderr())
            }
        };
        let answer: Value = serde_json::from_str(&line)
            .unwrap_or_else(|error| panic!("browser: not JSON ({error}): {line}"));
        assert_eq!(
            answer["ok"], true,
            "browser: {what} failed: {}",
            answer["error"]
        );
        answer
    }

    fn stderr(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default();
        if text.trim().is_empty() {
            String::new()
        } else {
            format!("; its error output:\n{text}")
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // End of input: the script closes Chromium and exits.
        drop(self.stdin.take());
        let deadline = Instant::now() + CLOSE_TIMEOUT;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            eprintln!("the browser did not close within {CLOSE_TIMEOUT:?}: killing it");
            // The process group this Browser started (node and its Chromium).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .status();
            let _ = self.child.wait();
        }
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/session.mjs")
}

fn chromium() -> PathBuf {
    std::env::var_os("HITL_CHROMIUM").map_or_else(|| PathBuf::from(CHROMIUM), PathBuf::from)
}

/// Node, playwright-core (from `npm ci` at the repository root) and Chromium.
fn prerequisites() -> Result<(), String> {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !node {
        return Err("node does not run".to_owned());
    }
    let playwright = test_support::repo_root().join("node_modules/playwright-core/package.json");
    if !playwright.is_file() {
        return Err("playwright-core is not installed in node_modules".to_owned());
    }
    let chromium = chromium();
    let runs = Command::new(&chromium)
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|output| output.status.success());
    if !runs {
        return Err(format!("{} does not run", chromium.display()));
    }
    Ok(())
}
