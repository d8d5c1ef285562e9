//! The links the state machine writes into the email parse back into the
//! execution, the raw token and the decision.

use review_page::{Choice, parse_link};
use serde_json::Value;

const ASL: &str = include_str!("../../../statemachine/human_in_the_loop.asl.json");
const ENDPOINT: &str = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:HumanReviewStateMachine-AbCdEf123456:refund+1042=x";
/// Shaped like a real token: base64 with `+`, `/` and `=`, about 700 characters.
fn token() -> String {
    format!(
        "AQCE{}+/a==",
        "AAAAKgAAAAMAAAAAAAAAAXr0+Q1kZ4tJ/7sAmPl".repeat(18)
    )
}

/// Renders the email as Step Functions would: each `States.Format` argument
/// replaced by its value (the text from Prepare Review, the context object's
/// fields), with `${ReviewApiEndpoint}` substituted.
fn email(token: &str) -> String {
    // The definition is JSON once its number placeholders (unquoted) are filled.
    let asl = ASL
        .replace("${ExecutionTimeoutSeconds}", "262800")
        .replace("${ActionMaxAttempts}", "3");
    let asl: Value = serde_json::from_str(&asl).unwrap();
    let text = &asl["States"]["Prepare Review"]["Parameters"]["text"];
    let message = asl["States"]["Request Review"]["Parameters"]["Message.$"]
        .as_str()
        .unwrap();
    let (_, args) = message.split_once("', ").unwrap();
    args.trim_end_matches(')')
        .split(", ")
        .map(|arg| match arg {
            "$$.Execution.Id" => ARN.to_owned(),
            "$$.Task.Token" => token.to_owned(),
            "$$.Execution.Name" => "refund+1042=x".to_owned(),
            other => match other.strip_prefix("$.text.") {
                Some(key) => text[key]
                    .as_str()
                    .unwrap()
                    .replace("${ReviewApiEndpoint}", ENDPOINT),
                None => format!("<{other}>"),
            },
        })
        .collect()
}

#[test]
fn both_links_are_on_their_own_lines_and_parse_back() {
    let token = token();
    let email = email(&token);
    for (label, choice) in [("Approve:", Choice::Approve), ("Reject:", Choice::Reject)] {
        let line = email
            .lines()
            .skip_while(|line| *line != label)
            .nth(1)
            .unwrap();
        let query = line
            .strip_prefix(&format!("{ENDPOINT}/review?"))
            .unwrap_or_else(|| panic!("{label} is not followed by a link: {line}"));
        let link = parse_link(query).unwrap();
        assert_eq!(link.choice, choice);
        assert_eq!(link.execution_arn, ARN);
        assert_eq!(link.token, token);
        // Short enough for mail clients (many break links past 2,000 characters)
        // with a token of the maximum real size (~1,000 characters).
        assert!(line.len() - token.len() + 1000 < 2000, "{}", line.len());
    }
}
