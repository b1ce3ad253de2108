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
mod upload;
mod view;

use std::sync::Arc;

use chrono_tz::Tz;

use crate::clock::Clock;
use crate::ports::{CredentialSealer, DepApi, KeyVault, Notifier, Store};

pub use certificate::{CertificateDownload, KeyView};
pub use servers::{MAX_DISPLAY_NAME_CHARS, MAX_NOTE_CHARS};
pub use upload::UploadRequest;
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
    /// The tenant's time zone: days left and dates in messages are counted in it.
    pub time_zone: Tz,
}
