//! OAuth 1.0a request signing (RFC 5849) with HMAC-SHA1, as Apple's `GET /session` requires.
//!
//! The signature base string is `METHOD&pct(url)&pct(sorted k=v pairs joined by &)` over the
//! six `oauth_*` protocol parameters (the realm is not signed), and the key is
//! `pct(consumer_secret)&pct(access_secret)`, where pct encodes everything except the RFC 3986
//! unreserved characters.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit as _, Mac as _};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::Rng as _;
use sha1::Sha1;

use crate::secret::SecretText;
use crate::token::TokenCredentials;

/// The realm Apple expects in the `Authorization` header.
pub const REALM: &str = "ADM";

/// The only signature method Apple accepts.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";

/// The OAuth protocol version sent in `oauth_version`.
pub const OAUTH_VERSION: &str = "1.0";

/// Every byte except the RFC 3986 unreserved characters (ALPHA, DIGIT, `-`, `.`, `_`, `~`).
const RFC3986_RESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Number of random bytes in a nonce; the nonce is their hex encoding (32 characters).
const NONCE_BYTES: usize = 16;

/// Percent-encodes `value` as OAuth 1.0a requires: UTF-8, every byte outside the RFC 3986
/// unreserved set as `%XX` with upper-case hex.
pub fn percent_encode(value: &str) -> String {
    utf8_percent_encode(value, RFC3986_RESERVED).to_string()
}

/// Builds the signature base string of a request from its method, its URL without query and
/// its OAuth and query parameters (already decoded, in any order, without `realm`).
pub fn signature_base_string(method: &str, url: &str, parameters: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = parameters
        .iter()
        .map(|(name, value)| (percent_encode(name), percent_encode(value)))
        .collect();
    encoded.sort();

    let normalized = encoded
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");

    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode(url),
        percent_encode(&normalized)
    )
}

/// Computes the base64 HMAC-SHA1 signature of `base_string` with the key
/// `pct(consumer_secret)&pct(token_secret)`.
pub fn hmac_sha1_signature(base_string: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = zeroize::Zeroizing::new(format!(
        "{}&{}",
        percent_encode(consumer_secret),
        percent_encode(token_secret)
    ));
    // HMAC accepts keys of any length (RFC 2104 hashes longer keys), so this cannot fail.
    let mut mac = <Hmac<Sha1>>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(base_string.as_bytes());

    BASE64.encode(mac.finalize().into_bytes())
}

/// Generates a fresh nonce: 16 random bytes as 32 lower-case hex characters.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Builds the `Authorization` header value of a signed `GET` of `url` (without query).
///
/// The value names the consumer key and access token, so it is returned as a secret.
/// `timestamp` is in Unix seconds; `nonce` must be fresh for every request (see [`new_nonce`]).
pub fn authorization_header(credentials: &TokenCredentials, url: &str, timestamp: u64, nonce: &str) -> SecretText {
    let timestamp = timestamp.to_string();
    let consumer_key = credentials.consumer_key.expose();
    let token = credentials.access_token.expose();

    let parameters = [
        ("oauth_consumer_key", consumer_key),
        ("oauth_token", token),
        ("oauth_signature_method", SIGNATURE_METHOD),
        ("oauth_timestamp", timestamp.as_str()),
        ("oauth_nonce", nonce),
        ("oauth_version", OAUTH_VERSION),
    ];
    let base_string = signature_base_string("GET", url, &parameters);
    let signature = hmac_sha1_signature(
        &base_string,
        credentials.consumer_secret.expose(),
        credentials.access_secret.expose(),
    );

    SecretText::new(format!(
        "OAuth realm=\"{REALM}\", oauth_consumer_key=\"{}\", oauth_token=\"{}\", \
         oauth_signature_method=\"{SIGNATURE_METHOD}\", oauth_signature=\"{}\", \
         oauth_timestamp=\"{}\", oauth_nonce=\"{}\", oauth_version=\"{OAUTH_VERSION}\"",
        percent_encode(consumer_key),
        percent_encode(token),
        percent_encode(&signature),
        percent_encode(&timestamp),
        percent_encode(nonce),
    ))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};

    use super::*;

    const VECTOR_URL: &str = "https://mdmenrollment.apple.com/session";
    const VECTOR_TIMESTAMP: u64 = 1_767_225_600;
    const VECTOR_NONCE: &str = "5f3c2a1b9e8d7c6a";

    /// Builds the credentials of the test vector checked against oauthlib.
    fn vector_credentials() -> TokenCredentials {
        TokenCredentials {
            consumer_key: SecretText::new("CK_fake0001"),
            consumer_secret: SecretText::new("CS_fake0001"),
            access_token: SecretText::new("AT_O1234567890Ofake0001O1767225600000"),
            access_secret: SecretText::new("AS_fake0001"),
            access_token_expiry: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn vector_parameters() -> [(&'static str, &'static str); 6] {
        [
            ("oauth_consumer_key", "CK_fake0001"),
            ("oauth_token", "AT_O1234567890Ofake0001O1767225600000"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1767225600"),
            ("oauth_nonce", VECTOR_NONCE),
            ("oauth_version", "1.0"),
        ]
    }

    #[test]
    fn percent_encode_keeps_only_unreserved() {
        let cases = [
            ("unreserved", "AZaz09-._~", "AZaz09-._~"),
            ("space", "a b", "a%20b"),
            ("plus and equals", "+=", "%2B%3D"),
            ("slash and colon", "https://x/", "https%3A%2F%2Fx%2F"),
            ("utf-8", "é", "%C3%A9"),
        ];

        for (label, input, expected) in cases {
            assert_eq!(percent_encode(input), expected, "{label}");
        }
    }

    #[test]
    fn signature_matches_test_vector() {
        let base_string = signature_base_string("GET", VECTOR_URL, &vector_parameters());

        let signature = hmac_sha1_signature(&base_string, "CS_fake0001", "AS_fake0001");

        assert_eq!(signature, "i9mmq29KqzJs+mzllSNLl9WrDcA=");
    }

    #[test]
    fn base_string_sorts_and_encodes_parameters() {
        let base_string = signature_base_string("get", VECTOR_URL, &vector_parameters());

        assert_eq!(
            base_string,
            "GET&https%3A%2F%2Fmdmenrollment.apple.com%2Fsession&\
             oauth_consumer_key%3DCK_fake0001%26oauth_nonce%3D5f3c2a1b9e8d7c6a%26\
             oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1767225600%26\
             oauth_token%3DAT_O1234567890Ofake0001O1767225600000%26oauth_version%3D1.0"
        );
    }

    #[test]
    fn authorization_header_matches_test_vector() {
        let credentials = vector_credentials();

        let header = authorization_header(&credentials, VECTOR_URL, VECTOR_TIMESTAMP, VECTOR_NONCE);

        assert_eq!(
            header.expose(),
            "OAuth realm=\"ADM\", oauth_consumer_key=\"CK_fake0001\", \
             oauth_token=\"AT_O1234567890Ofake0001O1767225600000\", \
             oauth_signature_method=\"HMAC-SHA1\", \
             oauth_signature=\"i9mmq29KqzJs%2BmzllSNLl9WrDcA%3D\", \
             oauth_timestamp=\"1767225600\", oauth_nonce=\"5f3c2a1b9e8d7c6a\", oauth_version=\"1.0\""
        );
    }

    #[test]
    fn realm_is_not_signed() {
        let mut with_realm = vector_parameters().to_vec();
        with_realm.push(("realm", "ADM"));
        let signed_with_realm = hmac_sha1_signature(
            &signature_base_string("GET", VECTOR_URL, &with_realm),
            "CS_fake0001",
            "AS_fake0001",
        );

        let header = authorization_header(&vector_credentials(), VECTOR_URL, VECTOR_TIMESTAMP, VECTOR_NONCE);

        assert!(header.expose().starts_with("OAuth realm=\"ADM\", "));
        assert!(!header.expose().contains(&percent_encode(&signed_with_realm)));
    }

    #[test]
    fn signature_depends_on_both_secrets() {
        let base_string = signature_base_string("GET", VECTOR_URL, &vector_parameters());

        let wrong_consumer_secret = hmac_sha1_signature(&base_string, "CS_fake0002", "AS_fake0001");
        let wrong_token_secret = hmac_sha1_signature(&base_string, "CS_fake0001", "AS_fake0002");

        assert_ne!(wrong_consumer_secret, "i9mmq29KqzJs+mzllSNLl9WrDcA=");
        assert_ne!(wrong_token_secret, "i9mmq29KqzJs+mzllSNLl9WrDcA=");
    }

    #[test]
    fn nonce_is_fresh_hex() {
        let first = new_nonce();
        let second = new_nonce();

        assert_eq!(first.len(), 32);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(first, second);
    }

    #[test]
    fn authorization_header_debug_hides_credentials() {
        let header = authorization_header(&vector_credentials(), VECTOR_URL, VECTOR_TIMESTAMP, VECTOR_NONCE);

        let printed = format!("{header:?}");

        assert!(!printed.contains("CK_fake0001"));
    }
}
