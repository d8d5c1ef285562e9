//! The sample events in `events/`: each is valid for the code it feeds, and
//! each is used by a test somewhere in the repository.

use hitl_domain::{DecisionInput, InvalidReview, ReviewAnswer};
use workflow_tests::{json, repo_root};

#[test]
fn review_answers_parse_as_the_state_machine_decides_them() {
    let approve = json("events/review_approve.json");
    assert!(ReviewAnswer::parse(&approve).unwrap().result);
    let reject = json("events/review_reject.json");
    assert!(!ReviewAnswer::parse(&reject).unwrap().result);
    let invalid = json("events/review_invalid.json");
    assert_eq!(
        ReviewAnswer::parse(&invalid),
        Err(InvalidReview::ResultNotBoolean { found: "a string" })
    );
}

#[test]
fn lambda_inputs_carry_the_sample_request_and_answers() {
    let request = json("events/start_execution.json");
    assert!(request.is_object());
    for (file, review) in [
        (
            "events/process_approval.json",
            json("events/review_approve.json"),
        ),
        (
            "events/process_rejection.json",
            json("events/review_reject.json"),
        ),
        (
            "events/process_rejection_expired.json",
            serde_json::json!({"result": false, "expired": true}),
        ),
    ] {
        let input: DecisionInput = serde_json::from_value(json(file)).unwrap();
        assert_eq!(input.request, request, "{file}");
        assert_eq!(input.review, review, "{file}");
    }
}

#[test]
fn policy_function_inputs_follow_the_contracts_for_one_review() {
    use hitl_domain::Ballot;
    use hitl_domain::policy::Via;
    use hitl_domain::policy_flow::{
        AskReviewerInput, OpenReviewInput, RecordVoteInput, Role, TickInput,
    };
    let request = json("events/start_execution.json");
    let arn = json("events/process_approval.json")["executionArn"].clone();
    let arn = arn.as_str().unwrap();

    let open: OpenReviewInput = serde_json::from_value(json("events/open_review.json")).unwrap();
    assert_eq!(
        (open.execution_arn.as_str(), &open.request),
        (arn, &request)
    );

    let ask: AskReviewerInput = serde_json::from_value(json("events/ask_reviewer.json")).unwrap();
    assert_eq!((ask.execution_arn.as_str(), &ask.request), (arn, &request));
    assert_eq!(ask.execution_name, "refund-1042");
    assert_eq!(ask.role, Role::Reviewer);
    assert!(
        (1..=2048).contains(&ask.task_token.len()),
        "SendTaskSuccess's token length"
    );

    let vote: RecordVoteInput = serde_json::from_value(json("events/record_vote.json")).unwrap();
    assert_eq!(vote.execution_arn, arn);
    assert_eq!(
        vote.reviewer, ask.reviewer,
        "the vote of the reviewer asked"
    );
    let ballot = Ballot::from_answer(&vote.answer).unwrap();
    assert_eq!(
        (ballot.result, ballot.via, ballot.name.as_deref()),
        (true, Via::Link, Some("Ana Reviewer"))
    );

    let tick: TickInput = serde_json::from_value(json("events/review_tick.json")).unwrap();
    assert_eq!(
        (tick.execution_arn.as_str(), &tick.request),
        (arn, &request)
    );
    assert_eq!(tick.execution_name, "refund-1042");
}

/// Every file in `events/` is named by at least one test source.
#[test]
fn every_event_file_is_used_by_a_test() {
    let root = repo_root();
    let mut sources = String::new();
    let mut dirs = vec![
        root.join("tests"),
        root.join("functions"),
        root.join("crates"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.ends_with("target") {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "sh") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    let script = root.join("scripts");
    if let Ok(entries) = std::fs::read_dir(script) {
        for entry in entries.flatten() {
            sources.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    for entry in std::fs::read_dir(root.join("events")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let reference = format!("events/{name}");
        assert!(
            sources.contains(&reference),
            "{reference} is not used by any test"
        );
    }
}
