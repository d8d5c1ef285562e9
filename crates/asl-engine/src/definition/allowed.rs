//! Which fields each state type accepts, per query language, with AWS's
//! "Field 'X' is not supported" messages.

use serde_json::{Map, Value};

use super::parser::Parser;

impl Parser {
    /// AWS refuses fields a state type does not support: "Field 'X' is not supported".
    /// JSONata states take `Arguments`/`Output` instead of JSONPath's `InputPath`,
    /// `Parameters`, `ResultSelector`, `ResultPath`, `OutputPath` and `*Path` fields
    /// (developer guide, "Transforming data with JSONata": the JSONPath fields are not
    /// allowed in JSONata states, and `Output`/`Arguments` not in JSONPath states).
    pub(super) fn check_fields(
        &mut self,
        obj: &Map<String, Value>,
        ty: &str,
        jsonata: bool,
        at: &str,
    ) {
        const COMMON_PATH: &[&str] = &[
            "Type",
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
        ];
        const COMMON_JSONATA: &[&str] = &["Type", "Comment", "QueryLanguage"];
        const NEXT: &[&str] = &["Next", "End"];
        const RESULT: &[&str] = &[
            "Parameters",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
        ];
        const ERRORS: &[&str] = &["Retry", "Catch"];
        const ASSIGN: &[&str] = &["Assign"];
        const OUTPUT: &[&str] = &["Output"];
        const MAP_COMMON: &[&str] = &[
            "Iterator",
            "ItemProcessor",
            "ItemBatcher",
            "Label",
            "ItemReader",
            "ResultWriter",
        ];
        let own: &[&[&str]] = match (ty, jsonata) {
            ("Pass", false) => &[NEXT, ASSIGN, &["Parameters", "ResultPath", "Result"]],
            ("Pass", true) => &[NEXT, ASSIGN, OUTPUT],
            ("Task", false) => &[
                NEXT,
                RESULT,
                ASSIGN,
                &[
                    "Resource",
                    "TimeoutSeconds",
                    "TimeoutSecondsPath",
                    "HeartbeatSeconds",
                    "HeartbeatSecondsPath",
                    "Credentials",
                ],
            ],
            ("Task", true) => &[
                NEXT,
                ERRORS,
                ASSIGN,
                OUTPUT,
                &[
                    "Resource",
                    "Arguments",
                    "TimeoutSeconds",
                    "HeartbeatSeconds",
                    "Credentials",
                ],
            ],
            ("Choice", false) => &[ASSIGN, &["Choices", "Default"]],
            ("Choice", true) => &[ASSIGN, OUTPUT, &["Choices", "Default"]],
            ("Wait", false) => &[
                NEXT,
                ASSIGN,
                &["Seconds", "SecondsPath", "Timestamp", "TimestampPath"],
            ],
            ("Wait", true) => &[NEXT, ASSIGN, OUTPUT, &["Seconds", "Timestamp"]],
            ("Succeed", false) => &[],
            ("Succeed", true) => &[OUTPUT],
            ("Fail", false) => &[&["Error", "ErrorPath", "Cause", "CausePath"]],
            ("Fail", true) => &[&["Error", "Cause"]],
            ("Parallel", false) => &[NEXT, RESULT, ASSIGN, &["Branches"]],
            ("Parallel", true) => &[NEXT, ERRORS, ASSIGN, OUTPUT, &["Branches", "Arguments"]],
            ("Map", false) => &[
                NEXT,
                RESULT,
                ASSIGN,
                MAP_COMMON,
                &[
                    "ItemsPath",
                    "ItemSelector",
                    "MaxConcurrency",
                    "MaxConcurrencyPath",
                    "ToleratedFailureCount",
                    "ToleratedFailureCountPath",
                    "ToleratedFailurePercentage",
                    "ToleratedFailurePercentagePath",
                ],
            ],
            ("Map", true) => &[
                NEXT,
                ERRORS,
                ASSIGN,
                OUTPUT,
                MAP_COMMON,
                &[
                    "Items",
                    "ItemSelector",
                    "MaxConcurrency",
                    "ToleratedFailureCount",
                    "ToleratedFailurePercentage",
                ],
            ],
            _ => &[],
        };
        let common = if jsonata { COMMON_JSONATA } else { COMMON_PATH };
        for k in obj.keys() {
            let k = k.as_str();
            if common.contains(&k) || own.iter().any(|group| group.contains(&k)) {
                continue;
            }
            match k {
                // A field of the other query language: say which one the state uses.
                "InputPath"
                | "OutputPath"
                | "Parameters"
                | "ResultPath"
                | "ResultSelector"
                | "ItemsPath"
                | "Result"
                | "TimeoutSecondsPath"
                | "HeartbeatSecondsPath"
                | "SecondsPath"
                | "TimestampPath"
                | "ErrorPath"
                | "CausePath"
                | "MaxConcurrencyPath"
                | "ToleratedFailureCountPath"
                | "ToleratedFailurePercentagePath"
                | "Arguments"
                | "Output"
                | "Items" => {
                    let lang = if jsonata { "JSONata" } else { "JSONPath" };
                    self.schema(
                        format!("Field '{k}' is not supported in a {ty} state using {lang}"),
                        at,
                    )
                }
                _ => self.schema(format!("Field '{k}' is not supported"), at),
            }
        }
    }
}
