//! The paged reads: Query (a key condition on one partition, in sort-key
//! order either way) and Scan (the whole table), each with a filter, a
//! projection, `Limit`, `Select: COUNT` and `ExclusiveStartKey`, stopping at
//! 1 MB read.

use rusqlite::{Connection, params};
use serde_json::{Value as Json, json};

use super::items::{KeyBytes, key_of};
use super::request::{Expressions, Request, only_expressions, parse_expressions};
use super::tables::{TableSpec, item_table};
use crate::error::DynamoError;
use crate::expr::{Condition, SortCondition};
use crate::store::{self, key_bytes};
use crate::value::{Item, Path, Value, item_size, item_to_json, project};

/// A page of Query or Scan stops at 1 MB of items read (DynamoDB developer
/// guide, "Paginating table query results").
const PAGE_BYTES: usize = 1024 * 1024;

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

pub(super) fn query(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
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

pub(super) fn scan(conn: &Connection, req: &Request<'_>) -> Result<Json, DynamoError> {
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
