//! Runs the conformance suites against the embedded adapters: the SQLite store in memory and
//! in a file, and the local vault in a temporary directory. The other tests check what only
//! these adapters promise: file permissions, the master key checks, the outbox lines and data
//! that survives a reopen.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tempfile::TempDir;

use deptoken_embedded::{LocalKeyVault, OutboxNotifier, SqliteStore, VaultOpenError};
use deptoken_shared::model::KeyState;
use deptoken_shared::ports::{CredentialSealer, KeyVault, Notification, Notifier, Store};
use deptoken_shared::secret::SecretText;

use crate::conformance::{
    SealedTextCodec, key_id, sample_key, sample_server, server_name, store_conformance_tests, tenant,
    unique_tenant, vault_conformance_tests,
};

/// The local vault writes sealed credentials as standard base64.
const BASE64_CODEC: SealedTextCodec = SealedTextCodec {
    encode: |bytes| BASE64.encode(bytes),
    decode: |text| BASE64.decode(text).ok(),
};

mod sqlite_memory {
    use super::*;

    async fn make() -> (SqliteStore, ()) {
        (SqliteStore::in_memory().expect("open an in-memory store"), ())
    }

    store_conformance_tests!(make);
}

mod sqlite_file {
    use super::*;

    async fn make() -> (SqliteStore, TempDir) {
        let dir = TempDir::new().expect("create a temporary directory");
        let store = SqliteStore::open(&dir.path().join("deptoken.sqlite3")).expect("open the store file");
        (store, dir)
    }

    store_conformance_tests!(make);

    #[tokio::test]
    async fn list_all_servers_isolates_corrupt_item() {
        let (store, dir) = make().await;
        let path = dir.path().join("deptoken.sqlite3");

        crate::conformance::store::list_all_servers_isolates_corrupt_item(&store, async |tenant, name| {
            // A second connection to the same file, as another process would write it.
            let connection = rusqlite::Connection::open(&path).expect("open the store file");
            let changed = connection
                .execute(
                    "UPDATE items SET body = '{\"display_name\": 7' WHERE pk = ?1 AND sk = ?2",
                    (format!("TENANT#{tenant}"), format!("SERVER#{name}")),
                )
                .expect("damage the entry");
            assert_eq!(changed, 1, "the entry to damage exists");
        })
        .await;
    }
}

mod local_vault {
    use super::*;

    async fn make() -> (LocalKeyVault, TempDir) {
        let dir = TempDir::new().expect("create a temporary directory");
        let vault = LocalKeyVault::open(dir.path()).expect("open the vault");
        (vault, dir)
    }

    vault_conformance_tests!(make, BASE64_CODEC);
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).expect("file metadata").permissions().mode() & 0o777
}

#[tokio::test]
async fn store_file_created_owner_only() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("deptoken.sqlite3");

    SqliteStore::open(&path).unwrap();

    assert_eq!(mode_of(&path), 0o600);
}

#[tokio::test]
async fn store_log_files_owner_only() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("deptoken.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    let tenant = tenant("acme");
    let key = sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Current);

    store.create_server(&sample_server(&tenant, "tokyo"), &key).await.unwrap();

    for suffix in ["-wal", "-shm"] {
        let log_file = dir.path().join(format!("deptoken.sqlite3{suffix}"));
        assert_eq!(mode_of(&log_file), 0o600, "{suffix}");
    }
}

#[tokio::test]
async fn store_data_survives_reopen() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("deptoken.sqlite3");
    let tenant = tenant("acme");
    let server = sample_server(&tenant, "tokyo");
    let key = sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Current);
    {
        let store = SqliteStore::open(&path).unwrap();
        store.create_server(&server, &key).await.unwrap();
    }

    let reopened = SqliteStore::open(&path).unwrap();

    assert_eq!(reopened.get_server(&tenant, &server.name).await.unwrap(), Some(server));
    assert_eq!(reopened.list_keys(&tenant).await.unwrap(), vec![key]);
}

#[tokio::test]
async fn store_list_all_servers_spans_tenants() {
    let store = SqliteStore::in_memory().unwrap();
    let tenant_a = unique_tenant("all-a");
    let tenant_b = unique_tenant("all-b");
    for (tenant, name) in [(&tenant_b, "osaka"), (&tenant_a, "tokyo"), (&tenant_a, "nagoya")] {
        let key = sample_key(tenant, name, &format!("{name}-key-1"), KeyState::Current);
        store.create_server(&sample_server(tenant, name), &key).await.unwrap();
    }

    let all = store.list_all_servers().await.unwrap();

    let listed: Vec<_> = all
        .into_iter()
        .map(|entry| {
            let entry = entry.unwrap();
            (entry.tenant.to_string(), entry.name.to_string())
        })
        .collect();
    let expected = [
        (tenant_a.to_string(), "nagoya".to_owned()),
        (tenant_a.to_string(), "tokyo".to_owned()),
        (tenant_b.to_string(), "osaka".to_owned()),
    ];
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn vault_master_key_created_owner_only() {
    let dir = TempDir::new().unwrap();

    let vault = LocalKeyVault::open(dir.path()).unwrap();

    assert_eq!(mode_of(vault.key_path()), 0o600, "mode");
    assert_eq!(fs::read(vault.key_path()).unwrap().len(), 32, "length");
}

#[tokio::test]
async fn vault_rejects_readable_master_key() {
    let dir = TempDir::new().unwrap();
    let path = LocalKeyVault::open(dir.path()).unwrap().key_path().to_owned();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();

    let error = LocalKeyVault::open(dir.path()).unwrap_err();

    assert!(matches!(error, VaultOpenError::Permissions { mode: 0o644, .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "path missing: {message}");
    assert!(message.contains("chmod 600"), "fix missing: {message}");
}

#[tokio::test]
async fn vault_rejects_short_master_key() {
    let dir = TempDir::new().unwrap();
    let path = LocalKeyVault::open(dir.path()).unwrap().key_path().to_owned();
    fs::write(&path, [7u8; 16]).unwrap();

    let error = LocalKeyVault::open(dir.path()).unwrap_err();

    assert!(matches!(error, VaultOpenError::Length { found: 16, .. }), "{error:?}");
}

#[tokio::test]
async fn vault_reopened_opens_sealed_values() {
    let dir = TempDir::new().unwrap();
    let tenant = tenant("acme");
    let server = server_name("tokyo");
    let secret = SecretText::new("AT_reopen_check");
    let sealed = {
        let vault = LocalKeyVault::open(dir.path()).unwrap();
        vault.seal(&tenant, &server, &secret).await.unwrap()
    };

    let reopened = LocalKeyVault::open(dir.path()).unwrap();

    assert_eq!(reopened.open(&tenant, &server, &sealed).await.unwrap(), secret);
}

#[tokio::test]
async fn vault_other_master_key_rejects() {
    let first_dir = TempDir::new().unwrap();
    let second_dir = TempDir::new().unwrap();
    let tenant = tenant("acme");
    let key = key_id("tokyo-key-1");
    let first = LocalKeyVault::open(first_dir.path()).unwrap();
    let second = LocalKeyVault::open(second_dir.path()).unwrap();
    let private_key = deptoken_shared::secret::SecretBytes::new(vec![48, 130, 4, 190]);
    let sealed = first.seal_private_key(&tenant, &key, &private_key).await.unwrap();

    let result = second.open_private_key(&tenant, &key, &sealed).await;

    assert!(matches!(result, Err(deptoken_shared::ports::VaultError::Rejected)), "{result:?}");
}

#[tokio::test]
async fn vault_debug_hides_master_key() {
    let dir = TempDir::new().unwrap();
    let vault = LocalKeyVault::open(dir.path()).unwrap();
    let master_key = fs::read(vault.key_path()).unwrap();

    let printed = format!("{vault:?}");

    assert!(printed.contains("master.key"), "{printed}");
    for encoded in [hex_of(&master_key), BASE64.encode(&master_key), format!("{master_key:?}")] {
        assert!(!printed.contains(&encoded), "{printed}");
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn notification(server: &str, kind: &str) -> Notification {
    Notification {
        tenant: tenant("acme"),
        server: server_name(server),
        kind: kind.to_owned(),
        severity: "warning".to_owned(),
        subject: "DEP サーバトークンの期限が近づいています".to_owned(),
        body: "tokyo のサーバトークンは 30 日後に期限切れになります。".to_owned(),
        sms: "DEP トークン期限: 30 日".to_owned(),
    }
}

#[tokio::test]
async fn outbox_writes_json_lines() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("outbox.jsonl");
    let outbox = OutboxNotifier::open(&path).unwrap();
    let sent = [notification("tokyo", "expiring_30"), notification("osaka", "renewed")];

    for item in &sent {
        outbox.publish(item).await.unwrap();
    }

    let written = fs::read_to_string(&path).unwrap();
    let lines: Vec<Notification> = written
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one notification"))
        .collect();
    assert_eq!(lines, sent);
}

#[tokio::test]
async fn outbox_file_created_owner_only() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("outbox.jsonl");

    OutboxNotifier::open(&path).unwrap();

    assert_eq!(mode_of(&path), 0o600);
}

#[tokio::test]
async fn outbox_appends_after_reopen() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("outbox.jsonl");
    OutboxNotifier::open(&path)
        .unwrap()
        .publish(&notification("tokyo", "expiring_30"))
        .await
        .unwrap();

    OutboxNotifier::open(&path)
        .unwrap()
        .publish(&notification("tokyo", "expiring_14"))
        .await
        .unwrap();

    assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 2);
}
