//! The `sfn-conformance` binary against a real sfn-local (in this process, on a free
//! loopback port, in an account and region unlike the recordings'): recorded cases pass,
//! the same cases with a changed expectation fail on the score that changed, floors set
//! the exit status, and an unreachable endpoint is exit 2.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_sfn-conformance");

/// Recorded cases sfn-local passes on all three scores: a context-object output (names,
/// account and region bound), a Fail state, a commented machine.
const PICKED: [(&str, usize); 3] = [("base", 15), ("base", 16), ("comments", 0)];

fn recorded(category: &str, line: usize) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../conformance/cases")
        .join(format!("{category}.jsonl"));
    let text = std::fs::read_to_string(&path).expect("the vendored cases are readable");
    let line = text.lines().nth(line).expect("the picked line exists");
    serde_json::from_str(line).expect("a case is JSON")
}

fn write_cases(dir: &Path, cases: &[Value]) -> PathBuf {
    let cases_dir = dir.join("cases");
    std::fs::create_dir_all(&cases_dir).expect("cases dir");
    let text: String = cases.iter().map(|c| format!("{c}\n")).collect();
    std::fs::write(cases_dir.join("picked.jsonl"), text).expect("cases written");
    cases_dir
}

async fn start_sfn_local(dir: &Path) -> SocketAddr {
    let opts = sfn_local::ServerOptions {
        addr: "127.0.0.1:0".parse().expect("an address"),
        state_dir: dir.join("db"),
        region: "eu-west-2".into(),
        account: "000000000042".into(),
    };
    let (addr, serve) = sfn_local::bind(opts, std::future::pending())
        .await
        .expect("sfn-local starts");
    tokio::spawn(serve);
    addr
}

async fn run(args: &[&str]) -> (Output, String) {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .await
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

fn results(path: &Path) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("results written"))
        .expect("results are JSON");
    doc["results"].as_array().expect("a results array").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_cases_pass_and_changed_expectations_fail_on_their_score() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let addr = start_sfn_local(tmp.path()).await;
    let endpoint = format!("http://{addr}");
    let cases: Vec<Value> = PICKED.iter().map(|(c, l)| recorded(c, *l)).collect();

    // GIVEN the cases as AWS recorded them, WHEN replayed, THEN all three scores pass.
    let good_dir = write_cases(&tmp.path().join("good"), &cases);
    let good_json = tmp.path().join("good.json");
    let floors = tmp.path().join("floors.txt");
    std::fs::write(&floors, "core_final=3\ncore_history=3\ncore_detail=3\n").expect("floors");
    let (out, stdout) = run(&[
        "--endpoint",
        &endpoint,
        "--cases-dir",
        good_dir.to_str().expect("utf-8 path"),
        "--json",
        good_json.to_str().expect("utf-8 path"),
        "--floors",
        floors.to_str().expect("utf-8 path"),
    ])
    .await;
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("3 passed, 0 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("conformance: core detail passed 3 (floor 3)"),
        "{stdout}"
    );
    for r in results(&good_json) {
        assert_eq!(
            (&r["final"], &r["history"], &r["detail"]),
            (&Value::Bool(true), &Value::Bool(true), &Value::Bool(true)),
            "{r}"
        );
    }

    // GIVEN changed expectations: an output (final and the last event's detail), an event
    // type order (history), a cause (final).
    let mut changed = cases.clone();
    let comment = &mut changed[2];
    comment["expected"]["output"]["added"] = Value::from(1);
    let last = comment["expected_history"]
        .as_array_mut()
        .and_then(|h| h.last_mut())
        .expect("a recorded history");
    last["executionSucceededEventDetails"]["output"]["added"] = Value::from(1);
    let context = &mut changed[0];
    context["expected_history_types"]
        .as_array_mut()
        .expect("recorded types")
        .swap(1, 2);
    let fail = &mut changed[1];
    fail["expected"]["cause"] = Value::from("another cause");
    let bad_dir = write_cases(&tmp.path().join("bad"), &changed);
    let bad_json = tmp.path().join("bad.json");
    let (out, stdout) = run(&[
        "--endpoint",
        &endpoint,
        "--cases-dir",
        bad_dir.to_str().expect("utf-8 path"),
        "--json",
        bad_json.to_str().expect("utf-8 path"),
        "--floors",
        floors.to_str().expect("utf-8 path"),
        "--verbose",
    ])
    .await;
    // THEN each fails on the score that changed, and the floors turn that into exit 1.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("1 passed, 2 failed"),
        "{stdout}"
    );
    assert!(stdout.contains("BELOW THE FLOOR"), "{stdout}");
    let r = results(&bad_json);
    let scores = |r: &Value| {
        (
            r["final"].clone(),
            r["history"].clone(),
            r["detail"].clone(),
        )
    };
    let (t, f) = (Value::Bool(true), Value::Bool(false));
    assert_eq!(scores(&r[0]), (t.clone(), f.clone(), t.clone()), "{}", r[0]);
    assert_eq!(scores(&r[1]), (f.clone(), t.clone(), t.clone()), "{}", r[1]);
    assert_eq!(scores(&r[2]), (f.clone(), t.clone(), f.clone()), "{}", r[2]);
    assert!(
        r[2]["why"].as_str().is_some_and(|w| w.contains("output")),
        "{}",
        r[2]
    );
    assert!(stdout.contains("HISTORY "), "{stdout}");
    assert!(stdout.contains("DETAIL "), "{stdout}");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_exit_2_and_says_so() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (out, _) = run(&["--endpoint", &format!("http://127.0.0.1:{port}")]).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("endpoint unreachable"), "{stderr}");
}
