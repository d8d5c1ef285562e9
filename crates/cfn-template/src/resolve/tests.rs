//! Intrinsics, conditions and references against a fixture template.

use super::*;
use serde_json::json;

struct Fixture {
    env: LocalEnvironment,
    params: BTreeMap<String, ParamValue>,
    conditions: Map<String, Value>,
    mappings: Map<String, Value>,
    resources: Map<String, Value>,
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn fixture() -> Fixture {
    let mut params = BTreeMap::new();
    params.insert("Email".to_owned(), ParamValue::String("a@b.c".into()));
    params.insert("Empty".to_owned(), ParamValue::String(String::new()));
    params.insert("Count".to_owned(), ParamValue::String("3".into()));
    params.insert(
        "Names".to_owned(),
        ParamValue::List(vec!["x".into(), "y".into()]),
    );
    Fixture {
        env: LocalEnvironment::new("stk"),
        params,
        conditions: obj(json!({
            "HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Empty"}, ""]}]},
            "IsEmpty": {"Fn::Equals": [{"Ref": "Empty"}, ""]},
            "Both": {"Fn::And": [{"Condition": "IsEmpty"}, {"Fn::Equals": [{"Ref": "Count"}, 3]}]},
            "Either": {"Fn::Or": [{"Condition": "HasEmail"}, {"Condition": "IsEmpty"}]},
            "Loop": {"Fn::Not": [{"Condition": "Loop"}]},
        })),
        mappings: obj(json!({"M": {"us-east-1": {"Size": "L"}}})),
        resources: obj(json!({
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {}},
            "Named": {"Type": "AWS::Serverless::Function", "Properties": {"FunctionName": {"Fn::Sub": "${AWS::StackName}-named"}}},
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Sm": {"Type": "AWS::Serverless::StateMachine", "Properties": {"Name": "review"}},
            "Key": {"Type": "AWS::KMS::Key"},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/aws/x"}},
            "Thing": {"Type": "AWS::Foo::Bar"},
            "Maybe": {"Type": "AWS::SNS::Topic", "Condition": "HasEmail"},
            "SelfRef": {"Type": "AWS::Serverless::Function", "Properties": {"FunctionName": {"Ref": "SelfRef"}}},
        })),
    }
}

impl Fixture {
    fn r(&self) -> Resolver<'_> {
        Resolver {
            env: &self.env,
            params: &self.params,
            conditions: &self.conditions,
            mappings: &self.mappings,
            resources: &self.resources,
        }
    }
    fn ok(&self, v: Value) -> Value {
        match self.r().resolve(&v) {
            Ok(Some(r)) => r,
            Ok(None) => Value::String("<NoValue>".into()),
            Err(e) => panic!("{v}: {e}"),
        }
    }
    fn err(&self, v: Value) -> String {
        match self.r().resolve(&v) {
            Ok(r) => panic!("{v}: expected an error, got {r:?}"),
            Err(e) => e.0,
        }
    }
}

#[test]
fn ref_parameters_and_pseudo_parameters() {
    let f = fixture();
    assert_eq!(f.ok(json!({"Ref": "Email"})), json!("a@b.c"));
    assert_eq!(f.ok(json!({"Ref": "Names"})), json!(["x", "y"]));
    assert_eq!(f.ok(json!({"Ref": "AWS::Region"})), json!("us-east-1"));
    assert_eq!(
        f.ok(json!({"Ref": "AWS::AccountId"})),
        json!("123456789012")
    );
    assert_eq!(f.ok(json!({"Ref": "AWS::Partition"})), json!("aws"));
    assert_eq!(f.ok(json!({"Ref": "AWS::StackName"})), json!("stk"));
    assert_eq!(
        f.ok(json!({"Ref": "AWS::URLSuffix"})),
        json!("amazonaws.com")
    );
    assert_eq!(f.ok(json!({"Ref": "AWS::NotificationARNs"})), json!([]));
    assert!(
        f.err(json!({"Ref": "AWS::Nope"}))
            .contains("unknown pseudo parameter")
    );
}

#[test]
fn no_value_removes_properties_and_elements() {
    let f = fixture();
    assert_eq!(
        f.ok(json!({"a": {"Ref": "AWS::NoValue"}, "b": [1, {"Ref": "AWS::NoValue"}, 2]})),
        json!({"b": [1, 2]})
    );
}

#[test]
fn ref_and_getatt_on_resources() {
    let f = fixture();
    let name = f.ok(json!({"Ref": "Fn"}));
    let name = name.as_str().unwrap_or_default().to_owned();
    assert!(name.starts_with("stk-Fn-"), "{name}");
    assert_eq!(
        f.ok(json!({"Fn::GetAtt": ["Fn", "Arn"]})),
        json!(format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{name}"
        ))
    );
    assert_eq!(f.ok(json!({"Ref": "Named"})), json!("stk-named"));
    let topic_arn = f.ok(json!({"Ref": "Topic"}));
    assert!(
        topic_arn
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:sns:us-east-1:123456789012:stk-Topic-"))
    );
    assert_eq!(
        f.ok(json!({"Fn::GetAtt": ["Topic", "TopicArn"]})),
        topic_arn
    );
    assert_eq!(
        f.ok(json!({"Ref": "Sm"})),
        json!("arn:aws:states:us-east-1:123456789012:stateMachine:review")
    );
    assert_eq!(f.ok(json!({"Fn::GetAtt": ["Sm", "Name"]})), json!("review"));
    assert_eq!(f.ok(json!({"Fn::GetAtt": "Sm.Name"})), json!("review"));
    let e = f.err(json!({"Fn::GetAtt": ["Sm", "Nope"]}));
    assert!(
        e.contains("Sm has no attribute Nope; it has: Arn, Name"),
        "{e}"
    );
}

#[test]
fn skipped_resources_get_placeholders() {
    let f = fixture();
    let key_arn = f.ok(json!({"Fn::GetAtt": ["Key", "Arn"]}));
    assert!(
        key_arn
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:kms:us-east-1:123456789012:key/"))
    );
    assert_eq!(f.ok(json!({"Ref": "Logs"})), json!("/aws/x"));
    assert_eq!(
        f.ok(json!({"Fn::GetAtt": ["Logs", "Arn"]})),
        json!("arn:aws:logs:us-east-1:123456789012:log-group:/aws/x:*")
    );
    let thing = f.ok(json!({"Fn::GetAtt": ["Thing", "Arn"]}));
    assert!(
        thing
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:foo:us-east-1:123456789012:bar/"))
    );
    assert!(
        f.ok(json!({"Fn::GetAtt": ["Thing", "Whatever"]}))
            .is_string()
    );
    let role = f.ok(json!({"Fn::GetAtt": ["FnRole", "Arn"]}));
    assert!(
        role.as_str()
            .is_some_and(|a| a.starts_with("arn:aws:iam::123456789012:role/stk-FnRole-"))
    );
}

#[test]
fn sam_alias_and_version_references() {
    let mut f = fixture();
    f.resources.insert(
        "Live".into(),
        json!({"Type": "AWS::Serverless::Function", "Properties": {"FunctionName": "live-fn", "AutoPublishAlias": "live"}}),
    );
    let prefix = "arn:aws:lambda:us-east-1:123456789012:function:live-fn";
    assert_eq!(
        f.ok(json!({"Ref": "Live.Alias"})),
        json!(format!("{prefix}:live"))
    );
    assert_eq!(
        f.ok(json!({"Ref": "Live.Version"})),
        json!(format!("{prefix}:1"))
    );
    assert!(
        f.err(json!({"Ref": "Fn.Alias"}))
            .contains("unknown name Fn.Alias")
    );
}

#[test]
fn unknown_names_are_errors_naming_them() {
    let f = fixture();
    let e = f.err(json!({"Ref": "Nope"}));
    assert!(e.starts_with("unknown name Nope"), "{e}");
    assert!(
        f.err(json!({"Fn::GetAtt": ["Nope", "Arn"]}))
            .contains("unknown name Nope")
    );
    assert!(
        f.err(json!({"Fn::Sub": "${Nope}"}))
            .contains("unknown name Nope")
    );
}

#[test]
fn references_to_resources_whose_condition_is_false_are_errors() {
    let f = fixture();
    let e = f.err(json!({"Ref": "Maybe"}));
    assert!(e.contains("condition HasEmail is false"), "{e}");
    assert_eq!(
        f.ok(json!({"Fn::If": ["HasEmail", {"Ref": "Maybe"}, {"Ref": "AWS::NoValue"}]})),
        json!("<NoValue>")
    );
}

#[test]
fn sub_forms() {
    let f = fixture();
    assert_eq!(
        f.ok(json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"})),
        json!("arn:aws:iam::123456789012:root")
    );
    assert_eq!(
        f.ok(json!({"Fn::Sub": ["${A}-${Email}-${Sm.Name}", {"A": {"Ref": "Count"}}]})),
        json!("3-a@b.c-review")
    );
    assert_eq!(
        f.ok(json!({"Fn::Sub": "${!Literal} and ${ Email } and $NotAVar and ${unterminated"})),
        json!("${Literal} and a@b.c and $NotAVar and ${unterminated")
    );
    assert!(
        f.err(json!({"Fn::Sub": "${Names}"}))
            .contains("use Fn::Join")
    );
}

#[test]
fn conditions() {
    let f = fixture();
    let r = f.r();
    assert_eq!(r.condition("HasEmail"), Ok(false));
    assert_eq!(r.condition("IsEmpty"), Ok(true));
    assert_eq!(r.condition("Both"), Ok(true));
    assert_eq!(r.condition("Either"), Ok(true));
    assert!(r.condition("Loop").is_err_and(|e| e.0.contains("cycle")));
    assert!(
        r.condition("Nope")
            .is_err_and(|e| e.0.contains("unknown condition Nope"))
    );
    assert_eq!(
        f.ok(json!({"Fn::If": ["IsEmpty", "yes", "no"]})),
        json!("yes")
    );
    assert_eq!(
        f.ok(json!({"Fn::Not": [{"Fn::Equals": ["a", "b"]}]})),
        json!(true)
    );
    assert!(
        f.err(json!({"Fn::Not": ["x"]}))
            .contains("expected a condition")
    );
    assert!(f.err(json!({"Fn::And": [true]})).contains("2 to 10"));
}

#[test]
fn join_select_split_and_friends() {
    let f = fixture();
    assert_eq!(
        f.ok(json!({"Fn::Join": [":", ["a", 1, {"Ref": "Email"}]]})),
        json!("a:1:a@b.c")
    );
    assert_eq!(
        f.ok(json!({"Fn::Join": ["", {"Ref": "Names"}]})),
        json!("xy")
    );
    assert_eq!(
        f.ok(json!({"Fn::Select": ["1", {"Ref": "Names"}]})),
        json!("y")
    );
    assert_eq!(
        f.ok(json!({"Fn::Select": [0, {"Fn::Split": ["/", "a/b"]}]})),
        json!("a")
    );
    assert!(
        f.err(json!({"Fn::Select": [5, ["a"]]}))
            .contains("out of range")
    );
    assert_eq!(f.ok(json!({"Fn::Base64": "hello"})), json!("aGVsbG8="));
    assert_eq!(f.ok(json!({"Fn::Base64": "hi"})), json!("aGk="));
    assert_eq!(
        f.ok(json!({"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Size"]})),
        json!("L")
    );
    assert_eq!(
        f.ok(json!({"Fn::GetAZs": ""})),
        json!(["us-east-1a", "us-east-1b", "us-east-1c"])
    );
    assert_eq!(
        f.ok(json!({"Fn::ToJsonString": {"a": [1]}})),
        json!("{\"a\":[1]}")
    );
    assert_eq!(f.ok(json!({"Fn::Length": [1, 2]})), json!(2));
    assert!(
        f.err(json!({"Fn::ImportValue": "x"}))
            .contains("replace it with a parameter")
    );
    assert!(
        f.err(json!({"Fn::Cidr": []}))
            .contains("not supported locally")
    );
    assert!(f.err(json!({"Fn::Join": ["-"]})).contains("list of 2"));
}

#[test]
fn deep_values_are_not_mistaken_for_cycles() {
    let f = fixture();
    let mut v = json!({"Ref": "Email"});
    for _ in 0..200 {
        v = json!({"k": [v]});
    }
    let r = f.ok(v);
    assert!(r.to_string().contains("a@b.c"));
}

#[test]
fn cycles_are_errors_not_overflows() {
    let f = fixture();
    assert!(f.err(json!({"Ref": "SelfRef"})).contains("cycle"));
}

#[test]
fn check_references_finds_dangling_names() {
    let f = fixture();
    let r = f.r();
    let ok = json!({"a": {"Fn::Sub": ["${X}${Email}${!Y}", {"X": "1"}]}, "b": {"Fn::GetAtt": ["Key", "Arn"]}, "c": {"Ref": "FnRole"}});
    assert_eq!(check_references(&ok, &r), Ok(()));
    let bad = json!({"a": {"b": {"Ref": "Typo"}}});
    let e = check_references(&bad, &r)
        .err()
        .map(|e| e.0)
        .unwrap_or_default();
    assert!(e.starts_with("a: b: Ref Typo: unknown name Typo"), "{e}");
    let bad = json!({"Fn::Sub": "${Typo.Arn}"});
    assert!(check_references(&bad, &r).is_err());
}
