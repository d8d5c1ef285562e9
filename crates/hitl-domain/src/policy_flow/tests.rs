//! GIVEN/WHEN/THEN tests of the four steps over the in-memory ports.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::memory::{CountingSecrets, FixedClock, MemoryStore, RecordingMailer};
use super::*;
use crate::decision::Decision;
use crate::policy::{Ballot, DecidedBy, Policy, PolicyError, PolicyParameters};

const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:Review:run-1";
const ENDPOINT: &str = "https://abc123defg.execute-api.eu-west-1.amazonaws.com";

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

fn settings() -> MessageSettings {
    MessageSettings {
        review_api_endpoint: ENDPOINT.into(),
        region: "eu-west-1".into(),
    }
}

/// 2 of a, b, c; reminders every 10 s (2 rounds), escalation to boss at 30 s, expiry at 100 s.
fn policy() -> Result<Policy, PolicyError> {
    PolicyParameters {
        reviewer_emails: "a@example.com,B@Example.com,c@example.com",
        required_approvals: "2",
        reminder_after_seconds: "10",
        max_reminders: "2",
        escalation_email: "boss@example.com",
        review_timeout_seconds: "100",
        decision_on_timeout: "reject",
    }
    .parse()
}

struct World {
    store: MemoryStore,
    mailer: RecordingMailer,
    clock: FixedClock,
    secrets: CountingSecrets,
}

fn world() -> World {
    World {
        store: MemoryStore::default(),
        mailer: RecordingMailer::default(),
        clock: FixedClock::at(noon()),
        secrets: CountingSecrets::default(),
    }
}

impl World {
    async fn open(&self, request: Value) -> Result<OpenReviewOutput, PolicyFlowError> {
        open_review(
            &self.store,
            &self.clock,
            &policy(),
            OpenReviewInput {
                execution_arn: ARN.into(),
                request,
            },
        )
        .await
    }

    async fn ask_as(
        &self,
        reviewer: &str,
        role: Role,
    ) -> Result<AskReviewerOutput, PolicyFlowError> {
        ask_reviewer(
            &self.store,
            &self.mailer,
            &self.clock,
            &self.secrets,
            &settings(),
            AskReviewerInput {
                execution_arn: ARN.into(),
                execution_name: "run-1".into(),
                reviewer: reviewer.into(),
                role,
                task_token: format!("token-of-{reviewer}"),
                request: json!({"order": 42}),
            },
        )
        .await
    }

    async fn ask(&self, reviewer: &str) -> Result<AskReviewerOutput, PolicyFlowError> {
        self.ask_as(reviewer, Role::Reviewer).await
    }

    async fn vote(
        &self,
        reviewer: &str,
        answer: Value,
    ) -> Result<RecordVoteOutput, PolicyFlowError> {
        record_vote(
            &self.store,
            &self.clock,
            RecordVoteInput {
                execution_arn: ARN.into(),
                reviewer: reviewer.into(),
                answer,
            },
        )
        .await
    }

    async fn tick(&self) -> Result<TickOutput, PolicyFlowError> {
        tick(
            &self.store,
            &self.mailer,
            &self.clock,
            &self.secrets,
            &settings(),
            TickInput {
                execution_arn: ARN.into(),
                execution_name: "run-1".into(),
                request: json!({"order": 42}),
            },
        )
        .await
    }

    async fn opened_and_asked(&self) {
        self.open(json!({})).await.unwrap();
        for reviewer in ["a@example.com", "B@Example.com", "c@example.com"] {
            self.ask(reviewer).await.unwrap();
        }
    }

    fn stored(&self) -> StoredReview {
        self.store.review(ARN).unwrap()
    }
}

fn approve() -> Value {
    json!({"result": true})
}

fn reject() -> Value {
    json!({"result": false})
}

/// Another writer's vote, for [`MemoryStore::interleave`]: it lands between
/// a step's read and its write, as a race would.
fn racing_vote(reviewer: &'static str, answer: Value) -> impl FnOnce(&mut StoredReview) + Send {
    move |review| {
        let ballot = Ballot::from_answer(&answer).unwrap();
        review.tally.record(reviewer, ballot, noon()).unwrap();
    }
}

// --- Open Review ---

#[tokio::test]
async fn given_a_policy_when_opened_then_the_review_is_stored_and_the_map_gets_the_eligible() {
    let world = world();
    let output = world
        .open(json!({"requestedBy": "c@EXAMPLE.com"}))
        .await
        .unwrap();
    assert_eq!(output.eligible, ["a@example.com", "B@Example.com"]);
    assert_eq!(output.policy.excluded, ["c@example.com"]);
    assert_eq!(output.policy.required, 2);
    assert_eq!(output.schedule.deadline, "2026-11-25T12:01:40Z");
    assert_eq!(output.schedule.backstop_seconds, 400);
    assert_eq!(
        output.next,
        NextTimer {
            kind: "remind".into(),
            at: "2026-11-25T12:00:10Z".into(),
            remaining_seconds: 10
        }
    );
    let stored = world.stored();
    assert_eq!((stored.version, stored.timers_done), (0, 0));
    assert_eq!(
        stored.expires_at,
        (noon() + chrono::Duration::seconds(100) + chrono::Duration::days(30)).timestamp()
    );
}

#[tokio::test]
async fn given_an_opened_review_when_open_review_is_retried_later_then_the_first_snapshot_wins() {
    let world = world();
    let first = world.open(json!({})).await.unwrap();
    world.clock.advance(7);
    let other = PolicyParameters {
        reviewer_emails: "z@example.com",
        ..PolicyParameters::default()
    }
    .parse();
    let retried = open_review(
        &world.store,
        &world.clock,
        &other,
        OpenReviewInput {
            execution_arn: ARN.into(),
            request: json!({}),
        },
    )
    .await
    .unwrap();
    assert_eq!(retried.eligible, first.eligible);
    assert_eq!(retried.policy, first.policy);
    assert_eq!(retried.schedule.opened_at, first.schedule.opened_at);
    assert_eq!(retried.schedule.deadline, first.schedule.deadline);
    assert_eq!(retried.next.at, first.next.at);
    assert_eq!(retried.next.remaining_seconds, 3, "counted from now");
    assert_eq!(world.stored().snapshot.opened_at, noon());
}

#[tokio::test]
async fn given_requests_that_cannot_be_reviewed_then_named_errors_and_nothing_stored() {
    let world = world();
    let strict = PolicyParameters {
        reviewer_emails: "a@example.com,b@example.com",
        required_approvals: "2",
        ..PolicyParameters::default()
    }
    .parse();
    let input = |request: Value| OpenReviewInput {
        execution_arn: "arn:other".into(),
        request,
    };
    let error = open_review(
        &world.store,
        &world.clock,
        &strict,
        input(json!({"requestedBy": "A@example.com"})),
    )
    .await
    .unwrap_err();
    assert_eq!(error.error_type(), "NotEnoughEligibleReviewers");
    assert!(error.to_string().contains("only 1 of the 2"), "{error}");
    let error = open_review(
        &world.store,
        &world.clock,
        &strict,
        input(json!({"requestedBy": 7})),
    )
    .await
    .unwrap_err();
    assert_eq!(error.error_type(), "InvalidRequestedBy");
    let invalid = PolicyParameters {
        reviewer_emails: "a@example.com",
        required_approvals: "3",
        ..PolicyParameters::default()
    }
    .parse();
    let error = open_review(&world.store, &world.clock, &invalid, input(json!({})))
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "InvalidReviewPolicy");
    assert!(
        error.to_string().contains("RequiredApprovals is 3"),
        "{error}"
    );
    assert_eq!(world.store.review("arn:other"), None);
}

// --- Ask Reviewer ---

#[tokio::test]
async fn given_an_open_review_when_a_reviewer_is_asked_then_only_they_get_their_token_and_short_links()
 {
    let world = world();
    world.open(json!({})).await.unwrap();
    let output = world.ask("B@Example.com").await.unwrap();
    assert_eq!(
        output,
        AskReviewerOutput::Asked {
            reviewer: "B@Example.com".into()
        }
    );
    let sent = world.mailer.sent();
    assert_eq!(sent.len(), 1);
    let message = &sent[0];
    assert_eq!(
        message.to, "B@Example.com",
        "as configured: SNS filters match exactly"
    );
    assert_eq!(message.subject, "Review requested: run-1");
    assert!(
        message
            .body
            .ends_with("\nTask token: token-of-B@Example.com\n")
    );
    assert!(message.body.contains(
        "aws stepfunctions send-task-success --region eu-west-1 --task-token token-of-B@Example.com --task-output '{\"result\":true}'"
    ));
    assert!(message.body.contains("{\"order\":42}"));
    let links: Vec<&str> = message
        .body
        .lines()
        .filter(|l| l.starts_with(ENDPOINT))
        .collect();
    assert_eq!(links.len(), 2, "{}", message.body);
    let secret = links[0].split("&s=").nth(1).unwrap();
    assert_eq!(secret.len(), 43);
    assert_eq!(links[1], format!("{ENDPOINT}/review?d=reject&s={secret}"));
    assert!(links.iter().all(|l| l.len() <= MAX_LINK_CHARS));

    // The store keeps the hash, which resolves to this reviewer only; never the secret.
    let stored_links = world.store.links();
    assert_eq!(stored_links.len(), 1);
    assert_eq!(stored_links[0].hash, link_hash(secret));
    assert_eq!(stored_links[0].reviewer, "b@example.com");
    assert_eq!(stored_links[0].execution_arn, ARN);
    assert!(!format!("{stored_links:?}").contains(secret));
    let item = world.store.reviewer(ARN, "b@example.com").unwrap();
    assert_eq!(item.token, "token-of-B@Example.com");
    assert_eq!(item.link_hash, link_hash(secret));
    assert_eq!(item.role, Role::Reviewer);
}

#[tokio::test]
async fn given_a_reviewer_who_voted_when_asked_again_then_already_voted_and_nothing_sent() {
    let world = world();
    world.opened_and_asked().await;
    world.vote("a@example.com", approve()).await.unwrap();
    let before = world.mailer.sent().len();
    let error = world.ask("A@EXAMPLE.COM").await.unwrap_err();
    assert_eq!(error.error_type(), "AlreadyVoted");
    assert_eq!(world.mailer.sent().len(), before);
}

#[tokio::test]
async fn given_a_stranger_or_the_excluded_requester_when_asked_then_not_a_reviewer() {
    let world = world();
    world
        .open(json!({"requestedBy": "c@example.com"}))
        .await
        .unwrap();
    for who in ["z@example.com", "c@example.com"] {
        let error = world.ask(who).await.unwrap_err();
        assert_eq!(error.error_type(), "NotAReviewer", "{who}");
    }
    let error = world
        .ask_as("a@example.com", Role::Escalation)
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "NotAReviewer", "a is no escalation");
    assert!(world.mailer.sent().is_empty());
}

#[tokio::test]
async fn given_a_long_endpoint_when_asked_then_link_too_long_and_nothing_stored_or_sent() {
    let world = world();
    world.open(json!({})).await.unwrap();
    let long = MessageSettings {
        review_api_endpoint: format!("https://{}.example.com", "x".repeat(120)),
        region: "eu-west-1".into(),
    };
    let error = ask_reviewer(
        &world.store,
        &world.mailer,
        &world.clock,
        &world.secrets,
        &long,
        AskReviewerInput {
            execution_arn: ARN.into(),
            execution_name: "run-1".into(),
            reviewer: "a@example.com".into(),
            role: Role::Reviewer,
            task_token: "t".into(),
            request: json!({}),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(error.error_type(), "LinkTooLong");
    assert!(error.to_string().contains("over the 200"), "{error}");
    assert!(world.store.links().is_empty());
    assert!(world.store.reviewer(ARN, "a@example.com").is_none());
    assert!(world.mailer.sent().is_empty());
}

#[tokio::test]
async fn given_a_2048_character_token_then_the_links_stay_short() {
    let world = world();
    world.open(json!({})).await.unwrap();
    let token = "T".repeat(2048);
    ask_reviewer(
        &world.store,
        &world.mailer,
        &world.clock,
        &world.secrets,
        &settings(),
        AskReviewerInput {
            execution_arn: ARN.into(),
            execution_name: "run-1".into(),
            reviewer: "a@example.com".into(),
            role: Role::Reviewer,
            task_token: token.clone(),
            request: json!({}),
        },
    )
    .await
    .unwrap();
    let body = &world.mailer.sent()[0].body;
    assert!(body.contains(&token));
    for link in body.lines().filter(|l| l.starts_with("https://")) {
        assert!(link.len() <= MAX_LINK_CHARS, "{link}");
        assert!(!link.contains("TTT"));
    }
}

#[tokio::test]
async fn given_a_secret_collision_then_a_new_secret_is_drawn() {
    let world = World {
        secrets: CountingSecrets::repeating(2),
        ..world()
    };
    world.open(json!({})).await.unwrap();
    world.ask("a@example.com").await.unwrap();
    world.ask("c@example.com").await.unwrap();
    let links = world.store.links();
    assert_eq!(links.len(), 2, "the second ask drew again");
    assert_ne!(links[0].hash, links[1].hash);
}

#[tokio::test]
async fn given_a_decided_review_when_a_reviewer_is_asked_then_nothing_is_sent() {
    let world = world();
    world.open(json!({})).await.unwrap();
    world.vote("a@example.com", reject()).await.unwrap();
    let output = world.ask("c@example.com").await.unwrap();
    assert_eq!(
        output,
        AskReviewerOutput::Decided {
            reviewer: "c@example.com".into()
        }
    );
    assert!(world.mailer.sent().is_empty());
}

// --- Record Vote ---

#[tokio::test]
async fn given_two_of_three_when_two_approve_then_counted_then_decided_with_the_record() {
    let world = world();
    world.opened_and_asked().await;
    let first = world.vote("a@example.com", approve()).await.unwrap();
    assert_eq!(
        first,
        RecordVoteOutput::Counted {
            approvals: 1,
            required: 2
        }
    );
    let second = world
        .vote(
            "b@example.com",
            json!({"result": true, "reviewer": "Bo", "comment": "ok", "via": "link"}),
        )
        .await
        .unwrap();
    let RecordVoteOutput::Decided { record } = second else {
        panic!("the second approval decides: {second:?}")
    };
    assert_eq!(record.decision, Decision::Approved);
    assert_eq!(record.decided_by, DecidedBy::Quorum);
    assert_eq!(
        record.review,
        json!({"result": true, "reviewer": "Bo", "comment": "ok", "via": "link"})
    );
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["decision"], "approved");
    assert_eq!(json["votes"][1]["reviewer"], "B@Example.com");
    assert_eq!(json["policy"]["required"], 2);
    assert_eq!(world.stored().version, 2);
}

#[tokio::test]
async fn given_two_votes_racing_when_the_first_write_loses_then_it_is_reapplied_and_decided_once() {
    let world = world();
    world.opened_and_asked().await;
    // GIVEN c's vote lands between a's read and a's write.
    world
        .store
        .interleave(racing_vote("c@example.com", approve()));
    // WHEN a votes
    let output = world.vote("a@example.com", approve()).await.unwrap();
    // THEN a's first write fails, a re-reads, and a's vote is the deciding second approval.
    let RecordVoteOutput::Decided { record } = output else {
        panic!("a's re-applied vote decides: {output:?}")
    };
    assert_eq!(record.decision, Decision::Approved);
    assert_eq!(world.store.conditional_writes(), (1, 1));
    let stored = world.stored();
    let voters: Vec<&str> = stored
        .tally
        .votes()
        .iter()
        .map(|v| v.reviewer.as_str())
        .collect();
    assert_eq!(
        voters,
        ["c@example.com", "a@example.com"],
        "each counted once"
    );
    assert_eq!(stored.version, 2);
    // AND b, now late, changes nothing.
    let late = world.vote("b@example.com", reject()).await.unwrap();
    assert_eq!(late, RecordVoteOutput::Late { record });
    assert_eq!(world.stored().tally.votes().len(), 2);
}

#[tokio::test]
async fn given_a_racing_veto_wins_when_an_approval_is_reapplied_then_it_is_late() {
    let world = world();
    world.opened_and_asked().await;
    world
        .store
        .interleave(racing_vote("c@example.com", reject()));
    let output = world.vote("a@example.com", approve()).await.unwrap();
    let RecordVoteOutput::Late { record } = output else {
        panic!("the veto won: {output:?}")
    };
    assert_eq!(record.decision, Decision::Rejected);
    assert_eq!(record.decided_by, DecidedBy::Veto);
    assert!(!world.stored().tally.has_voted("a@example.com"));
}

#[tokio::test]
async fn given_a_review_that_keeps_changing_then_contended_after_five_attempts() {
    let world = world();
    world.opened_and_asked().await;
    for _ in 0..MAX_ATTEMPTS {
        world.store.interleave(|_| {});
    }
    let error = world.vote("a@example.com", approve()).await.unwrap_err();
    assert_eq!(error.error_type(), "ReviewContended");
    assert_eq!(world.store.conditional_writes(), (0, MAX_ATTEMPTS));
    assert!(world.stored().tally.votes().is_empty());
}

#[tokio::test]
async fn given_the_same_reviewer_twice_then_duplicate_and_counted_once() {
    let world = world();
    world.opened_and_asked().await;
    world.vote("a@example.com", approve()).await.unwrap();
    let again = world.vote("A@example.com", approve()).await.unwrap();
    assert_eq!(
        again,
        RecordVoteOutput::Duplicate {
            reviewer: "a@example.com".into()
        }
    );
    assert_eq!(world.stored().tally.votes().len(), 1);
    assert_eq!(world.stored().version, 1, "nothing written");
}

#[tokio::test]
async fn given_an_invalid_answer_or_a_stranger_then_named_errors() {
    let world = world();
    world.opened_and_asked().await;
    let error = world
        .vote("a@example.com", json!({"result": "yes"}))
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "InvalidReviewResult");
    let error = world.vote("z@example.com", approve()).await.unwrap_err();
    assert_eq!(error.error_type(), "NotAReviewer");
    let error = record_vote(
        &world.store,
        &world.clock,
        RecordVoteInput {
            execution_arn: "arn:none".into(),
            reviewer: "a@example.com".into(),
            answer: approve(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(error.error_type(), "ReviewNotOpen");
}

#[tokio::test]
async fn given_a_single_reviewer_then_the_record_review_is_the_answer_as_today() {
    let world = world();
    let one = PolicyParameters {
        reviewer_emails: "ana@example.com",
        ..PolicyParameters::default()
    }
    .parse();
    open_review(
        &world.store,
        &world.clock,
        &one,
        OpenReviewInput {
            execution_arn: ARN.into(),
            request: json!({}),
        },
    )
    .await
    .unwrap();
    let output = world
        .vote(
            "ana@example.com",
            json!({"result": false, "reviewer": "Ana", "comment": "no"}),
        )
        .await
        .unwrap();
    let RecordVoteOutput::Decided { record } = output else {
        panic!("1 of 1 decides")
    };
    assert_eq!(
        record.review,
        json!({"result": false, "reviewer": "Ana", "comment": "no"})
    );
    assert_eq!(record.decided_by, DecidedBy::Veto);
    assert_eq!(
        serde_json::to_value(&record).unwrap()["policy"],
        json!({"required": 1, "reviewers": ["ana@example.com"]})
    );
}

// --- Tick ---

#[tokio::test]
async fn given_no_timer_due_when_ticked_then_waiting_for_the_first_and_nothing_written() {
    let world = world();
    world.opened_and_asked().await;
    world.clock.advance(5);
    let output = world.tick().await.unwrap();
    let TickOutput::Waiting { next, reminded, .. } = output else {
        panic!("nothing due: {output:?}")
    };
    assert_eq!(next.at, "2026-11-25T12:00:10Z");
    assert_eq!(next.remaining_seconds, 5);
    assert!(reminded.is_empty());
    assert_eq!(world.stored().timers_done, 0);
}

#[tokio::test]
async fn given_a_voter_when_reminders_fall_due_then_only_non_voters_get_them_once_each_round() {
    let world = world();
    world.opened_and_asked().await;
    world.vote("a@example.com", approve()).await.unwrap();
    world.clock.advance(10);
    let asked = world.mailer.sent().len();

    let output = world.tick().await.unwrap();
    let TickOutput::Waiting {
        next,
        reminded,
        failed,
    } = output
    else {
        panic!("round 1: {output:?}")
    };
    assert_eq!(reminded, ["B@Example.com", "c@example.com"]);
    assert!(failed.is_empty());
    assert_eq!(next.at, "2026-11-25T12:00:20Z");
    let reminders: Vec<_> = world.mailer.sent().into_iter().skip(asked).collect();
    assert_eq!(reminders.len(), 2);
    for reminder in &reminders {
        assert_ne!(reminder.to, "a@example.com", "never to a voter");
        assert_eq!(reminder.subject, "Reminder 1 of 2: review requested: run-1");
        assert!(
            reminder
                .body
                .ends_with(&format!("Task token: token-of-{}\n", reminder.to)),
            "their own stored token: {}",
            reminder.body
        );
    }
    assert_eq!(
        world.store.links().len(),
        5,
        "3 first links + 2 reminder links, all valid"
    );

    // A retried Tick at the same moment finds round 1 claimed: no second reminder.
    let again = world.tick().await.unwrap();
    assert!(matches!(again, TickOutput::Waiting { ref reminded, .. } if reminded.is_empty()));
    assert_eq!(world.mailer.sent().len(), asked + 2);
    assert_eq!(world.stored().timers_done, 1);
}

#[tokio::test]
async fn given_reminders_then_escalation_once_then_expiry_decides_on_timeout() {
    let world = world();
    world.opened_and_asked().await;
    world.vote("c@example.com", approve()).await.unwrap();
    world.clock.advance(20);
    // Both reminder rounds are due (a long pause); each Tick handles one.
    assert!(
        matches!(world.tick().await.unwrap(), TickOutput::Waiting { ref reminded, .. } if reminded.len() == 2)
    );
    assert!(
        matches!(world.tick().await.unwrap(), TickOutput::Waiting { ref reminded, .. } if reminded.len() == 2)
    );
    world.clock.advance(10);
    let escalate = world.tick().await.unwrap();
    assert_eq!(
        escalate,
        TickOutput::Escalate {
            reviewer: "boss@example.com".into(),
            next: NextTimer {
                kind: "expire".into(),
                at: "2026-11-25T12:01:40Z".into(),
                remaining_seconds: 70
            }
        }
    );
    // Escalation once: the next Tick waits for the expiry.
    let waiting = world.tick().await.unwrap();
    assert!(matches!(waiting, TickOutput::Waiting { ref next, .. } if next.kind == "expire"));
    // The escalation is asked through Ask Reviewer with its role.
    world
        .ask_as("boss@example.com", Role::Escalation)
        .await
        .unwrap();
    let sent = world.mailer.sent();
    let escalation = sent.last().unwrap();
    assert_eq!(escalation.to, "boss@example.com");
    assert!(escalation.subject.starts_with("Escalated review requested"));

    world.clock.advance(70);
    let output = world.tick().await.unwrap();
    let TickOutput::Decided { record } = output else {
        panic!("expired: {output:?}")
    };
    assert_eq!(record.decision, Decision::Rejected);
    assert!(record.expired);
    assert_eq!(record.decided_by, DecidedBy::Timeout);
    assert_eq!(record.review, json!({"result": false, "expired": true}));
    assert_eq!(record.fields.votes.len(), 1);
    // After the expiry, a vote is late and a Tick reports the same decision.
    let late = world.vote("a@example.com", approve()).await.unwrap();
    assert_eq!(
        late,
        RecordVoteOutput::Late {
            record: record.clone()
        }
    );
    assert_eq!(world.tick().await.unwrap(), TickOutput::Decided { record });
}

#[tokio::test]
async fn given_a_vote_decides_while_the_expiry_is_written_then_the_vote_wins_and_is_reported() {
    let world = world();
    world.opened_and_asked().await;
    // Skip to the expiry.
    for _ in 0..3 {
        let review = world.stored();
        let _ = world
            .store
            .advance_timers(
                ARN,
                TimerWrite {
                    seen_done: review.timers_done,
                    expiry: None,
                },
            )
            .await
            .unwrap();
    }
    world.clock.advance(100);
    world
        .store
        .interleave(racing_vote("a@example.com", reject()));
    let output = world.tick().await.unwrap();
    let TickOutput::Decided { record } = output else {
        panic!("decided: {output:?}")
    };
    assert_eq!(record.decided_by, DecidedBy::Veto, "the vote's write won");
    assert!(!record.expired);
    assert_eq!(world.stored().timers_done, 3, "the expiry was not claimed");
}

#[tokio::test]
async fn given_approve_on_timeout_when_it_expires_then_approved_and_expired() {
    let world = world();
    let approving = PolicyParameters {
        reviewer_emails: "a@example.com",
        review_timeout_seconds: "2",
        decision_on_timeout: "approve",
        ..PolicyParameters::default()
    }
    .parse();
    let opened = open_review(
        &world.store,
        &world.clock,
        &approving,
        OpenReviewInput {
            execution_arn: ARN.into(),
            request: json!({}),
        },
    )
    .await
    .unwrap();
    assert_eq!(opened.next.kind, "expire");
    world.clock.advance(2);
    let TickOutput::Decided { record } = world.tick().await.unwrap() else {
        panic!("expired")
    };
    assert_eq!(record.decision, Decision::Approved);
    assert_eq!(record.review, json!({"result": true, "expired": true}));
}

#[tokio::test]
async fn given_a_reminder_that_cannot_be_sent_then_it_is_reported_and_not_sent_again() {
    let world = World {
        mailer: RecordingMailer::failing_for(&["c@example.com"]),
        ..world()
    };
    world.open(json!({})).await.unwrap();
    world.ask("a@example.com").await.unwrap();
    world.ask("B@Example.com").await.unwrap();
    // c was never asked (its Ask failed): no token to resend.
    world.clock.advance(10);
    let output = world.tick().await.unwrap();
    let TickOutput::Waiting {
        reminded, failed, ..
    } = output
    else {
        panic!("{output:?}")
    };
    assert_eq!(reminded, ["a@example.com", "B@Example.com"]);
    assert!(
        failed.is_empty(),
        "c has no reviewer item, so nothing was tried"
    );
    // Now c has a token, but its subscription fails: reported, and round 2 is a new round.
    world
        .store
        .put_reviewer(&ReviewerItem {
            execution_arn: ARN.into(),
            address: "c@example.com".into(),
            role: Role::Reviewer,
            token: "token-of-c".into(),
            link_hash: "h".into(),
            asked_at: noon(),
            expires_at: 0,
        })
        .await
        .unwrap();
    world.clock.advance(10);
    let output = world.tick().await.unwrap();
    let TickOutput::Waiting {
        reminded, failed, ..
    } = output
    else {
        panic!("{output:?}")
    };
    assert_eq!(reminded.len(), 2);
    assert_eq!(failed, ["c@example.com"]);
    assert_eq!(world.stored().timers_done, 2);
}
