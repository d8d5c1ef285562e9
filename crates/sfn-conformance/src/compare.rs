//! How a value recorded on AWS is compared with the endpoint's: pure functions, no I/O.
//!
//! The recorded values went through LocalStack's snapshot library, which replaced volatile
//! values by tokens (`111111111111`, `<region>`, `<ArnPart_0idx>`, `<uuid:1>`, `date`, the
//! test's own masks). A [`Matcher`] undoes that for one execution: it knows the names the
//! runner used and the account, region and partition of the endpoint's execution ARN.
//! The rules are those of `conformance/README.md` ("How a recorded value is compared").
//! Each function answers `Ok(())` or `Err(what differed)`, the first difference found.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde_json::{Map, Value};

/// The ISO-8601 pattern the snapshot library replaced by `date` (localstack_snapshot's
/// `PATTERN_ISO8601`): calendar-valid dates, a time, optional fraction, a zone.
const ISO8601: &str = concat!(
    r"(?:[1-9]\d{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)",
    r"|(?:[1-9]\d(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)-02-29)",
    r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:Z|[+-][01]\d:?(?:[0-5]\d)?)",
);
/// Any `<...>` placeholder: inside a string, one that is not bound matches any text
/// (another execution's name, a masked id).
const ANGLE_TOKEN: &str = r"<[A-Za-z0-9_\-:.]+>";
/// The account the recordings were made in, as the snapshot library rewrote it.
pub(crate) const RECORDING_ACCOUNT: &str = "111111111111";
/// Whole values the snapshot library wrote for masked timestamps: they match any value.
const FULL_MASKS: [&str; 3] = ["date", "datetime", "timestamp"];
/// Response metadata some recordings kept inside event details; never compared.
const DROP_KEYS: [&str; 2] = ["SdkHttpMetadata", "SdkResponseMetadata"];
/// Event-detail fields that carry JSON as text: compared parsed, as they were recorded.
const JSON_TEXT_FIELDS: [&str; 3] = ["input", "output", "parameters"];

/// What one execution was run with: what the bound placeholders stand for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Names {
    pub(crate) partition: String,
    pub(crate) region: String,
    pub(crate) account: String,
    pub(crate) state_machine_name: String,
    pub(crate) execution_name: String,
    pub(crate) role_arn: String,
}

impl Names {
    fn role(&self, role: &str) -> Option<&str> {
        match role {
            "state_machine_name" => Some(&self.state_machine_name),
            "execution_name" => Some(&self.execution_name),
            "role_arn" => Some(&self.role_arn),
            "partition" => Some(&self.partition),
            "region" => Some(&self.region),
            "account" => Some(&self.account),
            _ => None,
        }
    }
}

/// The recorded values of one case, compared with one execution's.
#[derive(Debug)]
pub(crate) struct Matcher {
    masks: BTreeSet<String>,
    /// placeholder -> what it stands for (`None`: a role this runner does not know, any text)
    bound: BTreeMap<String, Option<String>>,
    /// splits a recorded string into literal text and tokens
    splitter: Regex,
    numbered: Regex,
}

impl Matcher {
    /// `bindings`: placeholder -> role (`state_machine_name`, `execution_name`, `role_arn`);
    /// `masks`: tokens that match any value (or, inside a string, any text).
    pub(crate) fn new(
        bindings: &BTreeMap<String, String>,
        masks: &[String],
        names: &Names,
    ) -> Result<Self, regex::Error> {
        let mut bound: BTreeMap<String, Option<String>> = bindings
            .iter()
            .map(|(token, role)| (token.clone(), names.role(role).map(str::to_owned)))
            .collect();
        bound.insert("<region>".into(), Some(names.region.clone()));
        bound.insert("<partition>".into(), Some(names.partition.clone()));
        bound.insert(RECORDING_ACCOUNT.into(), Some(names.account.clone()));
        let masks: BTreeSet<String> = masks.iter().cloned().collect();
        let mut tokens: Vec<&str> = bound
            .keys()
            .chain(masks.iter())
            .map(String::as_str)
            .chain(["date"])
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // Longest first, so that `<ExecArnPart_10idx>` is not read as a shorter token.
        tokens.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        let mut alternatives: Vec<String> = tokens
            .iter()
            .map(|t| {
                // A mask like `<json-input:` stands for the numbered tokens `<json-input:3>`.
                if t.starts_with('<') && t.ends_with(':') {
                    format!(r"{}\d+>", regex::escape(t))
                } else {
                    regex::escape(t)
                }
            })
            .collect();
        alternatives.push(ANGLE_TOKEN.to_owned());
        Ok(Self {
            masks,
            bound,
            splitter: Regex::new(&alternatives.join("|"))?,
            numbered: Regex::new(r"^<[A-Za-z0-9_\-.]+:\d+>$")?,
        })
    }

    /// A recorded string that stands for any value at all.
    fn full_mask(&self, recorded: &str) -> bool {
        FULL_MASKS.contains(&recorded)
            || self.masks.contains(recorded)
            || self.numbered.is_match(recorded)
    }

    /// Whether `actual` is the recorded string with its tokens replaced by what they stand
    /// for (a bound name, a timestamp for `date`, any text for the rest).
    fn string_matches(&self, recorded: &str, actual: &str) -> bool {
        let mut pattern = String::from("(?s)^(?:");
        let mut last = 0;
        let mut tokens = 0;
        for m in self.splitter.find_iter(recorded) {
            tokens += 1;
            pattern.push_str(&regex::escape(&recorded[last..m.start()]));
            last = m.end();
            let token = m.as_str();
            match self.bound.get(token) {
                Some(Some(value)) => pattern.push_str(&regex::escape(value)),
                Some(None) if token == RECORDING_ACCOUNT => pattern.push_str(r"\d{12}"),
                Some(None) => pattern.push_str(".*?"),
                None if token == "date" => {
                    pattern.push_str("(?:date|");
                    pattern.push_str(ISO8601);
                    pattern.push(')');
                }
                None => pattern.push_str(".*?"),
            }
        }
        if tokens == 0 {
            // Plain text: only equality could match, and the caller checked it.
            return false;
        }
        pattern.push_str(&regex::escape(&recorded[last..]));
        pattern.push_str(")$");
        // A pattern too large to compile cannot be told to match: a difference.
        Regex::new(&pattern).is_ok_and(|rx| rx.is_match(actual))
    }

    /// Compares a recorded value with the endpoint's; `path` names where, for the message.
    pub(crate) fn values(
        &self,
        recorded: &Value,
        actual: &Value,
        path: &str,
    ) -> Result<(), String> {
        let differ = || {
            Err(format!(
                "{path}: expected {} got {}",
                short(recorded),
                short(actual)
            ))
        };
        match recorded {
            Value::String(r) => {
                if self.full_mask(r) {
                    return Ok(());
                }
                match actual {
                    Value::String(a) if a == r || self.string_matches(r, a) => Ok(()),
                    _ => differ(),
                }
            }
            // The snapshot library parsed JSON-looking strings (a `cause` holding JSON):
            // a structured recorded value is compared with the parsed text.
            Value::Object(_) | Value::Array(_) if actual.is_string() => {
                match actual.as_str().map(serde_json::from_str::<Value>) {
                    Some(Ok(parsed)) => self.values(recorded, &parsed, path),
                    _ => differ(),
                }
            }
            Value::Object(r) => {
                let Value::Object(a) = actual else {
                    return Err(format!("{path}: expected an object got {}", short(actual)));
                };
                let missing: Vec<&String> = r.keys().filter(|k| !a.contains_key(*k)).collect();
                let unexpected: Vec<&String> = a.keys().filter(|k| !r.contains_key(*k)).collect();
                if !missing.is_empty() || !unexpected.is_empty() {
                    return Err(format!(
                        "{path}: keys differ (missing {}, unexpected {})",
                        first_keys(missing),
                        first_keys(unexpected)
                    ));
                }
                r.iter()
                    .try_for_each(|(k, v)| self.values(v, &a[k], &format!("{path}.{k}")))
            }
            Value::Array(r) => {
                let Value::Array(a) = actual else {
                    return Err(format!("{path}: expected an array got {}", short(actual)));
                };
                if r.len() != a.len() {
                    return Err(format!(
                        "{path}: array length {} != expected {}",
                        a.len(),
                        r.len()
                    ));
                }
                r.iter()
                    .zip(a)
                    .enumerate()
                    .try_for_each(|(i, (r, a))| self.values(r, a, &format!("{path}[{i}]")))
            }
            // serde_json keeps booleans and numbers apart: `true` never equals `1`.
            Value::Bool(r) if actual.as_bool() == Some(*r) => Ok(()),
            // By value, as AWS's Jackson does not keep `1` and `1.0` apart in outputs.
            Value::Number(r) if actual.is_number() && r.as_f64() == actual.as_f64() => Ok(()),
            Value::Null if actual.is_null() => Ok(()),
            _ => differ(),
        }
    }

    /// The final outcome: status, then the output (SUCCEEDED) or the error and cause.
    pub(crate) fn outcome(&self, expected: &Value, actual: &Outcome) -> Result<(), String> {
        let status = expected["status"].as_str().unwrap_or_default();
        if actual.status != status {
            let extra = match actual.status.as_str() {
                "FAILED" => format!(
                    " ({}: {})",
                    actual.error.as_deref().unwrap_or("no error"),
                    short(&Value::from(actual.cause.as_deref().unwrap_or_default()))
                ),
                "SUCCEEDED" if status == "FAILED" => {
                    format!(" (expected {})", short(&expected["error"]))
                }
                _ => String::new(),
            };
            return Err(format!(
                "status: expected {status} got {}{extra}",
                actual.status
            ));
        }
        if status == "SUCCEEDED" {
            return match &actual.output {
                ActualOutput::NotJson(text) => Err(format!(
                    "output is not JSON: {}",
                    short(&Value::from(text.as_str()))
                )),
                ActualOutput::Json(v) => self.values(&expected["output"], v, "output"),
                ActualOutput::Absent => self.values(&expected["output"], &Value::Null, "output"),
            };
        }
        for (key, got) in [("error", &actual.error), ("cause", &actual.cause)] {
            match (expected.get(key), got) {
                (Some(r), Some(a)) => self.values(r, &Value::from(a.as_str()), key)?,
                (Some(r), None) => {
                    return Err(format!("{key}: expected {} got <absent>", short(r)));
                }
                (None, Some(a)) => {
                    return Err(format!(
                        "{key}: expected <absent> got {}",
                        short(&Value::from(a.as_str()))
                    ));
                }
                (None, None) => {}
            }
        }
        Ok(())
    }

    /// Per-event details. `sequential`: event by event, ids included. `concurrent` (Map,
    /// Parallel): each recorded event, in turn, takes the first unused event of its type
    /// that matches; ids are ignored, their order not being deterministic.
    pub(crate) fn history(
        &self,
        recorded: &[Value],
        actual: &[Value],
        order: Order,
    ) -> Result<(), String> {
        let recorded: Vec<Value> = recorded.iter().map(strip_metadata).collect();
        if recorded.len() != actual.len() {
            return Err(format!(
                "{} events, expected {}",
                actual.len(),
                recorded.len()
            ));
        }
        if order == Order::Sequential {
            return recorded
                .iter()
                .zip(actual)
                .enumerate()
                .try_for_each(|(i, (r, a))| self.values(r, a, &format!("events[{i}]")));
        }
        let without_ids = |e: &Value| -> Value {
            match e {
                Value::Object(m) => Value::Object(
                    m.iter()
                        .filter(|(k, _)| *k != "id" && *k != "previousEventId")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
                other => other.clone(),
            }
        };
        let actual: Vec<Value> = actual.iter().map(without_ids).collect();
        let mut used = vec![false; actual.len()];
        for (i, r) in recorded.iter().map(without_ids).enumerate() {
            let mut first_why = None;
            let mut hit = false;
            for (j, a) in actual.iter().enumerate() {
                if used[j] || a.get("type") != r.get("type") {
                    continue;
                }
                match self.values(&r, a, &format!("events[{i}]")) {
                    Ok(()) => {
                        used[j] = true;
                        hit = true;
                        break;
                    }
                    Err(why) => {
                        first_why.get_or_insert(why);
                    }
                }
            }
            if !hit {
                return Err(first_why.unwrap_or_else(|| {
                    format!(
                        "no actual {} event for expected events[{i}]",
                        r.get("type").and_then(Value::as_str).unwrap_or("?")
                    )
                }));
            }
        }
        Ok(())
    }
}

/// How a case's history is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Sequential,
    /// Map or Parallel: event order and ids vary from run to run.
    Concurrent,
}

/// What DescribeExecution answered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    pub(crate) status: String,
    pub(crate) output: ActualOutput,
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ActualOutput {
    Absent,
    Json(Value),
    NotJson(String),
}

/// The event types: in order (`sequential`), or the same multiset with the same first
/// and last event (`concurrent`).
pub(crate) fn history_types(
    recorded: &[String],
    actual: &[String],
    order: Order,
) -> Result<(), String> {
    if order == Order::Sequential {
        if recorded == actual {
            return Ok(());
        }
        if let Some((i, (r, a))) = recorded
            .iter()
            .zip(actual)
            .enumerate()
            .find(|(_, (r, a))| r != a)
        {
            return Err(format!("event {}: expected {r} got {a}", i + 1));
        }
        let n = recorded.len().min(actual.len());
        let first_extra = actual.get(n).or(recorded.get(n)).map_or("", String::as_str);
        return Err(format!(
            "{} events, expected {} (first extra/missing: {first_extra})",
            actual.len(),
            recorded.len()
        ));
    }
    let count = |types: &[String]| {
        let mut m: BTreeMap<String, i64> = BTreeMap::new();
        for t in types {
            *m.entry(t.clone()).or_default() += 1;
        }
        m
    };
    let (r, a) = (count(recorded), count(actual));
    if recorded.first() == actual.first() && recorded.last() == actual.last() && r == a {
        return Ok(());
    }
    let diff: Vec<String> = r
        .keys()
        .chain(a.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter_map(|k| {
            let d = a.get(k).copied().unwrap_or(0) - r.get(k).copied().unwrap_or(0);
            (d != 0).then(|| format!("{k}{d:+}"))
        })
        .collect();
    if diff.is_empty() {
        Err("first/last event differ".into())
    } else {
        Err(format!("event multiset differs: {}", diff.join(", ")))
    }
}

/// An event from GetExecutionHistory as the recordings hold it: no `timestamp`, the JSON
/// text of `input`/`output`/`parameters` parsed (left as text when it is not JSON), no
/// response metadata.
pub(crate) fn normalise_event(event: &Value) -> Value {
    let Value::Object(fields) = event else {
        return event.clone();
    };
    let mut out = Map::new();
    for (k, v) in fields {
        if k == "timestamp" {
            continue;
        }
        let v = match v {
            Value::Object(details) if k.ends_with("EventDetails") => {
                let mut details = details.clone();
                for f in JSON_TEXT_FIELDS {
                    let parsed = details
                        .get(f)
                        .and_then(Value::as_str)
                        .and_then(|t| serde_json::from_str::<Value>(t).ok());
                    if let Some(parsed) = parsed {
                        details.insert(f.to_owned(), parsed);
                    }
                }
                strip_metadata(&Value::Object(details))
            }
            other => other.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

fn strip_metadata(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !DROP_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), strip_metadata(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_metadata).collect()),
        other => other.clone(),
    }
}

fn first_keys(mut keys: Vec<&String>) -> String {
    keys.sort();
    keys.truncate(5);
    format!("{keys:?}")
}

/// A value for a message: its JSON, cut to 90 characters.
pub(crate) fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 90 {
        return s;
    }
    let mut cut: String = s.chars().take(87).collect();
    cut.push_str("...");
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> Names {
        Names {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account: "000000000042".into(),
            state_machine_name: "statemachine_1a2b3c4d".into(),
            execution_name: "run-7".into(),
            role_arn: "arn:aws:iam::000000000042:role/r".into(),
        }
    }

    fn matcher(masks: &[&str]) -> Matcher {
        let bindings = BTreeMap::from([
            ("<ArnPart_0idx>".to_owned(), "state_machine_name".to_owned()),
            ("<ExecArnPart_0idx>".to_owned(), "execution_name".to_owned()),
            ("snf_role_arn".to_owned(), "role_arn".to_owned()),
        ]);
        let masks: Vec<String> = masks.iter().map(|m| (*m).to_owned()).collect();
        Matcher::new(&bindings, &masks, &names()).expect("patterns compile")
    }

    fn ok(m: &Matcher, recorded: Value, actual: Value) {
        assert_eq!(
            m.values(&recorded, &actual, "$"),
            Ok(()),
            "{recorded} vs {actual}"
        );
    }

    fn differs(m: &Matcher, recorded: Value, actual: Value) -> String {
        m.values(&recorded, &actual, "$")
            .expect_err(&format!("{recorded} must not match {actual}"))
    }

    #[test]
    fn given_the_recording_placeholders_when_the_endpoint_uses_its_own_names_then_they_match() {
        let m = matcher(&[]);
        ok(
            &m,
            json!(
                "arn:<partition>:states:<region>:111111111111:execution:<ArnPart_0idx>:<ExecArnPart_0idx>"
            ),
            json!("arn:aws:states:eu-west-1:000000000042:execution:statemachine_1a2b3c4d:run-7"),
        );
        ok(
            &m,
            json!("snf_role_arn"),
            json!("arn:aws:iam::000000000042:role/r"),
        );
        ok(
            &m,
            json!(["a", "<ExecArnPart_0idx>"]),
            json!(["a", "run-7"]),
        );
        // Bound placeholders stand for these names only, not for any text.
        differs(
            &m,
            json!("arn:<partition>:states:<region>:111111111111:stateMachine:<ArnPart_0idx>"),
            json!("arn:aws:states:eu-west-1:000000000042:stateMachine:other"),
        );
        differs(&m, json!("111111111111"), json!("000000000043"));
        differs(&m, json!("x-<region>"), json!("x-us-east-1"));
        // An unbound placeholder (another execution's name) matches any text.
        ok(
            &m,
            json!("exec:<ExecArnPart_5idx>:end"),
            json!("exec:whatever-name:end"),
        );
        differs(
            &m,
            json!("exec:<ExecArnPart_5idx>:end"),
            json!("exec:whatever-name:END"),
        );
    }

    #[test]
    fn given_masks_when_compared_then_they_match_any_value_or_any_text() {
        let m = matcher(&["RandomNumberGenerated", "<json-input:", "date"]);
        ok(&m, json!("RandomNumberGenerated"), json!(42));
        ok(
            &m,
            json!("<uuid:1>"),
            json!("5f0c7d1e-0000-4000-8000-000000000000"),
        );
        ok(&m, json!("<json-input:3>"), json!({"any": "thing"}));
        ok(&m, json!("datetime"), json!(1_700_000_000));
        ok(&m, json!("n=RandomNumberGenerated!"), json!("n=17!"));
        ok(
            &m,
            json!("in <json-input:2> out"),
            json!("in {\"a\":1} out"),
        );
        differs(&m, json!("n=RandomNumberGenerated!"), json!("n=17?"));
    }

    #[test]
    fn given_date_inside_a_string_then_only_an_iso_timestamp_or_the_word_matches() {
        let m = matcher(&[]);
        ok(&m, json!("at date"), json!("at 2024-02-29T23:59:59.123Z"));
        ok(&m, json!("at date"), json!("at 2025-01-31T10:00:00+01:00"));
        ok(&m, json!("at date"), json!("at date"));
        differs(&m, json!("at date"), json!("at 2025-02-29T10:00:00Z"));
        differs(&m, json!("at date"), json!("at yesterday"));
        // The whole value `date` is a mask: it matches anything.
        ok(&m, json!("date"), json!(12));
    }

    #[test]
    fn given_json_values_then_numbers_by_value_objects_by_keys_arrays_in_order() {
        let m = matcher(&[]);
        ok(&m, json!(1), json!(1.0));
        ok(
            &m,
            json!({"a": 1, "b": [1, 2]}),
            json!({"b": [1.0, 2], "a": 1}),
        );
        ok(&m, json!(null), json!(null));
        differs(&m, json!(true), json!(1));
        differs(&m, json!(1), json!(true));
        differs(&m, json!(1), json!("1"));
        differs(&m, json!(null), json!({}));
        differs(&m, json!([1, 2]), json!([2, 1]));
        differs(&m, json!([1, 2]), json!([1, 2, 2]));
        let why = differs(&m, json!({"a": {"b": 1}}), json!({"a": {"b": 2}}));
        assert!(why.starts_with("$.a.b: expected 1 got 2"), "{why}");
        let why = differs(&m, json!({"a": 1}), json!({"a": 1, "c": 2}));
        assert!(why.contains("unexpected [\"c\"]"), "{why}");
    }

    #[test]
    fn given_a_recorded_object_when_the_endpoint_answers_json_text_then_the_text_is_parsed() {
        let m = matcher(&[]);
        ok(
            &m,
            json!({"errorMessage": "boom", "n": 1}),
            json!("{\"n\":1.0,\"errorMessage\":\"boom\"}"),
        );
        ok(&m, json!([1, "x"]), json!("[1,\"x\"]"));
        differs(&m, json!({"a": 1}), json!("{\"a\":2}"));
        differs(&m, json!({"a": 1}), json!("not json"));
        // The other way round: a recorded string is never parsed.
        differs(&m, json!("{\"a\":1}"), json!({"a": 1}));
    }

    fn outcome(
        status: &str,
        output: ActualOutput,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Outcome {
        Outcome {
            status: status.into(),
            output,
            error: error.map(Into::into),
            cause: cause.map(Into::into),
        }
    }

    #[test]
    fn given_an_outcome_then_status_output_error_and_cause_all_count() {
        let m = matcher(&[]);
        let expected = json!({"status": "SUCCEEDED", "output": {"x": 1}});
        let good = outcome(
            "SUCCEEDED",
            ActualOutput::Json(json!({"x": 1.0})),
            None,
            None,
        );
        assert_eq!(m.outcome(&expected, &good), Ok(()));
        let changed = outcome("SUCCEEDED", ActualOutput::Json(json!({"x": 2})), None, None);
        assert!(m.outcome(&expected, &changed).is_err());
        let text = outcome("SUCCEEDED", ActualOutput::NotJson("{x".into()), None, None);
        assert!(m.outcome(&expected, &text).is_err());
        let failed = outcome("FAILED", ActualOutput::Absent, Some("E"), None);
        let why = m.outcome(&expected, &failed).expect_err("status differs");
        assert!(
            why.starts_with("status: expected SUCCEEDED got FAILED (E:"),
            "{why}"
        );

        let expected =
            json!({"status": "FAILED", "error": "States.Runtime", "cause": "at <ArnPart_0idx>"});
        let good = outcome(
            "FAILED",
            ActualOutput::Absent,
            Some("States.Runtime"),
            Some("at statemachine_1a2b3c4d"),
        );
        assert_eq!(m.outcome(&expected, &good), Ok(()));
        let no_cause = outcome("FAILED", ActualOutput::Absent, Some("States.Runtime"), None);
        assert!(m.outcome(&expected, &no_cause).is_err());
        let expected = json!({"status": "FAILED", "error": "E"});
        let extra_cause = outcome("FAILED", ActualOutput::Absent, Some("E"), Some("why"));
        assert!(m.outcome(&expected, &extra_cause).is_err());
    }

    #[test]
    fn given_event_types_then_sequential_needs_the_order_and_concurrent_the_multiset() {
        let t = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let recorded = t(&[
            "ExecutionStarted",
            "MapStateEntered",
            "PassStateEntered",
            "TaskStateEntered",
            "ExecutionSucceeded",
        ]);
        let swapped = t(&[
            "ExecutionStarted",
            "MapStateEntered",
            "TaskStateEntered",
            "PassStateEntered",
            "ExecutionSucceeded",
        ]);
        assert_eq!(
            history_types(&recorded, &recorded, Order::Sequential),
            Ok(())
        );
        let why = history_types(&recorded, &swapped, Order::Sequential).expect_err("order differs");
        assert_eq!(
            why,
            "event 3: expected PassStateEntered got TaskStateEntered"
        );
        assert_eq!(
            history_types(&recorded, &swapped, Order::Concurrent),
            Ok(())
        );
        let mut longer = recorded.clone();
        longer.insert(2, "PassStateEntered".into());
        assert!(history_types(&recorded, &longer, Order::Sequential).is_err());
        let why = history_types(&recorded, &longer, Order::Concurrent).expect_err("one more event");
        assert_eq!(why, "event multiset differs: PassStateEntered+1");
        let mut last_moved = swapped.clone();
        last_moved.swap(3, 4);
        assert_eq!(
            history_types(&recorded, &last_moved, Order::Concurrent),
            Err("first/last event differ".into())
        );
    }

    #[test]
    fn given_events_then_details_compare_and_concurrent_ignores_order_and_ids() {
        let m = matcher(&[]);
        let raw = [
            json!({"id": 1, "previousEventId": 0, "timestamp": 1.7e9, "type": "ExecutionStarted",
                   "executionStartedEventDetails": {"input": "{\"a\":1}", "roleArn": "arn:aws:iam::000000000042:role/r",
                                                    "SdkHttpMetadata": {"x": 1}}}),
            json!({"id": 2, "previousEventId": 1, "timestamp": 1.7e9, "type": "PassStateEntered",
                   "stateEnteredEventDetails": {"name": "A", "input": "not json"}}),
        ];
        let actual: Vec<Value> = raw.iter().map(normalise_event).collect();
        assert_eq!(
            actual[0]["executionStartedEventDetails"],
            json!({"input": {"a": 1}, "roleArn": "arn:aws:iam::000000000042:role/r"})
        );
        assert_eq!(
            actual[1]["stateEnteredEventDetails"]["input"],
            json!("not json")
        );
        assert!(actual[0].get("timestamp").is_none());
        let recorded = vec![
            json!({"id": 1, "previousEventId": 0, "type": "ExecutionStarted",
                   "executionStartedEventDetails": {"input": {"a": 1}, "roleArn": "snf_role_arn"}}),
            json!({"id": 2, "previousEventId": 1, "type": "PassStateEntered",
                   "stateEnteredEventDetails": {"name": "A", "input": "not json"}}),
        ];
        assert_eq!(m.history(&recorded, &actual, Order::Sequential), Ok(()));
        let reversed: Vec<Value> = actual.iter().rev().cloned().collect();
        assert!(m.history(&recorded, &reversed, Order::Sequential).is_err());
        assert_eq!(m.history(&recorded, &reversed, Order::Concurrent), Ok(()));
        let mut changed = actual.clone();
        changed[1]["stateEnteredEventDetails"]["name"] = json!("B");
        assert!(m.history(&recorded, &changed, Order::Concurrent).is_err());
        assert!(
            m.history(&recorded, &actual[..1], Order::Concurrent)
                .is_err()
        );
    }
}
