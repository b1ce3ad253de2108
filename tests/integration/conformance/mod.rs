//! Conformance suites for the storage and sealing ports: the contract every adapter must meet,
//! written against the traits alone, so that the embedded adapters and the AWS adapters run
//! the same checks.
//!
//! Each check is an `async fn` that takes the port as `&dyn Trait` and panics on a breach.
//! Checks make their own tenants with [`unique_tenant`], so they need no empty store and may
//! share one table. The macros below turn every check into one `#[tokio::test]`; an adapter
//! whose ports live on different types can call the functions directly instead.

pub mod credential_sealer;
pub mod key_vault;
pub mod store;

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use deptoken_shared::domain::{KeyId, ServerName, TenantId};
use deptoken_shared::error::ErrorCode;
use deptoken_shared::Lang;
use deptoken_shared::model::{
    AccountDetails, KeyRecord, KeyState, SealedCredentials, ServerRecord, Stage, TenantSettings, UploadRecord,
};
use deptoken_shared::ports::{StoreError, VaultError};

/// Returns a tenant id that no other call in this process run returns, e.g. `acme-4711-3`.
pub fn unique_tenant(label: &str) -> TenantId {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let sequence = NEXT.fetch_add(1, Ordering::Relaxed);
    tenant(&format!("{label}-{}-{sequence}", std::process::id()))
}

pub fn tenant(value: &str) -> TenantId {
    TenantId::parse(value).expect("test tenant id is valid")
}

pub fn server_name(value: &str) -> ServerName {
    ServerName::parse(value).expect("test server name is valid")
}

pub fn key_id(value: &str) -> KeyId {
    KeyId::parse(value).expect("test key id is valid")
}

/// 2025-04-01T00:00:00Z plus `seconds`: the fixed clock of the suites.
pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap() + Duration::seconds(seconds)
}

/// Builds a DEP server entry at version 1 with every optional field set, so that an adapter
/// that drops or mangles a field fails the round trip.
pub fn sample_server(tenant: &TenantId, name: &str) -> ServerRecord {
    ServerRecord {
        tenant: tenant.clone(),
        name: server_name(name),
        display_name: format!("{name} 本社"),
        note: Some("abm-admin@example.co.jp".to_owned()),
        created_at: at(0),
        expires_at: Some(at(365 * 86_400)),
        account: Some(AccountDetails {
            server_name: format!("{name} MDM"),
            server_uuid: "677cd7ee-5dc6-4ad4-b5f1-cd3d3f5b8fc1".to_owned(),
            admin_id: Some("abm-admin@example.co.jp".to_owned()),
            org_name: Some("株式会社サンプル".to_owned()),
            org_email: Some("it@example.co.jp".to_owned()),
            org_phone: Some("+81-3-0000-0000".to_owned()),
            org_address: Some("東京都千代田区".to_owned()),
            org_id: Some("1234567".to_owned()),
            org_type: Some("org".to_owned()),
        }),
        credentials: Some(SealedCredentials {
            consumer_key: "sealed-consumer-key".to_owned(),
            consumer_secret: "sealed-consumer-secret".to_owned(),
            access_token: "sealed-access-token".to_owned(),
            access_secret: "sealed-access-secret".to_owned(),
        }),
        consumer_key_fingerprint: Some("0123456789abcdef".to_owned()),
        token_key_id: Some(key_id(&format!("{name}-key-1"))),
        uploaded_at: Some(at(60)),
        uploaded_by: Some("admin@example.co.jp".to_owned()),
        last_error: Some(ErrorCode::TermsNotAccepted),
        last_checked_at: Some(at(120)),
        stage: Some(Stage::TermsNotAccepted),
        notified_stage: Some(Stage::Days30),
        countdown_stage: Some(Stage::Days30),
        stage_fingerprint: Some("0123456789abcdef".to_owned()),
        version: 1,
    }
}

/// Builds an MDM key of the entry `server` at version 1.
pub fn sample_key(tenant: &TenantId, server: &str, id: &str, state: KeyState) -> KeyRecord {
    KeyRecord {
        tenant: tenant.clone(),
        key_id: key_id(id),
        server: server_name(server),
        state,
        certificate_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_owned(),
        sealed_private_key: vec![1, 0, 255, 7, 42],
        created_at: at(0),
        version: 1,
    }
}

/// Builds an upload history row of the entry `server` at `uploaded_at`.
pub fn sample_upload(tenant: &TenantId, server: &str, uploaded_at: DateTime<Utc>) -> UploadRecord {
    UploadRecord {
        tenant: tenant.clone(),
        server: server_name(server),
        uploaded_at,
        uploaded_by: "admin@example.co.jp".to_owned(),
        expires_at: uploaded_at + Duration::days(365),
        server_uuid: "677cd7ee-5dc6-4ad4-b5f1-cd3d3f5b8fc1".to_owned(),
        server_name: format!("{server} MDM"),
        admin_id: Some("abm-admin@example.co.jp".to_owned()),
        consumer_key_fingerprint: "0123456789abcdef".to_owned(),
        note: Some("abm-admin@example.co.jp".to_owned()),
        key_id: key_id(&format!("{server}-key-1")),
    }
}

/// Builds the tenant's settings at version 1: English and Los Angeles, both unlike the defaults.
pub fn sample_settings(tenant: &TenantId) -> TenantSettings {
    TenantSettings {
        tenant: tenant.clone(),
        notification_language: Lang::En,
        time_zone: chrono_tz::America::Los_Angeles,
        version: 1,
    }
}

/// Returns the outcome of a store call as a label, to compare results whose errors are not `PartialEq`.
pub fn store_outcome<T>(result: &Result<T, StoreError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(StoreError::NotFound) => "not_found",
        Err(StoreError::AlreadyExists) => "already_exists",
        Err(StoreError::Conflict) => "conflict",
        Err(StoreError::Throttled) => "throttled",
        Err(StoreError::Corrupt(_)) => "corrupt",
        Err(StoreError::Unavailable(_)) => "unavailable",
    }
}

/// Returns whether a vault call failed with `Rejected`, the only error for a wrong context or
/// a damaged value.
pub fn is_rejected<T>(result: &Result<T, VaultError>) -> bool {
    matches!(result, Err(VaultError::Rejected))
}

/// How an adapter writes sealed bytes as credential text, for the checks that damage a sealed
/// credential byte by byte or move a sealed value from one port to the other.
#[derive(Clone, Copy)]
pub struct SealedTextCodec {
    pub encode: fn(&[u8]) -> String,
    pub decode: fn(&str) -> Option<Vec<u8>>,
}

/// What a `$make` function of the macros below returns: `(port, guard)`, or
/// `Option<(port, guard)>` for an adapter whose back end may be missing, where `None` skips
/// the test (after `$make` printed why).
pub trait Fixture {
    type Port;
    type Guard;

    fn into_option(self) -> Option<(Self::Port, Self::Guard)>;
}

impl<P, G> Fixture for (P, G) {
    type Port = P;
    type Guard = G;

    fn into_option(self) -> Option<(P, G)> {
        Some(self)
    }
}

impl<P, G> Fixture for Option<(P, G)> {
    type Port = P;
    type Guard = G;

    fn into_option(self) -> Option<(P, G)> {
        self
    }
}

/// Generates one `#[tokio::test]` per [`store`] check. `$make` is an async function that
/// returns `(store, guard)`: a fresh store of a concrete type, and a value (a temporary
/// directory, say) kept alive until the test ends. It may return an `Option` (see [`Fixture`]).
macro_rules! store_conformance_tests {
    ($make:path) => {
        $crate::conformance::store_conformance_tests!(@each $make;
            create_then_get,
            get_missing_is_none,
            create_twice_is_already_exists,
            create_stores_first_key,
            update_with_expected_version,
            update_with_stale_version_is_conflict,
            update_missing_is_conflict,
            update_without_version_step_is_conflict,
            commit_upload_writes_entry_history_and_keys,
            commit_upload_stale_version_writes_nothing,
            commit_upload_key_conflict_writes_nothing,
            commit_upload_missing_entry_is_conflict,
            list_servers_ordered_by_name,
            list_servers_returns_only_entries,
            list_servers_beyond_one_page,
            list_all_servers_spans_tenants,
            list_history_newest_first,
            list_history_only_of_its_entry,
            list_history_beyond_one_page,
            list_history_missing_entry_is_empty,
            list_keys_spans_all_entries,
            list_keys_beyond_one_page,
            delete_removes_entry_history_and_keys,
            delete_missing_is_not_found,
            delete_then_create_again,
            put_key_new_then_listed,
            put_key_new_twice_is_already_exists,
            put_key_update_with_expected_version,
            put_key_stale_version_is_conflict,
            put_key_update_missing_is_conflict,
            other_tenant_sees_nothing,
            other_tenant_writes_nothing,
            other_tenant_answers_as_missing,
            other_tenant_may_reuse_names,
            settings_missing_is_none,
            settings_create_then_get,
            settings_create_twice_is_already_exists,
            settings_update_with_expected_version,
            settings_stale_version_is_conflict,
            settings_update_missing_is_conflict,
            settings_update_without_version_step_is_conflict,
            settings_of_other_tenant_invisible,
            settings_not_listed_as_entries,
        );
    };
    (@each $make:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some((store, _guard)) = $crate::conformance::Fixture::into_option($make().await) else {
                    return;
                };

                $crate::conformance::store::$check(&store).await;
            }
        )*
    };
}
pub(crate) use store_conformance_tests;

/// Generates one `#[tokio::test]` per [`key_vault`] and [`credential_sealer`] check for a type
/// that implements both ports over the same key material. `$make` is an async function that
/// returns `(vault, guard)`; `$codec` is the adapter's [`SealedTextCodec`].
macro_rules! vault_conformance_tests {
    ($make:path, $codec:expr) => {
        $crate::conformance::vault_conformance_tests!(@vault $make;
            private_key_round_trip,
            private_key_wrong_tenant_is_rejected,
            private_key_wrong_key_id_is_rejected,
            private_key_damaged_is_rejected,
            private_key_seals_differ,
            private_key_sealed_hides_plaintext,
        );
        $crate::conformance::vault_conformance_tests!(@sealer $make;
            credential_round_trip,
            credential_wrong_tenant_is_rejected,
            credential_wrong_server_is_rejected,
            credential_garbage_is_rejected,
            credential_seals_differ,
            credential_sealed_hides_value,
        );
        $crate::conformance::vault_conformance_tests!(@codec $make, $codec;
            credential_damaged_is_rejected,
        );
        $crate::conformance::vault_conformance_tests!(@both $make, $codec;
            key_vault::private_key_not_opened_as_credential,
            credential_sealer::credential_not_opened_as_private_key,
        );
    };
    (@vault $make:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some((vault, _guard)) = $crate::conformance::Fixture::into_option($make().await) else {
                    return;
                };

                $crate::conformance::key_vault::$check(&vault).await;
            }
        )*
    };
    (@sealer $make:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some((sealer, _guard)) = $crate::conformance::Fixture::into_option($make().await) else {
                    return;
                };

                $crate::conformance::credential_sealer::$check(&sealer).await;
            }
        )*
    };
    (@codec $make:path, $codec:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some((sealer, _guard)) = $crate::conformance::Fixture::into_option($make().await) else {
                    return;
                };

                $crate::conformance::credential_sealer::$check(&sealer, $codec).await;
            }
        )*
    };
    (@both $make:path, $codec:expr; $($module:ident :: $check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some((vault, _guard)) = $crate::conformance::Fixture::into_option($make().await) else {
                    return;
                };

                $crate::conformance::$module::$check(&vault, &vault, $codec).await;
            }
        )*
    };
}
pub(crate) use vault_conformance_tests;
