//! Notification texts for every [`Stage`], in Japanese and English. Each has an e-mail
//! subject, one SMS text and a full e-mail body. The body names the entry, the organisation,
//! the expiry in the tenant's time zone and the days left, and gives what to do with the
//! renewal steps in ABM's own screen labels.
//!
//! The texts never contain a credential: they are built from [`NotificationFacts`], which holds
//! names, dates and Apple's verdict only.

mod en;
mod ja;
mod sms;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::error::ErrorCode;
use crate::model::{ServerRecord, Stage};
use crate::policy;

use super::Lang;

pub use sms::{SMS_GSM7_SEPTETS, SMS_UCS2_UNITS, sms_fits};

/// The rendered message of one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationText {
    pub subject: String,
    /// Plain-text e-mail body.
    pub body: String,
    /// One SMS segment: at most 70 UTF-16 units, or 160 GSM 7-bit characters when the text
    /// has only characters of that alphabet.
    pub sms: String,
}

/// The facts a message states about an entry. Contains no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationFacts {
    /// The entry's display name in the portal.
    pub display_name: String,
    /// The entry's identifier in the portal.
    pub server: String,
    /// The MDM server's name in ABM, as Apple returned it.
    pub abm_server_name: Option<String>,
    pub org_name: Option<String>,
    /// The Apple Account that downloaded the current token, as Apple returned it.
    pub apple_account: Option<String>,
    /// The note the admin keeps on the entry (the Apple Account used in ABM).
    pub note: Option<String>,
    /// Whether the organisation uses Apple School Manager rather than Apple Business Manager.
    pub education: bool,
    pub expires_at: Option<DateTime<Utc>>,
    /// Calendar days left in `time_zone`; negative once expired.
    pub days_remaining: Option<i64>,
    /// Apple's verdict at the last check, which explains a `token_rejected` stage.
    pub reason: Option<ErrorCode>,
    /// The admin portal's address, linked from the e-mail body.
    pub portal_url: Option<String>,
    pub time_zone: Tz,
}

impl NotificationFacts {
    /// Collects the facts of `record` at `now`, with dates and days counted in `time_zone`.
    pub fn of(record: &ServerRecord, now: DateTime<Utc>, time_zone: Tz, portal_url: Option<&str>) -> Self {
        let account = record.account.as_ref();
        let status = policy::status_of(record, now, time_zone);

        Self {
            display_name: record.display_name.clone(),
            server: record.name.as_str().to_owned(),
            abm_server_name: account.map(|a| a.server_name.clone()).filter(|name| !name.is_empty()),
            org_name: account.and_then(|a| a.org_name.clone()),
            apple_account: account.and_then(|a| a.admin_id.clone()),
            note: record.note.clone(),
            education: account.and_then(|a| a.org_type.as_deref()) == Some("edu"),
            expires_at: record.expires_at,
            days_remaining: status.days_remaining,
            reason: record.last_error,
            portal_url: portal_url.map(str::to_owned),
            time_zone,
        }
    }

    /// Returns the Apple service the organisation signs in to: full name, short name, address.
    pub(crate) fn manager(&self) -> (&'static str, &'static str, &'static str) {
        if self.education {
            ("Apple School Manager", "ASM", "https://school.apple.com")
        } else {
            ("Apple Business Manager", "ABM", "https://business.apple.com")
        }
    }
}

/// Renders the message of `stage` about `facts` in `lang`.
pub fn render_notification(stage: Stage, facts: &NotificationFacts, lang: Lang) -> NotificationText {
    match lang {
        Lang::Ja => ja::render(stage, facts),
        Lang::En => en::render(stage, facts),
    }
}
