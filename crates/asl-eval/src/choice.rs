//! Choice rules (JSONPath mode).
//!
//! Contract:
//! * [`compile_choices`] parses a Choice state's `Choices` array into [`ChoiceRule`]s.
//!   Top-level rules need `Next`; rules nested in `And`/`Or`/`Not` must not have one.
//!   A rule is exactly one of: `And` (non-empty array), `Or` (non-empty array), `Not`
//!   (object), or `Variable` plus exactly one comparison operator. Unknown fields,
//!   literal operands of the wrong type (e.g. `NumericEquals: "1"`), invalid timestamps
//!   and invalid paths are [`DefinitionError`]s. Nesting is capped at [`MAX_DEPTH`].
//! * [`choose`] returns the `Next` of the first matching rule (`None`: go to `Default`);
//!   [`choose_rule`] returns the rule itself, whose optional `Assign` (a payload template
//!   in JSONPath mode) the interpreter applies.
//! * Operators: `String|Numeric|Timestamp` `Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals`
//!   and their `...Path` variants, `BooleanEquals[Path]`, `StringMatches`, `IsNull`,
//!   `IsPresent`, `IsNumeric`, `IsString`, `IsBoolean`, `IsTimestamp`.
//!
//! Semantics (checked against the 491 recorded `choice_operators` cases):
//! * A value of the wrong type never matches: `StringEquals` on a number, `NumericEquals`
//!   on `"1"`, `BooleanEquals` on `null`, `TimestampEquals` on a non-timestamp string are
//!   all `false`, not errors. `NumericEquals` compares by value (`1 == 1.0`).
//! * A `Variable` (or `...Path` operand) that selects nothing is a `States.Runtime` error
//!   with AWS's text `Invalid path '$.x': The choice state's condition path references an
//!   invalid value.` (as recorded in real AWS execution failures), except for
//!   `IsPresent`, which is then simply false (`IsPresent: false` is true).
//! * Strings compare like Java's `String.compareTo` (UTF-16 code units).
//! * `StringMatches`: `*` matches any run of characters; `\*` is a literal `*` and `\\`
//!   a literal backslash.
//! * Timestamps: see [`crate::timestamp`]; compared as instants.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::error::{DefinitionError, EvalError};
use crate::jsonpath::JsonPath;
use crate::scope::Scope;
use crate::template::Template;
use crate::timestamp;

/// Maximum nesting of `And`/`Or`/`Not`.
pub const MAX_DEPTH: usize = 64;

/// A boolean condition (a comparison, a type test, or `And`/`Or`/`Not`).
#[derive(Debug, Clone)]
pub struct Condition {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Test { variable: JsonPath, test: Test },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone)]
enum Operand {
    Literal(Value),
    Timestamp(DateTime<FixedOffset>),
    Path(JsonPath),
}

#[derive(Debug, Clone)]
enum Test {
    Compare {
        family: Family,
        rel: Rel,
        operand: Operand,
    },
    Matches(Vec<GlobTok>),
    Is(TypeTest, bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GlobTok {
    Lit(char),
    Star,
}

/// A top-level Choice rule: a condition, the state to go to, and an optional `Assign`.
#[derive(Debug, Clone)]
pub struct ChoiceRule {
    condition: Condition,
    next: String,
    assign: Option<Template>,
}

/// What a parsed rule object holds besides its condition.
struct RuleExtras {
    next: Option<String>,
    assign: Option<Template>,
}

fn comparison(name: &str) -> Option<(Family, Rel, bool)> {
    let (base, is_path) = match name.strip_suffix("Path") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let (family, rest) = if let Some(r) = base.strip_prefix("String") {
        (Family::String, r)
    } else if let Some(r) = base.strip_prefix("Numeric") {
        (Family::Numeric, r)
    } else if let Some(r) = base.strip_prefix("Boolean") {
        (Family::Boolean, r)
    } else if let Some(r) = base.strip_prefix("Timestamp") {
        (Family::Timestamp, r)
    } else {
        return None;
    };
    let rel = match rest {
        "Equals" => Rel::Eq,
        "LessThan" => Rel::Lt,
        "GreaterThan" => Rel::Gt,
        "LessThanEquals" => Rel::Le,
        "GreaterThanEquals" => Rel::Ge,
        _ => return None,
    };
    if family == Family::Boolean && rel != Rel::Eq {
        return None;
    }
    Some((family, rel, is_path))
}

fn type_test(name: &str) -> Option<TypeTest> {
    Some(match name {
        "IsNull" => TypeTest::Null,
        "IsPresent" => TypeTest::Present,
        "IsNumeric" => TypeTest::Numeric,
        "IsString" => TypeTest::String,
        "IsBoolean" => TypeTest::Boolean,
        "IsTimestamp" => TypeTest::Timestamp,
        _ => return None,
    })
}

fn def_err(msg: impl Into<String>) -> DefinitionError {
    DefinitionError::new(msg)
}

fn parse_path(field: &str, v: &Value) -> Result<JsonPath, DefinitionError> {
    let text = v.as_str().ok_or_else(|| {
        def_err(format!(
            "The value of the field '{field}' must be a JSONPath string"
        ))
    })?;
    JsonPath::parse(text).map_err(|e| {
        def_err(format!(
            "The value of the field '{field}' must be a valid JSONPath: {}",
            e.message
        ))
    })
}

fn parse_glob(pattern: &str) -> Vec<GlobTok> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '\\')) => {
                    chars.next();
                    out.push(GlobTok::Lit(n));
                }
                _ => out.push(GlobTok::Lit('\\')),
            },
            '*' => {
                if out.last() != Some(&GlobTok::Star) {
                    out.push(GlobTok::Star);
                }
            }
            c => out.push(GlobTok::Lit(c)),
        }
    }
    out
}

/// Wildcard match with single-star backtracking: O(n*m) worst case, no recursion.
fn glob_match(pat: &[GlobTok], text: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < t.len() {
        match pat.get(p) {
            Some(GlobTok::Lit(c)) if *c == t[i] => {
                p += 1;
                i += 1;
            }
            Some(GlobTok::Star) => {
                star = Some((p, i));
                p += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p.min(pat.len())..].iter().all(|t| *t == GlobTok::Star)
}

impl Condition {
    /// Parses a nested rule (no `Next` allowed).
    pub fn parse(rule: &Value) -> Result<Self, DefinitionError> {
        parse_rule(rule, false, 0).map(|(c, _)| c)
    }

    /// Evaluates the condition.
    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<bool, EvalError> {
        match &self.kind {
            Kind::And(items) => {
                for c in items {
                    if !c.evaluate(scope)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Kind::Or(items) => {
                for c in items {
                    if c.evaluate(scope)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Kind::Not(c) => Ok(!c.evaluate(scope)?),
            Kind::Test { variable, test } => eval_test(variable, test, scope),
        }
    }
}

fn invalid_path(path: &JsonPath) -> EvalError {
    EvalError::runtime(format!(
        "Invalid path '{}': The choice state's condition path references an invalid value.",
        path.as_str()
    ))
}

/// Selects a path for a choice rule; `None` when nothing is there.
fn lookup<'a>(path: &JsonPath, scope: &Scope<'a>) -> Option<Cow<'a, Value>> {
    match path.select(scope) {
        // An indefinite path that matched nothing counts as absent.
        Ok(v) if !path.is_definite() && v.as_array().is_some_and(Vec::is_empty) => None,
        Ok(v) => Some(v),
        Err(_) => None,
    }
}

fn eval_test(variable: &JsonPath, test: &Test, scope: &Scope<'_>) -> Result<bool, EvalError> {
    variable.usable()?;
    let value = lookup(variable, scope);
    if let Test::Is(TypeTest::Present, want) = test {
        return Ok(value.is_some() == *want);
    }
    let value = value.ok_or_else(|| invalid_path(variable))?;
    let value = value.as_ref();
    match test {
        Test::Is(kind, want) => {
            let is = match kind {
                TypeTest::Null => value.is_null(),
                TypeTest::Present => true,
                TypeTest::Numeric => value.is_number(),
                TypeTest::String => value.is_string(),
                TypeTest::Boolean => value.is_boolean(),
                TypeTest::Timestamp => value.as_str().and_then(timestamp::parse).is_some(),
            };
            Ok(is == *want)
        }
        Test::Matches(glob) => Ok(value.as_str().is_some_and(|s| glob_match(glob, s))),
        Test::Compare {
            family,
            rel,
            operand,
        } => {
            let other: Cow<'_, Value>;
            let ord = match operand {
                Operand::Timestamp(t) => {
                    let Some(v) = value.as_str().and_then(timestamp::parse) else {
                        return Ok(false);
                    };
                    Some(v.cmp(t))
                }
                Operand::Literal(lit) => compare(*family, value, lit),
                Operand::Path(p) => {
                    p.usable()?;
                    other = lookup(p, scope).ok_or_else(|| invalid_path(p))?;
                    compare(*family, value, other.as_ref())
                }
            };
            Ok(ord.is_some_and(|o| match rel {
                Rel::Eq => o == Ordering::Equal,
                Rel::Lt => o == Ordering::Less,
                Rel::Gt => o == Ordering::Greater,
                Rel::Le => o != Ordering::Greater,
                Rel::Ge => o != Ordering::Less,
            }))
        }
    }
}

/// Orders two values of a family; `None` when either has the wrong type.
fn compare(family: Family, a: &Value, b: &Value) -> Option<Ordering> {
    match family {
        Family::String => {
            let (a, b) = (a.as_str()?, b.as_str()?);
            Some(a.encode_utf16().cmp(b.encode_utf16()))
        }
        Family::Numeric => {
            let (Value::Number(x), Value::Number(y)) = (a, b) else {
                return None;
            };
            match (x.as_i64(), y.as_i64()) {
                (Some(i), Some(j)) => Some(i.cmp(&j)),
                _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
            }
        }
        Family::Boolean => {
            let (a, b) = (a.as_bool()?, b.as_bool()?);
            Some(a.cmp(&b))
        }
        Family::Timestamp => {
            let (a, b) = (
                timestamp::parse(a.as_str()?)?,
                timestamp::parse(b.as_str()?)?,
            );
            Some(a.cmp(&b))
        }
    }
}

/// Parses one rule; returns the condition and, for top-level rules, `Next` and `Assign`.
fn parse_rule(
    rule: &Value,
    top: bool,
    depth: usize,
) -> Result<(Condition, RuleExtras), DefinitionError> {
    if depth > MAX_DEPTH {
        return Err(def_err(format!(
            "Choice rules are nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let Value::Object(map) = rule else {
        return Err(def_err("A Choice rule must be a JSON object"));
    };
    let mut next = None;
    let mut assign = None;
    let mut variable = None;
    let mut kinds: Vec<Kind> = Vec::new();
    let mut tests: Vec<Test> = Vec::new();
    for (key, val) in map {
        match key.as_str() {
            "Next" => {
                if !top {
                    return Err(def_err(
                        "The field 'Next' is not allowed in a nested Choice rule",
                    ));
                }
                next = Some(
                    val.as_str()
                        .ok_or_else(|| def_err("The field 'Next' must be a string"))?
                        .to_owned(),
                );
            }
            "Comment" => {}
            "Assign" if top => {
                if !val.is_object() {
                    return Err(def_err("The field 'Assign' must be a JSON object"));
                }
                assign = Some(Template::compile(val)?);
            }
            "Variable" => variable = Some(parse_path("Variable", val)?),
            "And" | "Or" => {
                let items = val.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
                    def_err(format!(
                        "The field '{key}' must be a non-empty array of Choice rules"
                    ))
                })?;
                let conds = items
                    .iter()
                    .map(|r| parse_rule(r, false, depth + 1).map(|(c, _)| c))
                    .collect::<Result<Vec<_>, _>>()?;
                kinds.push(if key == "And" {
                    Kind::And(conds)
                } else {
                    Kind::Or(conds)
                });
            }
            "Not" => {
                let (c, _) = parse_rule(val, false, depth + 1)?;
                kinds.push(Kind::Not(Box::new(c)));
            }
            "StringMatches" => {
                let pat = val
                    .as_str()
                    .ok_or_else(|| def_err("The field 'StringMatches' must be a string"))?;
                tests.push(Test::Matches(parse_glob(pat)));
            }
            other => {
                if let Some(t) = type_test(other) {
                    let want = val
                        .as_bool()
                        .ok_or_else(|| def_err(format!("The field '{other}' must be a boolean")))?;
                    tests.push(Test::Is(t, want));
                } else if let Some((family, rel, is_path)) = comparison(other) {
                    let operand = if is_path {
                        Operand::Path(parse_path(other, val)?)
                    } else {
                        literal_operand(other, family, val)?
                    };
                    tests.push(Test::Compare {
                        family,
                        rel,
                        operand,
                    });
                } else {
                    return Err(def_err(format!(
                        "The field \"{other}\" is not supported by Step Functions"
                    )));
                }
            }
        }
    }
    if top && next.is_none() {
        return Err(def_err("A Choice rule must have the field 'Next'"));
    }
    let kind = match (kinds.len(), tests.len(), variable) {
        (1, 0, None) => kinds.remove(0),
        (0, 1, Some(variable)) => Kind::Test {
            variable,
            test: tests.remove(0),
        },
        (0, 1, None) => {
            return Err(def_err(
                "A Choice rule with a comparison must have the field 'Variable'",
            ));
        }
        (0, 0, Some(_)) => {
            return Err(def_err("A Choice rule must have a comparison operator"));
        }
        (0, 0, None) => {
            return Err(def_err(
                "A Choice rule must have a comparison operator, or 'And', 'Or' or 'Not'",
            ));
        }
        _ => {
            return Err(def_err(
                "A Choice rule must have exactly one comparison operator, or exactly one of 'And', 'Or', 'Not' without 'Variable'",
            ));
        }
    };
    Ok((Condition { kind }, RuleExtras { next, assign }))
}

fn literal_operand(op: &str, family: Family, val: &Value) -> Result<Operand, DefinitionError> {
    let bad = |what: &str| def_err(format!("The value of the field '{op}' must be {what}"));
    match family {
        Family::String if val.is_string() => Ok(Operand::Literal(val.clone())),
        Family::String => Err(bad("a string")),
        Family::Numeric if val.is_number() => Ok(Operand::Literal(val.clone())),
        Family::Numeric => Err(bad("a number")),
        Family::Boolean if val.is_boolean() => Ok(Operand::Literal(val.clone())),
        Family::Boolean => Err(bad("a boolean")),
        Family::Timestamp => val
            .as_str()
            .and_then(timestamp::parse)
            .map(Operand::Timestamp)
            .ok_or_else(|| bad("a valid timestamp (e.g. 2016-08-18T17:33:00Z)")),
    }
}

impl ChoiceRule {
    /// Parses a top-level rule (requires `Next`).
    pub fn parse(rule: &Value) -> Result<Self, DefinitionError> {
        let (condition, extras) = parse_rule(rule, true, 0)?;
        let next = extras
            .next
            .ok_or_else(|| def_err("A Choice rule must have the field 'Next'"))?;
        Ok(Self {
            condition,
            next,
            assign: extras.assign,
        })
    }

    /// The state to go to when the rule matches.
    pub fn next(&self) -> &str {
        &self.next
    }

    /// The rule's `Assign` block (JSONPath mode: a payload template), if any. The
    /// interpreter evaluates it when this rule matches.
    pub fn assign(&self) -> Option<&Template> {
        self.assign.as_ref()
    }

    /// The rule's condition.
    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// Evaluates the rule's condition.
    pub fn matches(&self, scope: &Scope<'_>) -> Result<bool, EvalError> {
        self.condition.evaluate(scope)
    }
}

/// Parses a Choice state's `Choices` value (a non-empty array of rules).
pub fn compile_choices(choices: &Value) -> Result<Vec<ChoiceRule>, DefinitionError> {
    let arr = choices
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| def_err("The field 'Choices' must be a non-empty array"))?;
    arr.iter().map(ChoiceRule::parse).collect()
}

/// The `Next` of the first rule that matches, or `None` (go to `Default`).
pub fn choose<'r>(
    rules: &'r [ChoiceRule],
    scope: &Scope<'_>,
) -> Result<Option<&'r str>, EvalError> {
    Ok(choose_rule(rules, scope)?.map(ChoiceRule::next))
}

/// The first rule that matches (to read its `Next` and `Assign`), or `None`.
pub fn choose_rule<'r>(
    rules: &'r [ChoiceRule],
    scope: &Scope<'_>,
) -> Result<Option<&'r ChoiceRule>, EvalError> {
    for rule in rules {
        if rule.matches(scope)? {
            return Ok(Some(rule));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(rule: Value, input: Value) -> Result<bool, EvalError> {
        let ctx = json!({"Execution": {"Input": input.clone()}});
        Condition::parse(&rule)
            .map_err(|e| EvalError::new("Definition", e.message))?
            .evaluate(&Scope::new(&input, &ctx))
    }

    #[test]
    fn comparisons_and_types() {
        assert!(
            eval(
                json!({"Variable": "$.v", "NumericEquals": 1}),
                json!({"v": 1.0})
            )
            .unwrap()
        );
        assert!(
            !eval(
                json!({"Variable": "$.v", "NumericEquals": 1}),
                json!({"v": "1"})
            )
            .unwrap()
        );
        assert!(
            eval(
                json!({"Variable": "$.v", "StringLessThan": "AB"}),
                json!({"v": "A"})
            )
            .unwrap()
        );
        assert!(
            eval(
                json!({"Variable": "$.v", "BooleanEqualsPath": "$.w"}),
                json!({"v": true, "w": true})
            )
            .unwrap()
        );
        assert!(
            !eval(
                json!({"Variable": "$.v", "BooleanEquals": true}),
                json!({"v": null})
            )
            .unwrap()
        );
        assert!(
            eval(
                json!({"Variable": "$.v", "TimestampLessThan": "2012-10-09T19:00:56Z"}),
                json!({"v": "2012-10-09T19:00:55Z"})
            )
            .unwrap()
        );
        assert!(
            !eval(
                json!({"Variable": "$.v", "TimestampEquals": "2012-10-09T19:00:55Z"}),
                json!({"v": "x"})
            )
            .unwrap()
        );
        assert!(
            eval(
                json!({"Variable": "$.v", "IsTimestamp": true}),
                json!({"v": "2012-10-09T19:00:55Z"})
            )
            .unwrap()
        );
        assert!(
            eval(
                json!({"Variable": "$$.Execution.Input.v", "IsNull": true}),
                json!({"v": null})
            )
            .unwrap()
        );
    }

    #[test]
    fn missing_variables() {
        assert!(!eval(json!({"Variable": "$.nope", "IsPresent": true}), json!({})).unwrap());
        assert!(eval(json!({"Variable": "$.nope", "IsPresent": false}), json!({})).unwrap());
        let e = eval(
            json!({"Variable": "$.nope", "StringEquals": "x"}),
            json!({}),
        )
        .unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert_eq!(
            e.cause,
            "Invalid path '$.nope': The choice state's condition path references an invalid value."
        );
        let e = eval(
            json!({"Variable": "$.a", "NumericEqualsPath": "$.b"}),
            json!({"a": 1}),
        )
        .unwrap_err();
        assert!(e.cause.starts_with("Invalid path '$.b'"));
    }

    #[test]
    fn boolean_logic() {
        let rule = json!({"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20}, {"Not": {"Variable": "$.value", "NumericLessThan": 30}}]});
        assert!(eval(rule.clone(), json!({"value": 31})).unwrap());
        assert!(!eval(rule, json!({"value": 22})).unwrap());
        assert!(eval(json!({"Or": [{"Variable": "$.a", "IsString": true}, {"Variable": "$.a", "IsNumeric": true}]}), json!({"a": 1})).unwrap());
    }

    #[test]
    fn string_matches() {
        let m = |p: &str, s: &str| {
            eval(
                json!({"Variable": "$.v", "StringMatches": p}),
                json!({"v": s}),
            )
            .unwrap()
        };
        assert!(m("log-*.txt", "log-2024.txt"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m(r"a\*b", "a*b"));
        assert!(!m(r"a\*b", "aXb"));
        assert!(m(r"a\\*", r"a\anything"));
        assert!(!m("abc", "abcd"));
    }

    #[test]
    fn definition_errors() {
        let bad = [
            json!({"Variable": "$.a", "StringEquals": 1, "Next": "X"}),
            json!({"Variable": "$.a", "NumericEquals": "1", "Next": "X"}),
            json!({"Variable": "$.a", "TimestampEquals": "yesterday", "Next": "X"}),
            json!({"Variable": "$.a", "Unknown": 1, "Next": "X"}),
            json!({"Variable": "$.a", "StringEquals": "x"}),
            json!({"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1, "Next": "X"}),
            json!({"And": [], "Next": "X"}),
            json!({"And": [{"Variable": "$.a", "IsNull": true, "Next": "Y"}], "Next": "X"}),
            json!({"Not": {"Variable": "$.a"}, "Next": "X"}),
            json!({"Variable": "a", "IsNull": true, "Next": "X"}),
            json!({"StringEquals": "x", "Next": "X"}),
            json!({"Variable": "$.a", "BooleanLessThan": true, "Next": "X"}),
            json!({"Variable": "$.a", "IsNull": true, "Next": "X", "Assign": []}),
            json!({"Not": {"Variable": "$.a", "IsNull": true, "Assign": {}}, "Next": "X"}),
        ];
        for rule in bad {
            assert!(
                ChoiceRule::parse(&rule).is_err(),
                "{rule} should be rejected"
            );
        }
        let mut deep = json!({"Variable": "$.a", "IsNull": true});
        for _ in 0..200 {
            deep = json!({ "Not": deep });
        }
        assert!(Condition::parse(&deep).is_err());
        assert!(compile_choices(&json!([])).is_err());
    }

    #[test]
    fn rule_assign() {
        let rule = ChoiceRule::parse(&json!({"Variable": "$.a", "IsNull": true, "Next": "X", "Assign": {"s": "ok", "v.$": "$.a"}})).unwrap();
        let input = json!({"a": null});
        let ctx = json!({});
        let scope = Scope::new(&input, &ctx);
        assert!(rule.matches(&scope).unwrap());
        assert_eq!(
            rule.assign().unwrap().evaluate(&scope).unwrap(),
            json!({"s": "ok", "v": null})
        );
    }

    #[test]
    fn choose_first_match() {
        let rules = compile_choices(&json!([
            {"Variable": "$.x", "NumericEquals": 1, "Next": "One"},
            {"Variable": "$.x", "NumericGreaterThan": 0, "Next": "Positive"}
        ]))
        .unwrap();
        let ctx = json!({});
        let input = json!({"x": 2});
        assert_eq!(
            choose(&rules, &Scope::new(&input, &ctx)).unwrap(),
            Some("Positive")
        );
        let input = json!({"x": -2});
        assert_eq!(choose(&rules, &Scope::new(&input, &ctx)).unwrap(), None);
    }
}
