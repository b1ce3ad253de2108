//! The [`Store`] port methods of [`SqliteStore`].

use async_trait::async_trait;

use deptoken_shared::domain::{ServerName, TenantId};
use deptoken_shared::model::{KeyRecord, ServerRecord, TenantSettings, UploadRecord};
use deptoken_shared::ports::{Store, StoreError};

use super::items::{self, Order, decode, decode_key, decode_server, decode_settings, encode};
use super::keys::{self, ItemKey, ItemKind, KEY_PREFIX};
use super::{SqliteStore, in_transaction};

#[async_trait]
impl Store for SqliteStore {
    async fn get_server(&self, tenant: &TenantId, name: &ServerName) -> Result<Option<ServerRecord>, StoreError> {
        let key = keys::server_key(tenant, name);
        self.run(move |connection| items::get(connection, &key)?.map(|row| decode_server(&row)).transpose())
            .await
    }

    async fn list_servers(&self, tenant: &TenantId) -> Result<Vec<ServerRecord>, StoreError> {
        let pk = keys::partition_key(tenant);
        self.run(move |connection| {
            let rows = items::list(connection, &pk, ItemKind::Server, "SERVER#", Order::Ascending)?;
            rows.iter().map(decode_server).collect()
        })
        .await
    }

    async fn create_server(&self, server: &ServerRecord, first_key: &KeyRecord) -> Result<(), StoreError> {
        let server_key = keys::server_key(&server.tenant, &server.name);
        let server_body = encode(server)?;
        let server_version = server.version;
        let key_key = keys::key_key(&first_key.tenant, &first_key.key_id);
        let key_body = encode(first_key)?;
        let key_version = first_key.version;

        self.run(move |connection| {
            in_transaction(connection, |transaction| {
                if !items::insert_new(transaction, &server_key, ItemKind::Server, server_version, &server_body)? {
                    return Err(StoreError::AlreadyExists);
                }
                if !items::insert_new(transaction, &key_key, ItemKind::Key, key_version, &key_body)? {
                    return Err(StoreError::AlreadyExists);
                }
                Ok(())
            })
        })
        .await
    }

    async fn update_server(&self, server: &ServerRecord, expected_version: u64) -> Result<(), StoreError> {
        require_next_version(server.version, expected_version)?;
        let key = keys::server_key(&server.tenant, &server.name);
        let body = encode(server)?;

        self.run(move |connection| {
            if items::update_versioned(connection, &key, expected_version, &body)? {
                Ok(())
            } else {
                Err(StoreError::Conflict)
            }
        })
        .await
    }

    async fn commit_upload(
        &self,
        server: &ServerRecord,
        expected_version: u64,
        history: &UploadRecord,
        key_changes: &[KeyRecord],
    ) -> Result<(), StoreError> {
        require_next_version(server.version, expected_version)?;
        let server_key = keys::server_key(&server.tenant, &server.name);
        let server_body = encode(server)?;
        let history_key = keys::history_key(&history.tenant, &history.server, history.uploaded_at);
        let history_body = encode(history)?;
        let key_writes = key_changes
            .iter()
            .map(|key| {
                // The stored version must be one less than the new one; a version 0 has no predecessor.
                let expected = key.version.checked_sub(1).ok_or(StoreError::Conflict)?;
                Ok((keys::key_key(&key.tenant, &key.key_id), expected, encode(key)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        self.run(move |connection| {
            in_transaction(connection, |transaction| {
                if !items::update_versioned(transaction, &server_key, expected_version, &server_body)? {
                    return Err(StoreError::Conflict);
                }
                // The upload time is part of the history key: a row with the same time means
                // this upload was already committed or raced with another one.
                if !items::insert_new(transaction, &history_key, ItemKind::Upload, 0, &history_body)? {
                    return Err(StoreError::Conflict);
                }
                for (key, expected, body) in &key_writes {
                    if !items::update_versioned(transaction, key, *expected, body)? {
                        return Err(StoreError::Conflict);
                    }
                }
                Ok(())
            })
        })
        .await
    }

    async fn delete_server(&self, tenant: &TenantId, name: &ServerName) -> Result<(), StoreError> {
        let server_key = keys::server_key(tenant, name);
        let history_prefix = keys::history_prefix(name);
        let name = name.clone();

        self.run(move |connection| {
            in_transaction(connection, |transaction| {
                if !items::delete(transaction, &server_key)? {
                    return Err(StoreError::NotFound);
                }
                items::delete_prefix(transaction, &server_key.pk, &history_prefix)?;

                // Key items are keyed by key id alone, so the entry's keys are found by their body.
                // A key body that cannot be read fails the whole delete, rather than leave a key
                // of the deleted entry behind unnoticed.
                let key_rows = items::list(transaction, &server_key.pk, ItemKind::Key, KEY_PREFIX, Order::Ascending)?;
                for row in &key_rows {
                    let key: KeyRecord = decode(row)?;
                    if key.server == name {
                        items::delete(transaction, &row.key)?;
                    }
                }
                Ok(())
            })
        })
        .await
    }

    async fn list_history(&self, tenant: &TenantId, name: &ServerName) -> Result<Vec<UploadRecord>, StoreError> {
        let pk = keys::partition_key(tenant);
        let prefix = keys::history_prefix(name);
        self.run(move |connection| {
            let rows = items::list(connection, &pk, ItemKind::Upload, &prefix, Order::Descending)?;
            rows.iter().map(decode).collect()
        })
        .await
    }

    async fn list_keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError> {
        let pk = keys::partition_key(tenant);
        self.run(move |connection| {
            let rows = items::list(connection, &pk, ItemKind::Key, KEY_PREFIX, Order::Ascending)?;
            rows.iter().map(decode_key).collect()
        })
        .await
    }

    async fn put_key(&self, key: &KeyRecord, expected_version: Option<u64>) -> Result<(), StoreError> {
        let item_key = keys::key_key(&key.tenant, &key.key_id);
        self.put_versioned(item_key, ItemKind::Key, key.version, encode(key)?, expected_version)
            .await
    }

    async fn list_all_servers(&self) -> Result<Vec<Result<ServerRecord, StoreError>>, StoreError> {
        SqliteStore::list_all_servers(self).await
    }

    async fn get_settings(&self, tenant: &TenantId) -> Result<Option<TenantSettings>, StoreError> {
        let key = keys::settings_key(tenant);
        self.run(move |connection| items::get(connection, &key)?.map(|row| decode_settings(&row)).transpose())
            .await
    }

    async fn put_settings(&self, settings: &TenantSettings, expected_version: Option<u64>) -> Result<(), StoreError> {
        let item_key = keys::settings_key(&settings.tenant);
        self.put_versioned(item_key, ItemKind::Settings, settings.version, encode(settings)?, expected_version)
            .await
    }
}

impl SqliteStore {
    /// Writes a key or settings item: a new item when `expected_version` is `None`
    /// (`AlreadyExists` if one is stored), else a replacement of that version (`Conflict` if
    /// another is stored).
    async fn put_versioned(
        &self,
        item_key: ItemKey,
        kind: ItemKind,
        version: u64,
        body: String,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        match expected_version {
            None => {
                self.run(move |connection| {
                    if items::insert_new(connection, &item_key, kind, version, &body)? {
                        Ok(())
                    } else {
                        Err(StoreError::AlreadyExists)
                    }
                })
                .await
            }
            Some(expected) => {
                require_next_version(version, expected)?;
                self.run(move |connection| {
                    if items::update_versioned(connection, &item_key, expected, &body)? {
                        Ok(())
                    } else {
                        Err(StoreError::Conflict)
                    }
                })
                .await
            }
        }
    }
}

/// Checks that a conditional write carries the version after `expected`, as the port's
/// contract requires. Any other version is a `Conflict`, because the caller did not build the
/// record from the stored item.
fn require_next_version(new_version: u64, expected: u64) -> Result<(), StoreError> {
    if expected.checked_add(1) == Some(new_version) {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}
