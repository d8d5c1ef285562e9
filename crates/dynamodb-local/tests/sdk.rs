//! Drives dynamodb-local through aws-sdk-dynamodb, the client the kit's
//! functions use: the real wire protocol on loopback, with dummy credentials.
//!
//! Most tests serve the crate's router in process on 127.0.0.1:0; the restart
//! test runs the `dynamodb-local` binary and kills it. The messages asserted
//! are AWS's as recorded against the service: LocalStack's AWS-validated
//! snapshots (tests/aws/services/dynamodb/test_dynamodb.snapshot.json:
//! "Requested resource not found", "… Table: <name> not found",
//! "The conditional request failed" with `Item`), and the reserved-word and
//! unused-placeholder messages as users quote them from DynamoDB.

use std::collections::HashMap;
use std::sync::Arc;

mod common;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use common::Binary;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus,
};

type Item = HashMap<String, AttributeValue>;

const TABLE: &str = "Reviews";

/// dynamodb-local in process on a free loopback port, over a fresh state
/// directory; dropping it stops the server and removes the directory.
struct Local {
    client: Client,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn start() -> Local {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let service = dynamodb_local::Service::open(dir.path(), dynamodb_local::Config::default())
        .unwrap_or_else(|e| panic!("open: {e}"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("addr: {e}"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = dynamodb_local::router(Arc::new(service));
    tokio::spawn(async move {
        // A dropped sender also resolves `stopped`.
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Local {
        client: client(&format!("http://{addr}")).await,
        _stop: stop,
        _dir: dir,
    }
}

/// A client for the local endpoint only: dummy credentials, a fixed region,
/// no retries (a retried conditional write would hide what happened).
async fn client(endpoint: &str) -> Client {
    Client::new(&test_support::loopback_sdk_config(endpoint).await)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_owned())
}

fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

async fn create_table(client: &Client) {
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    client
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_table: {e:?}"));
}

async fn put(client: &Client, item: Item) {
    client
        .put_item()
        .table_name(TABLE)
        .set_item(Some(item))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put_item: {e:?}"));
}

async fn get(client: &Client, pk: &str, sk: &str) -> Option<Item> {
    client
        .get_item()
        .table_name(TABLE)
        .set_key(Some(key(pk, sk)))
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get_item: {e:?}"))
        .item
}

/// Sets are unordered in DynamoDB: sort them (at any depth) before comparing.
fn canonical(v: &AttributeValue) -> AttributeValue {
    match v {
        AttributeValue::Ss(x) => {
            let mut x = x.clone();
            x.sort();
            AttributeValue::Ss(x)
        }
        AttributeValue::Ns(x) => {
            let mut x = x.clone();
            x.sort();
            AttributeValue::Ns(x)
        }
        AttributeValue::Bs(x) => {
            let mut x = x.clone();
            x.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
            AttributeValue::Bs(x)
        }
        AttributeValue::L(x) => AttributeValue::L(x.iter().map(canonical).collect()),
        AttributeValue::M(x) => AttributeValue::M(canonical_item(x)),
        other => other.clone(),
    }
}

fn canonical_item(item: &Item) -> Item {
    item.iter()
        .map(|(k, v)| (k.clone(), canonical(v)))
        .collect()
}

#[tokio::test]
async fn tables_are_created_described_and_listed() {
    let local = start().await;
    let c = &local.client;
    create_table(c).await;

    let table = c
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe_table: {e:?}"))
        .table
        .unwrap_or_else(|| panic!("no Table"));
    assert_eq!(table.table_name(), Some(TABLE));
    // Usable at once (AWS answers CREATING first; DynamoDB Local answers ACTIVE).
    assert_eq!(table.table_status(), Some(&TableStatus::Active));
    let schema: Vec<(&str, &KeyType)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    assert_eq!(schema, [("pk", &KeyType::Hash), ("sk", &KeyType::Range)]);
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    assert_eq!(
        table.table_arn(),
        Some("arn:aws:dynamodb:us-east-1:123456789012:table/Reviews")
    );
    assert_eq!(table.item_count(), Some(0));

    put(c, key("R#1", "REVIEW")).await;
    let count = c
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe_table: {e:?}"))
        .table
        .and_then(|t| t.item_count);
    assert_eq!(count, Some(1));

    let names = c
        .list_tables()
        .send()
        .await
        .unwrap_or_else(|e| panic!("list_tables: {e:?}"))
        .table_names
        .unwrap_or_default();
    assert_eq!(names, [TABLE]);

    let again = c
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .send()
        .await
        .err()
        .unwrap_or_else(|| panic!("a second CreateTable succeeded"));
    assert_eq!(again.code(), Some("ResourceInUseException"));

    // DescribeTable and DeleteTable name the missing table (LocalStack's
    // AWS-recorded `test_table_crud`: "delete-non-existent-table").
    let missing = c
        .delete_table()
        .table_name("non-existent")
        .send()
        .await
        .err()
        .unwrap_or_else(|| panic!("deleting a missing table succeeded"));
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        missing.message(),
        Some("Requested resource not found: Table: non-existent not found")
    );
}

#[tokio::test]
async fn every_attribute_type_round_trips() {
    let local = start().await;
    let c = &local.client;
    create_table(c).await;
    // 38 significant digits, DynamoDB's most; and the smallest and largest magnitudes.
    let long = "12345678901234567890123456789012345678";
    let item: Item = HashMap::from([
        ("pk".to_owned(), s("R#types")),
        ("sk".to_owned(), s("REVIEW")),
        ("s".to_owned(), s("héllo ✓")),
        ("n".to_owned(), n(long)),
        (
            "neg".to_owned(),
            n("-0.000000000000000000000000000000000000001"),
        ),
        (
            "big".to_owned(),
            n("9.9999999999999999999999999999999999999E+125"),
        ),
        (
            "b".to_owned(),
            AttributeValue::B(Blob::new(vec![0, 1, 2, 254, 255])),
        ),
        ("t".to_owned(), AttributeValue::Bool(true)),
        ("f".to_owned(), AttributeValue::Bool(false)),
        ("null".to_owned(), AttributeValue::Null(true)),
        (
            "l".to_owned(),
            AttributeValue::L(vec![
                s("a"),
                n("1"),
                AttributeValue::L(vec![]),
                AttributeValue::Null(true),
            ]),
        ),
        (
            "m".to_owned(),
            AttributeValue::M(HashMap::from([
                ("votes".to_owned(), AttributeValue::L(vec![s("a@x.com")])),
                (
                    "inner".to_owned(),
                    AttributeValue::M(HashMap::from([("deep".to_owned(), n("-3.25"))])),
                ),
                ("empty".to_owned(), AttributeValue::M(HashMap::new())),
            ])),
        ),
        (
            "ss".to_owned(),
            AttributeValue::Ss(vec!["b".into(), "a".into(), "c".into()]),
        ),
        (
            "ns".to_owned(),
            AttributeValue::Ns(vec!["3".into(), "-1".into(), long.into()]),
        ),
        (
            "bs".to_owned(),
            AttributeValue::Bs(vec![Blob::new(vec![2]), Blob::new(vec![1, 0])]),
        ),
        ("empty_s".to_owned(), s("")),
    ]);
    put(c, item.clone()).await;
    let got = get(c, "R#types", "REVIEW")
        .await
        .unwrap_or_else(|| panic!("no item"));
    let mut want = canonical_item(&item);
    // Numbers come back in DynamoDB's plain notation.
    want.insert(
        "big".to_owned(),
        n(&format!(
            "99999999999999999999999999999999999999{}",
            "0".repeat(88)
        )),
    );
    assert_eq!(canonical_item(&got), want);

    // 39 significant digits are refused, and nothing is written.
    let err = c
        .put_item()
        .table_name(TABLE)
        .set_item(Some(key("R#types", "TOO-LONG")))
        .item("n", n("123456789012345678901234567890123456789"))
        .send()
        .await
        .err()
        .unwrap_or_else(|| panic!("39 digits were stored"));
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Attempting to store more than 38 significant digits in a Number")
    );
    assert_eq!(get(c, "R#types", "TOO-LONG").await, None);
}

/// One voter's conditional tally write, as Record Vote does it.
/// (Boxed: the SDK's error is large.)
async fn vote(c: &Client, voter: &str, expected: u32) -> Result<Item, Box<UpdateItemError>> {
    c.update_item()
        .table_name(TABLE)
        .set_key(Some(key("R#race", "REVIEW")))
        .update_expression("SET #v = :next, tally = :tally ADD writes :one")
        .condition_expression("#v = :expected")
        .expression_attribute_names("#v", "version")
        .expression_attribute_values(":next", n(&(expected + 1).to_string()))
        .expression_attribute_values(":expected", n(&expected.to_string()))
        .expression_attribute_values(":tally", s(voter))
        .expression_attribute_values(":one", n("1"))
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .map(|out| out.attributes.unwrap_or_default())
        .map_err(|e| Box::new(e.into_service_error()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_writers_with_the_same_version_exactly_one_wins() {
    let local = start().await;
    let c = &local.client;
    create_table(c).await;
    let mut first = key("R#race", "REVIEW");
    first.insert("version".to_owned(), n("1"));
    put(c, first).await;

    // Many rounds, so the two requests really overlap in some of them.
    for round in 1..=25u32 {
        let a = tokio::spawn({
            let c = c.clone();
            async move { vote(&c, "a", round).await }
        });
        let b = tokio::spawn({
            let c = c.clone();
            async move { vote(&c, "b", round).await }
        });
        let (a, b) = (
            a.await.unwrap_or_else(|e| panic!("{e}")),
            b.await.unwrap_or_else(|e| panic!("{e}")),
        );
        let (winner, new, lost) = match (a, b) {
            (Ok(new), Err(lost)) => ("a", new, lost),
            (Err(lost), Ok(new)) => ("b", new, lost),
            (a, b) => panic!("round {round}: want exactly one winner, got {a:?} and {b:?}"),
        };
        let next = (round + 1).to_string();
        assert_eq!(new.get("version"), Some(&n(&next)), "round {round}");
        assert_eq!(new.get("tally"), Some(&s(winner)));
        assert_eq!(new.get("writes"), Some(&n(&round.to_string())));

        let UpdateItemError::ConditionalCheckFailedException(lost) = *lost else {
            panic!("round {round}: the loser got {lost:?}");
        };
        assert_eq!(lost.message(), Some("The conditional request failed"));
        // ALL_OLD on failure: the item the condition was checked against,
        // which is the winner's write.
        let seen = lost.item().unwrap_or_else(|| panic!("no Item"));
        assert_eq!(seen, &new, "round {round}");
    }
    let stored = get(c, "R#race", "REVIEW")
        .await
        .unwrap_or_else(|| panic!("no item"));
    assert_eq!(stored.get("version"), Some(&n("26")));
    assert_eq!(stored.get("writes"), Some(&n("25")), "one write per round");

    // Without ReturnValuesOnConditionCheckFailure the error carries no item.
    let stale = c
        .update_item()
        .table_name(TABLE)
        .set_key(Some(key("R#race", "REVIEW")))
        .update_expression("SET #v = :next")
        .condition_expression("#v = :expected")
        .expression_attribute_names("#v", "version")
        .expression_attribute_values(":next", n("2"))
        .expression_attribute_values(":expected", n("1"))
        .send()
        .await
        .map_err(|e| e.into_service_error());
    match stale {
        Err(UpdateItemError::ConditionalCheckFailedException(e)) => assert_eq!(e.item(), None),
        other => panic!("a stale version was written: {other:?}"),
    }
}

#[tokio::test]
async fn put_if_absent_writes_once() {
    let local = start().await;
    let c = &local.client;
    create_table(c).await;
    let put_link = |secret: &str| {
        let mut item = key("L#abc", "LINK");
        item.insert("executionArn".to_owned(), s(secret));
        c.put_item()
            .table_name(TABLE)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
    };
    put_link("first")
        .await
        .unwrap_or_else(|e| panic!("first put: {e:?}"));
    let err = put_link("second")
        .await
        .err()
        .unwrap_or_else(|| panic!("the second put overwrote the first"));
    assert_eq!(err.code(), Some("ConditionalCheckFailedException"));
    let stored = get(c, "L#abc", "LINK")
        .await
        .unwrap_or_else(|| panic!("no item"));
    assert_eq!(stored.get("executionArn"), Some(&s("first")));
}

#[tokio::test]
async fn query_pages_a_prefix_backwards() {
    let local = start().await;
    let c = &local.client;
    create_table(c).await;
    put(c, key("R#1", "REVIEW")).await;
    for v in ["V#c", "V#a", "V#e", "V#b", "V#d"] {
        let mut item = key("R#1", v);
        item.insert("role".to_owned(), s("reviewer"));
        put(c, item).await;
    }
    put(c, key("R#2", "V#z")).await;
    put(c, key("R#1", "W#x")).await;

    let mut pages = Vec::new();
    let mut start = None;
    loop {
        let out = c
            .query()
            .table_name(TABLE)
            .key_condition_expression("pk = :p AND begins_with(sk, :s)")
            .expression_attribute_values(":p", s("R#1"))
            .expression_attribute_values(":s", s("V#"))
            .scan_index_forward(false)
            .limit(2)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("query: {e:?}"));
        let sks: Vec<String> = out
            .items()
            .iter()
            .filter_map(|i| i.get("sk").and_then(|v| v.as_s().ok()).cloned())
            .collect();
        assert_eq!(out.count(), sks.len() as i32);
        pages.push(sks);
        match out.last_evaluated_key {
            Some(k) => start = Some(k),
            None => break,
        }
        assert!(pages.len() < 10, "paging does not end: {pages:?}");
    }
    assert_eq!(pages, [vec!["V#e", "V#d"], vec!["V#c", "V#b"], vec!["V#a"]]);

    // A bare reserved word in a key condition is refused, as on AWS.
    let err = c
        .query()
        .table_name(TABLE)
        .key_condition_expression("pk = :p")
        .filter_expression("role = :r")
        .expression_attribute_values(":p", s("R#1"))
        .expression_attribute_values(":r", s("reviewer"))
        .send()
        .await
        .err()
        .unwrap_or_else(|| panic!("`role` without a placeholder was accepted"));
    assert_eq!(
        err.message(),
        Some(
            "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: role"
        )
    );
}

#[tokio::test]
async fn scan_pages_through_every_item_once() {
    let local = start().await;
    let c = &local.client;
    create_table(c).await;
    let mut want = Vec::new();
    for p in ["R#1", "R#2", "L#x"] {
        for sk in ["A", "B"] {
            put(c, key(p, sk)).await;
            want.push(format!("{p}/{sk}"));
        }
    }
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut start = None;
    loop {
        let out = c
            .scan()
            .table_name(TABLE)
            .limit(4)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("scan: {e:?}"));
        pages += 1;
        for item in out.items() {
            let part = |k: &str| {
                item.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            seen.push(format!("{}/{}", part("pk"), part("sk")));
        }
        match out.last_evaluated_key {
            Some(k) => start = Some(k),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 2);
    seen.sort();
    want.sort();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn delete_returns_the_old_item() {
    let local = start().await;
    let c = &local.client;
    create_table(c).await;
    let mut item = key("R#1", "V#a");
    item.insert("token".to_owned(), s("tok"));
    put(c, item.clone()).await;
    let delete = || {
        c.delete_item()
            .table_name(TABLE)
            .set_key(Some(key("R#1", "V#a")))
            .return_values(ReturnValue::AllOld)
            .send()
    };
    let out = delete()
        .await
        .unwrap_or_else(|e| panic!("delete_item: {e:?}"));
    assert_eq!(out.attributes, Some(item));
    assert_eq!(get(c, "R#1", "V#a").await, None);
    let out = delete()
        .await
        .unwrap_or_else(|e| panic!("delete_item: {e:?}"));
    assert_eq!(out.attributes, None, "nothing was there");
}

#[tokio::test]
async fn errors_carry_dynamodbs_codes_and_messages() {
    let local = start().await;
    let c = &local.client;
    create_table(c).await;

    // Item operations on a missing table (LocalStack's AWS-recorded
    // `test_batch_write_not_existing_table`).
    let err = c
        .get_item()
        .table_name("Missing")
        .set_key(Some(key("a", "b")))
        .send()
        .await
        .err()
        .unwrap_or_else(|| panic!("read a missing table"));
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(err.message(), Some("Requested resource not found"));

    let update = |expr: &str| {
        c.update_item()
            .table_name(TABLE)
            .set_key(Some(key("R#1", "REVIEW")))
            .update_expression(expr)
            .expression_attribute_values(":s", s("x"))
    };
    let err = update("SET status = :s")
        .send()
        .await
        .err()
        .unwrap_or_else(|| panic!("`status` without a placeholder was accepted"));
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some(
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"
        )
    );
    let err = update("SET #st = :s")
        .expression_attribute_names("#st", "status")
        .expression_attribute_values(":unused", s("y"))
        .send()
        .await
        .err()
        .unwrap_or_else(|| panic!("an unused value was accepted"));
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}")
    );
    // Neither failed write created the item.
    assert_eq!(get(c, "R#1", "REVIEW").await, None);

    // Operations beyond the subset answer as an unknown operation would.
    let err = c
        .describe_limits()
        .send()
        .await
        .err()
        .unwrap_or_else(|| panic!("DescribeLimits is not served"));
    assert_eq!(err.code(), Some("UnknownOperationException"));
}

#[tokio::test]
async fn items_survive_a_killed_process() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    {
        let server = Binary::start(dir.path());
        let c = client(&server.endpoint).await;
        create_table(&c).await;
        let mut item = key("R#1", "REVIEW");
        item.insert("version".to_owned(), n("7"));
        put(&c, item).await;
        // Dropped here: SIGKILL, no graceful shutdown.
    }
    let server = Binary::start(dir.path());
    let c = client(&server.endpoint).await;
    let item = get(&c, "R#1", "REVIEW")
        .await
        .unwrap_or_else(|| panic!("the item did not survive the restart"));
    assert_eq!(item.get("version"), Some(&n("7")));
    let names = c
        .list_tables()
        .send()
        .await
        .unwrap_or_else(|e| panic!("list_tables: {e:?}"))
        .table_names
        .unwrap_or_default();
    assert_eq!(names, [TABLE]);
}
