//! Helpers for the expression tests: items and placeholders from JSON, and
//! the message a condition fails to parse with.

use serde_json::Value as Json;

use super::{Placeholders, parse_condition};
use crate::value::{Item, item_from_json};

pub(super) fn item(j: Json) -> Item {
    item_from_json(Some(&j))
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("item {j}"))
}

pub(super) fn ph(names: &[(&str, &str)], values: Json) -> Placeholders {
    Placeholders::new(
        names
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        item(values),
    )
}

pub(super) fn cond_error(expr: &str, names: &[(&str, &str)], values: Json) -> String {
    let mut p = ph(names, values);
    match parse_condition(expr, &mut p) {
        Ok(c) => panic!("{expr} parsed as {c:?}"),
        Err(e) => e,
    }
}
