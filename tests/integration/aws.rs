//! The AWS adapters against moto server on loopback: the conformance suites, plus what only
//! they promise: KMS enforces the documented encryption contexts, listings follow DynamoDB's
//! 1 MB pages, the sweep index contains only entries, the raw table contains no plaintext secret,
//! and concurrent conditional writes have exactly one winner.
//!
//! Every test makes its own table and KMS keys, so the tests run in parallel on one moto.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kms::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_kms::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_kms::error::BoxError;
use aws_sdk_kms::primitives::Blob;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::Duration;
use deptoken_aws::{DynamoStore, KmsCredentialSealer, KmsKeyVault, SWEEP_INDEX};
use deptoken_shared::domain::{KeyId, ServerName, TenantId};
use deptoken_shared::model::{KeyState, SealedCredentials, ServerRecord};
use deptoken_shared::ports::{CredentialSealer, KeyVault, Store, StoreError, VaultError};
use deptoken_shared::secret::{SecretBytes, SecretText};

use crate::conformance::{
    SealedTextCodec, at, key_id, sample_key, sample_server, sample_upload, server_name, store_conformance_tests,
    store_outcome, unique_tenant, vault_conformance_tests,
};
use crate::support::moto::Moto;

/// The KMS sealer writes sealed credentials as standard base64.
const BASE64_CODEC: SealedTextCodec = SealedTextCodec {
    encode: |bytes| BASE64.encode(bytes),
    decode: |text| BASE64.decode(text).ok(),
};

mod dynamo_store {
    use super::*;

    async fn make() -> Option<(DynamoStore, ())> {
        let moto = Moto::connect().await?;
        let table = moto.create_table().await;
        Some((DynamoStore::new(moto.dynamodb.clone(), table), ()))
    }

    store_conformance_tests!(make);

    #[tokio::test]
    async fn list_all_servers_isolates_corrupt_item() {
        let Some(moto) = Moto::connect().await else { return };
        let table = moto.create_table().await;
        let store = DynamoStore::new(moto.dynamodb.clone(), &table);

        crate::conformance::store::list_all_servers_isolates_corrupt_item(&store, async |tenant, name| {
            moto.dynamodb
                .update_item()
                .table_name(&table)
                .key("pk", AttributeValue::S(format!("TENANT#{tenant}")))
                .key("sk", AttributeValue::S(format!("SERVER#{name}")))
                .update_expression("SET display_name = :number")
                .expression_attribute_values(":number", AttributeValue::N("7".to_owned()))
                .send()
                .await
                .expect("damage the entry");
        })
        .await;
    }
}

/// Both KMS ports as one value, for the conformance checks that move a sealed value from one
/// port to the other. Both use the same KMS key here, so only the encryption context's
/// `purpose` distinguishes a private key from a credential.
struct KmsPorts {
    vault: KmsKeyVault,
    sealer: KmsCredentialSealer,
}

#[async_trait]
impl KeyVault for KmsPorts {
    async fn seal_private_key(&self, tenant: &TenantId, key_id: &KeyId, pkcs8_der: &SecretBytes) -> Result<Vec<u8>, VaultError> {
        self.vault.seal_private_key(tenant, key_id, pkcs8_der).await
    }

    async fn open_private_key(&self, tenant: &TenantId, key_id: &KeyId, sealed: &[u8]) -> Result<SecretBytes, VaultError> {
        self.vault.open_private_key(tenant, key_id, sealed).await
    }
}

#[async_trait]
impl CredentialSealer for KmsPorts {
    async fn seal(&self, tenant: &TenantId, server: &ServerName, value: &SecretText) -> Result<String, VaultError> {
        self.sealer.seal(tenant, server, value).await
    }

    async fn open(&self, tenant: &TenantId, server: &ServerName, sealed: &str) -> Result<SecretText, VaultError> {
        self.sealer.open(tenant, server, sealed).await
    }
}

mod kms_ports {
    use super::*;

    async fn make() -> Option<(KmsPorts, ())> {
        let moto = Moto::connect().await?;
        let key = moto.create_kms_key().await;
        let ports = KmsPorts {
            vault: KmsKeyVault::new(moto.kms.clone(), key.clone(), std::time::Duration::from_secs(300)),
            sealer: KmsCredentialSealer::new(moto.kms.clone(), key),
        };
        Some((ports, ()))
    }

    vault_conformance_tests!(make, BASE64_CODEC);
}

type Item = HashMap<String, AttributeValue>;

/// Reads every item of `table` with a raw paginated Scan, optionally of an index.
async fn scan_raw(moto: &Moto, table: &str, index: Option<&str>) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start_key = None;
    loop {
        let page = moto
            .dynamodb
            .scan()
            .table_name(table)
            .set_index_name(index.map(str::to_owned))
            .set_exclusive_start_key(start_key.take())
            .send()
            .await
            .expect("raw scan");
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start_key = Some(key),
            _ => return items,
        }
    }
}

fn string_attribute<'a>(item: &'a Item, name: &str) -> &'a str {
    match item.get(name) {
        Some(AttributeValue::S(value)) => value,
        other => panic!("attribute {name} is not a string: {other:?}"),
    }
}

/// Collects every string and binary value of an attribute, descending into lists and maps.
fn collect_values<'a>(value: &'a AttributeValue, strings: &mut Vec<&'a str>, binaries: &mut Vec<&'a [u8]>) {
    match value {
        AttributeValue::S(text) => strings.push(text),
        AttributeValue::Ss(texts) => strings.extend(texts.iter().map(String::as_str)),
        AttributeValue::B(blob) => binaries.push(blob.as_ref()),
        AttributeValue::Bs(blobs) => binaries.extend(blobs.iter().map(|blob| blob.as_ref())),
        AttributeValue::L(values) => values.iter().for_each(|v| collect_values(v, strings, binaries)),
        AttributeValue::M(map) => map.values().for_each(|v| collect_values(v, strings, binaries)),
        _ => {}
    }
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[tokio::test]
async fn kms_rejects_wrong_encryption_context() {
    let Some(moto) = Moto::connect().await else { return };
    let key = moto.create_kms_key().await;
    let encrypted = moto
        .kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"context check".to_vec()))
        .encryption_context("tenant", "acme")
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();

    let result = moto
        .kms
        .decrypt()
        .ciphertext_blob(encrypted)
        .encryption_context("tenant", "other")
        .send()
        .await;

    let code = result.as_ref().err().and_then(|err| aws_sdk_kms::error::ProvideErrorMetadata::code(err));
    assert_eq!(code, Some("InvalidCiphertextException"), "{result:?}");
}

#[tokio::test]
async fn key_vault_binds_documented_context() {
    let Some(moto) = Moto::connect().await else { return };
    let (adapters, config) = moto.fresh_adapters().await;
    let tenant = unique_tenant("aws-vault-context");
    let plaintext = SecretBytes::new(b"pkcs8 stand-in".to_vec());
    let sealed = adapters.key_vault.seal_private_key(&tenant, &key_id("tokyo-key-1"), &plaintext).await.unwrap();

    let decrypted = moto
        .kms
        .decrypt()
        .key_id(&config.keys_kms_key_id)
        .ciphertext_blob(Blob::new(sealed))
        .encryption_context("tenant", tenant.as_str())
        .encryption_context("key_id", "tokyo-key-1")
        .encryption_context("purpose", "mdm-private-key")
        .send()
        .await
        .expect("decrypt with the documented context");

    assert_eq!(decrypted.plaintext.map(Blob::into_inner), Some(plaintext.expose().to_vec()));
}

#[tokio::test]
async fn sealer_binds_documented_context() {
    let Some(moto) = Moto::connect().await else { return };
    let (adapters, config) = moto.fresh_adapters().await;
    let tenant = unique_tenant("aws-sealer-context");
    let sealed = adapters
        .sealer
        .seal(&tenant, &server_name("tokyo"), &SecretText::new("AT_context_check"))
        .await
        .unwrap();

    let decrypted = moto
        .kms
        .decrypt()
        .key_id(&config.credentials_kms_key_id)
        .ciphertext_blob(Blob::new(BASE64.decode(sealed).unwrap()))
        .encryption_context("tenant", tenant.as_str())
        .encryption_context("server", "tokyo")
        .encryption_context("purpose", "token-credential")
        .send()
        .await
        .expect("decrypt with the documented context");

    assert_eq!(decrypted.plaintext.map(Blob::into_inner), Some(b"AT_context_check".to_vec()));
}

/// Counts the requests that a KMS client sends.
#[derive(Debug, Clone, Default)]
struct RequestCounter(Arc<AtomicUsize>);

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn key_vault_decrypts_once_within_ttl() {
    let Some(moto) = Moto::connect().await else { return };
    let key = moto.create_kms_key().await;
    let tenant = unique_tenant("aws-vault-cache");
    let key_id = key_id("tokyo-key-1");
    let plaintext = SecretBytes::new(b"pkcs8 stand-in".to_vec());
    let counter = RequestCounter::default();
    let counted_client = aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(&moto.sdk_config).interceptor(counter.clone()).build(),
    );
    let cached = KmsKeyVault::new(counted_client.clone(), key.clone(), std::time::Duration::from_secs(300));
    let uncached = KmsKeyVault::new(counted_client, key, std::time::Duration::ZERO);
    let sealed = cached.seal_private_key(&tenant, &key_id, &plaintext).await.unwrap();
    let sent_before = counter.0.load(Ordering::SeqCst);

    let opened = [
        cached.open_private_key(&tenant, &key_id, &sealed).await.unwrap(),
        cached.open_private_key(&tenant, &key_id, &sealed).await.unwrap(),
    ];
    let sent_cached = counter.0.load(Ordering::SeqCst) - sent_before;
    uncached.open_private_key(&tenant, &key_id, &sealed).await.unwrap();
    uncached.open_private_key(&tenant, &key_id, &sealed).await.unwrap();
    let sent_uncached = counter.0.load(Ordering::SeqCst) - sent_before - sent_cached;

    assert_eq!(opened, [plaintext.clone(), plaintext], "opened keys");
    assert_eq!(sent_cached, 1, "Decrypt requests with the cache");
    assert_eq!(sent_uncached, 2, "Decrypt requests without the cache");
}

/// Number of padded entries and the padding of each: 70 entries of about 20 KB take about
/// 1.4 MB, more than one DynamoDB page of 1 MB.
const PADDED_ENTRIES: usize = 70;
const PADDING_BYTES: usize = 20 * 1024;

/// Creates `PADDED_ENTRIES` entries and pads each with a long `display_name`.
///
/// The entries are created small and padded by `update_server`, because moto copies the whole
/// table for every item of a transaction, which makes transactions on a large table slow.
async fn create_padded_entries(store: &DynamoStore, tenant: &TenantId) -> Vec<String> {
    let mut names = Vec::with_capacity(PADDED_ENTRIES);
    for index in 0..PADDED_ENTRIES {
        let name = format!("server-{index:03}");
        let server = sample_server(tenant, &name);
        let key = sample_key(tenant, &name, &format!("{name}-key-1"), KeyState::Current);
        store.create_server(&server, &key).await.unwrap();
        let padded = ServerRecord {
            display_name: "x".repeat(PADDING_BYTES),
            version: 2,
            ..server
        };
        store.update_server(&padded, 1).await.unwrap();
        names.push(name);
    }
    names
}

#[tokio::test]
async fn list_servers_follows_pages_beyond_one_megabyte() {
    let Some(moto) = Moto::connect().await else { return };
    let table = moto.create_table().await;
    let store = DynamoStore::new(moto.dynamodb.clone(), &table);
    let tenant = unique_tenant("aws-pages");
    let expected = create_padded_entries(&store, &tenant).await;
    let first_page = moto
        .dynamodb
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("TENANT#{tenant}")))
        .send()
        .await
        .unwrap();

    let listed = store.list_servers(&tenant).await.unwrap();

    assert!(first_page.last_evaluated_key.is_some(), "one raw page returned everything");
    let names: Vec<String> = listed.iter().map(|server| server.name.to_string()).collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn scan_all_servers_follows_pages_in_every_segment() {
    let Some(moto) = Moto::connect().await else { return };
    let table = moto.create_table().await;
    let store = DynamoStore::new(moto.dynamodb.clone(), &table);
    let tenant = unique_tenant("aws-sweep-pages");
    let expected = create_padded_entries(&store, &tenant).await;

    let scanned = store.scan_all_servers(4).await.unwrap();

    let mut names: Vec<String> = scanned.into_iter().map(|entry| entry.unwrap().name.to_string()).collect();
    names.sort();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn sweep_index_contains_only_entries() {
    let Some(moto) = Moto::connect().await else { return };
    let table = moto.create_table().await;
    let store = DynamoStore::new(moto.dynamodb.clone(), &table);
    let tenant = unique_tenant("aws-sparse");
    for name in ["tokyo", "osaka", "nagoya"] {
        let server = sample_server(&tenant, name);
        store
            .create_server(&server, &sample_key(&tenant, name, &format!("{name}-key-1"), KeyState::Current))
            .await
            .unwrap();
        let uploaded = ServerRecord { version: 2, ..server };
        store
            .commit_upload(&uploaded, 1, &sample_upload(&tenant, name, at(60)), &[])
            .await
            .unwrap();
    }
    store
        .put_key(&sample_key(&tenant, "tokyo", "tokyo-key-2", KeyState::Staged), None)
        .await
        .unwrap();

    let indexed = scan_raw(&moto, &table, Some(SWEEP_INDEX)).await;

    assert_eq!(indexed.len(), 3, "items in the index");
    for item in &indexed {
        let sort_key = string_attribute(item, "sk");
        assert!(sort_key.starts_with("SERVER#"), "{sort_key}");
        assert!(!sort_key.contains("#UPLOAD#"), "{sort_key}");
    }
    assert_eq!(scan_raw(&moto, &table, None).await.len(), 10, "items in the table");
}

#[tokio::test]
async fn scan_all_servers_reports_bad_item_alone() {
    let Some(moto) = Moto::connect().await else { return };
    let table = moto.create_table().await;
    let store = DynamoStore::new(moto.dynamodb.clone(), &table);
    let tenant = unique_tenant("aws-bad-item");
    store
        .create_server(&sample_server(&tenant, "tokyo"), &sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Current))
        .await
        .unwrap();
    moto.dynamodb
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S(format!("TENANT#{tenant}")))
        .item("sk", AttributeValue::S("SERVER#broken".to_owned()))
        .item("kind", AttributeValue::S("server".to_owned()))
        .item("sweep_shard", AttributeValue::N("1".to_owned()))
        .item("version", AttributeValue::S("not a number".to_owned()))
        .send()
        .await
        .unwrap();

    let scanned = store.scan_all_servers(2).await.unwrap();

    let good: Vec<String> = scanned.iter().filter_map(|entry| entry.as_ref().ok()).map(|s| s.name.to_string()).collect();
    let bad: Vec<&StoreError> = scanned.iter().filter_map(|entry| entry.as_ref().err()).collect();
    assert_eq!(good, ["tokyo"]);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(matches!(bad[0], StoreError::Corrupt(message) if message.contains("SERVER#broken")), "{bad:?}");
}

#[tokio::test]
async fn raw_table_contains_no_plaintext() {
    let Some(moto) = Moto::connect().await else { return };
    let (adapters, config) = moto.fresh_adapters().await;
    let tenant = unique_tenant("aws-plaintext");
    let server = server_name("tokyo");
    let credentials = [
        "CK_4f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "CS_0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
        "AT_9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "AS_1029384756abcdef1029384756abcdef10293847",
    ];
    let mut sealed = Vec::new();
    for value in credentials {
        sealed.push(adapters.sealer.seal(&tenant, &server, &SecretText::new(value)).await.unwrap());
    }
    let private_key: Vec<u8> = (0..1_218u32).map(|i| (i * 7 % 251) as u8).collect();
    let sealed_key = adapters
        .key_vault
        .seal_private_key(&tenant, &key_id("tokyo-key-1"), &SecretBytes::new(private_key.clone()))
        .await
        .unwrap();
    let record = ServerRecord {
        credentials: Some(SealedCredentials {
            consumer_key: sealed[0].clone(),
            consumer_secret: sealed[1].clone(),
            access_token: sealed[2].clone(),
            access_secret: sealed[3].clone(),
        }),
        ..sample_server(&tenant, "tokyo")
    };
    let key = deptoken_shared::model::KeyRecord {
        sealed_private_key: sealed_key.clone(),
        ..sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Current)
    };
    adapters.store.create_server(&record, &key).await.unwrap();

    let items = scan_raw(&moto, &config.table_name, None).await;

    let mut strings = Vec::new();
    let mut binaries = Vec::new();
    for item in &items {
        item.values().for_each(|value| collect_values(value, &mut strings, &mut binaries));
    }
    assert!(strings.contains(&sealed[1].as_str()), "the sealed credential is not stored");
    assert!(binaries.contains(&sealed_key.as_slice()), "the sealed key is not stored");
    for value in credentials {
        let secret_part = &value[3..19];
        assert!(!strings.iter().any(|text| text.contains(secret_part)), "{value} in a string attribute");
        assert!(!binaries.iter().any(|bytes| contains_bytes(bytes, secret_part.as_bytes())), "{value} in a binary attribute");
    }
    let key_window = &private_key[100..132];
    let key_window_base64 = BASE64.encode(&private_key[99..147]);
    assert!(!binaries.iter().any(|bytes| contains_bytes(bytes, key_window)), "private key in a binary attribute");
    assert!(!strings.iter().any(|text| text.contains(&key_window_base64[4..40])), "private key in a string attribute");
}

#[tokio::test]
async fn delete_server_removes_many_children() {
    let Some(moto) = Moto::connect().await else { return };
    let table = moto.create_table().await;
    let store = DynamoStore::new(moto.dynamodb.clone(), &table);
    let tenant = unique_tenant("aws-delete-many");
    let mut server = sample_server(&tenant, "tokyo");
    store
        .create_server(&server, &sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Current))
        .await
        .unwrap();
    for upload in 0..60 {
        let next = ServerRecord { version: server.version + 1, ..server.clone() };
        store
            .commit_upload(&next, server.version, &sample_upload(&tenant, "tokyo", at(upload)), &[])
            .await
            .unwrap();
        server = next;
    }
    for index in 2..=30 {
        store
            .put_key(&sample_key(&tenant, "tokyo", &format!("tokyo-key-{index}"), KeyState::Retired), None)
            .await
            .unwrap();
    }
    store
        .create_server(&sample_server(&tenant, "tokyo-2"), &sample_key(&tenant, "tokyo-2", "tokyo-2-key-1", KeyState::Current))
        .await
        .unwrap();

    store.delete_server(&tenant, &server.name).await.unwrap();

    let remaining: Vec<String> = scan_raw(&moto, &table, None)
        .await
        .iter()
        .map(|item| string_attribute(item, "sk").to_owned())
        .collect();
    assert_eq!(remaining.len(), 2, "{remaining:?}");
    assert!(remaining.contains(&"SERVER#tokyo-2".to_owned()), "{remaining:?}");
    assert!(remaining.contains(&"KEY#tokyo-2-key-1".to_owned()), "{remaining:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_have_one_winner() {
    let Some(moto) = Moto::connect().await else { return };
    let table = moto.create_table().await;
    let store = DynamoStore::new(moto.dynamodb.clone(), &table);
    let tenant = unique_tenant("aws-race");
    let server = sample_server(&tenant, "tokyo");
    store
        .create_server(&server, &sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Current))
        .await
        .unwrap();

    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..8 {
        let store = store.clone();
        let next = ServerRecord {
            note: Some(format!("writer {writer}")),
            version: 2,
            ..server.clone()
        };
        writers.spawn(async move {
            let result = store.update_server(&next, 1).await;
            (next.note, store_outcome(&result))
        });
    }
    let outcomes = writers.join_all().await;

    let winners: Vec<_> = outcomes.iter().filter(|(_, outcome)| *outcome == "ok").collect();
    let losers = outcomes.iter().filter(|(_, outcome)| *outcome == "conflict").count();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert_eq!(losers, 7, "{outcomes:?}");
    let stored = store.get_server(&tenant, &server.name).await.unwrap().unwrap();
    assert_eq!(stored.note, winners[0].0, "stored note");
    assert_eq!(stored.version, 2, "stored version");
}

#[tokio::test]
async fn history_sorts_by_time_not_text() {
    let Some(moto) = Moto::connect().await else { return };
    let table = moto.create_table().await;
    let store = DynamoStore::new(moto.dynamodb.clone(), &table);
    let tenant = unique_tenant("aws-history-order");
    let mut server = sample_server(&tenant, "tokyo");
    store
        .create_server(&server, &sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Current))
        .await
        .unwrap();
    // Without fixed-width fractions, "…:00.5Z" would sort after "…:00.25Z" and after "…:01Z".
    let times = [at(1), at(0) + Duration::milliseconds(500), at(0) + Duration::milliseconds(250), at(0)];
    for uploaded_at in times {
        let next = ServerRecord { version: server.version + 1, ..server.clone() };
        store
            .commit_upload(&next, server.version, &sample_upload(&tenant, "tokyo", uploaded_at), &[])
            .await
            .unwrap();
        server = next;
    }

    let history = store.list_history(&tenant, &server.name).await.unwrap();

    let listed: Vec<_> = history.iter().map(|row| row.uploaded_at).collect();
    assert_eq!(listed, times);
}
