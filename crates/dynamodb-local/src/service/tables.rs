//! The table operations: CreateTable (its schema rules and messages),
//! DescribeTable, ListTables, DeleteTable, UpdateTimeToLive and
//! DescribeTimeToLive, and the stored `TableSpec` the item operations read.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::Config;
use super::request::{Request, missing};
use crate::error::DynamoError;
use crate::store;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct KeyAttr {
    pub(super) name: String,
    /// `S`, `N` or `B`.
    pub(super) kind: String,
}

/// What CreateTable stored about a table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TableSpec {
    pub(super) name: String,
    id: String,
    arn: String,
    created: f64,
    pub(super) hash: KeyAttr,
    pub(super) range: Option<KeyAttr>,
    billing: String,
    provisioned: Option<(i64, i64)>,
    sse: Option<Json>,
    /// The TTL attribute, when TTL is enabled (recorded, not enforced).
    ttl: Option<String>,
}

impl TableSpec {
    pub(super) fn key_names(&self) -> Vec<&str> {
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

pub(super) fn create_table(
    conn: &mut Connection,
    req: &Request<'_>,
    config: &Config,
) -> Result<Json, DynamoError> {
    let name = req.required("TableName")?;
    check_table_name(name)?;
    for unsupported in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        if req.get(unsupported).is_some() {
            return Err(DynamoError::validation(format!(
                "dynamodb-local does not support {unsupported}"
            )));
        }
    }
    let defs = req.required_list("AttributeDefinitions")?;
    let schema = req.required_list("KeySchema")?;
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
            config.region, config.account
        ),
        created: chrono::Utc::now().timestamp_millis() as f64 / 1000.0,
        hash: key_attr(&keys[0]),
        range: keys.get(1).map(key_attr),
        billing: billing.to_owned(),
        provisioned,
        sse,
        ttl: None,
    };
    let text = serde_json::to_string(&spec).map_err(|e| DynamoError::Internal(e.to_string()))?;
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

pub(super) fn item_table(conn: &Connection, req: &Request<'_>) -> Result<TableSpec, DynamoError> {
    let name = req.required("TableName")?;
    table(conn, name, |_| DynamoError::no_table())
}

pub(super) fn describe_table(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let name = req.required("TableName")?;
    let spec = table(conn, name, DynamoError::table_not_found)?;
    Ok(json!({"Table": spec.description(conn, "ACTIVE")?}))
}

pub(super) fn list_tables(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
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

pub(super) fn delete_table(conn: &mut Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let name = req.required("TableName")?;
    store::in_write_tx(conn, |tx| {
        let spec = table(tx, name, DynamoError::table_not_found)?;
        let description = spec.description(tx, "DELETING")?;
        tx.execute("DELETE FROM items WHERE tbl = ?1", params![name])?;
        tx.execute("DELETE FROM tables WHERE name = ?1", params![name])?;
        Ok(json!({"TableDescription": description}))
    })
}

pub(super) fn update_ttl(conn: &mut Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
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

pub(super) fn describe_ttl(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
    let spec = item_table(conn, req)?;
    Ok(match spec.ttl {
        Some(attribute) => json!({"TimeToLiveDescription": {
            "TimeToLiveStatus": "ENABLED", "AttributeName": attribute}}),
        None => json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}),
    })
}
