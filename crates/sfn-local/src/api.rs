//! The AWS JSON 1.0 front end: `POST /` with `X-Amz-Target: AWSStepFunctions.<Op>`.
//!
//! Requests and responses follow the Step Functions API reference (member names in
//! camelCase, timestamps as epoch seconds with a fraction). Signatures are accepted
//! without checking. Errors are HTTP 400 with `{"__type": "<Code>", "message": "..."}`.
//!
//! Operations: CreateStateMachine, DescribeStateMachine, ListStateMachines,
//! UpdateStateMachine, DeleteStateMachine, ValidateStateMachineDefinition, StartExecution,
//! DescribeExecution, ListExecutions (with `redriveFilter`; with `mapRunArn`, a map
//! run's children: `service::map_runs`), StopExecution,
//! RedriveExecution ([`Service::redrive_execution`]), GetExecutionHistory
//! (maxResults / nextToken / reverseOrder / includeExecutionData), SendTaskSuccess,
//! SendTaskFailure, SendTaskHeartbeat, DescribeStateMachineForExecution, TestState
//! ([`asl_engine::test_state`]), and tag calls (accepted, not stored). Anything else is
//! `UnknownOperationException`.
//!
//! TestState's API model puts the host prefix `sync-` on the endpoint; a client that
//! keeps it asks for `sync-127.0.0.1`, which does not resolve. Nothing is needed here
//! (the Host header is not checked): the client turns the prefix off (README, "Local
//! mode"; docs/testing-with-teststate.md).

use std::sync::Arc;

use asl_engine::{Command, TaskOutcome};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::service::{Service, check_arn};

const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// AWS's hard quota on a Step Functions request: 1 MB, headers included ("Maximum
/// request size", Step Functions service quotas). The body alone may use all of it
/// here; a larger body is refused before it is read whole.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// The HTTP router.
pub fn router(svc: Arc<Service>) -> Router {
    Router::new()
        .route("/", post(handle))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(svc)
}

fn respond(result: Result<Value, ApiError>) -> Response {
    respond_text(result.map(|v| v.to_string()))
}

/// Like [`respond`], for an answer already rendered as JSON text.
fn respond_text(result: Result<String, ApiError>) -> Response {
    let (status, body) = match result {
        Ok(text) => (StatusCode::OK, text),
        Err(e) => {
            let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            (
                status,
                json!({"__type": e.code(), "message": e.to_string()}).to_string(),
            )
        }
    };
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    // A version 4 UUID from the thread's generator: `Uuid::new_v4` asks the kernel
    // (getrandom) on every call, one system call per answer for an ID nobody checks.
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buf = uuid::Uuid::encode_buffer();
    resp.headers_mut().insert(
        "x-amzn-requestid",
        HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
            .unwrap_or(HeaderValue::from_static("0")),
    );
    resp
}

async fn handle(
    State(svc): State<Arc<Service>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // Axum's own rejection is a plain-text 413; the SDKs expect a JSON error.
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return respond(Err(ApiError::TooLarge(format!(
                "Request body exceeds the maximum request size of {MAX_REQUEST_BYTES} bytes"
            ))));
        }
        Err(e) => {
            return respond(Err(ApiError::Serialization(format!(
                "Could not read the request body: {e}"
            ))));
        }
    };
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(op) = target.strip_prefix("AWSStepFunctions.") else {
        return respond(Err(ApiError::UnknownOperation(format!(
            "Unknown operation '{target}': expected header X-Amz-Target: AWSStepFunctions.<Operation>"
        ))));
    };
    let req: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return respond(Err(ApiError::Serialization(
                    "Request body must be a JSON object".into(),
                )));
            }
        }
    };
    // GetExecutionHistory copies the stored events' JSON into its answer ([`history`]);
    // every other answer is built as a `Value`.
    let result = if op == "GetExecutionHistory" {
        history(&svc, &req)
    } else {
        dispatch(&svc, op, &req).await.map(|v| v.to_string())
    };
    match &result {
        Err(e @ ApiError::Internal(_)) => tracing::error!(op = %op, error = %e, "request failed"),
        Err(e) => tracing::debug!(op = %op, code = e.code(), "request refused"),
        Ok(_) => tracing::trace!(op = %op, "request served"),
    }
    respond_text(result)
}

pub(crate) fn secs(ms: i64) -> Value {
    Value::from(ms as f64 / 1000.0)
}

fn opt_str<'a>(req: &'a Value, key: &str) -> Result<Option<&'a str>, ApiError> {
    match req.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::Serialization(format!(
            "Field '{key}' must be a string"
        ))),
    }
}

pub(crate) fn req_str<'a>(req: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    opt_str(req, key)?.ok_or_else(|| {
        ApiError::Validation(format!(
            "1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// A boolean member; another type is a `SerializationException`, as AWS answers a
/// member of the wrong type (it used to be read as absent).
fn opt_bool(req: &Value, key: &str) -> Result<Option<bool>, ApiError> {
    match req.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::Serialization(format!(
            "Field '{key}' must be a boolean"
        ))),
    }
}

pub(crate) fn max_results(req: &Value, default: usize) -> Result<usize, ApiError> {
    let n = match req.get("maxResults") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            ApiError::Serialization("Field 'maxResults' must be an integer".into())
        })?),
    };
    match n {
        None | Some(0) => Ok(default),
        Some(n) if (1..=1000).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::Validation(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
        ))),
    }
}

/// The offset a `nextToken` names. Any number parses (a client may send anything), so
/// callers add to it with `saturating_add`: `off + max` overflowed for
/// `"nextToken": "18446744073709551615"` (found while writing the `api_request` fuzz
/// target, by reading this arithmetic: docs/fuzzing.md, bug 3).
pub(crate) fn page_offset(req: &Value) -> Result<usize, ApiError> {
    match opt_str(req, "nextToken")? {
        None => Ok(0),
        Some(t) => t.parse().map_err(|_| invalid_next_token()),
    }
}

/// A `nextToken` this service did not issue: `InvalidToken`, as the API reference lists
/// for ListStateMachines, ListExecutions and GetExecutionHistory (the SDKs have no
/// ValidationException variant for the first and last).
fn invalid_next_token() -> ApiError {
    ApiError::InvalidToken("Invalid Token: 'Invalid nextToken'".into())
}

async fn dispatch(svc: &Arc<Service>, op: &str, req: &Value) -> Result<Value, ApiError> {
    match op {
        "CreateStateMachine" => {
            let name = req_str(req, "name")?;
            let definition = req_str(req, "definition")?;
            let role = req_str(req, "roleArn")?;
            let ty = opt_str(req, "type")?.unwrap_or("STANDARD");
            if ty != "STANDARD" && ty != "EXPRESS" {
                return Err(ApiError::Validation(format!(
                    "1 validation error detected: Value '{ty}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [EXPRESS, STANDARD]"
                )));
            }
            refuse_for_type(definition, ty)?;
            let row = svc.create_state_machine(name, definition, role, ty).await?;
            Ok(json!({"stateMachineArn": row.arn, "creationDate": secs(row.created_ms)}))
        }
        "DescribeStateMachine" => {
            let arn = req_str(req, "stateMachineArn")?;
            let sm = svc.state_machine(arn)?;
            Ok(json!({
                "stateMachineArn": sm.row.arn,
                "name": sm.row.name,
                "status": "ACTIVE",
                "definition": sm.definition,
                "roleArn": sm.row.role_arn,
                "type": sm.row.sm_type,
                "creationDate": secs(sm.row.created_ms),
                "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
                "tracingConfiguration": {"enabled": false},
            }))
        }
        "ListStateMachines" => {
            let max = max_results(req, 100)?;
            let off = page_offset(req)?;
            let all = svc.list_state_machines()?;
            let items: Vec<Value> = all
                .iter()
                .skip(off)
                .take(max)
                .map(|sm| {
                    json!({
                        "stateMachineArn": sm.row.arn,
                        "name": sm.row.name,
                        "type": sm.row.sm_type,
                        "creationDate": secs(sm.row.created_ms),
                    })
                })
                .collect();
            let mut out = Map::new();
            out.insert("stateMachines".into(), Value::Array(items));
            if off.saturating_add(max) < all.len() {
                out.insert("nextToken".into(), Value::from((off + max).to_string()));
            }
            Ok(Value::Object(out))
        }
        "UpdateStateMachine" => {
            let arn = req_str(req, "stateMachineArn")?;
            let def = opt_str(req, "definition")?;
            let role = opt_str(req, "roleArn")?;
            // API reference (UpdateStateMachine): nothing to change is MissingRequiredParameter.
            if def.is_none() && role.is_none() && req.get("loggingConfiguration").is_none() {
                return Err(ApiError::MissingRequiredParameter(
                    "Either the definition, the roleArn or the loggingConfiguration must be specified".into(),
                ));
            }
            if let Some(text) = def {
                let ty = svc.state_machine(arn)?.row.sm_type;
                refuse_for_type(text, &ty)?;
            }
            let updated = svc.update_state_machine(arn, def, role).await?;
            Ok(json!({"updateDate": secs(updated)}))
        }
        "DeleteStateMachine" => {
            let arn = req_str(req, "stateMachineArn")?;
            svc.delete_state_machine(arn).await?;
            Ok(json!({}))
        }
        "TestState" => test_state(svc, req),
        "DescribeMapRun" | "ListMapRuns" | "UpdateMapRun" => {
            crate::service::map_runs::dispatch(svc, op, req).await
        }
        "ValidateStateMachineDefinition" => validate(req),
        "StartExecution" => {
            let sm = req_str(req, "stateMachineArn")?;
            let name = opt_str(req, "name")?;
            let input = opt_str(req, "input")?;
            let (arn, start) = svc.start_execution(sm, name, input).await?;
            Ok(json!({"executionArn": arn, "startDate": secs(start)}))
        }
        "DescribeExecution" => {
            let arn = req_str(req, "executionArn")?;
            let row = svc.execution_row(arn)?;
            let mut out = Map::new();
            out.insert("executionArn".into(), Value::from(row.arn.clone()));
            out.insert("stateMachineArn".into(), Value::from(row.sm_arn.clone()));
            out.insert("name".into(), Value::from(row.name.clone()));
            out.insert("status".into(), Value::from(row.status.clone()));
            out.insert("startDate".into(), secs(row.start_ms));
            if let Some(s) = row.stop_ms {
                out.insert("stopDate".into(), secs(s));
            }
            out.insert("input".into(), Value::from(row.input.clone()));
            out.insert("inputDetails".into(), json!({"included": true}));
            if let Some(o) = &row.output {
                out.insert("output".into(), Value::from(o.clone()));
                out.insert("outputDetails".into(), json!({"included": true}));
            }
            if let Some(e) = &row.error {
                out.insert("error".into(), Value::from(e.clone()));
            }
            if let Some(c) = &row.cause {
                out.insert("cause".into(), Value::from(c.clone()));
            }
            // API reference (DescribeExecution): `mapRunArn`, "the Map Run, which
            // dispatched this execution".
            if let Some(run) = svc.map_run_of(&row)? {
                out.insert("mapRunArn".into(), Value::from(run));
            }
            out.insert("redriveCount".into(), Value::from(row.redrive_count));
            if let Some(ms) = row.redrive_ms {
                out.insert("redriveDate".into(), secs(ms));
            }
            // Recorded on AWS: a redrivable execution has no `redriveStatusReason` key
            // (LocalStack's recordings `test_state_fail`, `test_global_timeout`).
            match svc.redrive_refusal(&row)? {
                None => {
                    out.insert("redriveStatus".into(), Value::from("REDRIVABLE"));
                }
                Some(reason) => {
                    out.insert("redriveStatus".into(), Value::from("NOT_REDRIVABLE"));
                    out.insert("redriveStatusReason".into(), Value::from(reason));
                }
            }
            Ok(Value::Object(out))
        }
        "RedriveExecution" => {
            let arn = req_str(req, "executionArn")?;
            let token = opt_str(req, "clientToken")?;
            // API reference: clientToken is 1 to 64 characters of `[!-~]+`.
            if let Some(t) = token
                && (t.is_empty() || t.len() > 64 || !t.bytes().all(|b| (b'!'..=b'~').contains(&b)))
            {
                return Err(ApiError::Validation(format!(
                    "1 validation error detected: Value '{t}' at 'clientToken' failed to satisfy constraint: \
                     Member must satisfy regular expression pattern: [!-~]+ and have length between 1 and 64"
                )));
            }
            let date = svc.redrive_execution(arn, token).await?;
            Ok(json!({"redriveDate": secs(date)}))
        }
        "ListExecutions" => {
            let status = opt_str(req, "statusFilter")?;
            let max = max_results(req, 100)?;
            let before = match opt_str(req, "nextToken")? {
                None => i64::MAX,
                Some(t) => t.parse().map_err(|_| invalid_next_token())?,
            };
            if opt_str(req, "mapRunArn")?.is_some() {
                return crate::service::map_runs::list_children(svc, req, status, max, before);
            }
            let sm = req_str(req, "stateMachineArn")?;
            svc.state_machine(sm)?;
            // API reference (ListExecutions): REDRIVEN or NOT_REDRIVEN; absent lists both.
            let redriven = match opt_str(req, "redriveFilter")? {
                None => None,
                Some("REDRIVEN") => Some(true),
                Some("NOT_REDRIVEN") => Some(false),
                Some(other) => {
                    return Err(ApiError::Validation(format!(
                        "1 validation error detected: Value '{other}' at 'redriveFilter' failed to satisfy constraint: \
                         Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]"
                    )));
                }
            };
            let rows = svc
                .store
                .executions(sm, status, redriven, before, max + 1)?;
            let more = rows.len() > max;
            let items: Vec<Value> = rows
                .iter()
                .take(max)
                .map(|(_, r)| {
                    let mut m = json!({
                        "executionArn": r.arn,
                        "stateMachineArn": r.sm_arn,
                        "name": r.name,
                        "status": r.status,
                        "startDate": secs(r.start_ms),
                        // Recorded on AWS: every item has `redriveCount`, 0 when never
                        // redriven (LocalStack's `test_list_executions_pagination`).
                        "redriveCount": r.redrive_count,
                    });
                    if let (Some(s), Some(o)) = (r.stop_ms, m.as_object_mut()) {
                        o.insert("stopDate".into(), secs(s));
                    }
                    if let (Some(d), Some(o)) = (r.redrive_ms, m.as_object_mut()) {
                        o.insert("redriveDate".into(), secs(d));
                    }
                    m
                })
                .collect();
            let mut out = Map::new();
            out.insert("executions".into(), Value::Array(items));
            if more && let Some((seq, _)) = rows.get(max - 1) {
                out.insert("nextToken".into(), Value::from(seq.to_string()));
            }
            Ok(Value::Object(out))
        }
        "StopExecution" => {
            let arn = req_str(req, "executionArn")?;
            let error = opt_str(req, "error")?.map(str::to_owned);
            let cause = opt_str(req, "cause")?.map(str::to_owned);
            let stop = svc.stop_execution(arn, error, cause).await?;
            Ok(json!({"stopDate": secs(stop)}))
        }
        // `handle` calls `history` itself and sends its text; this is for in-process
        // callers of `dispatch`.
        "GetExecutionHistory" => serde_json::from_str(&history(svc, req)?)
            .map_err(|e| ApiError::Internal(format!("history answer: {e}"))),
        "SendTaskSuccess" => {
            let token = req_str(req, "taskToken")?;
            let output = req_str(req, "output")?;
            if output.len() > MAX_OUTPUT {
                return Err(ApiError::InvalidOutput(
                    "Invalid Output: output exceeds the maximum size".into(),
                ));
            }
            let v: Value = serde_json::from_str(output)
                .map_err(|e| ApiError::InvalidOutput(format!("Invalid Output: {e}")))?;
            svc.task_callback(token, |task_id| Command::Task {
                task_id,
                outcome: TaskOutcome::Succeeded(v),
            })
            .await?;
            Ok(json!({}))
        }
        "SendTaskFailure" => {
            let token = req_str(req, "taskToken")?;
            let error = opt_str(req, "error")?.unwrap_or("").to_owned();
            let cause = opt_str(req, "cause")?.unwrap_or("").to_owned();
            svc.task_callback(token, |task_id| Command::Task {
                task_id,
                outcome: TaskOutcome::Failed { error, cause },
            })
            .await?;
            Ok(json!({}))
        }
        "SendTaskHeartbeat" => {
            let token = req_str(req, "taskToken")?;
            svc.task_callback(token, |task_id| Command::Heartbeat { task_id })
                .await?;
            Ok(json!({}))
        }
        "DescribeStateMachineForExecution" => {
            let arn = req_str(req, "executionArn")?;
            let row = svc.execution_row(arn)?;
            let definition = svc.store.definition(row.definition_id)?.unwrap_or_default();
            // A map run's child: its machine is `<machine>/<label>`, run with the
            // parent machine's role. API reference (DescribeStateMachineForExecution):
            // `mapRunArn` and `label` are "returned only if the executionArn is a child
            // workflow execution that was started by a Distributed Map state". The
            // definition is the parent's whole one, not only the ItemProcessor.
            let (machine, label) = match row.sm_arn.split_once('/') {
                Some((m, l)) => (m, Some(l)),
                None => (row.sm_arn.as_str(), None),
            };
            let name = machine.rsplit(':').next().unwrap_or_default().to_owned();
            let role = svc
                .state_machine(machine)
                .map(|sm| sm.row.role_arn)
                .unwrap_or_default();
            let mut out = json!({
                "stateMachineArn": row.sm_arn,
                "name": name,
                "definition": definition,
                "roleArn": role,
                "updateDate": secs(row.start_ms),
            });
            if let (Some(run), Some(label)) = (svc.map_run_of(&row)?, label) {
                out["mapRunArn"] = Value::from(run);
                out["label"] = Value::from(label);
            }
            Ok(out)
        }
        // Tags are accepted and not stored: nothing in the local service reads them.
        "TagResource" | "UntagResource" => {
            req_str(req, "resourceArn")?;
            Ok(json!({}))
        }
        "ListTagsForResource" => {
            let arn = req_str(req, "resourceArn")?;
            check_arn(arn, "stateMachine")?;
            Ok(json!({"tags": []}))
        }
        other => Err(ApiError::UnknownOperation(format!(
            "Unknown operation: {other}"
        ))),
    }
}

const MAX_OUTPUT: usize = 256 * 1024;

/// GetExecutionHistory (maxResults, nextToken, reverseOrder, includeExecutionData),
/// rendered as JSON text. The history is stored as JSON arrays of events in AWS's
/// shape (`Write::AppendEvents`), so each event's text is copied into the answer as
/// it is: only its extent is found (`RawValue`), no event is parsed into a `Value` and
/// written out again, except to drop the data members when `includeExecutionData` is
/// false.
fn history(svc: &Arc<Service>, req: &Value) -> Result<String, ApiError> {
    use serde_json::value::RawValue;
    let arn = req_str(req, "executionArn")?;
    // The request is read whole before anything is looked up, as AWS does.
    let max = max_results(req, 100)?;
    let off = page_offset(req)?;
    let reverse = opt_bool(req, "reverseOrder")?.unwrap_or(false);
    let include_data = opt_bool(req, "includeExecutionData")?.unwrap_or(true);
    let row = svc.execution_row(arn)?;
    let chunks = svc.history_chunks(&row)?;
    let mut all: Vec<&RawValue> = Vec::new();
    for chunk in &chunks {
        let events: Vec<&RawValue> = serde_json::from_str(chunk)
            .map_err(|_| ApiError::Internal("corrupt history chunk".into()))?;
        all.extend(events);
    }
    if reverse {
        all.reverse();
    }
    let total = all.len();
    let mut out = String::with_capacity(chunks.iter().map(|c| c.len()).sum::<usize>() + 64);
    out.push_str(r#"{"events":["#);
    for (i, ev) in all.into_iter().skip(off).take(max).enumerate() {
        if i > 0 {
            out.push(',');
        }
        if include_data {
            out.push_str(ev.get());
            continue;
        }
        let mut ev: Value = serde_json::from_str(ev.get())
            .map_err(|_| ApiError::Internal("corrupt history chunk".into()))?;
        if let Some(o) = ev.as_object_mut() {
            for (k, v) in o.iter_mut() {
                if k.ends_with("EventDetails")
                    && let Some(d) = v.as_object_mut()
                {
                    for f in ["input", "output", "parameters"] {
                        d.remove(f);
                    }
                }
            }
        }
        out.push_str(&ev.to_string());
    }
    out.push(']');
    if off.saturating_add(max) < total {
        // A decimal number: nothing in it needs escaping.
        out.push_str(&format!(r#","nextToken":"{}""#, off + max));
    }
    out.push('}');
    Ok(out)
}

/// What a machine of this type cannot run (EXPRESS: `.sync`, `.waitForTaskToken`,
/// activities), refused with AWS's `InvalidDefinition` before the service parses the
/// definition as for any machine. Only EXPRESS has such refusals, so only it pays for
/// the second parse.
fn refuse_for_type(definition: &str, ty: &str) -> Result<(), ApiError> {
    if ty != "EXPRESS" {
        return Ok(());
    }
    crate::service::check_definition_size(definition)?;
    asl_engine::Definition::parse_str_as(definition, asl_engine::MachineType::Express)
        .map(drop)
        .map_err(|e| ApiError::InvalidDefinition(e.message))
}

/// ValidateStateMachineDefinition (API reference): `type` (default STANDARD),
/// `severity` (default ERROR; WARNING adds the warnings), `maxResults` (0 to 100, 0
/// meaning 100). The answer is AWS's even for definitions this engine cannot run.
fn validate(req: &Value) -> Result<Value, ApiError> {
    let def = req_str(req, "definition")?;
    crate::service::check_definition_size(def)?;
    let enum_error = |value: &str, member: &str, set: &str| {
        ApiError::Validation(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
             constraint: Member must satisfy enum value set: [{set}]"
        ))
    };
    let ty = match opt_str(req, "type")?.unwrap_or("STANDARD") {
        "STANDARD" => asl_engine::MachineType::Standard,
        "EXPRESS" => asl_engine::MachineType::Express,
        other => return Err(enum_error(other, "type", "EXPRESS, STANDARD")),
    };
    let severity = match opt_str(req, "severity")?.unwrap_or("ERROR") {
        "ERROR" => asl_engine::Severity::Error,
        "WARNING" => asl_engine::Severity::Warning,
        other => return Err(enum_error(other, "severity", "ERROR, WARNING")),
    };
    let max = match req.get("maxResults") {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_i64().ok_or_else(|| {
            ApiError::Serialization("Field 'maxResults' must be an integer".into())
        })?,
    };
    let max = usize::try_from(max)
        .ok()
        .filter(|n| *n <= 100)
        .ok_or_else(|| {
            let bound = if max < 0 {
                "greater than or equal to 0"
            } else {
                "less than or equal to 100"
            };
            ApiError::Validation(format!(
                "1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy \
                 constraint: Member must have value {bound}"
            ))
        })?;
    let report = asl_engine::Report::new(asl_engine::Definition::validate(def, ty), severity, max);
    let diagnostics: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut v =
                json!({"severity": d.severity.as_str(), "code": d.code, "message": d.message});
            if let (Some(l), Some(o)) = (&d.location, v.as_object_mut()) {
                o.insert("location".into(), Value::from(l.as_str()));
            }
            v
        })
        .collect();
    Ok(json!({
        "result": if report.ok { "OK" } else { "FAIL" },
        "diagnostics": diagnostics,
        "truncated": report.truncated,
    }))
}

/// TestState: the request members read as AWS's model types them, the rest done by the
/// engine.
fn test_state(svc: &Service, req: &Value) -> Result<Value, ApiError> {
    use asl_engine::test_state::{
        Environment, FieldValidationMode, InspectionLevel, Mock, StateConfiguration,
        TestStateError, TestStateRequest,
    };
    let definition = req_str(req, "definition")?;
    crate::service::check_definition_size(definition)?;
    let inspection_level = match opt_str(req, "inspectionLevel")? {
        None | Some("INFO") => InspectionLevel::Info,
        Some("DEBUG") => InspectionLevel::Debug,
        Some("TRACE") => InspectionLevel::Trace,
        Some(other) => {
            return Err(ApiError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'inspectionLevel' failed to satisfy constraint: Member must satisfy enum value set: [INFO, DEBUG, TRACE]"
            )));
        }
    };
    let mock = match req.get("mock") {
        None | Some(Value::Null) => None,
        Some(m @ Value::Object(_)) => {
            let field_validation_mode = match opt_str(m, "fieldValidationMode")? {
                None | Some("STRICT") => FieldValidationMode::Strict,
                Some("PRESENT") => FieldValidationMode::Present,
                Some("NONE") => FieldValidationMode::None,
                Some(other) => {
                    return Err(ApiError::Validation(format!(
                        "1 validation error detected: Value '{other}' at 'mock.fieldValidationMode' failed to satisfy constraint: Member must satisfy enum value set: [STRICT, PRESENT, NONE]"
                    )));
                }
            };
            let error_output = match m.get("errorOutput") {
                None | Some(Value::Null) => None,
                Some(e) => Some((
                    opt_str(e, "error")?.map(str::to_owned),
                    opt_str(e, "cause")?.map(str::to_owned),
                )),
            };
            Some(Mock {
                result: opt_str(m, "result")?.map(str::to_owned),
                error_output,
                field_validation_mode,
            })
        }
        Some(_) => {
            return Err(ApiError::Serialization(
                "Field 'mock' must be an object".into(),
            ));
        }
    };
    let conf = req
        .get("stateConfiguration")
        .cloned()
        .unwrap_or(Value::Null);
    let count = |key: &str| -> Result<Option<u64>, ApiError> {
        match conf.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                ApiError::Serialization(format!(
                    "Field 'stateConfiguration.{key}' must be a non-negative integer"
                ))
            }),
        }
    };
    let state_configuration = StateConfiguration {
        retrier_retry_count: count("retrierRetryCount")?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        error_caused_by_state: opt_str(&conf, "errorCausedByState")?.map(str::to_owned),
        map_iteration_failure_count: count("mapIterationFailureCount")?,
        map_item_reader_data: opt_str(&conf, "mapItemReaderData")?.map(str::to_owned),
    };
    let owned = |key: &str| opt_str(req, key).map(|v| v.map(str::to_owned));
    let request = TestStateRequest {
        definition: definition.to_owned(),
        state_name: owned("stateName")?,
        role_arn: owned("roleArn")?,
        input: owned("input")?,
        variables: owned("variables")?,
        context: owned("context")?,
        inspection_level,
        reveal_secrets: opt_bool(req, "revealSecrets")?.unwrap_or(false),
        mock,
        state_configuration,
    };
    let env = Environment {
        region: svc.cfg.region.clone(),
        account: svc.cfg.account.clone(),
        state_machine_name: uuid::Uuid::new_v4().to_string(),
        execution_name: uuid::Uuid::new_v4().to_string(),
        now_ms: chrono::Utc::now().timestamp_millis(),
    };
    match asl_engine::test_state::test_state(&request, &env) {
        Ok(r) => Ok(r.to_wire()),
        Err(TestStateError::InvalidDefinition(m)) => Err(ApiError::InvalidDefinition(m)),
        Err(TestStateError::InvalidExecutionInput(m)) => Err(ApiError::InvalidExecutionInput(m)),
        Err(TestStateError::Validation(m)) => Err(ApiError::Validation(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Config;

    fn service(tag: &str) -> Arc<Service> {
        let dir = std::env::temp_dir().join(format!(
            "sfn-local-api-{tag}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let cfg = Config {
            state_dir: dir,
            region: "us-east-1".into(),
            account: "123456789012".into(),
        };
        match Service::open(cfg, Vec::new()) {
            Ok(s) => s,
            Err(e) => panic!("open: {e}"),
        }
    }

    /// Regression for bug 3 of docs/fuzzing.md, found while writing the `api_request`
    /// fuzz target: a huge `nextToken` made `off + max` overflow (a panic in debug
    /// builds) in both paginated listings. Its inputs, replayed through the target by
    /// tests/fuzz_replay.rs: fuzz/regressions/api_request/huge-next-token-*.
    #[tokio::test]
    async fn huge_next_token_gives_an_empty_page() {
        let svc = service("token");
        let def = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;
        let created = dispatch(
            &svc,
            "CreateStateMachine",
            &json!({"name": "sm", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"}),
        )
        .await;
        let sm = match created {
            Ok(v) => v["stateMachineArn"].as_str().unwrap_or_default().to_owned(),
            Err(e) => panic!("create: {e}"),
        };
        let started = dispatch(&svc, "StartExecution", &json!({"stateMachineArn": sm})).await;
        let exec = match started {
            Ok(v) => v["executionArn"].as_str().unwrap_or_default().to_owned(),
            Err(e) => panic!("start: {e}"),
        };
        let huge = usize::MAX.to_string();
        let listed = dispatch(&svc, "ListStateMachines", &json!({"nextToken": huge})).await;
        assert_eq!(listed.ok(), Some(json!({"stateMachines": []})));
        let history = dispatch(
            &svc,
            "GetExecutionHistory",
            &json!({"executionArn": exec, "nextToken": huge, "maxResults": 1000}),
        )
        .await;
        assert_eq!(history.ok(), Some(json!({"events": []})));
        svc.close();
    }

    /// AWS's 1 MB definition quota holds for in-process callers too (local mode creates
    /// its state machines without HTTP, so the request size limit does not apply).
    #[tokio::test]
    async fn a_definition_over_1_mb_is_refused() {
        let svc = service("big-def");
        let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true,
            "Comment": "x".repeat(crate::service::MAX_DEFINITION)}}})
        .to_string();
        for op in ["CreateStateMachine", "ValidateStateMachineDefinition"] {
            let r = dispatch(
                &svc,
                op,
                &json!({"name": "big", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"}),
            )
            .await;
            assert_eq!(
                r.map_err(|e| e.code()).err(),
                Some("ValidationException"),
                "{op}"
            );
        }
        svc.close();
    }

    /// An input nested 127 levels deep (serde_json accepts up to 128) used to start
    /// fine, but the snapshot (a few levels deeper) could not be read back, so the
    /// callback failed with an internal error ("recursion limit exceeded").
    #[tokio::test]
    async fn a_deeply_nested_input_can_still_be_resumed() {
        let svc = service("deep");
        let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
            "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Parameters": {"token.$": "$$.Task.Token"}, "End": true}}});
        let created = dispatch(
            &svc,
            "CreateStateMachine",
            &json!({"name": "deep", "definition": def.to_string(),
                    "roleArn": "arn:aws:iam::123456789012:role/r"}),
        )
        .await;
        let sm = created.map(|v| v["stateMachineArn"].clone()).ok();
        let mut input = String::from("1");
        for _ in 0..127 {
            input = format!("[{input}]");
        }
        let started = dispatch(
            &svc,
            "StartExecution",
            &json!({"stateMachineArn": sm, "input": input}),
        )
        .await;
        let exec = started.map(|v| v["executionArn"].clone()).ok();
        let history = dispatch(&svc, "GetExecutionHistory", &json!({"executionArn": exec})).await;
        let token = history
            .ok()
            .and_then(|h| {
                h["events"].as_array()?.iter().find_map(|e| {
                    let params = e["taskScheduledEventDetails"]["parameters"].as_str()?;
                    let p: Value = serde_json::from_str(params).ok()?;
                    p["token"].as_str().map(str::to_owned)
                })
            })
            .unwrap_or_default();
        assert!(!token.is_empty(), "no TaskScheduled event with a token");
        let sent = dispatch(
            &svc,
            "SendTaskSuccess",
            &json!({"taskToken": token, "output": "{}"}),
        )
        .await;
        assert_eq!(sent.map_err(|e| e.to_string()), Ok(json!({})));
        let described = dispatch(&svc, "DescribeExecution", &json!({"executionArn": exec})).await;
        assert_eq!(
            described.ok().map(|d| d["status"].clone()),
            Some(json!("SUCCEEDED"))
        );
        svc.close();
    }
}
