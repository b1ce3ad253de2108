//! [`LocalKeyVault`]: the [`KeyVault`] and [`CredentialSealer`] ports of the local runner,
//! sealing with AES-256-GCM under a master key kept in a file.

mod envelope;
mod master_key;

use std::fmt;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Key, KeyInit};
use aes_gcm::Aes256Gcm;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use deptoken_shared::domain::{KeyId, ServerName, TenantId};
use deptoken_shared::ports::{CredentialSealer, KeyVault, VaultError};
use deptoken_shared::secret::{SecretBytes, SecretText};

use envelope::{Purpose, SealContext};
pub use master_key::VaultOpenError;

/// The master key's file name inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";

/// Seals MDM private keys and token credentials under a local master key.
///
/// Private keys are sealed with the context (purpose `mdm-private-key`, tenant, key id) and
/// credentials with (purpose `token-credential`, tenant, server), so a sealed value opens only
/// for the item it was sealed for. Credentials are returned as standard base64 text.
///
/// Losing `master.key` loses every sealed value: the tokens must then be uploaded again and
/// the MDM keys made anew.
pub struct LocalKeyVault {
    /// The AES key schedule; the `zeroize` feature of `aes-gcm` wipes it on drop.
    cipher: Aes256Gcm,
    key_path: PathBuf,
}

impl fmt::Debug for LocalKeyVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeyVault")
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

impl LocalKeyVault {
    /// Opens the vault with `dir/master.key`, creating that file with a random key and mode
    /// 0600 when it is missing. Fails when the file is accessible by group or others, or is
    /// not exactly 32 bytes long. The directory must exist.
    pub fn open(dir: &Path) -> Result<Self, VaultOpenError> {
        let key_path = dir.join(MASTER_KEY_FILE);
        let master_key = master_key::load_or_create(&key_path)?;

        let key: &Key<Aes256Gcm> = (&*master_key).into();
        let cipher = Aes256Gcm::new(key);
        drop(master_key);

        Ok(Self { cipher, key_path })
    }

    /// Returns the master key file in use.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }
}

fn private_key_context<'a>(tenant: &'a TenantId, key_id: &'a KeyId) -> SealContext<'a> {
    SealContext {
        purpose: Purpose::MdmPrivateKey,
        tenant: tenant.as_str(),
        subject: key_id.as_str(),
    }
}

fn credential_context<'a>(tenant: &'a TenantId, server: &'a ServerName) -> SealContext<'a> {
    SealContext {
        purpose: Purpose::TokenCredential,
        tenant: tenant.as_str(),
        subject: server.as_str(),
    }
}

#[async_trait]
impl KeyVault for LocalKeyVault {
    async fn seal_private_key(&self, tenant: &TenantId, key_id: &KeyId, pkcs8_der: &SecretBytes) -> Result<Vec<u8>, VaultError> {
        envelope::seal(&self.cipher, private_key_context(tenant, key_id), pkcs8_der.expose())
    }

    async fn open_private_key(&self, tenant: &TenantId, key_id: &KeyId, sealed: &[u8]) -> Result<SecretBytes, VaultError> {
        let plaintext = envelope::open(&self.cipher, private_key_context(tenant, key_id), sealed)?;
        Ok(SecretBytes::new(plaintext))
    }
}

#[async_trait]
impl CredentialSealer for LocalKeyVault {
    async fn seal(&self, tenant: &TenantId, server: &ServerName, value: &SecretText) -> Result<String, VaultError> {
        let sealed = envelope::seal(&self.cipher, credential_context(tenant, server), value.expose().as_bytes())?;
        Ok(BASE64.encode(sealed))
    }

    async fn open(&self, tenant: &TenantId, server: &ServerName, sealed: &str) -> Result<SecretText, VaultError> {
        let sealed = BASE64.decode(sealed).map_err(|_| VaultError::Rejected)?;
        let plaintext = Zeroizing::new(envelope::open(&self.cipher, credential_context(tenant, server), &sealed)?);

        // Only this vault seals credentials, and it seals UTF-8 text, so an authentic value is
        // always UTF-8; the check stays for a master key shared with another program.
        let text = std::str::from_utf8(&plaintext).map_err(|_| VaultError::Rejected)?;
        Ok(SecretText::new(text))
    }
}
