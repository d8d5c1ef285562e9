//! SIGKILL at random points while 1,000 executions run (docs/reliability.md, fault 1).
//!
//! The real `sfn-local` binary runs as a child process. Sixteen clients start 1,000
//! executions of four machines (a callback that waits for its task token, a Wait, a
//! chain of Pass states, a Task whose Retry fires timers and re-invokes in-flight tasks)
//! and answer every callback with the token read from its history. The server is
//! killed (SIGKILL) at a random point, restarted on the same state directory, and the
//! clients carry on: a request the kill cut off is sent again. After each restart no
//! acknowledged start may be missing and no execution may exist twice; at the end every
//! execution must have ended as its machine says, callbacks with the answer sent with
//! their first (pre-crash) token, and every history must match a run without kills,
//! event for event.
//!
//! The random choices come from one seed, printed first: rerun a failure with
//! `SFN_LOCAL_CRASH_SEED=<seed>`. `SFN_LOCAL_CRASH_ROUNDS` (kills, default 300) and
//! `SFN_LOCAL_CRASH_EXECUTIONS` (default 1000) make a larger run; CI uses the defaults
//! (about a minute on 2 cores).

mod common;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Binary, Client, free_port, temp_dir, wait_ready};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const WORKERS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Callback,
    Wait,
    Pass,
    Retry,
}

const KINDS: [Kind; 4] = [Kind::Callback, Kind::Wait, Kind::Pass, Kind::Retry];

impl Kind {
    fn machine(self) -> &'static str {
        match self {
            Kind::Callback => "crash-callback",
            Kind::Wait => "crash-wait",
            Kind::Pass => "crash-pass",
            Kind::Retry => "crash-retry",
        }
    }

    fn definition(self) -> Value {
        match self {
            Kind::Callback => json!({"StartAt": "Prepare", "States": {
                "Prepare": {"Type": "Pass", "Next": "Ask"},
                "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                        "Parameters": {"token.$": "$$.Task.Token", "id.$": "$.id"},
                        "ResultPath": "$.decision", "Next": "Done"},
                "Done": {"Type": "Pass", "End": true}}}),
            Kind::Wait => json!({"StartAt": "W", "States": {
                "W": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
                "Done": {"Type": "Pass", "End": true}}}),
            Kind::Pass => json!({"StartAt": "P1", "States": {
                "P1": {"Type": "Pass", "Next": "P2"},
                "P2": {"Type": "Pass", "Parameters": {"id.$": "$.id", "n": 2}, "Next": "P3"},
                "P3": {"Type": "Pass", "Parameters": {"id.$": "$.id"}, "Next": "P4"},
                "P4": {"Type": "Pass", "End": true}}}),
            // No integration handles this resource: each attempt fails at once with
            // States.TaskFailed through the in-flight table; the retry waits on a timer.
            Kind::Retry => json!({"StartAt": "T", "States": {
                "T": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                      "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1,
                                 "MaxAttempts": 2, "BackoffRate": 1.0}],
                      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                      "End": true},
                "Caught": {"Type": "Pass", "End": true}}}),
        }
    }

    /// The output an execution with this `id` must end with.
    fn check_output(self, id: &str, output: &Value) -> bool {
        match self {
            Kind::Callback => *output == json!({"id": id, "decision": {"answer": id}}),
            Kind::Wait | Kind::Pass => *output == json!({"id": id}),
            Kind::Retry => {
                output["id"] == json!(id) && output["error"]["Error"] == "States.TaskFailed"
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Start(usize),
    Answer(usize),
}

#[derive(Debug)]
struct Exec {
    name: String,
    kind: Kind,
    /// A StartExecution for it was acknowledged (200, or ExecutionAlreadyExists on a
    /// retry: the cut-off attempt had committed).
    acked: bool,
    /// The token read from its history the first time (callbacks).
    token: Option<String>,
    /// A SendTaskSuccess with that token was acknowledged (or answered TaskTimedOut
    /// on a retry: the cut-off attempt had committed).
    answered: bool,
    /// StartExecution / SendTaskSuccess requests sent so far.
    sent: u32,
    answers_sent: u32,
}

#[derive(Debug, Default)]
struct Tally {
    acked_ops: usize,
    resent: usize,
    unexpected: Vec<String>,
}

struct World {
    execs: Mutex<Vec<Exec>>,
    queue: Mutex<VecDeque<Op>>,
    tally: Mutex<Tally>,
    machines: HashMap<Kind, String>,
}

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs one operation. `Err(())`: the server is gone (the op goes back in the queue).
async fn run_op(c: &Client, world: &World, op: Op, rng_pick: u64) -> Result<(), ()> {
    match op {
        Op::Start(i) => {
            let (name, kind) = {
                let e = &lock(&world.execs)[i];
                (e.name.clone(), e.kind)
            };
            let sm = &world.machines[&kind];
            let r = c
                .call(
                    "StartExecution",
                    json!({"stateMachineArn": sm, "name": name, "input": json!({"id": name}).to_string()}),
                )
                .await;
            let resent = {
                let mut x = lock(&world.execs);
                x[i].sent += 1;
                x[i].sent > 1
            };
            match r {
                Ok(_) => {}
                // Only on a resend: the attempt the kill cut off had committed.
                Err((400, code, _)) if code == "ExecutionAlreadyExists" && resent => {}
                Err((0, _, _)) => return Err(()),
                Err(e) => {
                    lock(&world.tally)
                        .unexpected
                        .push(format!("StartExecution {name}: {e:?}"));
                    return Ok(());
                }
            }
            lock(&world.execs)[i].acked = true;
            lock(&world.tally).acked_ops += 1;
            if kind == Kind::Callback {
                let mut q = lock(&world.queue);
                let at = (rng_pick as usize) % (q.len() + 1);
                q.insert(at, Op::Answer(i));
            }
            Ok(())
        }
        Op::Answer(i) => {
            let (name, token) = {
                let e = &lock(&world.execs)[i];
                (e.name.clone(), e.token.clone())
            };
            let token = match token {
                Some(t) => t,
                None => {
                    let arn = format!("{}:{name}", exec_prefix(&world.machines[&Kind::Callback]));
                    let t = match scheduled_tokens(c, &arn).await {
                        Ok(tokens) if tokens.len() == 1 => tokens[0].clone(),
                        Ok(tokens) => {
                            lock(&world.tally)
                                .unexpected
                                .push(format!("{name}: {} TaskScheduled events", tokens.len()));
                            return Ok(());
                        }
                        Err(()) => return Err(()),
                    };
                    lock(&world.execs)[i].token = Some(t.clone());
                    t
                }
            };
            let r = c
                .call(
                    "SendTaskSuccess",
                    json!({"taskToken": token, "output": json!({"answer": name}).to_string()}),
                )
                .await;
            let resent = {
                let mut x = lock(&world.execs);
                x[i].answers_sent += 1;
                x[i].answers_sent > 1
            };
            match r {
                Ok(_) => {}
                // Only on a resend: the attempt the kill cut off had committed.
                Err((400, code, _)) if code == "TaskTimedOut" && resent => {}
                Err((0, _, _)) => return Err(()),
                Err(e) => {
                    lock(&world.tally)
                        .unexpected
                        .push(format!("SendTaskSuccess {name}: {e:?}"));
                    return Ok(());
                }
            }
            lock(&world.execs)[i].answered = true;
            lock(&world.tally).acked_ops += 1;
            Ok(())
        }
    }
}

fn exec_prefix(sm_arn: &str) -> String {
    sm_arn.replace(":stateMachine:", ":execution:")
}

/// Every event of an execution (all pages). `Err(())`: the server is gone.
async fn history(c: &Client, arn: &str) -> Result<Vec<Value>, ()> {
    let mut events = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut req = json!({"executionArn": arn, "maxResults": 1000});
        if let Some(t) = &next {
            req["nextToken"] = json!(t);
        }
        match c.call("GetExecutionHistory", req).await {
            Ok(v) => {
                events.extend(v["events"].as_array().cloned().unwrap_or_default());
                match v["nextToken"].as_str() {
                    Some(t) => next = Some(t.to_owned()),
                    None => return Ok(events),
                }
            }
            Err((0, _, _)) => return Err(()),
            Err(e) => panic!("GetExecutionHistory {arn}: {e:?}"),
        }
    }
}

/// The tokens the execution's TaskScheduled events passed as `Parameters.token`.
async fn scheduled_tokens(c: &Client, arn: &str) -> Result<Vec<String>, ()> {
    Ok(history(c, arn)
        .await?
        .iter()
        .filter(|e| e["type"] == "TaskScheduled")
        .map(|e| {
            let p: Value = serde_json::from_str(
                e["taskScheduledEventDetails"]["parameters"]
                    .as_str()
                    .unwrap_or("{}"),
            )
            .unwrap_or(Value::Null);
            p["token"].as_str().unwrap_or_default().to_owned()
        })
        .collect())
}

/// Every execution of a machine: (name, status), all pages.
async fn list(c: &Client, sm: &str, status: Option<&str>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut req = json!({"stateMachineArn": sm, "maxResults": 1000});
        if let Some(s) = status {
            req["statusFilter"] = json!(s);
        }
        if let Some(t) = &next {
            req["nextToken"] = json!(t);
        }
        let v = c
            .call("ListExecutions", req)
            .await
            .unwrap_or_else(|e| panic!("ListExecutions: {e:?}"));
        for e in v["executions"].as_array().into_iter().flatten() {
            out.push((
                e["name"].as_str().unwrap_or_default().to_owned(),
                e["status"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        match v["nextToken"].as_str() {
            Some(t) => next = Some(t.to_owned()),
            None => return out,
        }
    }
}

/// (lost, duplicated, phantom) executions: acknowledged starts that are missing, names
/// listed twice, listed names nobody started.
async fn count_executions(c: &Client, world: &World) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut listed: HashMap<String, usize> = HashMap::new();
    for kind in KINDS {
        for (name, _) in list(c, &world.machines[&kind], None).await {
            *listed.entry(name).or_default() += 1;
        }
    }
    let execs = lock(&world.execs);
    let known: HashMap<&str, &Exec> = execs.iter().map(|e| (e.name.as_str(), e)).collect();
    let lost = execs
        .iter()
        .filter(|e| e.acked && !listed.contains_key(&e.name))
        .map(|e| e.name.clone())
        .collect();
    let duplicated = listed
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k.clone())
        .collect();
    let phantom = listed
        .keys()
        .filter(|k| !known.contains_key(k.as_str()))
        .cloned()
        .collect();
    (lost, duplicated, phantom)
}

/// The event types, ids and links of a history, as `type` strings; panics if ids are
/// not 1..=n in order or a `previousEventId` points forward.
fn shape(name: &str, events: &[Value], problems: &mut Vec<String>) -> Vec<String> {
    for (i, e) in events.iter().enumerate() {
        let id = e["id"].as_u64().unwrap_or(0);
        if id != i as u64 + 1 {
            problems.push(format!("{name}: event #{i} has id {id}"));
        }
        let prev = e["previousEventId"].as_u64().unwrap_or(0);
        if prev >= id && id > 0 {
            problems.push(format!("{name}: event {id} follows {prev}"));
        }
    }
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A run without kills on a fresh server: each machine's history, as event types.
async fn reference_shapes() -> HashMap<Kind, Vec<String>> {
    let dir = temp_dir("crash-reference");
    let port = free_port();
    let c = Client::new(format!("http://127.0.0.1:{port}/"));
    let _server = Binary::spawn(port, &dir);
    wait_ready(&c).await;
    let mut shapes = HashMap::new();
    for kind in KINDS {
        let sm = c.create(kind.machine(), kind.definition()).await;
        let exec = c.start(&sm, "reference", json!({"id": "reference"})).await;
        if kind == Kind::Callback {
            let token = c.token(&exec).await;
            let sent = c
                .call(
                    "SendTaskSuccess",
                    json!({"taskToken": token, "output": json!({"answer": "reference"}).to_string()}),
                )
                .await;
            assert!(sent.is_ok(), "{sent:?}");
        }
        let d = c.wait_done(&exec, 20).await;
        assert_eq!(d["status"], "SUCCEEDED", "reference run of {kind:?}: {d}");
        let output: Value =
            serde_json::from_str(d["output"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
        assert!(
            kind.check_output("reference", &output),
            "{kind:?}: {output}"
        );
        let mut problems = Vec::new();
        let events = history(&c, &exec)
            .await
            .unwrap_or_else(|()| panic!("reference server gone"));
        shapes.insert(kind, shape("reference", &events, &mut problems));
        assert!(problems.is_empty(), "{problems:?}");
    }
    drop(_server);
    let _ = std::fs::remove_dir_all(&dir);
    shapes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_and_duplicates_nothing() {
    let seed = env_or("SFN_LOCAL_CRASH_SEED", rand::random::<u32>().into());
    let kills = env_or("SFN_LOCAL_CRASH_ROUNDS", 300) as usize;
    let total = env_or("SFN_LOCAL_CRASH_EXECUTIONS", 1000) as usize;
    println!(
        "crash test: seed {seed} (rerun with SFN_LOCAL_CRASH_SEED={seed}), {kills} kills, {total} executions"
    );
    let began = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let reference = reference_shapes().await;

    let dir = temp_dir("crash");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");

    // 40 % callbacks, 30 % Wait, 20 % Pass, 10 % Retry, in a random order.
    let execs: Vec<Exec> = (0..total)
        .map(|i| {
            let kind = match rng.random_range(0..10) {
                0..=3 => Kind::Callback,
                4..=6 => Kind::Wait,
                7..=8 => Kind::Pass,
                _ => Kind::Retry,
            };
            Exec {
                name: format!("x{i:05}"),
                kind,
                acked: false,
                token: None,
                answered: false,
                sent: 0,
                answers_sent: 0,
            }
        })
        .collect();
    let mut machines = HashMap::new();
    let mut server = Binary::spawn(port, &dir);
    {
        let c = Client::new(url.clone());
        wait_ready(&c).await;
        for kind in KINDS {
            machines.insert(kind, c.create(kind.machine(), kind.definition()).await);
        }
    }
    let world = Arc::new(World {
        execs: Mutex::new(execs),
        queue: Mutex::new((0..total).map(Op::Start).collect()),
        tally: Mutex::new(Tally::default()),
        machines,
    });
    // Operations: every start, plus an answer per callback.
    let planned = total
        + lock(&world.execs)
            .iter()
            .filter(|e| e.kind == Kind::Callback)
            .count();

    let mut log = Vec::new();
    for round in 0..=kills {
        let c = Arc::new(Client::new(url.clone()));
        if round > 0 {
            server = Binary::spawn(port, &dir);
            wait_ready(&c).await;
            let (lost, duplicated, phantom) = count_executions(&c, &world).await;
            assert!(
                lost.is_empty() && duplicated.is_empty() && phantom.is_empty(),
                "seed {seed}, after kill {round}: lost {lost:?}, duplicated {duplicated:?}, phantom {phantom:?}"
            );
        }
        let last = round == kills;
        // Where to kill: after a random number of acknowledged operations (clients
        // keep 16 requests in flight, so the kill cuts some off), or, one time in four,
        // a random 0-300 ms after the restart (timers and resumed tasks firing).
        let acked_before = lock(&world.tally).acked_ops;
        let idle_kill = !last && rng.random_range(0..4) == 0;
        let share = planned / kills.max(1);
        let kill_after_ops = acked_before + rng.random_range(1..=share.max(2) * 3 / 2);
        let idle_ms = rng.random_range(0..300);
        let stop = Arc::new(AtomicBool::new(false));
        let in_progress = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for w in 0..WORKERS {
            let (c, world, stop, in_progress) =
                (c.clone(), world.clone(), stop.clone(), in_progress.clone());
            let mut wrng = StdRng::seed_from_u64(seed ^ ((round as u64) << 32) ^ w as u64);
            workers.push(tokio::spawn(async move {
                loop {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let op = {
                        let mut q = lock(&world.queue);
                        let op = q.pop_front();
                        if op.is_some() {
                            in_progress.fetch_add(1, Ordering::SeqCst);
                        }
                        op
                    };
                    let Some(op) = op else {
                        if in_progress.load(Ordering::SeqCst) == 0 {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    };
                    let r = run_op(&c, &world, op, wrng.random()).await;
                    if r.is_err() {
                        // Cut off by the kill: send it again in the next round.
                        let mut q = lock(&world.queue);
                        q.push_front(op);
                        lock(&world.tally).resent += 1;
                    }
                    in_progress.fetch_sub(1, Ordering::SeqCst);
                    if r.is_err() {
                        return;
                    }
                }
            }));
        }
        if last {
            for w in workers {
                let _ = w.await;
            }
            log.push(format!("round {round}: ran to the end"));
            break;
        }
        let started = Instant::now();
        if idle_kill {
            tokio::time::sleep(Duration::from_millis(idle_ms)).await;
        } else {
            while lock(&world.tally).acked_ops < kill_after_ops
                && !workers.iter().all(|w| w.is_finished())
                && started.elapsed() < Duration::from_secs(20)
            {
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
        }
        server.kill();
        stop.store(true, Ordering::SeqCst);
        for w in workers {
            let _ = w.await;
        }
        log.push(format!(
            "kill {}: {} after {} ms, {} operations acknowledged so far",
            round + 1,
            if idle_kill {
                "at a random time"
            } else {
                "at a random operation"
            },
            started.elapsed().as_millis(),
            lock(&world.tally).acked_ops
        ));
    }

    // Every execution must reach its end state; wait for the Wait and Retry timers.
    let c = Client::new(url.clone());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut running = 0;
        for kind in KINDS {
            running += list(&c, &world.machines[&kind], Some("RUNNING"))
                .await
                .len();
        }
        if running == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "seed {seed}: {running} executions still RUNNING after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (lost, duplicated, phantom) = count_executions(&c, &world).await;
    let mut problems = Vec::new();
    let mut lost_tokens = Vec::new();
    let mut duplicated_tokens = Vec::new();
    let execs = std::mem::take(&mut *lock(&world.execs));
    for e in &execs {
        if !e.acked {
            problems.push(format!("{}: never acknowledged", e.name));
            continue;
        }
        let arn = format!("{}:{}", exec_prefix(&world.machines[&e.kind]), e.name);
        let d = c.status(&arn).await;
        let output: Value =
            serde_json::from_str(d["output"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
        if d["status"] != "SUCCEEDED" || !e.kind.check_output(&e.name, &output) {
            problems.push(format!("{}: {} with output {output}", e.name, d["status"]));
        }
        let events = history(&c, &arn)
            .await
            .unwrap_or_else(|()| panic!("server gone"));
        let types = shape(&e.name, &events, &mut problems);
        if types != reference[&e.kind] {
            problems.push(format!(
                "{}: history {types:?}, expected {:?}",
                e.name, reference[&e.kind]
            ));
        }
        if e.kind == Kind::Callback {
            let tokens = scheduled_tokens(&c, &arn)
                .await
                .unwrap_or_else(|()| panic!("server gone"));
            if tokens.len() > 1 {
                duplicated_tokens.push(e.name.clone());
            }
            if !e.answered || e.token.is_none() || tokens.first() != e.token.as_ref() {
                lost_tokens.push(e.name.clone());
            }
        }
    }
    let tally = std::mem::take(&mut *lock(&world.tally));
    for line in &log {
        println!("  {line}");
    }
    println!(
        "crash test: seed {seed}: {kills} kills, {} executions ({} callbacks), {} operations acknowledged, \
         {} resent after a kill; lost executions {}, duplicated {}, phantom {}, lost tokens {}, \
         duplicated tokens {}, other problems {}; {:.1} s",
        execs.len(),
        execs.iter().filter(|e| e.kind == Kind::Callback).count(),
        tally.acked_ops,
        tally.resent,
        lost.len(),
        duplicated.len(),
        phantom.len(),
        lost_tokens.len(),
        duplicated_tokens.len(),
        problems.len() + tally.unexpected.len(),
        began.elapsed().as_secs_f64()
    );
    assert!(
        lost.is_empty() && duplicated.is_empty() && phantom.is_empty(),
        "seed {seed}: lost {lost:?}, duplicated {duplicated:?}, phantom {phantom:?}"
    );
    assert!(
        lost_tokens.is_empty() && duplicated_tokens.is_empty(),
        "seed {seed}: lost tokens {lost_tokens:?}, duplicated tokens {duplicated_tokens:?}"
    );
    assert!(
        tally.unexpected.is_empty(),
        "seed {seed}: {:?}",
        tally.unexpected
    );
    let shown: Vec<&String> = problems.iter().take(20).collect();
    assert!(
        problems.is_empty(),
        "seed {seed}: {} problems, first: {shown:#?}",
        problems.len()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
