//! Hostile-input smoke test: thousands of random, mostly malformed expressions built from
//! the characters the grammars care about must never panic, only compile or fail with a
//! `DefinitionError`; whatever compiles must evaluate to a value or an `EvalError`.
//! Deterministic (fixed seed) so a failure is reproducible.

use asl_eval::Scope;
use asl_eval::choice::Condition;
use asl_eval::intrinsic::Intrinsic;
use asl_eval::jsonpath::{JsonPath, ReferencePath};
use asl_eval::template::Template;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

const PIECES: &[&str] = &[
    "$",
    "$$",
    ".",
    "..",
    "[",
    "]",
    "(",
    ")",
    "?",
    "@",
    "*",
    ":",
    ",",
    "'",
    "\"",
    "\\",
    "-1",
    "0",
    "2",
    "a",
    "b",
    "items",
    " ",
    "==",
    "!=",
    "<",
    ">=",
    "&&",
    "||",
    "!",
    "=~",
    "/a.*/i",
    "in",
    "true",
    "null",
    "{}",
    "{",
    "}",
    "States.Format",
    "States.Array",
    "States.ArrayGetItem",
    "States.MathAdd",
    "States.StringSplit",
    "States.JsonMerge",
    "States.Hash",
    "'MD5'",
    "é",
    "\u{1F197}",
];

const SEGMENTS: &[&str] = &[
    ".a",
    ".b",
    ".items",
    "[0]",
    "[-1]",
    "[*]",
    "..a",
    "['a']",
    "['a','b']",
    "[0:2]",
    "[-2:]",
    "[0,1]",
    "[?(@.a > 1)]",
    "[?(@.a == 'x' || !@.b)]",
    "[?(@.a in [1, 's'])]",
    ".*",
];
const FUNCTIONS: &[&str] = &[
    "States.Format",
    "States.Array",
    "States.ArrayGetItem",
    "States.MathAdd",
    "States.StringSplit",
    "States.JsonMerge",
    "States.Hash",
    "States.ArrayLength",
    "States.ArrayPartition",
    "States.ArrayRange",
    "States.StringToJson",
    "States.JsonToString",
    "States.Base64Decode",
    "States.ArrayUnique",
];

fn random_path(rng: &mut StdRng) -> String {
    let mut s = String::from(if rng.random_bool(0.2) { "$$" } else { "$" });
    for _ in 0..rng.random_range(0..4) {
        s.push_str(SEGMENTS[rng.random_range(0..SEGMENTS.len())]);
    }
    s
}

fn random_call(rng: &mut StdRng, depth: usize) -> String {
    let f = FUNCTIONS[rng.random_range(0..FUNCTIONS.len())];
    let args: Vec<String> = (0..rng.random_range(0..4))
        .map(|_| match rng.random_range(0..6) {
            0 if depth < 3 => random_call(rng, depth + 1),
            1 => "'{} \\' \\{ x'".to_owned(),
            2 => rng.random_range(-3..5).to_string(),
            3 => ["true", "false", "null", "'MD5'", "','"][rng.random_range(0..5)].to_owned(),
            _ => random_path(rng),
        })
        .collect();
    format!("{f}({})", args.join(", "))
}

/// A mostly well-formed path or call, then a few random mutations.
fn random_expr(rng: &mut StdRng) -> String {
    let mut s = if rng.random_bool(0.5) {
        random_path(rng)
    } else {
        random_call(rng, 0)
    };
    for _ in 0..rng.random_range(0..3) {
        let cut = rng.random_range(0..=s.len());
        if !s.is_char_boundary(cut) {
            continue;
        }
        if rng.random_bool(0.5) {
            s.insert_str(cut, PIECES[rng.random_range(0..PIECES.len())]);
        } else {
            let end = (cut + 1..=s.len())
                .find(|&i| s.is_char_boundary(i))
                .unwrap_or(cut);
            s.replace_range(cut..end, "");
        }
    }
    s
}

#[test]
fn random_expressions_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let input =
        json!({"a": {"b": [1, "x", null, {"a": 2}]}, "items": [{"a": 1}, {"a": "s"}], "b": "a,b"});
    let ctx = json!({"Execution": {"Name": "n", "Input": input.clone()}});
    let scope = Scope::new(&input, &ctx);
    let mut compiled = 0;
    for _ in 0..20_000 {
        let text = random_expr(&mut rng);
        if let Ok(p) = JsonPath::parse(&text) {
            compiled += 1;
            let _ = p.select(&scope);
        }
        if let Ok(r) = ReferencePath::parse(&text) {
            let _ = r.insert(input.clone(), json!(1));
        }
        if let Ok(i) = Intrinsic::parse(&text) {
            compiled += 1;
            let _ = i.evaluate(&scope, "f.$");
        }
        if let Ok(t) = Template::compile(&json!({"k.$": text.clone()})) {
            let _ = t.evaluate(&scope);
        }
        let rule = json!({"Variable": text.clone(), "StringMatches": text.clone()});
        if let Ok(c) = Condition::parse(&rule) {
            let _ = c.evaluate(&scope);
        }
    }
    eprintln!("{compiled} of 20000 random expressions compiled");
    assert!(
        compiled > 0,
        "the generator should produce some valid expressions"
    );
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let depth = 50_000;
    let path = format!("$[?({}@.a{})]", "(".repeat(depth), ")".repeat(depth));
    assert!(JsonPath::parse(&path).is_err());
    let bangs = format!("$[?({}@.a)]", "!".repeat(depth));
    assert!(JsonPath::parse(&bangs).is_err());
    let lists = format!("$[?(@.a in {}1{})]", "[".repeat(depth), "]".repeat(depth));
    assert!(JsonPath::parse(&lists).is_err());
    let call = format!("{}1{}", "States.Array(".repeat(depth), ")".repeat(depth));
    assert!(Intrinsic::parse(&call).is_err());
}
