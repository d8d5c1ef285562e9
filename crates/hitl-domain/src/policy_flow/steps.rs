//! The four steps, each the design's table row (docs/approval-policies.md,
//! "DynamoDB table": writer, operation and condition, what a failed condition means).

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::policy::{Ballot, Policy, PolicyError, Recorded, Refused, Tally, TimerAction, on_timer};

use super::contracts::{
    AskReviewerInput, AskReviewerOutput, DecidedReview, NextTimer, OpenReviewInput,
    OpenReviewOutput, PolicyFlowError, RecordVoteInput, RecordVoteOutput, ScheduleView, TickInput,
    TickOutput, ceil_seconds,
};
use super::message::{
    LinkSecret, MAX_LINK_CHARS, MessageParts, MessageSettings, Occasion, body, short_link, subject,
};
use super::ports::{
    Clock, LinkItem, ReviewSnapshot, ReviewStore, ReviewerItem, ReviewerMailer, ReviewerMessage,
    Role, SecretSource, StoredReview, TimerWrite, Written,
};

/// A contended write is re-read and re-applied at most this many times in
/// all (the design: ≤ 10 writers per item, so 5 rounds settle it).
pub const MAX_ATTEMPTS: u32 = 5;
/// A link secret that collides is drawn again at most this many times in all.
const SECRET_ATTEMPTS: u32 = 3;
/// The reviewers' waits time out this long after the deadline: a backstop,
/// the timer branch records the expiry.
const BACKSTOP_SECONDS: i64 = 300;
/// A timer this close to due counts as due: the Wait's clock and Lambda's may
/// differ a little, and an early Tick would only loop through the Wait again.
const TIMER_SKEW_SECONDS: i64 = 2;

/// Open Review: validate the policy, work out who may review this request,
/// and store the review once (`attribute_not_exists(pk)`). A retry or redrive
/// finds the stored review and returns its snapshot: the first policy wins.
///
/// `policy` is what the function read at cold start; an invalid policy fails
/// every execution with `InvalidReviewPolicy`.
pub async fn open_review(
    store: &impl ReviewStore,
    clock: &impl Clock,
    policy: &Result<Policy, PolicyError>,
    input: OpenReviewInput,
) -> Result<OpenReviewOutput, PolicyFlowError> {
    let policy = policy.as_ref().map_err(|error| error.clone())?;
    let eligibility = policy.eligibility(&input.request)?;
    let now = clock.now();
    let snapshot = ReviewSnapshot {
        policy: policy.clone(),
        eligibility,
        opened_at: now,
    };
    let review = StoredReview {
        execution_arn: input.execution_arn.clone(),
        version: 0,
        tally: Tally::new(&snapshot.policy, &snapshot.eligibility),
        timers_done: 0,
        expires_at: snapshot.expires_at(),
        snapshot,
    };
    let stored = match store.create_review(&review).await? {
        Written::Done => review,
        Written::Conflict => store
            .get_review(&input.execution_arn)
            .await?
            .ok_or_else(|| PolicyFlowError::Store(vanished(&input.execution_arn)))?,
    };
    Ok(open_output(&stored, now))
}

/// The review of `execution_arn`, read consistently; `ReviewNotOpen` when
/// Open Review has not stored it.
async fn open_review_of(
    store: &impl ReviewStore,
    execution_arn: &str,
) -> Result<StoredReview, PolicyFlowError> {
    store
        .get_review(execution_arn)
        .await?
        .ok_or_else(|| PolicyFlowError::ReviewNotOpen {
            execution_arn: execution_arn.to_owned(),
        })
}

fn vanished(execution_arn: &str) -> super::ports::StoreError {
    super::ports::StoreError {
        reason: format!("the review of {execution_arn} exists but could not be read back"),
    }
}

fn open_output(review: &StoredReview, now: DateTime<Utc>) -> OpenReviewOutput {
    let snapshot = &review.snapshot;
    let schedule = snapshot.schedule();
    let deadline = schedule.deadline();
    let backstop = (ceil_seconds(deadline) - now).num_seconds().max(0) + BACKSTOP_SECONDS;
    OpenReviewOutput {
        policy: review.tally.fields().policy,
        eligible: snapshot
            .eligibility
            .eligible
            .iter()
            .map(|r| r.address().to_owned())
            .collect(),
        decision_on_timeout: snapshot.policy.decision_on_timeout,
        schedule: ScheduleView {
            opened_at: snapshot
                .opened_at
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            deadline: ceil_seconds(deadline).to_rfc3339_opts(SecondsFormat::Secs, true),
            backstop_seconds: u64::try_from(backstop).unwrap_or(u64::MAX),
        },
        next: next_after(review, review.timers_done, now),
    }
}

/// The timer after `done` handled ones (the expiry when none is left, which
/// only a decided review reaches).
fn next_after(review: &StoredReview, done: u32, now: DateTime<Utc>) -> NextTimer {
    let schedule = review.snapshot.schedule();
    let timer = schedule
        .next(done as usize)
        .unwrap_or(crate::policy::Timer::Expire {
            at: schedule.deadline(),
        });
    NextTimer::of(&timer, now)
}

/// Ask Reviewer: refuse a reviewer who voted (`AlreadyVoted`, which the Map
/// catches on a redrive), store a new link (its hash only) and this
/// reviewer's token, then send them their own message.
pub async fn ask_reviewer(
    store: &impl ReviewStore,
    mailer: &impl ReviewerMailer,
    clock: &impl Clock,
    secrets: &impl SecretSource,
    settings: &MessageSettings,
    input: AskReviewerInput,
) -> Result<AskReviewerOutput, PolicyFlowError> {
    if input.task_token.is_empty() || input.task_token.chars().count() > 2048 {
        // SendTaskSuccess takes 1 to 2,048 characters (API reference).
        return Err(PolicyFlowError::InvalidInput(
            "taskToken must be 1 to 2048 characters: pass $$.Task.Token".into(),
        ));
    }
    let review = open_review_of(store, &input.execution_arn).await?;
    let eligibility = &review.snapshot.eligibility;
    let reviewer = match input.role {
        Role::Reviewer => eligibility.eligible.iter().find(|r| r.is(&input.reviewer)),
        Role::Escalation => eligibility
            .escalation
            .as_ref()
            .filter(|e| e.is(&input.reviewer)),
    }
    .ok_or_else(|| {
        PolicyFlowError::Refused(Refused::NotAReviewer {
            address: input.reviewer.trim().to_owned(),
        })
    })?;
    if review.tally.has_voted(reviewer.address()) {
        return Err(PolicyFlowError::Refused(Refused::AlreadyVoted {
            reviewer: reviewer.address().to_owned(),
        }));
    }
    if review.tally.outcome().is_some() {
        return Ok(AskReviewerOutput::Decided {
            reviewer: reviewer.address().to_owned(),
        });
    }
    let now = clock.now();
    let (secret, links) = new_link(store, secrets, settings, &review, &reviewer.key()).await?;
    store
        .put_reviewer(&ReviewerItem {
            execution_arn: review.execution_arn.clone(),
            address: reviewer.address().to_owned(),
            role: input.role,
            token: input.task_token.clone(),
            link_hash: secret.hash(),
            asked_at: now,
            expires_at: review.expires_at,
        })
        .await?;
    let occasion = match input.role {
        Role::Reviewer => Occasion::Ask,
        Role::Escalation => Occasion::Escalation,
    };
    let message = message_for(
        occasion,
        &review,
        reviewer.address(),
        &input.execution_name,
        &input.request,
        &links,
        &input.task_token,
        settings,
    );
    mailer.send(&message).await?;
    Ok(AskReviewerOutput::Asked {
        reviewer: reviewer.address().to_owned(),
    })
}

/// The approve and reject links of one secret.
struct Links {
    approve: String,
    reject: String,
}

/// Draws a secret, checks the links' length, and stores the link item
/// (`attribute_not_exists(pk)`; a collision draws again).
async fn new_link(
    store: &impl ReviewStore,
    secrets: &impl SecretSource,
    settings: &MessageSettings,
    review: &StoredReview,
    reviewer_key: &str,
) -> Result<(LinkSecret, Links), PolicyFlowError> {
    for _ in 0..SECRET_ATTEMPTS {
        let secret = LinkSecret::from_bytes(secrets.secret());
        let links = Links {
            approve: short_link(&settings.review_api_endpoint, "approve", &secret),
            reject: short_link(&settings.review_api_endpoint, "reject", &secret),
        };
        // "approve" is the longer word, so this checks both.
        let length = links.approve.chars().count();
        if length > MAX_LINK_CHARS {
            return Err(PolicyFlowError::LinkTooLong {
                length,
                max: MAX_LINK_CHARS,
            });
        }
        let link = LinkItem {
            hash: secret.hash(),
            execution_arn: review.execution_arn.clone(),
            reviewer: reviewer_key.to_owned(),
            expires_at: review.expires_at,
        };
        if store.create_link(&link).await? == Written::Done {
            return Ok((secret, links));
        }
    }
    Err(PolicyFlowError::LinkSecretCollision {
        attempts: SECRET_ATTEMPTS,
    })
}

#[allow(clippy::too_many_arguments)] // one message's parts, named at the call
fn message_for(
    occasion: Occasion,
    review: &StoredReview,
    to: &str,
    execution_name: &str,
    request: &serde_json::Value,
    links: &Links,
    token: &str,
    settings: &MessageSettings,
) -> ReviewerMessage {
    let parts = MessageParts {
        occasion,
        execution_name,
        execution_arn: &review.execution_arn,
        request,
        opened_at: review.snapshot.opened_at,
        deadline: ceil_seconds(review.snapshot.schedule().deadline()),
        on_timeout: review
            .snapshot
            .policy
            .decision_on_timeout
            .decision()
            .as_str(),
        approve_link: &links.approve,
        reject_link: &links.reject,
        token,
        region: &settings.region,
    };
    ReviewerMessage {
        to: to.to_owned(),
        subject: subject(occasion, execution_name),
        body: body(&parts),
    }
}

/// Record Vote: read (consistent), count with [`Tally::record`], write if the
/// version is unchanged. A lost race re-reads and re-applies, at most
/// [`MAX_ATTEMPTS`] times; a vote that loses to a decision is `late`.
pub async fn record_vote(
    store: &impl ReviewStore,
    clock: &impl Clock,
    input: RecordVoteInput,
) -> Result<RecordVoteOutput, PolicyFlowError> {
    let ballot = Ballot::from_answer(&input.answer)?;
    for attempt in 1..=MAX_ATTEMPTS {
        if attempt > 1 {
            clock.pause(attempt).await;
        }
        let mut review = open_review_of(store, &input.execution_arn).await?;
        let recorded = match review
            .tally
            .record(&input.reviewer, ballot.clone(), clock.now())
        {
            Ok(recorded) => recorded,
            Err(Refused::AlreadyDecided { .. }) => {
                return Ok(RecordVoteOutput::Late {
                    record: decided(&review.tally)?,
                });
            }
            Err(Refused::AlreadyVoted { reviewer }) => {
                return Ok(RecordVoteOutput::Duplicate { reviewer });
            }
            Err(refused) => return Err(PolicyFlowError::Refused(refused)),
        };
        match store
            .update_tally(&input.execution_arn, review.version, &review.tally)
            .await?
        {
            Written::Conflict => continue,
            Written::Done => {}
        }
        return Ok(match recorded {
            Recorded::Counted {
                approvals,
                required,
            } => RecordVoteOutput::Counted {
                approvals,
                required,
            },
            Recorded::Decided(_) => RecordVoteOutput::Decided {
                record: decided(&review.tally)?,
            },
        });
    }
    Err(PolicyFlowError::Contended {
        attempts: MAX_ATTEMPTS,
    })
}

fn decided(tally: &Tally) -> Result<DecidedReview, PolicyFlowError> {
    // Only called on a tally that has an outcome; the error is a guard, not a path.
    DecidedReview::from_tally(tally)
        .ok_or_else(|| PolicyFlowError::InvalidInput("the review has no decision yet".into()))
}

/// Tick: handle the next due timer. Reminders go to the reviewers who have
/// not voted, the escalation is handed to the state machine once, and the
/// expiry is recorded with `DecisionOnTimeout`. Each is claimed by the
/// conditional write of `timersDone` *before* any email, so a reminder is
/// sent at most once.
pub async fn tick(
    store: &impl ReviewStore,
    mailer: &impl ReviewerMailer,
    clock: &impl Clock,
    secrets: &impl SecretSource,
    settings: &MessageSettings,
    input: TickInput,
) -> Result<TickOutput, PolicyFlowError> {
    for attempt in 1..=MAX_ATTEMPTS {
        if attempt > 1 {
            clock.pause(attempt).await;
        }
        let now = clock.now();
        let mut review = open_review_of(store, &input.execution_arn).await?;
        if let Some(record) = DecidedReview::from_tally(&review.tally) {
            return Ok(TickOutput::Decided { record });
        }
        let schedule = review.snapshot.schedule();
        let done = review.timers_done;
        // Every timer handled yet undecided cannot happen (the last timer is the
        // expiry, which decides); if it did, the expiry is due.
        let timer = schedule
            .next(done as usize)
            .unwrap_or(crate::policy::Timer::Expire {
                at: schedule.deadline(),
            });
        if timer.at() > now + Duration::seconds(TIMER_SKEW_SECONDS) {
            return Ok(TickOutput::Waiting {
                next: NextTimer::of(&timer, now),
                reminded: Vec::new(),
                failed: Vec::new(),
            });
        }
        let action = on_timer(&review.tally, &timer);
        if action == TimerAction::Expire {
            let on_timeout = review.snapshot.policy.decision_on_timeout;
            if review.tally.expire(on_timeout, now).is_err() {
                // Decided between the read and now: read again.
                continue;
            }
        }
        let expiry = (action == TimerAction::Expire).then_some((review.version, &review.tally));
        let write = TimerWrite {
            seen_done: done,
            expiry,
        };
        if store.advance_timers(&input.execution_arn, write).await? == Written::Conflict {
            continue;
        }
        return match action {
            TimerAction::Expire => Ok(TickOutput::Decided {
                record: decided(&review.tally)?,
            }),
            TimerAction::Escalate(reviewer) => Ok(TickOutput::Escalate {
                reviewer: reviewer.address().to_owned(),
                next: next_after(&review, done + 1, now),
            }),
            TimerAction::Remind(recipients) => {
                let round = match timer {
                    crate::policy::Timer::Remind { round, .. } => round,
                    _ => 1,
                };
                let occasion = Occasion::Reminder {
                    round,
                    of: review.snapshot.policy.max_reminders,
                };
                let (mut reminded, mut failed) = (Vec::new(), Vec::new());
                for reviewer in recipients {
                    let sent = remind(
                        store, mailer, secrets, settings, &review, &input, occasion, &reviewer,
                    )
                    .await;
                    match sent {
                        Ok(true) => reminded.push(reviewer.address().to_owned()),
                        // Never asked (their Ask Reviewer failed): no token to resend.
                        Ok(false) => {}
                        // The timer is claimed, so a failed reminder is not retried:
                        // at most once, as the design promises. The others still go out.
                        Err(_) => failed.push(reviewer.address().to_owned()),
                    }
                }
                Ok(TickOutput::Waiting {
                    next: next_after(&review, done + 1, now),
                    reminded,
                    failed,
                })
            }
            TimerAction::Nothing => Ok(TickOutput::Waiting {
                next: next_after(&review, done + 1, now),
                reminded: Vec::new(),
                failed: Vec::new(),
            }),
        };
    }
    Err(PolicyFlowError::Contended {
        attempts: MAX_ATTEMPTS,
    })
}

/// Sends one reminder with the reviewer's stored token and a fresh link (the
/// first link's secret is not stored, so it cannot be resent; the earlier
/// link keeps working). `Ok(false)` when the reviewer was never asked.
#[allow(clippy::too_many_arguments)] // the ports and one reminder's parts
async fn remind(
    store: &impl ReviewStore,
    mailer: &impl ReviewerMailer,
    secrets: &impl SecretSource,
    settings: &MessageSettings,
    review: &StoredReview,
    input: &TickInput,
    occasion: Occasion,
    reviewer: &crate::policy::Reviewer,
) -> Result<bool, PolicyFlowError> {
    let Some(item) = store
        .get_reviewer(&review.execution_arn, &reviewer.key())
        .await?
    else {
        return Ok(false);
    };
    let (_secret, links) = new_link(store, secrets, settings, review, &reviewer.key()).await?;
    let message = message_for(
        occasion,
        review,
        reviewer.address(),
        &input.execution_name,
        &input.request,
        &links,
        &item.token,
        settings,
    );
    mailer.send(&message).await?;
    Ok(true)
}
