//! Who a review waits for and which votes it has, read from the execution
//! history alone (no store, no AWS types).
//!
//! The contract:
//!
//! - A reviewer **waits** while the `TaskScheduled` of their `Ask Reviewer`
//!   (inside the `Ask Reviewers` Map) or `Ask Escalation` task has no outcome
//!   (`TaskSucceeded`, `TaskFailed`, `TaskTimedOut`, ...), the Map iteration it
//!   runs in has not ended (`MapIteration{Succeeded,Failed,Aborted}` with its
//!   Map's name and index), no Map or Parallel around it has exited, and the
//!   execution has not ended. Their token and address are the scheduled
//!   parameters' `Payload.taskToken` and `Payload.reviewer`.
//! - Reviews started before issue 14 wait in one `Request Review` task
//!   (`sns:publish.waitForTaskToken`), whose token is the `Task token:` line of
//!   the message; that waiting task has no reviewer address.
//! - A **vote** is a `Record Vote` (or `Record Escalation`) task: the scheduled
//!   `Payload.reviewer` (the address the token was sent to) and `Payload.answer`
//!   (read with [`Ballot::from_answer`]), and, once it has one, the task's
//!   outcome (`Payload.state` of the Lambda result: counted, decided, late,
//!   duplicate; or the error it failed with).
//!
//! How events are linked (what AWS records, and what `asl-engine` writes; see
//! its `interp` module docs): every event's `previousEventId` is the last event
//! of the same thread of control, so a task's `TaskStarted`, `TaskSubmitted`
//! and `TaskSucceeded` chain back to its `TaskScheduled` (AWS-recorded
//! `test_sns_publish_wait_for_task_token` in conformance/cases/callbacks.jsonl:
//! Scheduled 3 ← Started 4 ← Submitted 5 ← Succeeded 6), and an iteration's
//! first state chains back to its `MapIterationStarted` {index, name}, which
//! chains back to `MapStateStarted` (AWS-recorded `test_map_state_catch` in
//! conformance/cases/scenarios.jsonl). Events that cut a thread
//! (`MapIterationAborted`, `TaskStateAborted`) follow the failing event of
//! *another* thread, so an aborted wait is recognised by its iteration's
//! index and Map name, or by the exit of the Map or Parallel around it, never
//! by its chain. The history is read in full, so only event ids and links
//! matter, not the order concurrent iterations were written in.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use hitl_domain::policy::{Ballot, Via};
use serde_json::Value;

use crate::review::{Event, token_from_message};

/// The state (before issue 14) in which a review waits for its one answer.
pub(crate) const LEGACY_REVIEW_STATE: &str = "Request Review";
/// The per-reviewer wait inside the `Ask Reviewers` Map.
pub(crate) const ASK_REVIEWER: &str = "Ask Reviewer";
/// The escalation's wait in the timer branch.
pub(crate) const ASK_ESCALATION: &str = "Ask Escalation";
/// The states that count a reviewer's and the escalation's answer.
const RECORD_VOTE: &str = "Record Vote";
const RECORD_ESCALATION: &str = "Record Escalation";
/// The state that opens the review; its result holds the policy.
const OPEN_REVIEW: &str = "Open Review";
/// The state after the decision.
const READ_DECISION: &str = "Read Decision";

/// Events that end a task: its outcome.
const TASK_OUTCOMES: &[&str] = &[
    "TaskSucceeded",
    "TaskFailed",
    "TaskTimedOut",
    "TaskStartFailed",
    "TaskSubmitFailed",
];
/// Events that end a Map iteration; they carry the Map's name and the index.
const ITERATION_ENDS: &[&str] = &[
    "MapIterationSucceeded",
    "MapIterationFailed",
    "MapIterationAborted",
];
const EXECUTION_ENDS: &[&str] = &[
    "ExecutionSucceeded",
    "ExecutionFailed",
    "ExecutionAborted",
    "ExecutionTimedOut",
];

/// A wait for one answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Waiting {
    /// The address the token was sent to; `None` for a review started before issue 14.
    pub(crate) reviewer: Option<String>,
    /// The escalation's wait (`Ask Escalation`).
    pub(crate) escalation: bool,
    pub(crate) token: String,
    pub(crate) since: DateTime<Utc>,
    /// The review's deadline: Open Review's `schedule.deadline`, else the task's timeout.
    pub(crate) deadline: Option<DateTime<Utc>>,
}

/// What became of a vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Record Vote has not finished yet.
    Recording,
    /// Counted; the review is still open.
    Counted,
    /// Counted, and it decided the review.
    Decided,
    /// It came after the decision and was not counted.
    Late,
    /// The reviewer had already voted; not counted again.
    Duplicate,
    /// Record Vote failed with this error.
    Refused(String),
}

impl Outcome {
    /// Whether the vote is (or is about to be) part of the tally.
    pub(crate) fn counts(&self) -> bool {
        matches!(self, Self::Recording | Self::Counted | Self::Decided)
    }
}

/// One answer as the history records it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeenVote {
    /// The address whose token was answered.
    pub(crate) reviewer: String,
    pub(crate) escalation: bool,
    pub(crate) result: bool,
    pub(crate) via: Via,
    /// The name the answer gave (`--reviewer`), if any.
    pub(crate) name: Option<String>,
    pub(crate) comment: Option<String>,
    /// When Record Vote was scheduled for it.
    pub(crate) at: DateTime<Utc>,
    pub(crate) outcome: Outcome,
}

impl SeenVote {
    pub(crate) fn verb(&self) -> &'static str {
        if self.result { "approved" } else { "rejected" }
    }
}

/// A review as its history shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Review {
    pub(crate) waiting: Vec<Waiting>,
    pub(crate) votes: Vec<SeenVote>,
    /// `RequiredApprovals` (Open Review's `policy.required`); `None` before issue 14.
    pub(crate) required: Option<u32>,
    /// The reviewers asked (Open Review's `eligible`).
    pub(crate) eligible: Vec<String>,
    /// Every configured reviewer (Open Review's `policy.reviewers`).
    pub(crate) reviewers: Vec<String>,
    pub(crate) escalation: Option<String>,
    /// A vote, the escalation or the expiry decided the review.
    pub(crate) decided: bool,
}

impl Review {
    /// The wait of `address` (ignoring case and surrounding space).
    pub(crate) fn waiting_for(&self, address: &str) -> Option<&Waiting> {
        let address = address.trim();
        self.waiting.iter().find(|waiting| {
            waiting
                .reviewer
                .as_deref()
                .is_some_and(|reviewer| reviewer.eq_ignore_ascii_case(address))
        })
    }

    /// The counted vote of `address`, if it voted.
    pub(crate) fn vote_of(&self, address: &str) -> Option<&SeenVote> {
        let address = address.trim();
        self.votes
            .iter()
            .find(|vote| vote.outcome.counts() && vote.reviewer.eq_ignore_ascii_case(address))
    }

    /// Everyone who may answer: the configured reviewers (or, without Open
    /// Review's result, those asked), then the escalation.
    pub(crate) fn known_reviewers(&self) -> Vec<String> {
        let mut known: Vec<String> = if self.reviewers.is_empty() {
            self.eligible.clone()
        } else {
            self.reviewers.clone()
        };
        let asked = self
            .waiting
            .iter()
            .filter_map(|waiting| waiting.reviewer.clone())
            .chain(self.votes.iter().map(|vote| vote.reviewer.clone()))
            .chain(self.escalation.clone());
        for address in asked {
            if !known.iter().any(|k| k.eq_ignore_ascii_case(&address)) {
                known.push(address);
            }
        }
        known
    }

    /// The counted approvals of reviewers (not the escalation), in vote order.
    pub(crate) fn approvers(&self) -> Vec<&str> {
        self.votes
            .iter()
            .filter(|vote| vote.outcome.counts() && vote.result && !vote.escalation)
            .map(|vote| vote.reviewer.as_str())
            .collect()
    }

    /// One line for `hitl pending`, as the domain's `Tally::summary` words it:
    /// `1/2 approved: a@x.com`, then rejections and who still waits. `None`
    /// for a review from before issue 14 (one reviewer, no policy).
    pub(crate) fn summary(&self) -> Option<String> {
        let required = self.required?;
        let approvers = self.approvers();
        let mut line = format!("{}/{required} approved", approvers.len());
        if !approvers.is_empty() {
            line.push_str(": ");
            line.push_str(&approvers.join(", "));
        }
        for vote in self
            .votes
            .iter()
            .filter(|vote| vote.outcome.counts() && (!vote.result || vote.escalation))
        {
            let role = if vote.escalation { " (escalation)" } else { "" };
            line.push_str(&format!("; {} by {}{role}", vote.verb(), vote.reviewer));
        }
        let waiting: Vec<&str> = self
            .waiting
            .iter()
            .filter_map(|waiting| waiting.reviewer.as_deref())
            .collect();
        if !waiting.is_empty() {
            line.push_str("; waiting for ");
            line.push_str(&waiting.join(", "));
        }
        Some(line)
    }
}

/// Reads the review from an execution's whole history (any order of ids).
pub(crate) fn read(events: &[Event]) -> Review {
    let history = History::new(events);
    let mut review = Review::default();
    let mut deadline = None;
    if let Some(opened) = history.task_result(OPEN_REVIEW) {
        let policy = opened.get("policy");
        review.required = policy
            .and_then(|p| p.get("required"))
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok());
        review.reviewers = strings(policy.and_then(|p| p.get("reviewers")));
        review.escalation = policy
            .and_then(|p| p.get("escalation"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        review.eligible = strings(opened.get("eligible"));
        deadline = opened
            .pointer("/schedule/deadline")
            .and_then(Value::as_str)
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|at| at.with_timezone(&Utc));
    }
    let execution_ended = events
        .iter()
        .any(|event| EXECUTION_ENDS.contains(&event.kind.as_str()));
    let mut scheduled: Vec<&Event> = events
        .iter()
        .filter(|event| event.kind == "TaskScheduled")
        .collect();
    scheduled.sort_by_key(|event| event.id);
    for event in scheduled {
        let Some(state) = history.state_of(event) else {
            continue;
        };
        let Some(parameters) = event
            .scheduled
            .as_ref()
            .and_then(|s| serde_json::from_str::<Value>(&s.parameters).ok())
        else {
            continue;
        };
        match state {
            ASK_REVIEWER | ASK_ESCALATION | LEGACY_REVIEW_STATE => {
                if execution_ended || !history.is_open(event) {
                    continue;
                }
                let (reviewer, token) = if state == LEGACY_REVIEW_STATE {
                    let message = parameters.get("Message").and_then(Value::as_str);
                    (
                        None,
                        message.and_then(token_from_message).map(str::to_owned),
                    )
                } else {
                    let payload = parameters.get("Payload");
                    let text = |key: &str| {
                        payload
                            .and_then(|p| p.get(key))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    };
                    (text("reviewer"), text("taskToken"))
                };
                let Some(token) = token else {
                    continue;
                };
                let timeout = event.scheduled.as_ref().and_then(|s| s.timeout_seconds);
                review.waiting.push(Waiting {
                    reviewer,
                    escalation: state == ASK_ESCALATION,
                    token,
                    since: event.timestamp,
                    deadline: deadline.or_else(|| {
                        timeout.map(|seconds| event.timestamp + Duration::seconds(seconds))
                    }),
                });
            }
            RECORD_VOTE | RECORD_ESCALATION => {
                let payload = parameters.get("Payload");
                let Some(reviewer) = payload
                    .and_then(|p| p.get("reviewer"))
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                let Some(ballot) = payload
                    .and_then(|p| p.get("answer"))
                    .and_then(|answer| Ballot::from_answer(answer).ok())
                else {
                    continue;
                };
                let counted = history.outcome_of(event);
                review.decided |= counted == Outcome::Decided;
                review.votes.push(SeenVote {
                    reviewer: reviewer.to_owned(),
                    escalation: state == RECORD_ESCALATION,
                    result: ballot.result,
                    via: ballot.via,
                    name: ballot.name,
                    comment: ballot.comment,
                    at: event.timestamp,
                    outcome: counted,
                });
            }
            _ => {}
        }
    }
    review.decided |= events.iter().any(|event| {
        let name = event.state.as_deref().unwrap_or_default();
        (event.kind == "FailStateEntered"
            && ["Vote Decided", "Escalation Decided", "Timer Decided"].contains(&name))
            || name == READ_DECISION
    });
    review
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The history indexed by event id, with the scheduled tasks that have an outcome.
struct History<'a> {
    events: &'a [Event],
    by_id: HashMap<i64, &'a Event>,
    /// TaskScheduled id → its outcome event.
    outcomes: HashMap<i64, &'a Event>,
}

impl<'a> History<'a> {
    fn new(events: &'a [Event]) -> Self {
        let by_id: HashMap<i64, &Event> = events.iter().map(|event| (event.id, event)).collect();
        let mut history = Self {
            events,
            by_id,
            outcomes: HashMap::new(),
        };
        let mut outcomes = HashMap::new();
        for event in events {
            if !TASK_OUTCOMES.contains(&event.kind.as_str()) {
                continue;
            }
            // A task's events follow its TaskScheduled within a few links.
            let scheduled = history
                .back_from(event)
                .skip(1)
                .take(4)
                .take_while(|earlier| !earlier.kind.ends_with("StateEntered"))
                .find(|earlier| earlier.kind == "TaskScheduled");
            if let Some(scheduled) = scheduled {
                outcomes.insert(scheduled.id, event);
            }
        }
        history.outcomes = outcomes;
        history
    }

    /// `event`, then the events its `previousEventId` links lead back to. Ends
    /// at id 0, at a missing id, or after as many steps as there are events
    /// (a malformed history with a cycle).
    fn back_from(&self, event: &'a Event) -> impl Iterator<Item = &'a Event> + '_ {
        let mut next = Some(event);
        let mut steps = 0;
        std::iter::from_fn(move || {
            let current = next?;
            steps += 1;
            next = (steps <= self.events.len() && current.previous > 0)
                .then(|| self.by_id.get(&current.previous).copied())
                .flatten();
            Some(current)
        })
    }

    /// The state a task event belongs to: the nearest `*StateEntered` behind it.
    fn state_of(&self, event: &'a Event) -> Option<&'a str> {
        self.back_from(event)
            .find(|earlier| earlier.kind.ends_with("StateEntered"))
            .and_then(|entered| entered.state.as_deref())
    }

    /// Whether a scheduled task still waits: no outcome, and nothing around it ended.
    fn is_open(&self, scheduled: &'a Event) -> bool {
        if self.outcomes.contains_key(&scheduled.id) {
            return false;
        }
        let (iterations, containers) = self.scopes(scheduled);
        !self.events.iter().any(|event| {
            event.id > scheduled.id
                && (event.iteration.as_ref().is_some_and(|iteration| {
                    ITERATION_ENDS.contains(&event.kind.as_str()) && iterations.contains(iteration)
                }) || event
                    .exited
                    .as_ref()
                    .is_some_and(|name| containers.contains(name.as_str())))
        })
    }

    /// The Map iterations (Map name, index) and the Map and Parallel states
    /// (names) that an event runs inside. Walking back, a Map or Parallel that
    /// exited before the event is a finished sibling, not a container.
    fn scopes(&self, event: &'a Event) -> (Vec<(String, i32)>, HashSet<&'a str>) {
        let mut finished: Vec<&str> = Vec::new();
        let mut iterations = Vec::new();
        let mut containers = HashSet::new();
        for earlier in self.back_from(event).skip(1) {
            match earlier.kind.as_str() {
                "MapStateExited" | "ParallelStateExited" => {
                    if let Some(name) = earlier.exited.as_deref() {
                        finished.push(name);
                    }
                }
                "MapIterationStarted" => {
                    if let Some((name, index)) = &earlier.iteration
                        && !finished.contains(&name.as_str())
                    {
                        iterations.push((name.clone(), *index));
                    }
                }
                "MapStateEntered" | "ParallelStateEntered" => {
                    if let Some(name) = earlier.state.as_deref() {
                        match finished.iter().position(|done| *done == name) {
                            Some(at) => {
                                finished.remove(at);
                            }
                            None => {
                                containers.insert(name);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        (iterations, containers)
    }

    /// What Record Vote (or Record Escalation) made of the vote it was scheduled for.
    fn outcome_of(&self, scheduled: &Event) -> Outcome {
        let Some(outcome) = self.outcomes.get(&scheduled.id) else {
            return Outcome::Recording;
        };
        if outcome.kind != "TaskSucceeded" {
            return Outcome::Refused(
                outcome
                    .error
                    .clone()
                    .unwrap_or_else(|| outcome.kind.clone()),
            );
        }
        let state = outcome
            .output
            .as_deref()
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
            .and_then(|output| {
                // lambda:invoke wraps the function's result in Payload.
                let result = output.get("Payload").cloned().unwrap_or(output);
                result
                    .get("state")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        match state.as_deref() {
            Some("counted") => Outcome::Counted,
            Some("decided") => Outcome::Decided,
            Some("late") => Outcome::Late,
            Some("duplicate") => Outcome::Duplicate,
            _ => Outcome::Counted,
        }
    }

    /// The Lambda result (`Payload`) of the last successful task in state `name`.
    fn task_result(&self, name: &str) -> Option<Value> {
        self.events
            .iter()
            .filter(|event| event.kind == "TaskSucceeded")
            .filter(|event| self.state_of(event) == Some(name))
            .max_by_key(|event| event.id)
            .and_then(|event| event.output.as_deref())
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
            .map(|output| output.get("Payload").cloned().unwrap_or(output))
    }
}

#[cfg(test)]
mod tests {
    //! Synthetic histories shaped as GetExecutionHistory returns them through
    //! aws-sdk-sfn: ids from 1, `previousEventId` links per thread, iterations
    //! interleaved as concurrent ones are.

    use super::*;
    use crate::review::Scheduled;
    use chrono::TimeZone;
    use serde_json::json;

    /// A history under construction; `at` is the second each event is stamped with.
    #[derive(Default)]
    struct H {
        events: Vec<Event>,
        at: u32,
    }

    impl H {
        fn push(&mut self, kind: &str, previous: i64, fill: impl FnOnce(&mut Event)) -> i64 {
            let id = self.events.len() as i64 + 1;
            let mut event = Event {
                id,
                previous,
                kind: kind.into(),
                timestamp: Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
                    + Duration::seconds(i64::from(self.at)),
                ..Event::default()
            };
            fill(&mut event);
            self.events.push(event);
            id
        }
        fn plain(&mut self, kind: &str, previous: i64) -> i64 {
            self.push(kind, previous, |_| {})
        }
        fn entered(&mut self, kind: &str, name: &str, previous: i64) -> i64 {
            self.push(kind, previous, |e| e.state = Some(name.into()))
        }
        fn exited(&mut self, kind: &str, name: &str, previous: i64) -> i64 {
            self.push(kind, previous, |e| e.exited = Some(name.into()))
        }
        fn scheduled(&mut self, parameters: Value, timeout: Option<i64>, previous: i64) -> i64 {
            self.push("TaskScheduled", previous, |e| {
                e.scheduled = Some(Scheduled {
                    parameters: parameters.to_string(),
                    timeout_seconds: timeout,
                });
            })
        }
        fn succeeded(&mut self, output: Value, previous: i64) -> i64 {
            self.push("TaskSucceeded", previous, |e| {
                e.output = Some(output.to_string());
            })
        }
        fn iteration(&mut self, kind: &str, map: &str, index: i32, previous: i64) -> i64 {
            self.push(kind, previous, |e| e.iteration = Some((map.into(), index)))
        }
        /// A Task state that invokes a Lambda and succeeds with `payload`; returns
        /// the TaskStateExited id.
        fn lambda(&mut self, name: &str, payload: Value, result: Value, previous: i64) -> i64 {
            let entered = self.entered("TaskStateEntered", name, previous);
            let scheduled = self.scheduled(
                json!({"FunctionName": "arn:aws:lambda:us-east-1:1:function:f", "Payload": payload}),
                None,
                entered,
            );
            let started = self.plain("TaskStarted", scheduled);
            let done = self.succeeded(
                json!({"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": 200}),
                started,
            );
            self.exited("TaskStateExited", name, done)
        }
        fn read(&self) -> Review {
            read(&self.events)
        }
    }

    const A: &str = "a@x.com";
    const B: &str = "B@x.com";
    const C: &str = "c@x.com";

    /// Open Review's result for 2 of [a, B, c].
    fn opened() -> Value {
        json!({
            "policy": {"required": 2, "reviewers": [A, B, C], "escalation": "boss@x.com"},
            "eligible": [A, B, C],
            "decisionOnTimeout": "reject",
            "schedule": {"openedAt": "2026-11-25T12:00:00.000Z", "deadline": "2026-11-28T12:00:00Z",
                         "backstopSeconds": 259500},
            "next": {"kind": "remind", "at": "2026-11-25T13:00:00Z", "remainingSeconds": 3600}
        })
    }

    /// Ids a test keeps acting on.
    struct Open {
        /// Each reviewer's TaskSubmitted (the end of their thread), by Map index.
        submitted: Vec<i64>,
        /// The timer branch's last event.
        timers: i64,
        /// The Collect Votes Parallel's Entered event.
        parallel: i64,
    }

    /// Start, Open Review, Collect Votes with three waiting reviewers
    /// (interleaved as concurrent iterations are), and a timer branch waiting.
    fn waiting_for_three(h: &mut H) -> Open {
        h.plain("ExecutionStarted", 0);
        let prepare = h.entered("PassStateEntered", "Prepare Review", 0);
        let prepared = h.exited("PassStateExited", "Prepare Review", prepare);
        let opened = h.lambda(
            "Open Review",
            json!({"executionArn": "arn:e"}),
            opened(),
            prepared,
        );
        let parallel = h.entered("ParallelStateEntered", "Collect Votes", opened);
        let parallel_started = h.plain("ParallelStateStarted", parallel);
        let map = h.entered("MapStateEntered", "Ask Reviewers", parallel_started);
        let map_started = h.plain("MapStateStarted", map);
        let starts: Vec<i64> = (0..3)
            .map(|i| h.iteration("MapIterationStarted", "Ask Reviewers", i, map_started))
            .collect();
        let entered: Vec<i64> = starts
            .iter()
            .map(|s| h.entered("TaskStateEntered", ASK_REVIEWER, *s))
            .collect();
        h.at = 1;
        let scheduled: Vec<i64> = [A, B, C]
            .iter()
            .zip(&entered)
            .map(|(reviewer, entered)| {
                let payload = json!({"FunctionName": "ask", "Payload": {
                    "executionArn": "arn:e", "reviewer": reviewer, "role": "reviewer",
                    "taskToken": format!("token-{reviewer}"), "request": {}}});
                h.scheduled(payload, Some(259_500), *entered)
            })
            .collect();
        let started: Vec<i64> = scheduled
            .iter()
            .map(|s| h.plain("TaskStarted", *s))
            .collect();
        let submitted = started
            .iter()
            .map(|s| h.plain("TaskSubmitted", *s))
            .collect();
        let timers = h.entered("PassStateEntered", "Start Timers", parallel_started);
        let timers = h.exited("PassStateExited", "Start Timers", timers);
        let timers = h.entered("WaitStateEntered", "Wait For Timer", timers);
        Open {
            submitted,
            timers,
            parallel,
        }
    }

    /// The reviewer at Map index `index` answers, and Record Vote says `state`;
    /// returns the last event of that iteration's thread.
    fn vote(h: &mut H, open: &Open, index: usize, answer: Value, state: &str) -> i64 {
        let reviewer = [A, B, C][index];
        h.at += 1;
        let answered = h.succeeded(answer.clone(), open.submitted[index]);
        let exited = h.exited("TaskStateExited", ASK_REVIEWER, answered);
        let choice = h.entered("ChoiceStateEntered", "Valid Answer?", exited);
        let choice = h.exited("ChoiceStateExited", "Valid Answer?", choice);
        let outcome = match state {
            "counted" => json!({"state": "counted", "approvals": 1, "required": 2}),
            other => json!({"state": other}),
        };
        h.lambda(
            RECORD_VOTE,
            json!({"executionArn": "arn:e", "reviewer": reviewer, "answer": answer}),
            outcome,
            choice,
        )
    }

    #[test]
    fn every_reviewer_waits_with_their_own_token_until_they_answer() {
        let mut h = H::default();
        let open = waiting_for_three(&mut h);
        let review = h.read();
        let waiting: Vec<(Option<&str>, &str)> = review
            .waiting
            .iter()
            .map(|w| (w.reviewer.as_deref(), w.token.as_str()))
            .collect();
        assert_eq!(
            waiting,
            [
                (Some(A), "token-a@x.com"),
                (Some(B), "token-B@x.com"),
                (Some(C), "token-c@x.com")
            ]
        );
        // The deadline is the review's, not the backstop timeout of the wait.
        let deadline = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        assert!(review.waiting.iter().all(|w| w.deadline == Some(deadline)));
        assert_eq!(review.required, Some(2));
        assert_eq!(review.escalation.as_deref(), Some("boss@x.com"));
        assert!(!review.decided);
        assert_eq!(
            review.summary().as_deref(),
            Some("0/2 approved; waiting for a@x.com, B@x.com, c@x.com")
        );
        // Found ignoring case, as the domain compares addresses.
        assert_eq!(
            review.waiting_for(" b@X.com ").unwrap().token,
            "token-B@x.com"
        );
        assert_eq!(open.submitted.len(), 3);
    }

    #[test]
    fn a_counted_vote_is_listed_and_its_reviewer_no_longer_waits() {
        let mut h = H::default();
        let open = waiting_for_three(&mut h);
        let answer = json!({"result": true, "reviewer": "Ana", "comment": "fine", "via": "cli"});
        let last = vote(&mut h, &open, 0, answer, "counted");
        let counted = h.entered("SucceedStateEntered", "Counted", last);
        h.iteration("MapIterationSucceeded", "Ask Reviewers", 0, counted);
        let review = h.read();
        assert_eq!(review.waiting.len(), 2);
        assert!(review.waiting_for(A).is_none());
        let vote = review.vote_of("A@X.COM").unwrap();
        assert!(vote.result);
        assert_eq!(vote.via, Via::Cli);
        assert_eq!(vote.name.as_deref(), Some("Ana"));
        assert_eq!(vote.comment.as_deref(), Some("fine"));
        assert_eq!(vote.outcome, Outcome::Counted);
        assert_eq!(
            review.summary().as_deref(),
            Some("1/2 approved: a@x.com; waiting for B@x.com, c@x.com")
        );
    }

    #[test]
    fn a_vote_being_recorded_already_counts_for_already_voted() {
        let mut h = H::default();
        let open = waiting_for_three(&mut h);
        let answered = h.succeeded(json!({"result": false, "via": "link"}), open.submitted[1]);
        let exited = h.exited("TaskStateExited", ASK_REVIEWER, answered);
        let record = h.entered("TaskStateEntered", RECORD_VOTE, exited);
        h.scheduled(
            json!({"FunctionName": "f", "Payload": {"reviewer": B, "answer": {"result": false, "via": "link"}}}),
            None,
            record,
        );
        let review = h.read();
        let vote = review.vote_of(B).unwrap();
        assert_eq!(vote.outcome, Outcome::Recording);
        assert_eq!(vote.via, Via::Link);
        assert!(!vote.result);
        assert!(review.waiting_for(B).is_none());
        assert_eq!(
            review.summary().as_deref(),
            Some("0/2 approved; rejected by B@x.com; waiting for a@x.com, c@x.com")
        );
    }

    #[test]
    fn a_deciding_vote_ends_every_wait_even_before_the_parallel_exits() {
        let mut h = H::default();
        let open = waiting_for_three(&mut h);
        let a = vote(&mut h, &open, 0, json!({"result": true}), "counted");
        let counted = h.entered("SucceedStateEntered", "Counted", a);
        h.iteration("MapIterationSucceeded", "Ask Reviewers", 0, counted);
        let b = vote(&mut h, &open, 1, json!({"result": true}), "decided");
        let fail = h.entered("FailStateEntered", "Vote Decided", b);
        // As recorded when a Fail in one iteration cuts the others: the aborts
        // follow the failing event, not the aborted thread.
        h.iteration("MapIterationAborted", "Ask Reviewers", 2, fail);
        h.plain("TaskStateAborted", fail);
        let review = h.read();
        assert!(review.waiting.is_empty(), "{:?}", review.waiting);
        assert!(review.decided);
        let counted: Vec<(&str, &Outcome)> = review
            .votes
            .iter()
            .map(|v| (v.reviewer.as_str(), &v.outcome))
            .collect();
        assert_eq!(counted, [(A, &Outcome::Counted), (B, &Outcome::Decided)]);
        assert_eq!(
            review.summary().as_deref(),
            Some("2/2 approved: a@x.com, B@x.com")
        );
    }

    #[test]
    fn the_escalation_waits_in_the_timer_branch_until_the_parallel_exits() {
        let mut h = H::default();
        let open = waiting_for_three(&mut h);
        let waited = h.exited("WaitStateExited", "Wait For Timer", open.timers);
        let ticked = h.lambda("Tick", json!({}), json!({"state": "escalate"}), waited);
        let choice = h.entered("ChoiceStateEntered", "After Tick", ticked);
        let choice = h.exited("ChoiceStateExited", "After Tick", choice);
        let ask = h.entered("TaskStateEntered", ASK_ESCALATION, choice);
        let payload = json!({"Payload": {"reviewer": "boss@x.com", "role": "escalation", "taskToken": "token-boss"}});
        let scheduled = h.scheduled(payload, Some(3600), ask);
        let started = h.plain("TaskStarted", scheduled);
        h.plain("TaskSubmitted", started);
        let review = h.read();
        let boss = review.waiting_for("boss@x.com").unwrap();
        assert!(boss.escalation);
        assert_eq!(boss.token, "token-boss");
        assert_eq!(review.waiting.len(), 4);
        // The review is decided elsewhere: the Parallel fails and its Catch exits it.
        let failed = h.plain("ParallelStateFailed", open.parallel);
        h.exited("ParallelStateExited", "Collect Votes", failed);
        assert!(h.read().waiting.is_empty());
    }

    #[test]
    fn a_wait_that_timed_out_no_longer_waits() {
        let mut h = H::default();
        let open = waiting_for_three(&mut h);
        h.plain("TaskTimedOut", open.submitted[2]);
        let review = h.read();
        assert!(review.waiting_for(C).is_none());
        assert_eq!(review.waiting.len(), 2);
    }

    #[test]
    fn nothing_waits_once_the_execution_ended() {
        let mut h = H::default();
        waiting_for_three(&mut h);
        h.plain("ExecutionAborted", 0);
        assert!(h.read().waiting.is_empty());
    }

    #[test]
    fn a_map_that_finished_before_a_task_does_not_contain_it() {
        let mut h = H::default();
        let map = h.entered("MapStateEntered", "Earlier", 0);
        let started = h.plain("MapStateStarted", map);
        let iteration = h.iteration("MapIterationStarted", "Earlier", 0, started);
        let pass = h.entered("PassStateEntered", "Inside", iteration);
        let pass = h.exited("PassStateExited", "Inside", pass);
        let done = h.iteration("MapIterationSucceeded", "Earlier", 0, pass);
        h.plain("MapStateSucceeded", done);
        let exited = h.exited("MapStateExited", "Earlier", done);
        let ask = h.entered("TaskStateEntered", ASK_REVIEWER, exited);
        let scheduled = h.scheduled(
            json!({"Payload": {"reviewer": A, "taskToken": "t"}}),
            None,
            ask,
        );
        let history = History::new(&h.events);
        let task = &h.events[scheduled as usize - 1];
        let (iterations, containers) = history.scopes(task);
        assert!(iterations.is_empty(), "{iterations:?}");
        assert!(containers.is_empty(), "{containers:?}");
        assert_eq!(h.read().waiting.len(), 1);
    }

    #[test]
    fn a_review_from_before_issue_14_waits_in_request_review() {
        let mut h = H::default();
        h.plain("ExecutionStarted", 0);
        let entered = h.entered("TaskStateEntered", LEGACY_REVIEW_STATE, 0);
        let message = "A request...\n\nTask token: AQB+/=abc123==\n";
        let scheduled = h.scheduled(
            json!({"TopicArn": "arn:t", "Message": message}),
            Some(60),
            entered,
        );
        let started = h.plain("TaskStarted", scheduled);
        let submitted = h.plain("TaskSubmitted", started);
        let review = h.read();
        let [only] = review.waiting.as_slice() else {
            panic!("{:?}", review.waiting);
        };
        assert_eq!(only.reviewer, None);
        assert_eq!(only.token, "AQB+/=abc123==");
        assert_eq!(only.deadline, Some(only.since + Duration::seconds(60)));
        assert_eq!(review.summary(), None);
        h.succeeded(json!({"result": true}), submitted);
        assert!(h.read().waiting.is_empty());
    }

    #[test]
    fn other_tasks_are_not_waits() {
        let mut h = H::default();
        let entered = h.entered("TaskStateEntered", "Process Approval", 0);
        h.scheduled(
            json!({"Payload": {"reviewer": A, "taskToken": "t"}}),
            None,
            entered,
        );
        assert!(h.read().waiting.is_empty());
    }
}

#[cfg(test)]
mod engine_tests {
    //! The histories the local engine (`asl-engine`, which `hitl local` runs)
    //! writes for the contract's shape: a Map of callback waits inside a
    //! Parallel beside a timer branch, answered one by one, decided by a Fail
    //! that cuts the other waits.

    use super::*;
    use asl_engine::invocation::TaskOutcome;
    use asl_engine::{Command, Definition, ExecInfo, Execution, HistoryEvent, Step};
    use serde_json::json;

    use crate::review::Scheduled;

    /// The contract's states (docs/approval-policies.md, notes of issue 14),
    /// trimmed to what the history shows.
    fn definition() -> Definition {
        let lambda = |next: &str, payload: Value, result_path: &str| {
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "f", "Payload": payload},
                   "ResultPath": result_path, "Next": next})
        };
        let ask = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "ask", "Payload": {"reviewer.$": "$.reviewer", "role": "reviewer",
                           "taskToken.$": "$$.Task.Token"}},
            "ResultPath": "$.answer", "Next": "Record Vote"});
        let record = lambda(
            "Vote Outcome",
            json!({"reviewer.$": "$.reviewer", "answer.$": "$.answer"}),
            "$.outcome",
        );
        let definition = json!({"StartAt": "Open Review", "States": {
            "Open Review": lambda("Collect Votes", json!({"executionArn.$": "$$.Execution.Id"}), "$.opened"),
            "Collect Votes": {"Type": "Parallel", "Next": "Done",
                "Catch": [{"ErrorEquals": ["ReviewDecided"], "ResultPath": "$.ended", "Next": "Read Decision"}],
                "Branches": [
                    {"StartAt": "Ask Reviewers", "States": {"Ask Reviewers": {
                        "Type": "Map", "ItemsPath": "$.opened.Payload.eligible", "End": true,
                        "ItemSelector": {"reviewer.$": "$$.Map.Item.Value"},
                        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Ask Reviewer",
                            "States": {
                                "Ask Reviewer": ask,
                                "Record Vote": record,
                                "Vote Outcome": {"Type": "Choice", "Choices": [{"Variable": "$.outcome.Payload.state",
                                    "StringEquals": "decided", "Next": "Vote Decided"}], "Default": "Counted"},
                                "Vote Decided": {"Type": "Fail", "Error": "ReviewDecided", "Cause": "{}"},
                                "Counted": {"Type": "Succeed"}}}}}},
                    {"StartAt": "Wait For Timer", "States": {
                        "Wait For Timer": {"Type": "Wait", "Seconds": 3600, "End": true}}}]},
            "Read Decision": {"Type": "Pass", "End": true},
            "Done": {"Type": "Succeed"}}});
        match Definition::parse(&definition) {
            Ok(parsed) => parsed,
            Err(error) => panic!("definition: {error}"),
        }
    }

    /// An engine event as GetExecutionHistory renders it, read as `commands::event`
    /// reads the SDK's `HistoryEvent`.
    fn event(engine: &HistoryEvent) -> Event {
        let aws = engine.to_aws_json();
        let text = |pointer: &str| {
            aws.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let iteration = [
            "mapIterationStartedEventDetails",
            "mapIterationSucceededEventDetails",
            "mapIterationFailedEventDetails",
            "mapIterationAbortedEventDetails",
        ]
        .iter()
        .find_map(|key| {
            let details = aws.get(*key)?;
            Some((
                details.get("name")?.as_str()?.to_owned(),
                i32::try_from(details.get("index")?.as_i64()?).ok()?,
            ))
        });
        Event {
            id: aws["id"].as_i64().unwrap_or_default(),
            previous: aws["previousEventId"].as_i64().unwrap_or_default(),
            kind: text("/type").unwrap_or_default(),
            timestamp: DateTime::from_timestamp_millis(engine.timestamp_ms).unwrap_or_default(),
            state: text("/stateEnteredEventDetails/name"),
            exited: text("/stateExitedEventDetails/name"),
            scheduled: text("/taskScheduledEventDetails/parameters").map(|parameters| Scheduled {
                parameters,
                timeout_seconds: aws
                    .pointer("/taskScheduledEventDetails/timeoutInSeconds")
                    .and_then(Value::as_i64),
            }),
            iteration,
            output: text("/taskSucceededEventDetails/output"),
            error: text("/taskFailedEventDetails/error"),
        }
    }

    struct Run {
        definition: Definition,
        execution: Execution,
        events: Vec<HistoryEvent>,
        /// Task id by reviewer for the waits; the last Lambda task asked for.
        asked: Vec<(String, u64)>,
        lambdas: Vec<u64>,
        now: i64,
    }

    impl Run {
        fn start() -> Self {
            let definition = definition();
            let info = ExecInfo {
                execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:e1".into(),
                name: "e1".into(),
                state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
                state_machine_name: "sm".into(),
                role_arn: "arn:aws:iam::123456789012:role/r".into(),
                start_ms: 1_795_000_000_000,
                input: json!({}),
                token_prefix: "tok-".into(),
            };
            let (execution, step) = Execution::start(&definition, info, 1_795_000_000_000);
            let mut run = Self {
                definition,
                execution,
                events: Vec::new(),
                asked: Vec::new(),
                lambdas: Vec::new(),
                now: 1_795_000_000_000,
            };
            run.absorb(step);
            run
        }

        fn absorb(&mut self, step: Step) {
            for (task, request) in step.tasks() {
                match request
                    .parameters
                    .pointer("/Payload/reviewer")
                    .and_then(Value::as_str)
                {
                    Some(reviewer) if request.task_token.is_some() => {
                        self.asked.push((reviewer.to_owned(), task));
                    }
                    _ => self.lambdas.push(task),
                }
            }
            self.events.extend(step.events);
        }

        fn apply(&mut self, task_id: u64, outcome: TaskOutcome) {
            self.now += 1000;
            match self.execution.apply(
                &self.definition,
                Command::Task { task_id, outcome },
                self.now,
            ) {
                Ok(step) => self.absorb(step),
                Err(error) => panic!("apply: {error}"),
            }
        }

        /// The pending Lambda task (Open Review or Record Vote) returns `payload`.
        fn lambda_returns(&mut self, payload: Value) {
            let task = self
                .lambdas
                .pop()
                .unwrap_or_else(|| panic!("no Lambda task waits"));
            self.apply(
                task,
                TaskOutcome::Succeeded(json!({"Payload": payload, "StatusCode": 200})),
            );
        }

        fn answer(&mut self, reviewer: &str, answer: Value) {
            let task = self
                .asked
                .iter()
                .find(|(asked, _)| asked == reviewer)
                .map(|(_, task)| *task)
                .unwrap_or_else(|| panic!("{reviewer} was not asked"));
            self.apply(task, TaskOutcome::Succeeded(answer));
        }

        fn review(&self) -> Review {
            read(&self.events.iter().map(event).collect::<Vec<_>>())
        }
    }

    fn addresses(review: &Review) -> Vec<&str> {
        review
            .waiting
            .iter()
            .filter_map(|w| w.reviewer.as_deref())
            .collect()
    }

    #[test]
    fn two_of_three_on_the_local_engine() {
        let mut run = Run::start();
        run.lambda_returns(
            json!({"policy": {"required": 2, "reviewers": ["a@x.com", "b@x.com", "c@x.com"]},
                                  "eligible": ["a@x.com", "b@x.com", "c@x.com"]}),
        );
        // The asks are accepted (the function returns, the task waits for its token).
        let asked = run.asked.clone();
        for (_, task) in &asked {
            run.apply(
                *task,
                TaskOutcome::Submitted(json!({"Payload": {"state": "asked"}})),
            );
        }
        let review = run.review();
        assert_eq!(addresses(&review), ["a@x.com", "b@x.com", "c@x.com"]);
        // Each wait carries the token the engine issued for that reviewer's task.
        for waiting in &review.waiting {
            let task = asked
                .iter()
                .find(|(reviewer, _)| Some(reviewer.as_str()) == waiting.reviewer.as_deref())
                .map(|(_, task)| *task)
                .unwrap_or_default();
            assert_eq!(waiting.token, run.execution.token(task));
        }
        assert_eq!(
            review.summary().as_deref(),
            Some("0/2 approved; waiting for a@x.com, b@x.com, c@x.com")
        );

        // b approves first: Record Vote counts it.
        run.answer(
            "b@x.com",
            json!({"result": true, "via": "cli", "reviewer": "Bo"}),
        );
        let review = run.review();
        assert_eq!(addresses(&review), ["a@x.com", "c@x.com"]);
        assert_eq!(review.votes.len(), 1);
        assert_eq!(review.votes[0].outcome, Outcome::Recording);
        run.lambda_returns(json!({"state": "counted", "approvals": 1, "required": 2}));
        let review = run.review();
        assert_eq!(
            review.vote_of("B@x.com").map(|v| &v.outcome),
            Some(&Outcome::Counted)
        );
        assert_eq!(
            review.summary().as_deref(),
            Some("1/2 approved: b@x.com; waiting for a@x.com, c@x.com")
        );
        assert!(!review.decided);

        // a approves: decided; the Fail cuts c's wait and the timer branch.
        run.answer("a@x.com", json!({"result": true, "via": "link"}));
        run.lambda_returns(json!({"state": "decided"}));
        let review = run.review();
        assert!(review.waiting.is_empty(), "{:?}", review.waiting);
        assert!(review.decided);
        assert_eq!(
            review.summary().as_deref(),
            Some("2/2 approved: b@x.com, a@x.com")
        );
        assert_eq!(run.execution.status, asl_engine::Status::Succeeded);
    }

    #[test]
    fn a_cut_wait_is_closed_by_its_iteration_even_if_the_history_stops_there() {
        let mut run = Run::start();
        run.lambda_returns(
            json!({"policy": {"required": 1, "reviewers": ["a@x.com", "b@x.com"]},
                                  "eligible": ["a@x.com", "b@x.com"]}),
        );
        for (_, task) in run.asked.clone() {
            run.apply(task, TaskOutcome::Submitted(json!({})));
        }
        run.answer("a@x.com", json!({"result": false}));
        run.lambda_returns(json!({"state": "decided"}));
        // Keep only the events up to b's MapIterationAborted: the Parallel has not exited yet.
        let cut = run
            .events
            .iter()
            .position(|e| e.event_type == "MapIterationAborted")
            .unwrap_or_else(|| panic!("no MapIterationAborted in {:?}", run.events));
        let events: Vec<Event> = run.events[..=cut].iter().map(event).collect();
        let review = read(&events);
        assert!(review.waiting.is_empty(), "{:?}", review.waiting);
        assert_eq!(
            review.summary().as_deref(),
            Some("0/1 approved; rejected by a@x.com")
        );
    }
}
