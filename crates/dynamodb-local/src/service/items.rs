//! The single-item operations: GetItem, PutItem, UpdateItem and DeleteItem,
//! each a read or one write transaction with its condition checked inside,
//! and the rules a key must follow.

use rusqlite::Connection;
use serde_json::{Value as Json, json};

use super::request::{Expressions, Request, only_expressions, parse_expressions};
use super::tables::{KeyAttr, TableSpec, item_table};
use crate::error::DynamoError;
use crate::expr::{Condition, Update};
use crate::store::{self, key_bytes};
use crate::value::{Item, MAX_ITEM_BYTES, Step, Value, item_size, item_to_json, project};

/// DynamoDB's key size limits ("Service, account, and table quotas").
const MAX_PARTITION_KEY_BYTES: usize = 2048;
const MAX_SORT_KEY_BYTES: usize = 1024;

/// The stored-key bytes of an item's key attributes.
pub(super) struct KeyBytes {
    pub(super) pk: Vec<u8>,
    pub(super) sk: Vec<u8>,
}

fn key_mismatch() -> DynamoError {
    DynamoError::validation("The provided key element does not match the schema")
}

/// A key attribute may not be an empty string or binary.
fn refuse_empty(attr: &KeyAttr, v: &Value) -> Result<(), DynamoError> {
    if matches!(v, Value::S(s) if s.is_empty()) || matches!(v, Value::B(b) if b.is_empty()) {
        return Err(DynamoError::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {}",
            if attr.kind == "S" { "string" } else { "binary" },
            attr.name
        )));
    }
    Ok(())
}

/// The stored key of a `Key` member: exactly the key attributes, of their types.
pub(super) fn key_of(spec: &TableSpec, key: &Item) -> Result<KeyBytes, DynamoError> {
    if key.len() != spec.key_names().len() {
        return Err(key_mismatch());
    }
    let part = |attr: &KeyAttr| -> Result<Vec<u8>, DynamoError> {
        let v = key.get(&attr.name).ok_or_else(key_mismatch)?;
        if v.type_name() != attr.kind {
            return Err(key_mismatch());
        }
        refuse_empty(attr, v)?;
        Ok(key_bytes(v))
    };
    Ok(KeyBytes {
        pk: part(&spec.hash)?,
        sk: match &spec.range {
            Some(r) => part(r)?,
            None => Vec::new(),
        },
    })
}

/// The stored key of a whole item (PutItem), with PutItem's messages.
fn key_of_item(spec: &TableSpec, item: &Item) -> Result<KeyBytes, DynamoError> {
    let part = |attr: &KeyAttr, limit: usize, what: &str| -> Result<Vec<u8>, DynamoError> {
        let v = item.get(&attr.name).ok_or_else(|| {
            DynamoError::validation(format!(
                "One or more parameter values were invalid: Missing the key {} in the item",
                attr.name
            ))
        })?;
        if v.type_name() != attr.kind {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                attr.name,
                attr.kind,
                v.type_name()
            )));
        }
        refuse_empty(attr, v)?;
        let bytes = key_bytes(v);
        if v.size() > limit {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: {what} has exceeded the maximum size limit of {limit} bytes"
            )));
        }
        Ok(bytes)
    };
    Ok(KeyBytes {
        pk: part(&spec.hash, MAX_PARTITION_KEY_BYTES, "Size of hashkey")?,
        sk: match &spec.range {
            Some(r) => part(r, MAX_SORT_KEY_BYTES, "Aggregated size of all range keys")?,
            None => Vec::new(),
        },
    })
}

/// The start every single-item operation shares, in this order (which
/// decides the error a request with several faults gets): legacy members
/// refused, the table, the `Item` or `Key` member, the expressions (only
/// those `expressions` names).
fn item_request(
    conn: &Connection,
    req: &Request<'_>,
    legacy: &[&str],
    member: &str,
    expressions: &[&str],
) -> Result<(TableSpec, Item, Expressions), DynamoError> {
    req.refuse_legacy(legacy)?;
    let spec = item_table(conn, req)?;
    let item = req.required_item(member)?;
    let exprs = parse_expressions(req)?;
    only_expressions(&exprs, expressions)?;
    Ok((spec, item, exprs))
}

/// PutItem's and DeleteItem's `ReturnValues`: `NONE` or `ALL_OLD`.
fn returns_old(req: &Request<'_>) -> Result<bool, DynamoError> {
    match req.string("ReturnValues")? {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(_) => Err(DynamoError::validation(
            "Return values set to invalid value",
        )),
    }
}

fn return_on_failure(req: &Request<'_>) -> Result<bool, DynamoError> {
    match req.string("ReturnValuesOnConditionCheckFailure")? {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(other) => Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{other}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
        ))),
    }
}

/// Reads the item at `key` inside a write's transaction (so the check and
/// the write are one) and checks the condition against it (an empty item
/// when absent): the current item, or `ConditionalCheckFailed`.
fn read_checked(
    tx: &Connection,
    spec: &TableSpec,
    key: &KeyBytes,
    cond: Option<&Condition>,
    return_old: bool,
) -> Result<Option<Item>, DynamoError> {
    let current = store::read_item(tx, &spec.name, &key.pk, &key.sk)?;
    let Some(cond) = cond else { return Ok(current) };
    let empty = Item::new();
    if cond.eval(current.as_ref().unwrap_or(&empty)) {
        Ok(current)
    } else {
        Err(DynamoError::ConditionalCheckFailed {
            item: current
                .filter(|_| return_old)
                .map(|item| item_to_json(&item)),
        })
    }
}

fn attributes(item: Option<Item>) -> Json {
    match item {
        Some(item) if !item.is_empty() => json!({"Attributes": item_to_json(&item)}),
        _ => json!({}),
    }
}

pub(super) fn get_item(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let (spec, key, exprs) = item_request(
        conn,
        req,
        &["AttributesToGet"],
        "Key",
        &["ProjectionExpression"],
    )?;
    req.bool("ConsistentRead")?; // every read is consistent here
    let bytes = key_of(&spec, &key)?;
    let item = store::read_item(conn, &spec.name, &bytes.pk, &bytes.sk)?;
    Ok(match item {
        Some(item) => {
            let item = match &exprs.projection {
                Some(paths) => project(&item, paths),
                None => item,
            };
            json!({"Item": item_to_json(&item)})
        }
        None => json!({}),
    })
}

pub(super) fn put_item(conn: &mut Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let (spec, item, exprs) = item_request(
        conn,
        req,
        &["Expected", "ConditionalOperator"],
        "Item",
        &["ConditionExpression"],
    )?;
    let return_old = returns_old(req)?;
    let on_failure = return_on_failure(req)?;
    let bytes = key_of_item(&spec, &item)?;
    if item_size(&item) > MAX_ITEM_BYTES {
        return Err(DynamoError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    store::in_write_tx(conn, |tx| {
        let old = read_checked(tx, &spec, &bytes, exprs.condition.as_ref(), on_failure)?;
        store::write_item(tx, &spec.name, &bytes.pk, &bytes.sk, &item)?;
        Ok(attributes(old.filter(|_| return_old)))
    })
}

pub(super) fn delete_item(conn: &mut Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let (spec, key, exprs) = item_request(
        conn,
        req,
        &["Expected", "ConditionalOperator"],
        "Key",
        &["ConditionExpression"],
    )?;
    let return_old = returns_old(req)?;
    let on_failure = return_on_failure(req)?;
    let bytes = key_of(&spec, &key)?;
    store::in_write_tx(conn, |tx| {
        let old = read_checked(tx, &spec, &bytes, exprs.condition.as_ref(), on_failure)?;
        if old.is_some() {
            store::delete_item(tx, &spec.name, &bytes.pk, &bytes.sk)?;
        }
        Ok(attributes(old.filter(|_| return_old)))
    })
}

pub(super) fn update_item(conn: &mut Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let (spec, key, exprs) = item_request(
        conn,
        req,
        &["Expected", "ConditionalOperator", "AttributeUpdates"],
        "Key",
        &["ConditionExpression", "UpdateExpression"],
    )?;
    let return_values = req.string("ReturnValues")?.unwrap_or("NONE");
    if !matches!(
        return_values,
        "NONE" | "ALL_OLD" | "ALL_NEW" | "UPDATED_OLD" | "UPDATED_NEW"
    ) {
        return Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{return_values}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
        )));
    }
    let on_failure = return_on_failure(req)?;
    let bytes = key_of(&spec, &key)?;
    let targets = exprs
        .update
        .as_ref()
        .map(Update::targets)
        .unwrap_or_default();
    for target in &targets {
        if let Some(Step::Key(head)) = target.first()
            && spec.key_names().contains(&head.as_str())
        {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {head}. This attribute is part of the key"
            )));
        }
    }
    store::in_write_tx(conn, |tx| {
        let old = read_checked(tx, &spec, &bytes, exprs.condition.as_ref(), on_failure)?;
        // A missing item is created from its key.
        let base = old.clone().unwrap_or_else(|| key.clone());
        let new = match &exprs.update {
            Some(update) => update.apply(&base).map_err(DynamoError::Validation)?,
            None => base,
        };
        if item_size(&new) > MAX_ITEM_BYTES {
            return Err(DynamoError::validation(
                "Item size to update has exceeded the maximum allowed size",
            ));
        }
        store::write_item(tx, &spec.name, &bytes.pk, &bytes.sk, &new)?;
        Ok(match return_values {
            "ALL_OLD" => attributes(old),
            "ALL_NEW" => attributes(Some(new)),
            "UPDATED_OLD" => attributes(old.map(|o| project(&o, &targets))),
            "UPDATED_NEW" => attributes(Some(project(&new, &targets))),
            _ => json!({}),
        })
    })
}
