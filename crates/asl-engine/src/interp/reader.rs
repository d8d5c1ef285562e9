//! A distributed Map's `ItemReader`: reading the items from S3 through the host.
//!
//! # AWS's behaviour
//! Confirmed from LocalStack's AWS recordings (`tests/aws/services/stepfunctions/v2/
//! scenarios/test_base_scenarios.snapshot.json`, `test_map_item_reader_*`):
//! * The history is MapStateEntered, MapStateStarted with `length: 0` (the items are
//!   not known yet), MapRunStarted, then MapRunSucceeded or MapRunFailed. The S3 calls
//!   record no Task events.
//! * A reader failure is `MapRunFailed {error: "States.ItemReaderFailed", cause}`, then
//!   MapStateFailed, caught or retried as the Map state's error. Causes recorded: "CSV
//!   headers cannot contain duplicates.", "Attempting to map over non-iterable node."
//!   (a JSON document that is not an array), "field MaxItems must be positive" (a
//!   negative `MaxItemsPath` value, after MapRunStarted). A `MaxItemsPath` value that is
//!   not an integer is a `States.Runtime` failure before MapRunStarted: "The
//!   MaxItemsPath field refers to value \"1.5\" which is not a valid integer:
//!   $.MaxItems".
//! * `MaxItems: 0` reads everything; more than 100,000,000 reads at most that many.
//! * CSV rows are objects of strings keyed by the headers (the first row, or
//!   `CSVHeaders`); a row with fewer fields gets `""` for the missing ones, extra fields
//!   are dropped; the header row `H1,` has the headers `H1` and `""`.
//! * JSON: the document's array elements, in order. `ItemsPath` is ignored when an
//!   `ItemReader` is set.
//! * listObjectsV2: one item per object with `Etag` (so spelled), `Key`,
//!   `LastModified`, `Size`, `StorageClass`. `LastModified` is epoch seconds in the
//!   developer guide's example ("ItemReader (Map)"; the recording normalises it).
//!
//! From the developer guide only: JSONL (one JSON value per line) and MANIFEST (an S3
//! Inventory `manifest.json`: its `files` are CSV objects in the `destinationBucket`,
//! their columns named by `fileSchema`). sfn-local reads inventory files only
//! uncompressed (the host hands bodies over as text).
//!
//! # The host contract (the three S3 resources)
//! The engine asks for S3 with [`crate::Effect::InvokeTask`], as for a Task, and expects
//! the outcome as [`crate::Command::Task`]. The requests are shaped as the AWS SDK
//! integration's (`arn:aws:states:::aws-sdk:s3:<action>`), so the host serves them with
//! the integration users' own `aws-sdk:s3:*` Task states use:
//! * `arn:aws:states:::aws-sdk:s3:getObject`, parameters `{"Bucket", "Key"}` (plus
//!   whatever else the definition's `Parameters` gave, such as `VersionId`) →
//!   `Succeeded({"Body": "<the object as UTF-8 text>", ...})`.
//! * `arn:aws:states:::aws-sdk:s3:listObjectsV2`, parameters `{"Bucket", "Prefix"?,
//!   "ContinuationToken"?}` (the definition's `Parameters` as given, plus the token
//!   from the second page on) → `Succeeded({"Contents": [{"Key", "Size", "ETag",
//!   "LastModified", "StorageClass"}], "IsTruncated": bool, "NextContinuationToken"?})`;
//!   `LastModified` as an ISO-8601 string or epoch seconds; the engine asks for the next
//!   page while `IsTruncated` is true. A bucket with no object may omit `Contents`.
//! * `arn:aws:states:::aws-sdk:s3:putObject`, parameters `{"Bucket", "Key", "Body":
//!   "<text>"}` → `Succeeded(anything)`.
//!
//! A failure is `Failed {error, cause}` (e.g. `S3.NoSuchKeyException`, `S3.NoSuchBucket`):
//! the engine records AWS's error for it (`States.ItemReaderFailed` or
//! `States.ResultWriterFailed`) with the host's cause. The waiting call is in the
//! snapshot ([`crate::Execution::pending`] lists it as a task with no token), so a host
//! that restarts runs it again.

use asl_eval::jsonata::Env;
use asl_eval::{EvalError, Scope};
use serde_json::{Map, Value, json};

use super::map_run::MapRunStatus;
use super::run::{Flow, Run};
use super::s3_wait::{GET_OBJECT, Inventory, LIST_OBJECTS_V2, MapRunWait, Phase, Reading};
use super::{Active, Children, Effect, Failure, Wait};
use crate::definition::{
    InputType, ItemReader, Kind, MAX_ITEMS_LIMIT, MapState, NumOrPath, ReaderSource, State,
};
use crate::history::json_text;
use crate::invocation::{TaskOutcome, TaskRequest};

const READER_FAILED: &str = "States.ItemReaderFailed";

impl Run<'_> {
    /// A distributed Map with an `ItemReader`: MapStateStarted, MapRunStarted, then the
    /// first S3 call. `ch` holds the evaluated MaxConcurrency and effective input.
    #[allow(clippy::too_many_arguments)] // the Map state's evaluated parts, passed once
    pub(super) fn start_reader(
        &mut self,
        t: u64,
        st: &State,
        a: &mut Active,
        m: &MapState,
        reader: &ItemReader,
        ctx: &Value,
        vars: &Map<String, Value>,
        mut ch: Children,
    ) -> Flow {
        self.emit(
            t,
            "MapStateStarted",
            "mapStateStartedEventDetails",
            json!({"length": 0}),
            true,
        );
        let eff = ch.eff_input.clone();
        let scope = Scope::new(&eff, ctx).with_variables(vars);
        let env = Env::new(&a.input, ctx).with_variables(vars);
        let prepared = (|| {
            let tolerated = self.tolerance(m, &scope, &env)?;
            let max_items = match &reader.max_items {
                None => 0,
                Some(NumOrPath::Literal(n)) => *n as i64,
                Some(NumOrPath::Path(p)) => {
                    let v = p.resolve(&scope)?;
                    let n = match &v {
                        Value::String(s) => s.parse::<i64>().ok(),
                        other => other.as_i64(),
                    };
                    n.ok_or_else(|| {
                        EvalError::runtime(format!(
                            "The MaxItemsPath field refers to value \"{}\" which is not a valid integer: {}",
                            json_text(&v).trim_matches('"'),
                            p.as_str()
                        ))
                    })?
                }
                Some(n @ NumOrPath::Expr(..)) => self.num(n, &scope, &env)? as i64,
            };
            let request = match (&reader.parameters, &reader.arguments) {
                (Some(p), _) => p.evaluate(&scope)?,
                (None, Some(args)) => args.evaluate("Arguments", &env)?,
                (None, None) => json!({}),
            };
            Ok::<_, EvalError>((tolerated, max_items, request))
        })();
        let ((tolerated_count, tolerated_pct), max_items, request) = match prepared {
            Ok(v) => v,
            Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
        };
        if self.single.is_some() {
            return Flow::Fail(Failure::new(
                "States.Runtime",
                "sfn-local's TestState does not read ItemReader sources yet; test the Map state with inline items",
            ));
        }
        let arn = self.start_map_run(
            t,
            m.label.as_deref(),
            ch.max,
            tolerated_count,
            tolerated_pct,
        );
        ch.tolerated_count = tolerated_count;
        ch.tolerated_pct = tolerated_pct;
        ch.map_run = Some(arn.clone());
        if max_items < 0 {
            self.fail_map_run(
                t,
                st,
                a.clone(),
                &arn,
                READER_FAILED,
                "field MaxItems must be positive",
            );
            return Flow::Handled;
        }
        let resource = match reader.source {
            ReaderSource::GetObject => GET_OBJECT,
            ReaderSource::ListObjectsV2 => LIST_OBJECTS_V2,
        };
        let reading = Reading {
            request: request.clone(),
            items: Vec::new(),
            max_items: (max_items as u64).min(MAX_ITEMS_LIMIT as u64),
            manifest: None,
            children: Box::new(ch),
        };
        let task_id = self.s3_call(resource, request);
        a.wait = Wait::MapRun(Box::new(MapRunWait {
            task_id,
            arn,
            phase: Phase::Reading(Box::new(reading)),
        }));
        Flow::Blocked
    }

    /// Asks the host for one S3 call; returns its task id.
    pub(super) fn s3_call(&mut self, resource: &str, parameters: Value) -> u64 {
        let task_id = self.exec.next_task;
        self.exec.next_task += 1;
        let region = self.exec.info.region().to_owned();
        self.out.effects.push(Effect::InvokeTask {
            task_id,
            request: TaskRequest {
                resource: resource.to_owned(),
                parameters,
                task_token: None,
                region,
            },
        });
        task_id
    }

    /// MapRunFailed, then the Map state fails with the same error (Retry and Catch apply).
    pub(super) fn fail_map_run(
        &mut self,
        t: u64,
        st: &State,
        a: Active,
        arn: &str,
        error: &str,
        cause: &str,
    ) {
        self.emit(
            t,
            "MapRunFailed",
            "mapRunFailedEventDetails",
            json!({"error": error, "cause": cause}),
            true,
        );
        self.end_map_run(arn, MapRunStatus::Failed, None, None);
        self.state_failed(t, st, a, Failure::new(error, cause));
    }

    /// The outcome of a distributed Map's S3 call, if `task_id` is one.
    pub(super) fn on_map_run_io(&mut self, task_id: u64, outcome: TaskOutcome) -> bool {
        let Some(t) =
            self.find_active(|a| matches!(&a.wait, Wait::MapRun(w) if w.task_id == task_id))
        else {
            return false;
        };
        let Some((mut a, st)) = self.take_active(t) else {
            return false;
        };
        let Wait::MapRun(w) = std::mem::replace(&mut a.wait, Wait::Nothing) else {
            return false;
        };
        let MapRunWait { arn, phase, .. } = *w;
        let (error, value) = match outcome {
            TaskOutcome::Succeeded(v) => (None, v),
            TaskOutcome::Failed { error, cause } => (Some(cause_of(&error, &cause)), Value::Null),
            TaskOutcome::Submitted(_) => (
                Some("the S3 call answered as a callback task".to_owned()),
                Value::Null,
            ),
        };
        match phase {
            Phase::Reading(r) => match error {
                Some(cause) => self.fail_map_run(t, &st, a, &arn, READER_FAILED, &cause),
                None => self.on_read(t, &st, a, arn, *r, value),
            },
            Phase::Writing(wr) => match error {
                Some(cause) => {
                    self.fail_map_run(t, &st, a, &arn, "States.ResultWriterFailed", &cause)
                }
                None => self.on_written(t, &st, a, arn, *wr),
            },
        }
        true
    }

    fn on_read(
        &mut self,
        t: u64,
        st: &State,
        mut a: Active,
        arn: String,
        mut r: Reading,
        v: Value,
    ) {
        let Kind::Map(m) = &st.kind else {
            return;
        };
        let Some(reader) = &m.item_reader else {
            return;
        };
        let limit = |n: usize| r.max_items != 0 && n as u64 >= r.max_items;
        let next = match (reader.source, &r.manifest) {
            (ReaderSource::ListObjectsV2, _) => {
                let contents = v.get("Contents").and_then(Value::as_array);
                r.items
                    .extend(contents.into_iter().flatten().map(object_item));
                let token = v.get("NextContinuationToken").and_then(Value::as_str);
                match (v.get("IsTruncated").and_then(Value::as_bool), token) {
                    (Some(true), Some(token)) if !limit(r.items.len()) => {
                        let mut req = r.request.clone();
                        if let Some(o) = req.as_object_mut() {
                            o.insert("ContinuationToken".into(), Value::from(token));
                        }
                        Some((LIST_OBJECTS_V2, req))
                    }
                    _ => None,
                }
            }
            (ReaderSource::GetObject, inventory) => {
                let Some(body) = v.get("Body").and_then(Value::as_str) else {
                    let cause = "The S3 getObject result has no text Body";
                    return self.fail_map_run(t, st, a, &arn, READER_FAILED, cause);
                };
                let decoded = match (inventory, reader.input_type) {
                    (Some(inv), _) => decode_csv(body, Some(&inv.schema), b',', r.max_items),
                    (None, Some(InputType::Manifest)) => match inventory_of(body) {
                        Ok(inv) => {
                            r.manifest = Some(inv);
                            Ok(Vec::new())
                        }
                        Err(cause) => Err(cause),
                    },
                    (None, Some(InputType::Csv)) => decode_csv(
                        body,
                        reader.csv_headers.as_deref(),
                        reader.csv_delimiter,
                        r.max_items,
                    ),
                    (None, Some(InputType::Jsonl)) => decode_jsonl(body),
                    (None, Some(InputType::Json) | None) => decode_json(body),
                };
                match decoded {
                    Ok(items) => r.items.extend(items),
                    Err(cause) => return self.fail_map_run(t, st, a, &arn, READER_FAILED, &cause),
                }
                match &mut r.manifest {
                    Some(inv) if !inv.files.is_empty() && !limit(r.items.len()) => {
                        let key = inv.files.remove(0);
                        Some((GET_OBJECT, json!({"Bucket": inv.bucket, "Key": key})))
                    }
                    _ => None,
                }
            }
        };
        if let Some((resource, req)) = next {
            let task_id = self.s3_call(resource, req);
            a.wait = Wait::MapRun(Box::new(MapRunWait {
                task_id,
                arn,
                phase: Phase::Reading(Box::new(r)),
            }));
            self.set_active(t, a);
            return;
        }
        let mut items = std::mem::take(&mut r.items);
        if r.max_items != 0 {
            items.truncate(r.max_items as usize);
        }
        items.truncate(MAX_ITEMS_LIMIT as usize);
        self.run_items(t, st, a, *r.children, items);
    }

    /// The items are known: ItemSelector and ItemBatcher, then the children run.
    pub(super) fn run_items(
        &mut self,
        t: u64,
        st: &State,
        mut a: Active,
        mut ch: Children,
        items: Vec<Value>,
    ) {
        let Kind::Map(m) = &st.kind else {
            return;
        };
        let read = items.len();
        let (items, preselected) = match self.select_and_batch(t, st, &a, m, items, &ch.eff_input) {
            Ok(v) => v,
            Err(f) => {
                if let Some(arn) = &ch.map_run {
                    self.end_map_run(arn, MapRunStatus::Failed, None, None);
                }
                return self.state_failed(t, st, a, f);
            }
        };
        let n = items.len();
        if m.result_writer.is_some() {
            ch.records = Some(vec![super::writer::ChildRecord::default(); n]);
        }
        ch.items_read = (preselected && m.item_batcher.is_some()).then_some(read as u64);
        ch.results = vec![None; n];
        ch.items = items;
        ch.preselected = preselected;
        self.wait_for_children(t, &mut a, ch);
        if n == 0 {
            self.children_complete(t);
        } else {
            self.spawn_children(t);
        }
    }
}

/// The cause recorded for a failed S3 call.
fn cause_of(error: &str, cause: &str) -> String {
    match (error.is_empty(), cause.is_empty()) {
        (_, false) => cause.to_owned(),
        (false, true) => error.to_owned(),
        (true, true) => "The S3 call failed".to_owned(),
    }
}

/// A listObjectsV2 entry as a distributed Map item (module doc).
fn object_item(o: &Value) -> Value {
    let last_modified = match o.get("LastModified") {
        Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| Value::from(d.timestamp()))
            .unwrap_or_else(|_| Value::from(s.clone())),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    json!({
        "Etag": o.get("ETag").or_else(|| o.get("Etag")).cloned().unwrap_or(Value::Null),
        "Key": o.get("Key").cloned().unwrap_or(Value::Null),
        "LastModified": last_modified,
        "Size": o.get("Size").cloned().unwrap_or(Value::from(0)),
        "StorageClass": o.get("StorageClass").cloned().unwrap_or(Value::from("STANDARD")),
    })
}

/// CSV rows as objects of strings. `headers`: given, or `None` for the first row.
/// `max` bounds the rows read (0: no limit).
pub(super) fn decode_csv(
    body: &str,
    headers: Option<&[String]>,
    delimiter: u8,
    max: u64,
) -> Result<Vec<Value>, String> {
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body.as_bytes());
    let mut rows = rd.records();
    let headers: Vec<String> = match headers {
        Some(h) => h.to_vec(),
        None => match rows.next() {
            Some(Ok(r)) => r.iter().map(str::to_owned).collect(),
            Some(Err(e)) => return Err(format!("The CSV file could not be read: {e}")),
            None => return Ok(Vec::new()),
        },
    };
    let mut seen = std::collections::HashSet::new();
    if !headers.iter().all(|h| seen.insert(h.as_str())) {
        return Err("CSV headers cannot contain duplicates.".to_owned());
    }
    let mut out = Vec::new();
    for row in rows {
        if max != 0 && out.len() as u64 >= max {
            break;
        }
        let row = row.map_err(|e| format!("The CSV file could not be read: {e}"))?;
        let mut item = Map::new();
        for (i, h) in headers.iter().enumerate() {
            item.insert(h.clone(), Value::from(row.get(i).unwrap_or("")));
        }
        out.push(Value::Object(item));
    }
    Ok(out)
}

/// A JSON document whose array elements are the items.
pub(super) fn decode_json(body: &str) -> Result<Vec<Value>, String> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(_) => Err("Attempting to map over non-iterable node.".to_owned()),
        Err(e) => Err(format!("The JSON file could not be parsed: {e}")),
    }
}

/// JSON Lines: one value per non-blank line.
pub(super) fn decode_jsonl(body: &str) -> Result<Vec<Value>, String> {
    body.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| format!("The JSONL file could not be parsed at line {}: {e}", i + 1))
        })
        .collect()
}

/// An S3 Inventory `manifest.json`: the bucket, files and columns of its CSV files.
fn inventory_of(body: &str) -> Result<Inventory, String> {
    let m: Value = serde_json::from_str(body)
        .map_err(|e| format!("The manifest file could not be parsed: {e}"))?;
    if m.get("fileFormat")
        .and_then(Value::as_str)
        .is_some_and(|f| f != "CSV")
    {
        return Err("Only CSV S3 Inventory manifests are supported".to_owned());
    }
    let bucket = m
        .get("destinationBucket")
        .and_then(Value::as_str)
        .map(|b| b.strip_prefix("arn:aws:s3:::").unwrap_or(b).to_owned())
        .ok_or("The manifest has no destinationBucket")?;
    let files = m
        .get("files")
        .and_then(Value::as_array)
        .ok_or("The manifest has no files")?
        .iter()
        .filter_map(|f| f.get("key").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let schema = m
        .get("fileSchema")
        .and_then(Value::as_str)
        .ok_or("The manifest has no fileSchema")?
        .split(',')
        .map(|c| c.trim().to_owned())
        .collect();
    Ok(Inventory {
        bucket,
        files,
        schema,
    })
}
