//! What a distributed Map waits for while it reads its items from S3 or writes
//! its results there: the state kept in the execution's snapshot between the
//! S3 calls. Data only: `reader` runs the reading and `writer` the writing, and
//! both use these types, so neither depends on the other.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Children;

pub(super) const GET_OBJECT: &str = "arn:aws:states:::aws-sdk:s3:getObject";
pub(super) const LIST_OBJECTS_V2: &str = "arn:aws:states:::aws-sdk:s3:listObjectsV2";
pub(super) const PUT_OBJECT: &str = "arn:aws:states:::aws-sdk:s3:putObject";

/// A distributed Map waiting for an S3 call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct MapRunWait {
    pub(super) task_id: u64,
    pub(super) arn: String,
    pub(super) phase: Phase,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) enum Phase {
    Reading(Box<Reading>),
    Writing(Box<Writing>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Reading {
    /// The reader's evaluated `Parameters` (listObjectsV2 pages add a token).
    pub(super) request: Value,
    pub(super) items: Vec<Value>,
    /// 0: no limit.
    pub(super) max_items: u64,
    /// MANIFEST: the inventory's bucket, its CSV files still to read and their columns.
    #[serde(default)]
    pub(super) manifest: Option<Inventory>,
    /// The children to run once the items are read.
    pub(super) children: Box<Children>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Inventory {
    pub(super) bucket: String,
    pub(super) files: Vec<String>,
    pub(super) schema: Vec<String>,
}

impl MapRunWait {
    /// UpdateMapRun while the items are still being read.
    pub(super) fn update(&mut self, max: Option<u64>, count: Option<u64>, pct: Option<f64>) {
        if let Phase::Reading(r) = &mut self.phase {
            if let Some(m) = max {
                r.children.max = m as usize;
            }
            if count.is_some() {
                r.children.tolerated_count = count;
            }
            if pct.is_some() {
                r.children.tolerated_pct = pct;
            }
        }
    }
}

/// Result files still to put, the first one in flight; then the state's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Writing {
    pub(super) puts: Vec<Value>,
    pub(super) output: Value,
    pub(super) children: Box<Children>,
}
