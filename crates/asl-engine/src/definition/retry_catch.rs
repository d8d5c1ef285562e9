//! A state's `Retry` and `Catch` elements.

use serde_json::Value;

use super::parser::Parser;
use super::{Catcher, Retrier};

impl Parser {
    pub(super) fn retrier(&mut self, v: &Value, at: &str) -> Option<Retrier> {
        let obj = v.as_object()?;
        let error_equals = self.string_list(obj.get("ErrorEquals"), at);
        let interval_seconds = self.number(obj, "IntervalSeconds", at).unwrap_or(1.0);
        let max_attempts = self.number(obj, "MaxAttempts", at).unwrap_or(3.0);
        let backoff_rate = self.number(obj, "BackoffRate", at).unwrap_or(2.0);
        if backoff_rate < 1.0 {
            self.schema(
                "The value for the field 'BackoffRate' must be >= 1.0",
                &format!("{at}/BackoffRate"),
            );
        }
        if max_attempts < 0.0 {
            self.schema(
                "The value for the field 'MaxAttempts' must be >= 0",
                &format!("{at}/MaxAttempts"),
            );
        }
        let jitter_full = match self.string(obj, "JitterStrategy", at).as_deref() {
            None | Some("NONE") => false,
            Some("FULL") => true,
            Some(_) => {
                self.schema(
                    "The value for the field 'JitterStrategy' must be one of [FULL, NONE]",
                    &format!("{at}/JitterStrategy"),
                );
                false
            }
        };
        Some(Retrier {
            error_equals,
            interval_seconds,
            max_attempts: max_attempts.max(0.0) as u32,
            backoff_rate,
            max_delay_seconds: self.number(obj, "MaxDelaySeconds", at),
            jitter_full,
        })
    }

    pub(super) fn catcher(&mut self, v: &Value, jsonata: bool, at: &str) -> Option<Catcher> {
        let obj = v.as_object()?;
        let error_equals = self.string_list(obj.get("ErrorEquals"), at);
        let next = self.string(obj, "Next", at);
        if next.is_none() {
            self.schema("The field 'Next' should be non-null", at);
        }
        Some(Catcher {
            error_equals,
            next: next.unwrap_or_default(),
            result_path: self.result_path(obj.get("ResultPath"), &format!("{at}/ResultPath")),
            output: if jsonata {
                self.payload(obj, "Output", at)
            } else {
                None
            },
            assign: self.assign(obj.get("Assign"), jsonata, &format!("{at}/Assign")),
        })
    }
}
