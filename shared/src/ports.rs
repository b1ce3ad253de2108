//! The ports the use cases need. Each is a small trait for one capability; adapters implement
//! them (SQLite, local key file and outbox for the local runner; DynamoDB, KMS and SNS on AWS).
//! Every adapter must pass the same conformance suite.

use async_trait::async_trait;

use crate::dep::DepError;
use crate::domain::{KeyId, ServerName, TenantId};
use crate::model::{AccountDetails, KeyRecord, ServerRecord, TenantSettings, UploadRecord};
use crate::secret::{SecretBytes, SecretText};
use crate::subscriber::{Contact, Subscriber, SubscriberId};
use crate::token::TokenCredentials;

/// Errors of the store. `Conflict` and `Throttled` are the only retryable kinds.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("item not found")]
    NotFound,
    #[error("item already exists")]
    AlreadyExists,
    /// A conditional write found another version than expected (or no item).
    #[error("conditional write failed: the item changed or was removed")]
    Conflict,
    #[error("store throttled the request")]
    Throttled,
    #[error("stored item is invalid: {0}")]
    Corrupt(String),
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The table of DEP server entries, upload history rows, MDM keys and tenant settings.
///
/// Every method is scoped by the tenant: an item of another tenant is `None` or `NotFound`,
/// exactly as a missing one. Listings return every item, however many pages the back end needs.
#[async_trait]
pub trait Store: Send + Sync {
    /// Returns the entry, or `None` when it does not exist.
    async fn get_server(&self, tenant: &TenantId, name: &ServerName) -> Result<Option<ServerRecord>, StoreError>;

    /// Lists every entry of the tenant, ordered by name.
    async fn list_servers(&self, tenant: &TenantId) -> Result<Vec<ServerRecord>, StoreError>;

    /// Creates an entry (whose `version` is 1) and its first key in one transaction.
    /// `AlreadyExists` when the entry exists.
    async fn create_server(&self, server: &ServerRecord, first_key: &KeyRecord) -> Result<(), StoreError>;

    /// Replaces the entry with `server`, whose `version` must be `expected_version + 1`, only
    /// when the stored version is `expected_version`. `Conflict` otherwise, also when the entry is gone.
    async fn update_server(&self, server: &ServerRecord, expected_version: u64) -> Result<(), StoreError>;

    /// Stores an accepted upload in one transaction: the entry (conditional as in
    /// [`Store::update_server`]), the history row, and the key state changes (each `KeyRecord`
    /// whose `version` is one more than the stored one). Nothing is written on any failure.
    async fn commit_upload(
        &self,
        server: &ServerRecord,
        expected_version: u64,
        history: &UploadRecord,
        key_changes: &[KeyRecord],
    ) -> Result<(), StoreError>;

    /// Deletes the entry, its history and its keys. `NotFound` when the entry does not exist.
    async fn delete_server(&self, tenant: &TenantId, name: &ServerName) -> Result<(), StoreError>;

    /// Lists the entry's upload history, newest first.
    async fn list_history(&self, tenant: &TenantId, name: &ServerName) -> Result<Vec<UploadRecord>, StoreError>;

    /// Lists every MDM key of the tenant (all servers, all states).
    async fn list_keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError>;

    /// Writes a key. With `expected_version: None` the key must not exist (`AlreadyExists`);
    /// otherwise the stored version must match (`Conflict`), and `key.version` is one more.
    async fn put_key(&self, key: &KeyRecord, expected_version: Option<u64>) -> Result<(), StoreError>;

    /// Lists every DEP server entry of every tenant, in no particular order, for the sweep.
    ///
    /// The outer error means the listing failed as a whole. An item that cannot be read is an
    /// inner error (`Corrupt`) in its place, so that one bad item does not hide the others.
    /// The listing may lag behind the latest writes (an eventually consistent index), so
    /// callers write back only conditionally on the version they read.
    async fn list_all_servers(&self) -> Result<Vec<Result<ServerRecord, StoreError>>, StoreError>;

    /// Returns the tenant's settings, or `None` when the tenant has stored none.
    async fn get_settings(&self, tenant: &TenantId) -> Result<Option<TenantSettings>, StoreError>;

    /// Writes the tenant's settings. With `expected_version: None` the item must not exist
    /// (`AlreadyExists`). Otherwise the stored version must match (`Conflict`, also when the
    /// item is missing), and `settings.version` is one more.
    async fn put_settings(&self, settings: &TenantSettings, expected_version: Option<u64>) -> Result<(), StoreError>;
}

/// Errors of the key vault and the credential sealer. A wrong tenant, key id or server in the
/// context makes `open` fail with `Rejected`, never return another item's secret.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("sealed value rejected: wrong context or corrupted ciphertext")]
    Rejected,
    #[error("vault throttled the request")]
    Throttled,
    #[error("vault unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Seals MDM private keys for storage (KMS with context tenant, key id and purpose on AWS).
#[async_trait]
pub trait KeyVault: Send + Sync {
    async fn seal_private_key(&self, tenant: &TenantId, key_id: &KeyId, pkcs8_der: &SecretBytes) -> Result<Vec<u8>, VaultError>;

    async fn open_private_key(&self, tenant: &TenantId, key_id: &KeyId, sealed: &[u8]) -> Result<SecretBytes, VaultError>;
}

/// Seals token credential values field by field (KMS with context tenant and server on AWS).
#[async_trait]
pub trait CredentialSealer: Send + Sync {
    async fn seal(&self, tenant: &TenantId, server: &ServerName, value: &SecretText) -> Result<String, VaultError>;

    async fn open(&self, tenant: &TenantId, server: &ServerName, sealed: &str) -> Result<SecretText, VaultError>;
}

/// Apple's DEP API as far as deptoken uses it.
#[async_trait]
pub trait DepApi: Send + Sync {
    /// Opens a DEP session with the token's credentials and reads `GET /account`.
    async fn fetch_account(&self, credentials: &TokenCredentials) -> Result<AccountDetails, DepError>;
}

/// A message for the tenant's notification recipients.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    pub tenant: TenantId,
    pub server: ServerName,
    /// Stable kind, such as `renewed`.
    pub kind: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    pub subject: String,
    pub body: String,
    pub sms: String,
}

/// Delivers notifications (SNS on AWS, the outbox file locally).
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn publish(&self, notification: &Notification) -> Result<(), NotifyError>;
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notification could not be delivered")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Errors of the subscriber directory. `Throttled` is the only retryable kind.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberError {
    #[error("subscriber not found")]
    NotFound,
    /// The address is subscribed already with other settings; on SNS, by another tenant,
    /// because one topic holds each protocol and address once.
    #[error("the address is already subscribed with other settings")]
    AlreadyExists,
    /// The delivery service rejected an address that passed [`Contact`] validation, such as
    /// a phone number in a country it cannot send SMS to.
    #[error("the delivery service rejected the address: {0}")]
    Rejected(String),
    #[error("subscriber directory throttled the request")]
    Throttled,
    #[error("subscriber directory unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The recipients of each tenant's notifications: SNS e-mail and SMS subscriptions with a
/// `tenant_id` filter policy on AWS, items in the SQLite store locally (where the outbox is
/// the delivery).
///
/// Every method is scoped by the tenant: another tenant's subscriber is `NotFound`, exactly
/// as a missing one. Log lines name subscribers by id and protocol, never by address.
#[async_trait]
pub trait Subscribers: Send + Sync {
    /// Lists the tenant's subscribers, ordered by protocol and address.
    async fn list_subscribers(&self, tenant: &TenantId) -> Result<Vec<Subscriber>, SubscriberError>;

    /// Subscribes `contact` to the tenant's notifications and returns the subscriber. When the
    /// tenant has this contact already, returns the existing subscriber.
    async fn add_subscriber(&self, tenant: &TenantId, contact: &Contact) -> Result<Subscriber, SubscriberError>;

    /// Removes the tenant's subscriber `id`. `NotFound` when the tenant has no subscriber with it.
    async fn remove_subscriber(&self, tenant: &TenantId, id: &SubscriberId) -> Result<(), SubscriberError>;
}
