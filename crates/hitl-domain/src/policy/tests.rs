use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::decision::Decision;

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

fn policy(reviewers: &str, required: &str) -> Policy {
    PolicyParameters {
        reviewer_emails: reviewers,
        required_approvals: required,
        ..PolicyParameters::default()
    }
    .parse()
    .unwrap()
}

fn tally(reviewers: &str, required: &str, request: Value) -> Tally {
    let policy = policy(reviewers, required);
    let eligibility = policy.eligibility(&request).unwrap();
    Tally::new(&policy, &eligibility)
}

fn approve() -> Ballot {
    Ballot::from_answer(&json!({"result": true})).unwrap()
}

fn reject() -> Ballot {
    Ballot::from_answer(&json!({"result": false})).unwrap()
}

const THREE: &str = "a@example.com,b@example.com,c@example.com";

// --- ReviewerEmails ---

#[test]
fn given_a_list_with_spaces_when_parsed_then_each_address_is_trimmed_and_spelling_kept() {
    let reviewers = parse_reviewers(" Ana@Example.com , bo@example.org").unwrap();
    let addresses: Vec<&str> = reviewers.iter().map(Reviewer::address).collect();
    assert_eq!(addresses, ["Ana@Example.com", "bo@example.org"]);
    assert_eq!(reviewers[0].key(), "ana@example.com");
    assert!(reviewers[0].is(" ANA@example.COM "));
    assert!(!reviewers[0].is("bo@example.org"));
}

#[test]
fn given_the_same_address_in_another_case_when_parsed_then_it_is_a_duplicate_naming_positions() {
    let error = parse_reviewers("a@example.com,b@example.com,A@EXAMPLE.com").unwrap_err();
    assert_eq!(
        error,
        PolicyError::DuplicateReviewer {
            address: "A@EXAMPLE.com".into(),
            first: 1,
            second: 3
        }
    );
    assert!(error.to_string().contains("positions 1 and 3"), "{error}");
}

#[test]
fn given_empty_entries_when_parsed_then_the_position_is_named() {
    assert_eq!(parse_reviewers("  "), Err(PolicyError::NoReviewers));
    assert_eq!(
        parse_reviewers("a@example.com,,b@example.com"),
        Err(PolicyError::EmptyReviewerEntry { position: 2 })
    );
    assert_eq!(
        parse_reviewers("a@example.com,"),
        Err(PolicyError::EmptyReviewerEntry { position: 2 })
    );
}

#[test]
fn given_malformed_addresses_when_parsed_then_each_reason_is_named() {
    let cases = [
        ("ana.example.com", "has no @"),
        ("a@b@example.com", "has more than one @"),
        ("@example.com", "has nothing before the @"),
        ("ana@localhost", "needs a domain with a dot"),
        ("ana@.com", "needs a domain with a dot"),
        ("ana@example.", "needs a domain with a dot"),
        ("an a@example.com", "contains white space"),
    ];
    for (address, reason) in cases {
        let error = parse_reviewers(address).unwrap_err();
        assert!(
            matches!(&error, PolicyError::InvalidAddress { reason: r, parameter: "ReviewerEmails", .. } if r.starts_with(reason)),
            "{address}: {error}"
        );
    }
    let long = format!("{}@example.com", "a".repeat(250));
    assert!(matches!(
        parse_reviewers(&long),
        Err(PolicyError::InvalidAddress {
            reason: "is longer than 254 characters",
            ..
        })
    ));
}

#[test]
fn given_eleven_reviewers_when_parsed_then_too_many() {
    let list: Vec<String> = (1..=11).map(|i| format!("r{i}@example.com")).collect();
    assert_eq!(
        parse_reviewers(&list.join(",")),
        Err(PolicyError::TooManyReviewers { count: 11 })
    );
    assert_eq!(parse_reviewers(&list[..10].join(",")).unwrap().len(), 10);
}

// --- the other parameters ---

#[test]
fn given_the_template_defaults_when_parsed_then_one_of_one_without_reminders() {
    let parsed = policy("a@example.com", "1");
    assert_eq!(parsed.required, 1);
    assert_eq!(parsed.reminder_after_seconds, 0);
    assert_eq!(parsed.max_reminders, 2);
    assert_eq!(parsed.escalation, None);
    assert_eq!(parsed.review_timeout_seconds, 259_200);
    assert_eq!(parsed.decision_on_timeout, DecisionOnTimeout::Reject);
}

#[test]
fn given_more_required_approvals_than_reviewers_then_refused_naming_both_counts() {
    let error = PolicyParameters {
        reviewer_emails: "a@example.com,b@example.com",
        required_approvals: "3",
        ..PolicyParameters::default()
    }
    .parse()
    .unwrap_err();
    assert_eq!(
        error,
        PolicyError::RequiredAboveReviewers {
            required: 3,
            reviewers: 2
        }
    );
    assert_eq!(error.error_type(), "InvalidReviewPolicy");
    let message = error.to_string();
    assert!(message.contains("RequiredApprovals is 3"), "{message}");
    assert!(message.contains("only 2 reviewer"), "{message}");
}

#[test]
fn given_numbers_out_of_range_then_the_parameter_and_range_are_named() {
    let base = PolicyParameters {
        reviewer_emails: THREE,
        ..PolicyParameters::default()
    };
    let cases = [
        (
            PolicyParameters {
                required_approvals: "0",
                ..base
            },
            "RequiredApprovals",
        ),
        (
            PolicyParameters {
                required_approvals: "two",
                ..base
            },
            "RequiredApprovals",
        ),
        (
            PolicyParameters {
                max_reminders: "11",
                ..base
            },
            "MaxReminders",
        ),
        (
            PolicyParameters {
                reminder_after_seconds: "-5",
                ..base
            },
            "ReminderAfterSeconds",
        ),
        (
            PolicyParameters {
                review_timeout_seconds: "0",
                ..base
            },
            "ReviewTimeoutSeconds",
        ),
    ];
    for (parameters, name) in cases {
        let error = parameters.parse().unwrap_err();
        assert!(
            matches!(&error, PolicyError::InvalidNumber { parameter, .. } if *parameter == name),
            "{error}"
        );
        assert!(error.to_string().starts_with(name), "{error}");
    }
}

#[test]
fn given_decision_on_timeout_then_only_reject_or_approve() {
    assert_eq!(
        DecisionOnTimeout::parse("approve").unwrap().decision(),
        Decision::Approved
    );
    assert_eq!(
        DecisionOnTimeout::parse("reject").unwrap().decision(),
        Decision::Rejected
    );
    assert_eq!(
        DecisionOnTimeout::parse("Approve"),
        Err(PolicyError::InvalidDecisionOnTimeout {
            value: "Approve".into()
        })
    );
}

#[test]
fn given_an_escalation_then_it_must_differ_from_reviewers_and_need_reminders() {
    let base = PolicyParameters {
        reviewer_emails: THREE,
        reminder_after_seconds: "60",
        ..PolicyParameters::default()
    };
    let same = PolicyParameters {
        escalation_email: "B@example.com",
        ..base
    };
    assert_eq!(
        same.parse(),
        Err(PolicyError::EscalationIsReviewer {
            address: "B@example.com".into()
        })
    );
    let no_reminders = PolicyParameters {
        escalation_email: "boss@example.com",
        reminder_after_seconds: "0",
        ..base
    };
    assert_eq!(
        no_reminders.parse(),
        Err(PolicyError::EscalationNeedsReminders)
    );
    let two = PolicyParameters {
        escalation_email: "boss@example.com,x@example.com",
        ..base
    };
    assert!(matches!(
        two.parse(),
        Err(PolicyError::InvalidAddress {
            parameter: "EscalationEmail",
            ..
        })
    ));
    let fine = PolicyParameters {
        escalation_email: " boss@example.com ",
        ..base
    };
    assert_eq!(
        fine.parse().unwrap().escalation,
        Some(Reviewer("boss@example.com".into()))
    );
}

#[test]
fn policy_snapshot_round_trips_through_json_in_camel_case() {
    let parsed = PolicyParameters {
        reviewer_emails: THREE,
        required_approvals: "2",
        decision_on_timeout: "approve",
        ..PolicyParameters::default()
    }
    .parse()
    .unwrap();
    let json = serde_json::to_value(&parsed).unwrap();
    assert_eq!(json["decisionOnTimeout"], "approve");
    assert_eq!(json["reviewers"][0], "a@example.com");
    assert!(json.get("escalation").is_none());
    assert_eq!(serde_json::from_value::<Policy>(json).unwrap(), parsed);
}

// --- eligibility ---

#[test]
fn given_the_requester_is_a_reviewer_in_another_case_then_they_are_not_asked() {
    let parsed = policy(THREE, "2");
    let eligibility = parsed
        .eligibility(&json!({"requestedBy": " B@Example.COM", "amount": 3}))
        .unwrap();
    let eligible: Vec<&str> = eligibility.eligible.iter().map(Reviewer::address).collect();
    assert_eq!(eligible, ["a@example.com", "c@example.com"]);
    assert_eq!(eligibility.excluded, [Reviewer("b@example.com".into())]);
}

#[test]
fn given_too_few_eligible_reviewers_then_a_named_error_gives_the_counts() {
    let parsed = policy("a@example.com,b@example.com", "2");
    let error = parsed
        .eligibility(&json!({"requestedBy": "a@example.com"}))
        .unwrap_err();
    assert_eq!(
        error,
        EligibilityError::NotEnoughEligibleReviewers {
            required: 2,
            configured: 2,
            eligible: 1,
            excluded: vec!["a@example.com".into()]
        }
    );
    assert_eq!(error.error_type(), "NotEnoughEligibleReviewers");
    let message = error.to_string();
    assert!(message.contains("only 1 of the 2 reviewers"), "{message}");
    assert!(message.contains("a@example.com requested it"), "{message}");
}

#[test]
fn given_no_requester_or_a_stranger_then_everyone_is_eligible() {
    let parsed = policy(THREE, "3");
    for request in [
        json!({}),
        json!({"requestedBy": null}),
        json!({"requestedBy": "z@example.com"}),
        json!("not an object"),
    ] {
        let eligibility = parsed.eligibility(&request).unwrap();
        assert_eq!(eligibility.eligible.len(), 3, "{request}");
        assert!(eligibility.excluded.is_empty());
    }
}

#[test]
fn given_requested_by_that_is_not_a_string_then_refused_not_ignored() {
    let parsed = policy(THREE, "1");
    let error = parsed
        .eligibility(&json!({"requestedBy": ["a@example.com"]}))
        .unwrap_err();
    assert_eq!(
        error,
        EligibilityError::RequestedByNotAString { found: "an array" }
    );
    assert_eq!(error.error_type(), "InvalidRequestedBy");
}

#[test]
fn given_the_requester_is_the_escalation_then_there_is_no_escalation() {
    let parsed = PolicyParameters {
        reviewer_emails: THREE,
        reminder_after_seconds: "60",
        escalation_email: "boss@example.com",
        ..PolicyParameters::default()
    }
    .parse()
    .unwrap();
    let eligibility = parsed
        .eligibility(&json!({"requestedBy": "Boss@example.com"}))
        .unwrap();
    assert_eq!(eligibility.escalation, None);
    assert_eq!(eligibility.eligible.len(), 3);
}

// --- the tally ---

#[test]
fn given_two_of_three_when_the_first_approves_then_still_open_and_the_second_decides() {
    let mut tally = tally(THREE, "2", json!({}));
    assert_eq!(
        tally.record("a@example.com", approve(), noon()),
        Ok(Recorded::Counted {
            approvals: 1,
            required: 2
        })
    );
    assert_eq!(tally.summary(), "1/2 approved: a@example.com");
    assert_eq!(tally.outcome(), None);

    let decided = tally.record("C@EXAMPLE.COM", approve(), noon()).unwrap();
    let Recorded::Decided(outcome) = decided else {
        panic!("expected a decision, got {decided:?}")
    };
    assert_eq!(outcome.decision, Decision::Approved);
    assert_eq!(outcome.decided_by, DecidedBy::Quorum);
    assert!(!outcome.expired);
    let voters: Vec<&str> = tally.votes().iter().map(|v| v.reviewer.as_str()).collect();
    assert_eq!(
        voters,
        ["a@example.com", "c@example.com"],
        "configured spelling, vote order"
    );
}

#[test]
fn given_one_rejection_then_it_vetoes_at_once_even_after_approvals() {
    let mut tally = tally(THREE, "2", json!({}));
    tally.record("a@example.com", approve(), noon()).unwrap();
    let Ok(Recorded::Decided(outcome)) = tally.record("b@example.com", reject(), noon()) else {
        panic!("a rejection decides")
    };
    assert_eq!(outcome.decision, Decision::Rejected);
    assert_eq!(outcome.decided_by, DecidedBy::Veto);
    assert_eq!(
        tally.summary(),
        "1/2 approved: a@example.com; rejected by b@example.com"
    );
}

#[test]
fn given_the_same_reviewer_twice_then_the_second_vote_is_refused_and_not_counted() {
    let mut tally = tally(THREE, "2", json!({}));
    tally.record("a@example.com", approve(), noon()).unwrap();
    let refused = tally
        .record("A@example.com", approve(), noon())
        .unwrap_err();
    assert_eq!(
        refused,
        Refused::AlreadyVoted {
            reviewer: "a@example.com".into()
        }
    );
    assert_eq!(refused.error_type(), "AlreadyVoted");
    assert!(refused.to_string().contains("has already voted"));
    assert_eq!(tally.votes().len(), 1);
    assert_eq!(
        tally.outcome(),
        None,
        "one reviewer cannot make a quorum of two"
    );
}

#[test]
fn given_a_decided_review_then_late_votes_and_expiry_are_refused() {
    let mut tally = tally(THREE, "1", json!({}));
    tally.record("b@example.com", approve(), noon()).unwrap();
    let late = tally.record("c@example.com", reject(), noon()).unwrap_err();
    assert_eq!(
        late,
        Refused::AlreadyDecided {
            decision: Decision::Approved
        }
    );
    assert_eq!(
        tally.expire(DecisionOnTimeout::Reject, noon()),
        Err(Refused::AlreadyDecided {
            decision: Decision::Approved
        })
    );
    assert_eq!(tally.votes().len(), 1);
    assert_eq!(tally.outcome().unwrap().decision, Decision::Approved);
}

#[test]
fn given_the_requester_or_a_stranger_votes_then_refused() {
    let mut tally = tally(THREE, "1", json!({"requestedBy": "a@example.com"}));
    assert_eq!(
        tally.record("A@example.com", approve(), noon()),
        Err(Refused::OwnRequest {
            address: "a@example.com".into()
        })
    );
    assert_eq!(
        tally.record("z@example.com", approve(), noon()),
        Err(Refused::NotAReviewer {
            address: "z@example.com".into()
        })
    );
    assert!(tally.votes().is_empty());
}

#[test]
fn given_a_name_in_the_answer_then_it_is_kept_as_name_never_as_identity() {
    let mut tally = tally(THREE, "2", json!({}));
    let ballot = Ballot::from_answer(&json!({
        "result": true, "reviewer": "c@example.com", "comment": "ok", "via": "link"
    }))
    .unwrap();
    tally.record("a@example.com", ballot, noon()).unwrap();
    let vote = &tally.votes()[0];
    assert_eq!(vote.reviewer, "a@example.com");
    assert_eq!(vote.name.as_deref(), Some("c@example.com"));
    assert_eq!(vote.via, Via::Link);
    assert!(!tally.has_voted("c@example.com"));
    assert!(tally.has_voted("a@example.com"));
}

#[test]
fn a_long_name_or_comment_is_cut_and_the_vote_still_counts() {
    let ballot = Ballot::from_answer(&json!({
        "result": true, "reviewer": "é".repeat(500), "comment": "x".repeat(40_000)
    }))
    .unwrap();
    assert!(ballot.result);
    assert_eq!(ballot.name.unwrap().chars().count(), MAX_VOTE_NAME_CHARS);
    assert_eq!(
        ballot.comment.unwrap().chars().count(),
        MAX_VOTE_COMMENT_CHARS
    );
}

#[test]
fn given_an_invalid_answer_then_no_ballot() {
    assert!(Ballot::from_answer(&json!({"result": "yes"})).is_err());
    assert_eq!(
        Ballot::from_answer(&json!({"result": false})).unwrap().via,
        Via::Cli
    );
}

#[test]
fn given_the_escalation_answers_then_it_decides_alone() {
    let parsed = PolicyParameters {
        reviewer_emails: THREE,
        required_approvals: "3",
        reminder_after_seconds: "60",
        escalation_email: "boss@example.com",
        ..PolicyParameters::default()
    }
    .parse()
    .unwrap();
    let eligibility = parsed.eligibility(&json!({})).unwrap();
    let mut tally = Tally::new(&parsed, &eligibility);
    tally.record("a@example.com", approve(), noon()).unwrap();
    let Ok(Recorded::Decided(outcome)) = tally.record("boss@example.com", approve(), noon()) else {
        panic!("the escalation decides")
    };
    assert_eq!(outcome.decision, Decision::Approved);
    assert_eq!(outcome.decided_by, DecidedBy::Escalation);
    assert!(tally.votes()[1].escalation);
    assert_eq!(
        tally.approvers(),
        ["a@example.com"],
        "the escalation is no reviewer"
    );
    assert_eq!(
        tally.summary(),
        "1/3 approved: a@example.com; approved by boss@example.com (escalation)"
    );
}

#[test]
fn given_expiry_then_decision_on_timeout_decides_and_says_expired() {
    for (on_timeout, decision) in [
        (DecisionOnTimeout::Reject, Decision::Rejected),
        (DecisionOnTimeout::Approve, Decision::Approved),
    ] {
        let mut tally = tally(THREE, "2", json!({}));
        tally.record("a@example.com", approve(), noon()).unwrap();
        let outcome = tally.expire(on_timeout, noon()).unwrap();
        assert_eq!(outcome.decision, decision);
        assert!(outcome.expired);
        assert_eq!(outcome.decided_by, DecidedBy::Timeout);
        assert_eq!(outcome.at, "2026-11-25T12:00:00.000Z");
        assert!(tally.record("b@example.com", approve(), noon()).is_err());
    }
}

#[test]
fn given_a_stored_tally_when_reloaded_then_it_continues_where_it_stopped() {
    let mut tally = tally(THREE, "2", json!({}));
    tally.record("a@example.com", approve(), noon()).unwrap();
    let stored = serde_json::to_string(&tally).unwrap();
    let mut reloaded: Tally = serde_json::from_str(&stored).unwrap();
    assert_eq!(reloaded, tally);
    assert!(reloaded.record("a@example.com", approve(), noon()).is_err());
    assert!(matches!(
        reloaded.record("b@example.com", approve(), noon()),
        Ok(Recorded::Decided(_))
    ));
}

// --- the decision record's new fields ---

#[test]
fn given_a_single_reviewer_then_the_record_fields_are_votes_and_policy_in_camel_case() {
    let mut tally = tally("ana@example.com", "1", json!({}));
    let ballot = Ballot::from_answer(
        &json!({"result": true, "reviewer": "Ana", "comment": "fine", "via": "link"}),
    )
    .unwrap();
    tally.record("ana@example.com", ballot, noon()).unwrap();
    let fields = serde_json::to_value(tally.fields()).unwrap();
    assert_eq!(
        fields,
        json!({
            "votes": [{
                "reviewer": "ana@example.com", "result": true,
                "at": "2026-11-25T12:00:00.000Z", "via": "link",
                "comment": "fine", "name": "Ana"
            }],
            "policy": {"required": 1, "reviewers": ["ana@example.com"]}
        })
    );
}

#[test]
fn given_an_excluded_requester_and_an_escalation_then_the_policy_field_names_them() {
    let parsed = PolicyParameters {
        reviewer_emails: THREE,
        required_approvals: "2",
        reminder_after_seconds: "60",
        escalation_email: "boss@example.com",
        ..PolicyParameters::default()
    }
    .parse()
    .unwrap();
    let eligibility = parsed
        .eligibility(&json!({"requestedBy": "c@example.com"}))
        .unwrap();
    let fields = serde_json::to_value(Tally::new(&parsed, &eligibility).fields()).unwrap();
    assert_eq!(
        fields["policy"],
        json!({
            "required": 2,
            "reviewers": ["a@example.com", "b@example.com", "c@example.com"],
            "excluded": ["c@example.com"],
            "escalation": "boss@example.com"
        })
    );
    assert_eq!(fields["votes"], json!([]));
}

// --- timers ---

fn timed(reminder: &str, max: &str, escalation: &str, timeout: &str) -> (Policy, Eligibility) {
    let parsed = PolicyParameters {
        reviewer_emails: THREE,
        required_approvals: "2",
        reminder_after_seconds: reminder,
        max_reminders: max,
        escalation_email: escalation,
        review_timeout_seconds: timeout,
        ..PolicyParameters::default()
    }
    .parse()
    .unwrap();
    let eligibility = parsed.eligibility(&json!({})).unwrap();
    (parsed, eligibility)
}

fn after(seconds: i64) -> DateTime<Utc> {
    noon() + Duration::seconds(seconds)
}

#[test]
fn given_reminders_and_escalation_then_rounds_then_escalation_then_expiry() {
    let (parsed, eligibility) = timed("10", "2", "boss@example.com", "100");
    let schedule = Schedule::new(&parsed, &eligibility, noon());
    assert_eq!(
        schedule.timers(),
        [
            Timer::Remind {
                round: 1,
                at: after(10)
            },
            Timer::Remind {
                round: 2,
                at: after(20)
            },
            Timer::Escalate { at: after(30) },
            Timer::Expire { at: after(100) },
        ]
    );
    assert_eq!(schedule.next(3), Some(Timer::Expire { at: after(100) }));
    assert_eq!(schedule.next(4), None);
    assert_eq!(schedule.deadline(), after(100));
}

#[test]
fn given_no_reminders_then_only_the_expiry() {
    let (parsed, eligibility) = timed("0", "2", "", "100");
    let schedule = Schedule::new(&parsed, &eligibility, noon());
    assert_eq!(schedule.timers(), [Timer::Expire { at: after(100) }]);
}

#[test]
fn given_timers_at_or_after_the_deadline_then_they_are_dropped() {
    let (parsed, eligibility) = timed("40", "3", "boss@example.com", "80");
    let schedule = Schedule::new(&parsed, &eligibility, noon());
    assert_eq!(
        schedule.timers(),
        [
            Timer::Remind {
                round: 1,
                at: after(40)
            },
            Timer::Expire { at: after(80) },
        ],
        "round 2 falls on the deadline itself, so the review is over by then"
    );
}

#[test]
fn given_a_reviewer_voted_when_a_reminder_is_due_then_only_the_others_get_it() {
    let (parsed, eligibility) = timed("10", "2", "boss@example.com", "100");
    let mut tally = Tally::new(&parsed, &eligibility);
    tally.record("b@example.com", approve(), noon()).unwrap();
    let remind = Timer::Remind {
        round: 1,
        at: after(10),
    };
    assert_eq!(
        on_timer(&tally, &remind),
        TimerAction::Remind(vec![
            Reviewer("a@example.com".into()),
            Reviewer("c@example.com".into())
        ])
    );
    assert_eq!(
        on_timer(&tally, &Timer::Escalate { at: after(30) }),
        TimerAction::Escalate(Reviewer("boss@example.com".into()))
    );
    assert_eq!(
        on_timer(&tally, &Timer::Expire { at: after(100) }),
        TimerAction::Expire
    );
}

#[test]
fn given_a_decided_review_then_no_timer_sends_anything() {
    let (parsed, eligibility) = timed("10", "2", "boss@example.com", "100");
    let mut tally = Tally::new(&parsed, &eligibility);
    tally.record("a@example.com", reject(), noon()).unwrap();
    for timer in Schedule::new(&parsed, &eligibility, noon()).timers() {
        assert_eq!(on_timer(&tally, timer), TimerAction::Nothing, "{timer:?}");
    }
}

#[test]
fn given_the_requester_excluded_then_reminders_never_go_to_them() {
    let (parsed, _) = timed("10", "1", "", "100");
    let eligibility = parsed
        .eligibility(&json!({"requestedBy": "a@example.com"}))
        .unwrap();
    let tally = Tally::new(&parsed, &eligibility);
    let TimerAction::Remind(recipients) = on_timer(
        &tally,
        &Timer::Remind {
            round: 1,
            at: after(10),
        },
    ) else {
        panic!("a reminder is due")
    };
    assert!(recipients.iter().all(|r| !r.is("a@example.com")));
    assert_eq!(recipients.len(), 2);
}
