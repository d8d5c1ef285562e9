//! DescribeMapRun, ListMapRuns and UpdateMapRun over the map runs the engine keeps in
//! each execution's snapshot ([`asl_engine::Execution::map_runs`]).
//!
//! Shapes: the API reference and LocalStack's AWS recording `test_sfn_api_map_run`
//! `test_list_map_runs_and_describe_map_run` (ListMapRuns items: `executionArn`,
//! `mapRunArn`, `stateMachineArn`, `startDate`, `stopDate`; DescribeMapRun: those plus
//! `status`, `maxConcurrency`, `toleratedFailureCount`, `toleratedFailurePercentage`,
//! `itemCounts` and `executionCounts` with `aborted`, `failed`, `pending`,
//! `resultsWritten`, `running`, `succeeded`, `timedOut`, `total`).
//!
//! A succeeded execution keeps its snapshot when it ran a map run, so the runs stay
//! describable. A map run ARN does not name its execution: DescribeMapRun and
//! UpdateMapRun look through the executions of the state machine the ARN names, newest
//! first, reading only snapshots that contain the ARN (a local service holds few).
//!
//! Children run inside the parent execution, and each is also stored as an execution
//! of its own ([`asl_engine::ChildExecution`], written with the parent's step; the
//! store's `map_run_children`) whose state machine is the map run's
//! `...:stateMachine:<machine>/<label>`. DescribeExecution and GetExecutionHistory
//! find a child by its ARN ([`Service::child_row`]) and serve it like any execution
//! (its history built from its row), ListExecutions lists a map run's children with
//! `mapRunArn` ([`list_children`]), and a plain ListExecutions of the parent's state
//! machine does not list them (API reference, ExecutionListItem `mapRunArn`: "returned
//! only if mapRunArn was specified in the ListExecutions API action").

use std::sync::Arc;

use asl_engine::{
    ChildExecution, Command, CommandError, MapRun, MapRunCounts, child_execution_arn, child_index,
};
use serde_json::{Value, json};

use super::{CommandFailure, Service, check_arn, read_snapshot};
use crate::api::{max_results, page_offset, req_str, secs};
use crate::error::ApiError;
use crate::store::{ChildRow, ExecutionRow};

/// Serves the three map run operations.
pub(crate) async fn dispatch(svc: &Arc<Service>, op: &str, req: &Value) -> Result<Value, ApiError> {
    match op {
        "ListMapRuns" => {
            let arn = req_str(req, "executionArn")?;
            let row = svc.execution_row(arn)?;
            let runs = svc.map_runs_of(&row)?;
            let max = max_results(req, 100)?;
            let off = page_offset(req)?;
            let items: Vec<Value> = runs
                .iter()
                .skip(off)
                .take(max)
                .map(|r| {
                    let mut v = json!({
                        "executionArn": row.arn,
                        "mapRunArn": r.arn,
                        "stateMachineArn": r.state_machine_arn,
                        "startDate": secs(r.start_ms),
                    });
                    if let Some(s) = r.stop_ms {
                        v["stopDate"] = secs(s);
                    }
                    v
                })
                .collect();
            let mut out = json!({ "mapRuns": items });
            if off.saturating_add(max) < runs.len() {
                out["nextToken"] = Value::from(off.saturating_add(max).to_string());
            }
            Ok(out)
        }
        "DescribeMapRun" => {
            let arn = req_str(req, "mapRunArn")?;
            let (row, r) = svc.find_map_run(arn)?;
            let mut out = json!({
                "mapRunArn": r.arn,
                "executionArn": row.arn,
                "status": r.status.as_str(),
                "startDate": secs(r.start_ms),
                "maxConcurrency": r.max_concurrency,
                "toleratedFailurePercentage": r.tolerated_failure_percentage,
                "toleratedFailureCount": r.tolerated_failure_count,
                "itemCounts": counts(&r.items),
                "executionCounts": counts(&r.executions),
                "redriveCount": 0,
            });
            if let Some(s) = r.stop_ms {
                out["stopDate"] = secs(s);
            }
            Ok(out)
        }
        "UpdateMapRun" => {
            let arn = req_str(req, "mapRunArn")?;
            let max_concurrency = opt_int(req, "maxConcurrency")?;
            let count = opt_int(req, "toleratedFailureCount")?;
            let pct = match req.get("toleratedFailurePercentage") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_f64().ok_or_else(|| {
                    ApiError::Serialization(
                        "Field 'toleratedFailurePercentage' must be a number".into(),
                    )
                })?),
            };
            if let Some(p) = pct.filter(|p| !(0.0..=100.0).contains(p)) {
                return Err(ApiError::Validation(format!(
                    "1 validation error detected: Value '{p}' at 'toleratedFailurePercentage' failed to satisfy constraint: Member must have value between 0 and 100"
                )));
            }
            if max_concurrency.is_none() && count.is_none() && pct.is_none() {
                return Err(ApiError::Validation(
                    "At least one of maxConcurrency, toleratedFailureCount or toleratedFailurePercentage must be given".into(),
                ));
            }
            let (row, r) = svc.find_map_run(arn)?;
            if r.status != asl_engine::MapRunStatus::Running {
                return Err(ApiError::Validation(format!(
                    "Map Run '{arn}' is {} and can no longer be updated",
                    r.status.as_str()
                )));
            }
            let cmd = Command::UpdateMapRun {
                map_run_arn: arn.to_owned(),
                max_concurrency,
                tolerated_failure_count: count,
                tolerated_failure_percentage: pct,
            };
            match svc.command(&row.arn, cmd, None, None).await {
                Ok(()) => Ok(json!({})),
                Err(CommandFailure::Api(e)) => Err(e),
                // It stopped between the lookup and the update.
                Err(CommandFailure::Engine(
                    CommandError::NotRunning | CommandError::UnknownMapRun,
                )) => Err(ApiError::Validation(format!(
                    "Map Run '{arn}' is not running and can no longer be updated"
                ))),
                Err(e) => Err(ApiError::Internal(e.to_string())),
            }
        }
        other => Err(ApiError::UnknownOperation(format!(
            "Operation {other} is not supported."
        ))),
    }
}

/// ListExecutions with `mapRunArn`: the map run's child executions, newest first,
/// paged and filtered by status like ListExecutions of a state machine. API reference
/// (ListExecutions): "You can specify either a mapRunArn or a stateMachineArn, but
/// not both" (ValidationException); an unknown map run is ResourceNotFound. Each item
/// has `mapRunArn` and `itemCount` ("returned only if mapRunArn was specified").
pub(crate) fn list_children(
    svc: &Arc<Service>,
    req: &Value,
    status: Option<&str>,
    max: usize,
    before: i64,
) -> Result<Value, ApiError> {
    let arn = req_str(req, "mapRunArn")?;
    if req.get("stateMachineArn").is_some_and(|v| !v.is_null()) {
        return Err(ApiError::Validation(
            "You can specify either a mapRunArn or a stateMachineArn, but not both".into(),
        ));
    }
    svc.find_map_run(arn)?;
    let rows = svc.store.map_run_children(arn, status, before, max + 1)?;
    let more = rows.len() > max;
    let items: Vec<Value> = rows
        .iter()
        .take(max)
        .map(|r| {
            let index = usize::try_from(r.index).unwrap_or_default();
            let (child_arn, name) = child_execution_arn(arn, index).unwrap_or_default();
            let mut m = json!({
                "executionArn": child_arn,
                "stateMachineArn": r.sm_arn,
                "name": name,
                "status": r.status,
                "startDate": secs(r.start_ms),
                "mapRunArn": arn,
                "itemCount": r.item_count,
                "redriveCount": 0,
            });
            if let Some(s) = r.stop_ms {
                m["stopDate"] = secs(s);
            }
            m
        })
        .collect();
    let mut out = json!({ "executions": items });
    if more && let Some(r) = rows.get(max - 1) {
        out["nextToken"] = Value::from(r.index.to_string());
    }
    Ok(out)
}

/// A non-negative integer member.
fn opt_int(req: &Value, key: &str) -> Result<Option<u64>, ApiError> {
    match req.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Ok(Some(n as u64)),
            Some(n) => Err(ApiError::Validation(format!(
                "1 validation error detected: Value '{n}' at '{key}' failed to satisfy constraint: Member must have value greater than or equal to 0"
            ))),
            None => Err(ApiError::Serialization(format!(
                "Field '{key}' must be an integer"
            ))),
        },
    }
}

fn counts(c: &MapRunCounts) -> Value {
    json!({
        "pending": c.pending,
        "running": c.running,
        "succeeded": c.succeeded,
        "failed": c.failed,
        "timedOut": c.timed_out,
        "aborted": c.aborted,
        "total": c.total,
        "resultsWritten": c.results_written,
        "failuresNotRedrivable": 0,
        "pendingRedrive": 0,
    })
}

impl Service {
    /// A map run's child by execution ARN, `...:execution:<machine>/<label>:<name>`
    /// (asl_engine's `child_exec` module), as an execution row, with its map run.
    pub(crate) fn child_row(
        &self,
        arn: &str,
    ) -> Result<Option<(ExecutionRow, ChildRow)>, ApiError> {
        let parts: Vec<&str> = arn.split(':').collect();
        let (Some(head), Some(machine), Some(name)) = (parts.get(..5), parts.get(6), parts.get(7))
        else {
            return Ok(None);
        };
        if parts.len() != 8 || !machine.contains('/') {
            return Ok(None);
        }
        let Some(index) = child_index(name) else {
            return Ok(None);
        };
        let sm_arn = format!("{}:stateMachine:{machine}", head.join(":"));
        for run in self.store.map_runs_of_machine(&sm_arn)? {
            if child_execution_arn(&run, index).is_none_or(|(a, _)| a != arn) {
                continue;
            }
            let Some(c) = self.store.map_run_child(&run, index as i64)? else {
                continue;
            };
            let row = ExecutionRow {
                seq: 0,
                arn: arn.to_owned(),
                sm_arn: c.sm_arn.clone(),
                name: (*name).to_owned(),
                definition_id: c.definition_id,
                status: c.status.clone(),
                start_ms: c.start_ms,
                stop_ms: c.stop_ms,
                input: c.input.clone(),
                output: c.output.clone(),
                error: c.error.clone(),
                cause: c.cause.clone(),
                snapshot: None,
                redrive_count: 0,
                redrive_ms: None,
            };
            return Ok(Some((row, c)));
        }
        Ok(None)
    }

    /// The map run that started execution `row`, when it is a distributed Map's child
    /// (whose state machine ARN, `<machine>/<label>`, is the only kind with a `/`).
    pub(crate) fn map_run_of(&self, row: &ExecutionRow) -> Result<Option<String>, ApiError> {
        if !row.sm_arn.contains('/') {
            return Ok(None);
        }
        Ok(self.child_row(&row.arn)?.map(|(_, c)| c.map_run_arn))
    }

    /// A child's history (JSON array of events), built from its row
    /// ([`ChildExecution::history`]); `None` when `row` is not a map run's child.
    pub(crate) fn child_history(&self, row: &ExecutionRow) -> Result<Option<String>, ApiError> {
        if !row.sm_arn.contains('/') {
            return Ok(None);
        }
        let Some((_, c)) = self.child_row(&row.arn)? else {
            return Ok(None);
        };
        // The role of the parent's machine: `stateMachine:<machine>/<label>` → `<machine>`.
        let machine = c
            .sm_arn
            .split_once('/')
            .map_or(c.sm_arn.as_str(), |(m, _)| m);
        let role = self
            .state_machine(machine)
            .map(|sm| sm.row.role_arn)
            .unwrap_or_default();
        let status = match c.status.as_str() {
            "SUCCEEDED" => asl_engine::Status::Succeeded,
            "FAILED" => asl_engine::Status::Failed,
            "TIMED_OUT" => asl_engine::Status::TimedOut,
            "ABORTED" => asl_engine::Status::Aborted,
            _ => asl_engine::Status::Running,
        };
        let child = ChildExecution {
            index: usize::try_from(c.index).unwrap_or_default(),
            map_run_arn: Arc::from(c.map_run_arn.as_str()),
            state_machine_arn: Arc::from(c.sm_arn.as_str()),
            status,
            start_ms: c.start_ms,
            stop_ms: c.stop_ms,
            input: Some(c.input),
            output: c.output,
            error: c.error,
            cause: c.cause,
            item_count: u64::try_from(c.item_count).unwrap_or_default(),
        };
        Ok(Some(asl_engine::history::aws_json_array(
            &child.history(&role),
        )))
    }

    /// The map runs of one execution (none once a snapshot is gone).
    fn map_runs_of(&self, row: &ExecutionRow) -> Result<Vec<MapRun>, ApiError> {
        let Some(text) = row.snapshot.as_deref() else {
            return Ok(Vec::new());
        };
        if !text.contains(":mapRun:") {
            return Ok(Vec::new());
        }
        let exec: asl_engine::Execution =
            read_snapshot(text).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(exec.map_runs())
    }

    /// A map run by ARN, with its execution's row.
    pub(crate) fn find_map_run(&self, arn: &str) -> Result<(ExecutionRow, MapRun), ApiError> {
        check_arn(arn, "mapRun")?;
        let not_found = || ApiError::ResourceNotFound(format!("Map Run Does Not Exist: '{arn}'"));
        // `arn:<partition>:states:<region>:<account>:mapRun:<machine>/<label>:<uuid>`.
        let parts: Vec<&str> = arn.split(':').collect();
        let (Some(partition), Some(region), Some(account), Some(machine)) = (
            parts.get(1),
            parts.get(3),
            parts.get(4),
            parts.get(6).and_then(|p| p.split('/').next()),
        ) else {
            return Err(not_found());
        };
        let sm_arn = format!("arn:{partition}:states:{region}:{account}:stateMachine:{machine}");
        for (_, listed) in self
            .store
            .executions(&sm_arn, None, None, i64::MAX, usize::MAX >> 1)?
        {
            let Some(row) = self.load(&listed.arn)? else {
                continue;
            };
            if !row.snapshot.as_deref().is_some_and(|s| s.contains(arn)) {
                continue;
            }
            if let Some(r) = self.map_runs_of(&row)?.into_iter().find(|r| r.arn == arn) {
                return Ok((row, r));
            }
        }
        Err(not_found())
    }
}
