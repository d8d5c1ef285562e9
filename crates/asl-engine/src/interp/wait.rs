//! The Wait state.

use asl_eval::jsonata::Env;
use asl_eval::{EvalError, Scope};
use serde_json::{Map, Value};

use super::jsonata::jsonata_whole;
use super::run::{Flow, Run, eval_assign};
use super::{Active, Wait, after_secs, after_whole_secs, needs_context};
use crate::definition::{NumOrPath, State, WaitFor};

impl Run<'_> {
    pub(super) fn run_wait(
        &mut self,
        t: u64,
        st: &State,
        a: &mut Active,
        w: &WaitFor,
        vars: &Map<String, Value>,
    ) -> Flow {
        let ctx = if needs_context(st) || st.jsonata {
            self.context(a, st, None, None)
        } else {
            Value::Null
        };
        let due = (|| {
            let eff = Self::input_path(&st.io.input_path, &a.input, &ctx, vars)?;
            if !st.jsonata {
                self.inspect(|i| i.after_input_path = Some(eff.clone()));
            }
            let scope = Scope::new(&eff, &ctx).with_variables(vars);
            let env = Env::new(&a.input, &ctx).with_variables(vars);
            Ok::<i64, EvalError>(match w {
                WaitFor::Seconds(s) => after_secs(self.now, *s),
                WaitFor::SecondsPath(p) => after_whole_secs(self.now, p.seconds(&scope)?),
                WaitFor::Timestamp(ts) => ts.timestamp_millis(),
                WaitFor::TimestampPath(p) => p.timestamp(&scope)?.timestamp_millis(),
                WaitFor::SecondsExpr(e) => {
                    after_whole_secs(self.now, jsonata_whole(e, "Seconds", &env)?)
                }
                WaitFor::TimestampExpr(e) => {
                    let v = e.evaluate_typed("Timestamp", &env, "string")?;
                    let text = v.as_str().unwrap_or_default();
                    // Cause recorded by AWS (conformance `test_wait_timestamp_jsonata`).
                    asl_eval::timestamp::parse(text)
                        .ok_or_else(|| {
                            EvalError::new(
                                asl_eval::error::names::QUERY_EVALUATION_ERROR,
                                format!(
                                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {text}"
                                ),
                            )
                        })?
                        .timestamp_millis()
                }
            })
        })();
        match due {
            Err(e) => Flow::Fail(Self::fail_eval(a, e)),
            // TestState does not wait: it reports what the state leads to at once.
            Ok(due) if due <= self.now || self.single.is_some() => self.wait_done(t, st, a),
            Ok(due) => {
                a.wait = Wait::Timer(self.timer(due));
                Flow::Blocked
            }
        }
    }

    pub(super) fn wait_done(&mut self, t: u64, st: &State, a: &Active) -> Flow {
        let ctx = if needs_context(st) || st.jsonata || st.assign.is_some() {
            self.context(a, st, None, None)
        } else {
            Value::Null
        };
        let vars = self.vars_of(t);
        let env = Env::new(&a.input, &ctx).with_variables(&vars);
        if st.jsonata {
            return match self.jsonata_exit(
                st.output.as_ref(),
                st.assign.as_ref(),
                &env,
                &vars,
                a.input.clone(),
            ) {
                Ok(v) => Flow::Exit(v),
                Err(e) => Flow::Fail(Self::fail_eval(a, e)),
            };
        }
        match eval_assign(st.assign.as_ref(), &a.input, &env, &vars)
            .map(|assigned| self.pending_assign = assigned)
            .and_then(|()| Self::input_path(&st.io.input_path, &a.input, &ctx, &vars))
            .and_then(|eff| Self::output(st, &eff, &ctx, &vars))
        {
            Ok(v) => Flow::Exit(v),
            Err(e) => Flow::Fail(Self::fail_eval(a, e)),
        }
    }

    pub(super) fn num(
        &self,
        n: &NumOrPath,
        scope: &Scope<'_>,
        env: &Env<'_>,
    ) -> Result<f64, EvalError> {
        match n {
            NumOrPath::Literal(v) => Ok(*v),
            NumOrPath::Path(p) => p.non_negative_integer(scope).map(|v| v as f64),
            NumOrPath::Expr(e, field) => jsonata_whole(e, field, env).map(|v| v as f64),
        }
    }
}
