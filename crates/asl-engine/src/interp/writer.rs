//! A distributed Map's `ResultWriter`: the result files and the state's output.
//!
//! # AWS's behaviour
//! Confirmed from LocalStack's AWS recording `test_map_state_result_writer`: with
//! `Parameters: {"Bucket": "result-bucket", "Prefix": "mapJobs"}` the Map state's
//! output is `{"MapRunArn": <arn>, "ResultWriterDetails": {"Bucket": "result-bucket",
//! "Key": "mapJobs/<map run uuid>/manifest.json"}}`, where the uuid is the part of the
//! map run ARN after its last `:`; MapRunSucceeded comes before MapStateSucceeded.
//!
//! From the developer guide only ("ResultWriter (Map)"), and from public code that reads
//! what AWS writes (the files' names, the manifest's `DestinationBucket`, `MapRunArn`,
//! and `ResultFiles` with all three lists, each file as `{"Key", "Size"}`):
//! * `<Prefix>/<uuid>/SUCCEEDED_0.json` and `FAILED_0.json` hold the children that
//!   succeeded and failed (a file only when it has any); `PENDING_0.json` those never
//!   started, which happens only when the map run fails, and sfn-local writes no files
//!   then. AWS splits files past 5 GB; sfn-local never does.
//! * With `Transformation: NONE` (the default when exporting) each entry is the child
//!   execution's record: `ExecutionArn`, `Input` (JSON text), `InputDetails
//!   {"Included": true}`, `Name`, `Output` (JSON text) and `OutputDetails`, or `Error`
//!   and `Cause` for a failed child, `StartDate`, `StateMachineArn`, `Status`,
//!   `StopDate`; a succeeded one also carries `RedriveCount: 0`, `RedriveStatus:
//!   "NOT_REDRIVABLE"` and its reason. `COMPACT` writes only the outputs, `FLATTEN` the
//!   outputs with arrays flattened one level; failed children keep the full record.
//! * `OutputType: JSONL` writes one entry per line instead of a JSON array.
//! * `WriterConfig` without `Resource` exports nothing: the transformed results are the
//!   Map state's result.
//! * A failed putObject fails the map run with `States.ResultWriterFailed`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::map_run::MapRunStatus;
use super::run::Run;
use super::s3_wait::{MapRunWait, PUT_OBJECT, Phase, Writing};
use super::{Active, Children, Wait, iso};
use crate::definition::{Kind, ResultWriter, State, Transformation};
use crate::history::json_text;

/// What a ResultWriter records about one child.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct ChildRecord {
    pub(super) input: Value,
    pub(super) start_ms: i64,
    pub(super) stop_ms: i64,
    pub(super) failed: bool,
}

impl Run<'_> {
    /// Records the input and start of the children just spawned (with a ResultWriter).
    pub(super) fn record_spawned(&mut self, p: u64, spawned: Vec<(usize, Value)>) {
        let now = self.now;
        if let Some(ch) = self.children_mut(p)
            && let Some(recs) = &mut ch.records
        {
            for (i, input) in spawned {
                if let Some(r) = recs.get_mut(i) {
                    r.input = input;
                    r.start_ms = now;
                }
            }
        }
    }

    /// Records the end of child `slot` (with a ResultWriter).
    pub(super) fn record_finished(ch: &mut Children, slot: usize, failed: bool, now: i64) {
        if let Some(r) = ch.records.as_mut().and_then(|recs| recs.get_mut(slot)) {
            r.stop_ms = now;
            r.failed = failed;
        }
    }

    fn children_mut(&mut self, p: u64) -> Option<&mut Children> {
        match &mut self.exec.threads.get_mut(&p)?.status {
            super::TStatus::Active(a) => match &mut a.wait {
                Wait::Children(ch) => Some(ch),
                _ => None,
            },
            _ => None,
        }
    }

    /// The children of a distributed Map with a ResultWriter finished: export the
    /// results (or, with a WriterConfig alone, shape them into the state's result).
    pub(super) fn write_results(
        &mut self,
        p: u64,
        st: &State,
        mut a: Active,
        ch: Box<Children>,
        results: Vec<Value>,
        w: &ResultWriter,
    ) {
        let arn = ch.map_run.clone().unwrap_or_default();
        let (succeeded, failed) = self.entries(&arn, &ch, results, w.transformation);
        if !w.exports {
            let mut all = succeeded;
            all.extend(failed);
            return self.map_run_succeeded(p, st, a, &arn, &ch, Value::Array(all));
        }
        let ctx = self.context(&a, st, None, None);
        let vars = self.vars_of(p);
        let params = match (&w.parameters, &w.arguments) {
            (Some(t), _) => {
                t.evaluate(&asl_eval::Scope::new(&ch.eff_input, &ctx).with_variables(&vars))
            }
            (None, Some(args)) => args.evaluate(
                "Arguments",
                &asl_eval::jsonata::Env::new(&a.input, &ctx).with_variables(&vars),
            ),
            (None, None) => Ok(json!({})),
        };
        let params = match params {
            Ok(v) => v,
            Err(e) => {
                let f = Self::fail_eval(&a, e);
                self.end_map_run(&arn, MapRunStatus::Failed, Some(&ch), None);
                return self.state_failed(p, st, a, f);
            }
        };
        let bucket = params.get("Bucket").and_then(Value::as_str).unwrap_or("");
        let mut prefix = params
            .get("Prefix")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        let uuid = arn.rsplit(':').next().unwrap_or_default();
        let dir = format!("{prefix}{uuid}/");
        let mut puts = Vec::new();
        let mut files = Map::new();
        for (status, entries) in [
            ("FAILED", failed),
            ("PENDING", Vec::new()),
            ("SUCCEEDED", succeeded),
        ] {
            let mut listed = Vec::new();
            if !entries.is_empty() {
                let key = format!("{dir}{status}_0.json");
                let body = render(&entries, w.jsonl);
                listed.push(json!({"Key": key, "Size": body.len()}));
                puts.push(json!({"Bucket": bucket, "Key": key, "Body": body}));
            }
            files.insert(status.to_owned(), Value::Array(listed));
        }
        let manifest_key = format!("{dir}manifest.json");
        let manifest = json!({
            "DestinationBucket": bucket,
            "MapRunArn": arn,
            "ResultFiles": files,
        });
        puts.push(json!({"Bucket": bucket, "Key": manifest_key, "Body": json_text(&manifest)}));
        let output = json!({
            "MapRunArn": arn,
            "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key},
        });
        let first = puts.remove(0);
        let task_id = self.s3_call(PUT_OBJECT, first);
        a.wait = Wait::MapRun(Box::new(MapRunWait {
            task_id,
            arn,
            phase: Phase::Writing(Box::new(Writing {
                puts,
                output,
                children: ch,
            })),
        }));
        self.set_active(p, a);
    }

    /// One result file was put: the next one, or the map run succeeded.
    pub(super) fn on_written(
        &mut self,
        p: u64,
        st: &State,
        mut a: Active,
        arn: String,
        mut w: Writing,
    ) {
        if w.puts.is_empty() {
            return self.map_run_succeeded(p, st, a, &arn, &w.children, w.output);
        }
        let next = w.puts.remove(0);
        let task_id = self.s3_call(PUT_OBJECT, next);
        a.wait = Wait::MapRun(Box::new(MapRunWait {
            task_id,
            arn,
            phase: Phase::Writing(Box::new(w)),
        }));
        self.set_active(p, a);
    }

    /// MapRunSucceeded, MapStateSucceeded, then the state's output processing.
    pub(super) fn map_run_succeeded(
        &mut self,
        p: u64,
        st: &State,
        a: Active,
        arn: &str,
        ch: &Children,
        result: Value,
    ) {
        self.end_map_run(arn, MapRunStatus::Succeeded, Some(ch), ch.items_read);
        self.emit(p, "MapRunSucceeded", "", Value::Null, true);
        self.emit(p, "MapStateSucceeded", "", Value::Null, false);
        self.complete_with(p, st, a, result);
    }

    /// The succeeded and failed entries, shaped by `transformation` (module doc).
    fn entries(
        &mut self,
        arn: &str,
        ch: &Children,
        results: Vec<Value>,
        transformation: Transformation,
    ) -> (Vec<Value>, Vec<Value>) {
        let info = &self.exec.info;
        // `...:mapRun:<machine>/<label>:<uuid>` → the children's state machine
        // `...:stateMachine:<machine>/<label>` and executions `...:execution:<machine>/<label>:<name>`.
        let machine_part = arn
            .split_once(":mapRun:")
            .and_then(|(_, rest)| rest.rsplit_once(':'))
            .map(|(m, _)| m.to_owned())
            .unwrap_or_else(|| info.state_machine_name.clone());
        let base = format!("arn:aws:states:{}:{}", info.region(), info.account());
        let sm_arn = format!("{base}:stateMachine:{machine_part}");
        let records = ch.records.clone().unwrap_or_default();
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        for (i, result) in results.into_iter().enumerate() {
            let rec = records.get(i).cloned().unwrap_or_default();
            // The names ListExecutions and DescribeExecution know the children by.
            let (child_arn, name) = super::child_execution_arn(arn, i).unwrap_or_else(|| {
                let name = self.uuid();
                (format!("{base}:execution:{machine_part}:{name}"), name)
            });
            if rec.failed {
                bad.push(json!({
                    "Cause": result.get("Cause").cloned().unwrap_or(Value::Null),
                    "Error": result.get("Error").cloned().unwrap_or(Value::Null),
                    "ExecutionArn": child_arn,
                    "Input": json_text(&rec.input),
                    "InputDetails": {"Included": true},
                    "Name": name,
                    "StartDate": iso(rec.start_ms),
                    "StateMachineArn": sm_arn,
                    "Status": "FAILED",
                    "StopDate": iso(rec.stop_ms),
                }));
                continue;
            }
            match transformation {
                Transformation::None => {
                    ok.push(json!({
                        "ExecutionArn": child_arn,
                        "Input": json_text(&rec.input),
                        "InputDetails": {"Included": true},
                        "Name": name,
                        "Output": json_text(&result),
                        "OutputDetails": {"Included": true},
                        "RedriveCount": 0,
                        "RedriveStatus": "NOT_REDRIVABLE",
                        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
                        "StartDate": iso(rec.start_ms),
                        "StateMachineArn": sm_arn,
                        "Status": "SUCCEEDED",
                        "StopDate": iso(rec.stop_ms),
                    }));
                }
                Transformation::Compact => ok.push(result),
                Transformation::Flatten => match result {
                    Value::Array(items) => ok.extend(items),
                    other => ok.push(other),
                },
            }
        }
        (ok, bad)
    }
}

/// A result file's body: a JSON array, or JSON Lines.
fn render(entries: &[Value], jsonl: bool) -> String {
    if jsonl {
        entries.iter().map(|e| json_text(e) + "\n").collect()
    } else {
        json_text(&Value::Array(entries.to_vec()))
    }
}

/// Whether the Map state exports or shapes its results.
pub(super) fn writer_of(st: &State) -> Option<&ResultWriter> {
    match &st.kind {
        Kind::Map(m) => m.result_writer.as_ref(),
        _ => None,
    }
}
