//! The [`Store`] contract: conditional writes on the version, the multi-item writes that
//! succeed or fail as one, complete and ordered listings, and tenant separation.

use chrono::Duration;
use deptoken_shared::domain::{ServerName, TenantId};
use deptoken_shared::Lang;
use deptoken_shared::model::{KeyRecord, KeyState, ServerRecord, TenantSettings, UploadRecord};
use deptoken_shared::ports::Store;

use super::{at, sample_key, sample_server, sample_settings, sample_upload, server_name, store_outcome, unique_tenant};

/// More items than one page of a back end that pages by size or by a count below 250. A
/// DynamoDB Query returns at most 1 MB per page (Amazon DynamoDB Developer Guide, "Paginating
/// table query results"), and each padded item below is over 5 KB, so 250 of them need two pages.
///
/// NOTE: whether an emulator used in place of DynamoDB enforces the 1 MB page is not checked here.
const MORE_THAN_A_PAGE: usize = 250;
const PADDING_BYTES: usize = 5 * 1024;

/// Creates the entry `name` at version 1 with its current key `<name>-key-1`.
async fn create(store: &dyn Store, tenant: &TenantId, name: &str) -> (ServerRecord, KeyRecord) {
    let server = sample_server(tenant, name);
    let key = sample_key(tenant, name, &format!("{name}-key-1"), KeyState::Current);
    store
        .create_server(&server, &key)
        .await
        .unwrap_or_else(|error| panic!("create_server {name}: {error}"));
    (server, key)
}

/// Returns `record` as its next version with a changed note.
fn next_version(record: &ServerRecord, note: &str) -> ServerRecord {
    ServerRecord {
        note: Some(note.to_owned()),
        version: record.version + 1,
        ..record.clone()
    }
}

/// Lists the tenant's keys ordered by key id, because `list_keys` promises no order.
async fn sorted_keys(store: &dyn Store, tenant: &TenantId) -> Vec<KeyRecord> {
    let mut keys = store.list_keys(tenant).await.unwrap();
    keys.sort_by(|left, right| left.key_id.cmp(&right.key_id));
    keys
}

fn names(servers: &[ServerRecord]) -> Vec<String> {
    servers.iter().map(|server| server.name.to_string()).collect()
}

pub async fn create_then_get(store: &dyn Store) {
    let tenant = unique_tenant("create-get");
    let (server, _) = create(store, &tenant, "tokyo").await;

    let stored = store.get_server(&tenant, &server.name).await.unwrap();

    assert_eq!(stored, Some(server));
}

pub async fn get_missing_is_none(store: &dyn Store) {
    let tenant = unique_tenant("get-missing");

    let stored = store.get_server(&tenant, &server_name("absent")).await.unwrap();

    assert_eq!(stored, None);
}

pub async fn create_twice_is_already_exists(store: &dyn Store) {
    let tenant = unique_tenant("create-twice");
    let (first, first_key) = create(store, &tenant, "tokyo").await;
    let second = ServerRecord {
        display_name: "second".to_owned(),
        ..first.clone()
    };
    let second_key = sample_key(&tenant, "tokyo", "tokyo-key-2", KeyState::Current);

    let result = store.create_server(&second, &second_key).await;

    assert_eq!(store_outcome(&result), "already_exists");
    assert_eq!(store.get_server(&tenant, &first.name).await.unwrap(), Some(first), "entry changed");
    assert_eq!(store.list_keys(&tenant).await.unwrap(), vec![first_key], "second key written");
}

pub async fn create_stores_first_key(store: &dyn Store) {
    let tenant = unique_tenant("create-key");

    let (_, key) = create(store, &tenant, "tokyo").await;

    assert_eq!(store.list_keys(&tenant).await.unwrap(), vec![key]);
}

pub async fn update_with_expected_version(store: &dyn Store) {
    let tenant = unique_tenant("update");
    let (server, _) = create(store, &tenant, "tokyo").await;
    let updated = next_version(&server, "new note");

    store.update_server(&updated, 1).await.unwrap();

    assert_eq!(store.get_server(&tenant, &server.name).await.unwrap(), Some(updated));
}

pub async fn update_with_stale_version_is_conflict(store: &dyn Store) {
    let tenant = unique_tenant("update-stale");
    let (server, _) = create(store, &tenant, "tokyo").await;
    let winner = next_version(&server, "winner");
    store.update_server(&winner, 1).await.unwrap();
    let loser = next_version(&server, "loser");

    let result = store.update_server(&loser, 1).await;

    assert_eq!(store_outcome(&result), "conflict");
    assert_eq!(store.get_server(&tenant, &server.name).await.unwrap(), Some(winner), "entry changed");
}

pub async fn update_missing_is_conflict(store: &dyn Store) {
    let tenant = unique_tenant("update-missing");
    let server = next_version(&sample_server(&tenant, "absent"), "note");

    let result = store.update_server(&server, 1).await;

    assert_eq!(store_outcome(&result), "conflict");
    assert_eq!(store.get_server(&tenant, &server.name).await.unwrap(), None, "entry created");
}

pub async fn update_without_version_step_is_conflict(store: &dyn Store) {
    let tenant = unique_tenant("update-step");
    let (server, _) = create(store, &tenant, "tokyo").await;
    let same_version = ServerRecord {
        note: Some("changed".to_owned()),
        ..server.clone()
    };

    let result = store.update_server(&same_version, 1).await;

    assert_eq!(store_outcome(&result), "conflict");
    assert_eq!(store.get_server(&tenant, &server.name).await.unwrap(), Some(server), "entry changed");
}

pub async fn commit_upload_writes_entry_history_and_keys(store: &dyn Store) {
    let tenant = unique_tenant("commit");
    let (server, current) = create(store, &tenant, "tokyo").await;
    let staged = sample_key(&tenant, "tokyo", "tokyo-key-2", KeyState::Staged);
    store.put_key(&staged, None).await.unwrap();
    let uploaded = next_version(&server, "uploaded");
    let history = sample_upload(&tenant, "tokyo", at(3_600));
    let retired = KeyRecord {
        state: KeyState::Retired,
        version: 2,
        ..current
    };
    let promoted = KeyRecord {
        state: KeyState::Current,
        version: 2,
        ..staged
    };

    store
        .commit_upload(&uploaded, 1, &history, &[retired.clone(), promoted.clone()])
        .await
        .unwrap();

    assert_eq!(store.get_server(&tenant, &server.name).await.unwrap(), Some(uploaded));
    assert_eq!(store.list_history(&tenant, &server.name).await.unwrap(), vec![history]);
    assert_eq!(sorted_keys(store, &tenant).await, vec![retired, promoted]);
}

pub async fn commit_upload_stale_version_writes_nothing(store: &dyn Store) {
    let tenant = unique_tenant("commit-stale");
    let (server, key) = create(store, &tenant, "tokyo").await;
    let winner = next_version(&server, "sweep");
    store.update_server(&winner, 1).await.unwrap();
    let retired = KeyRecord {
        state: KeyState::Retired,
        version: 2,
        ..key.clone()
    };

    let result = store
        .commit_upload(&next_version(&server, "upload"), 1, &sample_upload(&tenant, "tokyo", at(60)), &[retired])
        .await;

    assert_eq!(store_outcome(&result), "conflict");
    assert_eq!(store.get_server(&tenant, &server.name).await.unwrap(), Some(winner), "entry changed");
    assert_eq!(store.list_history(&tenant, &server.name).await.unwrap(), vec![], "history written");
    assert_eq!(store.list_keys(&tenant).await.unwrap(), vec![key], "key changed");
}

pub async fn commit_upload_key_conflict_writes_nothing(store: &dyn Store) {
    let tenant = unique_tenant("commit-key");
    let (server, key) = create(store, &tenant, "tokyo").await;
    let stale_key = KeyRecord {
        state: KeyState::Retired,
        version: 5,
        ..key.clone()
    };

    let result = store
        .commit_upload(&next_version(&server, "upload"), 1, &sample_upload(&tenant, "tokyo", at(60)), &[stale_key])
        .await;

    assert_eq!(store_outcome(&result), "conflict");
    assert_eq!(store.get_server(&tenant, &server.name).await.unwrap(), Some(server.clone()), "entry changed");
    assert_eq!(store.list_history(&tenant, &server.name).await.unwrap(), vec![], "history written");
    assert_eq!(store.list_keys(&tenant).await.unwrap(), vec![key], "key changed");
}

pub async fn commit_upload_missing_entry_is_conflict(store: &dyn Store) {
    let tenant = unique_tenant("commit-missing");
    let server = next_version(&sample_server(&tenant, "absent"), "upload");

    let result = store
        .commit_upload(&server, 1, &sample_upload(&tenant, "absent", at(60)), &[])
        .await;

    assert_eq!(store_outcome(&result), "conflict");
    assert_eq!(store.get_server(&tenant, &server.name).await.unwrap(), None, "entry created");
    assert_eq!(store.list_history(&tenant, &server.name).await.unwrap(), vec![], "history written");
}

pub async fn list_servers_ordered_by_name(store: &dyn Store) {
    let tenant = unique_tenant("list-order");
    for name in ["b", "a_1", "c.1", "a", "B", "a-2", "0"] {
        create(store, &tenant, name).await;
    }

    let listed = store.list_servers(&tenant).await.unwrap();

    assert_eq!(names(&listed), ["0", "B", "a", "a-2", "a_1", "b", "c.1"]);
}

pub async fn list_servers_returns_only_entries(store: &dyn Store) {
    let tenant = unique_tenant("list-entries");
    let (server, _) = create(store, &tenant, "tokyo").await;
    store
        .commit_upload(&next_version(&server, "upload"), 1, &sample_upload(&tenant, "tokyo", at(60)), &[])
        .await
        .unwrap();
    store
        .put_key(&sample_key(&tenant, "tokyo", "tokyo-key-2", KeyState::Staged), None)
        .await
        .unwrap();

    let listed = store.list_servers(&tenant).await.unwrap();

    assert_eq!(names(&listed), ["tokyo"]);
}

pub async fn list_servers_beyond_one_page(store: &dyn Store) {
    let tenant = unique_tenant("list-pages");
    let padding = "x".repeat(PADDING_BYTES);
    let mut expected = Vec::new();
    for index in 0..MORE_THAN_A_PAGE {
        let name = format!("server-{index:03}");
        let server = ServerRecord {
            note: Some(padding.clone()),
            ..sample_server(&tenant, &name)
        };
        let key = sample_key(&tenant, &name, &format!("{name}-key-1"), KeyState::Current);
        store.create_server(&server, &key).await.unwrap();
        expected.push(name);
    }

    let listed = store.list_servers(&tenant).await.unwrap();

    assert_eq!(names(&listed), expected);
}

/// Lists the entries of `tenants` that `list_all_servers` returned, ordered by tenant and
/// name, and counts the inner errors.
async fn all_servers_of(store: &dyn Store, tenants: &[&TenantId]) -> (Vec<ServerRecord>, usize) {
    let listed = store.list_all_servers().await.unwrap();
    let errors = listed.iter().filter(|item| item.is_err()).count();
    let mut servers: Vec<ServerRecord> = listed
        .into_iter()
        .filter_map(Result::ok)
        .filter(|server| tenants.contains(&&server.tenant))
        .collect();
    servers.sort_by(|a, b| (&a.tenant, &a.name).cmp(&(&b.tenant, &b.name)));
    (servers, errors)
}

pub async fn list_all_servers_spans_tenants(store: &dyn Store) {
    let first = unique_tenant("all-first");
    let second = unique_tenant("all-second");
    let (tokyo, _) = create(store, &first, "tokyo").await;
    let (osaka, _) = create(store, &first, "osaka").await;
    let (nagoya, _) = create(store, &second, "nagoya").await;
    let history = sample_upload(&first, "tokyo", at(600));
    let uploaded = next_version(&tokyo, "uploaded");
    store.commit_upload(&uploaded, tokyo.version, &history, &[]).await.unwrap();
    let extra_key = sample_key(&second, "nagoya", "nagoya-key-2", KeyState::Staged);
    store.put_key(&extra_key, None).await.unwrap();

    let (servers, errors) = all_servers_of(store, &[&first, &second]).await;

    let mut expected = vec![osaka, uploaded, nagoya];
    expected.sort_by(|a, b| (&a.tenant, &a.name).cmp(&(&b.tenant, &b.name)));
    assert_eq!(servers, expected, "every entry of both tenants, and only entries");
    assert_eq!(errors, 0, "no item was unreadable");
}

/// Checks that an item `corrupt` damaged is an inner error that hides no other entry.
/// `corrupt` must make the stored entry `(tenant, name)` unreadable by the adapter's own means.
pub async fn list_all_servers_isolates_corrupt_item(store: &dyn Store, corrupt: impl AsyncFnOnce(&TenantId, &ServerName)) {
    let tenant = unique_tenant("all-corrupt");
    let (tokyo, _) = create(store, &tenant, "tokyo").await;
    create(store, &tenant, "broken").await;
    corrupt(&tenant, &server_name("broken")).await;

    let (servers, errors) = all_servers_of(store, &[&tenant]).await;

    assert_eq!(servers, vec![tokyo], "the readable entry is listed");
    assert_eq!(errors, 1, "the damaged entry is one inner error");
}

pub async fn list_history_newest_first(store: &dyn Store) {
    let tenant = unique_tenant("history-order");
    let (mut server, _) = create(store, &tenant, "tokyo").await;
    let whole_second = at(3_600);
    // A whole second, half a second and one nanosecond after it, and a day before: sort keys
    // with a variable-width fraction would put the whole second last.
    let times = [
        whole_second,
        whole_second - Duration::days(1),
        whole_second + Duration::milliseconds(500),
        whole_second + Duration::nanoseconds(1),
    ];
    for time in times {
        let next = next_version(&server, "upload");
        store
            .commit_upload(&next, server.version, &sample_upload(&tenant, "tokyo", time), &[])
            .await
            .unwrap();
        server = next;
    }

    let history = store.list_history(&tenant, &server.name).await.unwrap();

    let listed: Vec<_> = history.iter().map(|row| row.uploaded_at).collect();
    assert_eq!(listed, [times[2], times[3], times[0], times[1]]);
}

pub async fn list_history_only_of_its_entry(store: &dyn Store) {
    let tenant = unique_tenant("history-own");
    // `a_c` and `abc` catch a `LIKE` prefix match, where `_` matches any character, and
    // `a_c-2` a prefix match without the separator.
    for name in ["a_c", "abc", "a_c-2"] {
        let (server, _) = create(store, &tenant, name).await;
        store
            .commit_upload(&next_version(&server, "upload"), 1, &sample_upload(&tenant, name, at(60)), &[])
            .await
            .unwrap();
    }

    let history = store.list_history(&tenant, &server_name("a_c")).await.unwrap();

    let servers: Vec<_> = history.iter().map(|row| row.server.to_string()).collect();
    assert_eq!(servers, ["a_c"]);
}

pub async fn list_history_beyond_one_page(store: &dyn Store) {
    let tenant = unique_tenant("history-pages");
    let (mut server, _) = create(store, &tenant, "tokyo").await;
    let padding = "x".repeat(PADDING_BYTES);
    for index in 0..MORE_THAN_A_PAGE {
        let next = next_version(&server, "upload");
        let history = UploadRecord {
            note: Some(padding.clone()),
            ..sample_upload(&tenant, "tokyo", at(index as i64))
        };
        store.commit_upload(&next, server.version, &history, &[]).await.unwrap();
        server = next;
    }

    let history = store.list_history(&tenant, &server.name).await.unwrap();

    assert_eq!(history.len(), MORE_THAN_A_PAGE);
}

pub async fn list_history_missing_entry_is_empty(store: &dyn Store) {
    let tenant = unique_tenant("history-missing");

    let history = store.list_history(&tenant, &server_name("absent")).await.unwrap();

    assert_eq!(history, vec![]);
}

pub async fn list_keys_spans_all_entries(store: &dyn Store) {
    let tenant = unique_tenant("keys-all");
    let (_, osaka_key) = create(store, &tenant, "osaka").await;
    let (_, tokyo_key) = create(store, &tenant, "tokyo").await;
    let staged = sample_key(&tenant, "tokyo", "tokyo-key-2", KeyState::Staged);
    store.put_key(&staged, None).await.unwrap();

    let keys = sorted_keys(store, &tenant).await;

    assert_eq!(keys, vec![osaka_key, tokyo_key, staged]);
}

pub async fn list_keys_beyond_one_page(store: &dyn Store) {
    let tenant = unique_tenant("keys-pages");
    let padding = "x".repeat(PADDING_BYTES);
    for index in 0..MORE_THAN_A_PAGE {
        let key = KeyRecord {
            certificate_pem: padding.clone(),
            ..sample_key(&tenant, "tokyo", &format!("key-{index:03}"), KeyState::Retired)
        };
        store.put_key(&key, None).await.unwrap();
    }

    let keys = store.list_keys(&tenant).await.unwrap();

    assert_eq!(keys.len(), MORE_THAN_A_PAGE);
}

pub async fn delete_removes_entry_history_and_keys(store: &dyn Store) {
    let tenant = unique_tenant("delete");
    for name in ["tokyo", "osaka"] {
        let (server, _) = create(store, &tenant, name).await;
        store
            .commit_upload(&next_version(&server, "upload"), 1, &sample_upload(&tenant, name, at(60)), &[])
            .await
            .unwrap();
    }
    store
        .put_key(&sample_key(&tenant, "tokyo", "tokyo-key-2", KeyState::Staged), None)
        .await
        .unwrap();
    let tokyo = server_name("tokyo");
    let osaka = server_name("osaka");

    store.delete_server(&tenant, &tokyo).await.unwrap();

    assert_eq!(store.get_server(&tenant, &tokyo).await.unwrap(), None, "entry kept");
    assert_eq!(store.list_history(&tenant, &tokyo).await.unwrap(), vec![], "history kept");
    let key_servers: Vec<_> = store
        .list_keys(&tenant)
        .await
        .unwrap()
        .iter()
        .map(|key| key.server.to_string())
        .collect();
    assert_eq!(key_servers, ["osaka"], "keys of the deleted entry kept, or others removed");
    assert!(store.get_server(&tenant, &osaka).await.unwrap().is_some(), "other entry removed");
    assert_eq!(store.list_history(&tenant, &osaka).await.unwrap().len(), 1, "other history removed");
}

pub async fn delete_missing_is_not_found(store: &dyn Store) {
    let tenant = unique_tenant("delete-missing");

    let result = store.delete_server(&tenant, &server_name("absent")).await;

    assert_eq!(store_outcome(&result), "not_found");
}

pub async fn delete_then_create_again(store: &dyn Store) {
    let tenant = unique_tenant("delete-create");
    let (server, key) = create(store, &tenant, "tokyo").await;
    store.delete_server(&tenant, &server.name).await.unwrap();

    let result = store.create_server(&server, &key).await;

    assert_eq!(store_outcome(&result), "ok");
    assert_eq!(store.get_server(&tenant, &server.name).await.unwrap(), Some(server));
}

pub async fn put_key_new_then_listed(store: &dyn Store) {
    let tenant = unique_tenant("key-new");
    let key = sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Staged);

    store.put_key(&key, None).await.unwrap();

    assert_eq!(store.list_keys(&tenant).await.unwrap(), vec![key]);
}

pub async fn put_key_new_twice_is_already_exists(store: &dyn Store) {
    let tenant = unique_tenant("key-twice");
    let key = sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Staged);
    store.put_key(&key, None).await.unwrap();
    let other = KeyRecord {
        state: KeyState::Current,
        ..key.clone()
    };

    let result = store.put_key(&other, None).await;

    assert_eq!(store_outcome(&result), "already_exists");
    assert_eq!(store.list_keys(&tenant).await.unwrap(), vec![key], "key changed");
}

pub async fn put_key_update_with_expected_version(store: &dyn Store) {
    let tenant = unique_tenant("key-update");
    let key = sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Staged);
    store.put_key(&key, None).await.unwrap();
    let current = KeyRecord {
        state: KeyState::Current,
        version: 2,
        ..key
    };

    store.put_key(&current, Some(1)).await.unwrap();

    assert_eq!(store.list_keys(&tenant).await.unwrap(), vec![current]);
}

pub async fn put_key_stale_version_is_conflict(store: &dyn Store) {
    let tenant = unique_tenant("key-stale");
    let key = sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Staged);
    store.put_key(&key, None).await.unwrap();
    let winner = KeyRecord {
        state: KeyState::Current,
        version: 2,
        ..key.clone()
    };
    store.put_key(&winner, Some(1)).await.unwrap();
    let loser = KeyRecord {
        state: KeyState::Retired,
        version: 2,
        ..key
    };

    let result = store.put_key(&loser, Some(1)).await;

    assert_eq!(store_outcome(&result), "conflict");
    assert_eq!(store.list_keys(&tenant).await.unwrap(), vec![winner], "key changed");
}

pub async fn put_key_update_missing_is_conflict(store: &dyn Store) {
    let tenant = unique_tenant("key-missing");
    let key = KeyRecord {
        version: 2,
        ..sample_key(&tenant, "tokyo", "tokyo-key-1", KeyState::Current)
    };

    let result = store.put_key(&key, Some(1)).await;

    assert_eq!(store_outcome(&result), "conflict");
    assert_eq!(store.list_keys(&tenant).await.unwrap(), vec![], "key created");
}

/// Creates tenant A with the entry `tokyo`, one upload and its key, and returns it with an
/// empty tenant B.
async fn two_tenants(store: &dyn Store) -> (TenantId, TenantId, ServerRecord, KeyRecord) {
    let tenant_a = unique_tenant("tenant-a");
    let tenant_b = unique_tenant("tenant-b");
    let (server, key) = create(store, &tenant_a, "tokyo").await;
    let uploaded = next_version(&server, "upload");
    store
        .commit_upload(&uploaded, 1, &sample_upload(&tenant_a, "tokyo", at(60)), &[])
        .await
        .unwrap();
    (tenant_a, tenant_b, uploaded, key)
}

pub async fn other_tenant_sees_nothing(store: &dyn Store) {
    let (_, tenant_b, server, _) = two_tenants(store).await;

    let got = store.get_server(&tenant_b, &server.name).await.unwrap();
    let listed = store.list_servers(&tenant_b).await.unwrap();
    let history = store.list_history(&tenant_b, &server.name).await.unwrap();
    let keys = store.list_keys(&tenant_b).await.unwrap();

    assert_eq!(got, None, "get_server");
    assert_eq!(listed, vec![], "list_servers");
    assert_eq!(history, vec![], "list_history");
    assert_eq!(keys, vec![], "list_keys");
}

pub async fn other_tenant_writes_nothing(store: &dyn Store) {
    let (tenant_a, tenant_b, server, key) = two_tenants(store).await;
    let as_b = ServerRecord {
        tenant: tenant_b.clone(),
        ..next_version(&server, "from b")
    };
    let key_as_b = KeyRecord {
        tenant: tenant_b.clone(),
        state: KeyState::Retired,
        version: 2,
        ..key.clone()
    };

    let update = store.update_server(&as_b, server.version).await;
    let commit = store
        .commit_upload(&as_b, server.version, &sample_upload(&tenant_b, "tokyo", at(120)), &[])
        .await;
    let put_key = store.put_key(&key_as_b, Some(1)).await;
    let delete = store.delete_server(&tenant_b, &server.name).await;

    assert_eq!(store_outcome(&update), "conflict", "update_server");
    assert_eq!(store_outcome(&commit), "conflict", "commit_upload");
    assert_eq!(store_outcome(&put_key), "conflict", "put_key");
    assert_eq!(store_outcome(&delete), "not_found", "delete_server");
    assert_eq!(store.get_server(&tenant_a, &server.name).await.unwrap(), Some(server.clone()), "entry of A changed");
    assert_eq!(store.list_history(&tenant_a, &server.name).await.unwrap().len(), 1, "history of A changed");
    assert_eq!(store.list_keys(&tenant_a).await.unwrap(), vec![key], "keys of A changed");
}

pub async fn other_tenant_answers_as_missing(store: &dyn Store) {
    let (_, tenant_b, server, key) = two_tenants(store).await;
    let missing = server_name("absent");
    let existing_as_b = ServerRecord {
        tenant: tenant_b.clone(),
        ..next_version(&server, "from b")
    };
    let missing_as_b = ServerRecord {
        name: missing.clone(),
        ..existing_as_b.clone()
    };
    let key_as_b = KeyRecord {
        tenant: tenant_b.clone(),
        version: 2,
        ..key.clone()
    };
    let missing_key_as_b = KeyRecord {
        key_id: super::key_id("absent-key"),
        ..key_as_b.clone()
    };

    let answers = [
        (
            "get_server",
            store_outcome(&store.get_server(&tenant_b, &server.name).await),
            store_outcome(&store.get_server(&tenant_b, &missing).await),
        ),
        (
            "update_server",
            store_outcome(&store.update_server(&existing_as_b, server.version).await),
            store_outcome(&store.update_server(&missing_as_b, server.version).await),
        ),
        (
            "put_key",
            store_outcome(&store.put_key(&key_as_b, Some(1)).await),
            store_outcome(&store.put_key(&missing_key_as_b, Some(1)).await),
        ),
        (
            "delete_server",
            store_outcome(&store.delete_server(&tenant_b, &server.name).await),
            store_outcome(&store.delete_server(&tenant_b, &missing).await),
        ),
    ];

    for (operation, on_other_tenants_item, on_missing_item) in answers {
        assert_eq!(on_other_tenants_item, on_missing_item, "{operation}");
    }
    assert_eq!(
        store.get_server(&tenant_b, &server.name).await.unwrap(),
        store.get_server(&tenant_b, &missing).await.unwrap(),
        "get_server value"
    );
    assert_eq!(
        store.list_history(&tenant_b, &server.name).await.unwrap(),
        store.list_history(&tenant_b, &missing).await.unwrap(),
        "list_history value"
    );
}

pub async fn other_tenant_may_reuse_names(store: &dyn Store) {
    let (tenant_a, tenant_b, server_a, key_a) = two_tenants(store).await;

    let (server_b, key_b) = create(store, &tenant_b, "tokyo").await;

    assert_eq!(store.get_server(&tenant_b, &server_b.name).await.unwrap(), Some(server_b), "entry of B");
    assert_eq!(store.list_keys(&tenant_b).await.unwrap(), vec![key_b], "keys of B");
    assert_eq!(store.get_server(&tenant_a, &server_a.name).await.unwrap(), Some(server_a), "entry of A");
    assert_eq!(store.list_keys(&tenant_a).await.unwrap(), vec![key_a], "keys of A");
}

/// Returns `settings` as its next version in Japanese and Berlin time.
fn next_settings(settings: &TenantSettings) -> TenantSettings {
    TenantSettings {
        notification_language: Lang::Ja,
        time_zone: chrono_tz::Europe::Berlin,
        version: settings.version + 1,
        ..settings.clone()
    }
}

pub async fn settings_missing_is_none(store: &dyn Store) {
    let tenant = unique_tenant("settings-missing");
    create(store, &tenant, "tokyo").await;

    let stored = store.get_settings(&tenant).await.unwrap();

    assert_eq!(stored, None);
}

pub async fn settings_create_then_get(store: &dyn Store) {
    let tenant = unique_tenant("settings-create");
    let settings = sample_settings(&tenant);

    store.put_settings(&settings, None).await.unwrap();

    assert_eq!(store.get_settings(&tenant).await.unwrap(), Some(settings));
}

pub async fn settings_create_twice_is_already_exists(store: &dyn Store) {
    let tenant = unique_tenant("settings-twice");
    let first = sample_settings(&tenant);
    store.put_settings(&first, None).await.unwrap();
    let second = TenantSettings {
        notification_language: Lang::Ja,
        ..first.clone()
    };

    let result = store.put_settings(&second, None).await;

    assert_eq!(store_outcome(&result), "already_exists");
    assert_eq!(store.get_settings(&tenant).await.unwrap(), Some(first), "settings changed");
}

pub async fn settings_update_with_expected_version(store: &dyn Store) {
    let tenant = unique_tenant("settings-update");
    let settings = sample_settings(&tenant);
    store.put_settings(&settings, None).await.unwrap();
    let updated = next_settings(&settings);

    store.put_settings(&updated, Some(1)).await.unwrap();

    assert_eq!(store.get_settings(&tenant).await.unwrap(), Some(updated));
}

pub async fn settings_stale_version_is_conflict(store: &dyn Store) {
    let tenant = unique_tenant("settings-stale");
    let settings = sample_settings(&tenant);
    store.put_settings(&settings, None).await.unwrap();
    let winner = next_settings(&settings);
    store.put_settings(&winner, Some(1)).await.unwrap();
    let loser = TenantSettings {
        time_zone: chrono_tz::Asia::Tokyo,
        ..next_settings(&settings)
    };

    let result = store.put_settings(&loser, Some(1)).await;

    assert_eq!(store_outcome(&result), "conflict");
    assert_eq!(store.get_settings(&tenant).await.unwrap(), Some(winner), "settings changed");
}

pub async fn settings_update_missing_is_conflict(store: &dyn Store) {
    let tenant = unique_tenant("settings-update-missing");
    let settings = next_settings(&sample_settings(&tenant));

    let result = store.put_settings(&settings, Some(1)).await;

    assert_eq!(store_outcome(&result), "conflict");
    assert_eq!(store.get_settings(&tenant).await.unwrap(), None, "settings written");
}

pub async fn settings_update_without_version_step_is_conflict(store: &dyn Store) {
    let tenant = unique_tenant("settings-step");
    let settings = sample_settings(&tenant);
    store.put_settings(&settings, None).await.unwrap();
    let skipped = TenantSettings {
        version: 3,
        ..next_settings(&settings)
    };

    let result = store.put_settings(&skipped, Some(1)).await;

    assert_eq!(store_outcome(&result), "conflict");
    assert_eq!(store.get_settings(&tenant).await.unwrap(), Some(settings), "settings changed");
}

pub async fn settings_of_other_tenant_invisible(store: &dyn Store) {
    let tenant_a = unique_tenant("settings-a");
    let tenant_b = unique_tenant("settings-b");
    let settings_a = sample_settings(&tenant_a);
    store.put_settings(&settings_a, None).await.unwrap();

    let seen_by_b = store.get_settings(&tenant_b).await.unwrap();
    let update_of_b = store.put_settings(&next_settings(&sample_settings(&tenant_b)), Some(1)).await;
    let settings_b = TenantSettings {
        notification_language: Lang::Ja,
        ..sample_settings(&tenant_b)
    };
    let create_of_b = store.put_settings(&settings_b, None).await;

    assert_eq!(seen_by_b, None, "B sees no settings");
    assert_eq!(store_outcome(&update_of_b), "conflict", "B updates settings it does not have");
    assert_eq!(store_outcome(&create_of_b), "ok", "B creates its own settings");
    assert_eq!(store.get_settings(&tenant_b).await.unwrap(), Some(settings_b), "settings of B");
    assert_eq!(store.get_settings(&tenant_a).await.unwrap(), Some(settings_a), "settings of A");
}

/// The settings item shares the tenant's partition with the entries, but neither listing of
/// entries (nor, on DynamoDB, the sparse sweep index behind `list_all_servers`) returns it.
pub async fn settings_not_listed_as_entries(store: &dyn Store) {
    let tenant = unique_tenant("settings-listing");
    let (server, _) = create(store, &tenant, "tokyo").await;
    store.put_settings(&sample_settings(&tenant), None).await.unwrap();

    let listed = store.list_servers(&tenant).await.unwrap();
    let (all, errors) = all_servers_of(store, &[&tenant]).await;

    assert_eq!(names(&listed), ["tokyo"], "list_servers");
    assert_eq!(all, vec![server], "list_all_servers");
    assert_eq!(errors, 0, "no item was unreadable");
}
