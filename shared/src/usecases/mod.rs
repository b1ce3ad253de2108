//! Use cases: orchestration over the ports. Each public method of [`Services`] is one thing an
//! admin or the portal does. It takes the authenticated [`Caller`](crate::domain::Caller),
//! builds every store key from the caller's tenant and returns an
//! [`AppError`](crate::AppError) with a stable code.
//!
//! Writes require [`Role::Admin`](crate::domain::Role::Admin). An entry of another tenant is
//! `not_found`, exactly as a missing one, because every lookup is scoped by the caller's tenant.

mod certificate;
mod check;
mod failure;
mod notify;
mod servers;
mod settings;
mod subscribers;
mod sweep;
mod upload;
mod view;

use std::sync::Arc;

use chrono_tz::Tz;

use crate::Lang;
use crate::clock::Clock;
use crate::ports::{CredentialSealer, DepApi, KeyVault, Notifier, Store};

pub use certificate::{CertificateDownload, KeyView};
pub use notify::{NotifyFailure, NotifyOutcome};
pub use servers::{MAX_DISPLAY_NAME_CHARS, MAX_NOTE_CHARS};
pub use settings::{EffectiveSettings, SettingsView};
pub use subscribers::SubscriberDirectory;
pub use sweep::{
    EntryRef, LocalSweep, NotifyCounts, OutcomeCounts, RetryPolicy, StatusCounts, SweepChange, SweepFailure,
    SweepOptions, SweepReport, SweepRunner, next_daily_run,
};
pub use upload::{MAX_TOKEN_VALIDITY_DAYS, UploadRequest};
pub use view::{AccountView, HistoryView, ServerView};

/// The ports the use cases run on, built once at start-up by the entry point.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub vault: Arc<dyn KeyVault>,
    pub sealer: Arc<dyn CredentialSealer>,
    pub dep: Arc<dyn DepApi>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    /// The default time zone, for tenants without settings of their own: days left and dates
    /// are counted in the tenant's zone (see [`Services::effective_settings`]).
    pub time_zone: Tz,
    /// The default language, the portal link and the delivery of notifications.
    pub notifications: NotificationSettings,
}

/// The notification settings of the deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationSettings {
    /// The default language of notification texts (Japanese unless configured otherwise),
    /// for tenants without settings of their own.
    pub lang: Lang,
    /// The admin portal's address, linked from e-mail bodies; no link when `None`.
    pub portal_url: Option<String>,
    pub delivery: Delivery,
}

/// The publisher of the message of a newly recorded stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Delivery {
    /// The use case that records the stage publishes it right after its write: the upload
    /// sends its `renewed` confirmation itself. The local runner and the tests work this way,
    /// and call [`Services::notify_entry`] after a sweep.
    #[default]
    Direct,
    /// Use cases only record the stage; a consumer of the table's change stream calls
    /// [`Services::notify_record`] for each changed entry.
    Stream,
}
