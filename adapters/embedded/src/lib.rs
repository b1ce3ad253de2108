//! The embedded adapters of the local runner: the ports of `deptoken-shared` implemented
//! with an SQLite file, a local master key file and an outbox file, so that the whole
//! service runs as one process without an AWS account.
//!
//! - [`SqliteStore`] keeps the DynamoDB single-table shape in one SQLite table.
//! - [`LocalKeyVault`] seals MDM private keys and token credentials with AES-256-GCM under a
//!   master key read from `master.key`.
//! - [`OutboxNotifier`] appends each notification to a JSON lines file and logs it.

mod outbox;
mod store;
mod vault;

pub use outbox::{OutboxNotifier, OutboxOpenError};
pub use store::{DEFAULT_BUSY_TIMEOUT, SqliteStore, StoreOpenError};
pub use vault::{LocalKeyVault, VaultOpenError};
