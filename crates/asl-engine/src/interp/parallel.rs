//! The Parallel state.

use asl_eval::Scope;
use asl_eval::jsonata::Env;
use serde_json::Value;

use super::run::{Flow, Run};
use super::{Active, ChildKind, Children, Wait};
use crate::definition::{Kind, State};

impl Run<'_> {
    pub(super) fn run_parallel(&mut self, t: u64, st: &State, a: &mut Active) -> Flow {
        let Kind::Parallel { branches } = &st.kind else {
            return Flow::Blocked;
        };
        let ctx = self.context(a, st, None, None);
        let vars = self.vars_of(t);
        let eff = match Self::input_path(&st.io.input_path, &a.input, &ctx, &vars) {
            Ok(v) => v,
            Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
        };
        let n = branches.len();
        // `Parameters` (JSONata: `Arguments`) of a Parallel state shape the input of
        // every branch.
        let branch_input = match (&st.io.parameters, &st.arguments) {
            (Some(p), _) => match p.evaluate(&Scope::new(&eff, &ctx).with_variables(&vars)) {
                Ok(v) => v,
                Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
            },
            (None, Some(args)) => {
                match args.evaluate("Arguments", &Env::new(&a.input, &ctx).with_variables(&vars)) {
                    Ok(v) => v,
                    Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
                }
            }
            (None, None) => eff.clone(),
        };
        if self.single.is_some() {
            // TestState: the branches' result is the mock (super::single).
            return Flow::Blocked;
        }
        self.emit(t, "ParallelStateStarted", "", Value::Null, true);
        a.wait = Wait::Children(Box::new(Children {
            kind: ChildKind::Parallel,
            eff_input: eff,
            items: vec![branch_input; n],
            results: vec![None; n],
            running: Vec::new(),
            next: 0,
            max: 0,
            done: 0,
            failures: 0,
            tolerated_count: None,
            tolerated_pct: None,
            preselected: false,
        }));
        self.set_active(t, a.clone());
        self.spawn_children(t);
        Flow::Handled
    }
}
