//! Subscription filter policies: which subscriptions get a published message.
//!
//! Pure: [`FilterPolicy::parse`] checks a policy as `Subscribe` and
//! `SetSubscriptionAttributes` do, and [`FilterPolicy::matches`] decides one
//! message. Written by hand because no maintained crate evaluates SNS filter
//! policies (EventBridge-pattern crates match a different event shape).
//!
//! Semantics, from the SNS developer guide ("Amazon SNS subscription filter
//! policies", "String value matching", "Numeric value matching", "Key
//! matching", "AND/OR logic", "Filter policy constraints"):
//! - A policy is a JSON object. Every key must match (AND); within a key's
//!   array, one condition is enough (OR); `"$or": [policy, ...]` matches when
//!   one of the policies does.
//! - Scope `MessageAttributes` (the default) reads message attributes, and a
//!   key's value must be an array of conditions. Scope `MessageBody` reads the
//!   message as a JSON object, and keys may nest objects to reach inner
//!   properties.
//! - Conditions: a string (exact), a number (numeric equality), `null` and
//!   booleans (body properties), `{"prefix"}`, `{"suffix"}`,
//!   `{"equals-ignore-case"}`, `{"anything-but": value | [values] |
//!   {"prefix"} | {"suffix"}}`, `{"numeric": [op, n, ...]}` with `=`, `<`,
//!   `<=`, `>`, `>=`, `{"exists": bool}` and `{"cidr": "a.b.c.d/n"}`.
//! - A `String.Array` attribute (or a body array) matches when one of its
//!   elements does, so `anything-but` on `[100, 50]` matches because of 50.
//!   Strings only match string conditions and numbers numeric ones: `"100"`
//!   never matches the number 100. `Binary` attributes are never matched,
//!   except by `exists`.
//! - Every condition but `{"exists": false}` needs the key to be there.
//! - Constraints checked: at most 5 keys in MessageAttributes scope, at most
//!   150 combinations of values across the policy (the product of each key's
//!   value count, summed over `$or` branches), at most 256 KB of JSON.
//!
//! Not modelled: the limit of nesting depth in body scope, and numeric
//! precision (SNS compares to 5 decimal places within ±1e9; this compares
//! `f64`s).

use std::net::IpAddr;

use serde_json::Value;

use crate::message::MessageAttributeValue;

/// Largest policy SNS accepts, in bytes.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;
/// Most keys a MessageAttributes policy may name.
pub const MAX_ATTRIBUTE_KEYS: usize = 5;
/// Most value combinations a policy may have.
pub const MAX_COMBINATIONS: usize = 150;

/// What a policy reads: `FilterPolicyScope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Message attributes (the default).
    #[default]
    MessageAttributes,
    /// The message, read as a JSON object.
    MessageBody,
}

impl Scope {
    /// Reads a `FilterPolicyScope` value.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "MessageAttributes" => Ok(Self::MessageAttributes),
            "MessageBody" => Ok(Self::MessageBody),
            other => Err(format!(
                "FilterPolicyScope: Invalid filter policy scope: {other}; use MessageAttributes or MessageBody"
            )),
        }
    }

    /// The attribute's text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessageAttributes => "MessageAttributes",
            Self::MessageBody => "MessageBody",
        }
    }
}

/// A checked filter policy.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPolicy {
    scope: Scope,
    rule: Rule,
}

/// Every clause must match.
#[derive(Debug, Clone, PartialEq)]
struct Rule(Vec<Clause>);

#[derive(Debug, Clone, PartialEq)]
enum Clause {
    /// The property at this path matches one of the conditions.
    Key {
        path: Vec<String>,
        conditions: Vec<Condition>,
    },
    /// One of the rules matches.
    Or(Vec<Rule>),
}

#[derive(Debug, Clone, PartialEq)]
enum Condition {
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    AnythingBut(AnythingBut),
    Numeric(Vec<(Op, f64)>),
    Exists(bool),
    Cidr(Cidr),
}

#[derive(Debug, Clone, PartialEq)]
enum AnythingBut {
    Values(Vec<Scalar>),
    Prefix(String),
    Suffix(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
struct Cidr {
    network: IpAddr,
    bits: u8,
}

/// One value a message carries under a key.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
}

impl FilterPolicy {
    /// Parses and checks a policy as SNS does on `Subscribe` and
    /// `SetSubscriptionAttributes`. The error is the reason, for an
    /// `Invalid parameter: FilterPolicy: <reason>` message.
    pub fn parse(text: &str, scope: Scope) -> Result<Self, String> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(format!(
                "Filter policy is too long ({} bytes; at most {MAX_POLICY_BYTES})",
                text.len()
            ));
        }
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("failed to parse JSON. {e}"))?;
        let Value::Object(_) = value else {
            return Err("Filter policy must be a JSON object".to_owned());
        };
        let rule = parse_rule(&value, scope, &[])?;
        if scope == Scope::MessageAttributes {
            let keys = rule.max_keys();
            if keys > MAX_ATTRIBUTE_KEYS {
                return Err(format!(
                    "Filter policy can not have more than {MAX_ATTRIBUTE_KEYS} keys (it has {keys})"
                ));
            }
        }
        let combinations = rule.combinations();
        if combinations > MAX_COMBINATIONS {
            return Err(format!(
                "Filter policy is too complex: {combinations} combinations of values; at most {MAX_COMBINATIONS}"
            ));
        }
        Ok(Self { scope, rule })
    }

    /// The policy's scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Whether a message with these attributes and this body is delivered.
    pub fn matches(
        &self,
        attributes: &std::collections::BTreeMap<String, MessageAttributeValue>,
        message: &str,
    ) -> bool {
        match self.scope {
            Scope::MessageAttributes => self
                .rule
                .matches(&|path: &[String]| attribute_values(attributes, path)),
            Scope::MessageBody => {
                let Ok(body @ Value::Object(_)) = serde_json::from_str::<Value>(message) else {
                    // A body that is not a JSON object has no properties to match.
                    return self.rule.matches(&|_: &[String]| None);
                };
                self.rule
                    .matches(&|path: &[String]| body_values(&body, path))
            }
        }
    }
}

fn parse_rule(value: &Value, scope: Scope, prefix: &[String]) -> Result<Rule, String> {
    let Value::Object(object) = value else {
        return Err("Filter policy must be a JSON object".to_owned());
    };
    let mut clauses = Vec::new();
    for (key, value) in object {
        if key == "$or" {
            let Value::Array(branches) = value else {
                return Err("$or must be a list of filter policies".to_owned());
            };
            if branches.len() < 2 {
                return Err("$or needs at least two filter policies".to_owned());
            }
            let rules = branches
                .iter()
                .map(|branch| parse_rule(branch, scope, prefix))
                .collect::<Result<Vec<_>, _>>()?;
            clauses.push(Clause::Or(rules));
            continue;
        }
        let mut path = prefix.to_vec();
        path.push(key.clone());
        match value {
            Value::Array(conditions) => {
                if conditions.is_empty() {
                    return Err(format!("Empty arrays are not allowed (key {key})"));
                }
                let conditions = conditions
                    .iter()
                    .map(|c| parse_condition(c, key))
                    .collect::<Result<Vec<_>, _>>()?;
                clauses.push(Clause::Key { path, conditions });
            }
            Value::Object(_) if scope == Scope::MessageBody => {
                clauses.extend(parse_rule(value, scope, &path)?.0);
            }
            Value::Object(_) => {
                return Err(format!(
                    "Nested filter policies need FilterPolicyScope MessageBody (key {key})"
                ));
            }
            _ => {
                return Err(format!(
                    "Match value must be a JSON array of conditions (key {key})"
                ));
            }
        }
    }
    Ok(Rule(clauses))
}

fn parse_condition(value: &Value, key: &str) -> Result<Condition, String> {
    match value {
        Value::String(text) => Ok(Condition::Text(text.clone())),
        Value::Number(n) => Ok(Condition::Number(number(n)?)),
        Value::Bool(b) => Ok(Condition::Bool(*b)),
        Value::Null => Ok(Condition::Null),
        Value::Array(_) => Err(format!(
            "Match value must be a string, number, boolean, null or an operator object, not an array (key {key})"
        )),
        Value::Object(object) => {
            let mut entries = object.iter();
            let (Some((operator, operand)), None) = (entries.next(), entries.next()) else {
                return Err(format!(
                    "An operator object must have exactly one operator (key {key})"
                ));
            };
            parse_operator(operator, operand, key)
        }
    }
}

fn parse_operator(operator: &str, operand: &Value, key: &str) -> Result<Condition, String> {
    let text = |what: &str| -> Result<String, String> {
        match operand {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(format!(
                "{what} match pattern must be a non-empty string (key {key})"
            )),
        }
    };
    match operator {
        "prefix" => Ok(Condition::Prefix(text("prefix")?)),
        "suffix" => Ok(Condition::Suffix(text("suffix")?)),
        "equals-ignore-case" => Ok(Condition::EqualsIgnoreCase(text("equals-ignore-case")?)),
        "exists" => match operand {
            Value::Bool(b) => Ok(Condition::Exists(*b)),
            _ => Err(format!(
                "exists match pattern must be either true or false (key {key})"
            )),
        },
        "cidr" => {
            let Value::String(s) = operand else {
                return Err(format!("cidr match pattern must be a string (key {key})"));
            };
            parse_cidr(s)
                .map(Condition::Cidr)
                .ok_or_else(|| format!("Malformed CIDR, one '/' required (key {key}): {s}"))
        }
        "numeric" => parse_numeric(operand, key).map(Condition::Numeric),
        "anything-but" => parse_anything_but(operand, key).map(Condition::AnythingBut),
        other => Err(format!("Unrecognized match type {other} (key {key})")),
    }
}

fn parse_anything_but(operand: &Value, key: &str) -> Result<AnythingBut, String> {
    let scalar = |v: &Value| -> Result<Scalar, String> {
        match v {
            Value::String(s) => Ok(Scalar::Text(s.clone())),
            Value::Number(n) => Ok(Scalar::Number(number(n)?)),
            _ => Err(format!(
                "anything-but list elements must be strings or numbers (key {key})"
            )),
        }
    };
    match operand {
        Value::Array(values) if values.is_empty() => {
            Err(format!("Empty arrays are not allowed (key {key})"))
        }
        Value::Array(values) => values
            .iter()
            .map(scalar)
            .collect::<Result<_, _>>()
            .map(AnythingBut::Values),
        Value::Object(object) => {
            let mut entries = object.iter();
            match (entries.next(), entries.next()) {
                (Some((op, Value::String(s))), None) if op == "prefix" && !s.is_empty() => {
                    Ok(AnythingBut::Prefix(s.clone()))
                }
                (Some((op, Value::String(s))), None) if op == "suffix" && !s.is_empty() => {
                    Ok(AnythingBut::Suffix(s.clone()))
                }
                _ => Err(format!(
                    "anything-but takes a value, a list of values, or one prefix or suffix (key {key})"
                )),
            }
        }
        other => scalar(other).map(|s| AnythingBut::Values(vec![s])),
    }
}

fn parse_numeric(operand: &Value, key: &str) -> Result<Vec<(Op, f64)>, String> {
    let Value::Array(items) = operand else {
        return Err(format!("Value of numeric must be an array (key {key})"));
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err(format!(
            "numeric takes one or two operator and number pairs (key {key})"
        ));
    }
    let mut out = Vec::new();
    for pair in items.chunks(2) {
        let op = match pair[0].as_str() {
            Some("=") => Op::Eq,
            Some("<") => Op::Lt,
            Some("<=") => Op::Le,
            Some(">") => Op::Gt,
            Some(">=") => Op::Ge,
            _ => {
                return Err(format!(
                    "Unrecognized numeric range operator: {} (key {key})",
                    pair[0]
                ));
            }
        };
        let Value::Number(n) = &pair[1] else {
            return Err(format!("Value of {} must be numeric (key {key})", pair[0]));
        };
        out.push((op, number(n)?));
    }
    // A range is a lower bound then an upper bound ("numeric": [">", 0, "<=", 150]).
    if let [(lower, low), (upper, high)] = out.as_slice() {
        let lower_ok = matches!(lower, Op::Gt | Op::Ge);
        let upper_ok = matches!(upper, Op::Lt | Op::Le);
        if !lower_ok || !upper_ok || low > high {
            return Err(format!(
                "Bad numeric range: a lower bound (>, >=) then a higher upper bound (<, <=) (key {key})"
            ));
        }
    }
    Ok(out)
}

fn number(n: &serde_json::Number) -> Result<f64, String> {
    n.as_f64().ok_or_else(|| format!("Invalid number {n}"))
}

fn parse_cidr(text: &str) -> Option<Cidr> {
    let (address, bits) = text.split_once('/')?;
    let network: IpAddr = address.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if network.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some(Cidr { network, bits })
}

impl Cidr {
    fn contains(&self, address: &str) -> bool {
        let Ok(address) = address.parse::<IpAddr>() else {
            return false;
        };
        let (net, addr, width) = match (self.network, address) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                (u128::from(u32::from(n)), u128::from(u32::from(a)), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
            _ => return false,
        };
        let shift = width - u32::from(self.bits);
        shift >= 128 || (net >> shift) == (addr >> shift)
    }
}

impl Rule {
    fn matches(&self, values: &dyn Fn(&[String]) -> Option<Vec<Scalar>>) -> bool {
        self.0.iter().all(|clause| match clause {
            Clause::Or(rules) => rules.iter().any(|rule| rule.matches(values)),
            Clause::Key { path, conditions } => {
                let found = values(path);
                conditions
                    .iter()
                    .any(|condition| condition.matches(found.as_deref()))
            }
        })
    }

    /// The largest number of keys one alternative of the policy names.
    fn max_keys(&self) -> usize {
        let mut plain = 0;
        let mut widest_or = 0;
        for clause in &self.0 {
            match clause {
                Clause::Key { .. } => plain += 1,
                Clause::Or(rules) => {
                    widest_or += rules.iter().map(Rule::max_keys).max().unwrap_or(0);
                }
            }
        }
        plain + widest_or
    }

    /// Combinations: the product of each key's condition count; `$or` sums its branches.
    fn combinations(&self) -> usize {
        self.0.iter().fold(1usize, |acc, clause| {
            let n = match clause {
                Clause::Key { conditions, .. } => conditions.len(),
                Clause::Or(rules) => rules.iter().map(Rule::combinations).sum(),
            };
            acc.saturating_mul(n)
        })
    }
}

impl Condition {
    /// `found` is `None` when the key is absent, else the values it carries
    /// (empty for a `Binary` attribute, which only `exists` can match).
    fn matches(&self, found: Option<&[Scalar]>) -> bool {
        match (self, found) {
            (Self::Exists(wanted), found) => *wanted == found.is_some(),
            (_, None) => false,
            (condition, Some(values)) => values.iter().any(|value| condition.matches_value(value)),
        }
    }

    fn matches_value(&self, value: &Scalar) -> bool {
        match (self, value) {
            (Self::Text(want), Scalar::Text(got)) => want == got,
            (Self::Number(want), Scalar::Number(got)) => want == got,
            (Self::Bool(want), Scalar::Bool(got)) => want == got,
            (Self::Null, Scalar::Null) => true,
            (Self::Prefix(p), Scalar::Text(got)) => got.starts_with(p.as_str()),
            (Self::Suffix(s), Scalar::Text(got)) => got.ends_with(s.as_str()),
            (Self::EqualsIgnoreCase(want), Scalar::Text(got)) => {
                want.to_lowercase() == got.to_lowercase()
            }
            (Self::Numeric(ops), Scalar::Number(got)) => ops.iter().all(|(op, n)| match op {
                Op::Eq => got == n,
                Op::Lt => got < n,
                Op::Le => got <= n,
                Op::Gt => got > n,
                Op::Ge => got >= n,
            }),
            (Self::Cidr(cidr), Scalar::Text(got)) => cidr.contains(got),
            (Self::AnythingBut(but), value) => match (but, value) {
                (AnythingBut::Values(values), value) => !values.contains(value),
                (AnythingBut::Prefix(p), Scalar::Text(got)) => !got.starts_with(p.as_str()),
                (AnythingBut::Suffix(s), Scalar::Text(got)) => !got.ends_with(s.as_str()),
                _ => false,
            },
            _ => false,
        }
    }
}

/// The values of the attribute at `path` (one segment in this scope).
fn attribute_values(
    attributes: &std::collections::BTreeMap<String, MessageAttributeValue>,
    path: &[String],
) -> Option<Vec<Scalar>> {
    let [name] = path else { return None };
    let attribute = attributes.get(name)?;
    // Custom types ("String.currency", "Number.float") filter as their base type.
    let base = attribute.data_type.split('.').next().unwrap_or_default();
    let text = attribute.string_value.as_deref().unwrap_or_default();
    Some(match base {
        "String" if attribute.data_type == "String.Array" => {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Array(items)) => items.iter().filter_map(scalar_of).collect(),
                _ => Vec::new(),
            }
        }
        "String" => vec![Scalar::Text(text.to_owned())],
        "Number" => text
            .trim()
            .parse::<f64>()
            .map(Scalar::Number)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    })
}

/// The values of the body property at `path`; arrays on the way are flattened.
fn body_values(body: &Value, path: &[String]) -> Option<Vec<Scalar>> {
    let mut current = vec![body];
    for segment in path {
        let mut next = Vec::new();
        for value in current {
            match value {
                Value::Object(object) => next.extend(object.get(segment)),
                Value::Array(items) => {
                    next.extend(items.iter().filter_map(|item| item.get(segment)))
                }
                _ => {}
            }
        }
        if next.is_empty() {
            return None;
        }
        current = next;
    }
    let mut out = Vec::new();
    for value in current {
        match value {
            Value::Array(items) => out.extend(items.iter().filter_map(scalar_of)),
            other => out.extend(scalar_of(other)),
        }
    }
    Some(out)
}

fn scalar_of(value: &Value) -> Option<Scalar> {
    match value {
        Value::String(s) => Some(Scalar::Text(s.clone())),
        Value::Number(n) => n.as_f64().map(Scalar::Number),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Null => Some(Scalar::Null),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn attrs(pairs: &[(&str, &str, &str)]) -> BTreeMap<String, MessageAttributeValue> {
        pairs
            .iter()
            .map(|(name, data_type, value)| {
                (
                    (*name).to_owned(),
                    MessageAttributeValue {
                        data_type: (*data_type).to_owned(),
                        string_value: Some((*value).to_owned()),
                        binary_value: None,
                    },
                )
            })
            .collect()
    }

    fn policy(text: &str) -> FilterPolicy {
        FilterPolicy::parse(text, Scope::MessageAttributes).expect("a valid policy")
    }

    #[test]
    fn given_a_reviewer_filter_when_messages_name_reviewers_then_only_theirs_match() {
        // The approval-policy use: one subscription per reviewer.
        let p = policy(r#"{"reviewer": ["a@example.com"]}"#);
        assert!(p.matches(&attrs(&[("reviewer", "String", "a@example.com")]), "x"));
        assert!(!p.matches(&attrs(&[("reviewer", "String", "b@example.com")]), "x"));
        assert!(!p.matches(&attrs(&[("reviewer", "String", "A@example.com")]), "x"));
        // No attribute at all: a filtered subscription gets nothing.
        assert!(!p.matches(&BTreeMap::new(), "x"));
    }

    #[test]
    fn given_the_guides_string_examples_then_they_match_as_documented() {
        // "String value matching": exact, String.Array, prefix, suffix, ignore case, anything-but.
        let p = policy(r#"{"customer_interests": ["rugby", "tennis"]}"#);
        assert!(p.matches(&attrs(&[("customer_interests", "String", "rugby")]), ""));
        assert!(p.matches(
            &attrs(&[(
                "customer_interests",
                "String.Array",
                r#"["rugby", "tennis"]"#
            )]),
            ""
        ));
        assert!(!p.matches(&attrs(&[("customer_interests", "String", "baseball")]), ""));
        assert!(!p.matches(
            &attrs(&[("customer_interests", "String.Array", r#"["baseball"]"#)]),
            ""
        ));

        let p = policy(r#"{"customer_interests": [{"prefix": "bas"}]}"#);
        assert!(p.matches(&attrs(&[("customer_interests", "String", "baseball")]), ""));
        assert!(!p.matches(&attrs(&[("customer_interests", "String", "rugby")]), ""));

        let p = policy(r#"{"customer_interests": [{"suffix": "ball"}]}"#);
        assert!(p.matches(&attrs(&[("customer_interests", "String", "baseball")]), ""));

        let p = policy(r#"{"customer_interests": [{"equals-ignore-case": "tennis"}]}"#);
        assert!(p.matches(&attrs(&[("customer_interests", "String", "TENNIS")]), ""));

        let p = policy(r#"{"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}"#);
        assert!(p.matches(&attrs(&[("customer_interests", "String", "baseball")]), ""));
        assert!(p.matches(
            &attrs(&[(
                "customer_interests",
                "String.Array",
                r#"["rugby", "baseball"]"#
            )]),
            ""
        ));
        assert!(!p.matches(&attrs(&[("customer_interests", "String", "rugby")]), ""));
        // anything-but needs the attribute.
        assert!(!p.matches(&BTreeMap::new(), ""));

        let p = policy(r#"{"event": [{"anything-but": {"prefix": "order-"}}]}"#);
        assert!(p.matches(&attrs(&[("event", "String", "product-created")]), ""));
        assert!(!p.matches(&attrs(&[("event", "String", "order-cancelled")]), ""));
    }

    #[test]
    fn given_the_guides_numeric_examples_then_numbers_compare_as_numbers() {
        let p = policy(r#"{"price_usd": [{"numeric": ["=", 301.5]}]}"#);
        assert!(p.matches(&attrs(&[("price_usd", "Number", "301.5")]), ""));
        assert!(p.matches(&attrs(&[("price_usd", "Number", "3.015e2")]), ""));
        // A number never matches a string condition, nor a string a number.
        let p = policy(r#"{"price": [100]}"#);
        assert!(p.matches(&attrs(&[("price", "Number", "100")]), ""));
        assert!(!p.matches(&attrs(&[("price", "String", "100")]), ""));
        let p = policy(r#"{"price": ["100"]}"#);
        assert!(!p.matches(&attrs(&[("price", "Number", "100")]), ""));

        let p = policy(r#"{"price_usd": [{"numeric": [">", 0, "<=", 150]}]}"#);
        assert!(p.matches(&attrs(&[("price_usd", "Number", "150")]), ""));
        assert!(!p.matches(&attrs(&[("price_usd", "Number", "0")]), ""));
        assert!(!p.matches(&attrs(&[("price_usd", "Number", "150.1")]), ""));

        let p = policy(r#"{"price": [{"anything-but": [100, 500]}]}"#);
        assert!(p.matches(&attrs(&[("price", "Number", "100.1")]), ""));
        assert!(!p.matches(&attrs(&[("price", "Number", "100")]), ""));
    }

    #[test]
    fn given_key_matching_and_or_logic_then_keys_and_branches_combine() {
        let p = policy(r#"{"store": [{"exists": true}], "event": ["order_placed"]}"#);
        assert!(p.matches(
            &attrs(&[
                ("store", "String", "x"),
                ("event", "String", "order_placed")
            ]),
            ""
        ));
        assert!(!p.matches(&attrs(&[("event", "String", "order_placed")]), ""));
        let p = policy(r#"{"store": [{"exists": false}]}"#);
        assert!(p.matches(&BTreeMap::new(), ""));
        assert!(!p.matches(&attrs(&[("store", "String", "x")]), ""));

        let p = policy(r#"{"$or": [{"reviewer": ["a@x.io"]}, {"role": ["escalation"]}]}"#);
        assert!(p.matches(&attrs(&[("reviewer", "String", "a@x.io")]), ""));
        assert!(p.matches(&attrs(&[("role", "String", "escalation")]), ""));
        assert!(!p.matches(&attrs(&[("reviewer", "String", "b@x.io")]), ""));

        let p = policy(r#"{"source_ip": [{"cidr": "10.0.0.0/24"}]}"#);
        assert!(p.matches(&attrs(&[("source_ip", "String", "10.0.0.255")]), ""));
        assert!(!p.matches(&attrs(&[("source_ip", "String", "10.0.1.0")]), ""));
    }

    #[test]
    fn given_body_scope_then_nested_properties_of_the_json_message_are_read() {
        let p = FilterPolicy::parse(
            r#"{"order": {"kind": ["refund"], "amount": [{"numeric": [">=", 100]}]}, "flag": [true], "gone": [null]}"#,
            Scope::MessageBody,
        )
        .expect("valid");
        let body = r#"{"order": {"kind": "refund", "amount": 120}, "flag": true, "gone": null}"#;
        assert!(p.matches(&BTreeMap::new(), body));
        assert!(!p.matches(
            &BTreeMap::new(),
            r#"{"order": {"kind": "refund", "amount": 99}, "flag": true, "gone": null}"#
        ));
        // Not JSON: nothing to match.
        assert!(!p.matches(&BTreeMap::new(), "plain text"));
        // Attributes are not read in body scope.
        let p =
            FilterPolicy::parse(r#"{"reviewer": ["a@x.io"]}"#, Scope::MessageBody).expect("valid");
        assert!(!p.matches(&attrs(&[("reviewer", "String", "a@x.io")]), "{}"));
        assert!(p.matches(&BTreeMap::new(), r#"{"reviewer": ["b@x.io", "a@x.io"]}"#));
    }

    #[test]
    fn given_bad_policies_when_parsed_then_each_is_refused_with_its_reason() {
        let refused = |text: &str, scope: Scope| FilterPolicy::parse(text, scope).expect_err(text);
        assert!(refused("[1]", Scope::MessageAttributes).contains("JSON object"));
        assert!(refused("{", Scope::MessageAttributes).contains("failed to parse JSON"));
        assert!(refused(r#"{"a": "x"}"#, Scope::MessageAttributes).contains("JSON array"));
        assert!(refused(r#"{"a": []}"#, Scope::MessageAttributes).contains("Empty arrays"));
        assert!(
            refused(r#"{"a": {"b": ["x"]}}"#, Scope::MessageAttributes).contains("MessageBody")
        );
        assert!(
            refused(
                r#"{"a": [{"numeric": ["~", 1]}]}"#,
                Scope::MessageAttributes
            )
            .contains("operator")
        );
        assert!(
            refused(
                r#"{"a": [{"numeric": ["<", 1, ">", 5]}]}"#,
                Scope::MessageAttributes
            )
            .contains("range")
        );
        assert!(
            refused(r#"{"a": [{"exists": "yes"}]}"#, Scope::MessageAttributes)
                .contains("true or false")
        );
        assert!(
            refused(r#"{"a": [{"wildcard": "x*"}]}"#, Scope::MessageAttributes)
                .contains("Unrecognized match type")
        );
        assert!(
            refused(
                r#"{"a":["x"],"b":["x"],"c":["x"],"d":["x"],"e":["x"],"f":["x"]}"#,
                Scope::MessageAttributes
            )
            .contains("more than 5 keys")
        );
        // 6 x 5 x 6 = 180 combinations.
        let wide = r#"{"a":[1,2,3,4,5,6],"b":[1,2,3,4,5],"c":[1,2,3,4,5,6]}"#;
        assert!(refused(wide, Scope::MessageAttributes).contains("180 combinations"));
        assert!(Scope::parse("Body").is_err());
    }
}
