//! One entry of the sweep: check it with Apple when asked, compute its status and stage, and
//! write it back only when something changed, conditionally on the version read.

use std::time::Instant;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::error::ErrorCode;
use crate::model::{ServerRecord, TokenStatus};
use crate::policy::{self, StageFields};
use crate::ports::StoreError;

use super::super::Services;
use super::super::check::{is_unanswered, stored_code_of};
use super::report::{EntryRef, SweepChange, SweepFailure};
use super::{RetryPolicy, SweepOptions};

/// The effect on the stored entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Unchanged,
    Updated,
    Conflict,
    Failed,
}

/// The result of the Apple check of the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AppleCheck {
    NotChecked,
    /// Apple accepted or rejected the token.
    Verdict,
    /// No verdict: Apple sent no usable response, or the credentials could not be opened.
    Failed,
    /// Not asked because the run reached its Apple-check deadline first.
    Deferred,
}

/// The result of one entry, for the batch to count.
#[derive(Debug)]
pub(super) struct ItemResult {
    pub outcome: Outcome,
    pub apple: AppleCheck,
    /// The status after the check; `None` for an unreadable item.
    pub status: Option<TokenStatus>,
    pub change: Option<SweepChange>,
    pub failure: Option<SweepFailure>,
    /// The entry, when a stage is recorded and not sent yet after this sweep.
    pub pending: Option<EntryRef>,
}

impl ItemResult {
    fn unreadable(error: &StoreError) -> Self {
        Self {
            outcome: Outcome::Failed,
            apple: AppleCheck::NotChecked,
            status: None,
            change: None,
            failure: Some(SweepFailure {
                tenant: None,
                name: None,
                reason: failure_reason(error).to_owned(),
            }),
            pending: None,
        }
    }
}

impl Services {
    /// Sweeps one item as listed by the store, counting days left in `time_zone` (its
    /// tenant's). Every problem becomes an outcome, not an error.
    pub(super) async fn sweep_item(
        &self,
        item: Result<ServerRecord, StoreError>,
        now: DateTime<Utc>,
        time_zone: Tz,
        options: &SweepOptions,
    ) -> ItemResult {
        let stored = match item {
            Ok(record) => record,
            Err(error) => {
                tracing::error!(error = %super::super::failure::cause_chain(&error), "sweep skipped an unreadable entry");
                return ItemResult::unreadable(&error);
            }
        };

        let past_deadline = options.apple_deadline.is_some_and(|deadline| Instant::now() >= deadline);
        let (checked, apple) = if !options.check_apple || !is_checkable(&stored, now) {
            (stored.clone(), AppleCheck::NotChecked)
        } else if past_deadline {
            (stored.clone(), AppleCheck::Deferred)
        } else {
            self.check_with_apple(&stored, now, &options.retry).await
        };

        let old_status = policy::status_of(&stored, now, time_zone);
        let new_status = policy::status_of(&checked, now, time_zone);
        let mut next = checked;
        policy::next_stage_fields(&StageFields::of(&next), next.consumer_key_fingerprint.as_deref(), &new_status)
            .write_to(&mut next);

        let pending = StageFields::of(&next).is_pending().then(|| EntryRef {
            tenant: next.tenant.clone(),
            name: next.name.clone(),
        });
        let change = (old_status.status != new_status.status || stored.stage != next.stage).then(|| SweepChange {
            tenant: stored.tenant.clone(),
            name: stored.name.clone(),
            old_status: old_status.status,
            new_status: new_status.status,
            old_stage: stored.stage,
            new_stage: next.stage,
        });
        let mut result = ItemResult {
            outcome: Outcome::Unchanged,
            apple,
            status: Some(new_status.status),
            change: None,
            failure: None,
            pending,
        };
        if next == stored {
            return result;
        }

        next.version = stored.version + 1;
        match self.store.update_server(&next, stored.version).await {
            Ok(()) => {
                if let Some(change) = &change {
                    tracing::info!(
                        tenant = %change.tenant,
                        server = %change.name,
                        old_status = change.old_status.as_str(),
                        new_status = change.new_status.as_str(),
                        old_stage = ?change.old_stage,
                        new_stage = ?change.new_stage,
                        "sweep updated an entry"
                    );
                }
                result.outcome = Outcome::Updated;
                result.change = change;
            }
            Err(StoreError::Conflict) => {
                // The write in between (an upload, a check) wins, and the next sweep reads the entry again.
                tracing::info!(tenant = %stored.tenant, server = %stored.name, "sweep skipped an entry that changed meanwhile");
                result.outcome = Outcome::Conflict;
                result.pending = None;
            }
            Err(error) => {
                tracing::error!(
                    tenant = %stored.tenant,
                    server = %stored.name,
                    error = %super::super::failure::cause_chain(&error),
                    "sweep failed to write an entry"
                );
                result.outcome = Outcome::Failed;
                result.pending = None;
                result.failure = Some(SweepFailure {
                    tenant: Some(stored.tenant.clone()),
                    name: Some(stored.name.clone()),
                    reason: failure_reason(&error).to_owned(),
                });
            }
        }
        result
    }

    /// Asks Apple about the stored token and returns the entry with the verdict recorded.
    ///
    /// Without a verdict (Apple unreachable after the retries) a verdict already stored, such
    /// as `terms_not_accepted`, is kept, because a failed check does not show that it was fixed.
    async fn check_with_apple(&self, stored: &ServerRecord, now: DateTime<Utc>, retry: &RetryPolicy) -> (ServerRecord, AppleCheck) {
        // A failure to open the credentials is logged where it is mapped.
        let Ok(credentials) = self.open_credentials(&stored.tenant, &stored.name, stored).await else {
            return (stored.clone(), AppleCheck::Failed);
        };
        let verdict = retry.run(|| self.dep.fetch_account(&credentials)).await;
        drop(credentials);

        let mut checked = ServerRecord {
            last_checked_at: Some(now),
            ..stored.clone()
        };
        match verdict {
            Ok(account) => {
                checked.last_error = None;
                checked.account = Some(account);
                (checked, AppleCheck::Verdict)
            }
            Err(error) if is_unanswered(&error) => {
                tracing::warn!(tenant = %stored.tenant, server = %stored.name, error = %error, "Apple gave no verdict on the token");
                if !stored.last_error.is_some_and(is_verdict) {
                    checked.last_error = Some(stored_code_of(&error));
                }
                (checked, AppleCheck::Failed)
            }
            Err(error) => {
                tracing::info!(tenant = %stored.tenant, server = %stored.name, error = error.label(), "Apple rejected the stored token");
                checked.last_error = Some(stored_code_of(&error));
                (checked, AppleCheck::Verdict)
            }
        }
    }
}

/// Returns whether the entry has a token that Apple can still be asked about: stored and not expired.
fn is_checkable(record: &ServerRecord, now: DateTime<Utc>) -> bool {
    record.credentials.is_some() && record.expires_at.is_some_and(|expires_at| expires_at > now)
}

/// Returns whether a stored code is Apple's verdict on the token rather than a failure to get one.
fn is_verdict(code: ErrorCode) -> bool {
    !matches!(
        code,
        ErrorCode::AppleUnavailable | ErrorCode::AppleRateLimited | ErrorCode::AppleProtocolError
    )
}

fn failure_reason(error: &StoreError) -> &'static str {
    match error {
        StoreError::Corrupt(_) => "corrupt",
        StoreError::Throttled => "throttled",
        StoreError::NotFound => "not_found",
        StoreError::AlreadyExists => "already_exists",
        StoreError::Conflict => "conflict",
        StoreError::Unavailable(_) => "store_unavailable",
    }
}
