//! Reading a states block (its fields, transition targets, reachability) and what
//! every state has whatever its type (type, query language, `Next`/`End`, I/O
//! fields, `Assign`, `Retry`, `Catch`), with AWS's `SCHEMA_VALIDATION_FAILED`
//! messages. The field readers are in `fields`; what each type adds, in `kinds`.

use std::collections::BTreeMap;

use asl_eval::DefinitionError;
use serde_json::{Map, Value};

use super::{Definition, Diagnostic, Io, Kind, State, Transition};

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

    /// What compiled, or `None` with the compile error reported at `at`.
    pub(super) fn compiled<T>(&mut self, r: Result<T, DefinitionError>, at: &str) -> Option<T> {
        match r {
            Ok(t) => Some(t),
            Err(e) => {
                self.schema(e.message, at);
                None
            }
        }
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
            for (t, field) in targets(st) {
                if !states.contains_key(t) {
                    self.problems.push(Diagnostic::error(
                        "MISSING_TRANSITION_TARGET",
                        format!("Missing 'Next' target: {t}"),
                        &format!("{states_at}/{name}{field}"),
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
                    todo.extend(targets(st).into_iter().map(|(t, _)| t.to_owned()));
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
}

/// The states `st` may go to, each with the field that names it (`/Next`,
/// `/Catch[0]/Next`, `/Default`, `/Choices[0]/Next`), in the order their problems are listed.
fn targets(st: &State) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    if let Some(Transition::Next(n)) = &st.transition {
        out.push((n.as_str(), "/Next".to_owned()));
    }
    for (i, c) in st.catch.iter().enumerate() {
        out.push((c.next.as_str(), format!("/Catch[{i}]/Next")));
    }
    if let Kind::Choice {
        choices,
        jsonata_rules,
        default,
    } = &st.kind
    {
        if let Some(d) = default {
            out.push((d.as_str(), "/Default".to_owned()));
        }
        for (i, c) in choices.iter().enumerate() {
            out.push((c.next(), format!("/Choices[{i}]/Next")));
        }
        for (i, c) in jsonata_rules.iter().enumerate() {
            out.push((c.next.as_str(), format!("/Choices[{i}]/Next")));
        }
    }
    out
}
