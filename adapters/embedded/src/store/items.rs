//! Row-level operations on the `items` table, shared by the port methods. Each takes a
//! connection (or a transaction, which dereferences to one) and maps SQLite errors to
//! [`StoreError`].

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use deptoken_shared::model::{KeyRecord, ServerRecord, TenantSettings};
use deptoken_shared::ports::StoreError;

use super::keys::{ItemKey, ItemKind, prefix_end};

/// The table and the partial index over DEP server entries (the counterpart of the DynamoDB
/// table's sparse index, which the sweep reads).
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_servers ON items (pk, sk) WHERE kind = 'server';
";

/// One stored row: its key, the version column and the JSON body.
pub(crate) struct Row {
    pub(crate) key: ItemKey,
    pub(crate) version: i64,
    pub(crate) body: String,
}

/// Sort order of a listing by sort key.
#[derive(Clone, Copy)]
pub(crate) enum Order {
    Ascending,
    Descending,
}

/// Maps an SQLite error. A locked database is `Throttled`, so the caller may retry: another
/// process held the write lock for longer than the busy timeout. Everything else is `Unavailable`.
pub(crate) fn sqlite_error(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => StoreError::Throttled,
        _ => StoreError::Unavailable(Box::new(error)),
    }
}

/// Converts a version to the INTEGER column type. A version beyond `i64::MAX` cannot be
/// stored, so no stored item can match it: a conflict.
pub(crate) fn sql_version(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(|_| StoreError::Conflict)
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Unavailable(Box::new(error)))
}

/// Decodes a body. The error names the item and where the JSON is invalid, but quotes none of
/// the body, because serde's messages may contain the offending value.
pub(crate) fn decode<T: DeserializeOwned>(row: &Row) -> Result<T, StoreError> {
    serde_json::from_str(&row.body).map_err(|error| {
        StoreError::Corrupt(format!(
            "{}: invalid JSON body ({:?} error at line {}, column {})",
            row.key,
            error.classify(),
            error.line(),
            error.column()
        ))
    })
}

/// Checks that the version inside the body equals the version column, which conditional
/// writes compare against. A mismatch would make every later write of the item conflict.
fn check_version(row: &Row, body_version: u64) -> Result<(), StoreError> {
    if i64::try_from(body_version).is_ok_and(|version| version == row.version) {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!(
            "{}: version column {} differs from the body's version {body_version}",
            row.key, row.version
        )))
    }
}

pub(crate) fn decode_server(row: &Row) -> Result<ServerRecord, StoreError> {
    let record: ServerRecord = decode(row)?;
    check_version(row, record.version)?;
    Ok(record)
}

pub(crate) fn decode_key(row: &Row) -> Result<KeyRecord, StoreError> {
    let record: KeyRecord = decode(row)?;
    check_version(row, record.version)?;
    Ok(record)
}

pub(crate) fn decode_settings(row: &Row) -> Result<TenantSettings, StoreError> {
    let settings: TenantSettings = decode(row)?;
    check_version(row, settings.version)?;
    Ok(settings)
}

pub(crate) fn get(conn: &Connection, key: &ItemKey) -> Result<Option<Row>, StoreError> {
    conn.query_row(
        "SELECT version, body FROM items WHERE pk = ?1 AND sk = ?2",
        params![key.pk, key.sk],
        |row| {
            Ok(Row {
                key: key.clone(),
                version: row.get(0)?,
                body: row.get(1)?,
            })
        },
    )
    .optional()
    .map_err(sqlite_error)
}

/// Inserts an item that must not exist yet. Returns `false`, writing nothing, when it exists.
pub(crate) fn insert_new(conn: &Connection, key: &ItemKey, kind: ItemKind, version: u64, body: &str) -> Result<bool, StoreError> {
    let inserted = conn
        .execute(
            "INSERT INTO items (pk, sk, kind, version, body) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (pk, sk) DO NOTHING",
            params![key.pk, key.sk, kind.as_str(), sql_version(version)?, body],
        )
        .map_err(sqlite_error)?;
    Ok(inserted == 1)
}

/// Replaces an item whose stored version is `expected`, giving it version `expected + 1`.
/// Returns `false`, writing nothing, when the item is missing or has another version.
pub(crate) fn update_versioned(conn: &Connection, key: &ItemKey, expected: u64, body: &str) -> Result<bool, StoreError> {
    let next = expected.checked_add(1).ok_or(StoreError::Conflict)?;
    let updated = conn
        .execute(
            "UPDATE items SET version = ?3, body = ?4 WHERE pk = ?1 AND sk = ?2 AND version = ?5",
            params![key.pk, key.sk, sql_version(next)?, body, sql_version(expected)?],
        )
        .map_err(sqlite_error)?;
    Ok(updated == 1)
}

/// Lists the items of one kind in one partition whose sort key starts with `prefix`.
pub(crate) fn list(conn: &Connection, pk: &str, kind: ItemKind, prefix: &str, order: Order) -> Result<Vec<Row>, StoreError> {
    let sql = match order {
        Order::Ascending => {
            "SELECT sk, version, body FROM items
             WHERE pk = ?1 AND kind = ?2 AND sk >= ?3 AND sk < ?4 ORDER BY sk ASC"
        }
        Order::Descending => {
            "SELECT sk, version, body FROM items
             WHERE pk = ?1 AND kind = ?2 AND sk >= ?3 AND sk < ?4 ORDER BY sk DESC"
        }
    };
    let mut statement = conn.prepare_cached(sql).map_err(sqlite_error)?;
    let rows = statement
        .query_map(params![pk, kind.as_str(), prefix, prefix_end(prefix)], |row| {
            Ok(Row {
                key: ItemKey {
                    pk: pk.to_owned(),
                    sk: row.get(0)?,
                },
                version: row.get(1)?,
                body: row.get(2)?,
            })
        })
        .map_err(sqlite_error)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sqlite_error)
}

/// Lists the DEP server entries of all tenants, ordered by partition and sort key. The kind
/// is a literal in the query so that SQLite can read the partial index `items_servers`.
pub(crate) fn list_all_servers(conn: &Connection) -> Result<Vec<Row>, StoreError> {
    let mut statement = conn
        .prepare_cached("SELECT pk, sk, version, body FROM items WHERE kind = 'server' ORDER BY pk, sk")
        .map_err(sqlite_error)?;
    let rows = statement
        .query_map([], |row| {
            Ok(Row {
                key: ItemKey {
                    pk: row.get(0)?,
                    sk: row.get(1)?,
                },
                version: row.get(2)?,
                body: row.get(3)?,
            })
        })
        .map_err(sqlite_error)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sqlite_error)
}

/// Deletes one item. Returns whether it existed.
pub(crate) fn delete(conn: &Connection, key: &ItemKey) -> Result<bool, StoreError> {
    let deleted = conn
        .execute("DELETE FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk])
        .map_err(sqlite_error)?;
    Ok(deleted == 1)
}

/// Deletes every item in one partition whose sort key starts with `prefix`.
pub(crate) fn delete_prefix(conn: &Connection, pk: &str, prefix: &str) -> Result<usize, StoreError> {
    conn.execute(
        "DELETE FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?3",
        params![pk, prefix, prefix_end(prefix)],
    )
    .map_err(sqlite_error)
}
