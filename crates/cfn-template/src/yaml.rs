//! YAML to JSON, with CloudFormation's short-form tags rewritten to their
//! long (JSON) forms: `!Ref X` becomes `{"Ref": "X"}`, `!GetAtt A.B` becomes
//! `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s` becomes `{"Fn::Sub": s}`, and so
//! on. After this step the rest of the crate sees one form only.
//!
//! Relied on: CloudFormation User Guide, "Intrinsic function reference"
//! (each function's "Short form" YAML syntax) and "Template formats"; `!GetAtt`
//! short form takes `logicalNameOfResource.attributeName`, split at the first dot.

use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;

/// Short-form tags and their long names. `!Condition` names a condition
/// inside a condition expression.
const TAGS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("GetAtt", "Fn::GetAtt"),
    ("Sub", "Fn::Sub"),
    ("If", "Fn::If"),
    ("Equals", "Fn::Equals"),
    ("Not", "Fn::Not"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("Join", "Fn::Join"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("Base64", "Fn::Base64"),
    ("FindInMap", "Fn::FindInMap"),
    ("GetAZs", "Fn::GetAZs"),
    ("ImportValue", "Fn::ImportValue"),
    ("Cidr", "Fn::Cidr"),
    ("Transform", "Fn::Transform"),
    ("ToJsonString", "Fn::ToJsonString"),
    ("Length", "Fn::Length"),
];

/// Parses template text (YAML or JSON) into JSON with long-form intrinsics.
pub(crate) fn parse(text: &str) -> Result<Value, crate::TemplateError> {
    let yaml: Yaml = serde_yaml_ng::from_str(text)?;
    to_json(yaml).map_err(|message| crate::TemplateError::section("(template)", message))
}

/// Converts one YAML value; an unknown tag is an error naming it.
pub(crate) fn to_json(yaml: Yaml) -> Result<Value, String> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => number(&n),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Yaml::Mapping(mapping) => {
            let mut map = Map::new();
            for (k, v) in mapping {
                map.insert(key(k)?, to_json(v)?);
            }
            Value::Object(map)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let short = tag.trim_start_matches('!');
            let Some((_, long)) = TAGS.iter().find(|(s, _)| *s == short) else {
                return Err(format!(
                    "unknown tag {tag}: CloudFormation's short forms are !Ref, !GetAtt, !Sub, !If, !Equals, !Not, !And, !Or, !Join, !Select, !Split, !Condition, !Base64, !FindInMap, !GetAZs, !ImportValue, !Cidr, !Transform"
                ));
            };
            let inner = to_json(tagged.value)?;
            let inner = match (*long, inner) {
                ("Fn::GetAtt", Value::String(s)) => match s.split_once('.') {
                    Some((resource, attribute)) => Value::Array(vec![
                        Value::String(resource.to_owned()),
                        Value::String(attribute.to_owned()),
                    ]),
                    None => {
                        return Err(format!(
                            "!GetAtt {s}: expected Resource.Attribute, e.g. !GetAtt MyFunction.Arn"
                        ));
                    }
                },
                (_, inner) => inner,
            };
            let mut map = Map::new();
            map.insert((*long).to_owned(), inner);
            Value::Object(map)
        }
    })
}

fn number(n: &serde_yaml_ng::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Number(i.into())
    } else if let Some(u) = n.as_u64() {
        Value::Number(u.into())
    } else {
        n.as_f64()
            .and_then(Number::from_f64)
            .map_or_else(|| Value::String(n.to_string()), Value::Number)
    }
}

fn key(k: Yaml) -> Result<String, String> {
    match k {
        Yaml::String(s) => Ok(s),
        Yaml::Bool(b) => Ok(b.to_string()),
        Yaml::Number(n) => Ok(n.to_string()),
        Yaml::Null => Ok("null".to_owned()),
        other => Err(format!("mapping keys must be scalars, found {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(text: &str) -> Value {
        match parse(text) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn short_forms_become_long_forms() {
        let v = p(r"
a: !Ref X
b: !GetAtt A.B.C
c: !GetAtt [A, B]
d: !Sub 'x${Y}'
e: !Sub ['${A}', {A: !Ref B}]
f: !Not [!Equals [!Ref P, '']]
g: !Condition C
h: !Join ['-', [a, b]]
i: !Select [0, !Split [',', 'a,b']]
");
        assert_eq!(v["a"], json!({"Ref": "X"}));
        assert_eq!(v["b"], json!({"Fn::GetAtt": ["A", "B.C"]}));
        assert_eq!(v["c"], json!({"Fn::GetAtt": ["A", "B"]}));
        assert_eq!(v["d"], json!({"Fn::Sub": "x${Y}"}));
        assert_eq!(v["e"], json!({"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]}));
        assert_eq!(
            v["f"],
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]})
        );
        assert_eq!(v["g"], json!({"Condition": "C"}));
        assert_eq!(v["h"], json!({"Fn::Join": ["-", ["a", "b"]]}));
        assert_eq!(
            v["i"],
            json!({"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]})
        );
    }

    #[test]
    fn long_forms_and_json_pass_through() {
        let v = p(r#"{"a": {"Fn::GetAtt": ["A", "B"]}, "n": 1.5, "k": {"1": true}}"#);
        assert_eq!(
            v,
            json!({"a": {"Fn::GetAtt": ["A", "B"]}, "n": 1.5, "k": {"1": true}})
        );
    }

    #[test]
    fn unknown_tag_and_bad_getatt_are_errors() {
        let e = parse("a: !Foo x").err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("unknown tag !Foo")));
        let e = parse("a: !GetAtt NoDot").err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("Resource.Attribute")));
    }
}
