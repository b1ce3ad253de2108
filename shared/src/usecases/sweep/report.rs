//! The sweep report: counts per status and per outcome, and the entries that changed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ServerName, TenantId};
use crate::model::{Stage, TokenStatus};

/// Entries per status at the sweep's instant, after the Apple checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub no_token: usize,
    pub ok: usize,
    pub expiring: usize,
    pub expired: usize,
    pub token_rejected: usize,
    pub terms_not_accepted: usize,
    pub check_failed: usize,
}

impl StatusCounts {
    pub(super) fn add(&mut self, status: TokenStatus) {
        let count = match status {
            TokenStatus::NoToken => &mut self.no_token,
            TokenStatus::Ok => &mut self.ok,
            TokenStatus::Expiring => &mut self.expiring,
            TokenStatus::Expired => &mut self.expired,
            TokenStatus::TokenRejected => &mut self.token_rejected,
            TokenStatus::TermsNotAccepted => &mut self.terms_not_accepted,
            TokenStatus::CheckFailed => &mut self.check_failed,
        };
        *count += 1;
    }
}

/// Entries per outcome. `unchanged`, `updated`, `conflict` and `failed` add up to the entries
/// read (unreadable items count as `failed`); the Apple counts are separate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    /// Nothing to write.
    pub unchanged: usize,
    /// Written back.
    pub updated: usize,
    /// Skipped because the entry changed after it was read (an upload, say); that write wins.
    pub conflict: usize,
    /// Unreadable, or the write failed.
    pub failed: usize,
    /// Apple gave a verdict on the token (accepted or rejected it).
    pub apple_checked: usize,
    /// The check gave no verdict: Apple unreachable after the retries, or the stored
    /// credentials could not be opened.
    pub apple_failed: usize,
    /// Not asked because the run reached its Apple-check deadline
    /// ([`super::SweepOptions::apple_deadline`]); the next run asks Apple about these first.
    pub apple_deferred: usize,
}

/// An entry, by tenant and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryRef {
    pub tenant: TenantId,
    pub name: ServerName,
}

/// An entry whose status or stage the sweep changed and wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepChange {
    pub tenant: TenantId,
    pub name: ServerName,
    /// The status at the sweep's instant before this sweep's Apple check.
    pub old_status: TokenStatus,
    pub new_status: TokenStatus,
    pub old_stage: Option<Stage>,
    pub new_stage: Option<Stage>,
}

/// An entry the sweep could not read or write. Holds identifiers and a reason, never an item body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepFailure {
    /// `None` when the item was too damaged to name its entry.
    pub tenant: Option<TenantId>,
    pub name: Option<ServerName>,
    /// `corrupt`, `throttled` or `store_unavailable`.
    pub reason: String,
}

/// The result of one sweep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepReport {
    /// The instant every entry was evaluated at.
    pub now: DateTime<Utc>,
    /// Items read, including unreadable ones.
    pub entries: usize,
    pub statuses: StatusCounts,
    pub outcomes: OutcomeCounts,
    /// Entries whose status or stage changed, by tenant and name. Entries written only to
    /// record an Apple check (`last_checked_at`) count as `updated` but are not listed.
    pub changes: Vec<SweepChange>,
    pub failures: Vec<SweepFailure>,
    /// Entries whose recorded stage was not sent yet after this sweep, by tenant and name.
    pub pending: Vec<EntryRef>,
}

/// The messages of the pending stages that the local runner published after a sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyCounts {
    pub published: usize,
    /// Nothing was due any more when the entry was read again.
    pub nothing_pending: usize,
    pub failed: usize,
}

/// A sweep followed by the notifications it made due, as the local runner runs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalSweep {
    pub report: SweepReport,
    pub notifications: NotifyCounts,
}
