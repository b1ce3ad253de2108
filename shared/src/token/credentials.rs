use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::secret::SecretText;

/// The five fields of a decrypted server token. The four OAuth values are secrets: `Debug`
/// prints placeholders, and nothing here serialises them.
#[derive(Debug, Clone)]
pub struct TokenCredentials {
    pub consumer_key: SecretText,
    pub consumer_secret: SecretText,
    pub access_token: SecretText,
    pub access_secret: SecretText,
    pub access_token_expiry: DateTime<Utc>,
}

impl TokenCredentials {
    /// The first 16 hex characters of SHA-256 over the consumer key: tells tokens apart in
    /// history and logs without revealing the key.
    pub fn consumer_key_fingerprint(&self) -> String {
        let digest = Sha256::digest(self.consumer_key.expose().as_bytes());
        hex::encode(digest)[..16].to_owned()
    }
}
