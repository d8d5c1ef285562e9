//! JSONPath as AWS Step Functions implements it (Jayway JsonPath semantics).
//!
//! Contract:
//! * [`JsonPath::parse`] compiles a path once (at definition time) and returns a
//!   [`DefinitionError`] for malformed syntax. Paths start with `$` (the input) or
//!   `$$` (the context object).
//! * Supported: `.name`, `['name']` / `["name"]` (a backslash keeps the next character from closing the
//!   name and is itself kept: no unescaping),
//!   `[n]`, negative `[-n]`, `[*]`, `.*`, `..` deep scan, slices `[a:b]`, unions
//!   `[0,1]` / `['a','b']`, filters `[?(@.x > 1 && @.y == 'a')]` with `== != < <= > >=`,
//!   `=~ /re/i`, `in nin subsetof anyof noneof size empty`, `!`, `&&`, `||`, parentheses.
//! * Definite paths (no scan, wildcard, filter, slice or index union) select one value
//!   or fail with Jayway's [`PathNotFound`] message (e.g. `No results for path: $['a']`).
//!   Indefinite paths always succeed with an array of the matches (possibly empty), which
//!   is what AWS returns (`$.items[*]` on `{}` gives `[]`, recorded in the conformance cases).
//! * A property union `['a','b']` may only be the last segment (Jayway: "Multi properties
//!   can only be used as path leafs"); it merges the keys found into one object per
//!   object node it applies to, and after definite segments counts as definite
//!   (Jayway's `multiPropertyMergeCase`).
//! * [`ReferencePath`] is a path of names and indexes only: `ResultPath` (over `$`) writes
//!   with [`ReferencePath::insert`], creating missing intermediate objects like AWS does;
//!   `ItemsPath` (also `$$` or `$name`) reads with [`ReferencePath::get`].
//! * Roots: `$` (input), `$$` (context object), `$name` (workflow variable, read from
//!   [`Scope::variables`]).
//!
//! Relied on: Jayway JsonPath README ("What is Returned When?": definite paths return
//! an item, indefinite ones a list) and its `PathToken`/`PropertyPathToken` error texts,
//! which AWS prints verbatim after `Invalid path '...' : `.
//!
//! Hostile input: filter nesting is capped at [`MAX_DEPTH`]; evaluation of deep scans is
//! iterative, so deep documents cannot overflow the stack.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::error::{DefinitionError, EvalError};
use crate::scope::Scope;

mod ast;
mod eval;
mod parser;
mod reference;

pub use reference::{REFERENCE_PATH_CONFLICT, ReferencePath};

use ast::Segment;
use eval::{is_definite, normalized, select_definite, select_indefinite};
use parser::Parser;

/// Maximum nesting of parentheses / filters inside one path.
pub const MAX_DEPTH: usize = 32;

/// Which document a path reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Root {
    /// `$`: the effective input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable (see [`JsonPath::variable`]).
    Variable,
}

/// A compiled JSONPath.
#[derive(Debug, Clone)]
pub struct JsonPath {
    text: String,
    root: Root,
    /// The variable name when `root` is [`Root::Variable`].
    variable: Option<String>,
    segments: Vec<Segment>,
    definite: bool,
    /// Jayway's compile failure, for a path Step Functions accepts in a definition
    /// but cannot evaluate (a filter comparing with a bare word).
    jayway_failure: Option<String>,
}

/// Jayway's "path not found" failure for a definite path; `message` is Jayway's text,
/// e.g. `No results for path: $['NoSuchInputPath']`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PathNotFound {
    /// Jayway's exception message.
    pub message: String,
}

impl JsonPath {
    /// Compiles `text` (`$...` or `$$...`).
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        let mut p = Parser::new(text);
        let (root, variable, segments) = p.top_level()?;
        let definite = is_definite(&segments);
        Ok(Self {
            text: text.to_owned(),
            root,
            variable,
            segments,
            definite,
            jayway_failure: p.jayway_failure(),
        })
    }

    /// `Ok` unless the path is one Step Functions accepts in a definition but
    /// Jayway cannot compile (a filter comparing with an unquoted word,
    /// `$[?(@.kind==es)]`): evaluating it then fails with `States.Runtime` and
    /// Jayway's text after AWS's `Invalid path '...' : ` prefix.
    pub fn usable(&self) -> Result<(), EvalError> {
        match &self.jayway_failure {
            None => Ok(()),
            Some(m) => Err(EvalError::runtime(format!(
                "Invalid path '{}' : {m}",
                self.text
            ))),
        }
    }

    /// Jayway's compile failure, when [`JsonPath::usable`] fails (for linting a
    /// definition: Step Functions accepts it).
    pub fn jayway_failure(&self) -> Option<&str> {
        self.jayway_failure.as_deref()
    }

    /// The path as written in the definition.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Which document the path reads.
    pub fn root(&self) -> Root {
        self.root
    }

    /// `true` when the path reads the context object (`$$`).
    pub fn is_context(&self) -> bool {
        self.root == Root::Context
    }

    /// The variable read by a `$name...` path.
    pub fn variable(&self) -> Option<&str> {
        self.variable.as_deref()
    }

    /// `true` for a definite path (selects at most one value).
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// `true` for the bare root path `$` (or `$$`).
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// Jayway's normalised form, e.g. `$['items'][0]` (used in its messages).
    pub fn normalized(&self) -> String {
        normalized(&self.segments)
    }

    /// Selects from the document of the scope this path reads (`$`, `$$` or `$name`).
    ///
    /// An unset variable (or a scope without variables) is a [`PathNotFound`].
    pub fn select<'a>(&self, scope: &Scope<'a>) -> Result<Cow<'a, Value>, PathNotFound> {
        let doc =
            root_doc(self.root, self.variable.as_deref(), scope).ok_or_else(|| PathNotFound {
                message: format!("No results for path: {}", self.text),
            })?;
        self.select_in(doc)
    }

    /// Selects from `doc` regardless of the root sign.
    ///
    /// Definite paths give the value or [`PathNotFound`]; indefinite ones give an array.
    pub fn select_in<'a>(&self, doc: &'a Value) -> Result<Cow<'a, Value>, PathNotFound> {
        if self.definite {
            select_definite(&self.segments, doc)
        } else {
            Ok(Cow::Owned(Value::Array(select_indefinite(
                &self.segments,
                doc,
                doc,
            ))))
        }
    }

    /// Like [`JsonPath::select`] but `None` when nothing is found.
    pub fn find<'a>(&self, scope: &Scope<'a>) -> Option<Cow<'a, Value>> {
        self.usable().ok()?;
        self.select(scope).ok()
    }
}

/// The document a root refers to in `scope`.
pub(super) fn root_doc<'a>(
    root: Root,
    variable: Option<&str>,
    scope: &Scope<'a>,
) -> Option<&'a Value> {
    match root {
        Root::Input => Some(scope.input),
        Root::Context => Some(scope.context),
        Root::Variable => scope.variable(variable?),
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Compact JSON text (Jackson's default printing, as AWS shows values in messages).
pub fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The message AWS prints when the path of a `.$` field (or ErrorPath / CausePath)
/// selects nothing, e.g. `The JSONPath '$.x' specified for the field 'x.$' could not be
/// found in the input '{"a":1}'` (recorded in the conformance `scenarios`).
pub(crate) fn path_not_found(path: &JsonPath, field: &str, scope: &Scope<'_>) -> EvalError {
    EvalError::runtime(format!(
        "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
        path.as_str(),
        field,
        compact(scope.input)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn sel(path: &str, doc: &Value) -> Result<Value, PathNotFound> {
        JsonPath::parse(path)
            .map_err(|e| PathNotFound { message: e.message })?
            .select_in(doc)
            .map(Cow::into_owned)
    }

    #[test]
    fn definite_paths() {
        let d = json!({"a": {"b": [1, 2, 3]}, "x y": 5, "it's": 6});
        assert_eq!(sel("$", &d).unwrap(), d);
        assert_eq!(sel("$.a.b[0]", &d).unwrap(), json!(1));
        assert_eq!(sel("$.a.b[-1]", &d).unwrap(), json!(3));
        assert_eq!(sel("$['x y']", &d).unwrap(), json!(5));
        assert_eq!(sel("$[\"it's\"]", &d).unwrap(), json!(6));
        assert_eq!(sel("$['it\\'s']", &json!({"it\\'s": 7})).unwrap(), json!(7));
        assert_eq!(
            sel("$['Test\\\"\"Name\"']", &json!({"Test\\\"\"Name\"": 8})).unwrap(),
            json!(8)
        );
        assert_eq!(
            sel("$['a','x y']", &d).unwrap(),
            json!({"a": d["a"], "x y": 5})
        );
    }

    #[test]
    fn a_dot_before_a_bracket_reads_as_the_bracket_alone() {
        // AWS evaluates JSONPath with Jayway, whose compiler reads whatever token
        // follows a single '.', a bracket included (issue 17: definitions from AWS's
        // sample collections use these forms).
        let d = json!({"items": [{"id": "i-1", "status": "ok"}, {"id": "i-2", "status": "no"}], "a": {"b": 2}});
        let same = [
            ("$.[0]", "$[0]", json!([7, 8])),
            ("$.items.[0].id", "$.items[0].id", d.clone()),
            (
                "$.items.[?(@.status == 'ok')].id",
                "$.items[?(@.status == 'ok')].id",
                d.clone(),
            ),
            ("$.a.['b']", "$.a['b']", d.clone()),
            ("$.items.[*].id", "$.items[*].id", d.clone()),
        ];
        for (dotted, plain, input) in same {
            assert_eq!(
                sel(dotted, &input).unwrap(),
                sel(plain, &input).unwrap(),
                "{dotted}"
            );
        }
        assert_eq!(sel("$.items.[1].id", &d).unwrap(), json!("i-2"));
        // A trailing '.' and '.' followed by '.' then a name are still refused.
        assert!(JsonPath::parse("$.").is_err());
        assert!(JsonPath::parse("$.items.").is_err());
    }

    #[test]
    fn a_filter_comparing_with_a_bare_word_parses_and_fails_when_evaluated() {
        // Jayway never compiles `@.kind==es` (the bare word is read as a number);
        // Step Functions accepts the definition and fails at run time (see
        // Parser::literal for the sources).
        let p = JsonPath::parse("$.items[?(@.kind==es)].id").unwrap();
        let e = p.usable().unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert_eq!(
            e.cause,
            "Invalid path '$.items[?(@.kind==es)].id' : Failed to parse filter: \
             [?(@.kind==es)], error on position: 12, char: s"
        );
        // Jayway stops at the first character that cannot be in a number.
        let p = JsonPath::parse("$.a[?(@.name==ecs.availability-zone)].value").unwrap();
        assert_eq!(
            p.jayway_failure(),
            Some(
                "Failed to parse filter: [?(@.name==ecs.availability-zone)], error on position: 12, char: c"
            )
        );
        let input = json!({"items": [{"kind": "es", "id": 1}]});
        let ctx = json!({});
        assert!(p.find(&Scope::new(&input, &ctx)).is_none());
        // Quoted, numbers, true/false/null: ordinary filters.
        for ok in [
            "$[?(@.kind=='es')]",
            "$[?(@.n==1e3)]",
            "$[?(@.b==true)]",
            "$[?(@.n==null)]",
        ] {
            let p = JsonPath::parse(ok).unwrap();
            assert!(p.usable().is_ok(), "{ok}");
        }
        // Other malformed filters stay definition errors.
        assert!(JsonPath::parse("$[?(@.kind==)]").is_err());
    }

    #[test]
    fn missing_definite_paths_use_jayway_messages() {
        let d = json!({"a": 1});
        assert_eq!(
            sel("$.NoSuchInputPath", &d).unwrap_err().message,
            "No results for path: $['NoSuchInputPath']"
        );
        assert_eq!(
            sel("$.b.c", &d).unwrap_err().message,
            "Missing property in path $['b']"
        );
        assert_eq!(
            sel("$.a.b[5]", &json!({"a": {"b": []}}))
                .unwrap_err()
                .message,
            "No results for path: $['a']['b'][5]"
        );
    }

    #[test]
    fn indefinite_paths_return_arrays() {
        let d = json!({"items": [{"v": 1}, {"v": 2}, {"w": 3}, {"v": 4}]});
        assert_eq!(sel("$.items[*].v", &d).unwrap(), json!([1, 2, 4]));
        assert_eq!(
            sel("$.items[1:3]", &d).unwrap(),
            json!([{"v": 2}, {"w": 3}])
        );
        assert_eq!(sel("$.items[:1].v", &d).unwrap(), json!([1]));
        assert_eq!(sel("$.items[-2:].v", &d).unwrap(), json!([4]));
        assert_eq!(sel("$.items[0,3].v", &d).unwrap(), json!([1, 4]));
        assert_eq!(sel("$..v", &d).unwrap(), json!([1, 2, 4]));
        assert_eq!(sel("$.nothing[*]", &d).unwrap(), json!([]));
        assert_eq!(sel("$[*]", &json!({})).unwrap(), json!([]));
    }

    #[test]
    fn filters() {
        let d = json!({"users": [{"year": 1997, "status": 0, "n": "a"}, {"year": 1998, "status": 1, "n": "bb"}]});
        assert_eq!(
            sel("$.users[?(@.status == 0)].year", &d).unwrap(),
            json!([1997])
        );
        assert_eq!(
            sel("$.users[?(@.year > 1997 && @.n == 'bb')].year", &d).unwrap(),
            json!([1998])
        );
        assert_eq!(
            sel("$.users[?(@.year < 1997 || !(@.status == 0))].year", &d).unwrap(),
            json!([1998])
        );
        assert_eq!(
            sel("$.users[?(@.n =~ /B+/i)].year", &d).unwrap(),
            json!([1998])
        );
        assert_eq!(
            sel("$.users[?(@.n in ['a', 'c'])].year", &d).unwrap(),
            json!([1997])
        );
        assert_eq!(sel("$.users[?(@.missing)]", &d).unwrap(), json!([]));
        assert_eq!(
            sel("$.users[?(@.status)].status", &d).unwrap(),
            json!([0, 1])
        );
    }

    #[test]
    fn special_characters_in_names() {
        let d = json!({"a-b": 1, "a.b": 2, "a b": 3, "ünï": 4, "$x": 5, "a:b": 6, "🆗": 7});
        assert_eq!(sel("$.a-b", &d).unwrap(), json!(1));
        assert_eq!(sel("$['a.b']", &d).unwrap(), json!(2));
        assert_eq!(sel("$['a b']", &d).unwrap(), json!(3));
        assert_eq!(sel("$.ünï", &d).unwrap(), json!(4));
        assert_eq!(sel("$['$x']", &d).unwrap(), json!(5));
        assert_eq!(sel("$.a:b", &d).unwrap(), json!(6));
        assert_eq!(sel("$.🆗", &d).unwrap(), json!(7));
        assert_eq!(sel("$[\"a b\"]", &d).unwrap(), json!(3));
    }

    #[test]
    fn scans_wildcards_and_unions() {
        let d = json!({"a": {"x": 1, "b": [{"x": 2}, {"y": [{"x": 3}]}]}});
        assert_eq!(sel("$..x", &d).unwrap(), json!([1, 2, 3]));
        assert_eq!(sel("$..b[0]", &d).unwrap(), json!([{"x": 2}]));
        assert_eq!(sel("$.a.*", &d).unwrap(), json!([1, d["a"]["b"]]));
        // A union leaf after a scan merges per object node (Jayway), even when empty.
        assert_eq!(
            sel("$..['x','y']", &d).unwrap(),
            json!([{}, {"x": 1}, {"x": 2}, {"y": [{"x": 3}]}, {"x": 3}])
        );
        assert_eq!(sel("$.a.b[*].x", &d).unwrap(), json!([2]));
        assert_eq!(sel("$.a.b[5:]", &d).unwrap(), json!([]));
        assert_eq!(sel("$.a.b[-5:1]", &d).unwrap(), json!([{"x": 2}]));
        // A multi-name union merges only as the last segment, and counts as definite.
        let p = JsonPath::parse("$.a['x','nope']").unwrap();
        assert!(p.is_definite());
        assert_eq!(p.select_in(&d).unwrap().into_owned(), json!({"x": 1}));
        assert!(
            JsonPath::parse("$['a','b'].x").is_err(),
            "multi properties only as leafs"
        );
        assert_eq!(
            sel("$.a.b[*]['x','y']", &d).unwrap(),
            json!([{"x": 2}, {"y": [{"x": 3}]}])
        );
    }

    #[test]
    fn filter_operators() {
        let d = json!({"max": 2, "l": [
            {"n": 1, "s": "a", "t": ["x"]},
            {"n": 2, "s": "B", "t": []},
            {"n": "3", "s": "cc", "t": ["x", "y"]}
        ]});
        let ns = |f: &str| sel(&format!("$.l[?({f})].n"), &d).unwrap();
        assert_eq!(ns("@.n <= $.max"), json!([1, 2]));
        assert_eq!(ns("@.n != 1"), json!([2, "3"]));
        assert_eq!(
            ns("@.n == 3"),
            json!(["3"]),
            "Jayway compares a number with a numeric string"
        );
        assert_eq!(
            ns("@.n > '1'"),
            json!(["3"]),
            "numbers do not order against strings; the string \"3\" does"
        );
        assert_eq!(ns("@.s =~ /b/i"), json!([2]));
        assert_eq!(
            ns("@.s =~ /c/"),
            json!([]),
            "regex must match the whole string"
        );
        assert_eq!(ns("@.s nin ['a', 'B']"), json!(["3"]));
        assert_eq!(ns("@.t size 2"), json!(["3"]));
        assert_eq!(ns("@.t empty true"), json!([2]));
        assert_eq!(ns("@.t subsetof ['x']"), json!([1, 2]));
        assert_eq!(ns("@.t anyof ['y']"), json!(["3"]));
        assert_eq!(ns("@.t noneof ['x']"), json!([2]));
        assert_eq!(ns("(@.n == 1 || @.n == 2) && !(@.s == 'a')"), json!([2]));
        // A filter on an object tests the object itself.
        assert_eq!(sel("$[?(@.max == 2)].max", &d).unwrap(), json!([2]));
    }

    #[test]
    fn definite_misses_on_wrong_types() {
        let d = json!({"s": "str", "n": null, "arr": [1]});
        let m = sel("$.s.x", &d).unwrap_err().message;
        assert!(
            m.starts_with("Expected to find an object with property ['x'] in path $['s']"),
            "{m}"
        );
        assert!(sel("$.n.x", &d).is_err());
        assert!(sel("$.arr.x", &d).is_err());
        assert!(sel("$.s[0]", &d).is_err());
        assert_eq!(sel("$.arr[-1]", &d).unwrap(), json!(1));
        assert!(sel("$.arr[-2]", &d).is_err());
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "",
            "a",
            "$.",
            "$[",
            "$['a'",
            "$[?(@.a == 1]",
            "$.a b",
            "$.length()",
            "$[abc]",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad} should not parse");
        }
        let deep = format!("$[?({}@.a{})]", "(".repeat(100), ")".repeat(100));
        assert!(JsonPath::parse(&deep).is_err());
        let deep_not = format!("$[?({}@.a)]", "!".repeat(100));
        assert!(JsonPath::parse(&deep_not).is_err());
    }

    #[test]
    fn context_root() {
        let p = JsonPath::parse("$$.Execution.Name").unwrap();
        assert!(p.is_context());
        let input = json!({});
        let ctx = json!({"Execution": {"Name": "n"}});
        assert_eq!(
            p.select(&Scope::new(&input, &ctx)).unwrap().into_owned(),
            json!("n")
        );
    }

    #[test]
    fn reference_path_insert() {
        let r = ReferencePath::parse("$.a.b").unwrap();
        assert_eq!(
            r.insert(json!({"x": 1}), json!(2)).unwrap(),
            json!({"x": 1, "a": {"b": 2}})
        );
        assert_eq!(
            ReferencePath::parse("$")
                .unwrap()
                .insert(json!({"x": 1}), json!(2))
                .unwrap(),
            json!(2)
        );
        let e = r.insert(json!({"a": "str"}), json!(2)).unwrap_err();
        assert_eq!(e.error, "States.ReferencePathConflict");
        assert_eq!(e.cause, r#"Unable to apply step "b" to input {"a":"str"}"#);
        let e = ReferencePath::parse("$.agg")
            .unwrap()
            .insert(json!([1, 2]), json!(2))
            .unwrap_err();
        assert_eq!(e.cause, r#"Unable to apply step "agg" to input [1,2]"#);
        assert_eq!(
            r.insert(json!({"a": null}), json!(2)).unwrap(),
            json!({"a": {"b": 2}})
        );
        let arr = ReferencePath::parse("$.l[1].x").unwrap();
        assert_eq!(
            arr.insert(json!({"l": [0, {}]}), json!(1)).unwrap(),
            json!({"l": [0, {"x": 1}]})
        );
        assert!(arr.insert(json!({"l": [0]}), json!(1)).is_err());
        assert!(ReferencePath::parse("$.a[*]").is_err());
        assert!(ReferencePath::parse("$$.a").is_err());
    }

    #[test]
    fn variables() {
        let input = json!({});
        let ctx = json!({});
        let mut vars = Map::new();
        vars.insert("answer".into(), json!({"v": [1, 2]}));
        let scope = Scope::new(&input, &ctx).with_variables(&vars);
        let p = JsonPath::parse("$answer.v[1]").unwrap();
        assert_eq!(p.root(), Root::Variable);
        assert_eq!(p.variable(), Some("answer"));
        assert_eq!(p.select(&scope).unwrap().into_owned(), json!(2));
        assert!(JsonPath::parse("$nope").unwrap().select(&scope).is_err());
        assert!(p.select(&Scope::new(&input, &ctx)).is_err());
        assert!(ReferencePath::parse("$answer.x").is_err());
        let items = ReferencePath::parse_any_root("$answer.v").unwrap();
        assert_eq!(items.get(&scope).unwrap(), &json!([1, 2]));
    }

    #[test]
    fn reference_path_get() {
        let input = json!({"discovery": {"statusCode": 500}});
        let ctx = json!({"Execution": {"Input": {"items": [1]}}});
        let scope = Scope::new(&input, &ctx);
        let items = ReferencePath::parse_any_root("$$.Execution.Input.items").unwrap();
        assert_eq!(items.get(&scope).unwrap(), &json!([1]));
        let e = ReferencePath::parse_any_root("$.discovery.objects")
            .unwrap()
            .get(&scope)
            .unwrap_err();
        assert_eq!(e.error, "States.ReferencePathConflict");
        assert_eq!(
            e.cause,
            r#"Unable to apply step "objects" to input {"discovery":{"statusCode":500}}"#
        );
    }
}
