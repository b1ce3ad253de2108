//! Notification stages: which message an entry is due at an instant, and the stage fields the
//! sweep records so that each message goes out once per token.
//!
//! Rules, applied by [`next_stage_fields`] to the status at the sweep's instant:
//!
//! - Countdown: `days_60`, `days_30`, `days_14`, `days_7`, `days_3`, `days_1` when that many
//!   calendar days or fewer are left, and `expired` once the expiry has passed. Only the most
//!   urgent threshold reached is recorded, and only when it is more urgent than the countdown
//!   stage already recorded for the token: a token first seen at 45 days gets `days_60` and
//!   nothing for the thresholds above it.
//! - Broken states: `token_rejected` and `terms_not_accepted` are recorded when the status
//!   enters that state. While one holds, no countdown stage is recorded, because the admin has
//!   to act in ABM anyway. When Apple accepts the token again, the stage and the sent mark are
//!   cleared, so that a later break is a new message, and the countdown continues where it was.
//! - `check_failed` (Apple gave no verdict) never becomes a stage. The tenant's admin cannot
//!   fix an unreachable Apple, and an outage would message every tenant at once. The sweep
//!   report counts these entries for the operators instead. The countdown goes on because it
//!   depends on the date alone, and a broken stage already recorded stays, because a check
//!   without a verdict does not show that the problem is fixed.
//! - `renewed` is set by an upload, never here; it stays until a countdown stage or a broken
//!   state replaces it.
//! - The stage fields belong to one token, named by its consumer-key fingerprint. An entry whose
//!   stored token differs from that fingerprint starts over with no stage recorded.

use crate::model::{ServerRecord, Stage, TokenStatus};

use super::StatusView;

/// The stage fields of an entry, as stored on [`ServerRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StageFields {
    pub stage: Option<Stage>,
    pub notified_stage: Option<Stage>,
    pub countdown_stage: Option<Stage>,
    pub fingerprint: Option<String>,
}

impl StageFields {
    /// Copies the stage fields of `record`.
    pub fn of(record: &ServerRecord) -> Self {
        Self {
            stage: record.stage,
            notified_stage: record.notified_stage,
            countdown_stage: record.countdown_stage,
            fingerprint: record.stage_fingerprint.clone(),
        }
    }

    /// Returns the fields right after an upload of the token `fingerprint`: the `renewed`
    /// confirmation is due and nothing has been sent for this token yet.
    pub fn renewed(fingerprint: &str) -> Self {
        Self {
            stage: Some(Stage::Renewed),
            notified_stage: None,
            countdown_stage: None,
            fingerprint: Some(fingerprint.to_owned()),
        }
    }

    /// Writes the fields into `record`.
    pub fn write_to(self, record: &mut ServerRecord) {
        record.stage = self.stage;
        record.notified_stage = self.notified_stage;
        record.countdown_stage = self.countdown_stage;
        record.stage_fingerprint = self.fingerprint;
    }

    /// Returns whether no stage, sent mark or countdown stage is recorded, whatever the fingerprint.
    fn is_empty(&self) -> bool {
        self.stage.is_none() && self.notified_stage.is_none() && self.countdown_stage.is_none()
    }

    /// Returns whether a notification is due: a stage is recorded and its message was not sent yet.
    pub fn is_pending(&self) -> bool {
        self.stage.is_some() && self.stage != self.notified_stage
    }
}

/// Returns the most urgent countdown stage reached with `days_remaining` calendar days left, or
/// `expired` when the expiry instant has passed. `None` with more than 60 days left.
pub fn countdown_stage(days_remaining: i64, expired: bool) -> Option<Stage> {
    if expired {
        return Some(Stage::Expired);
    }
    match days_remaining {
        ..=1 => Some(Stage::Days1),
        2..=3 => Some(Stage::Days3),
        4..=7 => Some(Stage::Days7),
        8..=14 => Some(Stage::Days14),
        15..=30 => Some(Stage::Days30),
        31..=60 => Some(Stage::Days60),
        _ => None,
    }
}

/// Returns the message severity of a stage: `info`, `warning` or `critical`.
pub fn severity(stage: Stage) -> &'static str {
    match stage {
        Stage::Renewed | Stage::Days60 => "info",
        Stage::Days30 | Stage::Days14 | Stage::Days7 => "warning",
        Stage::Days3 | Stage::Days1 | Stage::Expired | Stage::TokenRejected | Stage::TermsNotAccepted => "critical",
    }
}

/// Computes the stage fields after a sweep that found the entry in `status`. They equal
/// `current` when nothing is due. `token_fingerprint` is the stored token's consumer-key fingerprint.
pub fn next_stage_fields(current: &StageFields, token_fingerprint: Option<&str>, status: &StatusView) -> StageFields {
    if status.status == TokenStatus::NoToken {
        return current.clone();
    }

    let mut next = if current.fingerprint.as_deref() == token_fingerprint {
        current.clone()
    } else {
        StageFields {
            fingerprint: token_fingerprint.map(str::to_owned),
            ..StageFields::default()
        }
    };

    if let Some(broken) = broken_stage(status.status) {
        next.stage = Some(broken);
        return next;
    }

    if next.stage.is_some_and(is_broken_stage) {
        if status.status == TokenStatus::CheckFailed {
            return next;
        }
        next.stage = None;
        next.notified_stage = None;
    }

    let due = countdown_stage(status.days_remaining.unwrap_or(0), status.status == TokenStatus::Expired);
    if countdown_rank(due) > countdown_rank(next.countdown_stage) {
        next.stage = due;
        next.countdown_stage = due;
    }

    // A fingerprint alone records nothing: leave an entry that has no stage yet as it is, so
    // that the sweep does not write it only to name its token.
    if next.is_empty() && current.is_empty() {
        return current.clone();
    }
    next
}

fn broken_stage(status: TokenStatus) -> Option<Stage> {
    match status {
        TokenStatus::TokenRejected => Some(Stage::TokenRejected),
        TokenStatus::TermsNotAccepted => Some(Stage::TermsNotAccepted),
        _ => None,
    }
}

fn is_broken_stage(stage: Stage) -> bool {
    matches!(stage, Stage::TokenRejected | Stage::TermsNotAccepted)
}

/// Orders the countdown by urgency: 0 for none (or a stage outside the countdown), 7 for `expired`.
fn countdown_rank(stage: Option<Stage>) -> u8 {
    match stage {
        Some(Stage::Days60) => 1,
        Some(Stage::Days30) => 2,
        Some(Stage::Days14) => 3,
        Some(Stage::Days7) => 4,
        Some(Stage::Days3) => 5,
        Some(Stage::Days1) => 6,
        Some(Stage::Expired) => 7,
        Some(Stage::Renewed | Stage::TokenRejected | Stage::TermsNotAccepted) | None => 0,
    }
}
