//! The parser of decrypted token content (inner MIME headers, BEGIN/END MESSAGE lines, the
//! JSON object with the five credential fields) over arbitrary bytes.

#![no_main]

use deptoken_shared::token::{TokenError, parse_decrypted_payload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_decrypted_payload(data) {
        Ok(credentials) => {
            // The fingerprint hashes the consumer key; it must work for any parsed value.
            assert_eq!(credentials.consumer_key_fingerprint().len(), 16);
        }
        Err(TokenError::Undecryptable | TokenError::InvalidPayload { .. }) => {}
        Err(other) => panic!("unexpected payload error {other:?}"),
    }
});
