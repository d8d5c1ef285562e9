//! RedriveExecution: which executions may be redriven, the redrive itself, and the
//! client tokens that make it idempotent.

use std::sync::Arc;

use asl_engine::Execution;
use asl_engine::interp::reason;

use super::*;
use crate::error::ApiError;
use crate::store::{ExecutionRow, Write};

/// API reference (RedriveExecution, `clientToken`): "idempotent responses for the
/// last 10 client tokens used to successfully redrive the execution. These client
/// tokens are valid for up to 15 minutes after they are first used."
pub(super) const REDRIVE_TOKENS: usize = 10;

/// Why a map run's child cannot be redriven by itself.
const CHILD_NOT_REDRIVABLE: &str =
    "Execution is a child workflow execution of a Map Run: redrive its parent execution";
pub(super) const REDRIVE_TOKEN_MS: i64 = 15 * 60 * 1000;

/// A client token of a successful redrive.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct RedriveToken {
    token: String,
    used_ms: i64,
    redrive_ms: i64,
}

impl Service {
    /// Why RedriveExecution would refuse this execution now (DescribeExecution's
    /// `redriveStatusReason`), or `None` when it is REDRIVABLE.
    pub(crate) fn redrive_refusal(&self, row: &ExecutionRow) -> Result<Option<String>, ApiError> {
        match row.status.as_str() {
            "RUNNING" => return Ok(Some(reason::RUNNING.to_owned())),
            "SUCCEEDED" => return Ok(Some(reason::SUCCEEDED.to_owned())),
            _ => {}
        }
        // A distributed Map's child is redriven with its map run, through its parent
        // (developer guide, "Redriving Map Runs"); this reason's text is local.
        if row.sm_arn.contains('/') {
            return Ok(Some(CHILD_NOT_REDRIVABLE.to_owned()));
        }
        let sm = self
            .sms
            .read()
            .map_err(|_| ApiError::Internal("lock poisoned".into()))?
            .get(&row.sm_arn)
            .map(|sm| sm.row.sm_type.clone());
        match sm.as_deref() {
            // A deleted machine's executions are not redriven (inferred: AWS names only
            // the DELETING status, which sfn-local passes through at once).
            None => return Ok(Some(reason::DELETING.to_owned())),
            // API reference (RedriveExecution): "This API action is not supported by
            // EXPRESS state machines."
            Some("EXPRESS") => return Ok(Some(EXPRESS_NOT_REDRIVABLE.to_owned())),
            Some(_) => {}
        }
        let Some(text) = row.snapshot.as_deref() else {
            return Ok(Some(reason::BEFORE_LAUNCH.to_owned()));
        };
        let exec: Execution = read_snapshot(text).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(exec.redrive_refusal(self.now()).map(str::to_owned))
    }

    /// RedriveExecution: restarts a FAILED, TIMED_OUT or ABORTED Standard execution
    /// from its unsuccessful states (asl_engine's `interp::redrive`), commits, and
    /// returns the redrive date. A `client_token` used for a successful redrive of
    /// this execution in the last 15 minutes (one of the last 10) returns that
    /// redrive's date again and redrives nothing (API reference, `clientToken`).
    pub async fn redrive_execution(
        self: &Arc<Self>,
        arn: &str,
        client_token: Option<&str>,
    ) -> Result<i64, ApiError> {
        check_arn(arn, "execution")?;
        let _guard = self.shards[shard_of(arn)].lock().await;
        let row = self.execution_row(arn)?;
        let now = self.now();
        let mut tokens: Vec<RedriveToken> = match self.store.redrive_tokens(row.seq)? {
            Some(text) => serde_json::from_str(&text).unwrap_or_default(),
            None => Vec::new(),
        };
        tokens.retain(|t| now - t.used_ms <= REDRIVE_TOKEN_MS);
        if let Some(token) = client_token
            && let Some(t) = tokens.iter().find(|t| t.token == token)
        {
            return Ok(t.redrive_ms);
        }
        if let Some(reason) = self.redrive_refusal(&row)? {
            return Err(ApiError::ExecutionNotRedrivable(reason));
        }
        let Some(text) = row.snapshot.as_deref() else {
            return Err(ApiError::ExecutionNotRedrivable(
                reason::BEFORE_LAUNCH.to_owned(),
            ));
        };
        let mut exec: Execution =
            read_snapshot(text).map_err(|e| ApiError::Internal(e.to_string()))?;
        let def = self.definition(row.definition_id)?;
        let mut step = exec
            .redrive(&def, now)
            .map_err(|r| ApiError::ExecutionNotRedrivable(r.to_owned()))?;
        self.submit_unhandled(&def, &mut exec, &mut step);
        if let Some(token) = client_token {
            tokens.push(RedriveToken {
                token: token.to_owned(),
                used_ms: now,
                redrive_ms: now,
            });
            let drop = tokens.len().saturating_sub(REDRIVE_TOKENS);
            tokens.drain(..drop);
        }
        let redrive = Write::PutRedrive {
            exec_seq: row.seq,
            count: i64::from(exec.redrive_count),
            redrive_ms: now,
            tokens: serde_json::to_string(&tokens)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        };
        // Not written by PutExecution (the redrive write holds them), but read back with
        // the row: the copy kept in `recent` must have them.
        let mut row = row;
        row.redrive_count = i64::from(exec.redrive_count);
        row.redrive_ms = Some(now);
        self.persist(row, &exec, &mut step, None, None, vec![redrive])
            .await?;
        drop(_guard);
        self.act(arn, step);
        tracing::info!(execution = %arn, redrive_count = exec.redrive_count, "execution redriven");
        Ok(now)
    }
}
