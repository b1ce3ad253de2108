//! The API's views of an entry and its history: computed from the stored items with the
//! status policy, and built field by field so that no credential can slip in.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::error::ErrorCode;
use crate::model::{AccountDetails, ServerRecord, TokenStatus, UploadRecord};
use crate::policy;

/// A DEP server entry as the dashboard shows it. Holds no credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerView {
    pub name: String,
    pub display_name: String,
    pub status: TokenStatus,
    /// `access_token_expiry` of the stored token, RFC 3339 UTC.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whole days left in the tenant's time zone; negative once expired.
    pub days_remaining: Option<i64>,
    /// True from 60 days before expiry and in every broken state.
    pub highlight: bool,
    /// The Apple Account used in ABM, as the admin wrote it down.
    pub note: Option<String>,
    pub account: Option<AccountView>,
    /// First 16 hex characters of SHA-256 over the consumer key.
    pub consumer_key_fingerprint: Option<String>,
    pub last_checked_at: Option<DateTime<Utc>>,
    /// Apple's verdict at the last check, `None` when Apple accepted the token.
    pub last_error: Option<ErrorCode>,
    pub uploaded_at: Option<DateTime<Utc>>,
    pub uploaded_by: Option<String>,
}

/// The account details Apple returned for the stored token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    pub server_name: String,
    pub server_uuid: String,
    pub org_name: Option<String>,
    pub admin_id: Option<String>,
    pub org_email: Option<String>,
    pub org_type: Option<String>,
}

/// One accepted upload. Holds no credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryView {
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by: String,
    pub expires_at: DateTime<Utc>,
    pub server_name: String,
    pub server_uuid: String,
    pub admin_id: Option<String>,
    pub consumer_key_fingerprint: String,
    pub note: Option<String>,
    pub key_id: String,
}

impl ServerView {
    /// Builds the view of `record` at `now`, counting days in `tz`.
    pub fn of(record: &ServerRecord, now: DateTime<Utc>, tz: Tz) -> Self {
        let status = policy::status_of(record, now, tz);

        Self {
            name: record.name.as_str().to_owned(),
            display_name: record.display_name.clone(),
            status: status.status,
            expires_at: record.expires_at,
            days_remaining: status.days_remaining,
            highlight: status.highlight,
            note: record.note.clone(),
            account: record.account.as_ref().map(AccountView::of),
            consumer_key_fingerprint: record.consumer_key_fingerprint.clone(),
            last_checked_at: record.last_checked_at,
            last_error: record.last_error,
            uploaded_at: record.uploaded_at,
            uploaded_by: record.uploaded_by.clone(),
        }
    }
}

impl AccountView {
    fn of(account: &AccountDetails) -> Self {
        Self {
            server_name: account.server_name.clone(),
            server_uuid: account.server_uuid.clone(),
            org_name: account.org_name.clone(),
            admin_id: account.admin_id.clone(),
            org_email: account.org_email.clone(),
            org_type: account.org_type.clone(),
        }
    }
}

impl HistoryView {
    pub fn of(row: &UploadRecord) -> Self {
        Self {
            uploaded_at: row.uploaded_at,
            uploaded_by: row.uploaded_by.clone(),
            expires_at: row.expires_at,
            server_name: row.server_name.clone(),
            server_uuid: row.server_uuid.clone(),
            admin_id: row.admin_id.clone(),
            consumer_key_fingerprint: row.consumer_key_fingerprint.clone(),
            note: row.note.clone(),
            key_id: row.key_id.as_str().to_owned(),
        }
    }
}
