//! DynamoDB's `AttributeValue`: parsing its JSON form with DynamoDB's
//! validation, writing it back, comparing, sizing, and document paths.
//!
//! The messages are DynamoDB's, as dynalite's tests record them against the
//! real service (validations/index.js `validateAttributeValue`).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value as Json, json};

use crate::error::DynamoError;
use crate::number::Number;

/// An item: attribute name → value.
pub type Item = BTreeMap<String, Value>;

/// One attribute value.
#[derive(Debug, Clone)]
pub enum Value {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(Item),
    L(Vec<Value>),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
}

/// Item size limit: 400 KB, names included (DynamoDB developer guide,
/// "Service, account, and table quotas": "The maximum item size in DynamoDB is 400 KB").
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

impl Value {
    /// The type's descriptor as DynamoDB spells it (`S`, `N`, `BOOL`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::S(_) => "S",
            Value::N(_) => "N",
            Value::B(_) => "B",
            Value::Bool(_) => "BOOL",
            Value::Null => "NULL",
            Value::M(_) => "M",
            Value::L(_) => "L",
            Value::Ss(_) => "SS",
            Value::Ns(_) => "NS",
            Value::Bs(_) => "BS",
        }
    }

    /// Parses `{"S": "x"}` and friends.
    pub fn from_json(json: &Json) -> Result<Value, DynamoError> {
        let Json::Object(map) = json else {
            return Err(DynamoError::Serialization(
                "Start of structure or map found where not expected".to_owned(),
            ));
        };
        // Members explicitly null are as if absent (what the SDKs send for unset members).
        let set: Vec<(&String, &Json)> = map.iter().filter(|(_, v)| !v.is_null()).collect();
        let (kind, inner) = match set.as_slice() {
            [] => {
                return Err(DynamoError::validation(
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
                ));
            }
            [one] => *one,
            _ => {
                return Err(DynamoError::validation(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                ));
            }
        };
        let not_string = |what: &str| {
            DynamoError::Serialization(format!("{what} cannot be converted to String"))
        };
        let string = |v: &Json| -> Result<String, DynamoError> {
            match v {
                Json::String(s) => Ok(s.clone()),
                Json::Number(_) => Err(not_string("NUMBER_VALUE")),
                Json::Bool(_) => Err(not_string("BOOLEAN_VALUE")),
                _ => Err(DynamoError::Serialization(
                    "Start of structure or map found where not expected".to_owned(),
                )),
            }
        };
        let number = |v: &Json| -> Result<Number, DynamoError> {
            let text = string(v)?;
            Number::parse(&text).map_err(|e| DynamoError::validation(e.to_string()))
        };
        let binary = |v: &Json| -> Result<Vec<u8>, DynamoError> {
            let text = string(v)?;
            BASE64.decode(text.as_bytes()).map_err(|_| {
                DynamoError::Serialization(
                    "Base64 encoded length is expected a multiple of 4 bytes but found: "
                        .to_owned()
                        + &text.len().to_string(),
                )
            })
        };
        let array = |v: &Json| -> Result<Vec<Json>, DynamoError> {
            match v {
                Json::Array(a) => Ok(a.clone()),
                _ => Err(DynamoError::Serialization(
                    "Unexpected field type".to_owned(),
                )),
            }
        };
        let value = match kind.as_str() {
            "S" => Value::S(string(inner)?),
            "N" => Value::N(number(inner)?),
            "B" => Value::B(binary(inner)?),
            "BOOL" => match inner {
                Json::Bool(b) => Value::Bool(*b),
                _ => {
                    return Err(DynamoError::Serialization(
                        "Unexpected token received from parser".to_owned(),
                    ));
                }
            },
            "NULL" => match inner {
                Json::Bool(true) => Value::Null,
                Json::Bool(false) => {
                    return Err(DynamoError::validation(
                        "One or more parameter values were invalid: Null attribute value types must have the value of true",
                    ));
                }
                _ => {
                    return Err(DynamoError::Serialization(
                        "Unexpected token received from parser".to_owned(),
                    ));
                }
            },
            "M" => match inner {
                Json::Object(m) => Value::M(item_from_map(m)?),
                _ => {
                    return Err(DynamoError::Serialization(
                        "Unexpected field type".to_owned(),
                    ));
                }
            },
            "L" => Value::L(
                array(inner)?
                    .iter()
                    .map(Value::from_json)
                    .collect::<Result<_, _>>()?,
            ),
            "SS" => {
                let items = array(inner)?.iter().map(string).collect::<Result<_, _>>()?;
                Value::Ss(checked_set(
                    items,
                    "One or more parameter values were invalid: An string set  may not be empty",
                    |items| {
                        format!(
                            "One or more parameter values were invalid: Input collection [{}] contains duplicates.",
                            items.join(", ")
                        )
                    },
                )?)
            }
            "NS" => {
                let items = array(inner)?.iter().map(number).collect::<Result<_, _>>()?;
                Value::Ns(checked_set(
                    items,
                    "One or more parameter values were invalid: An number set  may not be empty",
                    |_| "Input collection contains duplicates".to_owned(),
                )?)
            }
            "BS" => {
                let items = array(inner)?.iter().map(binary).collect::<Result<_, _>>()?;
                Value::Bs(checked_set(
                    items,
                    "One or more parameter values were invalid: Binary sets should not be empty",
                    |_| {
                        "One or more parameter values were invalid: Input collection contains duplicates."
                            .to_owned()
                    },
                )?)
            }
            other => {
                return Err(DynamoError::Serialization(format!(
                    "Unrecognized field name: {other}"
                )));
            }
        };
        Ok(value)
    }

    /// The JSON form DynamoDB answers with.
    pub fn to_json(&self) -> Json {
        match self {
            Value::S(s) => json!({"S": s}),
            Value::N(n) => json!({"N": n.to_string()}),
            Value::B(b) => json!({"B": BASE64.encode(b)}),
            Value::Bool(b) => json!({"BOOL": b}),
            Value::Null => json!({"NULL": true}),
            Value::M(m) => json!({"M": item_to_json(m)}),
            Value::L(l) => json!({"L": l.iter().map(Value::to_json).collect::<Vec<_>>()}),
            Value::Ss(s) => json!({"SS": s}),
            Value::Ns(n) => json!({"NS": n.iter().map(|n| n.to_string()).collect::<Vec<_>>()}),
            Value::Bs(b) => json!({"BS": b.iter().map(|b| BASE64.encode(b)).collect::<Vec<_>>()}),
        }
    }

    /// Bytes this value counts toward the item size (DynamoDB developer guide,
    /// "Item sizes and formats": strings and binaries by length, numbers one
    /// byte per two significant digits plus one, maps and lists 3 bytes plus
    /// one per element, booleans and nulls one byte).
    pub fn size(&self) -> usize {
        let number = |n: &Number| 1 + n.significant_digits().div_ceil(2);
        match self {
            Value::S(s) => s.len(),
            Value::N(n) => number(n),
            Value::B(b) => b.len(),
            Value::Bool(_) | Value::Null => 1,
            Value::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + v.size()).sum::<usize>(),
            Value::L(l) => 3 + l.iter().map(|v| 1 + v.size()).sum::<usize>(),
            Value::Ss(s) => s.iter().map(String::len).sum(),
            Value::Ns(n) => n.iter().map(number).sum(),
            Value::Bs(b) => b.iter().map(Vec::len).sum(),
        }
    }

    /// DynamoDB's equality: same type and value; sets regardless of order.
    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::S(a), Value::S(b)) => a == b,
            (Value::N(a), Value::N(b)) => a == b,
            (Value::B(a), Value::B(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Null, Value::Null) => true,
            (Value::M(a), Value::M(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.equals(w)))
            }
            (Value::L(a), Value::L(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(v, w)| v.equals(w))
            }
            (Value::Ss(a), Value::Ss(b)) => same_set(a, b),
            (Value::Ns(a), Value::Ns(b)) => same_set(a, b),
            (Value::Bs(a), Value::Bs(b)) => same_set(a, b),
            _ => false,
        }
    }

    /// `<`-style ordering, defined only between two S, two N or two B (the
    /// only operands DynamoDB's comparators accept; other pairs compare false).
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            // Strings order by their UTF-8 bytes, as DynamoDB does.
            (Value::S(a), Value::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (Value::N(a), Value::N(b)) => Some(a.cmp(b)),
            (Value::B(a), Value::B(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// A set's members as DynamoDB accepts them: at least one, none twice, with
/// the set type's own messages (they differ by type on AWS).
fn checked_set<T: PartialEq>(
    items: Vec<T>,
    empty: &str,
    duplicates: impl FnOnce(&[T]) -> String,
) -> Result<Vec<T>, DynamoError> {
    if items.is_empty() {
        return Err(DynamoError::validation(empty));
    }
    if has_duplicates(&items) {
        return Err(DynamoError::validation(duplicates(&items)));
    }
    Ok(items)
}

fn has_duplicates<T: PartialEq>(items: &[T]) -> bool {
    items
        .iter()
        .enumerate()
        .any(|(i, a)| items[i + 1..].contains(a))
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// Parses an item (or key, or ExpressionAttributeValues) map.
pub fn item_from_map(map: &Map<String, Json>) -> Result<Item, DynamoError> {
    map.iter()
        .map(|(k, v)| Ok((k.clone(), Value::from_json(v)?)))
        .collect()
}

/// Parses an optional item-shaped member, `Ok(None)` when absent or null.
pub fn item_from_json(json: Option<&Json>) -> Result<Option<Item>, DynamoError> {
    match json {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(map)) => item_from_map(map).map(Some),
        Some(_) => Err(DynamoError::Serialization(
            "Unexpected field type".to_owned(),
        )),
    }
}

pub fn item_to_json(item: &Item) -> Json {
    Json::Object(item.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

/// An item's size as DynamoDB counts it: names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

/// One step of a document path: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A document path (`a.b[2].c`), never empty; the first step is a key.
pub type Path = Vec<Step>;

/// Writes a path the way DynamoDB's messages do: `[a, b, [2]]`.
pub fn path_text(path: &[Step]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|s| match s {
            Step::Key(k) => k.clone(),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// The value at `path` in `item`, if there is one.
pub fn get_path<'a>(item: &'a Item, path: &[Step]) -> Option<&'a Value> {
    let (Step::Key(first), rest) = path.split_first()? else {
        return None;
    };
    let mut at = item.get(first)?;
    for step in rest {
        at = match (step, at) {
            (Step::Key(k), Value::M(m)) => m.get(k)?,
            (Step::Index(i), Value::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(at)
}

/// Why a path could not be written or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPath;

/// Sets `path` to `value`: the parent must exist (a map, or a list, where an
/// index past the end appends, as DynamoDB does).
pub fn set_path(item: &mut Item, path: &[Step], value: Value) -> Result<(), BadPath> {
    let Some((Step::Key(first), rest)) = path.split_first() else {
        return Err(BadPath);
    };
    if rest.is_empty() {
        item.insert(first.clone(), value);
        return Ok(());
    }
    let mut at = item.get_mut(first).ok_or(BadPath)?;
    for (n, step) in rest.iter().enumerate() {
        let last = n + 1 == rest.len();
        match (step, at) {
            (Step::Key(k), Value::M(m)) => {
                if last {
                    m.insert(k.clone(), value);
                    return Ok(());
                }
                at = m.get_mut(k).ok_or(BadPath)?;
            }
            (Step::Index(i), Value::L(l)) => {
                if last {
                    if *i < l.len() {
                        l[*i] = value;
                    } else {
                        l.push(value);
                    }
                    return Ok(());
                }
                at = l.get_mut(*i).ok_or(BadPath)?;
            }
            _ => return Err(BadPath),
        }
    }
    Err(BadPath)
}

/// Removes `path` if present; a missing attribute is fine, a path through a
/// value of the wrong type is not.
pub fn remove_path(item: &mut Item, path: &[Step]) -> Result<(), BadPath> {
    let Some((Step::Key(first), rest)) = path.split_first() else {
        return Err(BadPath);
    };
    if rest.is_empty() {
        item.remove(first);
        return Ok(());
    }
    let Some(mut at) = item.get_mut(first) else {
        return Ok(());
    };
    for (n, step) in rest.iter().enumerate() {
        let last = n + 1 == rest.len();
        match (step, at) {
            (Step::Key(k), Value::M(m)) => {
                if last {
                    m.remove(k);
                    return Ok(());
                }
                let Some(next) = m.get_mut(k) else {
                    return Ok(());
                };
                at = next;
            }
            (Step::Index(i), Value::L(l)) => {
                if last {
                    if *i < l.len() {
                        l.remove(*i);
                    }
                    return Ok(());
                }
                let Some(next) = l.get_mut(*i) else {
                    return Ok(());
                };
                at = next;
            }
            _ => return Err(BadPath),
        }
    }
    Ok(())
}

/// The parts of `item` that `paths` name, nested as in the item (a
/// ProjectionExpression's result). List elements keep their order.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut out = Item::new();
    for path in paths {
        if let Some(value) = get_path(item, path) {
            insert_projected(&mut out, item, path, value.clone());
        }
    }
    out
}

fn insert_projected(out: &mut Item, source: &Item, path: &[Step], value: Value) {
    let Some((Step::Key(first), rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        out.insert(first.clone(), value);
        return;
    }
    let Some(src) = source.get(first) else {
        return;
    };
    let slot = out.entry(first.clone()).or_insert_with(|| match src {
        Value::L(_) => Value::L(Vec::new()),
        _ => Value::M(Item::new()),
    });
    insert_nested(slot, src, rest, value);
}

fn insert_nested(slot: &mut Value, src: &Value, path: &[Step], value: Value) {
    let Some((step, rest)) = path.split_first() else {
        return;
    };
    let child_src = match (step, src) {
        (Step::Key(k), Value::M(m)) => m.get(k),
        (Step::Index(i), Value::L(l)) => l.get(*i),
        _ => None,
    };
    let Some(child_src) = child_src else { return };
    let fresh = || match child_src {
        Value::L(_) => Value::L(Vec::new()),
        _ => Value::M(Item::new()),
    };
    match (step, slot) {
        (Step::Key(k), Value::M(m)) => {
            if rest.is_empty() {
                m.insert(k.clone(), value);
            } else {
                let next = m.entry(k.clone()).or_insert_with(fresh);
                insert_nested(next, child_src, rest, value);
            }
        }
        (Step::Index(_), Value::L(l)) => {
            // Projected list elements are compacted in source order.
            if rest.is_empty() {
                l.push(value);
            } else {
                l.push(fresh());
                if let Some(next) = l.last_mut() {
                    insert_nested(next, child_src, rest, value);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(j: Json) -> Value {
        Value::from_json(&j).unwrap_or_else(|e| panic!("{j}: {e}"))
    }

    fn err(j: Json) -> String {
        match Value::from_json(&j) {
            Ok(v) => panic!("{j} parsed as {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn round_trips_every_type() {
        let all = json!({"M": {
            "s": {"S": "x"}, "n": {"N": "1.5"}, "b": {"B": "AAEC"}, "t": {"BOOL": true},
            "z": {"NULL": true}, "l": {"L": [{"S": "a"}, {"N": "2"}]},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AA=="]}
        }});
        assert_eq!(v(all.clone()).to_json(), all);
        assert_eq!(v(json!({"N": "1.50"})).to_json(), json!({"N": "1.5"}));
    }

    #[test]
    fn refuses_malformed_values_with_dynamodbs_messages() {
        assert_eq!(
            err(json!({})),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        );
        assert_eq!(
            err(json!({"S": "a", "N": "1"})),
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
        );
        assert_eq!(
            err(json!({"N": "x"})),
            "The parameter cannot be converted to a numeric value: x"
        );
        assert_eq!(
            err(json!({"NULL": false})),
            "One or more parameter values were invalid: Null attribute value types must have the value of true"
        );
        assert_eq!(
            err(json!({"SS": []})),
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        assert_eq!(
            err(json!({"SS": ["a", "a"]})),
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates."
        );
        assert_eq!(
            err(json!({"S": 1})),
            "NUMBER_VALUE cannot be converted to String"
        );
        assert!(err(json!({"X": "1"})).contains("X"));
    }

    #[test]
    fn equality_and_order_follow_dynamodb() {
        assert!(v(json!({"N": "1.0"})).equals(&v(json!({"N": "1"}))));
        assert!(!v(json!({"N": "1"})).equals(&v(json!({"S": "1"}))));
        assert!(v(json!({"SS": ["a", "b"]})).equals(&v(json!({"SS": ["b", "a"]}))));
        assert_eq!(
            v(json!({"N": "10"})).compare(&v(json!({"N": "9"}))),
            Some(Ordering::Greater)
        );
        assert_eq!(
            v(json!({"S": "10"})).compare(&v(json!({"S": "9"}))),
            Some(Ordering::Less)
        );
        assert_eq!(v(json!({"S": "1"})).compare(&v(json!({"N": "1"}))), None);
    }

    #[test]
    fn paths_read_write_and_remove_nested_values() {
        let mut item = match v(json!({"M": {"a": {"M": {"b": {"L": [{"S": "x"}, {"S": "y"}]}}}}})) {
            Value::M(m) => m,
            _ => unreachable!(),
        };
        let path = vec![Step::Key("a".into()), Step::Key("b".into()), Step::Index(1)];
        assert!(matches!(get_path(&item, &path), Some(Value::S(s)) if s == "y"));
        assert_eq!(set_path(&mut item, &path, Value::S("z".into())), Ok(()));
        assert!(matches!(get_path(&item, &path), Some(Value::S(s)) if s == "z"));
        // An index past the end appends.
        let past = vec![Step::Key("a".into()), Step::Key("b".into()), Step::Index(9)];
        assert_eq!(set_path(&mut item, &past, Value::S("w".into())), Ok(()));
        assert!(
            get_path(
                &item,
                &[Step::Key("a".into()), Step::Key("b".into()), Step::Index(2)]
            )
            .is_some()
        );
        // A missing parent is refused.
        let orphan = vec![Step::Key("nope".into()), Step::Key("c".into())];
        assert_eq!(set_path(&mut item, &orphan, Value::Null), Err(BadPath));
        assert_eq!(remove_path(&mut item, &path), Ok(()));
        let projected = project(
            &item,
            &[vec![
                Step::Key("a".into()),
                Step::Key("b".into()),
                Step::Index(0),
            ]],
        );
        assert_eq!(
            item_to_json(&projected),
            json!({"a": {"M": {"b": {"L": [{"S": "x"}]}}}})
        );
    }

    #[test]
    fn sizes_count_names_and_values() {
        let item: Item = [("ab".to_owned(), Value::S("xyz".into()))].into();
        assert_eq!(item_size(&item), 5);
        assert_eq!(v(json!({"N": "12345"})).size(), 4);
    }
}
