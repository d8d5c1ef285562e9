//! The state machine definition model, parsed from ASL JSON and validated.
//!
//! Contract: [`Definition::parse`] either returns a definition in which every transition
//! target exists, every state has exactly one way out, and every field has the right JSON
//! type, or a [`DefinitionError`] whose message follows AWS's `InvalidDefinition` wording:
//! `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: <what> at /States/X/Field'`.
//! Several problems are joined with `, ` as AWS does. Expressions (paths, templates, Choice
//! rules) are kept as raw JSON here and compiled once by [`crate::expr`].

use std::collections::BTreeMap;

use asl_eval::choice::{ChoiceRule, compile_choices};
use asl_eval::fieldpath::FieldPath;
use asl_eval::jsonata::{Expr, Payload};
use asl_eval::jsonpath::ReferencePath;
use asl_eval::template::Template;
use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

/// A definition AWS would reject, with AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DefinitionError {
    /// The full message, starting with `Invalid State Machine Definition: `.
    pub message: String,
    /// Each problem as `CODE: what at /location` (ValidateStateMachineDefinition lists them).
    pub problems: Vec<String>,
}

impl DefinitionError {
    fn from_problems(problems: &[String]) -> Self {
        let joined = problems
            .iter()
            .map(|p| format!("'{p}'"))
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            message: format!("Invalid State Machine Definition: {joined}"),
            problems: problems.to_vec(),
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
    pub item_batcher: Option<Value>,
    pub label: Option<String>,
    /// JSONata: `Items` (an array, or an expression giving one; default `$states.input`).
    pub items: Option<Payload>,
    /// JSONata: `ItemSelector`.
    pub item_selector_jsonata: Option<Payload>,
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

const STATE_TYPES: &[&str] = &[
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

struct Parser {
    problems: Vec<String>,
    /// The machine's top-level `QueryLanguage` is JSONata.
    jsonata_default: bool,
}

impl Definition {
    /// Parses and validates a definition given as JSON text.
    pub fn parse_str(text: &str) -> Result<Self, DefinitionError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            DefinitionError::from_problems(&[format!("INVALID_JSON_DESCRIPTION: {e}")])
        })?;
        Self::parse(&value)
    }

    /// Parses and validates a definition given as a JSON value.
    pub fn parse(value: &Value) -> Result<Self, DefinitionError> {
        let mut p = Parser {
            problems: Vec::new(),
            jsonata_default: value.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata"),
        };
        let def = p.block(value, "", true);
        if let Some(d) = &def {
            // ASL: state names are unique in the whole machine, nested blocks included.
            let mut seen = std::collections::BTreeSet::new();
            d.duplicate_names("", &mut seen, &mut p.problems);
        }
        match def {
            Some(d) if p.problems.is_empty() => Ok(d),
            _ => {
                if p.problems.is_empty() {
                    p.problems
                        .push("SCHEMA_VALIDATION_FAILED: invalid definition at /".to_owned());
                }
                Err(DefinitionError::from_problems(&p.problems))
            }
        }
    }

    fn duplicate_names(
        &self,
        at: &str,
        seen: &mut std::collections::BTreeSet<String>,
        problems: &mut Vec<String>,
    ) {
        for (name, st) in &self.states {
            let sat = format!("{at}/States/{name}");
            if !seen.insert(name.clone()) {
                problems.push(format!(
                    "DUPLICATE_STATE_NAME: Duplicate State name: {name} at {sat}"
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

impl Parser {
    fn schema(&mut self, what: impl std::fmt::Display, at: &str) {
        self.problems
            .push(format!("SCHEMA_VALIDATION_FAILED: {what} at {at}"));
    }

    /// Something AWS accepts but this engine does not run (S3 item readers and result writers).
    fn unsupported_here(&mut self, field: &str, what: &str, at: &str) {
        self.schema(
            format!("Field '{field}' ({what}) is not supported by sfn-local yet"),
            at,
        );
    }

    /// AWS refuses fields a state type does not support: "Field 'X' is not supported".
    /// JSONata states take `Arguments`/`Output` instead of JSONPath's `InputPath`,
    /// `Parameters`, `ResultSelector`, `ResultPath`, `OutputPath` and `*Path` fields
    /// (developer guide, "Transforming data with JSONata": the JSONPath fields are not
    /// allowed in JSONata states, and `Output`/`Arguments` not in JSONPath states).
    fn check_fields(&mut self, obj: &Map<String, Value>, ty: &str, jsonata: bool, at: &str) {
        const COMMON_PATH: &[&str] = &[
            "Type",
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
        ];
        const COMMON_JSONATA: &[&str] = &["Type", "Comment", "QueryLanguage"];
        const NEXT: &[&str] = &["Next", "End"];
        const RESULT: &[&str] = &[
            "Parameters",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
        ];
        const ERRORS: &[&str] = &["Retry", "Catch"];
        const ASSIGN: &[&str] = &["Assign"];
        const OUTPUT: &[&str] = &["Output"];
        const MAP_COMMON: &[&str] = &["Iterator", "ItemProcessor", "ItemBatcher", "Label"];
        let own: &[&[&str]] = match (ty, jsonata) {
            ("Pass", false) => &[NEXT, ASSIGN, &["Parameters", "ResultPath", "Result"]],
            ("Pass", true) => &[NEXT, ASSIGN, OUTPUT],
            ("Task", false) => &[
                NEXT,
                RESULT,
                ASSIGN,
                &[
                    "Resource",
                    "TimeoutSeconds",
                    "TimeoutSecondsPath",
                    "HeartbeatSeconds",
                    "HeartbeatSecondsPath",
                    "Credentials",
                ],
            ],
            ("Task", true) => &[
                NEXT,
                ERRORS,
                ASSIGN,
                OUTPUT,
                &[
                    "Resource",
                    "Arguments",
                    "TimeoutSeconds",
                    "HeartbeatSeconds",
                    "Credentials",
                ],
            ],
            ("Choice", false) => &[ASSIGN, &["Choices", "Default"]],
            ("Choice", true) => &[ASSIGN, OUTPUT, &["Choices", "Default"]],
            ("Wait", false) => &[
                NEXT,
                ASSIGN,
                &["Seconds", "SecondsPath", "Timestamp", "TimestampPath"],
            ],
            ("Wait", true) => &[NEXT, ASSIGN, OUTPUT, &["Seconds", "Timestamp"]],
            ("Succeed", false) => &[],
            ("Succeed", true) => &[OUTPUT],
            ("Fail", false) => &[&["Error", "ErrorPath", "Cause", "CausePath"]],
            ("Fail", true) => &[&["Error", "Cause"]],
            ("Parallel", false) => &[NEXT, RESULT, ASSIGN, &["Branches"]],
            ("Parallel", true) => &[NEXT, ERRORS, ASSIGN, OUTPUT, &["Branches", "Arguments"]],
            ("Map", false) => &[
                NEXT,
                RESULT,
                ASSIGN,
                MAP_COMMON,
                &[
                    "ItemsPath",
                    "ItemSelector",
                    "MaxConcurrency",
                    "MaxConcurrencyPath",
                    "ToleratedFailureCount",
                    "ToleratedFailureCountPath",
                    "ToleratedFailurePercentage",
                    "ToleratedFailurePercentagePath",
                ],
            ],
            ("Map", true) => &[
                NEXT,
                ERRORS,
                ASSIGN,
                OUTPUT,
                MAP_COMMON,
                &[
                    "Items",
                    "ItemSelector",
                    "MaxConcurrency",
                    "ToleratedFailureCount",
                    "ToleratedFailurePercentage",
                ],
            ],
            _ => &[],
        };
        let common = if jsonata { COMMON_JSONATA } else { COMMON_PATH };
        for k in obj.keys() {
            let k = k.as_str();
            if common.contains(&k) || own.iter().any(|group| group.contains(&k)) {
                continue;
            }
            match k {
                "ItemReader" | "ResultWriter" => self.unsupported_here(k, "S3 item sources", at),
                // A field of the other query language: say which one the state uses.
                "InputPath"
                | "OutputPath"
                | "Parameters"
                | "ResultPath"
                | "ResultSelector"
                | "ItemsPath"
                | "Result"
                | "TimeoutSecondsPath"
                | "HeartbeatSecondsPath"
                | "SecondsPath"
                | "TimestampPath"
                | "ErrorPath"
                | "CausePath"
                | "MaxConcurrencyPath"
                | "ToleratedFailureCountPath"
                | "ToleratedFailurePercentagePath"
                | "Arguments"
                | "Output"
                | "Items" => {
                    let lang = if jsonata { "JSONata" } else { "JSONPath" };
                    self.schema(
                        format!("Field '{k}' is not supported in a {ty} state using {lang}"),
                        at,
                    )
                }
                _ => self.schema(format!("Field '{k}' is not supported"), at),
            }
        }
    }

    fn string(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Option<String> {
        match obj.get(key) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.schema(
                    format!(
                        "The value for the field '{key}' must be a STRING but was {}",
                        asl_eval::json_type_name(other).to_uppercase()
                    ),
                    &format!("{at}/{key}"),
                );
                None
            }
        }
    }

    fn number(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Option<f64> {
        match obj.get(key) {
            None => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(other) => {
                self.schema(
                    format!(
                        "The value for the field '{key}' must be a NUMBER but was {}",
                        asl_eval::json_type_name(other).to_uppercase()
                    ),
                    &format!("{at}/{key}"),
                );
                None
            }
        }
    }

    fn field_path(
        &mut self,
        field: &str,
        value: &str,
        at: &str,
        intrinsics: bool,
    ) -> Option<FieldPath> {
        let compiled = if intrinsics {
            FieldPath::compile_with_intrinsics(field, value)
        } else {
            FieldPath::compile(field, value)
        };
        match compiled {
            Ok(p) => Some(p),
            Err(e) => {
                self.schema(e.message, &format!("{at}/{field}"));
                None
            }
        }
    }

    fn path_field(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> PathField {
        match obj.get(key) {
            None => PathField::Default,
            Some(Value::Null) => PathField::Null,
            Some(Value::String(s)) => self
                .field_path(key, s, at, false)
                .map_or(PathField::Default, PathField::Path),
            Some(other) => {
                self.schema(
                    format!(
                        "The value for the field '{key}' must be a STRING but was {}",
                        asl_eval::json_type_name(other).to_uppercase()
                    ),
                    &format!("{at}/{key}"),
                );
                PathField::Default
            }
        }
    }

    fn result_path(&mut self, v: Option<&Value>, at: &str) -> ResultPathField {
        match v {
            None => ResultPathField::Default,
            Some(Value::Null) => ResultPathField::Null,
            Some(Value::String(s)) => match ReferencePath::parse(s) {
                Ok(p) => ResultPathField::Path(p),
                Err(e) => {
                    self.schema(e.message, at);
                    ResultPathField::Default
                }
            },
            Some(_) => {
                self.schema("The value for the field 'ResultPath' must be a STRING", at);
                ResultPathField::Default
            }
        }
    }

    fn template(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Option<Template> {
        let v = obj.get(key)?;
        if !v.is_object() {
            self.schema(
                format!("The value for the field '{key}' must be an OBJECT"),
                &format!("{at}/{key}"),
            );
            return None;
        }
        match Template::compile(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.schema(e.message, &format!("{at}/{key}"));
                None
            }
        }
    }

    fn at_least(&mut self, v: &Option<NumOrPath>, key: &str, min: f64, at: &str) {
        if let Some(NumOrPath::Literal(n)) = v
            && *n < min
        {
            self.schema(
                format!("The value for the field '{key}' must be >= {min}"),
                &format!("{at}/{key}"),
            );
        }
    }

    fn num_or_path(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
        integer: bool,
    ) -> Option<NumOrPath> {
        let path_key = format!("{key}Path");
        if let Some(e) = self.expr_field(obj, key, at) {
            return Some(NumOrPath::Expr(e, key.to_owned()));
        }
        let lit = self.number(obj, key, at);
        let path = self.string(obj, &path_key, at);
        match (lit, path) {
            (Some(_), Some(_)) => {
                self.schema(
                    format!("These fields are mutually exclusive: '{key}', '{path_key}'"),
                    at,
                );
                None
            }
            (Some(n), None) => {
                if integer && n.fract() != 0.0 {
                    self.schema(
                        format!("The value for the field '{key}' must be an INTEGER"),
                        &format!("{at}/{key}"),
                    );
                }
                Some(NumOrPath::Literal(n))
            }
            (None, Some(p)) => self
                .field_path(&path_key, &p, at, false)
                .map(NumOrPath::Path),
            (None, None) => None,
        }
    }

    fn string_list(&mut self, v: Option<&Value>, at: &str) -> Vec<String> {
        match v {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s.clone()),
                    _ => {
                        self.schema("The value must be a STRING", at);
                        None
                    }
                })
                .collect(),
            _ => {
                self.schema("The field 'ErrorEquals' should be a non-empty array", at);
                Vec::new()
            }
        }
    }

    /// Parses a `{StartAt, States}` block. `at` is the JSON pointer prefix of the block.
    fn block(&mut self, value: &Value, at: &str, top: bool) -> Option<Definition> {
        let Some(obj) = value.as_object() else {
            self.schema(
                "The definition must be a JSON object",
                if at.is_empty() { "/" } else { at },
            );
            return None;
        };
        let start_at = self.string(obj, "StartAt", at);
        if start_at.is_none() && !obj.contains_key("StartAt") {
            self.schema(
                "The field 'StartAt' should be non-null",
                if at.is_empty() { "/" } else { at },
            );
        }
        let comment = self.string(obj, "Comment", at);
        let allowed: &[&str] = if top {
            &[
                "Comment",
                "StartAt",
                "States",
                "TimeoutSeconds",
                "Version",
                "QueryLanguage",
            ]
        } else {
            &[
                "Comment",
                "StartAt",
                "States",
                "ProcessorConfig",
                "QueryLanguage",
            ]
        };
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                self.schema(
                    format!("Field '{k}' is not supported"),
                    if at.is_empty() { "/" } else { at },
                );
            }
        }
        let query_language = self.string(obj, "QueryLanguage", at);
        if let Some(ql) = &query_language
            && ql != "JSONPath"
            && ql != "JSONata"
        {
            self.schema(
                "The value for the field 'QueryLanguage' must be one of [JSONPath, JSONata]",
                &format!("{at}/QueryLanguage"),
            );
        }
        let timeout_seconds = if top {
            self.number(obj, "TimeoutSeconds", at)
                .map(|n| n.max(0.0) as u64)
        } else {
            None
        };
        let states_at = format!("{at}/States");
        let mut states = BTreeMap::new();
        match obj.get("States") {
            Some(Value::Object(raw)) => {
                if raw.is_empty() {
                    self.schema("The field 'States' should be non-empty", &states_at);
                }
                for (name, sv) in raw {
                    let sat = format!("{states_at}/{name}");
                    if name.is_empty() || name.chars().count() > 80 {
                        self.problems.push(format!(
                            "INVALID_STATE_NAME: State name '{name}' is invalid at {sat}"
                        ));
                    }
                    if let Some(st) = self.state(name, sv, &sat) {
                        states.insert(name.clone(), st);
                    }
                }
            }
            Some(_) => self.schema("The field 'States' must be an OBJECT", &states_at),
            None => self.schema(
                "The field 'States' should be non-null",
                if at.is_empty() { "/" } else { at },
            ),
        }
        let start_at = start_at.unwrap_or_default();
        if !states.is_empty() && !start_at.is_empty() && !states.contains_key(&start_at) {
            self.problems.push(format!(
                "MISSING_TRANSITION_TARGET: Missing 'Next' target: {start_at} at {}",
                if at.is_empty() {
                    "/StartAt".to_owned()
                } else {
                    format!("{at}/StartAt")
                }
            ));
        }
        // Transition targets must exist within the same block.
        for (name, st) in &states {
            let sat = format!("{states_at}/{name}");
            let mut targets: Vec<(String, String)> = Vec::new();
            if let Some(Transition::Next(n)) = &st.transition {
                targets.push((n.clone(), format!("{sat}/Next")));
            }
            for (i, c) in st.catch.iter().enumerate() {
                targets.push((c.next.clone(), format!("{sat}/Catch[{i}]/Next")));
            }
            if let Kind::Choice {
                choices,
                jsonata_rules,
                default,
            } = &st.kind
            {
                if let Some(d) = default {
                    targets.push((d.clone(), format!("{sat}/Default")));
                }
                for (i, c) in choices.iter().enumerate() {
                    targets.push((c.next().to_owned(), format!("{sat}/Choices[{i}]/Next")));
                }
                for (i, c) in jsonata_rules.iter().enumerate() {
                    targets.push((c.next.clone(), format!("{sat}/Choices[{i}]/Next")));
                }
            }
            for (t, tat) in targets {
                if !states.contains_key(&t) {
                    self.problems.push(format!(
                        "MISSING_TRANSITION_TARGET: Missing 'Next' target: {t} at {tat}"
                    ));
                }
            }
        }
        // Every state must be reachable from StartAt (AWS reports the others).
        if states.contains_key(&start_at) {
            let mut seen = std::collections::BTreeSet::new();
            let mut todo = vec![start_at.clone()];
            while let Some(n) = todo.pop() {
                if !seen.insert(n.clone()) {
                    continue;
                }
                if let Some(st) = states.get(&n) {
                    if let Some(Transition::Next(x)) = &st.transition {
                        todo.push(x.clone());
                    }
                    todo.extend(st.catch.iter().map(|c| c.next.clone()));
                    if let Kind::Choice {
                        choices,
                        jsonata_rules,
                        default,
                    } = &st.kind
                    {
                        todo.extend(choices.iter().map(|c| c.next().to_owned()));
                        todo.extend(jsonata_rules.iter().map(|c| c.next.clone()));
                        todo.extend(default.iter().cloned());
                    }
                }
            }
            for name in states.keys() {
                if !seen.contains(name) {
                    self.problems.push(format!(
                        "MISSING_TRANSITION_TARGET: State \"{name}\" is not reachable. at {states_at}/{name}"
                    ));
                }
            }
        }
        if !states.is_empty()
            && !states.values().any(|s| {
                matches!(s.kind, Kind::Succeed | Kind::Fail { .. })
                    || s.transition == Some(Transition::End)
            })
        {
            self.problems.push(format!(
                "MISSING_END_STATE: Workflow has no terminal state at {states_at}"
            ));
        }
        Some(Definition {
            comment,
            start_at,
            states,
            timeout_seconds,
            query_language,
        })
    }

    fn state(&mut self, name: &str, value: &Value, at: &str) -> Option<State> {
        let Some(obj) = value.as_object() else {
            self.schema("The state must be an OBJECT", at);
            return None;
        };
        let Some(ty) = self.string(obj, "Type", at) else {
            if !obj.contains_key("Type") {
                self.schema("The field 'Type' should be non-null", at);
            }
            return None;
        };
        if !STATE_TYPES.contains(&ty.as_str()) {
            self.schema(
                format!(
                    "The value for the field 'Type' must be one of [{}]",
                    STATE_TYPES.join(", ")
                ),
                &format!("{at}/Type"),
            );
            return None;
        }
        let comment = self.string(obj, "Comment", at);
        // A state's own QueryLanguage wins over the machine's (AWS developer guide,
        // "Transforming data with JSONata": QueryLanguage at the top level and per state).
        let jsonata = match obj.get("QueryLanguage").and_then(Value::as_str) {
            Some("JSONata") => true,
            Some("JSONPath") => false,
            _ => self.jsonata_default,
        };
        let next = self.string(obj, "Next", at);
        let end = match obj.get("End") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.schema(
                    "The value for the field 'End' must be a BOOLEAN",
                    &format!("{at}/End"),
                );
                false
            }
        };
        let terminal_type = matches!(ty.as_str(), "Succeed" | "Fail");
        let transition = if ty == "Choice" || terminal_type {
            None
        } else {
            match (next, end) {
                (Some(_), true) => {
                    self.schema("These fields are mutually exclusive: 'Next', 'End'", at);
                    None
                }
                (Some(n), false) => Some(Transition::Next(n)),
                (None, true) => Some(Transition::End),
                (None, false) => {
                    self.schema("The field 'Next' should be non-null", at);
                    None
                }
            }
        };

        let io = Io {
            input_path: self.path_field(obj, "InputPath", at),
            output_path: self.path_field(obj, "OutputPath", at),
            result_path: self.result_path(obj.get("ResultPath"), &format!("{at}/ResultPath")),
            parameters: if ty == "Map" {
                None
            } else {
                self.template(obj, "Parameters", at)
            },
            result_selector: self.template(obj, "ResultSelector", at),
        };

        let (arguments, output) = if jsonata {
            (
                self.payload(obj, "Arguments", at),
                self.payload(obj, "Output", at),
            )
        } else {
            (None, None)
        };
        let assign = self.assign(obj.get("Assign"), jsonata, &format!("{at}/Assign"));

        let retry = match obj.get("Retry") {
            None => Vec::new(),
            Some(Value::Array(rs)) => rs
                .iter()
                .enumerate()
                .filter_map(|(i, r)| self.retrier(r, &format!("{at}/Retry[{i}]")))
                .collect(),
            Some(_) => {
                self.schema(
                    "The value for the field 'Retry' must be an ARRAY",
                    &format!("{at}/Retry"),
                );
                Vec::new()
            }
        };
        let catch = match obj.get("Catch") {
            None => Vec::new(),
            Some(Value::Array(cs)) => cs
                .iter()
                .enumerate()
                .filter_map(|(i, c)| self.catcher(c, jsonata, &format!("{at}/Catch[{i}]")))
                .collect(),
            Some(_) => {
                self.schema(
                    "The value for the field 'Catch' must be an ARRAY",
                    &format!("{at}/Catch"),
                );
                Vec::new()
            }
        };
        self.check_fields(obj, &ty, jsonata, at);

        let kind = match ty.as_str() {
            "Pass" => Kind::Pass {
                result: obj.get("Result").cloned(),
            },
            "Task" => {
                let resource = self.string(obj, "Resource", at);
                match &resource {
                    None => self.schema("The field 'Resource' should be non-null", at),
                    // arn:<partition>:<service>:<region>:<account>:<resource...>
                    Some(r) if !(r.starts_with("arn:") && r.split(':').count() >= 6) => {
                        self.schema(
                            "Value is not a valid resource ARN",
                            &format!("{at}/Resource"),
                        );
                    }
                    Some(_) => {}
                }
                let timeout = self.num_or_path(obj, "TimeoutSeconds", at, true);
                let heartbeat = self.num_or_path(obj, "HeartbeatSeconds", at, true);
                self.at_least(&timeout, "TimeoutSeconds", 1.0, at);
                self.at_least(&heartbeat, "HeartbeatSeconds", 1.0, at);
                if let (Some(NumOrPath::Literal(t)), Some(NumOrPath::Literal(h))) =
                    (&timeout, &heartbeat)
                    && h >= t
                {
                    self.schema(
                        "The value for the field 'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'",
                        &format!("{at}/HeartbeatSeconds"),
                    );
                }
                Kind::Task(TaskState {
                    resource: resource.unwrap_or_default(),
                    timeout,
                    heartbeat,
                    credentials: obj.get("Credentials").cloned(),
                })
            }
            "Choice" if jsonata => {
                let mut rules = Vec::new();
                match obj.get("Choices") {
                    Some(Value::Array(cs)) if !cs.is_empty() => {
                        for (i, c) in cs.iter().enumerate() {
                            if let Some(r) = self.jsonata_rule(c, &format!("{at}/Choices[{i}]")) {
                                rules.push(r);
                            }
                        }
                    }
                    _ => self.schema("The field 'Choices' should be non-empty", at),
                }
                Kind::Choice {
                    choices: Vec::new(),
                    jsonata_rules: rules,
                    default: self.string(obj, "Default", at),
                }
            }
            "Choice" => {
                let choices = match obj.get("Choices") {
                    Some(v @ Value::Array(cs)) if !cs.is_empty() => {
                        let mut ok = true;
                        for (i, c) in cs.iter().enumerate() {
                            if !matches!(c.get("Next"), Some(Value::String(_))) {
                                ok = false;
                                self.schema(
                                    "The field 'Next' should be non-null",
                                    &format!("{at}/Choices[{i}]"),
                                );
                            }
                        }
                        if ok {
                            match compile_choices(v) {
                                Ok(rules) => rules,
                                Err(e) => {
                                    self.schema(e.message, &format!("{at}/Choices"));
                                    Vec::new()
                                }
                            }
                        } else {
                            Vec::new()
                        }
                    }
                    _ => {
                        self.schema("The field 'Choices' should be non-empty", at);
                        Vec::new()
                    }
                };
                Kind::Choice {
                    choices,
                    jsonata_rules: Vec::new(),
                    default: self.string(obj, "Default", at),
                }
            }
            "Wait" => {
                let mut found = Vec::new();
                let seconds_expr = jsonata
                    .then(|| self.expr_field(obj, "Seconds", at))
                    .flatten();
                let timestamp_expr = jsonata
                    .then(|| self.expr_field(obj, "Timestamp", at))
                    .flatten();
                if let Some(e) = seconds_expr {
                    found.push(WaitFor::SecondsExpr(e));
                } else if let Some(n) = self.number(obj, "Seconds", at) {
                    if n.fract() != 0.0 || n < 0.0 {
                        self.schema(
                            "The value for the field 'Seconds' must be a non-negative INTEGER",
                            &format!("{at}/Seconds"),
                        );
                    }
                    found.push(WaitFor::Seconds(n));
                }
                if let Some(s) = self.string(obj, "SecondsPath", at)
                    && let Some(p) = self.field_path("SecondsPath", &s, at, false)
                {
                    found.push(WaitFor::SecondsPath(p));
                }
                if let Some(e) = timestamp_expr {
                    found.push(WaitFor::TimestampExpr(e));
                } else if let Some(s) = self.string(obj, "Timestamp", at) {
                    match asl_eval::timestamp::parse(&s) {
                        Some(t) => found.push(WaitFor::Timestamp(t)),
                        None => self.schema(
                            "The value for the field 'Timestamp' must be a valid ISO-8601 timestamp",
                            &format!("{at}/Timestamp"),
                        ),
                    }
                }
                if let Some(s) = self.string(obj, "TimestampPath", at)
                    && let Some(p) = self.field_path("TimestampPath", &s, at, false)
                {
                    found.push(WaitFor::TimestampPath(p));
                }
                if found.len() != 1 {
                    self.schema(
                        "A Wait state must have exactly one of 'Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'",
                        at,
                    );
                    return None;
                }
                Kind::Wait(found.remove(0))
            }
            "Succeed" => Kind::Succeed,
            "Fail" => Kind::Fail {
                error_expr: jsonata.then(|| self.expr_field(obj, "Error", at)).flatten(),
                cause_expr: jsonata.then(|| self.expr_field(obj, "Cause", at)).flatten(),
                error: self.string(obj, "Error", at),
                error_path: self
                    .string(obj, "ErrorPath", at)
                    .and_then(|p| self.field_path("ErrorPath", &p, at, true)),
                cause: self.string(obj, "Cause", at),
                cause_path: self
                    .string(obj, "CausePath", at)
                    .and_then(|p| self.field_path("CausePath", &p, at, true)),
            },
            "Parallel" => {
                let branches = match obj.get("Branches") {
                    Some(Value::Array(bs)) if !bs.is_empty() => bs
                        .iter()
                        .enumerate()
                        .filter_map(|(i, b)| self.block(b, &format!("{at}/Branches[{i}]"), false))
                        .collect(),
                    _ => {
                        self.schema("The field 'Branches' should be non-empty", at);
                        std::sync::Arc::from(Vec::new())
                    }
                };
                Kind::Parallel { branches }
            }
            "Map" => self.map(obj, jsonata, at)?,
            _ => return None,
        };
        let _ = name;
        Some(State {
            name: name.to_owned(),
            kind,
            transition,
            jsonata,
            io,
            arguments,
            output,
            assign,
            retry,
            catch,
            comment,
        })
    }

    fn map(&mut self, obj: &Map<String, Value>, jsonata: bool, at: &str) -> Option<Kind> {
        let (proc_value, proc_key) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
            (Some(_), Some(_)) => {
                self.schema(
                    "These fields are mutually exclusive: 'ItemProcessor', 'Iterator'",
                    at,
                );
                return None;
            }
            (Some(p), None) => (p, "ItemProcessor"),
            (None, Some(i)) => (i, "Iterator"),
            (None, None) => {
                self.schema("The field 'ItemProcessor' should be non-null", at);
                return None;
            }
        };
        let mode = match proc_value
            .get("ProcessorConfig")
            .and_then(|c| c.get("Mode"))
            .and_then(Value::as_str)
        {
            None | Some("INLINE") => MapMode::Inline,
            Some("DISTRIBUTED") => MapMode::Distributed,
            Some(_) => {
                self.schema(
                    "The value for the field 'Mode' must be one of [INLINE, DISTRIBUTED]",
                    &format!("{at}/{proc_key}/ProcessorConfig/Mode"),
                );
                MapMode::Inline
            }
        };
        let processor = self.block(proc_value, &format!("{at}/{proc_key}"), false)?;
        if obj.contains_key("ItemSelector") && obj.contains_key("Parameters") {
            self.schema(
                "These fields are mutually exclusive: 'ItemSelector', 'Parameters'",
                at,
            );
        }
        Some(Kind::Map(Box::new(MapState {
            processor: Box::new(processor),
            mode,
            items_path: self.path_field(obj, "ItemsPath", at),
            items: if jsonata {
                self.payload(obj, "Items", at)
            } else {
                None
            },
            item_selector_jsonata: if jsonata {
                self.payload(obj, "ItemSelector", at)
            } else {
                None
            },
            item_selector: if jsonata {
                None
            } else if obj.contains_key("ItemSelector") {
                self.template(obj, "ItemSelector", at)
            } else {
                self.template(obj, "Parameters", at)
            },
            max_concurrency: {
                let v = self.num_or_path(obj, "MaxConcurrency", at, true);
                self.at_least(&v, "MaxConcurrency", 0.0, at);
                v
            },
            tolerated_failure_count: {
                let v = self.num_or_path(obj, "ToleratedFailureCount", at, true);
                self.at_least(&v, "ToleratedFailureCount", 0.0, at);
                v
            },
            tolerated_failure_percentage: {
                let v = self.num_or_path(obj, "ToleratedFailurePercentage", at, false);
                self.at_least(&v, "ToleratedFailurePercentage", 0.0, at);
                if let Some(NumOrPath::Literal(p)) = &v
                    && *p > 100.0
                {
                    self.schema(
                        "The value for the field 'ToleratedFailurePercentage' must be <= 100",
                        &format!("{at}/ToleratedFailurePercentage"),
                    );
                }
                v
            },
            item_batcher: obj.get("ItemBatcher").cloned(),
            label: self.string(obj, "Label", at),
        })))
    }

    fn retrier(&mut self, v: &Value, at: &str) -> Option<Retrier> {
        let obj = v.as_object()?;
        let error_equals = self.string_list(obj.get("ErrorEquals"), at);
        let interval_seconds = self.number(obj, "IntervalSeconds", at).unwrap_or(1.0);
        let max_attempts = self.number(obj, "MaxAttempts", at).unwrap_or(3.0);
        let backoff_rate = self.number(obj, "BackoffRate", at).unwrap_or(2.0);
        if backoff_rate < 1.0 {
            self.schema(
                "The value for the field 'BackoffRate' must be >= 1.0",
                &format!("{at}/BackoffRate"),
            );
        }
        if max_attempts < 0.0 {
            self.schema(
                "The value for the field 'MaxAttempts' must be >= 0",
                &format!("{at}/MaxAttempts"),
            );
        }
        let jitter_full = match self.string(obj, "JitterStrategy", at).as_deref() {
            None | Some("NONE") => false,
            Some("FULL") => true,
            Some(_) => {
                self.schema(
                    "The value for the field 'JitterStrategy' must be one of [FULL, NONE]",
                    &format!("{at}/JitterStrategy"),
                );
                false
            }
        };
        Some(Retrier {
            error_equals,
            interval_seconds,
            max_attempts: max_attempts.max(0.0) as u32,
            backoff_rate,
            max_delay_seconds: self.number(obj, "MaxDelaySeconds", at),
            jitter_full,
        })
    }

    fn catcher(&mut self, v: &Value, jsonata: bool, at: &str) -> Option<Catcher> {
        let obj = v.as_object()?;
        let error_equals = self.string_list(obj.get("ErrorEquals"), at);
        let next = self.string(obj, "Next", at);
        if next.is_none() {
            self.schema("The field 'Next' should be non-null", at);
        }
        Some(Catcher {
            error_equals,
            next: next.unwrap_or_default(),
            result_path: self.result_path(obj.get("ResultPath"), &format!("{at}/ResultPath")),
            output: if jsonata {
                self.payload(obj, "Output", at)
            } else {
                None
            },
            assign: self.assign(obj.get("Assign"), jsonata, &format!("{at}/Assign")),
        })
    }

    /// A JSONata payload field (`Arguments`, `Output`, `Items`, ...), compiled.
    fn payload(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Option<Payload> {
        let v = obj.get(key)?;
        match Payload::compile(v) {
            Ok(p) => Some(p),
            Err(e) => {
                self.schema(e.message, &format!("{at}/{key}"));
                None
            }
        }
    }

    /// `"Field": "{% ... %}"`, compiled; `None` when the field is not an expression.
    fn expr_field(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Option<Expr> {
        let Some(Value::String(s)) = obj.get(key) else {
            return None;
        };
        match Expr::parse_field(s)? {
            Ok(e) => Some(e),
            Err(e) => {
                self.schema(e.message, &format!("{at}/{key}"));
                None
            }
        }
    }

    /// `Assign`: an object whose keys are variable names. AWS developer guide,
    /// "Passing data between states with variables": names start with a letter or `_`
    /// and hold letters, digits and `_`; `$states` is reserved.
    fn assign(&mut self, v: Option<&Value>, jsonata: bool, at: &str) -> Option<Assign> {
        let v = v?;
        let Some(obj) = v.as_object() else {
            self.schema("The value for the field 'Assign' must be an OBJECT", at);
            return None;
        };
        for k in obj.keys() {
            let name = if jsonata {
                k.as_str()
            } else {
                k.strip_suffix(".$").unwrap_or(k)
            };
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && name.len() <= 80;
            if !valid || name == "states" {
                self.schema(format!("The variable name '{name}' is invalid"), at);
            }
        }
        let compiled = if jsonata {
            Payload::compile(v).map(Assign::Jsonata)
        } else {
            Template::compile(v).map(Assign::Path)
        };
        match compiled {
            Ok(a) => Some(a),
            Err(e) => {
                self.schema(e.message, at);
                None
            }
        }
    }

    fn jsonata_rule(&mut self, v: &Value, at: &str) -> Option<JsonataRule> {
        let Some(obj) = v.as_object() else {
            self.schema("The Choice rule must be an OBJECT", at);
            return None;
        };
        for k in obj.keys() {
            if !["Condition", "Next", "Assign", "Output", "Comment"].contains(&k.as_str()) {
                self.schema(format!("Field '{k}' is not supported"), at);
            }
        }
        let next = self.string(obj, "Next", at);
        if next.is_none() {
            self.schema("The field 'Next' should be non-null", at);
        }
        let condition = match obj.get("Condition") {
            // A literal boolean is a constant condition (conformance
            // `test_choice_condition_constant_jsonata`); it compiles to `true`/`false`.
            Some(Value::Bool(b)) => match Expr::parse(if *b { "true" } else { "false" }) {
                Ok(e) => Some(e),
                Err(e) => {
                    self.schema(e.message, &format!("{at}/Condition"));
                    None
                }
            },
            Some(Value::String(s)) => match Expr::parse_field(s) {
                Some(Ok(e)) => Some(e),
                Some(Err(e)) => {
                    self.schema(e.message, &format!("{at}/Condition"));
                    None
                }
                None => {
                    self.schema(
                        "The value for the field 'Condition' must be a JSONata expression",
                        &format!("{at}/Condition"),
                    );
                    None
                }
            },
            _ => {
                self.schema("The field 'Condition' should be non-null", at);
                None
            }
        };
        Some(JsonataRule {
            condition: condition?,
            next: next?,
            assign: self.assign(obj.get("Assign"), true, &format!("{at}/Assign")),
            output: self.payload(obj, "Output", at),
        })
    }
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
            json!({"StartAt": "A", "States": {"A": {"Type": "Map", "ItemReader": {}, "ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}, "End": true}}}),
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
