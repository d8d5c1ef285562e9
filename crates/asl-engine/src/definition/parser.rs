//! Reading a states block and the fields every state shares, with AWS's
//! `SCHEMA_VALIDATION_FAILED` messages.

use std::collections::BTreeMap;

use asl_eval::fieldpath::FieldPath;
use asl_eval::jsonata::{Expr, Payload};
use asl_eval::jsonpath::ReferencePath;
use asl_eval::template::Template;
use serde_json::{Map, Value};

use super::{
    Assign, Catcher, Definition, Diagnostic, Io, JsonataRule, Kind, NumOrPath, PathField,
    ResultPathField, Retrier, State, Transition,
};

pub(super) const STATE_TYPES: &[&str] = &[
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

pub(super) struct Parser {
    pub(super) problems: Vec<Diagnostic>,
    /// What AWS accepts but this engine does not run: CreateStateMachine refuses it
    /// here, ValidateStateMachineDefinition (which answers as AWS) does not.
    pub(super) unsupported: Vec<Diagnostic>,
    /// The machine's top-level `QueryLanguage` is JSONata.
    pub(super) jsonata_default: bool,
}

impl Parser {
    pub(super) fn schema(&mut self, what: impl std::fmt::Display, at: &str) {
        self.problems.push(Diagnostic::error(
            "SCHEMA_VALIDATION_FAILED",
            what.to_string(),
            at,
        ));
    }

    /// An optional array field (`Retry`, `Catch`), each element read by `read` at
    /// `<at>/<key>[i]`; a field that is not an array is reported and reads as empty.
    pub(super) fn array<T>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
        mut read: impl FnMut(&mut Self, &Value, &str) -> Option<T>,
    ) -> Vec<T> {
        match obj.get(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| read(self, item, &format!("{at}/{key}[{i}]")))
                .collect(),
            Some(_) => {
                self.schema(
                    format!("The value for the field '{key}' must be an ARRAY"),
                    &format!("{at}/{key}"),
                );
                Vec::new()
            }
        }
    }

    /// Something AWS accepts but this engine does not run (S3 item readers and result writers).
    pub(super) fn unsupported_here(&mut self, field: &str, what: &str, at: &str) {
        self.unsupported.push(Diagnostic::error(
            "SCHEMA_VALIDATION_FAILED",
            format!("Field '{field}' ({what}) is not supported by sfn-local yet"),
            at,
        ));
    }

    /// AWS refuses fields a state type does not support: "Field 'X' is not supported".
    /// JSONata states take `Arguments`/`Output` instead of JSONPath's `InputPath`,
    /// `Parameters`, `ResultSelector`, `ResultPath`, `OutputPath` and `*Path` fields
    /// (developer guide, "Transforming data with JSONata": the JSONPath fields are not
    /// allowed in JSONata states, and `Output`/`Arguments` not in JSONPath states).
    pub(super) fn check_fields(
        &mut self,
        obj: &Map<String, Value>,
        ty: &str,
        jsonata: bool,
        at: &str,
    ) {
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

    pub(super) fn string(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Option<String> {
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

    pub(super) fn number(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Option<f64> {
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

    pub(super) fn field_path(
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

    pub(super) fn path_field(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> PathField {
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

    pub(super) fn result_path(&mut self, v: Option<&Value>, at: &str) -> ResultPathField {
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

    pub(super) fn template(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Option<Template> {
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

    pub(super) fn at_least(&mut self, v: &Option<NumOrPath>, key: &str, min: f64, at: &str) {
        if let Some(NumOrPath::Literal(n)) = v
            && *n < min
        {
            self.schema(
                format!("The value for the field '{key}' must be >= {min}"),
                &format!("{at}/{key}"),
            );
        }
    }

    pub(super) fn num_or_path(
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

    pub(super) fn string_list(&mut self, v: Option<&Value>, at: &str) -> Vec<String> {
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
    pub(super) fn block(&mut self, value: &Value, at: &str, top: bool) -> Option<Definition> {
        let Some(obj) = value.as_object() else {
            if top {
                // AWS: no location (LocalStack's AWS-validated snapshot
                // test_sfn_api_validation `test_validate_state_machine_definition_not_a_definition[EMPTY_STRING]`).
                self.problems.push(Diagnostic {
                    location: None,
                    ..Diagnostic::error(
                        "SCHEMA_VALIDATION_FAILED",
                        "Definition must be a valid JSON object",
                        at,
                    )
                });
            } else {
                self.schema("The value must be a JSON object", at);
            }
            return None;
        };
        // One problem naming every missing field, States first (AWS-validated snapshot
        // test_sfn_api_validation `..._not_a_definition[EMPTY_DICT]`: `{}` gives
        // `These fields are required: [States, StartAt]` at `/`).
        let missing: Vec<&str> = ["States", "StartAt"]
            .into_iter()
            .filter(|k| !obj.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            self.schema(
                format!("These fields are required: [{}]", missing.join(", ")),
                at,
            );
        }
        let start_at = self.string(obj, "StartAt", at);
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
                        self.problems.push(Diagnostic::error(
                            "INVALID_STATE_NAME",
                            format!("State name '{name}' is invalid"),
                            &sat,
                        ));
                    }
                    if let Some(st) = self.state(name, sv, &sat) {
                        states.insert(name.clone(), st);
                    }
                }
            }
            Some(_) => self.schema("The field 'States' must be an OBJECT", &states_at),
            None => {}
        }
        let start_at = start_at.unwrap_or_default();
        if !states.is_empty() && !start_at.is_empty() && !states.contains_key(&start_at) {
            self.problems.push(Diagnostic::error(
                "MISSING_TRANSITION_TARGET",
                format!("Missing 'Next' target: {start_at}"),
                &format!("{at}/StartAt"),
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
                    self.problems.push(Diagnostic::error(
                        "MISSING_TRANSITION_TARGET",
                        format!("Missing 'Next' target: {t}"),
                        &tat,
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
                    self.problems.push(Diagnostic::error(
                        "MISSING_TRANSITION_TARGET",
                        format!("State \"{name}\" is not reachable."),
                        &format!("{states_at}/{name}"),
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
            self.problems.push(Diagnostic::error(
                "MISSING_END_STATE",
                "Workflow has no terminal state",
                &states_at,
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

    pub(super) fn state(&mut self, name: &str, value: &Value, at: &str) -> Option<State> {
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
            // AWS's wording and order (AWS-validated snapshot
            // test_test_state_machine_scenarios `test_state_name_invalid_state_definition`).
            self.schema(
                "The field 'Type' should have one of these values: \
                 [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]",
                &format!("{at}/Type"),
            );
            return None;
        }
        let comment = self.string(obj, "Comment", at);
        // A state's own QueryLanguage wins over the machine's (AWS developer guide,
        // "Transforming data with JSONata": QueryLanguage at the top level and per state).
        let jsonata = match obj.get("QueryLanguage").and_then(Value::as_str) {
            Some("JSONata") => true,
            // A machine that is JSONata as a whole has no JSONPath state; a JSONPath
            // state inside a JSONata Map of a JSONPath machine is fine (AWS-validated
            // snapshot test_sfn_api_validation `[INVALID_DOWNGRADE_QUERY_LANGUAGE]` and
            // `[VALID_QUERY_LANGUAGE_PASS]`).
            Some("JSONPath") if self.jsonata_default => {
                self.schema(
                    "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                    at,
                );
                false
            }
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

        let retry = self.array(obj, "Retry", at, |p, r, rat| p.retrier(r, rat));
        let catch = self.array(obj, "Catch", at, |p, c, cat| p.catcher(c, jsonata, cat));
        self.check_fields(obj, &ty, jsonata, at);

        let kind = match ty.as_str() {
            "Pass" => Kind::Pass {
                result: obj.get("Result").cloned(),
            },
            "Task" => self.task_kind(obj, at)?,
            "Choice" if jsonata => self.jsonata_choice_kind(obj, at)?,
            "Choice" => self.choice_kind(obj, at)?,
            "Wait" => self.wait_kind(obj, jsonata, at)?,
            "Succeed" => Kind::Succeed,
            "Fail" => self.fail_kind(obj, jsonata, at)?,
            "Parallel" => self.parallel_kind(obj, at)?,
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

    pub(super) fn retrier(&mut self, v: &Value, at: &str) -> Option<Retrier> {
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

    pub(super) fn catcher(&mut self, v: &Value, jsonata: bool, at: &str) -> Option<Catcher> {
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
    pub(super) fn payload(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Option<Payload> {
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
    pub(super) fn expr_field(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Option<Expr> {
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
    pub(super) fn assign(&mut self, v: Option<&Value>, jsonata: bool, at: &str) -> Option<Assign> {
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

    pub(super) fn jsonata_rule(&mut self, v: &Value, at: &str) -> Option<JsonataRule> {
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
