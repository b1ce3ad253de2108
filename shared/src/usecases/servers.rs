//! Creating, reading, annotating and deleting DEP server entries.

use crate::domain::{Caller, ServerName};
use crate::error::{AppError, ErrorCode, ErrorDetail};
use crate::model::{KeyState, ServerRecord};

use super::failure;
use super::view::{HistoryView, ServerView};
use super::Services;

/// Maximum length of a display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// Maximum length of the note (the Apple Account used in ABM), in characters.
pub const MAX_NOTE_CHARS: usize = 500;

impl Services {
    /// Creates a DEP server entry and its first MDM key pair (state `current`).
    ///
    /// Errors: `forbidden` for a reader, `invalid_request` for an invalid name or display
    /// name, `already_exists` when the tenant has an entry of that name.
    #[tracing::instrument(skip_all, fields(tenant = %caller.tenant, server = name))]
    pub async fn create_server(&self, caller: &Caller, name: &str, display_name: &str) -> Result<ServerView, AppError> {
        caller.require_write()?;
        let name = ServerName::parse(name)?;
        let display_name = clean_text(display_name, MAX_DISPLAY_NAME_CHARS, "display_name")?
            .ok_or_else(|| invalid_field("display_name"))?;

        // Checked first so that a taken name does not cost an RSA key generation; the
        // conditional create below still decides when two requests race.
        let existing = self
            .store
            .get_server(&caller.tenant, &name)
            .await
            .map_err(|e| failure::from_store(e, "get_server", &caller.tenant, &name))?;
        if existing.is_some() {
            return Err(AppError::new(ErrorCode::AlreadyExists));
        }

        let now = self.clock.now();
        let key = self.new_key(&caller.tenant, &name, KeyState::Current, now).await?;
        let record = ServerRecord {
            tenant: caller.tenant.clone(),
            name: name.clone(),
            display_name,
            note: None,
            created_at: now,
            expires_at: None,
            account: None,
            credentials: None,
            consumer_key_fingerprint: None,
            token_key_id: None,
            uploaded_at: None,
            uploaded_by: None,
            last_error: None,
            last_checked_at: None,
            stage: None,
            notified_stage: None,
            countdown_stage: None,
            stage_fingerprint: None,
            version: 1,
        };

        self.store
            .create_server(&record, &key)
            .await
            .map_err(|e| failure::from_store(e, "create_server", &caller.tenant, &name))?;

        tracing::info!(key_id = %key.key_id, "server entry created");
        Ok(ServerView::of(&record, now, self.view_time_zone(&caller.tenant).await))
    }

    /// Lists every entry of the caller's tenant, sorted by name.
    pub async fn list_servers(&self, caller: &Caller) -> Result<Vec<ServerView>, AppError> {
        let mut records = self
            .store
            .list_servers(&caller.tenant)
            .await
            .map_err(|e| failure::from_tenant_store(e, "list_servers", &caller.tenant))?;
        records.sort_by(|a, b| a.name.cmp(&b.name));

        let now = self.clock.now();
        let time_zone = self.view_time_zone(&caller.tenant).await;
        Ok(records.iter().map(|r| ServerView::of(r, now, time_zone)).collect())
    }

    /// Returns one entry; `not_found` when the tenant has none of that name.
    pub async fn get_server(&self, caller: &Caller, name: &str) -> Result<ServerView, AppError> {
        let name = ServerName::parse(name)?;

        let record = self.load_server(caller, &name).await?;

        Ok(ServerView::of(&record, self.clock.now(), self.view_time_zone(&caller.tenant).await))
    }

    /// Sets the note (the Apple Account used in ABM); `None` or blank text clears it.
    #[tracing::instrument(skip_all, fields(tenant = %caller.tenant, server = name))]
    pub async fn set_note(&self, caller: &Caller, name: &str, note: Option<&str>) -> Result<ServerView, AppError> {
        caller.require_write()?;
        let name = ServerName::parse(name)?;
        let note = match note {
            Some(text) => clean_text(text, MAX_NOTE_CHARS, "note")?,
            None => None,
        };

        let record = self.load_server(caller, &name).await?;
        let updated = ServerRecord {
            note,
            version: record.version + 1,
            ..record.clone()
        };
        self.store
            .update_server(&updated, record.version)
            .await
            .map_err(|e| failure::from_store(e, "update_server", &caller.tenant, &name))?;

        tracing::info!("note updated");
        Ok(ServerView::of(&updated, self.clock.now(), self.view_time_zone(&caller.tenant).await))
    }

    /// Deletes the entry with its history and keys.
    #[tracing::instrument(skip_all, fields(tenant = %caller.tenant, server = name))]
    pub async fn delete_server(&self, caller: &Caller, name: &str) -> Result<(), AppError> {
        caller.require_write()?;
        let name = ServerName::parse(name)?;

        self.store
            .delete_server(&caller.tenant, &name)
            .await
            .map_err(|e| failure::from_store(e, "delete_server", &caller.tenant, &name))?;

        tracing::info!("server entry deleted");
        Ok(())
    }

    /// Lists the entry's accepted uploads, newest first.
    pub async fn history(&self, caller: &Caller, name: &str) -> Result<Vec<HistoryView>, AppError> {
        let name = ServerName::parse(name)?;
        self.load_server(caller, &name).await?;

        let mut rows = self
            .store
            .list_history(&caller.tenant, &name)
            .await
            .map_err(|e| failure::from_store(e, "list_history", &caller.tenant, &name))?;
        rows.sort_by_key(|row| std::cmp::Reverse(row.uploaded_at));

        Ok(rows.iter().map(HistoryView::of).collect())
    }

    /// Loads the caller's entry `name`; `not_found` when missing (or another tenant's).
    pub(crate) async fn load_server(&self, caller: &Caller, name: &ServerName) -> Result<ServerRecord, AppError> {
        self.store
            .get_server(&caller.tenant, name)
            .await
            .map_err(|e| failure::from_store(e, "get_server", &caller.tenant, name))?
            .ok_or_else(|| AppError::new(ErrorCode::NotFound))
    }
}

fn invalid_field(field: &str) -> AppError {
    AppError::with_detail(ErrorCode::InvalidRequest, ErrorDetail::InvalidField { field: field.to_owned() })
}

/// Trims free text and checks it: at most `max_chars` characters and no control characters.
/// Blank text becomes `None`.
pub(crate) fn clean_text(text: &str, max_chars: usize, field: &str) -> Result<Option<String>, AppError> {
    let trimmed = text.trim();
    if trimmed.chars().count() > max_chars || trimmed.chars().any(char::is_control) {
        return Err(invalid_field(field));
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}
