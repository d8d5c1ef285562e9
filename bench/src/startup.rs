//! How long `hitl local` takes to be ready: the first start of a fresh clone (empty
//! `target/`, everything compiled: hitl and the functions it runs) and a restart with
//! nothing changed, each timed from `cargo run` to the "Ready:" line, as a user runs
//! the README's quick start (`cargo run -p hitl -- local`: cargo's dev profile) or, with
//! `--local-start-release`, its optimised form (`cargo run --release -p hitl -- local`).
//!
//! The fresh clone is `git clone` of this repository's committed HEAD into the work
//! directory, built in its own `target/` (`CARGO_TARGET_DIR` is cleared), so nothing
//! already compiled is reused. It takes minutes and all cores: an option of the bench
//! (`--local-start`), never part of `--smoke`. Each row carries the load average when
//! it started and when it was ready, since a shared machine slows a build down.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The line `hitl local` prints once it serves (crates/hitl/src/local.rs).
const READY: &str = "Ready: local mode answers on";
/// A cold build on a slow machine; past this the bench gives up.
const COLD_TIMEOUT: Duration = Duration::from_secs(40 * 60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// One start, timed.
#[derive(Debug, Clone)]
pub(crate) struct Start {
    pub(crate) ready: Duration,
    pub(crate) load_before: String,
    pub(crate) load_ready: String,
}

/// The figures, for the report.
#[derive(Debug, Clone)]
pub(crate) struct Startup {
    pub(crate) cold: Start,
    pub(crate) warm: Start,
    pub(crate) commit: String,
    pub(crate) cores: usize,
    /// The command timed.
    pub(crate) command: String,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "?".into())
}

fn run(command: &mut Command) -> anyhow::Result<String> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Clones `repo` into `work/clone`, starts `hitl local` there twice and times both.
pub(crate) fn measure(repo: &Path, work: &Path, release: bool) -> anyhow::Result<Startup> {
    let clone = work.join("clone");
    let _ = std::fs::remove_dir_all(&clone);
    eprintln!(
        "hitl-bench: local start: cloning {} into {}",
        repo.display(),
        clone.display()
    );
    run(Command::new("git")
        .args(["clone", "--quiet"])
        .arg(repo)
        .arg(&clone))?;
    let commit = run(Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(&clone))?;
    let state = work.join("local-state");
    let log = work.join("local-start.log");

    eprintln!(
        "hitl-bench: local start: first start of a fresh clone (compiles everything; minutes)"
    );
    let cold = start(&clone, &state, &log, COLD_TIMEOUT, release)?;
    eprintln!(
        "hitl-bench: local start: cold {:.0} s; restarting with nothing changed",
        cold.ready.as_secs_f64()
    );
    let warm = start(&clone, &state, &log, Duration::from_secs(120), release)?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    // The clone's target/ is gigabytes.
    let _ = std::fs::remove_dir_all(&clone);
    Ok(Startup {
        cold,
        warm,
        commit,
        cores,
        command: cargo_run(release).join(" "),
    })
}

/// `cargo run [--release] -p hitl -- local`, as the README gives it.
fn cargo_run(release: bool) -> Vec<&'static str> {
    let mut args = vec!["cargo", "run"];
    if release {
        args.push("--release");
    }
    args.extend(["-p", "hitl", "--", "local"]);
    args
}

/// `cargo run [--release] -p hitl -- local` in `clone` until its Ready line, then stops it.
fn start(
    clone: &Path,
    state: &Path,
    log: &Path,
    timeout: Duration,
    release: bool,
) -> anyhow::Result<Start> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .context("no free port")?;
    let log_file = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    let already = log_file.metadata().map(|m| m.len()).unwrap_or(0) as usize;
    let load_before = load_average();
    let started = Instant::now();
    let mut cargo = Command::new("cargo")
        .current_dir(clone)
        // The clone's own, empty target/: nothing compiled elsewhere is reused.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env("CARGO_TERM_COLOR", "never")
        .args(["run", "--locked"])
        .args(release.then_some("--release"))
        .args(["-p", "hitl", "--"])
        .args(["--config-file", "/nonexistent/samconfig.toml", "local"])
        .args(["--port", &port.to_string(), "--state-dir"])
        .arg(state)
        .args([
            "--parameter-overrides",
            "DecisionEmail=decisions@example.com",
        ])
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().context("log file")?)
        .stderr(log_file)
        .spawn()
        .context("cannot run cargo")?;
    let output = || {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        text.get(already..).unwrap_or_default().to_owned()
    };
    let ready = loop {
        if output().contains(READY) {
            break started.elapsed();
        }
        if let Ok(Some(status)) = cargo.try_wait() {
            bail!(
                "hitl local exited ({status}) before it was ready; its output is in {}",
                log.display()
            );
        }
        if started.elapsed() > timeout {
            let _ = cargo.kill();
            bail!(
                "hitl local was not ready within {timeout:?}; its output is in {}",
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let load_ready = load_average();
    // `cargo run` does not pass signals on: stop hitl itself, whose pid the state
    // directory's lock file holds.
    let holder = std::fs::read_to_string(state.join("lock")).unwrap_or_default();
    let _ = Command::new("kill").args(["-TERM", holder.trim()]).status();
    let deadline = Instant::now() + STOP_TIMEOUT;
    while matches!(cargo.try_wait(), Ok(None)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if matches!(cargo.try_wait(), Ok(None)) {
        let _ = cargo.kill();
        let _ = cargo.wait();
        bail!("hitl local did not stop within {STOP_TIMEOUT:?} of SIGTERM");
    }
    Ok(Start {
        ready,
        load_before,
        load_ready,
    })
}

/// The Markdown table of the figures.
pub(crate) fn render(startup: &Startup) -> String {
    let row = |what: &str, start: &Start| {
        format!(
            "| {what} | {:.1} | {} | {} |\n",
            start.ready.as_secs_f64(),
            start.load_before,
            start.load_ready
        )
    };
    let mut text = format!(
        "Commit {}, {} cores; from `{}` to its Ready line.\n\n\
         | start | s | load average at start (1/5/15 min) | at Ready |\n|---|---:|---|---|\n",
        startup.commit, startup.cores, startup.command
    );
    text.push_str(&row(
        "first start of a fresh clone (empty target/)",
        &startup.cold,
    ));
    text.push_str(&row("restart, nothing changed", &startup.warm));
    text
}

/// The repository this bench was built from.
pub(crate) fn repository() -> anyhow::Result<PathBuf> {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::path::absolute(bench.parent().unwrap_or(bench)).context("the repository's path")
}
