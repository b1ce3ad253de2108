//! The token status policy: pure functions of the expiry, Apple's verdict at the last check,
//! the instant and the tenant's time zone. [`stage`] adds the notification stages on top.
//!
//! | status | when |
//! |---|---|
//! | `no_token` | the entry has no accepted token yet |
//! | `expired` | the expiry instant has passed (whatever Apple said before) |
//! | `token_rejected` | Apple rejected the token at the last check (revoked, superseded, account deleted or password changed, server removed) |
//! | `terms_not_accepted` | Apple reported Terms and Conditions nobody accepted yet |
//! | `check_failed` | Apple gave no verdict at the last check (unreachable, 5xx, 429, protocol error) |
//! | `expiring` | 60 calendar days or fewer left |
//! | `ok` | otherwise |

mod stage;
#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::error::ErrorCode;
use crate::model::{ServerRecord, TokenStatus};

pub use crate::model::Stage;
pub use stage::{StageFields, countdown_stage, next_stage_fields, severity};

/// From this many days left (inclusive) an entry is `expiring` and highlighted.
pub const EXPIRING_DAYS: i64 = 60;

/// The default time zone of a tenant.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Tokyo;

/// What the dashboard shows for an entry at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusView {
    pub status: TokenStatus,
    /// Whole days from today to the expiry date, both in `tz`; negative once expired.
    pub days_remaining: Option<i64>,
    /// True from 60 days before expiry and in every broken state.
    pub highlight: bool,
}

fn local_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// Whole days from `now` to `expires_at`, counted as calendar days in `tz`: 0 on the expiry
/// date itself, 1 on the day before, whatever the time of day.
pub fn days_remaining(expires_at: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> i64 {
    (local_date(expires_at, tz) - local_date(now, tz)).num_days()
}

/// The status of an entry at `now`.
pub fn status_of(record: &ServerRecord, now: DateTime<Utc>, tz: Tz) -> StatusView {
    status_at(record.expires_at, record.last_error, now, tz)
}

/// The status of a token that expires at `expires_at` (`None`: no token) and whose last
/// check with Apple ended with `last_error` (`None`: Apple accepted it, or it was never checked).
pub fn status_at(
    expires_at: Option<DateTime<Utc>>,
    last_error: Option<ErrorCode>,
    now: DateTime<Utc>,
    tz: Tz,
) -> StatusView {
    let Some(expires_at) = expires_at else {
        return StatusView {
            status: TokenStatus::NoToken,
            days_remaining: None,
            highlight: true,
        };
    };

    let days = days_remaining(expires_at, now, tz);
    let status = if expires_at <= now {
        TokenStatus::Expired
    } else {
        match last_error.and_then(verdict_status) {
            Some(status) => status,
            None if days <= EXPIRING_DAYS => TokenStatus::Expiring,
            None => TokenStatus::Ok,
        }
    };

    let highlight = days <= EXPIRING_DAYS || is_broken(status) || status == TokenStatus::Expired;

    StatusView {
        status,
        days_remaining: Some(days),
        highlight,
    }
}

/// Whether Apple refuses to work with the token until an admin acts in ABM.
pub fn is_broken(status: TokenStatus) -> bool {
    matches!(status, TokenStatus::TokenRejected | TokenStatus::TermsNotAccepted)
}

/// The status a stored `last_error` stands for, or `None` for codes that say nothing about
/// the token (those leave the date to decide).
fn verdict_status(code: ErrorCode) -> Option<TokenStatus> {
    match code {
        ErrorCode::TokenRejected
        | ErrorCode::TokenSuperseded
        | ErrorCode::TokenExpired
        | ErrorCode::AccountInvalid
        | ErrorCode::AccessDenied
        | ErrorCode::ServerInactive => Some(TokenStatus::TokenRejected),
        ErrorCode::TermsNotAccepted => Some(TokenStatus::TermsNotAccepted),
        ErrorCode::AppleUnavailable | ErrorCode::AppleRateLimited | ErrorCode::AppleProtocolError => {
            Some(TokenStatus::CheckFailed)
        }
        _ => None,
    }
}
