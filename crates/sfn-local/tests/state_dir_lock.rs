//! One server per state directory, with the real binary: a second `sfn-local` on a
//! directory in use exits at once naming the holder, and a server killed with SIGKILL
//! leaves nothing that stops the next one.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Binary, Client, free_port, temp_dir, wait_ready};
use serde_json::json;

/// Runs `sfn-local` on `dir` and waits for it to exit: (exit code, stderr, how long it ran).
fn run_to_exit(dir: &Path) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sfn-local"))
        .args(["--port", &free_port().to_string(), "--state-dir"])
        .arg(dir)
        .env("RUST_LOG", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn sfn-local: {e}"));
    let deadline = started + Duration::from_secs(10);
    while matches!(child.try_wait(), Ok(None)) {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a second sfn-local started on {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_second_server_is_refused_and_a_killed_one_does_not_block_a_restart() {
    let dir = temp_dir("lock");
    let port = free_port();
    let mut first = Binary::spawn(port, &dir);
    let client = Client::new(format!("http://127.0.0.1:{port}"));
    wait_ready(&client).await;

    let (code, stderr, took) = run_to_exit(&dir);
    assert_eq!(code, Some(2), "stderr: {stderr}");
    let holder = format!("process {}", first.child.id());
    assert!(
        stderr.contains("in use by another server")
            && stderr.contains(&holder)
            && stderr.contains("--state-dir"),
        "the refusal names the holder ({holder}) and the way out: {stderr}"
    );
    assert!(took < Duration::from_secs(5), "refused after {took:?}");
    // The first server is untouched.
    let listed = client.call("ListStateMachines", json!({})).await;
    assert!(listed.is_ok(), "{listed:?}");

    // SIGKILL: the lock file stays, with the dead server's pid in it.
    first.kill();
    let left = std::fs::read_to_string(dir.join(sfn_local::lock::LOCK_FILE)).unwrap_or_default();
    assert_eq!(left.trim(), first.child.id().to_string());

    let port = free_port();
    let second = Binary::spawn(port, &dir);
    let client = Client::new(format!("http://127.0.0.1:{port}"));
    wait_ready(&client).await;
    let now = std::fs::read_to_string(dir.join(sfn_local::lock::LOCK_FILE)).unwrap_or_default();
    assert_eq!(now.trim(), second.child.id().to_string());
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}
