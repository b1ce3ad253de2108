//! [`KeyVault`] on KMS.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_kms::Client;
use deptoken_shared::domain::{KeyId, TenantId};
use deptoken_shared::ports::{KeyVault, VaultError};
use deptoken_shared::secret::SecretBytes;

use super::cache::{CacheKey, KeyCache};
use super::cipher::KmsCipher;

/// The `purpose` in the encryption context of private keys.
const PURPOSE: &str = "mdm-private-key";

/// Seals PKCS#8 private keys with KMS `Encrypt` under the encryption context
/// `{tenant, key_id, purpose: "mdm-private-key"}`, and opens them with `Decrypt` under the
/// same context. Opened keys are cached per process for the configured TTL (see
/// [`crate::AwsConfig::key_cache_ttl`]); clones share the cache.
#[derive(Clone)]
pub struct KmsKeyVault {
    cipher: KmsCipher,
    cache: Arc<KeyCache>,
}

impl KmsKeyVault {
    /// Creates a vault that seals with `key_id` (key id, ARN or alias) and caches opened keys
    /// for `cache_ttl`.
    pub fn new(client: Client, key_id: String, cache_ttl: Duration) -> Self {
        Self {
            cipher: KmsCipher::new(client, key_id),
            cache: Arc::new(KeyCache::new(cache_ttl)),
        }
    }
}

impl fmt::Debug for KmsKeyVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsKeyVault").field("cipher", &self.cipher).finish_non_exhaustive()
    }
}

fn context<'a>(tenant: &'a TenantId, key_id: &'a KeyId) -> [(&'static str, &'a str); 3] {
    [("tenant", tenant.as_str()), ("key_id", key_id.as_str()), ("purpose", PURPOSE)]
}

#[async_trait]
impl KeyVault for KmsKeyVault {
    #[tracing::instrument(skip_all, fields(tenant = %tenant, key_id = %key_id))]
    async fn seal_private_key(
        &self,
        tenant: &TenantId,
        key_id: &KeyId,
        pkcs8_der: &SecretBytes,
    ) -> Result<Vec<u8>, VaultError> {
        self.cipher.encrypt(&context(tenant, key_id), pkcs8_der.expose()).await
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, key_id = %key_id, cached))]
    async fn open_private_key(&self, tenant: &TenantId, key_id: &KeyId, sealed: &[u8]) -> Result<SecretBytes, VaultError> {
        let cache_key = CacheKey::new(tenant, key_id, sealed);
        if let Some(key) = self.cache.get(&cache_key) {
            tracing::Span::current().record("cached", true);
            return Ok(key);
        }
        tracing::Span::current().record("cached", false);

        let mut plaintext = self.cipher.decrypt(&context(tenant, key_id), sealed).await?;

        let key = SecretBytes::new(std::mem::take(&mut *plaintext));
        self.cache.insert(cache_key, key.clone());
        Ok(key)
    }
}
