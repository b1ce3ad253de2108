//! The real Apple-issued server token, read in place from the fixture folder: decryption with
//! its key in both encodings, its recipient, and the same CMS object in other envelopes.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use deptoken_shared::domain::{KeyId, ServerName, TenantId};
use deptoken_shared::keys::{
    MdmPrivateKey, generate_mdm_key, match_recipient, recipient_of_certificate,
};
use deptoken_shared::token::{EncryptedToken, TokenCredentials, TokenError};

use crate::support::apple_fixture_dir;

const TOKEN_FILE: &str = "apple-mdm-client-tests-1-server-token.p7m";
const CERTIFICATE_FILE: &str = "apple-mdm-client-tests-1.crt";
const PKCS1_PEM_KEY_FILE: &str = "apple-mdm-client-tests-1.pem";
// NOTE: this key file is a PKCS#1 RSAPrivateKey in DER, not PKCS#8.
const DER_KEY_FILE: &str = "apple-mdm-client-tests-1.der";

const EXPECTED_EXPIRY: &str = "2026-01-17T11:02:21Z";
const EXPECTED_CONSUMER_KEY_PREFIX: &str = "CK_75b2eb55cec9641e";
const EXPECTED_SERIAL_HEX: &str = "70FEDDC7D5AFA393";

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|error| panic!("cannot read {name}: {error}"))
}

fn pem_key(dir: &Path) -> MdmPrivateKey {
    let pem = String::from_utf8(read(dir, PKCS1_PEM_KEY_FILE)).expect("the PEM key is UTF-8");
    MdmPrivateKey::from_pem(&pem).expect("the PKCS#1 PEM key is valid")
}

fn parse_and_decrypt(input: &[u8], key: &MdmPrivateKey) -> Result<TokenCredentials, TokenError> {
    let token = EncryptedToken::parse(input)?;
    let recipient = token
        .recipients()
        .first()
        .cloned()
        .expect("the token names a recipient");
    token.decrypt(&recipient, key)
}

fn expected_expiry() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(EXPECTED_EXPIRY)
        .expect("valid timestamp")
        .with_timezone(&Utc)
}

/// Returns the DER/BER bytes inside the fixture's S/MIME wrapper.
fn token_ber(dir: &Path) -> Vec<u8> {
    let text = String::from_utf8(read(dir, TOKEN_FILE)).expect("the token file is ASCII");
    let (_, body) = text
        .split_once("\n\n")
        .expect("a blank line after the headers");
    let compact: String = body.split_whitespace().collect();
    STANDARD.decode(compact).expect("valid base64")
}

fn base64_lines(ber: &[u8], line_ending: &str) -> String {
    let encoded = STANDARD.encode(ber);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    lines.join(line_ending)
}

#[test]
fn apple_token_decrypts_with_pkcs1_pem_key() {
    let Some(dir) = apple_fixture_dir() else {
        return;
    };
    let key = pem_key(&dir);

    let credentials = parse_and_decrypt(&read(&dir, TOKEN_FILE), &key).expect("the token decrypts");

    assert_eq!(credentials.access_token_expiry, expected_expiry());
    assert!(
        credentials
            .consumer_key
            .expose()
            .starts_with(EXPECTED_CONSUMER_KEY_PREFIX)
    );
    assert!(credentials.consumer_secret.expose().starts_with("CS_"));
    assert!(credentials.access_token.expose().starts_with("AT_"));
    assert!(credentials.access_secret.expose().starts_with("AS_"));
}

#[test]
fn apple_token_decrypts_with_der_key() {
    let Some(dir) = apple_fixture_dir() else {
        return;
    };
    let key = MdmPrivateKey::from_der(&read(&dir, DER_KEY_FILE)).expect("the DER key is valid");

    let credentials = parse_and_decrypt(&read(&dir, TOKEN_FILE), &key).expect("the token decrypts");

    assert_eq!(credentials.access_token_expiry, expected_expiry());
    assert!(
        credentials
            .consumer_key
            .expose()
            .starts_with(EXPECTED_CONSUMER_KEY_PREFIX)
    );
}

#[test]
fn apple_token_decrypts_with_pkcs8_der_key() {
    let Some(dir) = apple_fixture_dir() else {
        return;
    };
    let pkcs8 = pem_key(&dir).to_pkcs8_der().expect("encodable key");
    let key = MdmPrivateKey::from_pkcs8_der(pkcs8.expose()).expect("the PKCS#8 DER key is valid");

    let credentials = parse_and_decrypt(&read(&dir, TOKEN_FILE), &key).expect("the token decrypts");

    assert_eq!(credentials.access_token_expiry, expected_expiry());
    assert!(
        credentials
            .consumer_key
            .expose()
            .starts_with(EXPECTED_CONSUMER_KEY_PREFIX)
    );
}

#[test]
fn apple_token_names_certificate_recipient() {
    let Some(dir) = apple_fixture_dir() else {
        return;
    };
    let token = EncryptedToken::parse(&read(&dir, TOKEN_FILE)).expect("the token parses");

    let from_certificate =
        recipient_of_certificate(&read(&dir, CERTIFICATE_FILE)).expect("a valid certificate");

    assert_eq!(token.recipients().len(), 1);
    assert_eq!(token.recipients()[0].serial_hex(), EXPECTED_SERIAL_HEX);
    assert_eq!(
        token.recipients()[0].issuer,
        "CN=apple-mdm-client-tests,OU=com.github.petarov,C=DE"
    );
    assert_eq!(token.recipients()[0], from_certificate);
}

#[test]
fn apple_token_matches_its_certificate_among_keys() {
    let Some(dir) = apple_fixture_dir() else {
        return;
    };
    let token = EncryptedToken::parse(&read(&dir, TOKEN_FILE)).expect("the token parses");
    let apple_pem = String::from_utf8(read(&dir, CERTIFICATE_FILE)).expect("a PEM certificate");
    let own = generate_mdm_key(
        &TenantId::parse("acme").expect("valid tenant"),
        &ServerName::parse("tokyo").expect("valid server"),
        Utc::now(),
    )
    .expect("key generation succeeds");
    let candidates = [
        (
            KeyId::parse("own").expect("valid key id"),
            own.certificate_pem.clone(),
        ),
        (KeyId::parse("apple").expect("valid key id"), apple_pem),
    ];

    let matched = match_recipient(
        token.recipients(),
        candidates.iter().map(|(id, pem)| (id, pem.as_str())),
    );
    let wrong = match_recipient(
        token.recipients(),
        candidates[..1].iter().map(|(id, pem)| (id, pem.as_str())),
    );

    let (key_id, recipient) = matched.expect("the Apple certificate matches");
    assert_eq!(key_id.as_str(), "apple");
    assert_eq!(recipient.serial_hex(), EXPECTED_SERIAL_HEX);
    assert_eq!(
        wrong.err(),
        Some(TokenError::WrongRecipient {
            issuer: "CN=apple-mdm-client-tests,OU=com.github.petarov,C=DE".to_owned(),
            serial_hex: EXPECTED_SERIAL_HEX.to_owned(),
        })
    );
}

#[test]
fn apple_token_rejects_other_key_as_undecryptable() {
    let Some(dir) = apple_fixture_dir() else {
        return;
    };
    let token = EncryptedToken::parse(&read(&dir, TOKEN_FILE)).expect("the token parses");
    let own = generate_mdm_key(
        &TenantId::parse("acme").expect("valid tenant"),
        &ServerName::parse("tokyo").expect("valid server"),
        Utc::now(),
    )
    .expect("key generation succeeds");

    let result = token.decrypt(&token.recipients()[0], &own.private_key);

    assert_eq!(result.err(), Some(TokenError::Undecryptable));
}

#[test]
fn apple_token_decrypts_in_every_envelope() {
    let Some(dir) = apple_fixture_dir() else {
        return;
    };
    let key = pem_key(&dir);
    let original = String::from_utf8(read(&dir, TOKEN_FILE)).expect("the token file is ASCII");
    let ber = token_ber(&dir);
    let body_lf = base64_lines(&ber, "\n");
    let body_crlf = base64_lines(&ber, "\r\n");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("original", original.clone().into_bytes()),
        ("crlf", original.replace('\n', "\r\n").into_bytes()),
        ("bom", format!("\u{FEFF}{original}").into_bytes()),
        ("bom and crlf", format!("\u{FEFF}{}", original.replace('\n', "\r\n")).into_bytes()),
        ("trailing whitespace", format!("{original}\n\n   \n").into_bytes()),
        ("x-pkcs7-mime", original.replace("application/pkcs7-mime", "application/x-pkcs7-mime").into_bytes()),
        (
            "reversed headers",
            format!(
                "Content-Description: S/MIME Encrypted Message\r\nContent-Transfer-Encoding: base64\r\n\
                 Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\n{body_crlf}\r\n"
            )
            .into_bytes(),
        ),
        ("pem pkcs7", format!("-----BEGIN PKCS7-----\n{body_lf}\n-----END PKCS7-----\n").into_bytes()),
        ("pem cms", format!("-----BEGIN CMS-----\r\n{body_crlf}\r\n-----END CMS-----\r\n").into_bytes()),
        ("bare ber", ber.clone()),
    ];

    for (label, input) in cases {
        let credentials =
            parse_and_decrypt(&input, &key).unwrap_or_else(|error| panic!("{label}: {error}"));
        assert_eq!(
            credentials.access_token_expiry,
            expected_expiry(),
            "{label}"
        );
        assert!(
            credentials
                .consumer_key
                .expose()
                .starts_with(EXPECTED_CONSUMER_KEY_PREFIX),
            "{label}"
        );
    }
}

#[test]
fn apple_token_file_is_indefinite_length_ber() {
    let Some(dir) = apple_fixture_dir() else {
        return;
    };

    let ber = token_ber(&dir);

    // SEQUENCE with indefinite length (0x30 0x80): the case strict DER parsers reject.
    assert_eq!(&ber[..2], &[0x30, 0x80]);
}
