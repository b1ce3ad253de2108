//! The token status policy: pure functions of the stored entry, the time zone and now.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::error::ErrorCode;
use crate::model::{ServerRecord, TokenStatus};

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

/// Whole days from `now` to `expires_at`, counted as calendar days in `tz`.
pub fn days_remaining(expires_at: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> i64 {
    (local_date(expires_at, tz) - local_date(now, tz)).num_days()
}

/// The status of an entry at `now`.
pub fn status_of(record: &ServerRecord, now: DateTime<Utc>, tz: Tz) -> StatusView {
    let Some(expires_at) = record.expires_at else {
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
        match record.last_error {
            Some(
                ErrorCode::TokenRejected
                | ErrorCode::TokenSuperseded
                | ErrorCode::TokenExpired
                | ErrorCode::AccountInvalid
                | ErrorCode::AccessDenied
                | ErrorCode::ServerInactive,
            ) => TokenStatus::TokenRejected,
            Some(ErrorCode::TermsNotAccepted) => TokenStatus::TermsNotAccepted,
            Some(ErrorCode::AppleUnavailable | ErrorCode::AppleRateLimited | ErrorCode::AppleProtocolError) => {
                TokenStatus::CheckFailed
            }
            _ if days <= EXPIRING_DAYS => TokenStatus::Expiring,
            _ => TokenStatus::Ok,
        }
    };

    let highlight = days <= EXPIRING_DAYS
        || matches!(
            status,
            TokenStatus::Expired | TokenStatus::TokenRejected | TokenStatus::TermsNotAccepted
        );

    StatusView {
        status,
        days_remaining: Some(days),
        highlight,
    }
}
