//! What only the SQLite store promises beyond the port's conformance suite: the error
//! mapping of damaged rows and a locked file, and the schema version check.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use rusqlite::{Connection, params};
use tempfile::TempDir;

use deptoken_shared::domain::{KeyId, ServerName, TenantId};
use deptoken_shared::model::{KeyRecord, KeyState, ServerRecord, UploadRecord};
use deptoken_shared::ports::{Store, StoreError};

use super::{SqliteStore, StoreOpenError};

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn name() -> ServerName {
    ServerName::parse("tokyo").unwrap()
}

fn server() -> ServerRecord {
    ServerRecord {
        tenant: tenant(),
        name: name(),
        display_name: "Tokyo".to_owned(),
        note: None,
        created_at: Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap(),
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
    }
}

fn key() -> KeyRecord {
    KeyRecord {
        tenant: tenant(),
        key_id: KeyId::parse("tokyo-key-1").unwrap(),
        server: name(),
        state: KeyState::Current,
        certificate_pem: String::new(),
        sealed_private_key: vec![1, 2, 3],
        created_at: Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap(),
        version: 1,
    }
}

fn upload() -> UploadRecord {
    UploadRecord {
        tenant: tenant(),
        server: name(),
        uploaded_at: Utc.with_ymd_and_hms(2025, 4, 2, 0, 0, 0).unwrap(),
        uploaded_by: "admin".to_owned(),
        expires_at: Utc.with_ymd_and_hms(2026, 4, 2, 0, 0, 0).unwrap(),
        server_uuid: "uuid".to_owned(),
        server_name: "Tokyo MDM".to_owned(),
        admin_id: None,
        consumer_key_fingerprint: "0123456789abcdef".to_owned(),
        note: None,
        key_id: KeyId::parse("tokyo-key-1").unwrap(),
    }
}

/// Overwrites the body and version column of the entry `tokyo` behind the store's back.
fn overwrite_entry(store: &SqliteStore, version: i64, body: &str) {
    let connection = store.connection.lock().unwrap();
    connection
        .execute(
            "UPDATE items SET version = ?1, body = ?2 WHERE pk = 'TENANT#acme' AND sk = 'SERVER#tokyo'",
            params![version, body],
        )
        .unwrap();
}

fn corrupt_message(result: Result<impl std::fmt::Debug, StoreError>) -> String {
    match result {
        Err(StoreError::Corrupt(message)) => message,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_body_is_corrupt_with_key() {
    let store = SqliteStore::in_memory().unwrap();
    store.create_server(&server(), &key()).await.unwrap();
    overwrite_entry(&store, 1, r#"{"version": "SECRET-MARKER"}"#);

    let message = corrupt_message(store.get_server(&tenant(), &name()).await);

    assert!(message.contains("TENANT#acme / SERVER#tokyo"), "{message}");
    assert!(!message.contains("SECRET-MARKER"), "{message}");
}

#[tokio::test]
async fn version_mismatch_is_corrupt() {
    let store = SqliteStore::in_memory().unwrap();
    store.create_server(&server(), &key()).await.unwrap();
    let body = serde_json::to_string(&server()).unwrap();
    overwrite_entry(&store, 7, &body);

    let message = corrupt_message(store.list_servers(&tenant()).await);

    assert!(message.contains("version column 7"), "{message}");
}

#[tokio::test]
async fn list_all_servers_keeps_going_past_corrupt_entry() {
    let store = SqliteStore::in_memory().unwrap();
    store.create_server(&server(), &key()).await.unwrap();
    let osaka = ServerRecord {
        name: ServerName::parse("osaka").unwrap(),
        ..server()
    };
    let osaka_key = KeyRecord {
        key_id: KeyId::parse("osaka-key-1").unwrap(),
        ..key()
    };
    store.create_server(&osaka, &osaka_key).await.unwrap();
    overwrite_entry(&store, 1, "{");

    let all = store.list_all_servers().await.unwrap();

    let outcomes: Vec<_> = all.iter().map(|entry| entry.as_ref().map(|record| record.name.to_string()).ok()).collect();
    assert_eq!(outcomes, [Some("osaka".to_owned()), None]);
}

#[tokio::test]
async fn duplicate_upload_time_writes_nothing() {
    let store = SqliteStore::in_memory().unwrap();
    store.create_server(&server(), &key()).await.unwrap();
    let second = ServerRecord { version: 2, ..server() };
    store.commit_upload(&second, 1, &upload(), &[]).await.unwrap();
    let third = ServerRecord { version: 3, ..server() };

    let result = store.commit_upload(&third, 2, &upload(), &[]).await;

    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    assert_eq!(store.get_server(&tenant(), &name()).await.unwrap(), Some(second), "entry changed");
}

#[tokio::test]
async fn locked_file_is_throttled() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("deptoken.sqlite3");
    let store = SqliteStore::open_with_busy_timeout(&path, Duration::ZERO).unwrap();
    let other_process = Connection::open(&path).unwrap();
    other_process.execute_batch("BEGIN IMMEDIATE").unwrap();

    let write = store.create_server(&server(), &key()).await;
    let read = store.list_servers(&tenant()).await;

    assert!(matches!(write, Err(StoreError::Throttled)), "write: {write:?}");
    assert!(read.is_ok(), "read: {read:?}");
}

#[tokio::test]
async fn newer_schema_is_rejected() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("deptoken.sqlite3");
    Connection::open(&path).unwrap().pragma_update(None, "user_version", 2).unwrap();

    let result = SqliteStore::open(&path);

    assert!(matches!(result, Err(StoreOpenError::SchemaVersion { found: 2, .. })), "{result:?}");
}

#[tokio::test]
async fn store_uses_write_ahead_log() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&dir.path().join("deptoken.sqlite3")).unwrap();

    let mode: String = store
        .connection
        .lock()
        .unwrap()
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();

    assert_eq!(mode, "wal");
}
