//! Evaluation of compiled JSONPaths with Jayway's semantics: definite paths select one
//! node or fail with Jayway's message; indefinite ones collect all matches, skipping
//! whatever is missing. Deep scans walk with an explicit stack.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::PathNotFound;
use super::ast::{CmpOp, Filter, Operand, Segment, Selector};

pub(super) fn is_definite(segments: &[Segment]) -> bool {
    let n = segments.len();
    segments.iter().enumerate().all(|(i, s)| match s {
        Segment::Descendant(_) => false,
        Segment::Child(sel) => match sel {
            Selector::Name(_) | Selector::Index(_) => true,
            Selector::Names(_) => i + 1 == n,
            _ => false,
        },
    })
}

pub(super) fn normalized(segments: &[Segment]) -> String {
    let mut s = String::from("$");
    for seg in segments {
        push_segment(&mut s, seg);
    }
    s
}

pub(super) fn push_segment(s: &mut String, seg: &Segment) {
    let sel = match seg {
        Segment::Child(sel) => sel,
        Segment::Descendant(sel) => {
            s.push_str("..");
            sel
        }
    };
    match sel {
        Selector::Name(n) => {
            s.push_str("['");
            s.push_str(n);
            s.push_str("']");
        }
        Selector::Names(ns) => {
            s.push('[');
            let quoted: Vec<String> = ns.iter().map(|n| format!("'{n}'")).collect();
            s.push_str(&quoted.join(", "));
            s.push(']');
        }
        Selector::Wildcard => s.push_str("[*]"),
        Selector::Index(i) => s.push_str(&format!("[{i}]")),
        Selector::Indexes(is) => {
            let parts: Vec<String> = is.iter().map(|i| i.to_string()).collect();
            s.push_str(&format!("[{}]", parts.join(",")));
        }
        Selector::Slice(a, b) => {
            let a = a.map(|v| v.to_string()).unwrap_or_default();
            let b = b.map(|v| v.to_string()).unwrap_or_default();
            s.push_str(&format!("[{a}:{b}]"));
        }
        Selector::Filter(_) => s.push_str("[?]"),
    }
}

fn java_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) if n.is_f64() => "java.lang.Double",
        Value::Number(_) => "java.lang.Integer",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.LinkedHashMap",
    }
}

pub(super) fn select_definite<'a>(
    segments: &[Segment],
    doc: &'a Value,
) -> Result<Cow<'a, Value>, PathNotFound> {
    let mut cur = doc;
    let n = segments.len();
    let not_found = |upto: usize| PathNotFound {
        message: format!("No results for path: {}", normalized(&segments[..upto])),
    };
    for (i, seg) in segments.iter().enumerate() {
        let leaf = i + 1 == n;
        let Segment::Child(sel) = seg else {
            return Err(not_found(n));
        };
        match sel {
            Selector::Name(name) => match cur {
                Value::Object(map) => match map.get(name) {
                    Some(v) => cur = v,
                    None if leaf => return Err(not_found(n)),
                    None => {
                        return Err(PathNotFound {
                            message: format!(
                                "Missing property in path {}",
                                normalized(&segments[..=i])
                            ),
                        });
                    }
                },
                other => {
                    return Err(PathNotFound {
                        message: format!(
                            "Expected to find an object with property {} in path {} but found '{}'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
                            fragment(seg),
                            normalized(&segments[..i]),
                            java_class(other)
                        ),
                    });
                }
            },
            Selector::Index(idx) => match cur {
                Value::Array(arr) => match index(arr.len(), *idx) {
                    Some(p) => cur = &arr[p],
                    None => return Err(not_found(n)),
                },
                _ => return Err(not_found(n)),
            },
            Selector::Names(names) => {
                let Value::Object(map) = cur else {
                    return Err(not_found(n));
                };
                let mut merged = Map::new();
                for name in names {
                    if let Some(v) = map.get(name) {
                        merged.insert(name.clone(), v.clone());
                    }
                }
                return Ok(Cow::Owned(Value::Object(merged)));
            }
            _ => return Err(not_found(n)),
        }
    }
    Ok(Cow::Borrowed(cur))
}

fn fragment(seg: &Segment) -> String {
    let mut s = String::new();
    push_segment(&mut s, seg);
    s
}

pub(super) fn index(len: usize, idx: i64) -> Option<usize> {
    let len = len as i64;
    let p = if idx < 0 { len + idx } else { idx };
    (p >= 0 && p < len).then_some(p as usize)
}

/// All matches of an indefinite path, owned. A trailing property union `['a','b']`
/// yields one merged object per object it is applied to (Jayway merges multi-property
/// leafs), even when none of the names is present.
pub(super) fn select_indefinite(segments: &[Segment], node: &Value, root: &Value) -> Vec<Value> {
    let Some((last, prefix)) = segments.split_last() else {
        return vec![node.clone()];
    };
    let (names, scan) = match last {
        Segment::Child(Selector::Names(n)) => (n, false),
        Segment::Descendant(Selector::Names(n)) => (n, true),
        _ => {
            let mut out = Vec::new();
            collect(segments, node, root, &mut out);
            return out.into_iter().cloned().collect();
        }
    };
    let mut parents = Vec::new();
    collect(prefix, node, root, &mut parents);
    if scan {
        let mut all = Vec::new();
        for p in parents {
            descend(p, &mut all);
        }
        parents = all;
    }
    parents
        .into_iter()
        .filter_map(Value::as_object)
        .map(|m| {
            let merged: Map<String, Value> = names
                .iter()
                .filter_map(|n| m.get(n).map(|v| (n.clone(), v.clone())))
                .collect();
            Value::Object(merged)
        })
        .collect()
}

/// `node` and everything below it, pre-order, with an explicit stack (no recursion).
fn descend<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    let mut stack = vec![node];
    while let Some(v) = stack.pop() {
        out.push(v);
        match v {
            Value::Object(m) => stack.extend(m.values().rev()),
            Value::Array(a) => stack.extend(a.iter().rev()),
            _ => {}
        }
    }
}

/// Collects all matches of an indefinite path (Jayway's semantics: missing things are skipped).
pub(super) fn collect<'a>(
    segments: &[Segment],
    node: &'a Value,
    root: &'a Value,
    out: &mut Vec<&'a Value>,
) {
    let mut current = vec![node];
    for seg in segments {
        let mut next = Vec::new();
        match seg {
            Segment::Child(sel) => {
                for n in current {
                    apply(sel, n, root, &mut next);
                }
            }
            Segment::Descendant(sel) => {
                for n in current {
                    // Pre-order walk with an explicit stack: deep documents cannot overflow.
                    let mut all = Vec::new();
                    descend(n, &mut all);
                    for v in all {
                        apply(sel, v, root, &mut next);
                    }
                }
            }
        }
        current = next;
    }
    out.extend(current);
}

fn apply<'a>(sel: &Selector, node: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    match sel {
        Selector::Name(name) => {
            if let Some(v) = node.as_object().and_then(|m| m.get(name)) {
                out.push(v);
            }
        }
        Selector::Names(names) => {
            if let Some(m) = node.as_object() {
                out.extend(names.iter().filter_map(|n| m.get(n)));
            }
        }
        Selector::Wildcard => match node {
            Value::Object(m) => out.extend(m.values()),
            Value::Array(a) => out.extend(a.iter()),
            _ => {}
        },
        Selector::Index(i) => {
            if let Value::Array(a) = node
                && let Some(p) = index(a.len(), *i)
            {
                out.push(&a[p]);
            }
        }
        Selector::Indexes(is) => {
            if let Value::Array(a) = node {
                out.extend(is.iter().filter_map(|i| index(a.len(), *i)).map(|p| &a[p]));
            }
        }
        Selector::Slice(from, to) => {
            if let Value::Array(a) = node {
                let len = a.len() as i64;
                let norm = |v: i64| if v < 0 { (len + v).max(0) } else { v.min(len) };
                let start = from.map_or(0, norm);
                let end = to.map_or(len, norm);
                if start < end {
                    out.extend(&a[start as usize..end as usize]);
                }
            }
        }
        Selector::Filter(f) => match node {
            Value::Array(a) => out.extend(a.iter().filter(|item| filter_matches(f, item, root))),
            Value::Object(_) if filter_matches(f, node, root) => out.push(node),
            _ => {}
        },
    }
}

fn operand_values<'a>(op: &'a Operand, item: &'a Value, root: &'a Value) -> Option<Cow<'a, Value>> {
    match op {
        Operand::Literal(v) => Some(Cow::Borrowed(v)),
        Operand::Current(segs) | Operand::Root(segs) => {
            let start = if matches!(op, Operand::Current(_)) {
                item
            } else {
                root
            };
            if is_definite(segs) {
                select_definite(segs, start).ok()
            } else {
                Some(Cow::Owned(Value::Array(select_indefinite(
                    segs, start, root,
                ))))
            }
        }
    }
}

fn filter_matches(f: &Filter, item: &Value, root: &Value) -> bool {
    match f {
        Filter::Or(a, b) => filter_matches(a, item, root) || filter_matches(b, item, root),
        Filter::And(a, b) => filter_matches(a, item, root) && filter_matches(b, item, root),
        Filter::Not(a) => !filter_matches(a, item, root),
        Filter::Exists(op) => operand_values(op, item, root).is_some(),
        Filter::Matches(op, re) => match operand_values(op, item, root) {
            Some(v) => v.as_str().is_some_and(|s| re.is_match(s)),
            None => false,
        },
        Filter::Compare(l, op, r) => {
            let (Some(l), Some(r)) = (operand_values(l, item, root), operand_values(r, item, root))
            else {
                return false;
            };
            compare(&l, *op, &r)
        }
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn loose_eq(l: &Value, r: &Value) -> bool {
    match (l, r) {
        // Jayway's NumberNode equals a StringNode holding the same number.
        (Value::Number(_), Value::String(s)) | (Value::String(s), Value::Number(_)) => {
            let n = num(if l.is_number() { l } else { r });
            s.parse::<f64>().ok() == n
        }
        (Value::Number(_), Value::Number(_)) => num(l) == num(r),
        _ => l == r,
    }
}

fn compare(l: &Value, op: CmpOp, r: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = || -> Option<Ordering> {
        match (l, r) {
            (Value::Number(_), Value::Number(_)) => num(l)?.partial_cmp(&num(r)?),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            _ => None,
        }
    };
    let contains = |arr: &Value, v: &Value| {
        arr.as_array()
            .is_some_and(|a| a.iter().any(|x| loose_eq(x, v)))
    };
    match op {
        CmpOp::Eq => loose_eq(l, r),
        CmpOp::Ne => !loose_eq(l, r),
        CmpOp::Lt => ord() == Some(Ordering::Less),
        CmpOp::Le => matches!(ord(), Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord() == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord(), Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::In => contains(r, l),
        CmpOp::Nin => !contains(r, l),
        CmpOp::SubsetOf => l
            .as_array()
            .is_some_and(|a| a.iter().all(|x| contains(r, x))),
        CmpOp::AnyOf => l
            .as_array()
            .is_some_and(|a| a.iter().any(|x| contains(r, x))),
        CmpOp::NoneOf => l
            .as_array()
            .is_some_and(|a| !a.iter().any(|x| contains(r, x))),
        CmpOp::Size => {
            let Some(n) = r.as_u64() else { return false };
            match l {
                Value::Array(a) => a.len() as u64 == n,
                Value::String(s) => s.chars().count() as u64 == n,
                _ => false,
            }
        }
        CmpOp::Empty => {
            let Some(want) = r.as_bool() else {
                return false;
            };
            match l {
                Value::Array(a) => a.is_empty() == want,
                Value::String(s) => s.is_empty() == want,
                _ => false,
            }
        }
    }
}
