//! `EncryptedToken::parse` over arbitrary bytes (envelope detection, base64, BER parsing,
//! recipient listing), then a decryption with the fixed key for the first recipient. Seed
//! tokens are encrypted for the fixed key, so mutations of them reach the RSA unwrap, the CBC
//! decryption and the payload parser.

#![no_main]

use deptoken_shared::AppError;
use deptoken_shared::keys::GeneratedKey;
use deptoken_shared::token::EncryptedToken;
use libfuzzer_sys::fuzz_target;

static KEY: std::sync::OnceLock<GeneratedKey> = std::sync::OnceLock::new();

fuzz_target!(
    init: {
        KEY.get_or_init(deptoken_fuzz::fixed_key);
    },
    |data: &[u8]| {
        let Some(key) = KEY.get() else { return };
        let parsed = match EncryptedToken::parse(data) {
            Ok(parsed) => parsed,
            Err(error) => {
                assert_client_error(error.into());
                return;
            }
        };
        let Some(recipient) = parsed.recipients().first() else { return };

        if let Err(error) = parsed.decrypt(recipient, &key.private_key) {
            assert_client_error(error.into());
        }
    }
);

/// Every token reading error must be answered with a 4xx status.
fn assert_client_error(error: AppError) {
    let status = error.code.http_status();
    assert!((400..500).contains(&status), "{:?} maps to {status}", error.code);
}
