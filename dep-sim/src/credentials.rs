//! Random credential values shaped like Apple's, and session tokens.

use chrono::{DateTime, Utc};
use rand::Rng as _;
use sha2::{Digest as _, Sha256};

use deptoken_shared::secret::SecretText;
use deptoken_shared::token::TokenCredentials;

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

fn random_digits(count: usize) -> String {
    let mut rng = rand::rng();
    (0..count)
        .map(|_| char::from(b'0' + (rng.next_u32() % 10) as u8))
        .collect()
}

/// Generates the credentials of a token issued at `issued_at` and valid until `expires_at`:
/// `CK_` + 96 hex, `CS_` + 40 hex, `AT_O<digits>O<hex>O<issue time in epoch ms>`, `AS_` + 40 hex.
pub(crate) fn new_credentials(issued_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> TokenCredentials {
    TokenCredentials {
        consumer_key: SecretText::new(format!("CK_{}", random_hex(48))),
        consumer_secret: SecretText::new(format!("CS_{}", random_hex(20))),
        access_token: SecretText::new(format!(
            "AT_O{}O{}O{}",
            random_digits(10),
            random_hex(20),
            issued_at.timestamp_millis()
        )),
        access_secret: SecretText::new(format!("AS_{}", random_hex(20))),
        access_token_expiry: expires_at,
    }
}

/// Generates a new opaque DEP session token.
pub(crate) fn new_session_token() -> SecretText {
    SecretText::new(random_hex(32))
}

/// Generates a new numeric organisation id like Apple's `org_id`.
pub(crate) fn new_org_id() -> String {
    random_digits(7)
}

/// Computes the first 16 hex characters of SHA-256 over a consumer key, as deptoken logs it.
pub(crate) fn fingerprint(consumer_key: &str) -> String {
    let digest = Sha256::digest(consumer_key.as_bytes());
    hex::encode(digest)[..16].to_owned()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn credentials_have_apple_shapes() {
        let issued_at = Utc::now();

        let credentials = new_credentials(issued_at, issued_at + Duration::days(365));

        let consumer_key = credentials.consumer_key.expose();
        let access_token = credentials.access_token.expose();
        let token_parts: Vec<&str> = access_token.split('O').collect();
        assert_eq!(consumer_key.len(), 3 + 96);
        assert!(consumer_key.starts_with("CK_"));
        assert!(credentials.consumer_secret.expose().starts_with("CS_"));
        assert!(credentials.access_secret.expose().starts_with("AS_"));
        assert_eq!(token_parts[0], "AT_");
        assert!(token_parts[1].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(token_parts[3], issued_at.timestamp_millis().to_string());
    }

    #[test]
    fn fingerprint_matches_shared_definition() {
        let credentials = new_credentials(Utc::now(), Utc::now());

        let ours = fingerprint(credentials.consumer_key.expose());

        assert_eq!(ours, credentials.consumer_key_fingerprint());
    }
}
