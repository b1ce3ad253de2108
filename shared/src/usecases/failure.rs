//! The one place where port errors become [`AppError`]s. Errors a caller can act on keep their
//! meaning (`not_found`, `already_exists`, `conflict`), and throttling becomes `service_busy`
//! with a retry delay. Every other failure is logged here once, with its cause chain and ids,
//! and returned as a generic `internal_error`.

use std::error::Error;
use std::fmt::Write as _;

use crate::domain::{ServerName, TenantId};
use crate::error::{AppError, ErrorCode, ErrorDetail};
use crate::keys::KeyError;
use crate::ports::{StoreError, VaultError};

/// Joins an error and its `source()` chain into one line for a log field.
pub(crate) fn cause_chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

/// Seconds a caller is asked to wait after DynamoDB, KMS or SNS throttled a request. The SDK
/// has already retried with backoff by then, so a short pause is enough for the next try.
pub(crate) const THROTTLED_RETRY_AFTER_SECONDS: u64 = 10;

/// Builds the error for a request that the back end throttled: nothing was changed, so the
/// caller may retry soon.
pub(crate) fn service_busy() -> AppError {
    AppError::with_detail(
        ErrorCode::ServiceBusy,
        ErrorDetail::RetryAfter {
            seconds: THROTTLED_RETRY_AFTER_SECONDS,
        },
    )
}

/// Maps a store error of `operation` on the tenant's entry `server`.
pub(crate) fn from_store(error: StoreError, operation: &'static str, tenant: &TenantId, server: &ServerName) -> AppError {
    match error {
        StoreError::NotFound => AppError::new(ErrorCode::NotFound),
        StoreError::AlreadyExists => AppError::new(ErrorCode::AlreadyExists),
        StoreError::Conflict => {
            tracing::info!(operation, %tenant, %server, "store write conflicted with a concurrent change");
            AppError::new(ErrorCode::Conflict)
        }
        StoreError::Throttled => {
            tracing::warn!(operation, %tenant, %server, "store throttled the request");
            service_busy()
        }
        StoreError::Corrupt(_) | StoreError::Unavailable(_) => {
            tracing::error!(operation, %tenant, %server, error = %cause_chain(&error), "store operation failed");
            AppError::new(ErrorCode::InternalError)
        }
    }
}

/// Maps a store error of `operation` that is not about one entry (a tenant-wide listing).
pub(crate) fn from_tenant_store(error: StoreError, operation: &'static str, tenant: &TenantId) -> AppError {
    match error {
        StoreError::NotFound => AppError::new(ErrorCode::NotFound),
        StoreError::AlreadyExists => AppError::new(ErrorCode::AlreadyExists),
        StoreError::Conflict => AppError::new(ErrorCode::Conflict),
        StoreError::Throttled => {
            tracing::warn!(operation, %tenant, "store throttled the request");
            service_busy()
        }
        StoreError::Corrupt(_) | StoreError::Unavailable(_) => {
            tracing::error!(operation, %tenant, error = %cause_chain(&error), "store operation failed");
            AppError::new(ErrorCode::InternalError)
        }
    }
}

/// Maps a key vault or credential sealer error. A `Rejected` seal means stored data does not
/// match its context (corruption or a bug), never something the caller did.
pub(crate) fn from_vault(error: VaultError, operation: &'static str, tenant: &TenantId, server: &ServerName) -> AppError {
    if matches!(error, VaultError::Throttled) {
        tracing::warn!(operation, %tenant, %server, "vault throttled the request");
        return service_busy();
    }
    tracing::error!(operation, %tenant, %server, error = %cause_chain(&error), "vault operation failed");
    AppError::new(ErrorCode::InternalError)
}

/// Maps a failure to make or read key material, which is always our own fault.
pub(crate) fn from_key(error: KeyError, operation: &'static str, tenant: &TenantId, server: &ServerName) -> AppError {
    tracing::error!(operation, %tenant, %server, error = %cause_chain(&error), "key operation failed");
    AppError::new(ErrorCode::InternalError)
}

/// Maps a blocking task that panicked or was cancelled.
pub(crate) fn from_join(error: tokio::task::JoinError, operation: &'static str, tenant: &TenantId, server: &ServerName) -> AppError {
    tracing::error!(operation, %tenant, %server, error = %error, "blocking task failed");
    AppError::new(ErrorCode::InternalError)
}

/// Logs an entry that refers to missing stored data (a key, credentials) as an internal error.
pub(crate) fn inconsistent(problem: &'static str, tenant: &TenantId, server: &ServerName) -> AppError {
    tracing::error!(%tenant, %server, problem, "stored entry is inconsistent");
    AppError::new(ErrorCode::InternalError)
}
