//! Test stores that change one or two [`Store`] methods of a real store and pass every other
//! call through, without each test writing out the whole trait.

use std::ops::Deref;

use async_trait::async_trait;
use deptoken_shared::domain::{ServerName, TenantId};
use deptoken_shared::model::{KeyRecord, ServerRecord, TenantSettings, UploadRecord};
use deptoken_shared::ports::{Store, StoreError};

/// The methods of [`Store`], each passing the call through to [`StoreOverride::inner`] unless
/// the implementing test type overrides it. [`Overridden`] makes such a type a [`Store`].
#[async_trait]
pub trait StoreOverride: Send + Sync {
    /// Returns the real store that receives every call the test does not override.
    fn inner(&self) -> &dyn Store;

    async fn get_server(&self, tenant: &TenantId, name: &ServerName) -> Result<Option<ServerRecord>, StoreError> {
        self.inner().get_server(tenant, name).await
    }

    async fn list_servers(&self, tenant: &TenantId) -> Result<Vec<ServerRecord>, StoreError> {
        self.inner().list_servers(tenant).await
    }

    async fn create_server(&self, server: &ServerRecord, first_key: &KeyRecord) -> Result<(), StoreError> {
        self.inner().create_server(server, first_key).await
    }

    async fn update_server(&self, server: &ServerRecord, expected_version: u64) -> Result<(), StoreError> {
        self.inner().update_server(server, expected_version).await
    }

    async fn commit_upload(
        &self,
        server: &ServerRecord,
        expected_version: u64,
        history: &UploadRecord,
        key_changes: &[KeyRecord],
    ) -> Result<(), StoreError> {
        self.inner().commit_upload(server, expected_version, history, key_changes).await
    }

    async fn delete_server(&self, tenant: &TenantId, name: &ServerName) -> Result<(), StoreError> {
        self.inner().delete_server(tenant, name).await
    }

    async fn list_history(&self, tenant: &TenantId, name: &ServerName) -> Result<Vec<UploadRecord>, StoreError> {
        self.inner().list_history(tenant, name).await
    }

    async fn list_keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError> {
        self.inner().list_keys(tenant).await
    }

    async fn put_key(&self, key: &KeyRecord, expected_version: Option<u64>) -> Result<(), StoreError> {
        self.inner().put_key(key, expected_version).await
    }

    async fn list_all_servers(&self) -> Result<Vec<Result<ServerRecord, StoreError>>, StoreError> {
        self.inner().list_all_servers().await
    }

    async fn get_settings(&self, tenant: &TenantId) -> Result<Option<TenantSettings>, StoreError> {
        self.inner().get_settings(tenant).await
    }

    async fn put_settings(&self, settings: &TenantSettings, expected_version: Option<u64>) -> Result<(), StoreError> {
        self.inner().put_settings(settings, expected_version).await
    }
}

/// A [`StoreOverride`] used as a [`Store`]. It dereferences to the test type, so that a test
/// can still reach the fields it steers the overrides with.
pub struct Overridden<T>(pub T);

impl<T> Deref for Overridden<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

#[async_trait]
impl<T: StoreOverride> Store for Overridden<T> {
    async fn get_server(&self, tenant: &TenantId, name: &ServerName) -> Result<Option<ServerRecord>, StoreError> {
        self.0.get_server(tenant, name).await
    }

    async fn list_servers(&self, tenant: &TenantId) -> Result<Vec<ServerRecord>, StoreError> {
        self.0.list_servers(tenant).await
    }

    async fn create_server(&self, server: &ServerRecord, first_key: &KeyRecord) -> Result<(), StoreError> {
        self.0.create_server(server, first_key).await
    }

    async fn update_server(&self, server: &ServerRecord, expected_version: u64) -> Result<(), StoreError> {
        self.0.update_server(server, expected_version).await
    }

    async fn commit_upload(
        &self,
        server: &ServerRecord,
        expected_version: u64,
        history: &UploadRecord,
        key_changes: &[KeyRecord],
    ) -> Result<(), StoreError> {
        self.0.commit_upload(server, expected_version, history, key_changes).await
    }

    async fn delete_server(&self, tenant: &TenantId, name: &ServerName) -> Result<(), StoreError> {
        self.0.delete_server(tenant, name).await
    }

    async fn list_history(&self, tenant: &TenantId, name: &ServerName) -> Result<Vec<UploadRecord>, StoreError> {
        self.0.list_history(tenant, name).await
    }

    async fn list_keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError> {
        self.0.list_keys(tenant).await
    }

    async fn put_key(&self, key: &KeyRecord, expected_version: Option<u64>) -> Result<(), StoreError> {
        self.0.put_key(key, expected_version).await
    }

    async fn list_all_servers(&self) -> Result<Vec<Result<ServerRecord, StoreError>>, StoreError> {
        self.0.list_all_servers().await
    }

    async fn get_settings(&self, tenant: &TenantId) -> Result<Option<TenantSettings>, StoreError> {
        self.0.get_settings(tenant).await
    }

    async fn put_settings(&self, settings: &TenantSettings, expected_version: Option<u64>) -> Result<(), StoreError> {
        self.0.put_settings(settings, expected_version).await
    }
}
