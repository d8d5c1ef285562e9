//! `Parameters`: types, defaults, `--parameter-overrides`, and the
//! constraints CloudFormation checks before it creates anything.
//!
//! Relied on: CloudFormation User Guide, "Parameters section" (types `String`,
//! `Number`, `List<Number>`, `CommaDelimitedList`; `AllowedPattern` must match
//! the whole value; `AllowedValues`, `MinLength`/`MaxLength` for strings,
//! `MinValue`/`MaxValue` for numbers; "when you use the parameter elsewhere in
//! your template (for example, by using the Ref intrinsic function), the
//! parameter value becomes a string"), and the SAM CLI reference for
//! `sam deploy --parameter-overrides` ("Key=Value" pairs separated by spaces,
//! or the CloudFormation form `ParameterKey=K,ParameterValue=V`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::TemplateError;

/// A parameter's value as `!Ref` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// `String` and `Number` parameters (a `Number` is referenced as a string).
    String(String),
    /// `CommaDelimitedList` and `List<...>` parameters.
    List(Vec<String>),
}

impl ParamValue {
    /// The value as JSON: a string, or an array of strings.
    pub fn to_json(&self) -> Value {
        match self {
            ParamValue::String(s) => Value::String(s.clone()),
            ParamValue::List(items) => {
                Value::Array(items.iter().cloned().map(Value::String).collect())
            }
        }
    }
}

/// Parameter values given on the command line, like
/// `sam deploy --parameter-overrides Key=Value ...`. Later values win.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParameterOverrides {
    values: Vec<(String, String)>,
}

impl ParameterOverrides {
    /// No overrides.
    pub fn new() -> Self {
        ParameterOverrides::default()
    }

    /// Parses arguments as `sam deploy --parameter-overrides` takes them:
    /// each argument holds one or more `Key=Value` pairs separated by spaces
    /// (quote a value that has spaces: `Key="a b"`), or
    /// `ParameterKey=Key,ParameterValue=Value`.
    pub fn parse<I, S>(args: I) -> Result<Self, TemplateError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = ParameterOverrides::new();
        for arg in args {
            for token in split_quoted(arg.as_ref()) {
                let (k, v) = parse_pair(&token)?;
                out.values.push((k, v));
            }
        }
        Ok(out)
    }

    /// Adds one override (builder style).
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.push((name.into(), value.into()));
        self
    }

    /// The value given for `name`, the last one if given twice.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(k, _)| k.as_str())
    }
}

/// Splits on whitespace outside double or single quotes; removes the quotes.
fn split_quoted(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                started = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if started || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn parse_pair(token: &str) -> Result<(String, String), TemplateError> {
    let bad = || TemplateError::BadOverride {
        arg: token.to_owned(),
    };
    if let Some(rest) = token.strip_prefix("ParameterKey=") {
        let (key, value) = rest.split_once(",ParameterValue=").ok_or_else(bad)?;
        if key.is_empty() {
            return Err(bad());
        }
        return Ok((key.to_owned(), value.to_owned()));
    }
    let (key, value) = token.split_once('=').ok_or_else(bad)?;
    if key.is_empty() {
        return Err(bad());
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// Parameter values, and the parameters whose `AllowedPattern` could not be
/// checked (with why).
pub(crate) type Resolved = (BTreeMap<String, ParamValue>, Vec<(String, String)>);

/// Resolves every declared parameter: the override, else the default, then
/// checks the type and constraints.
pub(crate) fn resolve(
    parameters: &Map<String, Value>,
    overrides: &ParameterOverrides,
) -> Result<Resolved, TemplateError> {
    for name in overrides.names() {
        if !parameters.contains_key(name) {
            return Err(TemplateError::UnknownParameter {
                name: name.to_owned(),
                known: parameters.keys().cloned().collect(),
            });
        }
    }
    let mut out = BTreeMap::new();
    let mut unchecked = Vec::new();
    for (name, decl) in parameters {
        let decl = decl
            .as_object()
            .ok_or_else(|| TemplateError::parameter(name, "is not a map with a Type"))?;
        let (value, why) = resolve_one(name, decl, overrides.get(name))?;
        if let Some(why) = why {
            unchecked.push((name.clone(), why));
        }
        out.insert(name.clone(), value);
    }
    Ok((out, unchecked))
}

fn resolve_one(
    name: &str,
    decl: &Map<String, Value>,
    given: Option<&str>,
) -> Result<(ParamValue, Option<String>), TemplateError> {
    let ty = decl
        .get("Type")
        .and_then(Value::as_str)
        .ok_or_else(|| TemplateError::parameter(name, "has no Type (String, Number, ...)"))?;
    let raw = match given {
        Some(v) => v.to_owned(),
        None => match decl.get("Default") {
            Some(d) => scalar_string(d).ok_or_else(|| {
                TemplateError::parameter(name, "has a Default that is not a string or a number")
            })?,
            None => {
                return Err(TemplateError::parameter(
                    name,
                    format!(
                        "has no default: pass --parameter-overrides {name}={}",
                        example(name, ty, decl)
                    ),
                ));
            }
        },
    };
    let kind = Kind::of(ty).ok_or_else(|| {
        TemplateError::parameter(
            name,
            format!(
                "has type {ty}, which is not supported locally; use String, Number, CommaDelimitedList or List<...>"
            ),
        )
    })?;
    let fail = |why: String| {
        let hint = decl
            .get("ConstraintDescription")
            .and_then(Value::as_str)
            .map_or_else(String::new, |c| format!(" ({c})"));
        TemplateError::parameter(
            name,
            format!(
                "value {raw:?} {why}{hint}: pass --parameter-overrides {name}={}",
                example(name, ty, decl)
            ),
        )
    };
    match kind {
        Kind::String => {
            let unchecked = check_string(&raw, decl).map_err(fail)?;
            Ok((ParamValue::String(raw), unchecked))
        }
        Kind::Number => {
            check_number(&raw, decl).map_err(fail)?;
            Ok((ParamValue::String(raw), None))
        }
        Kind::List { numbers } => {
            let items: Vec<String> = if raw.is_empty() {
                Vec::new()
            } else {
                raw.split(',').map(str::to_owned).collect()
            };
            for item in &items {
                if numbers {
                    check_number(item, decl).map_err(&fail)?;
                } else {
                    check_allowed_values(item, decl).map_err(&fail)?;
                }
            }
            Ok((ParamValue::List(items), None))
        }
    }
}

enum Kind {
    String,
    Number,
    List { numbers: bool },
}

impl Kind {
    fn of(ty: &str) -> Option<Kind> {
        match ty {
            "String" => Some(Kind::String),
            "Number" => Some(Kind::Number),
            "CommaDelimitedList" => Some(Kind::List { numbers: false }),
            "List<Number>" => Some(Kind::List { numbers: true }),
            // SSM parameter types need a lookup in the account: not local.
            t if t.starts_with("AWS::SSM::") => None,
            // AWS-specific types (AWS::EC2::VPC::Id, ...) are strings with a
            // check against the account, which local mode cannot do.
            t if t.starts_with("List<") => Some(Kind::List { numbers: false }),
            t if t.starts_with("AWS::") => Some(Kind::String),
            _ => None,
        }
    }
}

/// A value to show in "pass --parameter-overrides NAME=..." hints.
fn example(name: &str, ty: &str, decl: &Map<String, Value>) -> String {
    if let Some(first) = decl
        .get("AllowedValues")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
        .and_then(scalar_string)
    {
        return first;
    }
    if ty == "Number" {
        return decl
            .get("MinValue")
            .and_then(scalar_string)
            .unwrap_or_else(|| "1".to_owned());
    }
    if name.to_ascii_lowercase().contains("email") {
        return "you@example.com".to_owned();
    }
    "<value>".to_owned()
}

pub(crate) fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn check_allowed_values(raw: &str, decl: &Map<String, Value>) -> Result<(), String> {
    if let Some(allowed) = decl.get("AllowedValues").and_then(Value::as_array) {
        let allowed: Vec<String> = allowed.iter().filter_map(scalar_string).collect();
        if !allowed.iter().any(|a| a == raw) {
            return Err(format!(
                "is not one of the AllowedValues {}",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

/// `Ok(Some(why))`: valid as far as it could be checked, but the pattern
/// is not one the `regex` crate compiles (CloudFormation uses Java regular
/// expressions, which have look-around and backreferences).
fn check_string(raw: &str, decl: &Map<String, Value>) -> Result<Option<String>, String> {
    check_allowed_values(raw, decl)?;
    let len = raw.chars().count();
    if let Some(min) = decl.get("MinLength").and_then(as_f64)
        && (len as f64) < min
    {
        return Err(format!("is shorter than MinLength {min}"));
    }
    if let Some(max) = decl.get("MaxLength").and_then(as_f64)
        && (len as f64) > max
    {
        return Err(format!("is longer than MaxLength {max}"));
    }
    if let Some(pattern) = decl.get("AllowedPattern").and_then(Value::as_str) {
        // CloudFormation matches the pattern against the whole value.
        match regex::Regex::new(&format!("^(?:{pattern})$")) {
            Ok(re) if re.is_match(raw) => {}
            Ok(_) => return Err(format!("does not match AllowedPattern {pattern}")),
            Err(e) => {
                let first = e.to_string();
                let first = first.lines().last().unwrap_or_default().trim().to_owned();
                return Ok(Some(format!(
                    "AllowedPattern {pattern} is not checked locally ({first})"
                )));
            }
        }
    }
    Ok(None)
}

fn check_number(raw: &str, decl: &Map<String, Value>) -> Result<(), String> {
    let n: f64 = raw
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite())
        .ok_or_else(|| "is not a number".to_owned())?;
    if let Some(allowed) = decl.get("AllowedValues").and_then(Value::as_array) {
        let ok = allowed
            .iter()
            .filter_map(as_f64)
            .any(|a| (a - n).abs() < f64::EPSILON);
        if !ok {
            let shown: Vec<String> = allowed.iter().filter_map(scalar_string).collect();
            return Err(format!(
                "is not one of the AllowedValues {}",
                shown.join(", ")
            ));
        }
    }
    if let Some(min) = decl.get("MinValue").and_then(as_f64)
        && n < min
    {
        return Err(format!("is less than MinValue {min}"));
    }
    if let Some(max) = decl.get("MaxValue").and_then(as_f64)
        && n > max
    {
        return Err(format!("is greater than MaxValue {max}"));
    }
    Ok(())
}

/// Numbers in constraints may be written as numbers or strings.
fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decls(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn err(r: Result<Resolved, TemplateError>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn overrides_parse_like_sam_deploy() -> Result<(), TemplateError> {
        let o = ParameterOverrides::parse([
            "A=1 B='x y'",
            "ParameterKey=C,ParameterValue=a,b",
            "D=k=v",
            "E=",
        ])?;
        assert_eq!(o.get("A"), Some("1"));
        assert_eq!(o.get("B"), Some("x y"));
        assert_eq!(o.get("C"), Some("a,b"));
        assert_eq!(o.get("D"), Some("k=v"));
        assert_eq!(o.get("E"), Some(""));
        assert_eq!(o.clone().with("A", "2").get("A"), Some("2"));
        let e = ParameterOverrides::parse(["novalue"])
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("not Key=Value")));
        let e = ParameterOverrides::parse(["=x"])
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("not Key=Value")));
        Ok(())
    }

    #[test]
    fn defaults_overrides_and_types() -> Result<(), TemplateError> {
        let d = decls(json!({
            "S": {"Type": "String", "Default": "a"},
            "N": {"Type": "Number", "Default": 259200},
            "L": {"Type": "CommaDelimitedList", "Default": "x,y"},
            "E": {"Type": "String", "Default": ""},
        }));
        let (v, _) = resolve(&d, &ParameterOverrides::new())?;
        assert_eq!(v["S"], ParamValue::String("a".into()));
        assert_eq!(v["N"], ParamValue::String("259200".into()));
        assert_eq!(v["L"], ParamValue::List(vec!["x".into(), "y".into()]));
        assert_eq!(v["E"], ParamValue::String(String::new()));
        let (v, _) = resolve(&d, &ParameterOverrides::new().with("N", "2"))?;
        assert_eq!(v["N"].to_json(), json!("2"));
        Ok(())
    }

    #[test]
    fn missing_value_says_what_to_pass() {
        let d = decls(json!({"ReviewerEmail": {"Type": "String"}}));
        assert_eq!(
            err(resolve(&d, &ParameterOverrides::new())),
            "parameter ReviewerEmail has no default: pass --parameter-overrides ReviewerEmail=you@example.com"
        );
    }

    #[test]
    fn unknown_override_names_the_known_parameters() {
        let d = decls(
            json!({"A": {"Type": "String", "Default": ""}, "B": {"Type": "String", "Default": ""}}),
        );
        assert_eq!(
            err(resolve(&d, &ParameterOverrides::new().with("C", "x"))),
            "unknown parameter C in --parameter-overrides; the template's parameters are: A, B"
        );
    }

    #[test]
    fn string_constraints() {
        let d = decls(json!({"P": {
            "Type": "String", "Default": "ok",
            "AllowedPattern": "^[a-z]+$|^$", "MinLength": 1, "MaxLength": 3,
            "ConstraintDescription": "lower case"
        }}));
        let e = err(resolve(&d, &ParameterOverrides::new().with("P", "ABC")));
        assert!(e.contains("does not match AllowedPattern"), "{e}");
        assert!(e.contains("(lower case)"), "{e}");
        assert!(e.contains("pass --parameter-overrides P="), "{e}");
        let e = err(resolve(&d, &ParameterOverrides::new().with("P", "abcd")));
        assert!(e.contains("longer than MaxLength 3"), "{e}");
        let e = err(resolve(&d, &ParameterOverrides::new().with("P", "")));
        assert!(e.contains("shorter than MinLength 1"), "{e}");
        // The pattern must match the whole value, not a part of it.
        let d = decls(json!({"P": {"Type": "String", "AllowedPattern": "[a-z]+"}}));
        assert!(resolve(&d, &ParameterOverrides::new().with("P", "ab1")).is_err());
        assert!(resolve(&d, &ParameterOverrides::new().with("P", "ab")).is_ok());
        let d = decls(json!({"P": {"Type": "String", "AllowedValues": ["dev", "prod"]}}));
        let e = err(resolve(&d, &ParameterOverrides::new().with("P", "x")));
        assert!(e.contains("AllowedValues dev, prod"), "{e}");
        assert!(e.contains("P=dev"), "{e}");
    }

    #[test]
    fn number_constraints() {
        let d = decls(
            json!({"N": {"Type": "Number", "Default": 5, "MinValue": 1, "MaxValue": 31449600}}),
        );
        let e = err(resolve(&d, &ParameterOverrides::new().with("N", "0")));
        assert!(e.contains("less than MinValue 1"), "{e}");
        assert!(e.contains("N=1"), "{e}");
        let e = err(resolve(
            &d,
            &ParameterOverrides::new().with("N", "31449601"),
        ));
        assert!(e.contains("greater than MaxValue"), "{e}");
        let e = err(resolve(&d, &ParameterOverrides::new().with("N", "soon")));
        assert!(e.contains("is not a number"), "{e}");
        let d = decls(json!({"L": {"Type": "List<Number>", "Default": "1,x"}}));
        assert!(err(resolve(&d, &ParameterOverrides::new())).contains("not a number"));
    }

    #[test]
    fn patterns_rust_cannot_compile_are_reported_not_fatal() -> Result<(), TemplateError> {
        let d = decls(
            json!({"P": {"Type": "String", "Default": "ab", "AllowedPattern": "(?!x)[a-z]+"}}),
        );
        let (v, unchecked) = resolve(&d, &ParameterOverrides::new())?;
        assert_eq!(v["P"], ParamValue::String("ab".into()));
        assert_eq!(unchecked.len(), 1);
        assert!(
            unchecked[0]
                .1
                .starts_with("AllowedPattern (?!x)[a-z]+ is not checked locally"),
            "{unchecked:?}"
        );
        Ok(())
    }

    #[test]
    fn unsupported_type_is_an_error() {
        let d =
            decls(json!({"P": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/x"}}));
        assert!(err(resolve(&d, &ParameterOverrides::new())).contains("not supported locally"));
        let d = decls(json!({"P": {"Default": "x"}}));
        assert!(err(resolve(&d, &ParameterOverrides::new())).contains("has no Type"));
    }
}
