//! [`Store`] for [`DynamoStore`].

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use deptoken_shared::domain::{ServerName, TenantId};
use deptoken_shared::model::{KeyRecord, ServerRecord, TenantSettings, UploadRecord};
use deptoken_shared::ports::{Store, StoreError};

use super::DynamoStore;
use super::errors::{ConditionFailure, from_build, from_sdk, from_transaction};
use super::items::{
    Item, SERVER_KIND, key_from_item, key_item, number, server_from_item, server_item, settings_from_item,
    settings_item, string, upload_from_item, upload_item,
};
use super::keys::{
    KEY_PREFIX, KIND, PK, SERVER_PREFIX, SETTINGS_SORT_KEY, SK, history_prefix, partition_key, server_sort_key,
};
use super::query::{PrefixQuery, primary_key};
use super::sweep::DEFAULT_SCAN_SEGMENTS;

const NOT_EXISTS: &str = "attribute_not_exists(pk)";
const VERSION_MATCHES: &str = "version = :expected";
/// The `KeyRecord` attribute naming the entry a key belongs to.
const KEY_SERVER: &str = "server";

/// A write condition and the outcome a failed check means.
enum Condition {
    /// The item must not exist.
    Absent(ConditionFailure),
    /// The item's `version` must be this value.
    Version(u64),
}

/// Checks that a record's `version` is one more than the expected stored version.
fn check_version_step(version: u64, expected_version: u64) -> Result<(), StoreError> {
    if expected_version.checked_add(1) == Some(version) {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

impl DynamoStore {
    /// Builds a transactional put of `item` under `condition`.
    fn transact_put(&self, item: Item, condition: &Condition) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        put = match condition {
            Condition::Absent(_) => put.condition_expression(NOT_EXISTS),
            Condition::Version(expected) => put
                .condition_expression(VERSION_MATCHES)
                .expression_attribute_values(":expected", number(*expected)),
        };
        Ok(TransactWriteItem::builder().put(put.build().map_err(from_build)?).build())
    }

    /// Writes `item` with one conditional `PutItem`.
    async fn put_conditional(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let request = self.client.put_item().table_name(&self.table).set_item(Some(item));
        let (request, on_condition) = match condition {
            Condition::Absent(failure) => (request.condition_expression(NOT_EXISTS), failure),
            Condition::Version(expected) => (
                request
                    .condition_expression(VERSION_MATCHES)
                    .expression_attribute_values(":expected", number(expected)),
                ConditionFailure::Conflict,
            ),
        };

        request.send().await.map_err(|err| from_sdk(err, on_condition))?;
        Ok(())
    }

    async fn transact(&self, items: Vec<TransactWriteItem>, on_condition: ConditionFailure) -> Result<(), StoreError> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(|err| from_transaction(err, on_condition))?;
        Ok(())
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get_server(&self, tenant: &TenantId, name: &ServerName) -> Result<Option<ServerRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, string(partition_key(tenant)))
            .key(SK, string(server_sort_key(name)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| from_sdk(err, ConditionFailure::Conflict))?;

        output.item.map(server_from_item).transpose()
    }

    async fn list_servers(&self, tenant: &TenantId) -> Result<Vec<ServerRecord>, StoreError> {
        // History rows share the `SERVER#` prefix, so the filter keeps entries only. Sort keys
        // compare as UTF-8 bytes, which is the order of `ServerName`.
        let items = self
            .query_all(PrefixQuery {
                pk: partition_key(tenant),
                sk_prefix: SERVER_PREFIX.to_owned(),
                filter: Some((KIND, SERVER_KIND.to_owned())),
                keys_only: false,
                newest_first: false,
            })
            .await?;

        items.into_iter().map(server_from_item).collect()
    }

    async fn create_server(&self, server: &ServerRecord, first_key: &KeyRecord) -> Result<(), StoreError> {
        let absent = Condition::Absent(ConditionFailure::AlreadyExists);
        let items = vec![
            self.transact_put(server_item(server)?, &absent)?,
            self.transact_put(key_item(first_key)?, &absent)?,
        ];

        self.transact(items, ConditionFailure::AlreadyExists).await
    }

    async fn update_server(&self, server: &ServerRecord, expected_version: u64) -> Result<(), StoreError> {
        check_version_step(server.version, expected_version)?;

        self.put_conditional(server_item(server)?, Condition::Version(expected_version)).await
    }

    async fn commit_upload(
        &self,
        server: &ServerRecord,
        expected_version: u64,
        history: &UploadRecord,
        key_changes: &[KeyRecord],
    ) -> Result<(), StoreError> {
        check_version_step(server.version, expected_version)?;

        let mut items = Vec::with_capacity(2 + key_changes.len());
        items.push(self.transact_put(server_item(server)?, &Condition::Version(expected_version))?);
        // A history row with the same time would be a duplicate delivery: it must not overwrite.
        items.push(self.transact_put(upload_item(history)?, &Condition::Absent(ConditionFailure::Conflict))?);
        for key in key_changes {
            // A key at version 0 cannot follow any stored version.
            let stored = key.version.checked_sub(1).ok_or(StoreError::Conflict)?;
            items.push(self.transact_put(key_item(key)?, &Condition::Version(stored))?);
        }

        self.transact(items, ConditionFailure::Conflict).await
    }

    async fn delete_server(&self, tenant: &TenantId, name: &ServerName) -> Result<(), StoreError> {
        if self.get_server(tenant, name).await?.is_none() {
            return Err(StoreError::NotFound);
        }

        // The entry goes last. When a step fails, the entry is still listed and a repeated
        // delete finishes the job.
        // NOTE: a history row or key that a concurrent upload writes after the queries below
        // stays behind. An entry created later under the same name lists it as its own; a
        // deletion marker that uploads respect would close this race.
        let history = self
            .query_all(PrefixQuery {
                pk: partition_key(tenant),
                sk_prefix: history_prefix(name),
                filter: None,
                keys_only: true,
                newest_first: false,
            })
            .await?;
        let keys = self
            .query_all(PrefixQuery {
                pk: partition_key(tenant),
                sk_prefix: KEY_PREFIX.to_owned(),
                filter: Some((KEY_SERVER, name.as_str().to_owned())),
                keys_only: true,
                newest_first: false,
            })
            .await?;
        let children = history.iter().chain(keys.iter()).map(primary_key).collect();
        self.delete_all(children).await?;

        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, string(partition_key(tenant)))
            .key(SK, string(server_sort_key(name)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(|err| from_sdk(err, ConditionFailure::NotFound))?;
        Ok(())
    }

    async fn list_history(&self, tenant: &TenantId, name: &ServerName) -> Result<Vec<UploadRecord>, StoreError> {
        let items = self
            .query_all(PrefixQuery {
                pk: partition_key(tenant),
                sk_prefix: history_prefix(name),
                filter: None,
                keys_only: false,
                newest_first: true,
            })
            .await?;

        items.into_iter().map(upload_from_item).collect()
    }

    async fn list_keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError> {
        let items = self
            .query_all(PrefixQuery {
                pk: partition_key(tenant),
                sk_prefix: KEY_PREFIX.to_owned(),
                filter: None,
                keys_only: false,
                newest_first: false,
            })
            .await?;

        items.into_iter().map(key_from_item).collect()
    }

    async fn put_key(&self, key: &KeyRecord, expected_version: Option<u64>) -> Result<(), StoreError> {
        let condition = match expected_version {
            None => Condition::Absent(ConditionFailure::AlreadyExists),
            Some(expected) => {
                check_version_step(key.version, expected)?;
                Condition::Version(expected)
            }
        };

        self.put_conditional(key_item(key)?, condition).await
    }

    async fn list_all_servers(&self) -> Result<Vec<Result<ServerRecord, StoreError>>, StoreError> {
        self.scan_all_servers(DEFAULT_SCAN_SEGMENTS).await
    }

    async fn get_settings(&self, tenant: &TenantId) -> Result<Option<TenantSettings>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, string(partition_key(tenant)))
            .key(SK, string(SETTINGS_SORT_KEY))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| from_sdk(err, ConditionFailure::Conflict))?;

        output.item.map(settings_from_item).transpose()
    }

    async fn put_settings(&self, settings: &TenantSettings, expected_version: Option<u64>) -> Result<(), StoreError> {
        let condition = match expected_version {
            None => Condition::Absent(ConditionFailure::AlreadyExists),
            Some(expected) => {
                check_version_step(settings.version, expected)?;
                Condition::Version(expected)
            }
        };

        self.put_conditional(settings_item(settings)?, condition).await
    }
}
