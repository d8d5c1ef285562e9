//! A distributed Map's `ItemBatcher` with values taken from the execution: `BatchInput`
//! as a payload template (JSONPath) or with `{% %}` expressions (JSONata, as in AWS's
//! recorded `map_item_batcher_base_max_per_batch_jsonata`), and the limits from
//! `...Path` fields or expressions. Items come inline, so no S3 is involved.

mod common;

use asl_engine::{Definition, Execution};
use common::info;
use serde_json::{Value, json};

fn map(batcher: Value, jsonata: bool) -> Value {
    let mut m = json!({"Type": "Map", "End": true, "ItemBatcher": batcher,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
    if jsonata {
        m["Items"] = json!("{% $states.input.items %}");
    } else {
        m["ItemsPath"] = json!("$.items");
    }
    let mut d = json!({"StartAt": "M", "States": {"M": m}});
    if jsonata {
        d["QueryLanguage"] = json!("JSONata");
    }
    d
}

fn run(definition: Value, input: Value) -> Value {
    let d = Definition::parse(&definition).unwrap_or_else(|e| panic!("definition: {e}"));
    let (exec, _) = Execution::start(&d, info(input), 0);
    exec.output
        .unwrap_or_else(|| panic!("no output: {:?}", exec.status))
}

#[test]
fn jsonpath_batch_input_and_limit_come_from_the_input() {
    let out = run(
        map(
            json!({"MaxItemsPerBatchPath": "$.per",
                   "BatchInput": {"source.$": "$.source", "execution.$": "$$.Execution.Name", "fixed": 1}}),
            false,
        ),
        json!({"items": [1, 2, 3], "per": 2, "source": "rows.csv"}),
    );
    let input = json!({"source": "rows.csv", "execution": "e1", "fixed": 1});
    assert_eq!(
        out,
        json!([{"BatchInput": input, "Items": [1, 2]}, {"BatchInput": input, "Items": [3]}])
    );
}

#[test]
fn jsonata_batch_input_and_limit_are_expressions() {
    let out = run(
        map(
            json!({"MaxItemsPerBatch": "{% $states.input.per %}",
                   "BatchInput": {"source": "{% $states.input.source %}"}}),
            true,
        ),
        json!({"items": [1, 2, 3], "per": 1, "source": "s"}),
    );
    assert_eq!(
        out,
        json!([
            {"BatchInput": {"source": "s"}, "Items": [1]},
            {"BatchInput": {"source": "s"}, "Items": [2]},
            {"BatchInput": {"source": "s"}, "Items": [3]}
        ])
    );
}

#[test]
fn unknown_batcher_fields_and_both_forms_of_a_limit_are_refused() {
    let e = Definition::parse(&map(json!({"MaxItems": 2}), false)).unwrap_err();
    assert!(
        e.to_string()
            .contains("Field 'MaxItems' is not supported at /States/M/ItemBatcher"),
        "{e}"
    );
    let e = Definition::parse(&map(
        json!({"MaxItemsPerBatch": 2, "MaxItemsPerBatchPath": "$.per"}),
        false,
    ))
    .unwrap_err();
    assert!(e.to_string().contains("mutually exclusive"), "{e}");
    // A path that does not hold a positive integer fails the state at run time.
    let d = Definition::parse(&map(json!({"MaxItemsPerBatchPath": "$.per"}), false)).unwrap();
    let (exec, step) = Execution::start(&d, info(json!({"items": [1], "per": "two"})), 0);
    assert!(exec.output.is_none());
    let last = step.events.last().expect("events");
    assert_eq!(last.event_type, "ExecutionFailed", "{last:?}");
    assert_eq!(last.details["error"], "States.Runtime", "{last:?}");
}
