//! Typed readers for the fields states share (strings, numbers, paths,
//! templates, JSONata payloads, `Assign`): each reads one field, reports a
//! wrong type or a compile error at the field's pointer, and returns what it
//! could read.

use asl_eval::fieldpath::FieldPath;
use asl_eval::jsonata::{Expr, Payload};
use asl_eval::jsonpath::ReferencePath;
use asl_eval::template::Template;
use serde_json::{Map, Value};

use super::parser::Parser;
use super::{Assign, NumOrPath, PathField, ResultPathField};

impl Parser {
    /// AWS's message for a field of the wrong JSON type, at the field.
    fn wrong_type(&mut self, key: &str, want: &str, found: &Value, at: &str) {
        self.schema(
            format!(
                "The value for the field '{key}' must be a {want} but was {}",
                asl_eval::json_type_name(found).to_uppercase()
            ),
            &format!("{at}/{key}"),
        );
    }

    pub(super) fn string(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Option<String> {
        match obj.get(key) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.wrong_type(key, "STRING", other, at);
                None
            }
        }
    }

    pub(super) fn number(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Option<f64> {
        match obj.get(key) {
            None => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(other) => {
                self.wrong_type(key, "NUMBER", other, at);
                None
            }
        }
    }

    pub(super) fn field_path(
        &mut self,
        field: &str,
        value: &str,
        at: &str,
        intrinsics: bool,
    ) -> Option<FieldPath> {
        let compiled = if intrinsics {
            FieldPath::compile_with_intrinsics(field, value)
        } else {
            FieldPath::compile(field, value)
        };
        self.compiled(compiled, &format!("{at}/{field}"))
    }

    pub(super) fn path_field(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> PathField {
        match obj.get(key) {
            None => PathField::Default,
            Some(Value::Null) => PathField::Null,
            Some(Value::String(s)) => self
                .field_path(key, s, at, false)
                .map_or(PathField::Default, PathField::Path),
            Some(other) => {
                self.wrong_type(key, "STRING", other, at);
                PathField::Default
            }
        }
    }

    pub(super) fn result_path(&mut self, v: Option<&Value>, at: &str) -> ResultPathField {
        match v {
            None => ResultPathField::Default,
            Some(Value::Null) => ResultPathField::Null,
            Some(Value::String(s)) => self
                .compiled(ReferencePath::parse(s), at)
                .map_or(ResultPathField::Default, ResultPathField::Path),
            Some(_) => {
                self.schema("The value for the field 'ResultPath' must be a STRING", at);
                ResultPathField::Default
            }
        }
    }

    pub(super) fn template(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Option<Template> {
        let v = obj.get(key)?;
        // `Parameters` may be any JSON value: the Step Functions team "validated that
        // customers are able to create and execute state machines with Parameters values
        // of type number, array, object, boolean, string, and null" and changed AWS's
        // own ASL schema to match (aws/amazon-states-language-service#83, 2022-05-16;
        // asl-validator followed in 3.0.1, issue #101). An array or other value is a
        // payload template like a nested one: `.$` keys of objects inside it are
        // evaluated. `ResultSelector` and `ItemSelector` were not part of that change
        // and stay objects.
        if !v.is_object() && key != "Parameters" {
            self.schema(
                format!("The value for the field '{key}' must be an OBJECT"),
                &format!("{at}/{key}"),
            );
            return None;
        }
        self.compiled(Template::compile(v), &format!("{at}/{key}"))
    }

    pub(super) fn at_least(&mut self, v: &Option<NumOrPath>, key: &str, min: f64, at: &str) {
        if let Some(NumOrPath::Literal(n)) = v
            && *n < min
        {
            self.schema(
                format!("The value for the field '{key}' must be >= {min}"),
                &format!("{at}/{key}"),
            );
        }
    }

    pub(super) fn num_or_path(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
        integer: bool,
    ) -> Option<NumOrPath> {
        let path_key = format!("{key}Path");
        if let Some(e) = self.expr_field(obj, key, at) {
            return Some(NumOrPath::Expr(e, key.to_owned()));
        }
        let lit = self.number(obj, key, at);
        let path = self.string(obj, &path_key, at);
        match (lit, path) {
            (Some(_), Some(_)) => {
                self.schema(
                    format!("These fields are mutually exclusive: '{key}', '{path_key}'"),
                    at,
                );
                None
            }
            (Some(n), None) => {
                if integer && n.fract() != 0.0 {
                    self.schema(
                        format!("The value for the field '{key}' must be an INTEGER"),
                        &format!("{at}/{key}"),
                    );
                }
                Some(NumOrPath::Literal(n))
            }
            (None, Some(p)) => self
                .field_path(&path_key, &p, at, false)
                .map(NumOrPath::Path),
            (None, None) => None,
        }
    }

    pub(super) fn string_list(&mut self, v: Option<&Value>, at: &str) -> Vec<String> {
        match v {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s.clone()),
                    _ => {
                        self.schema("The value must be a STRING", at);
                        None
                    }
                })
                .collect(),
            _ => {
                self.schema("The field 'ErrorEquals' should be a non-empty array", at);
                Vec::new()
            }
        }
    }

    /// A JSONata payload field (`Arguments`, `Output`, `Items`, ...), compiled.
    pub(super) fn payload(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Option<Payload> {
        let v = obj.get(key)?;
        self.compiled(Payload::compile(v), &format!("{at}/{key}"))
    }

    /// `"Field": "{% ... %}"`, compiled; `None` when the field is not an expression.
    pub(super) fn expr_field(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Option<Expr> {
        let Some(Value::String(s)) = obj.get(key) else {
            return None;
        };
        let parsed = Expr::parse_field(s)?;
        self.compiled(parsed, &format!("{at}/{key}"))
    }

    /// `Assign`: an object whose keys are variable names. AWS developer guide,
    /// "Passing data between states with variables": names start with a letter or `_`
    /// and hold letters, digits and `_`; `$states` is reserved.
    pub(super) fn assign(&mut self, v: Option<&Value>, jsonata: bool, at: &str) -> Option<Assign> {
        let v = v?;
        let Some(obj) = v.as_object() else {
            self.schema("The value for the field 'Assign' must be an OBJECT", at);
            return None;
        };
        for k in obj.keys() {
            let name = if jsonata {
                k.as_str()
            } else {
                k.strip_suffix(".$").unwrap_or(k)
            };
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && name.len() <= 80;
            if !valid || name == "states" {
                self.schema(format!("The variable name '{name}' is invalid"), at);
            }
        }
        let compiled = if jsonata {
            Payload::compile(v).map(Assign::Jsonata)
        } else {
            Template::compile(v).map(Assign::Path)
        };
        self.compiled(compiled, at)
    }
}
