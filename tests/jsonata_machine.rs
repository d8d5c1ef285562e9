//! The JSONata example machine (`statemachine/human_in_the_loop.jsonata.asl.json`)
//! behaves like the deployed JSONPath one. Both run on the local engine with the same
//! substitutions, input and scripted Lambda results and answers; step by step they
//! must enter the same states, ask for the same tasks with the same parameters, arm
//! the same timers, and end with the same status, output, error and cause. Each
//! scenario also asserts a few facts outright, so that both files being wrong in the
//! same way does not pass.
//!
//! Pure: the engine with a fixed clock, no services. The Lambda results follow
//! docs/approval-policies.md, "Lambda contracts".

use std::collections::BTreeMap;

use asl_engine::{
    Command, CommandError, Definition, ExecInfo, Execution, Status, Step, TaskOutcome, TaskRequest,
};
use serde_json::{Value, json};
use workflow_tests::{placeholders, read};

const JSONPATH: &str = "statemachine/human_in_the_loop.asl.json";
const JSONATA: &str = "statemachine/human_in_the_loop.jsonata.asl.json";

/// 2023-11-14T22:13:20Z, when every execution starts.
const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;
const EXECUTION_TIMEOUT_SECONDS: i64 = 262_800;

const A: &str = "ana@example.com";
const B: &str = "bo@example.com";
const C: &str = "cy@example.com";
const BOSS: &str = "boss@example.com";

const INVALID_ANSWER: &str = "The review answer must be a JSON object with a boolean result: {\"result\":true} approves, {\"result\":false} rejects. Received: ";

/// The definition text with `${Name}` replaced as DefinitionSubstitutions would.
fn substituted(file: &str) -> String {
    let mut text = read(file);
    for name in placeholders(&text) {
        let value = match name.as_str() {
            "ExecutionTimeoutSeconds" => EXECUTION_TIMEOUT_SECONDS.to_string(),
            "ActionMaxAttempts" => "2".to_owned(),
            "Region" => "eu-west-1".to_owned(),
            other => format!("arn:aws:test:eu-west-1:123456789012:{other}"),
        };
        text = text.replace(&format!("${{{name}}}"), &value);
    }
    text
}

fn definition(file: &str) -> Definition {
    Definition::parse_str(&substituted(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn info(input: Value) -> ExecInfo {
    ExecInfo {
        execution_arn: "arn:aws:states:eu-west-1:123456789012:execution:review:refund-1042".into(),
        name: "refund-1042".into(),
        state_machine_arn: "arn:aws:states:eu-west-1:123456789012:stateMachine:review".into(),
        state_machine_name: "review".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        start_ms: T0,
        input,
        token_prefix: "tok-".into(),
    }
}

/// What a `lambda:invoke` task returns: the function's result under `Payload`.
fn lambda(payload: Value) -> Value {
    json!({"ExecutedVersion": "$LATEST", "Payload": payload, "StatusCode": 200})
}

/// What the driver sees, in order: every history event (type, state, and the details
/// that do not depend on how a state shapes its data), every task asked, every timer.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Event(String, Value),
    Task(String, Value),
    Timer(i64),
}

/// One machine driven by a test script.
struct Machine {
    file: &'static str,
    d: Definition,
    exec: Execution,
    now: i64,
    seen: Vec<Seen>,
    /// Every task asked so far, by id.
    asked: BTreeMap<u64, TaskRequest>,
    /// Every timer armed so far, by id, with its due time.
    timers: BTreeMap<u64, i64>,
}

impl Machine {
    fn start(file: &'static str, input: &Value) -> Self {
        let d = definition(file);
        let (exec, step) = Execution::start(&d, info(input.clone()), T0);
        let mut m = Machine {
            file,
            d,
            exec,
            now: T0,
            seen: Vec::new(),
            asked: BTreeMap::new(),
            timers: BTreeMap::new(),
        };
        m.record(step);
        m
    }

    fn record(&mut self, step: Step) {
        for e in &step.events {
            // Not the states' input and output: the JSONata file keeps its data in
            // variables, so those differ by design; what reaches the outside does not.
            let mut kept = serde_json::Map::new();
            for key in ["name", "index", "error", "cause", "timeoutInSeconds"] {
                if let Some(v) = e.details.get(key) {
                    kept.insert(key.into(), v.clone());
                }
            }
            self.seen
                .push(Seen::Event(e.event_type.clone(), Value::Object(kept)));
        }
        for (id, request) in step.tasks() {
            self.seen.push(Seen::Task(
                request.resource.clone(),
                request.parameters.clone(),
            ));
            self.asked.insert(id, request.clone());
        }
        for (id, due) in step.timers() {
            self.seen.push(Seen::Timer(due));
            self.timers.insert(id, due);
        }
    }

    fn apply(&mut self, command: Command) {
        let step = self
            .exec
            .apply(&self.d, command, self.now)
            .unwrap_or_else(|e| panic!("{}: {e}", self.file));
        self.record(step);
    }

    /// The waiting task that calls `function` (its placeholder's name), for `reviewer`
    /// when given.
    fn waiting(&self, function: &str, reviewer: Option<&str>) -> u64 {
        self.asked
            .iter()
            .rev()
            .find(|(id, r)| {
                self.exec.has_task(**id)
                    && r.parameters["FunctionName"]
                        .as_str()
                        .is_some_and(|f| f.ends_with(function))
                    && reviewer.is_none_or(|who| r.parameters["Payload"]["reviewer"] == who)
            })
            .map(|(id, _)| *id)
            .unwrap_or_else(|| {
                panic!(
                    "{}: no waiting {function} for {reviewer:?}; seen: {:#?}",
                    self.file, self.seen
                )
            })
    }

    /// `function` returns `payload`.
    fn returns(&mut self, function: &str, reviewer: Option<&str>, payload: Value) {
        let task_id = self.waiting(function, reviewer);
        self.now += 1_000;
        self.apply(Command::Task {
            task_id,
            outcome: TaskOutcome::Succeeded(lambda(payload)),
        });
    }

    /// Ask Reviewer (or Ask Escalation) has sent its email: its result is recorded and
    /// the task goes on waiting for the token.
    fn emailed(&mut self, reviewer: &str) {
        let task_id = self.waiting("AskReviewerFunctionArn", Some(reviewer));
        self.now += 100;
        self.apply(Command::Task {
            task_id,
            outcome: TaskOutcome::Submitted(lambda(
                json!({"state": "asked", "reviewer": reviewer}),
            )),
        });
    }

    /// send-task-success with `reviewer`'s token.
    fn answers(&mut self, reviewer: &str, answer: &Value) {
        let task_id = self.waiting("AskReviewerFunctionArn", Some(reviewer));
        assert_eq!(
            self.asked[&task_id].parameters["Payload"]["taskToken"],
            self.exec.token(task_id),
            "{}: the payload carries the task's own token",
            self.file
        );
        self.now += 30_000;
        self.apply(Command::Task {
            task_id,
            outcome: TaskOutcome::Succeeded(answer.clone()),
        });
    }

    /// `reviewer`'s token is refused: their wait was cut when the review was decided.
    fn refuses(&mut self, reviewer: &str) {
        let (task_id, _) = self
            .asked
            .iter()
            .find(|(_, r)| r.parameters["Payload"]["reviewer"] == reviewer)
            .unwrap_or_else(|| panic!("{}: {reviewer} was never asked", self.file));
        let before = self.exec.clone();
        let refused = self.exec.apply(
            &self.d,
            Command::Task {
                task_id: *task_id,
                outcome: TaskOutcome::Succeeded(json!({"result": true})),
            },
            self.now,
        );
        assert_eq!(refused, Err(CommandError::UnknownTask), "{}", self.file);
        assert_eq!(self.exec, before);
    }

    /// The timer due at `due_ms` fires (the latest one armed for that time).
    fn fires(&mut self, due_ms: i64) {
        let timer_id = self
            .timers
            .iter()
            .rev()
            .find(|(_, due)| **due == due_ms)
            .map(|(id, _)| *id)
            .unwrap_or_else(|| panic!("{}: no timer due at {due_ms}", self.file));
        self.now = self.now.max(due_ms);
        self.apply(Command::Timer { timer_id });
    }

    /// The due time of the timer armed last.
    fn latest_timer(&self) -> i64 {
        self.timers
            .values()
            .last()
            .copied()
            .unwrap_or_else(|| panic!("{}: no timer armed", self.file))
    }

    /// The parameters of every task asked that calls `function`, in order.
    fn asked_of(&self, function: &str) -> Vec<Value> {
        self.asked
            .values()
            .filter(|r| {
                r.parameters["FunctionName"]
                    .as_str()
                    .is_some_and(|f| f.ends_with(function))
            })
            .map(|r| r.parameters.clone())
            .collect()
    }

    /// The names of the states entered, in order.
    fn entered(&self) -> Vec<&str> {
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::Event(ty, d) if ty.ends_with("StateEntered") => d["name"].as_str(),
                _ => None,
            })
            .collect()
    }
}

/// Runs `script` on both machines and asserts that they did the same things; returns
/// the JSONata one for the scenario's own assertions.
fn both(input: &Value, script: impl Fn(&mut Machine)) -> Machine {
    let mut jsonpath = Machine::start(JSONPATH, input);
    script(&mut jsonpath);
    let mut jsonata = Machine::start(JSONATA, input);
    script(&mut jsonata);
    // The first difference, with what came before it, reads better than two long lists.
    if let Some(at) = (0..jsonpath.seen.len().max(jsonata.seen.len()))
        .find(|i| jsonpath.seen.get(*i) != jsonata.seen.get(*i))
    {
        panic!(
            "the machines differ at step {at}:\nJSONPath: {:#?}\nJSONata:  {:#?}\nbefore: {:#?}",
            jsonpath.seen.get(at),
            jsonata.seen.get(at),
            &jsonpath.seen[at.saturating_sub(6)..at]
        );
    }
    assert_eq!(jsonata.exec.status, jsonpath.exec.status);
    assert_eq!(jsonata.exec.output, jsonpath.exec.output);
    assert_eq!(jsonata.exec.error, jsonpath.exec.error);
    assert_eq!(jsonata.exec.cause, jsonpath.exec.cause);
    jsonata
}

fn request() -> Value {
    serde_json::from_str(&read("events/start_execution.json")).expect("JSON")
}

fn event(name: &str) -> Value {
    serde_json::from_str(&read(&format!("events/{name}.json"))).expect("JSON")
}

/// Open Review's result for these reviewers: the first reminder 10 minutes after the
/// start, the deadline an hour after it.
fn opened(eligible: &[&str], required: u32) -> Value {
    json!({
        "policy": {"required": required, "reviewers": eligible, "escalation": BOSS},
        "eligible": eligible,
        "decisionOnTimeout": "reject",
        "schedule": {"openedAt": "2023-11-14T22:13:20.000Z", "deadline": "2023-11-14T23:13:20Z",
                     "backstopSeconds": 3_900},
        "next": {"kind": "remind", "at": "2023-11-14T22:23:20Z", "remainingSeconds": 3_000}
    })
}

fn vote(reviewer: &str, answer: &Value) -> Value {
    let mut v = json!({"reviewer": reviewer, "result": answer["result"],
                       "at": "2023-11-14T22:14:00.000Z", "via": "cli"});
    if let Some(name) = answer.get("reviewer") {
        v["name"] = name.clone();
    }
    v
}

/// The decision record Record Vote or Tick returns, with keys not in sorted order so
/// that a machine that reorders them while passing the record on is caught.
fn record(decision: &str, decided_by: &str, review: Value, votes: Value, required: u32) -> Value {
    json!({
        "decision": decision,
        "decidedBy": decided_by,
        "expired": decided_by == "timeout",
        "decidedAt": "2023-11-14T22:20:00.000Z",
        "review": review,
        "votes": votes,
        "policy": {"required": required, "reviewers": [A, B, C]}
    })
}

/// What Process Approval/Rejection return: the execution's output.
fn decision_output(record: &Value) -> Value {
    json!({"decision": record["decision"], "votes": record["votes"], "policy": record["policy"],
           "notified": true})
}

/// The payload Process Approval/Rejection must get for `record`.
fn outcome_payload(record: &Value) -> Value {
    json!({
        "executionArn": "arn:aws:states:eu-west-1:123456789012:execution:review:refund-1042",
        "executionName": "refund-1042",
        "request": request(),
        "review": record["review"],
        "votes": record["votes"],
        "policy": record["policy"]
    })
}

/// Opens a review of `eligible` and lets Ask Reviewer email each of them.
fn open(m: &mut Machine, eligible: &[&str], required: u32) {
    m.returns("OpenReviewFunctionArn", None, opened(eligible, required));
    for r in eligible {
        m.emailed(r);
    }
}

#[test]
fn both_files_have_the_same_placeholders_states_retries_and_transitions() {
    /// Per state (nested ones included): its type, Retry, Catch (errors and target),
    /// the states it can go to, and whether it ends.
    fn shape(states: &Value, out: &mut BTreeMap<String, Value>) {
        for (name, st) in states.as_object().into_iter().flatten() {
            let mut targets: Vec<&Value> = st["Choices"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| &c["Next"])
                .chain([&st["Next"], &st["Default"]])
                .filter(|t| !t.is_null())
                .collect();
            targets.sort_by_key(|t| t.to_string());
            targets.dedup();
            let catches: Vec<Value> = st["Catch"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| json!([c["ErrorEquals"], c["Next"]]))
                .collect();
            out.insert(
                name.clone(),
                json!({"type": st["Type"], "retry": st["Retry"], "catch": catches,
                       "targets": targets, "end": st["End"], "error": st["Error"]}),
            );
            for branch in st["Branches"].as_array().into_iter().flatten() {
                shape(&branch["States"], out);
            }
            shape(&st["ItemProcessor"]["States"], out);
        }
    }
    let [jsonpath, jsonata] = [JSONPATH, JSONATA].map(|file| {
        let v: Value = serde_json::from_str(&substituted(file)).expect("JSON");
        let mut states = BTreeMap::new();
        shape(&v["States"], &mut states);
        (
            placeholders(&read(file)),
            v["TimeoutSeconds"].clone(),
            states,
        )
    });
    assert_eq!(jsonata.0, jsonpath.0, "the same ${{...}} placeholders");
    assert_eq!(jsonata.1, jsonpath.1);
    assert_eq!(
        jsonata.2.keys().collect::<Vec<_>>(),
        jsonpath.2.keys().collect::<Vec<_>>()
    );
    for (name, shape) in &jsonpath.2 {
        assert_eq!(&jsonata.2[name], shape, "{name}");
    }
    assert_eq!(jsonpath.2.len(), 32);
}

#[test]
fn two_of_three_approve_and_the_third_reviewer_is_cut() {
    let ana = event("review_approve");
    let bo = json!({"result": true, "reviewer": "Bo", "comment": "ok"});
    let rec = record(
        "approved",
        "quorum",
        json!({"result": true, "reviewer": "Bo", "comment": "ok", "via": "cli"}),
        json!([vote(A, &ana), vote(B, &bo)]),
        2,
    );
    let m = both(&request(), |m| {
        open(m, &[A, B, C], 2);
        m.answers(A, &ana);
        m.returns(
            "RecordVoteFunctionArn",
            Some(A),
            json!({"state": "counted", "approvals": 1, "required": 2}),
        );
        assert_eq!(m.exec.status, Status::Running);
        m.answers(B, &bo);
        m.returns(
            "RecordVoteFunctionArn",
            Some(B),
            json!({"state": "decided", "record": rec}),
        );
        m.refuses(C);
        m.returns("ProcessApprovalFunctionArn", None, decision_output(&rec));
    });
    assert_eq!(m.exec.status, Status::Succeeded);
    assert_eq!(m.exec.output, Some(decision_output(&rec)));

    let open_review = &m.asked_of("OpenReviewFunctionArn")[0];
    assert_eq!(
        open_review["Payload"],
        json!({"executionArn": "arn:aws:states:eu-west-1:123456789012:execution:review:refund-1042",
               "request": request()})
    );
    // Each reviewer is asked once, as a reviewer, with the token of their own task.
    let asks = m.asked_of("AskReviewerFunctionArn");
    let reviewers: Vec<&Value> = asks.iter().map(|p| &p["Payload"]["reviewer"]).collect();
    assert_eq!(reviewers, [A, B, C]);
    for (id, ask) in &m.asked {
        if ask.resource.ends_with("lambda:invoke.waitForTaskToken") {
            let payload = &ask.parameters["Payload"];
            assert_eq!(payload["role"], "reviewer");
            assert_eq!(payload["taskToken"], m.exec.token(*id));
            assert_eq!(ask.task_token.as_deref(), Some(m.exec.token(*id).as_str()));
            assert_eq!(payload["request"], request());
        }
    }
    // The reviewer is the Map item, not the name in the answer.
    let votes = m.asked_of("RecordVoteFunctionArn");
    assert_eq!(votes[1]["Payload"]["reviewer"], B);
    assert_eq!(votes[1]["Payload"]["answer"], bo);
    // The decision record reaches Process Approval whole.
    assert_eq!(
        m.asked_of("ProcessApprovalFunctionArn")[0]["Payload"],
        outcome_payload(&rec)
    );
    // Each wait's backstop and the first reminder, then the execution's timeout.
    let mut due: Vec<i64> = m
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Timer(due) => Some(*due),
            _ => None,
        })
        .collect();
    due.sort_unstable();
    due.dedup();
    assert_eq!(
        due,
        [
            T0 + 10 * MINUTE,
            T0 + 1_000 + 3_900_000,
            T0 + EXECUTION_TIMEOUT_SECONDS * 1000
        ]
    );
    assert!(m.asked_of("ReviewTickFunctionArn").is_empty());
}

#[test]
fn one_rejection_vetoes_the_review() {
    let no = event("review_reject");
    let rec = record("rejected", "veto", no.clone(), json!([vote(A, &no)]), 2);
    let m = both(&request(), |m| {
        open(m, &[A, B, C], 2);
        m.answers(A, &no);
        m.returns(
            "RecordVoteFunctionArn",
            Some(A),
            json!({"state": "decided", "record": rec}),
        );
        m.refuses(B);
        m.refuses(C);
        m.returns("ProcessRejectionFunctionArn", None, decision_output(&rec));
    });
    assert_eq!(m.exec.status, Status::Succeeded);
    assert_eq!(
        m.asked_of("ProcessRejectionFunctionArn")[0]["Payload"],
        outcome_payload(&rec)
    );
    assert!(m.asked_of("ProcessApprovalFunctionArn").is_empty());
    assert_eq!(
        m.entered().iter().rev().take(3).collect::<Vec<_>>(),
        [&"Process Rejection", &"Route Decision", &"Read Decision"]
    );
}

#[test]
fn an_answer_without_a_boolean_result_fails_the_review_with_the_same_cause() {
    for answer in [
        event("review_invalid"),
        json!({}),
        json!("say \"yes\""),
        json!(true),
        json!({"result": 1}),
        json!([{"result": true}]),
        json!({"result": null, "reviewer": "Bo"}),
    ] {
        let m = both(&request(), |m| {
            open(m, &[A, B], 1);
            m.answers(B, &answer);
        });
        assert_eq!(m.exec.status, Status::Failed, "{answer}");
        assert_eq!(m.exec.error.as_deref(), Some("InvalidReviewResult"));
        assert_eq!(
            m.exec.cause.as_deref(),
            Some(format!("{INVALID_ANSWER}{answer}").as_str())
        );
        assert!(m.asked_of("RecordVoteFunctionArn").is_empty());
    }
}

#[test]
fn the_timers_remind_and_then_tick_records_the_expiry() {
    let yes = event("review_approve");
    let rec = record(
        "rejected",
        "timeout",
        json!({"result": false, "expired": true}),
        json!([vote(A, &yes)]),
        2,
    );
    let m = both(&request(), |m| {
        open(m, &[A, B, C], 2);
        m.answers(A, &yes);
        m.returns(
            "RecordVoteFunctionArn",
            Some(A),
            json!({"state": "counted", "approvals": 1, "required": 2}),
        );
        m.fires(T0 + 10 * MINUTE);
        m.returns(
            "ReviewTickFunctionArn",
            None,
            json!({"state": "waiting", "reminded": [B, C], "failed": [],
                   "next": {"kind": "expire", "at": "2023-11-14T23:13:20Z", "remainingSeconds": 3000}}),
        );
        m.fires(T0 + 60 * MINUTE);
        m.returns(
            "ReviewTickFunctionArn",
            None,
            json!({"state": "decided", "record": rec}),
        );
        m.refuses(B);
        m.returns("ProcessRejectionFunctionArn", None, decision_output(&rec));
    });
    assert_eq!(m.exec.status, Status::Succeeded);
    let ticks = m.asked_of("ReviewTickFunctionArn");
    assert_eq!(ticks.len(), 2);
    assert_eq!(
        ticks[0]["Payload"],
        json!({"executionArn": "arn:aws:states:eu-west-1:123456789012:execution:review:refund-1042",
               "executionName": "refund-1042", "request": request()})
    );
    assert_eq!(
        m.asked_of("ProcessRejectionFunctionArn")[0]["Payload"]["review"],
        json!({"result": false, "expired": true})
    );
    // The second wait is on the `next.at` Tick returned.
    assert!(m.seen.contains(&Seen::Timer(T0 + 60 * MINUTE)));
}

#[test]
fn the_escalation_is_asked_again_after_its_wait_times_out_and_then_decides() {
    let boss = json!({"result": true, "reviewer": "The Boss"});
    let rec = record(
        "approved",
        "escalation",
        boss.clone(),
        json!([vote(BOSS, &boss)]),
        2,
    );
    let escalate = |remaining: u32| {
        json!({"state": "escalate", "reviewer": BOSS,
               "next": {"kind": "expire", "at": "2023-11-14T23:13:20Z", "remainingSeconds": remaining}})
    };
    let m = both(&request(), |m| {
        open(m, &[A, B], 2);
        m.fires(T0 + 10 * MINUTE);
        m.returns("ReviewTickFunctionArn", None, escalate(600));
        // Ask Escalation's timeout is the timer it armed last.
        let timeout = m.latest_timer();
        assert_eq!(timeout, m.now + 600_000, "{}", m.file);
        m.emailed(BOSS);
        // Nobody answers the escalation within its 600 s: Tick runs again.
        m.fires(timeout);
        m.returns("ReviewTickFunctionArn", None, escalate(300));
        m.emailed(BOSS);
        m.answers(BOSS, &boss);
        m.returns(
            "RecordVoteFunctionArn",
            Some(BOSS),
            json!({"state": "decided", "record": rec}),
        );
        m.refuses(A);
        m.refuses(B);
        m.returns("ProcessApprovalFunctionArn", None, decision_output(&rec));
    });
    assert_eq!(m.exec.status, Status::Succeeded);
    let asks = m.asked_of("AskReviewerFunctionArn");
    assert_eq!(asks.len(), 4);
    for ask in &asks[2..] {
        assert_eq!(ask["Payload"]["reviewer"], BOSS);
        assert_eq!(ask["Payload"]["role"], "escalation");
    }
    assert_eq!(
        m.asked_of("RecordVoteFunctionArn")[0]["Payload"]["reviewer"],
        BOSS
    );
    assert_eq!(
        m.asked_of("ProcessApprovalFunctionArn")[0]["Payload"],
        outcome_payload(&rec)
    );
    // Each Ask Escalation waits `next.remainingSeconds`.
    let timeouts: Vec<&Value> = m
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Event(ty, d) if ty == "TaskScheduled" => d.get("timeoutInSeconds"),
            _ => None,
        })
        .collect();
    assert_eq!(
        timeouts,
        [&json!(3900), &json!(3900), &json!(600), &json!(300)]
    );
}

#[test]
fn an_escalation_answer_without_a_boolean_result_fails_the_review() {
    let m = both(&request(), |m| {
        open(m, &[A], 1);
        m.fires(T0 + 10 * MINUTE);
        m.returns(
            "ReviewTickFunctionArn",
            None,
            json!({"state": "escalate", "reviewer": BOSS,
                   "next": {"kind": "expire", "at": "2023-11-14T23:13:20Z", "remainingSeconds": 600}}),
        );
        m.answers(BOSS, &json!("approve"));
    });
    assert_eq!(m.exec.error.as_deref(), Some("InvalidReviewResult"));
    assert_eq!(
        m.exec.cause.as_deref(),
        Some(format!("{INVALID_ANSWER}\"approve\"").as_str())
    );
}

#[test]
fn an_action_that_keeps_failing_is_retried_reported_and_fails_in_process_approval_again() {
    let yes = event("review_approve");
    let rec = record("approved", "quorum", yes.clone(), json!([vote(A, &yes)]), 1);
    let m = both(&request(), |m| {
        open(m, &[A], 1);
        m.answers(A, &yes);
        m.returns(
            "RecordVoteFunctionArn",
            Some(A),
            json!({"state": "decided", "record": rec}),
        );
        // Every action attempt fails, the alarm's publish succeeds, retry timers fire.
        for _ in 0..10 {
            if m.exec.status != Status::Running {
                break;
            }
            let waiting = m
                .asked
                .iter()
                .rev()
                .find(|(id, _)| m.exec.has_task(**id))
                .map(|(id, r)| (*id, r.resource.clone()));
            m.now += 1_000;
            match waiting {
                Some((task_id, resource)) => {
                    let outcome = if resource.ends_with(":sns:publish") {
                        TaskOutcome::Succeeded(json!({"MessageId": "m-1"}))
                    } else {
                        TaskOutcome::Failed {
                            error: "ActionFailed".into(),
                            cause: "{\"errorType\":\"ActionFailed\",\"errorMessage\":\"the ledger is down\"}".into(),
                        }
                    };
                    m.apply(Command::Task { task_id, outcome });
                }
                // The retry's delay: the latest timer armed.
                None => {
                    let due = m.latest_timer();
                    m.fires(due);
                }
            }
        }
    });
    assert_eq!(m.exec.status, Status::Failed);
    assert_eq!(m.exec.error.as_deref(), Some("ActionFailed"));
    assert_eq!(m.entered().last(), Some(&"Process Approval Again"));

    let after: Vec<(&str, &Value)> = m
        .asked
        .values()
        .skip_while(|r| {
            !r.parameters["FunctionName"]
                .as_str()
                .is_some_and(|f| f.ends_with("ProcessApprovalFunctionArn"))
        })
        .map(|r| {
            (
                r.resource.rsplit(':').next().unwrap_or_default(),
                &r.parameters,
            )
        })
        .collect();
    // The first attempt and ActionMaxAttempts (2 here) retries, the alarm, one last attempt.
    let resources: Vec<&str> = after.iter().map(|(r, _)| *r).collect();
    assert_eq!(
        resources,
        ["invoke", "invoke", "invoke", "publish", "invoke"]
    );
    assert_eq!(
        after[4].1, after[0].1,
        "the last attempt is the same invocation"
    );
    assert_eq!(after[0].1["Payload"], outcome_payload(&rec));
    let alarm = after[3].1;
    assert!(
        alarm["TopicArn"]
            .as_str()
            .is_some_and(|arn| arn.ends_with("AlarmTopicArn"))
    );
    assert_eq!(alarm["Subject"], "Action failed: refund-1042");
    let message = alarm["Message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("The approval action of execution arn:"),
        "{message}"
    );
    assert!(message.contains("\nError: ActionFailed\n"), "{message}");
    assert!(message.contains("the ledger is down"), "{message}");
    assert!(
        message.contains(
            "aws stepfunctions redrive-execution --region eu-west-1 --execution-arn arn:"
        ),
        "{message}"
    );
}
