use der::referenced::OwnedToRef;
use der::{Decode, Encode};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::LineEnding;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

use super::test_support::{first_key, second_key, test_now};
use super::*;
use crate::domain::KeyId;
use crate::token::TokenError;
use crate::token::test_support::{base64_lines, certificate_der_of, certificate_of};

fn modulus(key: &MdmPrivateKey) -> Vec<u8> {
    key.rsa().n().to_be_bytes().to_vec()
}

fn pkcs8_pem(key: &MdmPrivateKey, line_ending: &str) -> String {
    let der = key.to_pkcs8_der().expect("encodable key");
    format!(
        "-----BEGIN PRIVATE KEY-----{le}{}{le}-----END PRIVATE KEY-----{le}",
        base64_lines(der.expose(), line_ending),
        le = line_ending
    )
}

fn extension_value<'a>(certificate: &'a Certificate, oid: &str) -> Option<&'a [u8]> {
    let oid = der::asn1::ObjectIdentifier::new_unwrap(oid);
    certificate
        .tbs_certificate()
        .extensions()
        .as_ref()?
        .iter()
        .find(|extension| extension.extn_id == oid)
        .map(|extension| extension.extn_value.as_bytes())
}

#[test]
fn generate_mdm_key_makes_rsa_2048() {
    let key = first_key();

    let bits = key.private_key.rsa().n().bit_width();

    assert_eq!(bits, 2048);
}

#[test]
fn generate_mdm_key_names_tenant_and_server() {
    let certificate = certificate_of(first_key());

    let subject = certificate.tbs_certificate().subject().to_string();
    let issuer = certificate.tbs_certificate().issuer().to_string();

    assert_eq!(subject, "CN=deptoken MDM tokyo-office,OU=deptoken,O=acme");
    assert_eq!(issuer, subject);
}

#[test]
fn generate_mdm_key_uses_random_positive_serial() {
    let first = &first_key().recipient.serial;
    let second = &second_key().recipient.serial;

    assert_eq!(first.len(), 16);
    assert!(first[0] > 0, "{first:02X?}");
    assert!(first[0] < 0x80, "{first:02X?}");
    assert_eq!(second.len(), 16);
    assert!(second[0] > 0, "{second:02X?}");
    assert!(second[0] < 0x80, "{second:02X?}");
    assert_ne!(first, second);
}

#[test]
fn generate_mdm_key_sets_validity_around_now() {
    let certificate = certificate_of(first_key());
    let validity = certificate.tbs_certificate().validity();

    let not_before = validity.not_before.to_unix_duration().as_secs();
    let not_after = validity.not_after.to_unix_duration().as_secs();

    let now = u64::try_from(test_now().timestamp()).expect("positive timestamp");
    assert_eq!(not_before, now - 3600);
    // 2026-01-01 plus ten years is 2036-01-01T00:00:00Z.
    assert_eq!(not_after, 2_082_758_400);
}

#[test]
fn generate_mdm_key_sets_end_entity_extensions() {
    let certificate = certificate_of(first_key());

    let basic_constraints =
        extension_value(&certificate, "2.5.29.19").map(BasicConstraints::from_der);
    let key_usage = extension_value(&certificate, "2.5.29.15").map(KeyUsage::from_der);

    assert_eq!(
        certificate.tbs_certificate().version(),
        x509_cert::certificate::Version::V3
    );
    assert!(
        matches!(
            basic_constraints,
            Some(Ok(BasicConstraints { ca: false, .. }))
        ),
        "{basic_constraints:?}"
    );
    let usages = key_usage.and_then(Result::ok).map(|usage| usage.0);
    assert_eq!(
        usages,
        Some(KeyUsages::KeyEncipherment | KeyUsages::DigitalSignature)
    );
    assert!(
        extension_value(&certificate, "2.5.29.14").is_some(),
        "subjectKeyIdentifier"
    );
}

#[test]
fn generate_mdm_key_signs_certificate_with_its_key() {
    let certificate = certificate_of(first_key());
    let tbs = certificate
        .tbs_certificate()
        .to_der()
        .expect("encodable tbs");
    let signature = certificate.signature().raw_bytes();
    let public_key = first_key().private_key.rsa().to_public_key();

    let verified = public_key.pkcs1v15_verify::<sha2::Sha256>(&tbs, signature);

    assert!(verified.is_ok(), "{verified:?}");
    assert_eq!(
        certificate.signature_algorithm().oid.to_string(),
        "1.2.840.113549.1.1.11"
    );
}

#[test]
fn generated_certificate_public_key_matches_private_key() {
    let certificate = certificate_of(first_key());
    let public_key = rsa::PublicKey::try_from(
        certificate
            .tbs_certificate()
            .subject_public_key_info()
            .owned_to_ref(),
    )
    .expect("an RSA public key");

    assert_eq!(
        public_key.n().to_be_bytes(),
        first_key().private_key.rsa().n().to_be_bytes()
    );
}

#[test]
fn recipient_of_certificate_matches_generated_recipient() {
    let key = first_key();
    let pem = key.certificate_pem.clone();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("pem", pem.clone().into_bytes()),
        ("pem crlf", pem.replace('\n', "\r\n").into_bytes()),
        ("pem with bom", format!("\u{FEFF}{pem}").into_bytes()),
        (
            "pem with text around",
            format!("subject=...\n{pem}\ntrailer\n").into_bytes(),
        ),
        ("der", certificate_der_of(key)),
    ];

    for (label, input) in cases {
        let recipient =
            recipient_of_certificate(&input).unwrap_or_else(|error| panic!("{label}: {error}"));
        assert_eq!(recipient, key.recipient, "{label}");
    }
}

#[test]
fn recipient_of_certificate_rejects_other_input() {
    let cases: [(&str, &[u8]); 4] = [
        ("empty", b""),
        ("text", b"not a certificate"),
        (
            "damaged pem",
            b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        ),
        ("pem without end", b"-----BEGIN CERTIFICATE-----\nMIIB\n"),
    ];

    for (label, input) in cases {
        assert!(
            matches!(
                recipient_of_certificate(input),
                Err(KeyError::InvalidCertificate)
            ),
            "{label}"
        );
    }
}

#[test]
fn private_key_round_trips_through_pkcs8_der() {
    let der = first_key()
        .private_key
        .to_pkcs8_der()
        .expect("encodable key");

    let decoded = MdmPrivateKey::from_pkcs8_der(der.expose()).expect("a valid key");

    assert_eq!(modulus(&decoded), modulus(&first_key().private_key));
}

#[test]
fn private_key_reads_pkcs1_and_pkcs8_der() {
    let key = &first_key().private_key;
    let pkcs1 = key.rsa().to_pkcs1_der().expect("encodable key");
    let pkcs8 = key.to_pkcs8_der().expect("encodable key");
    let cases: [(&str, &[u8]); 2] = [("pkcs1", pkcs1.as_bytes()), ("pkcs8", pkcs8.expose())];

    for (label, der) in cases {
        let decoded =
            MdmPrivateKey::from_der(der).unwrap_or_else(|error| panic!("{label}: {error}"));
        assert_eq!(modulus(&decoded), modulus(key), "{label}");
    }
    assert!(matches!(
        MdmPrivateKey::from_der(b"\x30\x03\x02\x01\x00"),
        Err(KeyError::InvalidPrivateKey)
    ));
}

#[test]
fn private_key_reads_pkcs1_and_pkcs8_pem() {
    let key = &first_key().private_key;
    let pkcs1 = key
        .rsa()
        .to_pkcs1_pem(LineEnding::LF)
        .expect("encodable key");
    let cases = [
        ("pkcs1", pkcs1.to_string()),
        ("pkcs1 crlf", pkcs1.replace('\n', "\r\n")),
        ("pkcs1 with bom", format!("\u{FEFF}{}", pkcs1.as_str())),
        ("pkcs8", pkcs8_pem(key, "\n")),
        ("pkcs8 crlf", pkcs8_pem(key, "\r\n")),
        (
            "pkcs8 after certificate",
            format!("{}{}", first_key().certificate_pem, pkcs8_pem(key, "\n")),
        ),
    ];

    for (label, pem) in cases {
        let decoded =
            MdmPrivateKey::from_pem(&pem).unwrap_or_else(|error| panic!("{label}: {error}"));
        assert_eq!(modulus(&decoded), modulus(key), "{label}");
    }
}

#[test]
fn private_key_rejects_other_input() {
    let cases = [
        ("empty", String::new()),
        ("text", "not a key".to_owned()),
        ("certificate", first_key().certificate_pem.clone()),
        (
            "encrypted pkcs8",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"
                .to_owned(),
        ),
        (
            "damaged pkcs8",
            "-----BEGIN PRIVATE KEY-----\nMIIBAAAA\n-----END PRIVATE KEY-----\n".to_owned(),
        ),
        (
            "pkcs1 without end",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n".to_owned(),
        ),
    ];

    for (label, pem) in cases {
        assert!(
            matches!(
                MdmPrivateKey::from_pem(&pem),
                Err(KeyError::InvalidPrivateKey)
            ),
            "{label}"
        );
    }
    assert!(matches!(
        MdmPrivateKey::from_pkcs8_der(b"\x30\x00"),
        Err(KeyError::InvalidPrivateKey)
    ));
}

#[test]
fn private_key_debug_shows_no_key_material() {
    let key = first_key();
    let pkcs8 = key.private_key.to_pkcs8_der().expect("encodable key");
    let secret_base64 = base64_lines(&pkcs8.expose()[..48], "");
    let prime_hex = hex::encode(key.private_key.rsa().primes()[0].to_be_bytes());

    let printed = format!("{:?} {:?} {:?}", key.private_key, key, pkcs8);

    assert!(printed.contains("[redacted]"));
    assert!(!printed.contains(&secret_base64[8..40]));
    assert!(!printed.to_lowercase().contains(&prime_hex[..32]));
}

#[test]
fn match_recipient_returns_first_matching_candidate() {
    let recipients = vec![second_key().recipient.clone()];
    let candidates = [
        (
            KeyId::parse("broken").expect("valid key id"),
            "not a certificate".to_owned(),
        ),
        (
            KeyId::parse("first").expect("valid key id"),
            first_key().certificate_pem.clone(),
        ),
        (
            KeyId::parse("second").expect("valid key id"),
            second_key().certificate_pem.clone(),
        ),
        (
            KeyId::parse("second-copy").expect("valid key id"),
            second_key().certificate_pem.clone(),
        ),
    ];

    let matched = match_recipient(
        &recipients,
        candidates.iter().map(|(id, pem)| (id, pem.as_str())),
    );

    let (key_id, recipient) = matched.expect("a match");
    assert_eq!(key_id.as_str(), "second");
    assert_eq!(recipient, second_key().recipient);
}

#[test]
fn match_recipient_without_candidates_names_first_recipient() {
    let recipients = vec![
        first_key().recipient.clone(),
        second_key().recipient.clone(),
    ];

    let result = match_recipient(&recipients, std::iter::empty());

    assert_eq!(
        result.err(),
        Some(TokenError::WrongRecipient {
            issuer: "CN=deptoken MDM tokyo-office,OU=deptoken,O=acme".to_owned(),
            serial_hex: first_key().recipient.serial_hex(),
        })
    );
}
