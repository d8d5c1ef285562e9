//! Timers: when reminders, the escalation and the expiry fall due
//! ([`Schedule`]), and what a due timer does to a tally ([`on_timer`]).

use chrono::{DateTime, Duration, Utc};

use super::{Eligibility, Policy, Reviewer, Tally};

/// A point in a review's life when something may have to be sent or decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Reminder round `round` (1-based).
    Remind {
        round: u32,
        at: DateTime<Utc>,
    },
    Escalate {
        at: DateTime<Utc>,
    },
    Expire {
        at: DateTime<Utc>,
    },
}

impl Timer {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Remind { at, .. } | Self::Escalate { at } | Self::Expire { at } => *at,
        }
    }
}

/// When a review's timers fall due, from when it was opened.
///
/// Reminder round k is at `opened + k × ReminderAfterSeconds` (k = 1..=MaxReminders);
/// the escalation one interval after the last reminder; the expiry at
/// `opened + ReviewTimeoutSeconds`. A reminder or escalation due at or after
/// the expiry is dropped: the review is over by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    timers: Vec<Timer>,
}

impl Schedule {
    pub fn new(policy: &Policy, eligibility: &Eligibility, opened_at: DateTime<Utc>) -> Self {
        let seconds = |n: u64| Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX));
        let deadline = opened_at + seconds(policy.review_timeout_seconds);
        let mut timers = Vec::new();
        if policy.reminder_after_seconds > 0 {
            let every = policy.reminder_after_seconds;
            for round in 1..=policy.max_reminders {
                timers.push(Timer::Remind {
                    round,
                    at: opened_at + seconds(every * u64::from(round)),
                });
            }
            if eligibility.escalation.is_some() {
                timers.push(Timer::Escalate {
                    at: opened_at + seconds(every * (u64::from(policy.max_reminders) + 1)),
                });
            }
        }
        timers.retain(|t| t.at() < deadline);
        timers.push(Timer::Expire { at: deadline });
        Self { timers }
    }

    /// Every timer, in order; the last is always the expiry.
    pub fn timers(&self) -> &[Timer] {
        &self.timers
    }

    /// The timer after the first `done` ones, if any.
    pub fn next(&self, done: usize) -> Option<Timer> {
        self.timers.get(done).copied()
    }

    pub fn deadline(&self) -> DateTime<Utc> {
        // `new` always ends the list with the expiry.
        self.timers
            .last()
            .map(Timer::at)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// What a due timer does to a review in the state `tally` is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerAction {
    /// Send the request again to these reviewers (their own link and token, unchanged).
    Remind(Vec<Reviewer>),
    /// Ask the escalation address.
    Escalate(Reviewer),
    /// Record the expiry ([`Tally::expire`]).
    Expire,
    /// Nothing to do: decided already, or nobody left to remind.
    Nothing,
}

/// Decides what `timer` does now. Never a reminder to a reviewer who voted,
/// nothing at all once the review is decided.
pub fn on_timer(tally: &Tally, timer: &Timer) -> TimerAction {
    if tally.outcome().is_some() {
        return TimerAction::Nothing;
    }
    match timer {
        Timer::Remind { .. } => {
            let waiting: Vec<Reviewer> = tally.waiting_for().into_iter().cloned().collect();
            if waiting.is_empty() {
                TimerAction::Nothing
            } else {
                TimerAction::Remind(waiting)
            }
        }
        Timer::Escalate { .. } => match &tally.escalation {
            Some(escalation) if !tally.has_voted(escalation.address()) => {
                TimerAction::Escalate(escalation.clone())
            }
            _ => TimerAction::Nothing,
        },
        Timer::Expire { .. } => TimerAction::Expire,
    }
}
