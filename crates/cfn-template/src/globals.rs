//! SAM `Globals`: properties shared by every resource of a serverless type.
//!
//! Relied on: the SAM translator's merge rules
//! (aws/serverless-application-model, `samtranslator/plugins/globals/globals.py`,
//! class `GlobalProperties`): a primitive (string, number, boolean, or an
//! intrinsic function) in the resource replaces the global one; maps merge
//! key by key, recursively; lists concatenate, globals first; a type
//! mismatch keeps the resource's value. One exception: `Architectures`
//! replaces instead of concatenating (a function has one architecture; SAM
//! pull request #3945 makes the same change), so `Globals: [arm64]` plus a
//! resource's `[x86_64]` gives `[x86_64]`, not an invalid two-element list.

use serde_json::{Map, Value};

/// `Globals` section names and the resource types they apply to.
pub(crate) const SECTIONS: &[(&str, &str)] = &[
    ("Function", "AWS::Serverless::Function"),
    ("Api", "AWS::Serverless::Api"),
    ("HttpApi", "AWS::Serverless::HttpApi"),
    ("SimpleTable", "AWS::Serverless::SimpleTable"),
    ("StateMachine", "AWS::Serverless::StateMachine"),
    ("LayerVersion", "AWS::Serverless::LayerVersion"),
    ("CapacityProvider", "AWS::Serverless::CapacityProvider"),
];

/// Properties SAM refuses in `Globals` ("Everything on Serverless::Function
/// except Role, Policies, FunctionName, Events", `globals.py`).
pub(crate) const NOT_GLOBAL: &[(&str, &str)] = &[
    ("Function", "Role"),
    ("Function", "Policies"),
    ("Function", "FunctionName"),
    ("Function", "Events"),
];

/// Properties whose local list replaces the global one.
const REPLACE_LISTS: &[&str] = &["Architectures"];

/// Merges `global` into the resource's `local` properties.
pub(crate) fn merge(global: &Map<String, Value>, local: &Map<String, Value>) -> Map<String, Value> {
    let mut out = global.clone();
    for (k, lv) in local {
        let merged = match out.get(k) {
            Some(gv) if !REPLACE_LISTS.contains(&k.as_str()) => merge_value(gv, lv),
            _ => lv.clone(),
        };
        out.insert(k.clone(), merged);
    }
    out
}

fn is_intrinsic(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        m.len() == 1
            && m.keys()
                .next()
                .is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
    })
}

fn merge_value(global: &Value, local: &Value) -> Value {
    match (global, local) {
        (Value::Object(g), Value::Object(l)) if !is_intrinsic(global) && !is_intrinsic(local) => {
            Value::Object(merge(g, l))
        }
        (Value::Array(g), Value::Array(l)) => {
            Value::Array(g.iter().chain(l.iter()).cloned().collect())
        }
        _ => local.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn sam_merge_rules() {
        let global = m(json!({
            "Runtime": "provided.al2023",
            "Timeout": 10,
            "Environment": {"Variables": {"A": "g", "B": "g"}},
            "Layers": ["g"],
            "Architectures": ["arm64"],
            "Tags": {"Fn::If": ["C", {"a": 1}, {"b": 2}]},
            "CodeUri": "s3://bucket/key",
        }));
        let local = m(json!({
            "Timeout": 30,
            "Environment": {"Variables": {"B": "l", "C": "l"}},
            "Layers": ["l"],
            "Architectures": ["x86_64"],
            "Tags": {"x": "y"},
            "CodeUri": {"Bucket": "b", "Key": "k"},
        }));
        assert_eq!(
            Value::Object(merge(&global, &local)),
            json!({
                "Runtime": "provided.al2023",
                "Timeout": 30,
                "Environment": {"Variables": {"A": "g", "B": "l", "C": "l"}},
                "Layers": ["g", "l"],
                "Architectures": ["x86_64"],
                "Tags": {"x": "y"},
                "CodeUri": {"Bucket": "b", "Key": "k"},
            })
        );
    }

    #[test]
    fn globals_fill_in_what_the_resource_omits() {
        let global = m(json!({"Architectures": ["arm64"], "MemorySize": 128}));
        let merged = merge(&global, &Map::new());
        assert_eq!(merged.get("Architectures"), Some(&json!(["arm64"])));
        assert_eq!(merged.get("MemorySize"), Some(&json!(128)));
    }
}
