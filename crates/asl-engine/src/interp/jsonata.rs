//! JSONata states: `Arguments`, `Output`, `Assign` and their evaluation failures.

use asl_eval::EvalError;
use asl_eval::jsonata::Env;
use serde_json::{Map, Value};

use super::run::{Flow, Run, eval_assign};
use super::{Active, Failure};
use crate::definition::{Assign, Kind, State, Transition};
use crate::history::json_text;

impl Run<'_> {
    /// AWS records `EvaluationFailed` (error, cause, location, state) when a JSONata
    /// expression fails, before the state's own failure events; when it follows the
    /// Entered event directly, its previous event is the one before the state was
    /// entered (conformance `assign`, `scenarios`), except in a Wait state, where it is
    /// WaitStateEntered. After other events (a Task's result, say) it follows the last
    /// one: the suite records no such case, so this keeps the usual chain.
    pub(super) fn evaluation_failed(&mut self, t: u64, a: &Active, f: &Failure) {
        let Some(location) = &f.location else {
            return;
        };
        let waits = self
            .state_of(t, &a.state)
            .is_some_and(|st| matches!(st.kind, Kind::Wait(_)));
        if !waits
            && let Some(th) = self.exec.threads.get_mut(&t)
            && th.cursor == a.entered_id
        {
            th.cursor = a.entered_prev;
        }
        let mut d = Map::new();
        if let Some(e) = &f.error {
            d.insert("error".into(), Value::from(e.clone()));
        }
        if let Some(c) = &f.cause {
            d.insert("cause".into(), Value::from(c.clone()));
        }
        // Some failures name no field (`Map state input must be an array ...`).
        if !location.is_empty() {
            d.insert("location".into(), Value::from(location.clone()));
        }
        d.insert("state".into(), Value::from(a.state.clone()));
        self.emit(
            t,
            "EvaluationFailed",
            "evaluationFailedEventDetails",
            Value::Object(d),
            true,
        );
    }

    /// A JSONata state's `Assign` then `Output` (default `default`), both reading the
    /// variables as they were when the state was entered (developer guide, "Passing data
    /// between states with variables": assignments take effect when the state exits).
    pub(super) fn jsonata_exit(
        &mut self,
        output: Option<&asl_eval::jsonata::Payload>,
        assign: Option<&Assign>,
        env: &Env<'_>,
        vars: &Map<String, Value>,
        default: Value,
    ) -> Result<Value, EvalError> {
        self.pending_assign = eval_assign(assign, env.input, env, vars)?;
        match output {
            Some(p) => p.evaluate("Output", env),
            None => Ok(default),
        }
    }

    /// The JSONata version of [`Run::execute`]'s per-type logic.
    pub(super) fn execute_jsonata(&mut self, t: u64, st: &State, a: &mut Active) -> Flow {
        let vars = self.vars_of(t);
        match &st.kind {
            Kind::Pass { .. } | Kind::Succeed => {
                let ctx = self.context(a, st, None, None);
                let env = Env::new(&a.input, &ctx).with_variables(&vars);
                match self.jsonata_exit(
                    st.output.as_ref(),
                    st.assign.as_ref(),
                    &env,
                    &vars,
                    a.input.clone(),
                ) {
                    Ok(out) if matches!(st.kind, Kind::Succeed) => {
                        Flow::ExitTo(out, Transition::End)
                    }
                    Ok(out) => Flow::Exit(out),
                    Err(e) => Flow::Fail(Self::fail_eval(a, e)),
                }
            }
            Kind::Choice {
                jsonata_rules,
                default,
                ..
            } => {
                let ctx = self.context(a, st, None, None);
                let env = Env::new(&a.input, &ctx).with_variables(&vars);
                let mut chosen = None;
                for r in jsonata_rules {
                    match r.condition.evaluate_typed("Condition", &env, "boolean") {
                        Ok(Value::Bool(true)) => {
                            chosen = Some(r);
                            break;
                        }
                        Ok(_) => {}
                        Err(e) => return Flow::Fail(Self::fail_eval(a, e)),
                    }
                }
                let (next, output, assign) = match chosen {
                    Some(r) => (
                        r.next.clone(),
                        r.output.as_ref().or(st.output.as_ref()),
                        r.assign.as_ref(),
                    ),
                    None => match default {
                        Some(d) => (d.clone(), st.output.as_ref(), st.assign.as_ref()),
                        None => {
                            return Flow::Fail(Failure::new(
                                "States.NoChoiceMatched",
                                format!(
                                    "An error occurred while executing the state '{}' (entered at the event id #{}). No Matches!",
                                    a.state, a.entered_id
                                ),
                            ));
                        }
                    },
                };
                match self.jsonata_exit(output, assign, &env, &vars, a.input.clone()) {
                    Ok(out) => Flow::ExitTo(out, Transition::Next(next)),
                    Err(e) => Flow::Fail(Self::fail_eval(a, e)),
                }
            }
            Kind::Wait(w) => self.run_wait(t, st, a, w, &vars),
            Kind::Fail {
                error,
                cause,
                error_expr,
                cause_expr,
                ..
            } => {
                let ctx = self.context(a, st, None, None);
                let env = Env::new(&a.input, &ctx).with_variables(&vars);
                let render = |v: Value| match v {
                    Value::String(s) => s,
                    other => json_text(&other),
                };
                let err = match error_expr {
                    Some(e) => e.evaluate("Error", &env).map(|v| Some(render(v))),
                    None => Ok(error.clone()),
                };
                let cau = match cause_expr {
                    Some(e) => e.evaluate("Cause", &env).map(|v| Some(render(v))),
                    None => Ok(cause.clone()),
                };
                match (err, cau) {
                    (Ok(error), Ok(cause)) => Flow::Terminal(Failure {
                        error,
                        cause,
                        from_child: false,
                        location: None,
                        open_state: None,
                    }),
                    (Err(e), _) | (_, Err(e)) => Flow::Terminal(Self::fail_eval(a, e)),
                }
            }
            Kind::Task(_) => self.run_task(t, st, a),
            Kind::Map(_) => self.run_map(t, st, a),
            Kind::Parallel { .. } => self.run_parallel(t, st, a),
        }
    }
}

/// A JSONata number field (`TimeoutSeconds`, `Seconds`, `MaxConcurrency`, ...): a
/// non-negative whole number.
pub(super) fn jsonata_whole(
    e: &asl_eval::jsonata::Expr,
    field: &str,
    env: &Env<'_>,
) -> Result<u64, EvalError> {
    let v = e.evaluate_typed(field, env, "number")?;
    match v.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 => Ok(n as u64),
        _ => Err(EvalError::new(
            asl_eval::error::names::QUERY_EVALUATION_ERROR,
            format!(
                "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected 'non-negative integer', but was 'number' for value: {}",
                e.source(),
                json_text(&v)
            ),
        )),
    }
}
