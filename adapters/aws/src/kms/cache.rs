//! A small in-memory cache of opened private keys, so that a warm Lambda container does not
//! call KMS `Decrypt` on every upload. Entries expire after a TTL and are zeroized when they
//! leave the cache (the values are [`SecretBytes`]).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use deptoken_shared::domain::{KeyId, TenantId};
use deptoken_shared::secret::SecretBytes;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

/// Maximum number of cached keys. When the cache is full, the entry closest to expiry is evicted.
const MAX_ENTRIES: usize = 64;

/// A cached key is found only for the same tenant, key id and ciphertext, so a resealed or
/// replaced ciphertext is always opened by KMS.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    tenant: TenantId,
    key_id: KeyId,
    ciphertext_sha256: [u8; 32],
}

impl CacheKey {
    pub(crate) fn new(tenant: &TenantId, key_id: &KeyId, ciphertext: &[u8]) -> Self {
        Self {
            tenant: tenant.clone(),
            key_id: key_id.clone(),
            ciphertext_sha256: Sha256::digest(ciphertext).into(),
        }
    }
}

struct Entry {
    key: SecretBytes,
    expires_at: Instant,
}

/// Opened private keys by [`CacheKey`]. Time is read from `tokio::time`, so tests can pause it.
pub(crate) struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<CacheKey, Entry>>,
}

impl KeyCache {
    /// Creates a cache whose entries live for `ttl`. A zero `ttl` caches nothing.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn get(&self, key: &CacheKey) -> Option<SecretBytes> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        entries.retain(|_, entry| entry.expires_at > now);
        entries.get(key).map(|entry| entry.key.clone())
    }

    pub(crate) fn insert(&self, key: CacheKey, value: SecretBytes) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        entries.retain(|_, entry| entry.expires_at > now);

        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            let soonest = entries.iter().min_by_key(|(_, entry)| entry.expires_at).map(|(k, _)| k.clone());
            if let Some(soonest) = soonest {
                entries.remove(&soonest);
            }
        }
        entries.insert(key, Entry { key: value, expires_at: now + self.ttl });
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_key(key_id: &str, ciphertext: &[u8]) -> CacheKey {
        CacheKey::new(&TenantId::parse("acme").unwrap(), &KeyId::parse(key_id).unwrap(), ciphertext)
    }

    fn secret(value: &[u8]) -> SecretBytes {
        SecretBytes::new(value.to_vec())
    }

    #[tokio::test(start_paused = true)]
    async fn cache_returns_entry_before_ttl() {
        let cache = KeyCache::new(Duration::from_secs(300));
        cache.insert(cache_key("k1", b"sealed"), secret(b"pkcs8"));
        tokio::time::advance(Duration::from_secs(299)).await;

        let found = cache.get(&cache_key("k1", b"sealed"));

        assert_eq!(found, Some(secret(b"pkcs8")));
    }

    #[tokio::test(start_paused = true)]
    async fn cache_drops_entry_after_ttl() {
        let cache = KeyCache::new(Duration::from_secs(300));
        cache.insert(cache_key("k1", b"sealed"), secret(b"pkcs8"));
        tokio::time::advance(Duration::from_secs(300)).await;

        let found = cache.get(&cache_key("k1", b"sealed"));

        assert_eq!(found, None);
        assert_eq!(cache.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn cache_misses_other_ciphertext() {
        let cache = KeyCache::new(Duration::from_secs(300));
        cache.insert(cache_key("k1", b"sealed"), secret(b"pkcs8"));

        let found = cache.get(&cache_key("k1", b"resealed"));

        assert_eq!(found, None);
    }

    #[tokio::test(start_paused = true)]
    async fn cache_with_zero_ttl_stores_nothing() {
        let cache = KeyCache::new(Duration::ZERO);

        cache.insert(cache_key("k1", b"sealed"), secret(b"pkcs8"));

        assert_eq!(cache.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn cache_evicts_soonest_expiry_when_full() {
        let cache = KeyCache::new(Duration::from_secs(300));
        for i in 0..MAX_ENTRIES {
            cache.insert(cache_key(&format!("k{i}"), b"sealed"), secret(b"pkcs8"));
            tokio::time::advance(Duration::from_secs(1)).await;
        }

        cache.insert(cache_key("newest", b"sealed"), secret(b"pkcs8"));

        assert_eq!(cache.len(), MAX_ENTRIES);
        assert_eq!(cache.get(&cache_key("k0", b"sealed")), None);
        assert!(cache.get(&cache_key("k1", b"sealed")).is_some());
        assert!(cache.get(&cache_key("newest", b"sealed")).is_some());
    }
}
