//! The MDM key pairs of an entry: the certificate an admin uploads to ABM, and rotation.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{Caller, KeyId, ServerName, TenantId};
use crate::error::AppError;
use crate::keys;
use crate::model::{KeyRecord, KeyState};

use super::failure;
use super::Services;

/// The certificate to upload to ABM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateDownload {
    pub key_id: KeyId,
    pub state: KeyState,
    pub certificate_pem: String,
}

/// An MDM key pair as the API shows it: the public half only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyView {
    pub key_id: String,
    pub state: KeyState,
    pub created_at: DateTime<Utc>,
    pub certificate_pem: String,
}

impl Services {
    /// Returns the certificate ABM must encrypt the next token for: the staged key's when a
    /// rotation is pending, the current key's otherwise.
    pub async fn certificate(&self, caller: &Caller, name: &str) -> Result<CertificateDownload, AppError> {
        let name = ServerName::parse(name)?;
        self.load_server(caller, &name).await?;

        let keys = self.server_keys(&caller.tenant, &name).await?;
        let newest = |state: KeyState| {
            keys.iter()
                .filter(|k| k.state == state)
                .max_by_key(|k| k.created_at)
        };
        let key = newest(KeyState::Staged)
            .or_else(|| newest(KeyState::Current))
            .ok_or_else(|| failure::inconsistent("no current key", &caller.tenant, &name))?;

        Ok(CertificateDownload {
            key_id: key.key_id.clone(),
            state: key.state,
            certificate_pem: key.certificate_pem.clone(),
        })
    }

    /// Stages a new key pair. It becomes current when a token encrypted for it is accepted;
    /// until then the current key stays in use.
    ///
    /// At most one key is staged: rotating again retires the previously staged key and stages
    /// a fresh one. A retired key still decrypts tokens made for it, so a token for the
    /// replaced certificate is still accepted, but only the newest staged key gets promoted.
    #[tracing::instrument(skip_all, fields(tenant = %caller.tenant, server = name))]
    pub async fn rotate_key(&self, caller: &Caller, name: &str) -> Result<KeyView, AppError> {
        caller.require_write()?;
        let name = ServerName::parse(name)?;
        self.load_server(caller, &name).await?;
        let now = self.clock.now();

        let staged = self.new_key(&caller.tenant, &name, KeyState::Staged, now).await?;

        for old in self.server_keys(&caller.tenant, &name).await? {
            if old.state != KeyState::Staged {
                continue;
            }
            let retired = KeyRecord {
                state: KeyState::Retired,
                version: old.version + 1,
                ..old.clone()
            };
            self.store
                .put_key(&retired, Some(old.version))
                .await
                .map_err(|e| failure::from_store(e, "put_key", &caller.tenant, &name))?;
            tracing::info!(key_id = %old.key_id, "previously staged key retired");
        }

        self.store
            .put_key(&staged, None)
            .await
            .map_err(|e| failure::from_store(e, "put_key", &caller.tenant, &name))?;

        tracing::info!(key_id = %staged.key_id, "key staged");
        Ok(KeyView {
            key_id: staged.key_id.as_str().to_owned(),
            state: staged.state,
            created_at: staged.created_at,
            certificate_pem: staged.certificate_pem,
        })
    }

    /// Lists the tenant's keys that belong to entry `name`, in every state.
    pub(crate) async fn server_keys(&self, tenant: &TenantId, name: &ServerName) -> Result<Vec<KeyRecord>, AppError> {
        let keys = self
            .store
            .list_keys(tenant)
            .await
            .map_err(|e| failure::from_store(e, "list_keys", tenant, name))?;
        Ok(keys.into_iter().filter(|k| &k.server == name).collect())
    }

    /// Generates an RSA key pair with its certificate and seals the private key, giving a key
    /// record (version 1) ready to store.
    pub(crate) async fn new_key(
        &self,
        tenant: &TenantId,
        server: &ServerName,
        state: KeyState,
        now: DateTime<Utc>,
    ) -> Result<KeyRecord, AppError> {
        // RSA-2048 generation takes from tens of milliseconds to seconds: keep it off the
        // async worker threads.
        let task = {
            let (tenant, server) = (tenant.clone(), server.clone());
            tokio::task::spawn_blocking(move || keys::generate_mdm_key(&tenant, &server, now))
        };
        let generated = task
            .await
            .map_err(|e| failure::from_join(e, "generate_mdm_key", tenant, server))?
            .map_err(|e| failure::from_key(e, "generate_mdm_key", tenant, server))?;

        let key_id = new_key_id();
        let pkcs8 = generated
            .private_key
            .to_pkcs8_der()
            .map_err(|e| failure::from_key(e, "to_pkcs8_der", tenant, server))?;
        let sealed_private_key = self
            .vault
            .seal_private_key(tenant, &key_id, &pkcs8)
            .await
            .map_err(|e| failure::from_vault(e, "seal_private_key", tenant, server))?;

        Ok(KeyRecord {
            tenant: tenant.clone(),
            key_id,
            server: server.clone(),
            state,
            certificate_pem: generated.certificate_pem,
            sealed_private_key,
            created_at: now,
            version: 1,
        })
    }
}

/// A fresh random key id: 32 hex characters of a version 4 UUID.
fn new_key_id() -> KeyId {
    let id = uuid::Uuid::new_v4().simple().to_string();
    // A UUID in simple form is 32 hex digits, which always passes KeyId's check.
    KeyId::parse(&id).unwrap_or_else(|_| unreachable!("a simple UUID is a valid key id"))
}
