//! Publishing the message of an entry's recorded stage, once: publish, then mark the stage as
//! sent with a conditional write. A crash between the two can repeat one message; a stage is
//! never marked before its message went out.

use crate::domain::{ServerName, TenantId};
use crate::messages::{NotificationFacts, render_notification};
use crate::model::{ServerRecord, Stage};
use crate::policy::{self, StageFields};
use crate::ports::{Notification, NotifyError, StoreError};

use super::Services;
use super::settings::EffectiveSettings;

/// How often marking a stage as sent is tried again after a conflicting write.
const MARK_ATTEMPTS: usize = 3;

/// The result of a notify call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyOutcome {
    /// The message of this stage was published and the stage marked as sent.
    Published(Stage),
    /// No stage was waiting: none recorded, or its message already sent.
    NothingPending,
    /// The entry no longer exists.
    EntryGone,
}

/// The failure of a notify call. Both kinds are worth a retry of the whole call.
#[derive(Debug, thiserror::Error)]
pub enum NotifyFailure {
    #[error("reading or marking the entry failed")]
    Store(#[source] StoreError),
    #[error("publishing the notification failed")]
    Publish(#[source] NotifyError),
}

impl Services {
    /// Publishes the message of `record`'s stage unless it was sent already, then marks it sent.
    ///
    /// `record` may be an old image, such as a redelivered change-stream record. When it
    /// shows nothing pending, nothing is read or published; otherwise the decision is made on
    /// the entry as stored now (see [`Services::notify_entry`]).
    pub async fn notify_record(&self, record: &ServerRecord) -> Result<NotifyOutcome, NotifyFailure> {
        if !StageFields::of(record).is_pending() {
            return Ok(NotifyOutcome::NothingPending);
        }
        self.notify_entry(&record.tenant, &record.name).await
    }

    /// Reads the entry, publishes the message of its stage when that stage was not sent yet,
    /// and marks it sent. The message is rendered in the tenant's language, with days left at
    /// the clock's current instant in the tenant's time zone (the defaults for a tenant
    /// without settings). A failure to read the settings is a `Store` failure, to retry,
    /// because a message sent in the wrong language cannot be taken back.
    #[tracing::instrument(skip_all, fields(%tenant, server = %name))]
    pub async fn notify_entry(&self, tenant: &TenantId, name: &ServerName) -> Result<NotifyOutcome, NotifyFailure> {
        let Some(record) = self.store.get_server(tenant, name).await.map_err(NotifyFailure::Store)? else {
            return Ok(NotifyOutcome::EntryGone);
        };
        let Some(stage) = record.stage.filter(|_| StageFields::of(&record).is_pending()) else {
            return Ok(NotifyOutcome::NothingPending);
        };

        let settings = self.effective_settings(tenant).await.map_err(NotifyFailure::Store)?;
        let notification = self.notification_for(&record, stage, &settings);
        self.notifier.publish(&notification).await.map_err(NotifyFailure::Publish)?;
        tracing::info!(stage = stage.as_str(), severity = notification.severity, "notification published");

        self.mark_notified(record, stage).await?;
        Ok(NotifyOutcome::Published(stage))
    }

    /// Renders the message of `stage` about `record` in the language and time zone of `settings`.
    fn notification_for(&self, record: &ServerRecord, stage: Stage, settings: &EffectiveSettings) -> Notification {
        let portal_url = self.notifications.portal_url.as_deref();
        let facts = NotificationFacts::of(record, self.clock.now(), settings.time_zone, portal_url);
        let text = render_notification(stage, &facts, settings.notification_language);

        Notification {
            tenant: record.tenant.clone(),
            server: record.name.clone(),
            kind: stage.as_str().to_owned(),
            severity: policy::severity(stage).to_owned(),
            subject: text.subject,
            body: text.body,
            sms: text.sms,
        }
    }

    /// Sets `notified_stage` to `stage`, conditionally on the version. After a conflicting
    /// write it reads the entry again: when the same token still waits for `stage` it tries
    /// again, and when the stage moved on, the newer stage is left pending for its own call.
    async fn mark_notified(&self, mut record: ServerRecord, stage: Stage) -> Result<(), NotifyFailure> {
        for _ in 0..MARK_ATTEMPTS {
            let marked = ServerRecord {
                notified_stage: Some(stage),
                version: record.version + 1,
                ..record.clone()
            };
            match self.store.update_server(&marked, record.version).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) => {}
                Err(error) => return Err(NotifyFailure::Store(error)),
            }

            let current = self
                .store
                .get_server(&record.tenant, &record.name)
                .await
                .map_err(NotifyFailure::Store)?;
            match current {
                Some(current) if still_pending(&current, &record, stage) => {
                    tracing::debug!("entry changed before the stage was marked; marking again");
                    record = current;
                }
                _ => return Ok(()),
            }
        }
        Err(NotifyFailure::Store(StoreError::Conflict))
    }
}

/// Returns whether `current` still waits for the message of `stage` that was published from `read`:
/// the same stage of the same token, not marked yet.
fn still_pending(current: &ServerRecord, read: &ServerRecord, stage: Stage) -> bool {
    current.stage == Some(stage)
        && current.notified_stage != Some(stage)
        && current.stage_fingerprint == read.stage_fingerprint
}
