//! The Pass state.

use asl_eval::Scope;
use asl_eval::jsonata::Env;
use serde_json::{Map, Value};

use super::run::{Flow, Run, eval_assign};
use super::{Active, needs_context};
use crate::definition::State;

impl Run<'_> {
    pub(super) fn run_pass(
        &mut self,
        st: &State,
        a: &Active,
        result: Option<&Value>,
        vars: &Map<String, Value>,
    ) -> Flow {
        let ctx = if needs_context(st) || st.assign.is_some() {
            self.context(a, st, None, None)
        } else {
            Value::Null
        };
        let r = (|| {
            let eff = Self::input_path(&st.io.input_path, &a.input, &ctx, vars)?;
            let res = match (result, &st.io.parameters) {
                (Some(r), _) => r.clone(),
                (None, Some(p)) => p.evaluate(&Scope::new(&eff, &ctx).with_variables(vars))?,
                (None, None) => eff.clone(),
            };
            // What AWS reports (LocalStack's AWS recordings
            // `test_base_inspection_level_debug[IO_PASS_STATE]` and
            // `[IO_RESULT_PASS_STATE]`): with `Result`, the result and no
            // afterInputPath/afterParameters; without, those two; always
            // afterResultSelector (a Pass state has no ResultSelector: the result).
            self.inspect(|i| {
                match result {
                    Some(_) => i.result = Some(res.clone()),
                    None => {
                        i.after_input_path = Some(eff);
                        i.after_parameters = Some(res.clone());
                    }
                }
                i.after_result_selector = Some(res.clone());
            });
            // JSONPath Assign reads the Pass state's result (Result, Parameters, or the
            // effective input) as `$` (conformance `test_assign_from_value`).
            let env = Env::new(&a.input, &ctx);
            self.pending_assign = eval_assign(st.assign.as_ref(), &res, &env, vars)?;
            let combined = Self::result_path(&st.io.result_path, &a.input, res)?;
            self.inspect(|i| i.after_result_path = Some(combined.clone()));
            Self::output(st, &combined, &ctx, vars)
        })();
        match r {
            Ok(v) => Flow::Exit(v),
            Err(e) => Flow::Fail(Self::fail_eval(a, e)),
        }
    }
}
