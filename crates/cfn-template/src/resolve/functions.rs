//! The intrinsic functions: `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::If`, ...

use serde_json::{Map, Value};

use super::{Resolver, args, string_of};
use crate::error::ResolveError;
use crate::params::scalar_string;

pub(crate) enum SubPart {
    Literal(String),
    Var(String),
}

/// Splits a `Fn::Sub` string into literal text and `${...}` variables.
pub(crate) fn sub_parts(template: &str) -> Vec<SubPart> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        literal.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let inner = &after[..end];
                if let Some(lit) = inner.strip_prefix('!') {
                    literal.push_str("${");
                    literal.push_str(lit);
                    literal.push('}');
                } else {
                    if !literal.is_empty() {
                        parts.push(SubPart::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(SubPart::Var(inner.trim().to_owned()));
                }
                rest = &after[end + 1..];
            }
            None => {
                literal.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(SubPart::Literal(literal));
    }
    parts
}

impl Resolver<'_> {
    pub(super) fn function(
        &self,
        name: &str,
        arg: &Value,
        depth: usize,
    ) -> Result<Option<Value>, ResolveError> {
        match name {
            "Ref" => {
                let target = arg
                    .as_str()
                    .ok_or_else(|| ResolveError::new(format!("Ref takes a name, got {arg}")))?;
                self.reference(target, depth)
            }
            "Fn::GetAtt" => {
                let (id, attr) = match arg {
                    Value::String(s) => s
                        .split_once('.')
                        .map(|(a, b)| (a.to_owned(), b.to_owned()))
                        .ok_or_else(|| {
                            ResolveError::new(format!(
                                "Fn::GetAtt {s}: expected Resource.Attribute"
                            ))
                        })?,
                    _ => {
                        let a = args("Fn::GetAtt", arg, 2)?;
                        (
                            self.eval_string("Fn::GetAtt resource", &a[0], depth)?,
                            self.eval_string("Fn::GetAtt attribute", &a[1], depth)?,
                        )
                    }
                };
                Ok(Some(Value::String(self.get_att(&id, &attr, depth)?)))
            }
            "Fn::Sub" => {
                let (template, vars) = match arg {
                    Value::String(s) => (s.as_str(), None),
                    _ => {
                        let a = args("Fn::Sub", arg, 2)?;
                        let s = a[0].as_str().ok_or_else(|| {
                            ResolveError::new("Fn::Sub: the first element must be a string")
                        })?;
                        let vars = a[1].as_object().ok_or_else(|| {
                            ResolveError::new(
                                "Fn::Sub: the second element must be a map of variables",
                            )
                        })?;
                        (s, Some(vars))
                    }
                };
                Ok(Some(Value::String(self.sub(template, vars, depth)?)))
            }
            "Fn::If" => {
                let a = args("Fn::If", arg, 3)?;
                let cond = a[0].as_str().ok_or_else(|| {
                    ResolveError::new("Fn::If: the first element must be a condition name")
                })?;
                if self.cond(cond, depth)? {
                    self.eval(&a[1], depth)
                } else {
                    self.eval(&a[2], depth)
                }
            }
            "Fn::Equals" => {
                let a = args("Fn::Equals", arg, 2)?;
                let l = self.eval(&a[0], depth)?.unwrap_or(Value::Null);
                let r = self.eval(&a[1], depth)?.unwrap_or(Value::Null);
                // Numbers and strings compare by their text, as CloudFormation
                // passes every parameter as a string.
                let eq = match (scalar_string(&l), scalar_string(&r)) {
                    (Some(l), Some(r)) => l == r,
                    _ => l == r,
                };
                Ok(Some(Value::Bool(eq)))
            }
            "Fn::Not" => {
                let a = args("Fn::Not", arg, 1)?;
                Ok(Some(Value::Bool(!self.eval_bool(&a[0], depth)?)))
            }
            "Fn::And" | "Fn::Or" => {
                let items = arg
                    .as_array()
                    .filter(|a| (2..=10).contains(&a.len()))
                    .ok_or_else(|| {
                        ResolveError::new(format!("{name} takes a list of 2 to 10 conditions"))
                    })?;
                let want_all = name == "Fn::And";
                for item in items {
                    let b = self.eval_bool(item, depth)?;
                    if b != want_all {
                        return Ok(Some(Value::Bool(b)));
                    }
                }
                Ok(Some(Value::Bool(want_all)))
            }
            "Fn::Join" => {
                let a = args("Fn::Join", arg, 2)?;
                let delim = self.eval_string("Fn::Join delimiter", &a[0], depth)?;
                let items = self.eval_list("Fn::Join values", &a[1], depth)?;
                let parts = items
                    .iter()
                    .map(|i| string_of("Fn::Join value", i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(Value::String(parts.join(&delim))))
            }
            "Fn::Select" => {
                let a = args("Fn::Select", arg, 2)?;
                let index = self.eval_string("Fn::Select index", &a[0], depth)?;
                let index: usize = index.trim().parse().map_err(|_| {
                    ResolveError::new(format!("Fn::Select index {index:?} is not a number"))
                })?;
                let items = self.eval_list("Fn::Select values", &a[1], depth)?;
                let len = items.len();
                items.into_iter().nth(index).map(Some).ok_or_else(|| {
                    ResolveError::new(format!(
                        "Fn::Select index {index} is out of range: the list has {len} elements"
                    ))
                })
            }
            "Fn::Split" => {
                let a = args("Fn::Split", arg, 2)?;
                let delim = self.eval_string("Fn::Split delimiter", &a[0], depth)?;
                let s = self.eval_string("Fn::Split source", &a[1], depth)?;
                if delim.is_empty() {
                    return Err(ResolveError::new("Fn::Split: the delimiter is empty"));
                }
                Ok(Some(Value::Array(
                    s.split(delim.as_str())
                        .map(|p| Value::String(p.to_owned()))
                        .collect(),
                )))
            }
            "Fn::Base64" => {
                let s = self.eval_string("Fn::Base64", arg, depth)?;
                Ok(Some(Value::String(base64(s.as_bytes()))))
            }
            "Fn::FindInMap" => {
                let a = args("Fn::FindInMap", arg, 3)?;
                let map = self.eval_string("Fn::FindInMap map name", &a[0], depth)?;
                let top = self.eval_string("Fn::FindInMap top-level key", &a[1], depth)?;
                let second = self.eval_string("Fn::FindInMap second-level key", &a[2], depth)?;
                self.mappings
                    .get(&map)
                    .and_then(|m| m.get(&top))
                    .and_then(|m| m.get(&second))
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| {
                        ResolveError::new(format!(
                            "Fn::FindInMap: Mappings has no {map} > {top} > {second}"
                        ))
                    })
            }
            "Fn::GetAZs" => {
                let region = self.eval_string("Fn::GetAZs region", arg, depth)?;
                let region = if region.is_empty() {
                    self.env.region.clone()
                } else {
                    region
                };
                Ok(Some(Value::Array(
                    ["a", "b", "c"]
                        .iter()
                        .map(|z| Value::String(format!("{region}{z}")))
                        .collect(),
                )))
            }
            "Fn::ToJsonString" => {
                let v = self.eval_some("Fn::ToJsonString", arg, depth)?;
                Ok(Some(Value::String(v.to_string())))
            }
            "Fn::Length" => {
                let items = self.eval_list("Fn::Length", arg, depth)?;
                Ok(Some(Value::from(items.len())))
            }
            "Fn::ImportValue" => Err(ResolveError::new(
                "Fn::ImportValue reads another stack's export, which does not exist locally; replace it with a parameter",
            )),
            other => Err(ResolveError::new(format!(
                "{other} is not supported locally"
            ))),
        }
    }

    pub(super) fn sub(
        &self,
        template: &str,
        vars: Option<&Map<String, Value>>,
        depth: usize,
    ) -> Result<String, ResolveError> {
        let mut out = String::new();
        for part in sub_parts(template) {
            match part {
                SubPart::Literal(s) => out.push_str(&s),
                SubPart::Var(name) => {
                    let value = if let Some(v) = vars.and_then(|m| m.get(&name)) {
                        self.eval_some(&format!("Fn::Sub variable {name}"), v, depth)?
                    } else if let Some((id, attr)) = name.split_once('.') {
                        Value::String(self.get_att(id, attr, depth)?)
                    } else {
                        self.reference(&name, depth)?.ok_or_else(|| {
                            ResolveError::new(format!("Fn::Sub: ${{{name}}} is AWS::NoValue"))
                        })?
                    };
                    let s = scalar_string(&value).ok_or_else(|| {
                        ResolveError::new(format!(
                            "Fn::Sub: ${{{name}}} is a list or map, not a string; use Fn::Join for lists"
                        ))
                    })?;
                    out.push_str(&s);
                }
            }
        }
        Ok(out)
    }
}

/// `Fn::Base64`: standard alphabet, padded.
fn base64(bytes: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
