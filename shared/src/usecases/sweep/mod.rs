//! The daily sweep over every DEP server entry of every tenant. It computes each entry's
//! status and notification stage at one instant, optionally after asking Apple about each
//! token. It writes back only what changed, conditionally on the version read, so that a
//! concurrent upload always wins. One bad entry never stops the sweep.
//!
//! Days left are counted in each tenant's time zone. The sweep reads each tenant's settings
//! once per run, before the entries. A tenant whose settings cannot be read is swept in the
//! default time zone, and the failure is logged.
//!
//! The sweep only records stages. Publishing them is [`Services::notify_entry`]'s job: the
//! local runner calls it right after the sweep ([`Services::sweep_and_notify`]); on AWS a
//! consumer of the table's change stream calls [`Services::notify_record`].

mod item;
mod report;
mod retry;
mod schedule;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use chrono_tz::Tz;
use futures_util::StreamExt as _;

use crate::domain::TenantId;
use crate::error::{AppError, ErrorCode};
use crate::model::ServerRecord;
use crate::ports::StoreError;

use super::Services;
use super::failure::cause_chain;
use super::notify::NotifyOutcome;
use item::{AppleCheck, ItemResult, Outcome};

pub use report::{
    EntryRef, LocalSweep, NotifyCounts, OutcomeCounts, StatusCounts, SweepChange, SweepFailure, SweepReport,
};
pub use retry::RetryPolicy;
pub use schedule::next_daily_run;

/// Default number of entries processed at once.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Settings of one sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepOptions {
    /// Open a DEP session for every unexpired token and read `/account`, to catch revoked and
    /// superseded tokens, broken accounts and new Terms and Conditions before the expiry.
    pub check_apple: bool,
    /// Entries processed at once, which bounds the Apple checks in flight; 0 counts as 1.
    pub concurrency: usize,
    /// Backoff of DEP calls that failed without a verdict (429, 5xx, timeouts).
    pub retry: RetryPolicy,
    /// No Apple check starts at or after this instant: the remaining entries are swept on
    /// their expiry dates alone and counted as `apple_deferred`, so that a sweep of more
    /// tokens than one run can check still finishes. The entries checked longest ago go
    /// first, so successive runs reach every token. `None` checks every entry.
    pub apple_deadline: Option<Instant>,
}

impl Default for SweepOptions {
    fn default() -> Self {
        Self {
            check_apple: false,
            concurrency: DEFAULT_CONCURRENCY,
            retry: RetryPolicy::default(),
            apple_deadline: None,
        }
    }
}

impl Services {
    /// Sweeps every entry of every tenant at the clock's current instant.
    ///
    /// Fails only when the store cannot list the entries at all. A second sweep at the same
    /// instant writes nothing.
    #[tracing::instrument(skip_all, fields(check_apple = options.check_apple, concurrency = options.concurrency))]
    pub async fn sweep(&self, options: &SweepOptions) -> Result<SweepReport, StoreError> {
        let now = self.clock.now();
        tracing::info!(%now, "sweep started");

        let mut items = self.store.list_all_servers().await.inspect_err(|error| {
            tracing::error!(error = %cause_chain(error), "sweep could not list the entries");
        })?;
        if options.check_apple {
            // Never checked first, then the oldest check: a run that reaches its deadline
            // leaves the most recently checked tokens for the next run.
            items.sort_by_key(|item| item.as_ref().ok().map(|record| record.last_checked_at));
        }
        let time_zones = self.tenant_time_zones(&items, options).await;
        let results: Vec<ItemResult> = futures_util::stream::iter(items)
            .map(|item| {
                let time_zone = item
                    .as_ref()
                    .ok()
                    .and_then(|record| time_zones.get(&record.tenant).copied())
                    .unwrap_or(self.time_zone);
                self.sweep_item(item, now, time_zone, options)
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;

        let report = collect(now, results);
        tracing::info!(
            entries = report.entries,
            unchanged = report.outcomes.unchanged,
            updated = report.outcomes.updated,
            conflict = report.outcomes.conflict,
            failed = report.outcomes.failed,
            apple_checked = report.outcomes.apple_checked,
            apple_failed = report.outcomes.apple_failed,
            apple_deferred = report.outcomes.apple_deferred,
            expiring = report.statuses.expiring,
            expired = report.statuses.expired,
            token_rejected = report.statuses.token_rejected,
            terms_not_accepted = report.statuses.terms_not_accepted,
            check_failed = report.statuses.check_failed,
            pending = report.pending.len(),
            "sweep finished"
        );
        Ok(report)
    }

    /// Reads the time zone of every tenant that has a readable entry in `items`, once per
    /// tenant. A tenant without settings gets the default zone, and so does a tenant whose
    /// settings cannot be read, after the error is logged.
    async fn tenant_time_zones(
        &self,
        items: &[Result<ServerRecord, StoreError>],
        options: &SweepOptions,
    ) -> HashMap<TenantId, Tz> {
        // Owned ids: a closure over borrowed ones makes the future fail the `Send` bound of
        // the API handler that runs the sweep.
        let tenants: BTreeSet<TenantId> = items
            .iter()
            .filter_map(|item| item.as_ref().ok())
            .map(|record| record.tenant.clone())
            .collect();

        futures_util::stream::iter(tenants)
            .map(|tenant| async move {
                let time_zone = match self.effective_settings(&tenant).await {
                    Ok(settings) => settings.time_zone,
                    Err(error) => {
                        tracing::error!(
                            %tenant,
                            error = %cause_chain(&error),
                            default_time_zone = self.time_zone.name(),
                            "sweep failed to read the tenant's settings, so it counts days in the default time zone"
                        );
                        self.time_zone
                    }
                };
                (tenant, time_zone)
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await
    }

    /// Sweeps, then publishes the message of every entry left with a pending stage, one after
    /// the other in the order of tenant and name. A failed message is logged and counted and
    /// stays pending, so the next sweep tries it again.
    pub async fn sweep_and_notify(&self, options: &SweepOptions) -> Result<LocalSweep, StoreError> {
        let report = self.sweep(options).await?;

        let mut notifications = NotifyCounts::default();
        for entry in &report.pending {
            match self.notify_entry(&entry.tenant, &entry.name).await {
                Ok(NotifyOutcome::Published(_)) => notifications.published += 1,
                Ok(NotifyOutcome::NothingPending | NotifyOutcome::EntryGone) => notifications.nothing_pending += 1,
                Err(error) => {
                    tracing::error!(
                        tenant = %entry.tenant,
                        server = %entry.name,
                        error = %cause_chain(&error),
                        "notification after the sweep failed"
                    );
                    notifications.failed += 1;
                }
            }
        }
        Ok(LocalSweep { report, notifications })
    }
}

/// Runs [`Services::sweep_and_notify`] with fixed options, one run at a time, for a process
/// that sweeps from more than one place (the local runner's daily timer and `POST /v1/sweep`).
/// Two overlapping runs could both find a stage pending and publish it twice.
#[derive(Debug, Clone)]
pub struct SweepRunner {
    options: SweepOptions,
    running: Arc<tokio::sync::Mutex<()>>,
}

impl SweepRunner {
    pub fn new(options: SweepOptions) -> Self {
        Self {
            options,
            running: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Sweeps and notifies once the previous run finished. A failure to list the entries
    /// (logged by the sweep) is an `internal_error`.
    pub async fn run(&self, services: &Services) -> Result<LocalSweep, AppError> {
        let _running = self.running.lock().await;
        services
            .sweep_and_notify(&self.options)
            .await
            .map_err(|_| AppError::new(ErrorCode::InternalError))
    }
}

/// Counts the results into a report, with its lists ordered by tenant and name.
fn collect(now: chrono::DateTime<chrono::Utc>, results: Vec<ItemResult>) -> SweepReport {
    let mut report = SweepReport {
        now,
        entries: results.len(),
        ..SweepReport::default()
    };

    for result in results {
        match result.outcome {
            Outcome::Unchanged => report.outcomes.unchanged += 1,
            Outcome::Updated => report.outcomes.updated += 1,
            Outcome::Conflict => report.outcomes.conflict += 1,
            Outcome::Failed => report.outcomes.failed += 1,
        }
        match result.apple {
            AppleCheck::NotChecked => {}
            AppleCheck::Verdict => report.outcomes.apple_checked += 1,
            AppleCheck::Failed => report.outcomes.apple_failed += 1,
            AppleCheck::Deferred => report.outcomes.apple_deferred += 1,
        }
        if let Some(status) = result.status {
            report.statuses.add(status);
        }
        report.changes.extend(result.change);
        report.failures.extend(result.failure);
        report.pending.extend(result.pending);
    }

    report.changes.sort_by(|a, b| (&a.tenant, &a.name).cmp(&(&b.tenant, &b.name)));
    report.failures.sort_by(|a, b| (&a.tenant, &a.name).cmp(&(&b.tenant, &b.name)));
    report.pending.sort();
    report
}
