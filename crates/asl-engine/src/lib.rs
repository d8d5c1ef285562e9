//! A pure interpreter for the Amazon States Language: JSONPath and JSONata query
//! languages, per machine and per state, and workflow variables (`Assign`).
//!
//! * [`definition`]: the definition model, parsed and validated with AWS's
//!   `InvalidDefinition` messages; expressions are compiled once by `asl-eval`.
//! * [`interp`]: the deterministic, resumable interpreter. It consumes [`Command`]s and
//!   produces history events and [`Effect`]s; it never sleeps and does no I/O.
//!   Variables live in the snapshot per thread: a Parallel branch or Map iteration
//!   starts with a copy of its parent's, so what it assigns stays inside it.
//! * [`history`]: history events with AWS's types, ids and details.
//! * [`invocation`]: a Task state's request and outcome as plain data. A distributed
//!   Map's `ItemReader` and `ResultWriter` ask for S3 the same way, with
//!   `arn:aws:states:::aws-sdk:s3:{getObject,listObjectsV2,putObject}` requests (the
//!   contract is in `interp/reader.rs`); its map runs are in the snapshot
//!   ([`Execution::map_runs`]), and its children leave each step as executions of
//!   their own ([`Step::children`], [`ChildExecution`]).
//! * [`test_state`]: TestState, one state run by the same interpreter, with AWS's
//!   validation and inspection data.
//! * [`ports`]: the clock, store and integration traits, with in-memory / fake versions
//!   for deterministic tests.
//!
//! No HTTP, SQLite, AWS SDK or async runtime lives here; `sfn-local` drives the engine.

pub mod definition;
pub mod history;
mod inspection;
pub mod interp;
pub mod invocation;
pub mod ports;
pub mod test_state;
pub mod token;

pub use definition::{Definition, DefinitionError, Diagnostic, MachineType, Report, Severity};
pub use history::HistoryEvent;
pub use interp::{
    ChildExecution, Command, CommandError, Effect, ExecInfo, Execution, MapRun, MapRunCounts,
    MapRunStatus, Pending, Status, Step, child_execution_arn, child_index,
};
pub use ports::{
    Clock, FakeClock, Integration, MemoryStore, Store, SystemClock, TaskOutcome, TaskRequest,
};
