//! The Parallel state.

use asl_eval::Scope;
use asl_eval::jsonata::Env;
use serde_json::Value;

use super::run::{Flow, Run};
use super::{Active, ChildKind, Children};
use crate::definition::{Kind, State};

impl Run<'_> {
    pub(super) fn run_parallel(&mut self, t: u64, st: &State, a: &mut Active) -> Flow {
        let Kind::Parallel { branches } = &st.kind else {
            return Flow::Blocked;
        };
        let (ctx, vars, eff) = match self.children_input(t, st, a) {
            Ok(v) => v,
            Err(f) => return Flow::Fail(f),
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
        let ch = Children::new(ChildKind::Parallel, eff, vec![branch_input; n]);
        self.wait_for_children(t, a, ch);
        self.spawn_children(t);
        Flow::Handled
    }
}
