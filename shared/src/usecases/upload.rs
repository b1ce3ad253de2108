//! Accepting a server token file: decrypt it with the entry's key, let Apple verify it, and
//! only then replace the stored token, in one conditional write.

use chrono::{DateTime, Utc};
use tracing::field::Empty;

use crate::domain::{Caller, ServerName};
use crate::error::{AppError, ErrorCode, ErrorDetail};
use crate::keys::{self, MdmPrivateKey};
use crate::model::{AccountDetails, KeyRecord, KeyState, SealedCredentials, ServerRecord, UploadRecord};
use crate::policy::StageFields;
use crate::secret::SecretText;
use crate::token::{self, EncryptedToken, RecipientId, TokenCredentials};

use super::failure;
use super::servers::{MAX_NOTE_CHARS, clean_text};
use super::view::ServerView;
use super::{Delivery, Services};

/// Maximum days between now and a token's `access_token_expiry`. Apple issues tokens valid for
/// exactly one year, so an expiry more than 400 days ahead (a year plus a margin for clock
/// skew) comes from a crafted or broken file. Storing it would hide the real renewal date
/// from every countdown, so such a token is `invalid_payload`.
pub const MAX_TOKEN_VALIDITY_DAYS: i64 = 400;

/// An uploaded token file and what came with it.
#[derive(Debug, Clone, Default)]
pub struct UploadRequest {
    /// The file as uploaded (any envelope the token reader accepts).
    pub file: Vec<u8>,
    /// The Apple Account used in ABM; replaces the entry's note when given and not blank.
    pub note: Option<String>,
    /// Accept a token of another ABM MDM server than the stored one.
    pub confirm_server_change: bool,
}

/// A token that decrypted with one of the entry's keys and that Apple accepted.
struct Verified<'k> {
    key: &'k KeyRecord,
    credentials: TokenCredentials,
    fingerprint: String,
    account: AccountDetails,
}

impl Services {
    /// Verifies an uploaded token and stores it as the entry's token.
    ///
    /// Steps: size checks → load the entry → parse the envelope → match the recipient against
    /// the entry's keys (every state) → decrypt → reject an expired token → read the account
    /// from Apple. Then it rejects a token of another ABM server unless confirmed, seals the
    /// credentials, stores the entry, history row and key promotion in one conditional write
    /// with the stage reset to `renewed`, and (with [`Delivery::Direct`]) sends the confirmation.
    ///
    /// Any error leaves the stored entry, history and keys unchanged. A token made for the
    /// staged key promotes it to current and retires the previous current key.
    #[tracing::instrument(skip_all, fields(tenant = %caller.tenant, server = name, key_id = Empty, fingerprint = Empty))]
    pub async fn upload_token(&self, caller: &Caller, name: &str, request: UploadRequest) -> Result<ServerView, AppError> {
        let outcome = self.try_upload(caller, name, request).await;
        match &outcome {
            Ok(view) => {
                let expires_at = view.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default();
                tracing::info!(%expires_at, "upload accepted");
            }
            Err(error) if error.code == ErrorCode::InternalError => {}
            Err(error) => tracing::info!(code = %error.code, "upload rejected"),
        }
        outcome
    }

    async fn try_upload(&self, caller: &Caller, name: &str, request: UploadRequest) -> Result<ServerView, AppError> {
        caller.require_write()?;
        let name = ServerName::parse(name)?;
        if request.file.is_empty() {
            return Err(AppError::new(ErrorCode::EmptyUpload));
        }
        if request.file.len() > token::MAX_TOKEN_FILE_BYTES {
            return Err(AppError::with_detail(
                ErrorCode::TooLarge,
                ErrorDetail::Limit { bytes: token::MAX_TOKEN_FILE_BYTES },
            ));
        }
        let note = match request.note.as_deref() {
            Some(text) => clean_text(text, MAX_NOTE_CHARS, "note")?,
            None => None,
        };

        let record = self.load_server(caller, &name).await?;
        let server_keys = self.server_keys(&caller.tenant, &name).await?;
        let verified = self.verify(caller, &name, &request.file, &server_keys).await?;
        check_same_server(record.account.as_ref(), &verified.account, request.confirm_server_change)?;

        let now = self.clock.now();
        let updated = self.store_accepted(caller, &record, &server_keys, verified, note, now).await?;

        if self.notifications.delivery == Delivery::Direct
            && let Err(error) = self.notify_record(&updated).await
        {
            // The token is stored and the stage stays pending, so the next sweep sends the
            // confirmation. A failed message must not turn the upload into a failure.
            tracing::warn!(error = %failure::cause_chain(&error), "renewal notification failed");
        }

        Ok(ServerView::of(&updated, now, self.view_time_zone(&caller.tenant).await))
    }

    /// Reads, decrypts and checks the token, then reads the account behind it from Apple.
    async fn verify<'k>(
        &self,
        caller: &Caller,
        name: &ServerName,
        file: &[u8],
        server_keys: &'k [KeyRecord],
    ) -> Result<Verified<'k>, AppError> {
        let encrypted = EncryptedToken::parse(file)?;
        tracing::debug!(recipients = encrypted.recipients().len(), "token file parsed");

        let (key, recipient) = match_key(encrypted.recipients(), server_keys)?;
        tracing::Span::current().record("key_id", tracing::field::display(&key.key_id));
        tracing::debug!(key_state = ?key.state, "recipient matched");

        let credentials = self.decrypt(caller, name, encrypted, recipient, key).await?;
        let fingerprint = credentials.consumer_key_fingerprint();
        tracing::Span::current().record("fingerprint", fingerprint.as_str());
        tracing::debug!(expires_at = %credentials.access_token_expiry, "token decrypted");

        let now = self.clock.now();
        if credentials.access_token_expiry <= now {
            return Err(AppError::with_detail(
                ErrorCode::TokenExpired,
                ErrorDetail::ExpiredAt { expires_at: credentials.access_token_expiry },
            ));
        }
        if credentials.access_token_expiry > now + chrono::Duration::days(MAX_TOKEN_VALIDITY_DAYS) {
            tracing::info!(expires_at = %credentials.access_token_expiry, "token expiry is implausibly far ahead");
            return Err(AppError::with_detail(
                ErrorCode::InvalidPayload,
                ErrorDetail::InvalidField { field: "access_token_expiry".to_owned() },
            ));
        }

        let account = self.dep.fetch_account(&credentials).await.map_err(|error| {
            tracing::info!(error = %error, "Apple did not accept the uploaded token");
            AppError::from(error)
        })?;
        tracing::debug!(server_uuid = %account.server_uuid, "Apple accepted the token");

        Ok(Verified {
            key,
            credentials,
            fingerprint,
            account,
        })
    }

    /// Seals the credentials and writes the entry, the history row and the key promotion in
    /// one conditional write. Returns the entry as stored.
    async fn store_accepted(
        &self,
        caller: &Caller,
        record: &ServerRecord,
        server_keys: &[KeyRecord],
        verified: Verified<'_>,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<ServerRecord, AppError> {
        let Verified {
            key,
            credentials,
            fingerprint,
            account,
        } = verified;
        let name = &record.name;
        let sealed = self.seal_credentials(caller, name, &credentials).await?;

        let mut updated = ServerRecord {
            note: note.or_else(|| record.note.clone()),
            expires_at: Some(credentials.access_token_expiry),
            credentials: Some(sealed),
            consumer_key_fingerprint: Some(fingerprint.clone()),
            token_key_id: Some(key.key_id.clone()),
            uploaded_at: Some(now),
            uploaded_by: Some(caller.subject.clone()),
            last_error: None,
            last_checked_at: Some(now),
            version: record.version + 1,
            account: Some(account.clone()),
            ..record.clone()
        };
        // A new token starts its stages over, with the `renewed` confirmation due.
        StageFields::renewed(&fingerprint).write_to(&mut updated);
        let history = UploadRecord {
            tenant: caller.tenant.clone(),
            server: name.clone(),
            uploaded_at: now,
            uploaded_by: caller.subject.clone(),
            expires_at: credentials.access_token_expiry,
            server_uuid: account.server_uuid,
            server_name: account.server_name,
            admin_id: account.admin_id,
            consumer_key_fingerprint: fingerprint,
            note: updated.note.clone(),
            key_id: key.key_id.clone(),
        };
        let key_changes = promotion(key, server_keys);

        self.store
            .commit_upload(&updated, record.version, &history, &key_changes)
            .await
            .map_err(|e| failure::from_store(e, "commit_upload", &caller.tenant, name))?;
        for change in &key_changes {
            tracing::info!(changed_key = %change.key_id, state = ?change.state, "key state changed");
        }
        Ok(updated)
    }

    /// Opens the key's private key and decrypts the token off the async worker threads.
    async fn decrypt(
        &self,
        caller: &Caller,
        name: &ServerName,
        encrypted: EncryptedToken,
        recipient: RecipientId,
        key: &KeyRecord,
    ) -> Result<TokenCredentials, AppError> {
        let pkcs8 = self
            .vault
            .open_private_key(&caller.tenant, &key.key_id, &key.sealed_private_key)
            .await
            .map_err(|e| failure::from_vault(e, "open_private_key", &caller.tenant, name))?;
        let private_key = MdmPrivateKey::from_pkcs8_der(pkcs8.expose())
            .map_err(|e| failure::from_key(e, "from_pkcs8_der", &caller.tenant, name))?;
        drop(pkcs8);

        let task = tokio::task::spawn_blocking(move || encrypted.decrypt(&recipient, &private_key));
        let decrypted = task
            .await
            .map_err(|e| failure::from_join(e, "decrypt", &caller.tenant, name))?;
        Ok(decrypted?)
    }

    async fn seal_credentials(
        &self,
        caller: &Caller,
        name: &ServerName,
        credentials: &TokenCredentials,
    ) -> Result<SealedCredentials, AppError> {
        Ok(SealedCredentials {
            consumer_key: self.seal_one(caller, name, &credentials.consumer_key).await?,
            consumer_secret: self.seal_one(caller, name, &credentials.consumer_secret).await?,
            access_token: self.seal_one(caller, name, &credentials.access_token).await?,
            access_secret: self.seal_one(caller, name, &credentials.access_secret).await?,
        })
    }

    async fn seal_one(&self, caller: &Caller, name: &ServerName, value: &SecretText) -> Result<String, AppError> {
        self.sealer
            .seal(&caller.tenant, name, value)
            .await
            .map_err(|e| failure::from_vault(e, "seal_credentials", &caller.tenant, name))
    }
}

/// Picks the entry's key the token was encrypted for; `wrong_recipient` when none matches.
fn match_key<'a>(
    recipients: &[RecipientId],
    server_keys: &'a [KeyRecord],
) -> Result<(&'a KeyRecord, RecipientId), AppError> {
    let candidates = server_keys.iter().map(|k| (&k.key_id, k.certificate_pem.as_str()));
    let (key_id, recipient) = keys::match_recipient(recipients, candidates)?;
    let key = server_keys
        .iter()
        .find(|k| k.key_id == key_id)
        .ok_or_else(|| AppError::new(ErrorCode::InternalError))?;
    Ok((key, recipient))
}

/// Rejects a token of another ABM MDM server than the stored one, unless the admin confirmed.
fn check_same_server(stored: Option<&AccountDetails>, uploaded: &AccountDetails, confirmed: bool) -> Result<(), AppError> {
    match stored {
        Some(stored) if stored.server_uuid != uploaded.server_uuid && !confirmed => Err(AppError::with_detail(
            ErrorCode::ServerMismatch,
            ErrorDetail::ServerChanged {
                stored_server_name: stored.server_name.clone(),
                uploaded_server_name: uploaded.server_name.clone(),
            },
        )),
        _ => Ok(()),
    }
}

/// Lists the key state changes an accepted token causes: a staged key becomes current and
/// every current key of the entry is retired. A token for a current or retired key changes
/// nothing.
fn promotion(used: &KeyRecord, server_keys: &[KeyRecord]) -> Vec<KeyRecord> {
    if used.state != KeyState::Staged {
        return Vec::new();
    }

    let mut changes = vec![KeyRecord {
        state: KeyState::Current,
        version: used.version + 1,
        ..used.clone()
    }];
    for key in server_keys.iter().filter(|k| k.state == KeyState::Current) {
        changes.push(KeyRecord {
            state: KeyState::Retired,
            version: key.version + 1,
            ..key.clone()
        });
    }
    changes
}
