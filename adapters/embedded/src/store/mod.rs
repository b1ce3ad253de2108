//! [`SqliteStore`]: the [`Store`](deptoken_shared::ports::Store) port on one SQLite file.
//!
//! The table keeps the DynamoDB single-table shape: `items(pk, sk, kind, version, body)`,
//! with the same keys as the DynamoDB table and the model struct as JSON in `body`. Every
//! write is conditional on the `version` column, and the multi-item writes run in one
//! `BEGIN IMMEDIATE` transaction, so a failed condition writes nothing.

mod items;
mod keys;
mod port;
mod subscribers;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use deptoken_shared::model::ServerRecord;
use deptoken_shared::ports::StoreError;

use items::{SCHEMA, decode_server, sqlite_error};

/// How long a write waits for another process's write lock (say, `deptoken sweep` while
/// `deptoken serve` runs) before the call fails with `Throttled`.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema version recorded in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

/// Errors of opening the store file.
#[derive(Debug, thiserror::Error)]
pub enum StoreOpenError {
    #[error("cannot create the store file {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the SQLite store {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the SQLite store {path} has schema version {found}, but this build reads version {SCHEMA_VERSION}")]
    SchemaVersion { path: PathBuf, found: i64 },
}

/// The store of the local runner: one SQLite connection behind a mutex.
///
/// rusqlite is synchronous, so every call runs on Tokio's blocking thread pool.
///
/// NOTE: one connection serialises reads as well as writes. That is ample for one admin page
/// and a daily sweep; a busier deployment uses the DynamoDB store.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    /// The file, or `None` for an in-memory store; only for `Debug` and logs.
    path: Option<PathBuf>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store file at `path`, creating it with mode 0600 and the schema when missing.
    /// The parent directory must exist. Uses write-ahead logging, so `<path>-wal` and
    /// `<path>-shm` appear beside it (SQLite gives them the file's permissions).
    pub fn open(path: &Path) -> Result<Self, StoreOpenError> {
        Self::open_with_busy_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// Opens the store file as [`SqliteStore::open`] does, waiting at most `busy_timeout` for
    /// another process's write lock before a call fails with `Throttled`.
    pub fn open_with_busy_timeout(path: &Path, busy_timeout: Duration) -> Result<Self, StoreOpenError> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| StoreOpenError::Create {
                path: path.to_owned(),
                source,
            })?;

        let connection = Connection::open(path).map_err(|source| StoreOpenError::Open {
            path: path.to_owned(),
            source,
        })?;
        let store = Self::prepare(connection, Some(path.to_owned()), busy_timeout)?;
        tracing::info!(path = %path.display(), "opened the SQLite store");
        Ok(store)
    }

    /// Opens an empty store that lives in memory until dropped, for tests.
    pub fn in_memory() -> Result<Self, StoreOpenError> {
        let connection = Connection::open_in_memory().map_err(|source| StoreOpenError::Open {
            path: PathBuf::from(":memory:"),
            source,
        })?;
        Self::prepare(connection, None, DEFAULT_BUSY_TIMEOUT)
    }

    fn prepare(connection: Connection, path: Option<PathBuf>, busy_timeout: Duration) -> Result<Self, StoreOpenError> {
        let shown_path = path.clone().unwrap_or_else(|| PathBuf::from(":memory:"));
        let open_error = |source| StoreOpenError::Open {
            path: shown_path.clone(),
            source,
        };

        connection.busy_timeout(busy_timeout).map_err(open_error)?;
        // An in-memory database reports `memory` here and keeps that journal mode, as expected.
        let _mode: String = connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_error)?;

        let found: i64 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(open_error)?;
        if found > SCHEMA_VERSION {
            return Err(StoreOpenError::SchemaVersion {
                path: shown_path,
                found,
            });
        }
        connection.execute_batch(SCHEMA).map_err(open_error)?;
        connection
            .pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(open_error)?;

        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            path,
        })
    }

    /// Lists the DEP server entries of every tenant, ordered by tenant and name, for the sweep.
    ///
    /// An entry whose body cannot be read is an `Err` in its place, so that one bad item does
    /// not hide the others. The outer error is a failure of the whole read.
    pub async fn list_all_servers(&self) -> Result<Vec<Result<ServerRecord, StoreError>>, StoreError> {
        self.run(|connection| {
            let rows = items::list_all_servers(connection)?;
            Ok(rows.iter().map(decode_server).collect())
        })
        .await
    }

    /// Runs `operation` with the connection on the blocking thread pool.
    async fn run<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic while the lock was held cannot leave a half-done write behind: an
            // unfinished transaction rolls back when it is dropped during unwinding.
            let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            operation(&mut connection)
        })
        .await
        .map_err(|error| StoreError::Unavailable(Box::new(error)))?
    }
}

/// Runs `body` in a `BEGIN IMMEDIATE` transaction, which takes the write lock up front, and
/// commits only when `body` succeeds. On an error the transaction is dropped, which rolls it back.
fn in_transaction<T>(
    connection: &mut Connection,
    body: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite_error)?;
    let value = body(&transaction)?;
    transaction.commit().map_err(sqlite_error)?;
    Ok(value)
}
