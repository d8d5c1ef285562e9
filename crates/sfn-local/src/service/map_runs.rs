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
//! Children run inside the parent execution: they are not listed by ListExecutions.

use std::sync::Arc;

use asl_engine::{Command, CommandError, MapRun, MapRunCounts};
use serde_json::{Value, json};

use super::{CommandFailure, Service, check_arn, read_snapshot};
use crate::api::{max_results, page_offset, req_str, secs};
use crate::error::ApiError;
use crate::store::ExecutionRow;

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
    fn find_map_run(&self, arn: &str) -> Result<(ExecutionRow, MapRun), ApiError> {
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
