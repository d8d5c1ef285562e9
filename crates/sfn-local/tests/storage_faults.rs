//! Storage faults on the real `sfn-local` binary (docs/reliability.md, faults 2 and 3):
//! a damaged database file is refused at startup with an error that names the file and
//! what to do, and is left as it was; a full disk fails requests with a clear 503
//! `ServiceUnavailable`, acknowledges nothing it did not commit, and the service carries
//! on once space returns.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Binary, Client, callback_definition, free_port, temp_dir, wait_ready};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

const DB: &str = "sfn-local.sqlite3";

/// Stops the server with SIGTERM (graceful: the writer drains and the WAL is folded
/// into the database file, so the file alone holds everything).
fn stop_gracefully(server: &mut Binary) {
    let pid = server.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    assert!(status.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = server.child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("sfn-local did not stop on SIGTERM");
}

/// A state directory holding one state machine and one execution waiting for its token.
async fn populated_state() -> (PathBuf, String) {
    let dir = temp_dir("damaged-source");
    let port = free_port();
    let c = Client::new(format!("http://127.0.0.1:{port}/"));
    let mut server = Binary::spawn(port, &dir);
    wait_ready(&c).await;
    let sm = c.create("keep", callback_definition()).await;
    let exec = c.start(&sm, "waiting", json!({"id": 7})).await;
    // Some volume, so that the file has more than a handful of pages to damage.
    for i in 0..40 {
        c.start(
            &sm,
            &format!("bulk-{i}"),
            json!({"id": i, "pad": "x".repeat(2000)}),
        )
        .await;
    }
    stop_gracefully(&mut server);
    assert!(
        !dir.join(format!("{DB}-wal")).exists()
            || std::fs::metadata(dir.join(format!("{DB}-wal"))).is_ok_and(|m| m.len() == 0),
        "the WAL was not folded into the database on a graceful stop"
    );
    (dir, exec)
}

fn copy_dir(from: &Path, tag: &str) -> PathBuf {
    let to = temp_dir(tag);
    for entry in std::fs::read_dir(from)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
    {
        let _ = std::fs::copy(entry.path(), to.join(entry.file_name()));
    }
    to
}

/// Runs the binary on `dir`, expecting it to refuse to start: (exit code, stderr).
fn refused_start(dir: &Path) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sfn-local"))
        .args(["--port", &free_port().to_string(), "--state-dir"])
        .arg(dir)
        .env("RUST_LOG", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn sfn-local: {e}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "sfn-local started on the damaged database in {}",
                dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What a damage does to the file's bytes.
type Damage = Box<dyn Fn(&mut Vec<u8>)>;

/// Each way of damaging the file: the name and what it does to the bytes.
fn damages(seed: u64) -> Vec<(&'static str, Damage)> {
    vec![
        (
            "truncated to nothing",
            Box::new(|b: &mut Vec<u8>| b.clear()),
        ),
        (
            "truncated to half",
            Box::new(|b: &mut Vec<u8>| b.truncate(b.len() / 2)),
        ),
        (
            "truncated to its first page",
            Box::new(|b: &mut Vec<u8>| b.truncate(4096)),
        ),
        (
            "garbage header",
            Box::new(|b: &mut Vec<u8>| b[..100].copy_from_slice(&[0x5a; 100])),
        ),
        (
            "garbage pages",
            Box::new(move |b: &mut Vec<u8>| {
                // Every other page after the first two: b-tree pages of every table.
                let mut rng = StdRng::seed_from_u64(seed);
                let pages = b.len() / 4096;
                for p in (2..pages).step_by(2) {
                    rng.fill(&mut b[p * 4096..(p + 1) * 4096]);
                }
            }),
        ),
    ]
}

#[tokio::test]
async fn a_damaged_database_is_refused_with_its_path_and_what_to_do() {
    let (source, exec) = populated_state().await;
    let seed = rand::random::<u32>().into();
    println!("garbage seed {seed}");
    for (what, damage) in damages(seed) {
        let dir = copy_dir(&source, "damaged");
        let path = dir.join(DB);
        let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        damage(&mut bytes);
        std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));

        let (code, stderr) = refused_start(&dir);
        assert_eq!(code, Some(2), "{what}: {stderr}");
        let shown = path.display().to_string();
        for needle in [shown.as_str(), "is damaged", "restore a backup", "move"] {
            assert!(stderr.contains(needle), "{what}: no {needle:?} in {stderr}");
        }
        // Never a silent reset: the file is exactly as the damage left it.
        let after = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(after == bytes, "{what}: the damaged file was changed");
        let _ = std::fs::remove_dir_all(&dir);
    }

    // The undamaged copy still starts, with its waiting execution.
    let port = free_port();
    let c = Client::new(format!("http://127.0.0.1:{port}/"));
    let _server = Binary::spawn(port, &source);
    wait_ready(&c).await;
    assert_eq!(c.status(&exec).await["status"], "RUNNING");
    drop(_server);
    let _ = std::fs::remove_dir_all(&source);
}

#[tokio::test]
async fn a_database_left_half_created_is_created_again() {
    // A kill while the database was being created leaves only the temporary file.
    let dir = temp_dir("half-created");
    std::fs::write(
        dir.join(format!("{DB}.new")),
        b"cut off while being created",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();
    let c = Client::new(format!("http://127.0.0.1:{port}/"));
    let _server = Binary::spawn(port, &dir);
    wait_ready(&c).await;
    c.create("fresh", callback_definition()).await;
    assert!(!dir.join(format!("{DB}.new")).exists());
    drop(_server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tmpfs mounted for the test; unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Result<Self, String> {
        let dir = temp_dir("tmpfs");
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(Self(dir))
        } else {
            let _ = std::fs::remove_dir(&dir);
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    /// Fills every free block with `ballast`, down to the last page.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let ballast = self.0.join("ballast");
        let mut f = std::fs::File::create(&ballast).unwrap_or_else(|e| panic!("{e}"));
        for chunk in [1 << 16, 4096, 1] {
            let block = vec![0xa5_u8; chunk];
            while f.write_all(&block).is_ok() {}
        }
        ballast
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[tokio::test]
async fn a_full_disk_fails_requests_clearly_and_the_service_carries_on() {
    // `mount` needs root (CAP_SYS_ADMIN). scripts/test.sh sets SFN_LOCAL_REQUIRE_TMPFS=1
    // when it runs as root, so CI cannot skip this silently.
    let disk = match Tmpfs::mount("8m") {
        Ok(d) => d,
        Err(e) if std::env::var("SFN_LOCAL_REQUIRE_TMPFS").as_deref() == Ok("1") => {
            panic!("SFN_LOCAL_REQUIRE_TMPFS=1 but a tmpfs could not be mounted: {e}")
        }
        Err(e) => {
            println!("skipped: cannot mount a tmpfs ({e}); run as root to test a full disk");
            return;
        }
    };
    let dir = disk.0.join("state");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let mut server = Binary::spawn(port, &dir);
    let c = Client::new(url.clone());
    wait_ready(&c).await;
    let cb = c.create("cb", callback_definition()).await;
    let waiter = c
        .create(
            "waiter",
            json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "Next": "Done"},
                   "Done": {"Type": "Pass", "End": true}}}),
        )
        .await;
    let asked = c.start(&cb, "asked", json!({"id": 1})).await;
    let token = c.token(&asked).await;
    let waiting = c.start(&waiter, "waiting", json!({})).await;
    let started = Instant::now();

    let ballast = disk.fill();
    // Writes now fail as soon as the WAL has to grow; large inputs make it grow.
    let big = json!({"id": 2, "pad": "x".repeat(200 * 1024)});
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    for i in 0..40 {
        let name = format!("big-{i}");
        let r = c
            .call(
                "StartExecution",
                json!({"stateMachineArn": cb, "name": name, "input": big.to_string()}),
            )
            .await;
        match r {
            Ok(_) => acked.push(name),
            Err((503, code, message)) => {
                assert_eq!(code, "ServiceUnavailable", "{message}");
                assert!(
                    message.contains("disk") && message.contains("full"),
                    "{message}"
                );
                assert!(message.contains(&dir.display().to_string()), "{message}");
                refused.push(name);
            }
            Err(e) => panic!("a full disk must answer 503 ServiceUnavailable, got {e:?}"),
        }
    }
    assert!(
        refused.len() >= 30,
        "the disk never filled: {} of 40 starts acknowledged",
        acked.len()
    );
    // Small writes fail too, and the callback is refused, not half taken.
    let small = c
        .call(
            "StartExecution",
            json!({"stateMachineArn": cb, "name": "small", "input": "{}"}),
        )
        .await;
    assert!(
        matches!(&small, Err((503, code, _)) if code == "ServiceUnavailable"),
        "{small:?}"
    );
    let answered = c
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{\"ok\": true}"}),
        )
        .await;
    assert!(
        matches!(&answered, Err((503, code, _)) if code == "ServiceUnavailable"),
        "{answered:?}"
    );
    // Reads still work; the Wait's timer fires while the disk is full and cannot be saved.
    assert_eq!(c.status(&asked).await["status"], "RUNNING");
    tokio::time::sleep(
        Duration::from_secs(2).saturating_sub(started.elapsed()) + Duration::from_millis(700),
    )
    .await;
    assert_eq!(c.status(&waiting).await["status"], "RUNNING");

    // Space returns: the service carries on without a restart.
    std::fs::remove_file(&ballast).unwrap_or_else(|e| panic!("{e}"));
    let d = c.wait_done(&waiting, 10).await;
    assert_eq!(
        d["status"], "SUCCEEDED",
        "the timer that fired on a full disk was lost"
    );
    let again = c
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{\"ok\": true}"}),
        )
        .await;
    assert!(again.is_ok(), "{again:?}");
    assert_eq!(c.wait_done(&asked, 5).await["status"], "SUCCEEDED");
    c.start(&cb, "after", json!({"id": 3})).await;

    // Nothing refused was committed, everything acknowledged was: check after a kill.
    server.kill();
    let _server = Binary::spawn(port, &dir);
    let c = Client::new(url);
    wait_ready(&c).await;
    let prefix = cb.replace(":stateMachine:", ":execution:");
    for name in &acked {
        assert_eq!(
            c.status(&format!("{prefix}:{name}")).await["status"],
            "RUNNING"
        );
    }
    for name in refused.iter().chain([&"small".to_owned()]) {
        let r = c
            .call(
                "DescribeExecution",
                json!({"executionArn": format!("{prefix}:{name}")}),
            )
            .await;
        assert!(
            matches!(&r, Err((400, code, _)) if code == "ExecutionDoesNotExist"),
            "{name} was refused but exists: {r:?}"
        );
    }
    println!(
        "full disk: {} starts acknowledged, {} refused with 503 ServiceUnavailable",
        acked.len(),
        refused.len() + 1
    );
}

#[tokio::test]
async fn a_database_from_before_the_application_id_is_adopted_and_a_foreign_one_refused() {
    // The schema of the first version, without `PRAGMA application_id`.
    let legacy = temp_dir("legacy");
    {
        let conn = rusqlite::Connection::open(legacy.join(DB)).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE definitions (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
             CREATE TABLE state_machines (arn TEXT PRIMARY KEY, name TEXT NOT NULL, definition_id INTEGER NOT NULL,
               role_arn TEXT NOT NULL, sm_type TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
             CREATE TABLE executions (seq INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE, sm_arn TEXT NOT NULL,
               name TEXT NOT NULL, definition_id INTEGER NOT NULL, status TEXT NOT NULL, start_ms INTEGER NOT NULL,
               stop_ms INTEGER, input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT, snapshot TEXT);
             CREATE TABLE events (exec_seq INTEGER NOT NULL, first_id INTEGER NOT NULL, chunk TEXT NOT NULL,
               PRIMARY KEY (exec_seq, first_id)) WITHOUT ROWID;
             CREATE TABLE inflight (exec_arn TEXT NOT NULL, task_id INTEGER NOT NULL, request TEXT NOT NULL,
               PRIMARY KEY (exec_arn, task_id)) WITHOUT ROWID;
             CREATE TABLE timers (exec_arn TEXT NOT NULL, timer_id INTEGER NOT NULL, due_ms INTEGER NOT NULL,
               PRIMARY KEY (exec_arn, timer_id)) WITHOUT ROWID;",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let port = free_port();
    let c = Client::new(format!("http://127.0.0.1:{port}/"));
    let server = Binary::spawn(port, &legacy);
    wait_ready(&c).await;
    c.create("adopted", callback_definition()).await;
    drop(server);
    let _ = std::fs::remove_dir_all(&legacy);

    // Another application's SQLite file in its place.
    let foreign = temp_dir("foreign");
    {
        let conn = rusqlite::Connection::open(foreign.join(DB)).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("PRAGMA application_id = 42; CREATE TABLE notes (body TEXT);")
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let (code, stderr) = refused_start(&foreign);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not an sfn-local database"), "{stderr}");
    let _ = std::fs::remove_dir_all(&foreign);
}
