//! Conversion between the model structs and DynamoDB items.
//!
//! The model's attributes come from `serde_dynamo`; this module adds the table's own
//! attributes (`pk`, `sk`, `kind`, `version`, and `sweep_shard` on entries). Reading ignores
//! the added attributes, because the model structs accept unknown fields. Only DEP server
//! entries get `sweep_shard`, so the sparse sweep index contains entries and nothing else.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use deptoken_shared::model::{KeyRecord, ServerRecord, TenantSettings, UploadRecord};
use deptoken_shared::ports::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::keys::{
    KIND, PK, SETTINGS_SORT_KEY, SK, SWEEP_SHARD, VERSION, history_sort_key, key_sort_key, partition_key,
    server_sort_key, sweep_shard,
};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The `kind` attribute of each item type.
pub(crate) const SERVER_KIND: &str = "server";
pub(crate) const UPLOAD_KIND: &str = "upload";
pub(crate) const KEY_KIND: &str = "key";
pub(crate) const SETTINGS_KIND: &str = "settings";

/// The `KeyRecord` field that is stored as a binary attribute. `serde` has no byte-string
/// form for `Vec<u8>`, so `serde_dynamo` alone would write a list of numbers.
const SEALED_PRIVATE_KEY: &str = "sealed_private_key";

pub(crate) fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn server_item(record: &ServerRecord) -> Result<Item, StoreError> {
    let mut item = encode(record)?;
    item.insert(PK.to_owned(), string(partition_key(&record.tenant)));
    item.insert(SK.to_owned(), string(server_sort_key(&record.name)));
    item.insert(KIND.to_owned(), string(SERVER_KIND));
    item.insert(SWEEP_SHARD.to_owned(), number(u64::from(sweep_shard(&record.tenant, &record.name))));
    Ok(item)
}

/// Builds a history row item. Rows are written once, so their `version` is always 1.
pub(crate) fn upload_item(record: &UploadRecord) -> Result<Item, StoreError> {
    let mut item = encode(record)?;
    item.insert(PK.to_owned(), string(partition_key(&record.tenant)));
    item.insert(SK.to_owned(), string(history_sort_key(&record.server, &record.uploaded_at)));
    item.insert(KIND.to_owned(), string(UPLOAD_KIND));
    item.insert(VERSION.to_owned(), number(1));
    Ok(item)
}

pub(crate) fn key_item(record: &KeyRecord) -> Result<Item, StoreError> {
    let mut item = encode(record)?;
    item.insert(PK.to_owned(), string(partition_key(&record.tenant)));
    item.insert(SK.to_owned(), string(key_sort_key(&record.key_id)));
    item.insert(KIND.to_owned(), string(KEY_KIND));
    item.insert(
        SEALED_PRIVATE_KEY.to_owned(),
        AttributeValue::B(Blob::new(record.sealed_private_key.clone())),
    );
    Ok(item)
}

/// Builds the tenant's settings item. It has no `sweep_shard`, which keeps it out of the sweep index.
pub(crate) fn settings_item(settings: &TenantSettings) -> Result<Item, StoreError> {
    let mut item = encode(settings)?;
    item.insert(PK.to_owned(), string(partition_key(&settings.tenant)));
    item.insert(SK.to_owned(), string(SETTINGS_SORT_KEY));
    item.insert(KIND.to_owned(), string(SETTINGS_KIND));
    Ok(item)
}

pub(crate) fn settings_from_item(item: Item) -> Result<TenantSettings, StoreError> {
    decode(item)
}

pub(crate) fn server_from_item(item: Item) -> Result<ServerRecord, StoreError> {
    decode(item)
}

pub(crate) fn upload_from_item(item: Item) -> Result<UploadRecord, StoreError> {
    decode(item)
}

pub(crate) fn key_from_item(mut item: Item) -> Result<KeyRecord, StoreError> {
    if let Some(AttributeValue::B(blob)) = item.remove(SEALED_PRIVATE_KEY) {
        let bytes = blob.into_inner().into_iter().map(|b| number(u64::from(b))).collect();
        item.insert(SEALED_PRIVATE_KEY.to_owned(), AttributeValue::L(bytes));
    }
    decode(item)
}

fn encode<T: Serialize>(record: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(record)
        .map_err(|err| StoreError::Corrupt(format!("failed to encode {}: {err}", std::any::type_name::<T>())))
}

fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let location = item_location(&item);
    serde_dynamo::from_item(item).map_err(|err| StoreError::Corrupt(format!("item {location}: {err}")))
}

/// Returns `pk`/`sk` of an item for error messages. Both contain identifiers only, never secrets.
pub(crate) fn item_location(item: &Item) -> String {
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(value)) => value.as_str(),
        _ => "?",
    };
    format!("{}/{}", text(PK), text(SK))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use deptoken_shared::domain::{KeyId, ServerName, TenantId};
    use deptoken_shared::model::{AccountDetails, KeyState, SealedCredentials};

    use super::*;

    fn server() -> ServerRecord {
        ServerRecord {
            tenant: TenantId::parse("acme").unwrap(),
            name: ServerName::parse("tokyo").unwrap(),
            display_name: "東京オフィス".to_owned(),
            note: Some("abm-admin@example.com".to_owned()),
            created_at: Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap(),
            expires_at: Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()),
            account: Some(AccountDetails {
                server_name: "Tokyo MDM".to_owned(),
                server_uuid: "5A1B".to_owned(),
                ..AccountDetails::default()
            }),
            credentials: Some(SealedCredentials {
                consumer_key: "c1".to_owned(),
                consumer_secret: "c2".to_owned(),
                access_token: "c3".to_owned(),
                access_secret: "c4".to_owned(),
            }),
            consumer_key_fingerprint: Some("0123456789abcdef".to_owned()),
            token_key_id: Some(KeyId::parse("k1").unwrap()),
            uploaded_at: None,
            uploaded_by: None,
            last_error: None,
            last_checked_at: None,
            stage: None,
            notified_stage: None,
            countdown_stage: None,
            stage_fingerprint: None,
            version: 3,
        }
    }

    fn key() -> KeyRecord {
        KeyRecord {
            tenant: TenantId::parse("acme").unwrap(),
            key_id: KeyId::parse("k1").unwrap(),
            server: ServerName::parse("tokyo").unwrap(),
            state: KeyState::Current,
            certificate_pem: "-----BEGIN CERTIFICATE-----".to_owned(),
            sealed_private_key: vec![0, 1, 2, 255],
            created_at: Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap(),
            version: 2,
        }
    }

    #[test]
    fn server_item_round_trips() {
        let record = server();

        let decoded = server_from_item(server_item(&record).unwrap()).unwrap();

        assert_eq!(decoded, record);
    }

    #[test]
    fn server_item_has_table_attributes() {
        let item = server_item(&server()).unwrap();

        assert_eq!(item.get(PK), Some(&string("TENANT#acme")));
        assert_eq!(item.get(SK), Some(&string("SERVER#tokyo")));
        assert_eq!(item.get(KIND), Some(&string(SERVER_KIND)));
        assert_eq!(item.get(VERSION), Some(&number(3)));
        assert!(matches!(item.get(SWEEP_SHARD), Some(AttributeValue::N(_))));
    }

    #[test]
    fn key_item_stores_binary_and_round_trips() {
        let record = key();

        let item = key_item(&record).unwrap();
        let binary = item.get(SEALED_PRIVATE_KEY).cloned();
        let decoded = key_from_item(item).unwrap();

        assert_eq!(binary, Some(AttributeValue::B(Blob::new(vec![0, 1, 2, 255]))));
        assert_eq!(decoded, record);
    }

    #[test]
    fn key_item_has_no_sweep_shard() {
        let item = key_item(&key()).unwrap();

        assert!(!item.contains_key(SWEEP_SHARD));
    }

    #[test]
    fn settings_item_round_trips_without_sweep_shard() {
        let settings = TenantSettings {
            tenant: TenantId::parse("acme").unwrap(),
            notification_language: deptoken_shared::Lang::En,
            time_zone: "America/Los_Angeles".parse().unwrap(),
            version: 4,
        };

        let item = settings_item(&settings).unwrap();

        assert_eq!(item.get(PK), Some(&string("TENANT#acme")));
        assert_eq!(item.get(SK), Some(&string("SETTINGS")));
        assert_eq!(item.get(KIND), Some(&string(SETTINGS_KIND)));
        assert_eq!(item.get(VERSION), Some(&number(4)));
        assert!(!item.contains_key(SWEEP_SHARD), "the sweep index must not hold the settings item");
        assert_eq!(settings_from_item(item).unwrap(), settings);
    }

    #[test]
    fn decode_names_the_item_on_failure() {
        let mut item = server_item(&server()).unwrap();
        item.insert("version".to_owned(), string("three"));

        let error = server_from_item(item).unwrap_err();

        assert!(
            matches!(&error, StoreError::Corrupt(message) if message.contains("TENANT#acme/SERVER#tokyo")),
            "{error:?}"
        );
    }
}
