//! Asking Apple about the stored token now, for instance after an admin accepted new Terms
//! and Conditions in ABM.

use crate::dep::DepError;
use crate::domain::{Caller, ServerName, TenantId};
use crate::error::{AppError, ErrorCode, ErrorDetail};
use crate::model::ServerRecord;
use crate::secret::SecretText;
use crate::token::TokenCredentials;

use super::failure;
use super::view::ServerView;
use super::Services;

impl Services {
    /// Reads the account with the stored token and records the verdict: `last_checked_at`,
    /// `last_error` (`None` when Apple accepted the token) and the refreshed account details.
    ///
    /// Apple's verdicts on the token (rejected, Terms not accepted, ...) are stored and the
    /// entry is returned. When Apple gives no verdict (5xx, timeout, 429, protocol error) the
    /// failure is stored as `apple_unavailable` (or `apple_protocol_error`) and also returned
    /// as the error. The stored token is never removed. An entry without a token is
    /// `invalid_request` on the field `token`.
    #[tracing::instrument(skip_all, fields(tenant = %caller.tenant, server = name))]
    pub async fn check_token(&self, caller: &Caller, name: &str) -> Result<ServerView, AppError> {
        caller.require_write()?;
        let name = ServerName::parse(name)?;
        let record = self.load_server(caller, &name).await?;

        let credentials = self.open_credentials(&caller.tenant, &name, &record).await?;
        let verdict = self.dep.fetch_account(&credentials).await;
        drop(credentials);

        let now = self.clock.now();
        let (last_error, account, returned_error) = match verdict {
            Ok(account) => (None, Some(account), None),
            Err(error) => {
                tracing::info!(error = %error, "Apple did not accept the stored token");
                let stored_code = stored_code_of(&error);
                let returned = is_unanswered(&error).then(|| AppError::from(error));
                (Some(stored_code), record.account.clone(), returned)
            }
        };
        let updated = ServerRecord {
            last_checked_at: Some(now),
            last_error,
            account,
            version: record.version + 1,
            ..record.clone()
        };
        self.store
            .update_server(&updated, record.version)
            .await
            .map_err(|e| failure::from_store(e, "update_server", &caller.tenant, &name))?;

        tracing::info!(last_error = ?updated.last_error, "token checked");
        match returned_error {
            Some(error) => Err(error),
            None => Ok(ServerView::of(&updated, now, self.view_time_zone(&caller.tenant).await)),
        }
    }

    /// Opens the entry's sealed credentials.
    pub(super) async fn open_credentials(
        &self,
        tenant: &TenantId,
        name: &ServerName,
        record: &ServerRecord,
    ) -> Result<TokenCredentials, AppError> {
        let (Some(sealed), Some(expires_at)) = (&record.credentials, record.expires_at) else {
            return Err(AppError::with_detail(
                ErrorCode::InvalidRequest,
                ErrorDetail::InvalidField { field: "token".to_owned() },
            ));
        };

        Ok(TokenCredentials {
            consumer_key: self.open_one(tenant, name, &sealed.consumer_key).await?,
            consumer_secret: self.open_one(tenant, name, &sealed.consumer_secret).await?,
            access_token: self.open_one(tenant, name, &sealed.access_token).await?,
            access_secret: self.open_one(tenant, name, &sealed.access_secret).await?,
            access_token_expiry: expires_at,
        })
    }

    async fn open_one(&self, tenant: &TenantId, name: &ServerName, sealed: &str) -> Result<SecretText, AppError> {
        self.sealer
            .open(tenant, name, sealed)
            .await
            .map_err(|e| failure::from_vault(e, "open_credentials", tenant, name))
    }
}

/// Whether Apple gave no verdict on the token, so that the caller should retry later.
pub(super) fn is_unanswered(error: &DepError) -> bool {
    matches!(
        error,
        DepError::Unavailable { .. } | DepError::RateLimited { .. } | DepError::Protocol { .. }
    )
}

/// Returns the code stored as `last_error`. Transient failures are all `apple_unavailable`.
pub(super) fn stored_code_of(error: &DepError) -> ErrorCode {
    match error {
        DepError::Unavailable { .. } | DepError::RateLimited { .. } => ErrorCode::AppleUnavailable,
        other => AppError::from(other.clone()).code,
    }
}
