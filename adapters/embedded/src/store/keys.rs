//! The item keys of the single table. They are the same strings as the DynamoDB table's:
//! the partition key names the tenant and the sort key names the item within it.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use deptoken_shared::domain::{KeyId, ServerName, TenantId};

/// The value of the kind column, which distinguishes the item types without parsing the sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemKind {
    Server,
    Upload,
    Key,
    Subscriber,
    Settings,
}

impl ItemKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ItemKind::Server => "server",
            ItemKind::Upload => "upload",
            ItemKind::Key => "key",
            ItemKind::Subscriber => "subscriber",
            ItemKind::Settings => "settings",
        }
    }
}

/// The primary key of one item: partition key `pk` and sort key `sk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemKey {
    pub(crate) pk: String,
    pub(crate) sk: String,
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.pk, self.sk)
    }
}

pub(crate) fn partition_key(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}")
}

/// `TENANT#<tenant>` / `SERVER#<name>`: a DEP server entry.
pub(crate) fn server_key(tenant: &TenantId, name: &ServerName) -> ItemKey {
    ItemKey {
        pk: partition_key(tenant),
        sk: format!("SERVER#{name}"),
    }
}

/// `TENANT#<tenant>` / `SERVER#<name>#UPLOAD#<time>`: an upload history row.
///
/// The time is RFC 3339 in UTC with exactly nine fractional digits, so that the byte order of
/// the sort keys is the time order (a variable width would sort `10:00:00Z` after
/// `10:00:00.5Z`, because `Z` > `.`).
pub(crate) fn history_key(tenant: &TenantId, name: &ServerName, uploaded_at: DateTime<Utc>) -> ItemKey {
    let time = uploaded_at.to_rfc3339_opts(SecondsFormat::Nanos, true);
    ItemKey {
        pk: partition_key(tenant),
        sk: format!("{}{time}", history_prefix(name)),
    }
}

/// Returns the sort key prefix shared by every history row of one entry. Server names cannot contain
/// `#`, so the prefix of one entry is never a prefix of another entry's rows.
pub(crate) fn history_prefix(name: &ServerName) -> String {
    format!("SERVER#{name}#UPLOAD#")
}

/// `TENANT#<tenant>` / `KEY#<key id>`: an MDM key pair.
pub(crate) fn key_key(tenant: &TenantId, key_id: &KeyId) -> ItemKey {
    ItemKey {
        pk: partition_key(tenant),
        sk: format!("KEY#{key_id}"),
    }
}

pub(crate) const KEY_PREFIX: &str = "KEY#";

/// `TENANT#<tenant>` / `SETTINGS`: the tenant's settings.
pub(crate) fn settings_key(tenant: &TenantId) -> ItemKey {
    ItemKey {
        pk: partition_key(tenant),
        sk: "SETTINGS".to_owned(),
    }
}

/// Returns the exclusive upper bound of the sort keys that start with `prefix`, for a range
/// query `prefix <= sk < end`. A range is used instead of `LIKE` because `_`, which names may
/// contain, is a `LIKE` wildcard.
///
/// SQLite compares text bytewise, and every key built here is ASCII, so no key that starts
/// with `prefix` reaches the highest code point appended here.
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10ffff}")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn tenant() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    fn server() -> ServerName {
        ServerName::parse("tokyo").unwrap()
    }

    #[test]
    fn server_key_matches_table_shape() {
        let key = server_key(&tenant(), &server());

        assert_eq!(key.pk, "TENANT#acme");
        assert_eq!(key.sk, "SERVER#tokyo");
    }

    #[test]
    fn history_key_has_fixed_width_nanoseconds() {
        let at = Utc.with_ymd_and_hms(2025, 4, 1, 10, 0, 0).unwrap();

        let key = history_key(&tenant(), &server(), at);

        assert_eq!(key.sk, "SERVER#tokyo#UPLOAD#2025-04-01T10:00:00.000000000Z");
    }

    #[test]
    fn history_keys_sort_in_time_order() {
        let whole = Utc.with_ymd_and_hms(2025, 4, 1, 10, 0, 0).unwrap();
        let later = whole + chrono::Duration::milliseconds(500);

        let earlier_key = history_key(&tenant(), &server(), whole);
        let later_key = history_key(&tenant(), &server(), later);

        assert!(earlier_key.sk < later_key.sk);
    }

    #[test]
    fn key_key_matches_table_shape() {
        let key = key_key(&tenant(), &KeyId::parse("k1").unwrap());

        assert_eq!(key.sk, "KEY#k1");
    }

    #[test]
    fn prefix_end_bounds_rows_of_the_entry() {
        let prefix = history_prefix(&server());

        let end = prefix_end(&prefix);

        assert!(format!("{prefix}9999-12-31T23:59:59.999999999Z") < end);
    }

    #[test]
    fn prefix_end_excludes_longer_names() {
        let end = prefix_end(&history_prefix(&server()));

        let other = history_prefix(&ServerName::parse("tokyo-2").unwrap());

        assert!(other > end);
    }
}
