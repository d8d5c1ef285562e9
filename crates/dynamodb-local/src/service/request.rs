//! Reading a request: typed access to its members with DynamoDB's messages
//! for missing and mistyped ones, and its expressions parsed together (so a
//! placeholder no expression used is refused).

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::error::DynamoError;
use crate::expr::{
    Condition, KeyCondition, Placeholders, Update, parse_condition, parse_key_condition,
    parse_projection, parse_update,
};
use crate::value::{Item, Path, Value, item_from_json};

/// The request's JSON object.
pub(super) struct Request<'a>(pub(super) &'a Map<String, Json>);

impl<'a> Request<'a> {
    pub(super) fn get(&self, member: &str) -> Option<&'a Json> {
        self.0.get(member).filter(|v| !v.is_null())
    }

    pub(super) fn string(&self, member: &str) -> Result<Option<&'a str>, DynamoError> {
        match self.get(member) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s)),
            Some(_) => Err(DynamoError::Serialization(format!(
                "Unexpected value type for {member}"
            ))),
        }
    }

    pub(super) fn bool(&self, member: &str) -> Result<Option<bool>, DynamoError> {
        match self.get(member) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(DynamoError::Serialization(format!(
                "Unexpected value type for {member}"
            ))),
        }
    }

    pub(super) fn int(&self, member: &str) -> Result<Option<i64>, DynamoError> {
        match self.get(member) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                DynamoError::Serialization(format!("Unexpected value type for {member}"))
            }),
        }
    }

    /// A required string member; the message names it as DynamoDB does (`tableName`).
    pub(super) fn required(&self, member: &str) -> Result<&'a str, DynamoError> {
        self.string(member)?
            .ok_or_else(|| missing(&lower_first(member)))
    }

    pub(super) fn item(&self, member: &str) -> Result<Option<Item>, DynamoError> {
        item_from_json(self.get(member))
    }

    /// A required item member (`Item`, `Key`), named as [`Self::required`] does.
    pub(super) fn required_item(&self, member: &str) -> Result<Item, DynamoError> {
        self.item(member)?
            .ok_or_else(|| missing(&lower_first(member)))
    }

    /// A required list member, named as [`Self::required`] does.
    pub(super) fn required_list(&self, member: &str) -> Result<&'a [Json], DynamoError> {
        match self.get(member) {
            Some(Json::Array(a)) => Ok(a),
            None => Err(missing(&lower_first(member))),
            Some(_) => Err(unexpected_field_type()),
        }
    }

    /// `ExpressionAttributeNames` or `ExpressionAttributeValues`: absent, or
    /// a map that is not empty.
    fn placeholder_map(&self, member: &str) -> Result<Option<&'a Map<String, Json>>, DynamoError> {
        match self.get(member) {
            None => Ok(None),
            Some(Json::Object(m)) if m.is_empty() => Err(DynamoError::validation(format!(
                "{member} must not be empty"
            ))),
            Some(Json::Object(m)) => Ok(Some(m)),
            Some(_) => Err(unexpected_field_type()),
        }
    }

    /// Legacy (pre-expression) parameters are not served: say so plainly.
    pub(super) fn refuse_legacy(&self, members: &[&str]) -> Result<(), DynamoError> {
        for m in members {
            if self.get(m).is_some() {
                return Err(DynamoError::validation(format!(
                    "dynamodb-local does not support the legacy parameter {m}; use expressions (ConditionExpression, UpdateExpression, KeyConditionExpression, FilterExpression, ProjectionExpression)"
                )));
            }
        }
        Ok(())
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn unexpected_field_type() -> DynamoError {
    DynamoError::Serialization("Unexpected field type".to_owned())
}

pub(super) fn missing(member: &str) -> DynamoError {
    DynamoError::validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

/// A request's expressions, parsed together so unused placeholders are found.
#[derive(Default)]
pub(super) struct Expressions {
    pub(super) condition: Option<Condition>,
    pub(super) update: Option<Update>,
    pub(super) key: Option<KeyCondition>,
    pub(super) filter: Option<Condition>,
    pub(super) projection: Option<Vec<Path>>,
}

pub(super) fn parse_expressions(req: &Request<'_>) -> Result<Expressions, DynamoError> {
    let mut names = BTreeMap::new();
    for (k, v) in req
        .placeholder_map("ExpressionAttributeNames")?
        .into_iter()
        .flatten()
    {
        if !valid_placeholder(k, '#') {
            return Err(DynamoError::validation(format!(
                "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
            )));
        }
        let Json::String(v) = v else {
            return Err(DynamoError::Serialization(
                "Unexpected value type in ExpressionAttributeNames".to_owned(),
            ));
        };
        names.insert(k.clone(), v.clone());
    }
    let mut values = Item::new();
    if let Some(m) = req.placeholder_map("ExpressionAttributeValues")? {
        // Every key is checked before any value.
        if let Some(k) = m.keys().find(|k| !valid_placeholder(k, ':')) {
            return Err(DynamoError::validation(format!(
                "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
            )));
        }
        for (k, v) in m {
            let value = Value::from_json(v).map_err(|e| match e {
                DynamoError::Validation(msg) => DynamoError::validation(format!(
                    "ExpressionAttributeValues contains invalid value: {msg} for key {k}"
                )),
                other => other,
            })?;
            values.insert(k.clone(), value);
        }
    }
    let mut ph = Placeholders::new(names, values);
    let mut out = Expressions::default();
    let invalid =
        |member: &str, msg: String| DynamoError::validation(format!("Invalid {member}: {msg}"));
    if let Some(text) = req.string("UpdateExpression")? {
        out.update = Some(parse_update(text, &mut ph).map_err(|m| invalid("UpdateExpression", m))?);
    }
    if let Some(text) = req.string("ConditionExpression")? {
        out.condition =
            Some(parse_condition(text, &mut ph).map_err(|m| invalid("ConditionExpression", m))?);
    }
    if let Some(text) = req.string("KeyConditionExpression")? {
        out.key = Some(
            parse_key_condition(text, &mut ph).map_err(|m| invalid("KeyConditionExpression", m))?,
        );
    }
    if let Some(text) = req.string("FilterExpression")? {
        out.filter =
            Some(parse_condition(text, &mut ph).map_err(|m| invalid("FilterExpression", m))?);
    }
    if let Some(text) = req.string("ProjectionExpression")? {
        out.projection =
            Some(parse_projection(text, &mut ph).map_err(|m| invalid("ProjectionExpression", m))?);
    }
    ph.check_all_used().map_err(DynamoError::Validation)?;
    Ok(out)
}

fn valid_placeholder(key: &str, sigil: char) -> bool {
    key.strip_prefix(sigil).is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// Refuses expressions the operation does not take, rather than ignoring
/// them (an ignored condition would be a silently unconditional write). The
/// SDKs and the CLI cannot send such members, so the wording is ours.
pub(super) fn only_expressions(exprs: &Expressions, allowed: &[&str]) -> Result<(), DynamoError> {
    let present = [
        ("ConditionExpression", exprs.condition.is_some()),
        ("UpdateExpression", exprs.update.is_some()),
        ("KeyConditionExpression", exprs.key.is_some()),
        ("FilterExpression", exprs.filter.is_some()),
        ("ProjectionExpression", exprs.projection.is_some()),
    ];
    for (member, is) in present {
        if is && !allowed.contains(&member) {
            return Err(DynamoError::validation(format!(
                "dynamodb-local: {member} is not a member of this operation's request"
            )));
        }
    }
    Ok(())
}
