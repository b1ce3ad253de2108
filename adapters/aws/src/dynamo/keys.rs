//! The key attributes of the single table, built only from validated identifiers.
//!
//! | item | `pk` | `sk` |
//! |---|---|---|
//! | DEP server entry | `TENANT#<tenant>` | `SERVER#<name>` |
//! | upload history row | `TENANT#<tenant>` | `SERVER#<name>#UPLOAD#<uploaded_at>` |
//! | MDM key | `TENANT#<tenant>` | `KEY#<key id>` |
//! | tenant settings | `TENANT#<tenant>` | `SETTINGS` |
//!
//! Identifiers cannot contain `#`, so no prefix of one item's `sk` is another's by accident.

use chrono::{DateTime, SecondsFormat, Utc};
use deptoken_shared::domain::{KeyId, ServerName, TenantId};
use sha2::{Digest, Sha256};

pub(crate) const PK: &str = "pk";
pub(crate) const SK: &str = "sk";
pub(crate) const KIND: &str = "kind";
pub(crate) const VERSION: &str = "version";
/// The partition key of the sweep index, set on DEP server entries only.
pub(crate) const SWEEP_SHARD: &str = "sweep_shard";

/// The sparse global secondary index over DEP server entries (`sweep_shard`, `pk`).
pub const SWEEP_INDEX: &str = "sweep";

/// Number of distinct `sweep_shard` values. Entries of one tenant spread over all of them, so
/// the segments of a parallel Scan share the work even when one tenant has most entries.
pub const SWEEP_SHARDS: u32 = 64;

pub(crate) fn partition_key(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}")
}

pub(crate) const SERVER_PREFIX: &str = "SERVER#";
pub(crate) const KEY_PREFIX: &str = "KEY#";

pub(crate) fn server_sort_key(name: &ServerName) -> String {
    format!("{SERVER_PREFIX}{name}")
}

/// Returns the sort key prefix shared by every history row of one entry.
pub(crate) fn history_prefix(name: &ServerName) -> String {
    format!("{SERVER_PREFIX}{name}#UPLOAD#")
}

/// Builds the history row's sort key. The time has a fixed width (nanoseconds, `Z`), so the
/// lexicographic order of sort keys is the chronological order for years 0 to 9999.
pub(crate) fn history_sort_key(name: &ServerName, uploaded_at: &DateTime<Utc>) -> String {
    let time = uploaded_at.to_rfc3339_opts(SecondsFormat::Nanos, true);
    format!("{}{time}", history_prefix(name))
}

/// The sort key of the tenant's settings item.
pub(crate) const SETTINGS_SORT_KEY: &str = "SETTINGS";

pub(crate) fn key_sort_key(key_id: &KeyId) -> String {
    format!("{KEY_PREFIX}{key_id}")
}

/// Computes a stable shard number in `0..SWEEP_SHARDS` for an entry (SHA-256 of tenant and name, so it
/// never changes between releases or processes).
pub(crate) fn sweep_shard(tenant: &TenantId, name: &ServerName) -> u32 {
    let digest = Sha256::new()
        .chain_update(tenant.as_str())
        .chain_update(b"#")
        .chain_update(name.as_str())
        .finalize();
    let prefix = [digest[0], digest[1], digest[2], digest[3]];
    u32::from_be_bytes(prefix) % SWEEP_SHARDS
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn name(value: &str) -> ServerName {
        ServerName::parse(value).expect("valid name")
    }

    #[test]
    fn history_sort_key_has_fixed_width() {
        let whole = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
        let fraction = whole + chrono::Duration::nanoseconds(1_500);

        let keys = [history_sort_key(&name("a"), &whole), history_sort_key(&name("a"), &fraction)];

        assert_eq!(keys[0], "SERVER#a#UPLOAD#2025-01-02T03:04:05.000000000Z");
        assert_eq!(keys[1], "SERVER#a#UPLOAD#2025-01-02T03:04:05.000001500Z");
    }

    #[test]
    fn history_sort_keys_order_chronologically() {
        let earlier = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::nanoseconds(900_000_000);
        let later = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 6).unwrap();

        let ordered = history_sort_key(&name("a"), &earlier) < history_sort_key(&name("a"), &later);

        assert!(ordered);
    }

    #[test]
    fn history_prefix_excludes_longer_names() {
        let prefix = history_prefix(&name("tokyo"));

        let other = server_sort_key(&name("tokyo-2"));

        assert!(!other.starts_with(&prefix));
    }

    #[test]
    fn sweep_shard_is_stable_and_bounded() {
        let tenant = TenantId::parse("acme").expect("valid tenant");

        let shards: Vec<u32> = (0..200).map(|i| sweep_shard(&tenant, &name(&format!("server-{i}")))).collect();

        assert!(shards.iter().all(|s| *s < SWEEP_SHARDS));
        assert_eq!(shards[0], sweep_shard(&tenant, &name("server-0")));
        let distinct: std::collections::HashSet<_> = shards.iter().collect();
        assert!(distinct.len() > (SWEEP_SHARDS as usize) / 2, "only {} shards used", distinct.len());
    }
}
