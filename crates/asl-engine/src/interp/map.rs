//! The Map state: items, `ItemSelector`, `ItemBatcher`, inline and distributed.

use asl_eval::jsonata::Env;
use asl_eval::{EvalError, Scope};
use serde_json::{Map, Value, json};

use super::run::{Flow, Run};
use super::writer::ChildRecord;
use super::{Active, ChildKind, Children, Failure};
use crate::definition::{Kind, MapMode, MapState, NumOrPath, State};
use crate::history::json_text;

impl Run<'_> {
    pub(super) fn run_map(&mut self, t: u64, st: &State, a: &mut Active) -> Flow {
        let Kind::Map(m) = &st.kind else {
            return Flow::Blocked;
        };
        let (ctx, vars, eff) = match self.children_input(t, st, a) {
            Ok(v) => v,
            Err(f) => return Flow::Fail(f),
        };
        let scope = Scope::new(&eff, &ctx).with_variables(&vars);
        let env = Env::new(&a.input, &ctx).with_variables(&vars);
        let max = match m
            .max_concurrency
            .as_ref()
            .map(|n| self.num(n, &scope, &env))
            .transpose()
        {
            Ok(v) => v.unwrap_or(0.0).max(0.0) as usize,
            Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
        };
        if m.mode == MapMode::Distributed
            && let Some(reader) = &m.item_reader
        {
            let ch = Children {
                max,
                ..Children::new(ChildKind::Distributed, eff, Vec::new())
            };
            return self.start_reader(t, st, a, m, reader, &ctx, &vars, ch);
        }
        let selected_items = match &m.items {
            // `"Items": "{% ... %}"` must give an array (conformance
            // `test_map_state_items_eval_jsonata_fail`); a literal array may hold
            // expressions (`test_base_map[ITEMS]`).
            Some(p) => match p.as_expr() {
                Some(e) => e.evaluate_typed("Items", &env, "array"),
                None => p.evaluate("Items", &env),
            },
            None if st.jsonata => match &a.input {
                Value::Array(_) => Ok(a.input.clone()),
                // Cause recorded by AWS (conformance `test_map_state_items_input_types`).
                other => Err(EvalError::new(
                    asl_eval::error::names::QUERY_EVALUATION_ERROR,
                    format!(
                        "Map state input must be an array but was: {}",
                        json_text(other)
                    ),
                )),
            },
            None => Self::input_path(&m.items_path, &eff, &ctx, &vars),
        };
        let items = match selected_items {
            Ok(Value::Array(items)) => items,
            Ok(other) => {
                return Flow::Fail(Self::fail_eval(
                    a,
                    EvalError::runtime(format!(
                        "Items of Map state must be a JSON array, but found: {}",
                        json_text(&other)
                    )),
                ));
            }
            Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
        };
        // ItemBatcher groups the items after ItemSelector shaped each of them.
        let (items, preselected) = match self.select_and_batch(t, st, a, m, items, &eff) {
            Ok(v) => v,
            Err(f) => return Flow::Fail(f),
        };
        self.emit(
            t,
            "MapStateStarted",
            "mapStateStartedEventDetails",
            json!({"length": items.len()}),
            true,
        );
        // AWS evaluates the tolerance fields only after MapStateStarted.
        let (tolerated_count, tolerated_pct) = match self.tolerance(m, &scope, &env) {
            Ok(v) => v,
            Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
        };
        if let Some(single) = self.single.as_deref_mut() {
            // TestState: the iterations' result is the mock (super::single). What AWS
            // reports for a Map (LocalStack's AWS recordings `test_map_state_failure_count`,
            // `test_state_map_context_object[EXECUTION_INPUT_VALUES]`).
            let i = &mut single.inspection;
            if !st.jsonata {
                i.after_input_path = Some(eff);
                i.after_items_path = Some(Value::Array(items.clone()));
            }
            i.max_concurrency = Some(max as u64);
            i.tolerated_failure_count = tolerated_count;
            i.tolerated_failure_percentage = tolerated_pct;
            single.map_items = Some(items.len());
            return Flow::Blocked;
        }
        let kind = match m.mode {
            MapMode::Inline => ChildKind::Inline,
            MapMode::Distributed => ChildKind::Distributed,
        };
        let map_run = (kind == ChildKind::Distributed).then(|| {
            self.start_map_run(t, m.label.as_deref(), max, tolerated_count, tolerated_pct)
        });
        let records = (map_run.is_some() && m.result_writer.is_some())
            .then(|| vec![ChildRecord::default(); items.len()]);
        let n = items.len();
        let ch = Children {
            max,
            tolerated_count,
            tolerated_pct,
            preselected,
            map_run,
            records,
            ..Children::new(kind, eff, items)
        };
        self.wait_for_children(t, a, ch);
        if n == 0 {
            self.children_complete(t);
        } else {
            self.spawn_children(t);
        }
        Flow::Handled
    }

    /// ToleratedFailureCount / ToleratedFailurePercentage, evaluated.
    pub(super) fn tolerance(
        &self,
        m: &MapState,
        scope: &Scope<'_>,
        env: &Env<'_>,
    ) -> Result<(Option<u64>, Option<f64>), EvalError> {
        let c = m
            .tolerated_failure_count
            .as_ref()
            .map(|n| self.num(n, scope, env))
            .transpose()?;
        let p = m
            .tolerated_failure_percentage
            .as_ref()
            .map(|n| self.num(n, scope, env))
            .transpose()?;
        if c.is_some_and(|c| c < 0.0) {
            return Err(EvalError::runtime(
                "ToleratedFailureCount cannot be negative.",
            ));
        }
        if p.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
            return Err(EvalError::runtime(
                "ToleratedFailurePercentage must be between 0 and 100.",
            ));
        }
        Ok((c.map(|c| c as u64), p))
    }

    /// A distributed Map's ItemBatcher: each item through ItemSelector, then grouped.
    /// Without a batcher the items stay as they are (ItemSelector applies at spawn);
    /// the flag says whether they were selected here.
    pub(super) fn select_and_batch(
        &mut self,
        t: u64,
        st: &State,
        a: &Active,
        m: &MapState,
        items: Vec<Value>,
        eff: &Value,
    ) -> Result<(Vec<Value>, bool), Failure> {
        let Some(b) = m
            .item_batcher
            .as_ref()
            .filter(|_| m.mode == MapMode::Distributed)
        else {
            return Ok((items, false));
        };
        let vars = self.vars_of(t);
        let mut selected = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let v = match (&m.item_selector, &m.item_selector_jsonata) {
                (Some(sel), _) => {
                    let ctx = self.context(a, st, None, Some((i, item)));
                    sel.evaluate(&Scope::new(eff, &ctx).with_variables(&vars))
                }
                (None, Some(sel)) => {
                    let ctx = self.context(a, st, None, Some((i, item)));
                    let env = Env::new(&a.input, &ctx).with_variables(&vars);
                    sel.evaluate("ItemSelector", &env)
                }
                (None, None) => Ok(item.clone()),
            };
            selected.push(v.map_err(|e| Self::fail_eval(a, e))?);
        }
        // The limits and BatchInput are evaluated once, against the Map state's
        // effective input.
        let ctx = self.context(a, st, None, None);
        let scope = Scope::new(eff, &ctx).with_variables(&vars);
        let env = Env::new(&a.input, &ctx).with_variables(&vars);
        let limit = |n: &Option<NumOrPath>| {
            n.as_ref()
                .map(|n| self.num(n, &scope, &env).map(|v| v.max(1.0) as usize))
                .transpose()
        };
        let per = limit(&b.max_items_per_batch).map_err(|e| Self::fail_eval(a, e))?;
        let bytes = limit(&b.max_input_bytes_per_batch).map_err(|e| Self::fail_eval(a, e))?;
        let input = match (&b.batch_input, &b.batch_input_jsonata) {
            (Some(t), _) => Some(t.evaluate(&scope)),
            (None, Some(p)) => Some(p.evaluate("BatchInput", &env)),
            (None, None) => None,
        }
        .transpose()
        .map_err(|e| Self::fail_eval(a, e))?;
        Ok((batch(selected, per, bytes, input.as_ref()), true))
    }

    pub(super) fn uuid(&mut self) -> String {
        let a = self.rand();
        let b = self.rand();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

/// ItemBatcher: groups items into `{"Items": [...]}` objects (plus `BatchInput`), at most
/// `MaxItemsPerBatch` items and `MaxInputBytesPerBatch` bytes of JSON each (developer
/// guide, "ItemBatcher (Map)"). An item larger than the byte limit still makes a batch
/// of one (how AWS treats that case is not documented).
pub(super) fn batch(
    items: Vec<Value>,
    per: Option<usize>,
    max_bytes: Option<usize>,
    batch_input: Option<&Value>,
) -> Vec<Value> {
    let per = per.unwrap_or(usize::MAX).max(1);
    let make = |chunk: Vec<Value>| {
        let mut m = Map::new();
        if let Some(b) = batch_input {
            m.insert("BatchInput".into(), b.clone());
        }
        m.insert("Items".into(), Value::Array(chunk));
        Value::Object(m)
    };
    let Some(max_bytes) = max_bytes else {
        return items.chunks(per).map(|c| make(c.to_vec())).collect();
    };
    // The batch object without items, then each item and the comma before it.
    let overhead = json_text(&make(Vec::new())).len();
    let mut out = Vec::new();
    let mut chunk = Vec::new();
    let mut size = overhead;
    for item in items {
        let len = json_text(&item).len();
        if !chunk.is_empty() && (chunk.len() >= per || size + 1 + len > max_bytes) {
            out.push(make(std::mem::take(&mut chunk)));
            size = overhead;
        }
        size += len + usize::from(!chunk.is_empty());
        chunk.push(item);
    }
    if !chunk.is_empty() {
        out.push(make(chunk));
    }
    out
}
