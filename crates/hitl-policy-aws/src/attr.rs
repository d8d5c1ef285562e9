//! JSON ↔ DynamoDB attribute values, for the `policy` and `tally` maps.
//!
//! Strings are `S`, numbers `N` (decimal text), booleans `BOOL`, null
//! `NULL`, arrays `L` and objects `M` (DynamoDB data types: "Data types" in
//! the developer guide). Empty strings, lists and maps are allowed in
//! non-key attributes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Number, Value};

pub(crate) fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// `None` for a type this table never writes (sets, binary).
pub(crate) fn to_json(attribute: &AttributeValue) -> Option<Value> {
    Some(match attribute {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => Value::Number(number(n)?),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::L(items) => {
            Value::Array(items.iter().map(to_json).collect::<Option<Vec<_>>>()?)
        }
        AttributeValue::M(map) => {
            // Sorted keys: a HashMap has no order, and a stable one keeps
            // re-serialised JSON comparable.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut object = Map::new();
            for key in keys {
                object.insert(key.clone(), to_json(map.get(key)?)?);
            }
            Value::Object(object)
        }
        _ => return None,
    })
}

fn number(text: &str) -> Option<Number> {
    if let Ok(n) = text.parse::<u64>() {
        return Some(n.into());
    }
    if let Ok(n) = text.parse::<i64>() {
        return Some(n.into());
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trips_through_attribute_values() {
        let value = json!({
            "votes": [{"reviewer": "a@x.com", "result": true, "at": "t", "comment": ""}],
            "outcome": null, "required": 2, "neg": -3, "ratio": 0.5, "empty": {}, "none": []
        });
        let back = to_json(&to_attribute(&value)).unwrap();
        assert_eq!(back, value);
        assert_eq!(to_attribute(&json!(2)), AttributeValue::N("2".into()));
        assert_eq!(to_json(&AttributeValue::Ss(vec!["a".into()])), None);
    }
}
