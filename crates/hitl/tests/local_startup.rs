//! How `hitl local` starts, with the real binary: while it builds, its port
//! answers every request at once with a 503 saying what it waits for; a second
//! server on the same state directory is refused within seconds, naming the
//! first; it prints one Ready line; and after a SIGKILL the next start takes
//! the directory again and reuses the last build.
//!
//! The build is held open by a `cargo` shim first on PATH that waits for a file
//! before running the real cargo: the "while building" window is then as long
//! as the test needs, not a race against a fast incremental build.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use test_support::{NO_SAMCONFIG, free_port, repo_root};

/// The first start compiles the functions in the dev profile.
const START_TIMEOUT: Duration = Duration::from_secs(600);
const TIMEOUT: Duration = Duration::from_secs(20);

fn poll<T>(what: &str, timeout: Duration, probe: impl FnMut() -> Option<T>) -> T {
    test_support::poll(what, timeout, probe, String::new)
}

/// A directory with a `cargo` that waits for `release` to exist before a
/// `cargo build`, then runs the real cargo.
fn cargo_shim(dir: &Path, release: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("{e}"));
    let real = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = build ]; then\n  while [ ! -e '{}' ]; do sleep 0.05; done\nfi\nexec '{real}' \"$@\"\n",
        release.display()
    );
    let shim = bin.join("cargo");
    std::fs::write(&shim, script).unwrap_or_else(|e| panic!("{e}"));
    let made = Command::new("chmod").arg("+x").arg(&shim).status();
    assert!(made.is_ok_and(|s| s.success()), "chmod the shim");
    bin
}

/// A running `hitl local`, stopped (SIGTERM, then SIGKILL) when dropped, also
/// when the test fails.
struct Running(Child);

impl Running {
    fn id(&self) -> u32 {
        self.0.id()
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.0.try_wait().ok().flatten()
    }

    /// A crash: SIGKILL, nothing stopped or flushed.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.id().to_string()])
                .status();
            let deadline = Instant::now() + TIMEOUT;
            while self.exited().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.kill();
    }
}

/// `hitl local --debug` on `port` and `state`, its output appended to `log`.
fn spawn(state: &Path, port: u16, log: &Path, path_first: &Path) -> Running {
    let log = File::options()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| panic!("{e}"));
    let path = std::env::join_paths(std::iter::once(path_first.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_hitl"));
    // Not the variables cargo sets for this test's package: a nested cargo
    // seeing them would rebuild crates whose build scripts watch them.
    test_support::cargo_env::without_package_variables(&mut command);
    command
        .current_dir(repo_root())
        .env("PATH", path)
        .args(["--config-file", NO_SAMCONFIG, "local", "--debug", "--port"])
        .arg(port.to_string())
        .arg("--state-dir")
        .arg(state)
        .args([
            "--parameter-overrides",
            "DecisionEmail=decisions@example.com",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap_or_else(|e| panic!("{e}")))
        .stderr(log)
        .spawn()
        .map(Running)
        .unwrap_or_else(|e| panic!("hitl starts: {e}"))
}

/// A Step Functions `ListStateMachines` over plain HTTP/1.1: (status, body).
fn list_state_machines(port: u16) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(TIMEOUT)).ok()?;
    let body = "{}";
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\n\
         Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    Some((status, body.to_owned()))
}

#[test]
fn startup_answers_503_until_ready_refuses_a_second_server_and_survives_a_sigkill() {
    let dir = tempfile::Builder::new()
        .prefix("hitl-startup-")
        .tempdir()
        .unwrap_or_else(|e| panic!("{e}"));
    let state = dir.path().join("state");
    let log_path = dir.path().join("hitl-local.log");
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let release = dir.path().join("release-the-build");
    let shim = cargo_shim(dir.path(), &release);
    let port = free_port();
    let mut first = spawn(&state, port, &log_path, &shim);

    // Held in its build: the lock is taken and the port answers at once.
    let lock = state.join("lock");
    poll("the state directory's lock", TIMEOUT, || {
        let text = std::fs::read_to_string(&lock).ok()?;
        (text.trim() == first.id().to_string()).then_some(())
    });
    let asked = Instant::now();
    let (status, body) = poll("a 503 while building", TIMEOUT, || {
        list_state_machines(port).filter(|(_, body)| body.contains("building"))
    });
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "answered after {:?}",
        asked.elapsed()
    );
    assert_eq!(status, 503, "{body}");
    let error: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(error["__type"], "ServiceUnavailable", "{body}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("building the functions")),
        "the message says what it waits for: {body}"
    );
    // The build selects hitl with the functions (one build: see tests/one_build.rs).
    poll("the build's command line", TIMEOUT, || {
        log()
            .contains("Building the functions: cargo build -p ask_reviewer -p hitl -p open_review -p process_approval")
            .then_some(())
    });

    // A second server on the same directory: refused in seconds, naming the first.
    let started = Instant::now();
    let second_log = dir.path().join("second.log");
    let mut second = spawn(&state, free_port(), &second_log, &shim);
    let status = poll("the second server to exit", TIMEOUT, || second.exited());
    let refused = std::fs::read_to_string(&second_log).unwrap_or_default();
    assert!(!status.success(), "{refused}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        refused.contains(&format!("process {}", first.id())) && refused.contains("--state-dir"),
        "the refusal names the holder and the way out: {refused}"
    );
    assert!(
        !refused.contains("Building the functions"),
        "refused before building: {refused}"
    );

    // Let the build run: one Ready line, then the real service answers.
    File::create(&release).unwrap_or_else(|e| panic!("{e}"));
    let ready = format!("Ready: local mode answers on http://127.0.0.1:{port}");
    poll("the Ready line", START_TIMEOUT, || {
        assert!(first.exited().is_none(), "hitl local exited: {}", log());
        log().contains(&ready).then_some(())
    });
    assert_eq!(log().matches("Ready:").count(), 1, "{}", log());
    let (status, body) = list_state_machines(port).unwrap_or_default();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("stateMachines"), "{body}");

    // A crash leaves the lock file; the next start takes the directory and
    // reuses the build it left.
    first.kill();
    let before = log().len();
    let mut again = spawn(&state, port, &log_path, &shim);
    poll("the Ready line after a SIGKILL", START_TIMEOUT, || {
        assert!(again.exited().is_none(), "hitl local exited: {}", log());
        log()[before..].contains(&ready).then_some(())
    });
    let restarted = log()[before..].to_owned();
    assert!(
        restarted.contains("Reusing the last build of the functions: nothing to compile"),
        "{restarted}"
    );
    let holder = std::fs::read_to_string(&lock).unwrap_or_default();
    assert_eq!(holder.trim(), again.id().to_string());
}
