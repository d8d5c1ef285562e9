//! `docs/operations.md` and `template.yaml` cannot drift: every alarm in the
//! template is a row of the doc's alarm table, with the same namespace, metric,
//! dimensions, statistic, period, threshold and action, and every row is an
//! alarm of the template. Each alarm's description points at its runbook
//! section, which must exist; the workflow's own metric is the one the outcome
//! functions print (`hitl_lambda::metrics`).

use std::collections::BTreeMap;

use serde_yaml_ng::Value;
use workflow_tests::{read, template};

/// One alarm, as the doc's table writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    namespace: String,
    metric: String,
    /// `Name=Value`, in order; a value is the logical id a `Ref` names, the
    /// `Id.Attribute` a `GetAtt` names, or the literal.
    dimensions: Vec<String>,
    statistic: String,
    period: String,
    /// `>= N`, `> N`, `<= N` or `< N`.
    threshold: String,
    /// The logical ids of the alarm actions.
    actions: Vec<String>,
}

const HEADER: &str =
    "| Alarm | Namespace | Metric | Dimensions | Statistic | Period | Threshold | Action |";

/// The alarm table of docs/operations.md, by alarm name.
fn doc_rows() -> BTreeMap<String, Row> {
    let doc = read("docs/operations.md");
    let table = doc
        .split_once(HEADER)
        .unwrap_or_else(|| panic!("docs/operations.md has no table headed {HEADER}"))
        .1;
    let unquote = |cell: &str| cell.trim().trim_matches('`').to_owned();
    let list = |cell: &str| -> Vec<String> {
        cell.split(',')
            .map(unquote)
            .filter(|s| !s.is_empty())
            .collect()
    };
    table
        .lines()
        .skip(2) // the header's own line end, then |---|
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 8, "eight cells: {line}");
            (
                unquote(cells[0]),
                Row {
                    namespace: unquote(cells[1]),
                    metric: unquote(cells[2]),
                    dimensions: list(cells[3]),
                    statistic: unquote(cells[4]),
                    period: unquote(cells[5]),
                    threshold: unquote(cells[6]),
                    actions: list(cells[7]),
                },
            )
        })
        .collect()
}

/// What a short-form intrinsic or a literal refers to, as the table writes it.
fn reference(value: &Value) -> String {
    match value {
        Value::Tagged(tagged) => {
            let target = tagged.value.as_str().unwrap_or_default().to_owned();
            match tagged.tag.to_string().as_str() {
                "!Ref" | "!GetAtt" => target,
                other => panic!("an alarm property uses {other}: name it in the table's terms"),
            }
        }
        Value::String(text) => text.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a reference: {other:?}"),
    }
}

fn comparison(operator: &str) -> &'static str {
    match operator {
        "GreaterThanOrEqualToThreshold" => ">=",
        "GreaterThanThreshold" => ">",
        "LessThanOrEqualToThreshold" => "<=",
        "LessThanThreshold" => "<",
        other => panic!("unexpected ComparisonOperator {other}"),
    }
}

/// The template's alarms, in the table's terms.
fn template_rows() -> BTreeMap<String, Row> {
    let mut rows = BTreeMap::new();
    for (id, resource) in template()["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let p = &resource["Properties"];
        let text = |key: &str| reference(&p[key]);
        let dimensions = p["Dimensions"]
            .as_sequence()
            .map(|ds| {
                ds.iter()
                    .map(|d| format!("{}={}", reference(&d["Name"]), reference(&d["Value"])))
                    .collect()
            })
            .unwrap_or_default();
        let actions = p["AlarmActions"]
            .as_sequence()
            .map(|actions| actions.iter().map(reference).collect())
            .unwrap_or_default();
        rows.insert(
            id.as_str().unwrap().to_owned(),
            Row {
                namespace: text("Namespace"),
                metric: text("MetricName"),
                dimensions,
                statistic: text("Statistic"),
                period: text("Period"),
                threshold: format!(
                    "{} {}",
                    comparison(p["ComparisonOperator"].as_str().unwrap()),
                    text("Threshold")
                ),
                actions,
            },
        );
    }
    rows
}

#[test]
fn the_alarm_table_and_the_template_name_the_same_alarms_with_the_same_settings() {
    let doc = doc_rows();
    let template = template_rows();
    assert!(template.len() >= 11, "{template:#?}");
    let missing_in_doc: Vec<&String> = template.keys().filter(|k| !doc.contains_key(*k)).collect();
    let missing_in_template: Vec<&String> =
        doc.keys().filter(|k| !template.contains_key(*k)).collect();
    assert!(
        missing_in_doc.is_empty() && missing_in_template.is_empty(),
        "alarms only in template.yaml: {missing_in_doc:?}; only in docs/operations.md: {missing_in_template:?}"
    );
    for (id, row) in &template {
        assert_eq!(&doc[id], row, "{id}: docs/operations.md vs template.yaml");
    }
}

#[test]
fn every_alarm_notifies_the_alarm_topic_and_links_its_runbook_section() {
    let doc = read("docs/operations.md");
    for (id, resource) in template()["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let id = id.as_str().unwrap();
        let description = match &resource["Properties"]["AlarmDescription"] {
            Value::Tagged(tagged) => tagged.value.as_str().unwrap_or_default().to_owned(),
            other => other.as_str().unwrap_or_default().to_owned(),
        };
        let anchor = format!("docs/operations.md#{}", id.to_lowercase());
        assert!(description.contains(&anchor), "{id}: {description}");
        assert!(
            doc.contains(&format!("\n### {id}\n")),
            "docs/operations.md has no section for {id}"
        );
    }
}

#[test]
fn the_expired_reviews_alarm_watches_the_metric_the_outcome_functions_print() {
    use hitl_lambda::metrics::{NAMESPACE, REVIEWS_EXPIRED, STATE_MACHINE_DIMENSION};
    let row = &template_rows()["ExpiredReviewsAlarm"];
    assert_eq!(row.namespace, NAMESPACE);
    assert_eq!(row.metric, REVIEWS_EXPIRED);
    // The functions take the name from the execution ARN: the state machine's Name.
    assert_eq!(
        row.dimensions,
        [format!(
            "{STATE_MACHINE_DIMENSION}=HumanReviewStateMachine.Name"
        )]
    );
}
