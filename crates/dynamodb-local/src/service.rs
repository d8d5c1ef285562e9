//! The operations: request members in, DynamoDB's response members out.
//!
//! [`Service::call`] takes an operation name and its JSON request, as the
//! wire protocol delivers them, and answers the JSON response or a
//! [`DynamoError`] with DynamoDB's code and message.

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use crate::error::DynamoError;
use crate::expr::{
    Condition, KeyCondition, Placeholders, SortCondition, Update, parse_condition,
    parse_key_condition, parse_projection, parse_update,
};
use crate::store::{self, Store, StoreError, key_bytes};
use crate::value::{
    Item, MAX_ITEM_BYTES, Path, Step, Value, item_from_json, item_size, item_to_json, project,
};

/// The operations served; anything else is `UnknownOperationException`.
pub const OPERATIONS: [&str; 12] = [
    "CreateTable",
    "DescribeTable",
    "ListTables",
    "DeleteTable",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
];

/// Region and account used in table ARNs.
#[derive(Debug, Clone)]
pub struct Config {
    pub region: String,
    pub account: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            region: "us-east-1".to_owned(),
            account: "123456789012".to_owned(),
        }
    }
}

/// The local DynamoDB.
#[derive(Debug)]
pub struct Service {
    store: Store,
    config: Config,
}

/// A page of Query or Scan stops at 1 MB of items read (DynamoDB developer
/// guide, "Paginating table query results").
const PAGE_BYTES: usize = 1024 * 1024;
/// DynamoDB's key size limits ("Service, account, and table quotas").
const MAX_PARTITION_KEY_BYTES: usize = 2048;
const MAX_SORT_KEY_BYTES: usize = 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyAttr {
    name: String,
    /// `S`, `N` or `B`.
    kind: String,
}

/// What CreateTable stored about a table.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TableSpec {
    name: String,
    id: String,
    arn: String,
    created: f64,
    hash: KeyAttr,
    range: Option<KeyAttr>,
    billing: String,
    provisioned: Option<(i64, i64)>,
    sse: Option<Json>,
    /// The TTL attribute, when TTL is enabled (recorded, not enforced).
    ttl: Option<String>,
}

impl TableSpec {
    fn key_names(&self) -> Vec<&str> {
        let mut names = vec![self.hash.name.as_str()];
        if let Some(r) = &self.range {
            names.push(r.name.as_str());
        }
        names
    }

    fn description(&self, conn: &Connection, status: &str) -> Result<Json, DynamoError> {
        let (count, bytes) = store::table_stats(conn, &self.name)?;
        let mut defs =
            vec![json!({"AttributeName": self.hash.name, "AttributeType": self.hash.kind})];
        let mut schema = vec![json!({"AttributeName": self.hash.name, "KeyType": "HASH"})];
        if let Some(r) = &self.range {
            defs.push(json!({"AttributeName": r.name, "AttributeType": r.kind}));
            schema.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
        }
        let (read, write) = self.provisioned.unwrap_or((0, 0));
        let mut d = json!({
            "AttributeDefinitions": defs,
            "TableName": self.name,
            "KeySchema": schema,
            "TableStatus": status,
            "CreationDateTime": self.created,
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": read,
                "WriteCapacityUnits": write,
            },
            "TableSizeBytes": bytes,
            "ItemCount": count,
            "TableArn": self.arn,
            "TableId": self.id,
            "DeletionProtectionEnabled": false,
        });
        if self.billing == "PAY_PER_REQUEST" {
            d["BillingModeSummary"] = json!({
                "BillingMode": "PAY_PER_REQUEST",
                "LastUpdateToPayPerRequestDateTime": self.created,
            });
        }
        if let Some(sse) = &self.sse {
            d["SSEDescription"] = sse.clone();
        }
        Ok(d)
    }
}

/// The request's JSON object.
struct Request<'a>(&'a Map<String, Json>);

impl<'a> Request<'a> {
    fn get(&self, member: &str) -> Option<&'a Json> {
        self.0.get(member).filter(|v| !v.is_null())
    }

    fn string(&self, member: &str) -> Result<Option<&'a str>, DynamoError> {
        match self.get(member) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s)),
            Some(_) => Err(DynamoError::Serialization(format!(
                "Unexpected value type for {member}"
            ))),
        }
    }

    fn bool(&self, member: &str) -> Result<Option<bool>, DynamoError> {
        match self.get(member) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(DynamoError::Serialization(format!(
                "Unexpected value type for {member}"
            ))),
        }
    }

    fn int(&self, member: &str) -> Result<Option<i64>, DynamoError> {
        match self.get(member) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                DynamoError::Serialization(format!("Unexpected value type for {member}"))
            }),
        }
    }

    /// A required string member; the message names it as DynamoDB does (`tableName`).
    fn required(&self, member: &str) -> Result<&'a str, DynamoError> {
        self.string(member)?
            .ok_or_else(|| missing(&lower_first(member)))
    }

    fn item(&self, member: &str) -> Result<Option<Item>, DynamoError> {
        item_from_json(self.get(member))
    }

    /// Legacy (pre-expression) parameters are not served: say so plainly.
    fn refuse_legacy(&self, members: &[&str]) -> Result<(), DynamoError> {
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

fn missing(member: &str) -> DynamoError {
    DynamoError::validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

fn key_mismatch() -> DynamoError {
    DynamoError::validation("The provided key element does not match the schema")
}

/// A request's expressions, parsed together so unused placeholders are found.
#[derive(Default)]
struct Expressions {
    condition: Option<Condition>,
    update: Option<Update>,
    key: Option<KeyCondition>,
    filter: Option<Condition>,
    projection: Option<Vec<Path>>,
}

fn parse_expressions(req: &Request<'_>) -> Result<Expressions, DynamoError> {
    let names: BTreeMap<String, String> = match req.get("ExpressionAttributeNames") {
        None => BTreeMap::new(),
        Some(Json::Object(m)) => {
            if m.is_empty() {
                return Err(DynamoError::validation(
                    "ExpressionAttributeNames must not be empty",
                ));
            }
            let mut out = BTreeMap::new();
            for (k, v) in m {
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
                out.insert(k.clone(), v.clone());
            }
            out
        }
        Some(_) => {
            return Err(DynamoError::Serialization(
                "Unexpected field type".to_owned(),
            ));
        }
    };
    let values = match req.get("ExpressionAttributeValues") {
        None => Item::new(),
        Some(Json::Object(m)) => {
            if m.is_empty() {
                return Err(DynamoError::validation(
                    "ExpressionAttributeValues must not be empty",
                ));
            }
            if let Some(k) = m.keys().find(|k| !valid_placeholder(k, ':')) {
                return Err(DynamoError::validation(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
            let mut out = Item::new();
            for (k, v) in m {
                let value = Value::from_json(v).map_err(|e| match e {
                    DynamoError::Validation(msg) => DynamoError::validation(format!(
                        "ExpressionAttributeValues contains invalid value: {msg} for key {k}"
                    )),
                    other => other,
                })?;
                out.insert(k.clone(), value);
            }
            out
        }
        Some(_) => {
            return Err(DynamoError::Serialization(
                "Unexpected field type".to_owned(),
            ));
        }
    };
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

/// The stored-key bytes of an item's key attributes.
struct KeyBytes {
    pk: Vec<u8>,
    sk: Vec<u8>,
}

impl Service {
    /// Opens the service on `<state_dir>/dynamodb-local.sqlite3`.
    pub fn open(state_dir: &FsPath, config: Config) -> Result<Self, StoreError> {
        Ok(Self {
            store: Store::open(state_dir)?,
            config,
        })
    }

    /// A service that keeps everything in memory.
    pub fn in_memory(config: Config) -> Result<Self, StoreError> {
        Ok(Self {
            store: Store::in_memory()?,
            config,
        })
    }

    /// Runs one operation. Blocking (SQLite): call it off the async runtime,
    /// as [`crate::handle`] does.
    pub fn call(&self, operation: &str, body: &Json) -> Result<Json, DynamoError> {
        let Json::Object(map) = body else {
            return Err(DynamoError::Serialization(
                "Start of structure or map found where not expected".to_owned(),
            ));
        };
        let req = Request(map);
        let mut conn = self.store.lock();
        match operation {
            "CreateTable" => self.create_table(&mut conn, &req),
            "DescribeTable" => describe_table(&conn, &req),
            "ListTables" => list_tables(&conn, &req),
            "DeleteTable" => delete_table(&mut conn, &req),
            "UpdateTimeToLive" => update_ttl(&mut conn, &req),
            "DescribeTimeToLive" => describe_ttl(&conn, &req),
            "GetItem" => get_item(&conn, &req),
            "PutItem" => put_item(&mut conn, &req),
            "UpdateItem" => update_item(&mut conn, &req),
            "DeleteItem" => delete_item(&mut conn, &req),
            "Query" => query(&conn, &req),
            "Scan" => scan(&conn, &req),
            other => Err(DynamoError::UnknownOperation(other.to_owned())),
        }
    }

    fn create_table(&self, conn: &mut Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
        let name = req.required("TableName")?;
        check_table_name(name)?;
        for unsupported in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
            if req.get(unsupported).is_some() {
                return Err(DynamoError::validation(format!(
                    "dynamodb-local does not support {unsupported}"
                )));
            }
        }
        let defs = match req.get("AttributeDefinitions") {
            Some(Json::Array(a)) => a,
            None => return Err(missing("attributeDefinitions")),
            Some(_) => {
                return Err(DynamoError::Serialization(
                    "Unexpected field type".to_owned(),
                ));
            }
        };
        let schema = match req.get("KeySchema") {
            Some(Json::Array(a)) => a,
            None => return Err(missing("keySchema")),
            Some(_) => {
                return Err(DynamoError::Serialization(
                    "Unexpected field type".to_owned(),
                ));
            }
        };
        let mut types = BTreeMap::new();
        for (i, d) in defs.iter().enumerate() {
            let n = d["AttributeName"].as_str().ok_or_else(|| {
                missing(&format!(
                    "attributeDefinitions.{}.member.attributeName",
                    i + 1
                ))
            })?;
            let t = d["AttributeType"].as_str().ok_or_else(|| {
                missing(&format!(
                    "attributeDefinitions.{}.member.attributeType",
                    i + 1
                ))
            })?;
            if !matches!(t, "S" | "N" | "B") {
                return Err(DynamoError::validation(format!(
                    "1 validation error detected: Value '{t}' at 'attributeDefinitions.{}.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]",
                    i + 1
                )));
            }
            types.insert(n.to_owned(), t.to_owned());
        }
        if schema.is_empty() || schema.len() > 2 {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{}' at 'keySchema' failed to satisfy constraint: Member must have length {} 2",
                schema.len(),
                if schema.is_empty() {
                    "greater than or equal to 1"
                } else {
                    "less than or equal to"
                }
            )));
        }
        let mut keys = Vec::new();
        for (i, k) in schema.iter().enumerate() {
            let n = k["AttributeName"]
                .as_str()
                .ok_or_else(|| missing(&format!("keySchema.{}.member.attributeName", i + 1)))?;
            let t = k["KeyType"]
                .as_str()
                .ok_or_else(|| missing(&format!("keySchema.{}.member.keyType", i + 1)))?;
            if !matches!(t, "HASH" | "RANGE") {
                return Err(DynamoError::validation(format!(
                    "1 validation error detected: Value '{t}' at 'keySchema.{}.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]",
                    i + 1
                )));
            }
            keys.push((n.to_owned(), t.to_owned()));
        }
        let kinds: Vec<&str> = keys.iter().map(|(_, t)| t.as_str()).collect();
        if kinds != ["HASH"] && kinds != ["HASH", "RANGE"] {
            return Err(DynamoError::validation(
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            ));
        }
        let undefined: Vec<&str> = keys
            .iter()
            .filter(|(n, _)| !types.contains_key(n))
            .map(|(n, _)| n.as_str())
            .collect();
        if !undefined.is_empty() {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                undefined.join(", "),
                types.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        if types.len() != keys.len() {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
            ));
        }
        let billing = req.string("BillingMode")?.unwrap_or("PROVISIONED");
        let throughput = req.get("ProvisionedThroughput");
        let provisioned = match (billing, throughput) {
            ("PAY_PER_REQUEST", Some(_)) => {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ));
            }
            ("PAY_PER_REQUEST", None) => None,
            ("PROVISIONED", Some(t)) => Some((
                t["ReadCapacityUnits"].as_i64().unwrap_or(0),
                t["WriteCapacityUnits"].as_i64().unwrap_or(0),
            )),
            ("PROVISIONED", None) => {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
                ));
            }
            (other, _) => {
                return Err(DynamoError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
                )));
            }
        };
        // SSE is accepted and described; local data is not encrypted.
        let sse = req
            .get("SSESpecification")
            .filter(|s| s["Enabled"].as_bool() == Some(true))
            .map(|s| {
                let key = s["KMSMasterKeyId"].as_str().unwrap_or("alias/aws/dynamodb");
                json!({"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key})
            });
        let key_attr = |(n, _): &(String, String)| KeyAttr {
            name: n.clone(),
            kind: types.get(n).cloned().unwrap_or_default(),
        };
        let spec = TableSpec {
            name: name.to_owned(),
            id: uuid::Uuid::new_v4().to_string(),
            arn: format!(
                "arn:aws:dynamodb:{}:{}:table/{name}",
                self.config.region, self.config.account
            ),
            created: chrono::Utc::now().timestamp_millis() as f64 / 1000.0,
            hash: key_attr(&keys[0]),
            range: keys.get(1).map(key_attr),
            billing: billing.to_owned(),
            provisioned,
            sse,
            ttl: None,
        };
        let text =
            serde_json::to_string(&spec).map_err(|e| DynamoError::Internal(e.to_string()))?;
        store::in_write_tx(conn, |tx| {
            if store::get_spec(tx, name)?.is_some() {
                return Err(DynamoError::ResourceInUse(format!(
                    "Table already exists: {name}"
                )));
            }
            tx.execute(
                "INSERT INTO tables (name, spec) VALUES (?1, ?2)",
                params![name, text],
            )?;
            // Tables are usable at once, as in DynamoDB Local; AWS answers
            // CREATING and turns ACTIVE seconds later.
            Ok(json!({"TableDescription": spec.description(tx, "ACTIVE")?}))
        })
    }
}

fn check_table_name(name: &str) -> Result<(), DynamoError> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if name.len() < 3 || name.len() > 255 || !valid_chars {
        let constraint = if name.len() < 3 {
            "Member must have length greater than or equal to 3"
        } else if name.len() > 255 {
            "Member must have length less than or equal to 255"
        } else {
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        };
        return Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{name}' at 'tableName' failed to satisfy constraint: {constraint}"
        )));
    }
    Ok(())
}

/// The table's spec, or `not_found` when there is no such table.
fn table(
    conn: &Connection,
    name: &str,
    not_found: fn(&str) -> DynamoError,
) -> Result<TableSpec, DynamoError> {
    let text = store::get_spec(conn, name)?.ok_or_else(|| not_found(name))?;
    serde_json::from_str(&text)
        .map_err(|e| DynamoError::Internal(format!("stored table {name}: {e}")))
}

fn item_table(conn: &Connection, req: &Request<'_>) -> Result<TableSpec, DynamoError> {
    let name = req.required("TableName")?;
    table(conn, name, |_| DynamoError::no_table())
}

fn describe_table(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let name = req.required("TableName")?;
    let spec = table(conn, name, DynamoError::table_not_found)?;
    Ok(json!({"Table": spec.description(conn, "ACTIVE")?}))
}

fn list_tables(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let start = req.string("ExclusiveStartTableName")?.unwrap_or("");
    let limit = req.int("Limit")?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {}",
            if limit < 1 {
                "greater than or equal to 1"
            } else {
                "less than or equal to 100"
            }
        )));
    }
    let mut st = conn.prepare("SELECT name FROM tables WHERE name > ?1 ORDER BY name LIMIT ?2")?;
    let names: Vec<String> = st
        .query_map(params![start, limit + 1], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let more = names.len() as i64 > limit;
    let page: Vec<&String> = names.iter().take(limit as usize).collect();
    let mut out = json!({"TableNames": page});
    if more && let Some(last) = page.last() {
        out["LastEvaluatedTableName"] = json!(last);
    }
    Ok(out)
}

fn delete_table(conn: &mut Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let name = req.required("TableName")?;
    store::in_write_tx(conn, |tx| {
        let spec = table(tx, name, DynamoError::table_not_found)?;
        let description = spec.description(tx, "DELETING")?;
        tx.execute("DELETE FROM items WHERE tbl = ?1", params![name])?;
        tx.execute("DELETE FROM tables WHERE name = ?1", params![name])?;
        Ok(json!({"TableDescription": description}))
    })
}

fn update_ttl(conn: &mut Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let name = req.required("TableName")?;
    let spec_json = req
        .get("TimeToLiveSpecification")
        .ok_or_else(|| missing("timeToLiveSpecification"))?;
    let enabled = spec_json["Enabled"]
        .as_bool()
        .ok_or_else(|| missing("timeToLiveSpecification.enabled"))?;
    let attribute = spec_json["AttributeName"]
        .as_str()
        .ok_or_else(|| missing("timeToLiveSpecification.attributeName"))?
        .to_owned();
    store::in_write_tx(conn, |tx| {
        let mut spec = table(tx, name, |_| DynamoError::no_table())?;
        match (enabled, &spec.ttl) {
            (true, Some(_)) => {
                return Err(DynamoError::validation("TimeToLive is already enabled"));
            }
            (false, None) => {
                return Err(DynamoError::validation("TimeToLive is already disabled"));
            }
            _ => {}
        }
        // Recorded and described; expired items are not deleted locally.
        spec.ttl = enabled.then(|| attribute.clone());
        let text =
            serde_json::to_string(&spec).map_err(|e| DynamoError::Internal(e.to_string()))?;
        tx.execute(
            "UPDATE tables SET spec = ?2 WHERE name = ?1",
            params![name, text],
        )?;
        Ok(json!({"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}))
    })
}

fn describe_ttl(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let spec = item_table(conn, req)?;
    Ok(match spec.ttl {
        Some(attribute) => json!({"TimeToLiveDescription": {
            "TimeToLiveStatus": "ENABLED", "AttributeName": attribute}}),
        None => json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}),
    })
}

/// The stored key of a `Key` member: exactly the key attributes, of their types.
fn key_of(spec: &TableSpec, key: &Item) -> Result<KeyBytes, DynamoError> {
    if key.len() != spec.key_names().len() {
        return Err(key_mismatch());
    }
    let part = |attr: &KeyAttr| -> Result<Vec<u8>, DynamoError> {
        let v = key.get(&attr.name).ok_or_else(key_mismatch)?;
        if v.type_name() != attr.kind {
            return Err(key_mismatch());
        }
        if matches!(v, Value::S(s) if s.is_empty()) || matches!(v, Value::B(b) if b.is_empty()) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {}",
                if attr.kind == "S" { "string" } else { "binary" },
                attr.name
            )));
        }
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
        if matches!(v, Value::S(s) if s.is_empty()) || matches!(v, Value::B(b) if b.is_empty()) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {}",
                if attr.kind == "S" { "string" } else { "binary" },
                attr.name
            )));
        }
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

fn return_on_failure(req: &Request<'_>) -> Result<bool, DynamoError> {
    match req.string("ReturnValuesOnConditionCheckFailure")? {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(other) => Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{other}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
        ))),
    }
}

/// Checks the condition against the current item (empty when absent).
fn check_condition(
    cond: Option<&Condition>,
    current: Option<&Item>,
    return_old: bool,
) -> Result<(), DynamoError> {
    let Some(cond) = cond else { return Ok(()) };
    let empty = Item::new();
    if cond.eval(current.unwrap_or(&empty)) {
        Ok(())
    } else {
        Err(DynamoError::ConditionalCheckFailed {
            item: if return_old { current.cloned() } else { None },
        })
    }
}

fn attributes(item: Option<Item>) -> Json {
    match item {
        Some(item) if !item.is_empty() => json!({"Attributes": item_to_json(&item)}),
        _ => json!({}),
    }
}

fn get_item(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    req.refuse_legacy(&["AttributesToGet"])?;
    let spec = item_table(conn, req)?;
    let key = req.item("Key")?.ok_or_else(|| missing("key"))?;
    let exprs = parse_expressions(req)?;
    only_expressions(&exprs, &["ProjectionExpression"])?;
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

/// Refuses expressions the operation does not take, rather than ignoring
/// them (an ignored condition would be a silently unconditional write). The
/// SDKs and the CLI cannot send such members, so the wording is ours.
fn only_expressions(exprs: &Expressions, allowed: &[&str]) -> Result<(), DynamoError> {
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

fn put_item(conn: &mut Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    req.refuse_legacy(&["Expected", "ConditionalOperator"])?;
    let spec = item_table(conn, req)?;
    let item = req.item("Item")?.ok_or_else(|| missing("item"))?;
    let exprs = parse_expressions(req)?;
    only_expressions(&exprs, &["ConditionExpression"])?;
    let return_old = match req.string("ReturnValues")? {
        None | Some("NONE") => false,
        Some("ALL_OLD") => true,
        Some(_) => {
            return Err(DynamoError::validation(
                "Return values set to invalid value",
            ));
        }
    };
    let on_failure = return_on_failure(req)?;
    let bytes = key_of_item(&spec, &item)?;
    if item_size(&item) > MAX_ITEM_BYTES {
        return Err(DynamoError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    store::in_write_tx(conn, |tx| {
        let old = store::read_item(tx, &spec.name, &bytes.pk, &bytes.sk)?;
        check_condition(exprs.condition.as_ref(), old.as_ref(), on_failure)?;
        store::write_item(tx, &spec.name, &bytes.pk, &bytes.sk, &item)?;
        Ok(if return_old {
            attributes(old)
        } else {
            json!({})
        })
    })
}

fn delete_item(conn: &mut Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    req.refuse_legacy(&["Expected", "ConditionalOperator"])?;
    let spec = item_table(conn, req)?;
    let key = req.item("Key")?.ok_or_else(|| missing("key"))?;
    let exprs = parse_expressions(req)?;
    only_expressions(&exprs, &["ConditionExpression"])?;
    let return_old = match req.string("ReturnValues")? {
        None | Some("NONE") => false,
        Some("ALL_OLD") => true,
        Some(_) => {
            return Err(DynamoError::validation(
                "Return values set to invalid value",
            ));
        }
    };
    let on_failure = return_on_failure(req)?;
    let bytes = key_of(&spec, &key)?;
    store::in_write_tx(conn, |tx| {
        let old = store::read_item(tx, &spec.name, &bytes.pk, &bytes.sk)?;
        check_condition(exprs.condition.as_ref(), old.as_ref(), on_failure)?;
        if old.is_some() {
            store::delete_item(tx, &spec.name, &bytes.pk, &bytes.sk)?;
        }
        Ok(if return_old {
            attributes(old)
        } else {
            json!({})
        })
    })
}

fn update_item(conn: &mut Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    req.refuse_legacy(&["Expected", "ConditionalOperator", "AttributeUpdates"])?;
    let spec = item_table(conn, req)?;
    let key = req.item("Key")?.ok_or_else(|| missing("key"))?;
    let exprs = parse_expressions(req)?;
    only_expressions(&exprs, &["ConditionExpression", "UpdateExpression"])?;
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
        let old = store::read_item(tx, &spec.name, &bytes.pk, &bytes.sk)?;
        check_condition(exprs.condition.as_ref(), old.as_ref(), on_failure)?;
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

/// A page's stopping rules and what it returns.
struct Page<'a> {
    limit: Option<usize>,
    filter: Option<&'a Condition>,
    projection: Option<&'a [Path]>,
    count_only: bool,
}

struct PageOut {
    items: Vec<Json>,
    count: usize,
    scanned: usize,
    last: Option<Item>,
}

impl Page<'_> {
    fn from(req: &Request<'_>, exprs: &Expressions) -> Result<Self, DynamoError> {
        let limit = match req.int("Limit")? {
            None => None,
            Some(n) if n >= 1 => Some(n as usize),
            Some(n) => {
                return Err(DynamoError::validation(format!(
                    "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
                )));
            }
        };
        let count_only = match req.string("Select")? {
            None | Some("ALL_ATTRIBUTES") => false,
            Some("COUNT") => true,
            Some("SPECIFIC_ATTRIBUTES") if exprs.projection.is_some() => false,
            Some(other) => {
                return Err(DynamoError::validation(format!(
                    "dynamodb-local does not support Select {other}"
                )));
            }
        };
        Ok(Page {
            limit,
            filter: None,
            projection: None,
            count_only,
        })
    }

    /// Reads rows (already in order, past the start key) until the limit or 1 MB.
    fn run(
        &self,
        spec: &TableSpec,
        rows: impl Iterator<Item = Result<Item, DynamoError>>,
        keep: impl Fn(&Item) -> bool,
    ) -> Result<PageOut, DynamoError> {
        let mut out = PageOut {
            items: Vec::new(),
            count: 0,
            scanned: 0,
            last: None,
        };
        let mut bytes = 0;
        for row in rows {
            let item = row?;
            if !keep(&item) {
                continue;
            }
            out.scanned += 1;
            bytes += item_size(&item);
            if self.filter.is_none_or(|f| f.eval(&item)) {
                out.count += 1;
                if !self.count_only {
                    let shown = match self.projection {
                        Some(paths) => project(&item, paths),
                        None => item.clone(),
                    };
                    out.items.push(item_to_json(&shown));
                }
            }
            if self.limit.is_some_and(|l| out.scanned >= l) || bytes >= PAGE_BYTES {
                let key: Item = spec
                    .key_names()
                    .iter()
                    .filter_map(|k| item.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                    .collect();
                out.last = Some(key);
                break;
            }
        }
        Ok(out)
    }
}

impl PageOut {
    fn json(self, count_only: bool) -> Json {
        let mut out = json!({"Count": self.count, "ScannedCount": self.scanned});
        if !count_only {
            out["Items"] = Json::Array(self.items);
        }
        if let Some(last) = self.last {
            out["LastEvaluatedKey"] = item_to_json(&last);
        }
        out
    }
}

fn start_key(req: &Request<'_>, spec: &TableSpec) -> Result<Option<KeyBytes>, DynamoError> {
    let Some(start) = req.item("ExclusiveStartKey")? else {
        return Ok(None);
    };
    key_of(spec, &start).map(Some).map_err(|_| {
        DynamoError::validation(
            "The provided starting key is invalid: The provided key element does not match the schema",
        )
    })
}

fn query(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    req.refuse_legacy(&[
        "KeyConditions",
        "QueryFilter",
        "AttributesToGet",
        "ConditionalOperator",
    ])?;
    if req.get("IndexName").is_some() {
        return Err(DynamoError::validation(
            "dynamodb-local does not support secondary indexes (IndexName)",
        ));
    }
    let spec = item_table(conn, req)?;
    let exprs = parse_expressions(req)?;
    only_expressions(
        &exprs,
        &[
            "KeyConditionExpression",
            "FilterExpression",
            "ProjectionExpression",
        ],
    )?;
    let key = exprs.key.as_ref().ok_or_else(|| {
        DynamoError::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        )
    })?;
    let mut hash_value = None;
    let mut sort_cond = None;
    for (name, cond) in &key.parts {
        if *name == spec.hash.name {
            match cond {
                SortCondition::Cmp(crate::expr::CmpOp::Eq, v) => hash_value = Some(v.clone()),
                _ => return Err(DynamoError::validation("Query key condition not supported")),
            }
        } else if spec.range.as_ref().is_some_and(|r| r.name == *name) {
            sort_cond = Some(cond.clone());
        } else {
            return Err(DynamoError::validation(format!(
                "Query condition missed key schema element: {}",
                spec.range
                    .as_ref()
                    .map_or(spec.hash.name.as_str(), |r| r.name.as_str())
            )));
        }
    }
    let hash_value = hash_value.ok_or_else(|| {
        DynamoError::validation(format!(
            "Query condition missed key schema element: {}",
            spec.hash.name
        ))
    })?;
    let type_mismatch = || {
        DynamoError::validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        )
    };
    if hash_value.type_name() != spec.hash.kind {
        return Err(type_mismatch());
    }
    if let (Some(cond), Some(range)) = (&sort_cond, &spec.range) {
        let values: Vec<&Value> = match cond {
            SortCondition::Cmp(_, v) | SortCondition::BeginsWith(v) => vec![v],
            SortCondition::Between(a, b) => vec![a, b],
        };
        if values.iter().any(|v| v.type_name() != range.kind) {
            return Err(type_mismatch());
        }
        if let SortCondition::BeginsWith(_) = cond
            && range.kind == "N"
        {
            return Err(DynamoError::validation(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
            ));
        }
    }
    let forward = req.bool("ScanIndexForward")?.unwrap_or(true);
    let start = start_key(req, &spec)?;
    let mut page = Page::from(req, &exprs)?;
    page.filter = exprs.filter.as_ref();
    page.projection = exprs.projection.as_deref();
    let pk = key_bytes(&hash_value);
    let sql = format!(
        "SELECT item FROM items WHERE tbl = ?1 AND pk = ?2 {} ORDER BY sk {}",
        match (&start, forward) {
            (Some(_), true) => "AND sk > ?3",
            (Some(_), false) => "AND sk < ?3",
            (None, _) => "AND ?3 IS NULL",
        },
        if forward { "ASC" } else { "DESC" }
    );
    let start_sk: Option<Vec<u8>> = start.map(|s| s.sk);
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params![spec.name, pk, start_sk], |r| r.get::<_, String>(0))?;
    let rows = rows.map(|r| {
        r.map_err(DynamoError::from)
            .and_then(|t| store::decode_item(&t))
    });
    let range_name = spec.range.as_ref().map(|r| r.name.clone());
    let out = page.run(&spec, rows, |item| match (&sort_cond, &range_name) {
        (Some(cond), Some(name)) => item.get(name).is_some_and(|v| cond.matches(v)),
        _ => true,
    })?;
    Ok(out.json(page.count_only))
}

fn scan(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    req.refuse_legacy(&["ScanFilter", "AttributesToGet", "ConditionalOperator"])?;
    for unsupported in ["IndexName", "Segment", "TotalSegments"] {
        if req.get(unsupported).is_some() {
            return Err(DynamoError::validation(format!(
                "dynamodb-local does not support {unsupported} in Scan"
            )));
        }
    }
    let spec = item_table(conn, req)?;
    let exprs = parse_expressions(req)?;
    only_expressions(&exprs, &["FilterExpression", "ProjectionExpression"])?;
    let start = start_key(req, &spec)?;
    let mut page = Page::from(req, &exprs)?;
    page.filter = exprs.filter.as_ref();
    page.projection = exprs.projection.as_deref();
    let (start_pk, start_sk) = match start {
        Some(s) => (Some(s.pk), Some(s.sk)),
        None => (None, None),
    };
    // Scan order: by stored partition key, then sort key (DynamoDB's is by
    // partition hash; callers may rely on neither).
    let mut st = conn.prepare(
        "SELECT item FROM items WHERE tbl = ?1 AND (?2 IS NULL OR (pk, sk) > (?2, ?3)) ORDER BY pk, sk",
    )?;
    let rows = st.query_map(params![spec.name, start_pk, start_sk], |r| {
        r.get::<_, String>(0)
    })?;
    let rows = rows.map(|r| {
        r.map_err(DynamoError::from)
            .and_then(|t| store::decode_item(&t))
    });
    let out = page.run(&spec, rows, |_| true)?;
    Ok(out.json(page.count_only))
}
