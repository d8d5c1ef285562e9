//! The engine targets (`definition`, `definition_structured`): a bounded engine driver
//! and the structure-aware definition builder. Each target's body is a `pub fn` here, so
//! `fuzz_targets/*.rs` and the replay test (`crates/asl-engine/tests/fuzz_replay.rs`,
//! which includes this file) run the same code. Depends on `asl_engine`, `arbitrary`,
//! `serde` and `serde_json` only.

use arbitrary::{Arbitrary, Unstructured};
use asl_engine::{
    Command, Definition, Effect, ExecInfo, Execution, FakeClock, MemoryStore, Status, Store,
    TaskOutcome,
};
use serde_json::{Map, Value, json};

/// At most this many commands are fed to one execution after it starts.
pub const MAX_COMMANDS: usize = 64;

/// `definition`: raw definition text; after a NUL byte, the bytes that steer the run.
pub fn definition(data: &[u8]) {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (def, steer) = data.split_at(split);
    let Ok(text) = std::str::from_utf8(def) else {
        return;
    };
    let mut u = Unstructured::new(steer);
    let input = json!({"a": 1, "b": "two", "c": [1, 2, 3], "items": [{"v": 1}, {"v": 2}]});
    parse_and_run(text, input, &mut u);
}

/// `definition_structured`: `arbitrary` bytes build a [`Machine`]; one that validates
/// runs, the rest of the bytes steering it.
pub fn definition_structured(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(machine) = Machine::arbitrary(&mut u) else {
        return;
    };
    let (def, input) = machine.to_json();
    if let Ok(def) = Definition::parse(&def) {
        run_execution(&def, input, &mut u);
    }
}

/// Starts an execution of `def` with `input` and feeds it up to [`MAX_COMMANDS`]
/// commands chosen by `u` (fire a timer, finish a task, heartbeat, stop), saving every
/// step in a [`MemoryStore`] the way a driver must. Checks the interpreter's own
/// invariants: event ids are consecutive, a finished execution accepts no command.
pub fn run_execution(def: &Definition, input: Value, u: &mut Unstructured<'_>) {
    let clock = FakeClock::new(1_700_000_000_000);
    let store = MemoryStore::default();
    let info = ExecInfo {
        execution_arn: "arn:aws:states:us-east-1:000000000000:execution:sm:e".into(),
        name: "e".into(),
        state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:sm".into(),
        state_machine_name: "sm".into(),
        role_arn: "arn:aws:iam::000000000000:role/r".into(),
        start_ms: asl_engine::Clock::now_ms(&clock),
        input,
        token_prefix: "tok.".into(),
    };
    let (mut exec, step) = Execution::start(def, info, asl_engine::Clock::now_ms(&clock));
    let mut next_id = 1;
    check_events(&step.events, &mut next_id);
    let _ = store.save("e", &exec, &step.events);
    let mut effects = step.effects;
    for _ in 0..MAX_COMMANDS {
        if exec.status != Status::Running {
            let refused = exec.apply(def, Command::Heartbeat { task_id: 1 }, 0);
            assert!(refused.is_err(), "a finished execution accepted a command");
            break;
        }
        let Ok(choice) = u.int_in_range(0..=7u8) else {
            break;
        };
        let cmd = if choice == 7 {
            Command::Stop {
                error: Some("E".into()),
                cause: None,
            }
        } else if effects.is_empty() {
            // Nothing to deliver: poke a pending item (re-arm after a "restart").
            match exec.pending().into_iter().next() {
                Some(asl_engine::Pending::Timer(timer_id)) => Command::Timer { timer_id },
                Some(asl_engine::Pending::Task { task_id, .. }) => Command::Task {
                    task_id,
                    outcome: TaskOutcome::Succeeded(json!({})),
                },
                None => break,
            }
        } else {
            let i = usize::from(choice) % effects.len();
            match effects.remove(i) {
                Effect::Timer { timer_id, due_ms } => {
                    let now = asl_engine::Clock::now_ms(&clock);
                    if due_ms > now {
                        clock.advance((due_ms - now).min(i64::MAX / 4));
                    }
                    Command::Timer { timer_id }
                }
                Effect::InvokeTask { task_id, request } => {
                    let outcome = match u.int_in_range(0..=3u8).unwrap_or(0) {
                        0 => TaskOutcome::Succeeded(request.parameters),
                        1 => TaskOutcome::Failed {
                            error: "States.TaskFailed".into(),
                            cause: "boom".into(),
                        },
                        2 => TaskOutcome::Submitted(json!({"MessageId": "m"})),
                        _ => TaskOutcome::Failed {
                            error: "Custom.Error".into(),
                            cause: String::new(),
                        },
                    };
                    if u.ratio(1u8, 8u8).unwrap_or(false) {
                        let _ = exec.apply(def, Command::Heartbeat { task_id }, clock.now());
                    }
                    Command::Task { task_id, outcome }
                }
            }
        };
        let now = clock.now();
        if let Ok(step) = exec.apply(def, cmd, now) {
            check_events(&step.events, &mut next_id);
            let _ = store.save("e", &exec, &step.events);
            effects.extend(step.effects);
        }
    }
    if let Ok(Some(loaded)) = store.load("e") {
        assert_eq!(loaded.status, exec.status);
    }
    // sfn-local persists the snapshot as JSON text and reads it back to resume: the
    // round trip must lose nothing. Compared as text, because `Some(Value::Null)` and
    // `None` both print as `null` (the first run of this check stopped on exactly that,
    // which is harmless: the interpreter reads a missing result as `null`).
    let text = serde_json::to_string(&exec).expect("a snapshot serialises");
    let mut de = serde_json::Deserializer::from_str(&text);
    de.disable_recursion_limit();
    let back =
        <Execution as serde::Deserialize>::deserialize(&mut de).expect("a snapshot reads back");
    let again = serde_json::to_string(&back).expect("a snapshot serialises");
    assert_eq!(again, text, "the snapshot changed in a JSON round trip");
}

trait Now {
    fn now(&self) -> i64;
}

impl Now for FakeClock {
    fn now(&self) -> i64 {
        asl_engine::Clock::now_ms(self)
    }
}

fn check_events(events: &[asl_engine::HistoryEvent], next_id: &mut u64) {
    for e in events {
        assert_eq!(e.id, *next_id, "history event ids must be consecutive");
        assert!(
            e.previous_event_id < e.id,
            "previous id must point backwards"
        );
        *next_id += 1;
    }
}

/// Parses `text` as a definition and, when it validates, runs it.
pub fn parse_and_run(text: &str, input: Value, u: &mut Unstructured<'_>) {
    if let Ok(def) = Definition::parse_str(text) {
        run_execution(&def, input, u);
    }
}

// ---------------------------------------------------------------------------------------
// Structure-aware definitions.

/// A small vocabulary of paths, so generated definitions refer to things that exist.
const PATHS: &[&str] = &[
    "$",
    "$.a",
    "$.c",
    "$.c[0]",
    "$.c[*]",
    "$.d..g",
    "$.items[?(@.v > 1)]",
    "$.missing",
    "$.big",
    "$.neg",
    "$.f",
    "$.s",
    "$$.Execution.Input",
    "$$.Map.Item.Value",
    "$$.State.RetryCount",
    "$.x.y",
];

const INTRINSICS: &[&str] = &[
    "States.Format('{} and {}', $.a, $.b)",
    "States.Array($.a, $.c, 1, 'x')",
    "States.ArrayRange($.a, 9, 2)",
    "States.ArrayRange(-9223372036854775808, 9223372036854775807, 9223372036854775807)",
    "States.ArrayPartition($.c, 2)",
    "States.ArrayGetItem($.c, $.a)",
    "States.JsonToString($)",
    "States.StringToJson('{\"k\": [1, 2]}')",
    "States.MathAdd($.big, 1)",
    "States.MathRandom($.a, 100, 7)",
    "States.Hash($.b, 'SHA-256')",
    "States.Base64Encode($.b)",
    "States.StringSplit($.b, 'w')",
    "States.UUID()",
    "States.JsonMerge($.d, $, false)",
    "States.ArrayUnique($.c)",
];

#[derive(Debug, Arbitrary)]
pub enum PathPick {
    Known(u8),
    Raw(String),
}

impl PathPick {
    fn text(&self) -> String {
        match self {
            PathPick::Known(i) => PATHS[usize::from(*i) % PATHS.len()].to_owned(),
            PathPick::Raw(s) => format!("${s}"),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Known(u8),
}

impl Scalar {
    fn value(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(i) => Value::from(*i),
            Scalar::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Scalar::Str(s) => Value::String(s.clone()),
            Scalar::Known(i) => Value::from(PATHS[usize::from(*i) % PATHS.len()]),
        }
    }
}

/// A payload template (Parameters, ResultSelector, ItemSelector).
#[derive(Debug, Arbitrary)]
pub enum Tmpl {
    Literal(Scalar),
    Path(String, PathPick),
    Intrinsic(String, u8),
    Object(Vec<(String, Tmpl)>),
    Array(Vec<Tmpl>),
}

impl Tmpl {
    fn value(&self, depth: usize) -> Value {
        if depth > 8 {
            return Value::Null;
        }
        match self {
            Tmpl::Literal(s) => s.value(),
            Tmpl::Path(k, p) => json!({ format!("{k}.$"): p.text() }),
            Tmpl::Intrinsic(k, i) => {
                json!({ format!("{k}.$"): INTRINSICS[usize::from(*i) % INTRINSICS.len()] })
            }
            Tmpl::Object(fields) => {
                let mut m = Map::new();
                for (k, t) in fields {
                    m.insert(k.clone(), t.value(depth + 1));
                }
                Value::Object(m)
            }
            Tmpl::Array(items) => Value::Array(items.iter().map(|t| t.value(depth + 1)).collect()),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub enum Cmp {
    StringEquals(String),
    NumericEquals(f64),
    NumericLessThan(i64),
    NumericGreaterThanEqualsPath(PathPick),
    BooleanEquals(bool),
    IsPresent(bool),
    IsNull(bool),
    IsNumeric(bool),
    StringMatches(String),
    TimestampLessThan(String),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

#[derive(Debug, Arbitrary)]
pub struct Cond {
    variable: PathPick,
    cmp: Cmp,
}

impl Cond {
    fn value(&self, depth: usize) -> Value {
        if depth > 6 {
            return json!({"Variable": "$.a", "IsPresent": true});
        }
        let var = self.variable.text();
        let nested = |cs: &Vec<Cond>| Value::Array(cs.iter().map(|c| c.value(depth + 1)).collect());
        match &self.cmp {
            Cmp::And(cs) => json!({ "And": nested(cs) }),
            Cmp::Or(cs) => json!({ "Or": nested(cs) }),
            Cmp::Not(c) => json!({ "Not": c.value(depth + 1) }),
            Cmp::StringEquals(s) => json!({"Variable": var, "StringEquals": s}),
            Cmp::NumericEquals(f) => {
                json!({"Variable": var, "NumericEquals": Scalar::Float(*f).value()})
            }
            Cmp::NumericLessThan(i) => json!({"Variable": var, "NumericLessThan": i}),
            Cmp::NumericGreaterThanEqualsPath(p) => {
                json!({"Variable": var, "NumericGreaterThanEqualsPath": p.text()})
            }
            Cmp::BooleanEquals(b) => json!({"Variable": var, "BooleanEquals": b}),
            Cmp::IsPresent(b) => json!({"Variable": var, "IsPresent": b}),
            Cmp::IsNull(b) => json!({"Variable": var, "IsNull": b}),
            Cmp::IsNumeric(b) => json!({"Variable": var, "IsNumeric": b}),
            Cmp::StringMatches(s) => json!({"Variable": var, "StringMatches": s}),
            Cmp::TimestampLessThan(s) => json!({"Variable": var, "TimestampLessThan": s}),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub enum Resource {
    Lambda,
    LambdaInvoke,
    SnsCallback,
    Activity,
    Raw(String),
}

#[derive(Debug, Arbitrary)]
pub enum Num {
    Int(u32),
    Big(u64),
    Float(f64),
    Path(PathPick),
}

#[derive(Debug, Arbitrary)]
pub struct Io {
    input_path: Option<Option<PathPick>>,
    output_path: Option<Option<PathPick>>,
    result_path: Option<Option<PathPick>>,
    parameters: Option<Tmpl>,
    result_selector: Option<Tmpl>,
}

#[derive(Debug, Arbitrary)]
pub struct Retry {
    errors: Vec<u8>,
    interval: Option<Num>,
    max_attempts: Option<Num>,
    backoff: Option<f64>,
    max_delay: Option<Num>,
    jitter: bool,
}

#[derive(Debug, Arbitrary)]
pub struct Catch {
    errors: Vec<u8>,
    next: u8,
    result_path: Option<PathPick>,
}

#[derive(Debug, Arbitrary)]
pub enum StateKind {
    Pass {
        result: Option<Scalar>,
    },
    Task {
        resource: Resource,
        timeout: Option<Num>,
        heartbeat: Option<Num>,
    },
    Choice {
        choices: Vec<(Cond, u8)>,
        default: Option<u8>,
    },
    Wait(Num, Option<String>),
    Succeed,
    Fail {
        error: Option<String>,
        cause_path: Option<PathPick>,
    },
    Parallel(Vec<Block>),
    Map {
        items_path: Option<PathPick>,
        item_selector: Option<Tmpl>,
        max_concurrency: Option<Num>,
        distributed: bool,
        tolerated: Option<Num>,
        processor: Box<Block>,
    },
}

#[derive(Debug, Arbitrary)]
pub struct StateSpec {
    kind: StateKind,
    io: Io,
    next: Option<u8>,
    retry: Vec<Retry>,
    catch: Vec<Catch>,
}

#[derive(Debug, Arbitrary)]
pub struct Block {
    states: Vec<StateSpec>,
    start: u8,
}

/// A whole generated machine: a block, an optional execution timeout and an input.
#[derive(Debug, Arbitrary)]
pub struct Machine {
    block: Block,
    timeout: Option<Num>,
    input: Tmpl,
}

const ERRORS: &[&str] = &[
    "States.ALL",
    "States.TaskFailed",
    "States.Timeout",
    "States.Runtime",
    "States.DataLimitExceeded",
    "States.HeartbeatTimeout",
    "Custom.Error",
    "States.Permissions",
];

fn num(n: &Num, field: &str, obj: &mut Map<String, Value>) {
    match n {
        Num::Int(i) => {
            obj.insert(field.into(), Value::from(*i));
        }
        Num::Big(i) => {
            obj.insert(field.into(), Value::from(*i));
        }
        Num::Float(f) => {
            obj.insert(field.into(), Scalar::Float(*f).value());
        }
        Num::Path(p) => {
            obj.insert(format!("{field}Path"), Value::from(p.text()));
        }
    }
}

impl Machine {
    /// The definition JSON this machine describes, and its execution input.
    pub fn to_json(&self) -> (Value, Value) {
        let mut counter = 0usize;
        let mut def = self.block.to_json(&mut counter, 0);
        if let (Some(t), Some(o)) = (&self.timeout, def.as_object_mut()) {
            num(t, "TimeoutSeconds", o);
            o.remove("TimeoutSecondsPath");
        }
        (def, self.input.value(0))
    }
}

impl Block {
    fn to_json(&self, counter: &mut usize, depth: usize) -> Value {
        let base = *counter;
        let n = self.states.len().clamp(1, 12);
        *counter += n;
        let name = |i: u8| format!("S{}", base + usize::from(i) % n);
        let mut states = Map::new();
        for i in 0..n {
            let spec = self.states.get(i);
            let st = match spec {
                Some(s) if depth < 3 => s.to_json(counter, depth, &name),
                _ => json!({"Type": "Succeed"}),
            };
            states.insert(format!("S{}", base + i), st);
        }
        json!({"StartAt": name(self.start), "States": states})
    }
}

impl StateSpec {
    fn to_json(&self, counter: &mut usize, depth: usize, name: &dyn Fn(u8) -> String) -> Value {
        let mut o = Map::new();
        let ends = |o: &mut Map<String, Value>| match self.next {
            Some(n) => {
                o.insert("Next".into(), Value::from(name(n)));
            }
            None => {
                o.insert("End".into(), Value::Bool(true));
            }
        };
        let io = |o: &mut Map<String, Value>, result: bool| {
            for (field, p) in [
                ("InputPath", &self.io.input_path),
                ("OutputPath", &self.io.output_path),
            ] {
                if let Some(p) = p {
                    o.insert(
                        field.into(),
                        p.as_ref().map_or(Value::Null, |p| p.text().into()),
                    );
                }
            }
            if result {
                if let Some(p) = &self.io.result_path {
                    o.insert(
                        "ResultPath".into(),
                        p.as_ref().map_or(Value::Null, |p| p.text().into()),
                    );
                }
                if let Some(t) = &self.io.parameters {
                    o.insert("Parameters".into(), t.value(0));
                }
            }
        };
        let retry_catch = |o: &mut Map<String, Value>| {
            let pick = |e: &Vec<u8>| {
                let v: Vec<Value> = e
                    .iter()
                    .take(3)
                    .map(|i| Value::from(ERRORS[usize::from(*i) % ERRORS.len()]))
                    .collect();
                if v.is_empty() {
                    json!(["States.ALL"])
                } else {
                    Value::Array(v)
                }
            };
            if !self.retry.is_empty() {
                let rs: Vec<Value> = self
                    .retry
                    .iter()
                    .take(3)
                    .map(|r| {
                        let mut m = Map::new();
                        m.insert("ErrorEquals".into(), pick(&r.errors));
                        if let Some(n) = &r.interval {
                            num(n, "IntervalSeconds", &mut m);
                        }
                        if let Some(n) = &r.max_attempts {
                            num(n, "MaxAttempts", &mut m);
                        }
                        if let Some(b) = r.backoff {
                            m.insert("BackoffRate".into(), Scalar::Float(b).value());
                        }
                        if let Some(n) = &r.max_delay {
                            num(n, "MaxDelaySeconds", &mut m);
                        }
                        if r.jitter {
                            m.insert("JitterStrategy".into(), "FULL".into());
                        }
                        Value::Object(m)
                    })
                    .collect();
                o.insert("Retry".into(), Value::Array(rs));
            }
            if !self.catch.is_empty() {
                let cs: Vec<Value> = self
                    .catch
                    .iter()
                    .take(3)
                    .map(|c| {
                        let mut m = Map::new();
                        m.insert("ErrorEquals".into(), pick(&c.errors));
                        m.insert("Next".into(), Value::from(name(c.next)));
                        if let Some(p) = &c.result_path {
                            m.insert("ResultPath".into(), p.text().into());
                        }
                        Value::Object(m)
                    })
                    .collect();
                o.insert("Catch".into(), Value::Array(cs));
            }
        };
        match &self.kind {
            StateKind::Pass { result } => {
                o.insert("Type".into(), "Pass".into());
                if let Some(r) = result {
                    o.insert("Result".into(), r.value());
                }
                io(&mut o, true);
                ends(&mut o);
            }
            StateKind::Task {
                resource,
                timeout,
                heartbeat,
            } => {
                o.insert("Type".into(), "Task".into());
                let r = match resource {
                    Resource::Lambda => "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
                    Resource::LambdaInvoke => "arn:aws:states:::lambda:invoke".into(),
                    Resource::SnsCallback => "arn:aws:states:::sns:publish.waitForTaskToken".into(),
                    Resource::Activity => "arn:aws:states:us-east-1:000000000000:activity:a".into(),
                    Resource::Raw(s) => s.clone(),
                };
                o.insert("Resource".into(), Value::String(r));
                if let Some(t) = timeout {
                    num(t, "TimeoutSeconds", &mut o);
                }
                if let Some(h) = heartbeat {
                    num(h, "HeartbeatSeconds", &mut o);
                }
                if let Some(t) = &self.io.result_selector {
                    o.insert("ResultSelector".into(), t.value(0));
                }
                io(&mut o, true);
                retry_catch(&mut o);
                ends(&mut o);
            }
            StateKind::Choice { choices, default } => {
                o.insert("Type".into(), "Choice".into());
                let cs: Vec<Value> = choices
                    .iter()
                    .take(4)
                    .map(|(c, n)| {
                        let mut v = c.value(0);
                        if let Some(m) = v.as_object_mut() {
                            m.insert("Next".into(), Value::from(name(*n)));
                        }
                        v
                    })
                    .collect();
                o.insert("Choices".into(), Value::Array(cs));
                if let Some(d) = default {
                    o.insert("Default".into(), Value::from(name(*d)));
                }
                io(&mut o, false);
            }
            StateKind::Wait(n, ts) => {
                o.insert("Type".into(), "Wait".into());
                match ts {
                    Some(ts) => {
                        o.insert("Timestamp".into(), Value::from(ts.clone()));
                    }
                    None => num(n, "Seconds", &mut o),
                }
                io(&mut o, false);
                ends(&mut o);
            }
            StateKind::Succeed => {
                o.insert("Type".into(), "Succeed".into());
                io(&mut o, false);
            }
            StateKind::Fail { error, cause_path } => {
                o.insert("Type".into(), "Fail".into());
                if let Some(e) = error {
                    o.insert("Error".into(), Value::from(e.clone()));
                }
                if let Some(p) = cause_path {
                    o.insert("CausePath".into(), p.text().into());
                }
            }
            StateKind::Parallel(branches) => {
                o.insert("Type".into(), "Parallel".into());
                let bs: Vec<Value> = branches
                    .iter()
                    .take(3)
                    .map(|b| b.to_json(counter, depth + 1))
                    .collect();
                o.insert("Branches".into(), Value::Array(bs));
                if let Some(t) = &self.io.result_selector {
                    o.insert("ResultSelector".into(), t.value(0));
                }
                io(&mut o, true);
                retry_catch(&mut o);
                ends(&mut o);
            }
            StateKind::Map {
                items_path,
                item_selector,
                max_concurrency,
                distributed,
                tolerated,
                processor,
            } => {
                o.insert("Type".into(), "Map".into());
                let mut p = processor.to_json(counter, depth + 1);
                if let Some(m) = p.as_object_mut() {
                    let mode = if *distributed {
                        "DISTRIBUTED"
                    } else {
                        "INLINE"
                    };
                    m.insert(
                        "ProcessorConfig".into(),
                        json!({"Mode": mode, "ExecutionType": "STANDARD"}),
                    );
                }
                o.insert("ItemProcessor".into(), p);
                if let Some(ip) = items_path {
                    o.insert("ItemsPath".into(), ip.text().into());
                }
                if let Some(t) = item_selector {
                    o.insert("ItemSelector".into(), t.value(0));
                }
                if let Some(n) = max_concurrency {
                    num(n, "MaxConcurrency", &mut o);
                }
                if let Some(n) = tolerated {
                    num(n, "ToleratedFailureCount", &mut o);
                }
                io(&mut o, true);
                retry_catch(&mut o);
                ends(&mut o);
            }
        }
        Value::Object(o)
    }
}
