//! What each state type adds to the shared fields: one method per kind.

use asl_eval::choice::compile_choices;
use asl_eval::jsonata::Expr;
use serde_json::{Map, Value};

use super::parser::Parser;
use super::{JsonataRule, Kind, MapMode, MapState, NumOrPath, TaskState, WaitFor};

impl Parser {
    /// A Task state: its resource ARN, timeout and heartbeat.
    pub(super) fn task_kind(&mut self, obj: &Map<String, Value>, at: &str) -> Option<Kind> {
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
        // AWS-validated snapshot test_credentials_base
        // `test_invalid_credentials_field[EMPTY_CREDENTIALS]`: `Credentials: {}`.
        if let Some(c) = obj.get("Credentials") {
            let role = c
                .as_object()
                .is_some_and(|c| c.contains_key("RoleArn") || c.contains_key("RoleArn.$"));
            if !role {
                self.schema(
                    "The field 'RoleArn' is required but was missing",
                    &format!("{at}/Credentials"),
                );
            }
        }
        let timeout = self.num_or_path(obj, "TimeoutSeconds", at, true);
        let heartbeat = self.num_or_path(obj, "HeartbeatSeconds", at, true);
        self.at_least(&timeout, "TimeoutSeconds", 1.0, at);
        self.at_least(&heartbeat, "HeartbeatSeconds", 1.0, at);
        if let (Some(NumOrPath::Literal(t)), Some(NumOrPath::Literal(h))) = (&timeout, &heartbeat)
            && h >= t
        {
            self.schema(
                "The value for the field 'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'",
                &format!("{at}/HeartbeatSeconds"),
            );
        }
        Some(Kind::Task(TaskState {
            resource: resource.unwrap_or_default(),
            timeout,
            heartbeat,
            credentials: obj.get("Credentials").cloned(),
        }))
    }

    /// A JSONata Choice state: its `Condition` rules.
    pub(super) fn jsonata_choice_kind(
        &mut self,
        obj: &Map<String, Value>,
        at: &str,
    ) -> Option<Kind> {
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
        Some(Kind::Choice {
            choices: Vec::new(),
            jsonata_rules: rules,
            default: self.string(obj, "Default", at),
        })
    }

    /// A JSONPath Choice state: its rules, compiled once.
    pub(super) fn choice_kind(&mut self, obj: &Map<String, Value>, at: &str) -> Option<Kind> {
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
                    self.compiled(compile_choices(v), &format!("{at}/Choices"))
                        .unwrap_or_default()
                } else {
                    Vec::new()
                }
            }
            _ => {
                self.schema("The field 'Choices' should be non-empty", at);
                Vec::new()
            }
        };
        Some(Kind::Choice {
            choices,
            jsonata_rules: Vec::new(),
            default: self.string(obj, "Default", at),
        })
    }

    /// A Wait state: exactly one of Seconds, SecondsPath, Timestamp, TimestampPath (or their JSONata forms).
    pub(super) fn wait_kind(
        &mut self,
        obj: &Map<String, Value>,
        jsonata: bool,
        at: &str,
    ) -> Option<Kind> {
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
                // AWS-validated snapshot test_base_scenarios `test_wait_timestamp_invalid[*]`.
                None => {
                    self.schema(
                        "String does not match RFC3339 timestamp",
                        &format!("{at}/Timestamp"),
                    );
                    // The field is there, only wrong: one problem, not a second one
                    // saying the state waits for nothing. The definition is refused anyway.
                    found.push(WaitFor::Seconds(0.0));
                }
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
        Some(Kind::Wait(found.remove(0)))
    }

    /// A Fail state: Error and Cause, as text, paths or JSONata.
    pub(super) fn fail_kind(
        &mut self,
        obj: &Map<String, Value>,
        jsonata: bool,
        at: &str,
    ) -> Option<Kind> {
        Some(Kind::Fail {
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
        })
    }

    /// A Parallel state: its branches, each a states block.
    pub(super) fn parallel_kind(&mut self, obj: &Map<String, Value>, at: &str) -> Option<Kind> {
        let branches = match obj.get("Branches") {
            Some(Value::Array(bs)) if !bs.is_empty() => bs
                .iter()
                .enumerate()
                .filter_map(|(i, b)| self.block(b, &format!("{at}/Branches[{i}]"), false))
                .collect(),
            // AWS's message for `"Branches": []` (LocalStack's AWS-validated snapshot
            // test_state_mock_validation `test_parallel_state_empty_branches`).
            Some(Value::Array(_)) => {
                self.schema("Value cannot be empty", &format!("{at}/Branches"));
                std::sync::Arc::from(Vec::new())
            }
            _ => {
                self.schema("The field 'Branches' should be non-empty", at);
                std::sync::Arc::from(Vec::new())
            }
        };
        Some(Kind::Parallel { branches })
    }

    pub(super) fn map(
        &mut self,
        obj: &Map<String, Value>,
        jsonata: bool,
        at: &str,
    ) -> Option<Kind> {
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
        let item_reader = self.item_reader(obj, jsonata, at);
        let result_writer = self.result_writer(obj, jsonata, at);
        if mode != MapMode::Distributed {
            for k in ["ItemReader", "ResultWriter"] {
                if obj.contains_key(k) {
                    self.schema(
                        format!("Field '{k}' is supported only in DISTRIBUTED mode (ProcessorConfig.Mode)"),
                        at,
                    );
                }
            }
        }
        let label = self.string(obj, "Label", at);
        if let Some(l) = &label {
            self.check_label(l, at);
        }
        Some(Kind::Map(Box::new(MapState {
            item_reader,
            result_writer,
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
            item_batcher: self.item_batcher(obj, jsonata, at),
            label,
        })))
    }

    /// One rule of a JSONata Choice state: `Condition`, `Next`, `Assign`, `Output`.
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
            Some(Value::Bool(b)) => {
                let parsed = Expr::parse(if *b { "true" } else { "false" });
                self.compiled(parsed, &format!("{at}/Condition"))
            }
            Some(Value::String(s)) => match Expr::parse_field(s) {
                Some(parsed) => self.compiled(parsed, &format!("{at}/Condition")),
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
