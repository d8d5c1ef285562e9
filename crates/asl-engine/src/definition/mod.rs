//! The state machine definition model, parsed from ASL JSON and validated.
//!
//! Contract: [`Definition::parse`] either returns a definition in which every transition
//! target exists, every state has exactly one way out, and every field has the right JSON
//! type, or a [`DefinitionError`] listing each problem as a structured [`Diagnostic`]
//! (code, message, location) and carrying AWS's `InvalidDefinition` message:
//! `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: <what> at /States/X/Field'`,
//! several problems joined with `, ` inside the one pair of quotes, as AWS does.
//! [`Definition::validate`] gives ValidateStateMachineDefinition's diagnostics (`validate`).
//! Expressions (paths, templates, Choice rules) are kept as raw JSON here and compiled
//! once by [`crate::expr`].
//!
//! Layout: this module is the model; `parser` reads a states block and what every
//! state has (type, query language, transition, I/O fields); `fields` holds the
//! typed readers those use (strings, numbers, paths, templates, JSONata, Assign),
//! written once for every state kind; `allowed` says which fields each state type
//! accepts; `retry_catch` reads `Retry` and `Catch`; `kinds` reads what each state
//! type adds (Task, Choice, Wait, Fail, Parallel, Map); `json` reads the text with
//! AWS's (Jackson's) syntax errors; `validate` adds what only
//! ValidateStateMachineDefinition reports (warnings, `severity`, `maxResults`).

mod allowed;
mod distributed;
mod fields;
mod json;
mod kinds;
mod parser;
mod retry_catch;
mod validate;

pub use distributed::{
    InputType, ItemReader, MAX_ITEMS_LIMIT, ReaderSource, ResultWriter, Transformation,
};
use parser::Parser;
pub use validate::{MachineType, Report};

use std::collections::BTreeMap;

use asl_eval::choice::ChoiceRule;
use asl_eval::fieldpath::FieldPath;
use asl_eval::jsonata::{Expr, Payload};
use asl_eval::jsonpath::ReferencePath;
use asl_eval::template::Template;
use chrono::{DateTime, FixedOffset};
use serde_json::Value;

/// How serious a [`Diagnostic`] is: ValidateStateMachineDefinition's `severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The definition cannot be created.
    Error,
    /// The definition can be created but probably does not do what its author meant.
    Warning,
}

impl Severity {
    /// The wire name (`ERROR`, `WARNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        }
    }
}

/// One problem in a definition, as ValidateStateMachineDefinition lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// AWS's code: `SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET`, `NO_DOLLAR`, ...
    pub code: &'static str,
    pub message: String,
    /// A JSON pointer (`/States/X/Next`, `/` for the root), Jackson's source snippet for
    /// a JSON syntax error, or nothing (AWS sends no `location` for some problems).
    pub location: Option<String>,
}

impl Diagnostic {
    pub(crate) fn error(code: &'static str, message: impl Into<String>, at: &str) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            location: Some(pointer(at)),
        }
    }

    pub(crate) fn warning(code: &'static str, message: impl Into<String>, at: &str) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message, at)
        }
    }
}

/// `CODE: message at location`, the form each problem takes inside AWS's
/// `InvalidDefinition` message.
impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        match &self.location {
            Some(l) => write!(f, " at {l}"),
            None => Ok(()),
        }
    }
}

/// The root's pointer is `/`, not the empty string.
fn pointer(at: &str) -> String {
    if at.is_empty() {
        "/".to_owned()
    } else {
        at.to_owned()
    }
}

/// A definition AWS would reject, with AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DefinitionError {
    /// The full message, starting with `Invalid State Machine Definition: `.
    pub message: String,
    /// Each problem (all of severity ERROR).
    pub problems: Vec<Diagnostic>,
}

impl DefinitionError {
    /// AWS puts one pair of quotes around the whole comma-joined list, not one per
    /// problem: `'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at
    /// /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at
    /// /States/pass2'` (AWS CLI output quoted in localstack PR #12487; the same form in
    /// serverless-step-functions issue #250).
    fn from_problems(problems: Vec<Diagnostic>) -> Self {
        let joined = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            message: format!("Invalid State Machine Definition: '{joined}'"),
            problems,
        }
    }
}

/// A parsed, validated state machine (or a branch / item processor inside one).
#[derive(Debug, Clone)]
pub struct Definition {
    pub comment: Option<String>,
    pub start_at: String,
    pub states: BTreeMap<String, State>,
    /// Execution-level `TimeoutSeconds` (top level only).
    pub timeout_seconds: Option<u64>,
    pub query_language: Option<String>,
}

/// Where a state goes when it finishes normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Next(String),
    End,
}

/// One `Retry` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub jitter_full: bool,
}

/// One `Catch` entry.
#[derive(Debug, Clone)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    pub result_path: ResultPathField,
    /// JSONata: the catcher's `Output` (default `$states.errorOutput`).
    pub output: Option<Payload>,
    pub assign: Option<Assign>,
}

/// An `Assign` block: a payload template (JSONPath states) or a JSONata payload.
#[derive(Debug, Clone)]
pub enum Assign {
    Path(Template),
    Jsonata(Payload),
}

/// A JSONata Choice rule: `{"Condition": "{% ... %}", "Next", "Assign"?, "Output"?}`.
#[derive(Debug, Clone)]
pub struct JsonataRule {
    pub condition: Expr,
    pub next: String,
    pub assign: Option<Assign>,
    pub output: Option<Payload>,
}

/// `InputPath` / `OutputPath`: absent means `$`, `null` means `{}` (input) or `{}` (output).
#[derive(Debug, Clone, Default)]
pub enum PathField {
    #[default]
    Default,
    Null,
    Path(FieldPath),
}

/// `ResultPath`: absent means `$` (replace), `null` means discard the result.
#[derive(Debug, Clone, Default)]
pub enum ResultPathField {
    #[default]
    Default,
    Null,
    Path(ReferencePath),
}

/// Input/output processing fields shared by most states, compiled.
#[derive(Debug, Clone, Default)]
pub struct Io {
    pub input_path: PathField,
    pub output_path: PathField,
    pub result_path: ResultPathField,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
}

/// A number given literally or through a `...Path` field.
#[derive(Debug, Clone)]
pub enum NumOrPath {
    Literal(f64),
    Path(FieldPath),
    /// JSONata: `"TimeoutSeconds": "{% ... %}"`; the field name is kept for messages.
    Expr(Expr, String),
}

#[derive(Debug, Clone)]
pub struct TaskState {
    pub resource: String,
    pub timeout: Option<NumOrPath>,
    pub heartbeat: Option<NumOrPath>,
    pub credentials: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapMode {
    Inline,
    Distributed,
}

/// A distributed Map's `ItemBatcher` (developer guide, "ItemBatcher (Map)"): the
/// limits are numbers, `...Path` fields or, in JSONata, expressions; `BatchInput` is
/// a payload template (JSONPath) or holds `{% %}` expressions (JSONata, as AWS
/// recorded in LocalStack's `map_item_batcher_base_max_per_batch_jsonata`), evaluated
/// once against the Map state's effective input.
#[derive(Debug, Clone)]
pub struct ItemBatcher {
    pub max_items_per_batch: Option<NumOrPath>,
    pub max_input_bytes_per_batch: Option<NumOrPath>,
    pub batch_input: Option<Template>,
    pub batch_input_jsonata: Option<Payload>,
}

#[derive(Debug, Clone)]
pub struct MapState {
    pub processor: Box<Definition>,
    pub mode: MapMode,
    pub items_path: PathField,
    /// `ItemSelector`, or the legacy `Parameters` of a Map state.
    pub item_selector: Option<Template>,
    pub max_concurrency: Option<NumOrPath>,
    pub tolerated_failure_count: Option<NumOrPath>,
    pub tolerated_failure_percentage: Option<NumOrPath>,
    pub item_batcher: Option<ItemBatcher>,
    pub label: Option<String>,
    /// JSONata: `Items` (an array, or an expression giving one; default `$states.input`).
    pub items: Option<Payload>,
    /// JSONata: `ItemSelector`.
    pub item_selector_jsonata: Option<Payload>,
    /// Distributed mode: where the items come from (S3) instead of the input.
    pub item_reader: Option<ItemReader>,
    /// Distributed mode: where and how the children's results go.
    pub result_writer: Option<ResultWriter>,
}

#[derive(Debug, Clone)]
pub enum WaitFor {
    Seconds(f64),
    SecondsPath(FieldPath),
    Timestamp(DateTime<FixedOffset>),
    TimestampPath(FieldPath),
    /// JSONata `"Seconds": "{% ... %}"`.
    SecondsExpr(Expr),
    /// JSONata `"Timestamp": "{% ... %}"`.
    TimestampExpr(Expr),
}

#[derive(Debug, Clone)]
pub enum Kind {
    Pass {
        result: Option<Value>,
    },
    Task(TaskState),
    Choice {
        choices: Vec<ChoiceRule>,
        /// The rules of a JSONata Choice state (`choices` is then empty).
        jsonata_rules: Vec<JsonataRule>,
        default: Option<String>,
    },
    Wait(WaitFor),
    Succeed,
    Fail {
        error: Option<String>,
        error_path: Option<FieldPath>,
        cause: Option<String>,
        cause_path: Option<FieldPath>,
        /// JSONata `"Error": "{% ... %}"` / `"Cause": "{% ... %}"`.
        error_expr: Option<Expr>,
        cause_expr: Option<Expr>,
    },
    Parallel {
        /// Shared: the interpreter clones a state on every step, and a copy of 5,000
        /// branches per finished branch made a wide Parallel quadratic (minutes).
        branches: std::sync::Arc<[Definition]>,
    },
    Map(Box<MapState>),
}

#[derive(Debug, Clone)]
pub struct State {
    pub name: String,
    pub kind: Kind,
    pub transition: Option<Transition>,
    /// The state's query language is JSONata (its own `QueryLanguage`, else the machine's).
    pub jsonata: bool,
    pub io: Io,
    /// JSONata `Arguments` (Task, Parallel).
    pub arguments: Option<Payload>,
    /// JSONata `Output`.
    pub output: Option<Payload>,
    pub assign: Option<Assign>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub comment: Option<String>,
}

impl State {
    /// The prefix of the history event types of this state (`Pass`, `Task`, ...).
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Pass { .. } => "Pass",
            Kind::Task(_) => "Task",
            Kind::Choice { .. } => "Choice",
            Kind::Wait(_) => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail { .. } => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map(_) => "Map",
        }
    }
}

impl Definition {
    /// Parses and validates a definition given as JSON text (a STANDARD machine).
    pub fn parse_str(text: &str) -> Result<Self, DefinitionError> {
        Self::parse_str_as(text, MachineType::Standard)
    }

    /// Parses and validates a definition for a machine of type `ty`: an EXPRESS machine
    /// also refuses what only STANDARD machines run (`.sync`, `.waitForTaskToken`,
    /// activities), as CreateStateMachine does.
    pub fn parse_str_as(text: &str, ty: MachineType) -> Result<Self, DefinitionError> {
        let value = json::read(text).map_err(|d| DefinitionError::from_problems(vec![d]))?;
        let (def, mut problems) = Self::check(&value);
        problems.extend(validate::type_problems(&value, ty));
        match def {
            Some(d) if problems.is_empty() => Ok(d),
            _ => Err(DefinitionError::from_problems(problems)),
        }
    }

    /// Parses and validates a definition given as a JSON value.
    pub fn parse(value: &Value) -> Result<Self, DefinitionError> {
        match Self::check(value) {
            (Some(d), problems) if problems.is_empty() => Ok(d),
            (_, problems) => Err(DefinitionError::from_problems(problems)),
        }
    }

    /// The definition if it is valid, and every problem found, including what AWS
    /// accepts but this engine does not run (never empty when the definition is `None`).
    fn check(value: &Value) -> (Option<Self>, Vec<Diagnostic>) {
        let (def, mut p) = Self::read(value);
        p.problems.append(&mut p.unsupported);
        if def.is_none() && p.problems.is_empty() {
            p.problems.push(Diagnostic::error(
                "SCHEMA_VALIDATION_FAILED",
                "invalid definition",
                "",
            ));
        }
        (def, p.problems)
    }

    /// The parser's findings, AWS's problems and this engine's limits kept apart:
    /// ValidateStateMachineDefinition reports only the former.
    fn read(value: &Value) -> (Option<Self>, Parser) {
        let mut p = Parser {
            problems: Vec::new(),
            unsupported: Vec::new(),
            jsonata_default: value.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata"),
        };
        let def = p.block(value, "", true);
        if let Some(d) = &def {
            // ASL: state names are unique in the whole machine, nested blocks included.
            let mut seen = std::collections::BTreeSet::new();
            d.duplicate_names("", &mut seen, &mut p.problems);
        }
        (def, p)
    }

    fn duplicate_names(
        &self,
        at: &str,
        seen: &mut std::collections::BTreeSet<String>,
        problems: &mut Vec<Diagnostic>,
    ) {
        for (name, st) in &self.states {
            let sat = format!("{at}/States/{name}");
            if !seen.insert(name.clone()) {
                problems.push(Diagnostic::error(
                    "DUPLICATE_STATE_NAME",
                    format!("Duplicate State name: {name}"),
                    &sat,
                ));
            }
            match &st.kind {
                Kind::Parallel { branches } => {
                    for (i, b) in branches.iter().enumerate() {
                        b.duplicate_names(&format!("{sat}/Branches[{i}]"), seen, problems);
                    }
                }
                Kind::Map(m) => {
                    m.processor
                        .duplicate_names(&format!("{sat}/ItemProcessor"), seen, problems)
                }
                _ => {}
            }
        }
    }

    /// Finds the states block addressed by `path` (see [`BlockStep`]).
    pub fn block(&self, path: &[BlockStep]) -> Option<&Definition> {
        let mut cur = self;
        for step in path {
            let st = cur.states.get(&step.state)?;
            cur = match (&st.kind, step.branch) {
                (Kind::Map(m), _) => &m.processor,
                (Kind::Parallel { branches }, Some(i)) => branches.get(i)?,
                _ => return None,
            };
        }
        Some(cur)
    }
}

/// One step from a states block into a nested one: the Map or Parallel state's name and,
/// for Parallel, the branch index.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlockStep {
    pub state: String,
    pub branch: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_pass_machine() {
        let d = Definition::parse(
            &json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}),
        );
        assert!(d.is_ok());
    }

    #[test]
    fn reports_missing_next_target_with_path() {
        let err = Definition::parse(
            &json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "C": {"Type": "Succeed"}}}),
        )
        .err()
        .map(|e| e.message)
        .unwrap_or_default();
        assert!(
            err.contains("MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next"),
            "{err}"
        );
    }

    #[test]
    fn reports_bad_type() {
        let err = Definition::parse(
            &json!({"StartAt": "A", "States": {"A": {"Type": "Nope", "End": true}}}),
        )
        .err()
        .map(|e| e.message)
        .unwrap_or_default();
        assert!(
            err.starts_with("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED"),
            "{err}"
        );
        assert!(err.contains("at /States/A/Type"), "{err}");
    }
}

#[cfg(test)]
mod field_tests {
    use super::*;
    use serde_json::json;

    fn message(v: Value) -> String {
        Definition::parse(&v)
            .err()
            .map(|e| e.message)
            .unwrap_or_default()
    }

    #[test]
    fn refuses_fields_the_state_type_does_not_support() {
        let m = message(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Catch": [], "End": true}}}),
        );
        assert_eq!(
            m,
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Field 'Catch' is not supported at /States/A'"
        );
    }

    #[test]
    fn reports_unreachable_states() {
        let m = message(
            json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}}),
        );
        assert!(
            m.contains("MISSING_TRANSITION_TARGET: State \"B\" is not reachable. at /States/B"),
            "{m}"
        );
    }

    #[test]
    fn state_names_are_unique_across_nested_blocks() {
        let m = message(
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
            "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Succeed"}}}]}}}),
        );
        assert!(m.contains("DUPLICATE_STATE_NAME"), "{m}");
    }

    #[test]
    fn says_plainly_what_this_engine_does_not_run() {
        let m = message(
            json!({"StartAt": "A", "States": {"A": {"Type": "Map", "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"}, "ReaderConfig": {"InputType": "PARQUET"}}, "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}, "End": true}}}),
        );
        assert!(m.contains("not supported by sfn-local"), "{m}");
    }

    #[test]
    fn query_languages_take_their_own_fields() {
        let m = message(
            json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {}, "End": true}}}),
        );
        assert!(
            m.contains("Field 'Parameters' is not supported in a Pass state using JSONata"),
            "{m}"
        );
        let m = message(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": {}, "End": true}}}),
        );
        assert!(m.contains("using JSONPath"), "{m}");
        let ok = Definition::parse(
            &json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input %}", "Assign": {"x": 1}, "End": true}}}),
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn invalid_jsonata_and_variable_names_are_refused() {
        let m = message(
            json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% $states.input. %}", "End": true}}}),
        );
        assert!(m.contains("at /States/A/Output"), "{m}");
        let m = message(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"1x": 1}, "End": true}}}),
        );
        assert!(m.contains("The variable name '1x' is invalid"), "{m}");
    }
}
