//! End-to-end tests of token reading on tokens sealed for generated keys.

use cms::enveloped_data::{EnvelopedData, RecipientIdentifier, RecipientInfo, RecipientInfos};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use super::test_support::*;
use super::*;
use crate::domain::KeyId;
use crate::keys::test_support::{first_key, second_key};
use crate::keys::{GeneratedKey, match_recipient};

fn parse_and_decrypt(input: &[u8], key: &GeneratedKey) -> Result<TokenCredentials, TokenError> {
    let token = EncryptedToken::parse(input)?;
    let recipient = token
        .recipients()
        .first()
        .cloned()
        .ok_or(TokenError::NotAToken)?;
    token.decrypt(&recipient, &key.private_key)
}

fn assert_test_credentials(credentials: &TokenCredentials, label: &str) {
    assert_eq!(credentials.consumer_key.expose(), "CK_test0001", "{label}");
    assert_eq!(
        credentials.consumer_secret.expose(),
        "CS_test0001",
        "{label}"
    );
    assert_eq!(
        credentials.access_token.expose(),
        "AT_O1234567890Otest0001O1767225600000",
        "{label}"
    );
    assert_eq!(credentials.access_secret.expose(), "AS_test0001", "{label}");
    assert_eq!(
        credentials.access_token_expiry.to_rfc3339(),
        "2027-01-01T00:00:00+00:00",
        "{label}"
    );
}

fn enveloped_for_first_key() -> EnvelopedData {
    let key = first_key();
    enveloped_data(
        APPLE_STYLE_PAYLOAD.as_bytes(),
        &certificate_of(key),
        key,
        TestCbcCipher::Aes128,
    )
}

fn encode(enveloped: &EnvelopedData) -> Vec<u8> {
    content_info_der(ID_ENVELOPED_DATA, enveloped)
}

#[test]
fn decrypt_accepts_every_envelope() {
    let der = sealed_der(first_key(), TestCbcCipher::Aes128);
    let lf = smime(&der, "\n");
    let crlf = smime(&der, "\r\n");
    let body = base64_lines(&der, "\n");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("smime lf", lf.clone().into_bytes()),
        ("smime crlf", crlf.clone().into_bytes()),
        ("smime with bom", [b"\xEF\xBB\xBF".as_slice(), lf.as_bytes()].concat()),
        ("smime with bom and crlf", [b"\xEF\xBB\xBF".as_slice(), crlf.as_bytes()].concat()),
        ("smime with trailing whitespace", format!("{lf}\n  \n\t\n").into_bytes()),
        ("smime with trailing spaces per line", lf.replace('\n', "  \n").into_bytes()),
        ("x-pkcs7-mime", lf.replace("application/pkcs7-mime", "application/x-pkcs7-mime").into_bytes()),
        ("upper-case media type", lf.replace("application/pkcs7-mime", "Application/PKCS7-MIME").into_bytes()),
        (
            "reversed header order",
            format!(
                "Content-Description: S/MIME Encrypted Message\nContent-Disposition: attachment\n\
                 Content-Transfer-Encoding: base64\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\n\n{body}\n"
            )
            .into_bytes(),
        ),
        (
            "folded and extra headers",
            format!(
                "MIME-Version: 1.0\r\nSubject: token\r\nContent-Type: application/pkcs7-mime;\r\n name=\"smime.p7m\";\r\n\tsmime-type=enveloped-data\r\n\
                 content-transfer-encoding: BASE64\r\n\r\n{}\r\n",
                base64_lines(&der, "\r\n")
            )
            .into_bytes(),
        ),
        ("content type only", format!("Content-Type: application/pkcs7-mime\n\n{body}\n").into_bytes()),
        ("pem pkcs7", format!("-----BEGIN PKCS7-----\n{}\n-----END PKCS7-----\n", base64_lines(&der, "\n")).into_bytes()),
        ("pem cms crlf", format!("-----BEGIN CMS-----\r\n{}\r\n-----END CMS-----\r\n", base64_lines(&der, "\r\n")).into_bytes()),
        ("bare der", der.clone()),
        ("bare der with newline", [der.as_slice(), b"\n"].concat()),
        ("bare base64", format!("{body}\n").into_bytes()),
    ];

    for (label, input) in cases {
        let credentials = parse_and_decrypt(&input, first_key())
            .unwrap_or_else(|error| panic!("{label}: {error}"));
        assert_test_credentials(&credentials, label);
    }
}

#[test]
fn decrypt_accepts_every_content_cipher() {
    let cases = [
        ("aes-128-cbc", TestCbcCipher::Aes128),
        ("aes-192-cbc", TestCbcCipher::Aes192),
        ("aes-256-cbc", TestCbcCipher::Aes256),
        ("des-ede3-cbc", TestCbcCipher::DesEde3),
    ];

    for (label, cipher) in cases {
        let der = sealed_der(first_key(), cipher);

        let credentials =
            parse_and_decrypt(&der, first_key()).unwrap_or_else(|error| panic!("{label}: {error}"));

        assert_test_credentials(&credentials, label);
    }
}

#[test]
fn parse_lists_recipient_issuer_and_serial() {
    let der = sealed_der(first_key(), TestCbcCipher::Aes128);

    let token = EncryptedToken::parse(&der).expect("a valid token");

    assert_eq!(
        token.recipients(),
        std::slice::from_ref(&first_key().recipient)
    );
}

#[test]
fn parse_reports_certificate_der_as_certificate() {
    let der = certificate_der_of(first_key());

    let result = EncryptedToken::parse(&der);

    assert_eq!(result.err(), Some(TokenError::CertificateNotToken));
}

#[test]
fn parse_reports_certificate_pem_as_certificate() {
    let pem = first_key().certificate_pem.clone();

    let result = EncryptedToken::parse(pem.as_bytes());

    assert_eq!(result.err(), Some(TokenError::CertificateNotToken));
}

#[test]
fn parse_reports_private_keys_as_not_a_token() {
    let pkcs8 = first_key()
        .private_key
        .to_pkcs8_der()
        .expect("encodable key");
    let pkcs8_pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64_lines(pkcs8.expose(), "\n")
    );
    let cases: [(&str, &[u8]); 2] = [
        ("pkcs8 der", pkcs8.expose()),
        ("pkcs8 pem", pkcs8_pem.as_bytes()),
    ];

    for (label, input) in cases {
        assert_eq!(
            EncryptedToken::parse(input).err(),
            Some(TokenError::NotAToken),
            "{label}"
        );
    }
}

#[test]
fn parse_reports_truncated_token_as_malformed() {
    let der = sealed_der(first_key(), TestCbcCipher::Aes128);
    let full = smime(&der, "\n");
    let cases = [
        ("cut at half", full[..full.len() / 2].to_owned()),
        ("cut mid line", full[..full.len() - 30].to_owned()),
        (
            "cut after first body line",
            full[..full.find("\n\n").expect("blank line") + 78].to_owned(),
        ),
    ];

    for (label, input) in cases {
        let result = EncryptedToken::parse(input.as_bytes());
        assert!(
            matches!(result, Err(TokenError::Malformed { .. })),
            "{label}: {result:?}"
        );
    }
}

#[test]
fn parse_reports_truncated_der_as_malformed() {
    let der = sealed_der(first_key(), TestCbcCipher::Aes128);

    let result = EncryptedToken::parse(&der[..der.len() - 10]);

    assert!(
        matches!(result, Err(TokenError::Malformed { .. })),
        "{result:?}"
    );
}

#[test]
fn parse_reports_trailing_garbage_as_malformed() {
    let der = sealed_der(first_key(), TestCbcCipher::Aes128);

    let result = EncryptedToken::parse(&[der.as_slice(), b"garbage"].concat());

    assert!(
        matches!(result, Err(TokenError::Malformed { .. })),
        "{result:?}"
    );
}

#[test]
fn parse_reports_signed_data_as_malformed() {
    let der = content_info_der(ID_SIGNED_DATA, &der::asn1::Null);
    let inputs = [
        ("der", der.clone()),
        ("smime", smime(&der, "\n").into_bytes()),
    ];

    for (label, input) in inputs {
        let result = EncryptedToken::parse(&input);
        assert_eq!(
            result.err(),
            Some(TokenError::Malformed {
                reason: "the CMS object is not EnvelopedData"
            }),
            "{label}"
        );
    }
}

#[test]
fn parse_reports_invalid_enveloped_data_as_malformed() {
    let der = content_info_der(ID_ENVELOPED_DATA, &der::asn1::Null);

    let result = EncryptedToken::parse(&der);

    assert_eq!(
        result.err(),
        Some(TokenError::Malformed {
            reason: "the EnvelopedData is not valid BER"
        })
    );
}

#[test]
fn parse_names_unsupported_content_algorithm() {
    let cases = [
        ("rc2", RC2_CBC, "RC2-CBC"),
        ("aes-gcm", AES_128_GCM, "AES-128-GCM"),
        (
            "unknown",
            der::asn1::ObjectIdentifier::new_unwrap("1.2.3.4.5"),
            "1.2.3.4.5",
        ),
    ];

    for (label, oid, name) in cases {
        let mut enveloped = enveloped_for_first_key();
        enveloped.encrypted_content.content_enc_alg.oid = oid;

        let result = EncryptedToken::parse(&encode(&enveloped));

        assert_eq!(
            result.err(),
            Some(TokenError::UnsupportedAlgorithm {
                name: name.to_owned()
            }),
            "{label}"
        );
    }
}

#[test]
fn parse_names_unsupported_key_transport() {
    let mut enveloped = enveloped_for_first_key();
    let mut infos: Vec<RecipientInfo> = enveloped.recip_infos.0.iter().cloned().collect();
    if let Some(RecipientInfo::Ktri(ktri)) = infos.first_mut() {
        ktri.key_enc_alg.oid = RSAES_OAEP;
    }
    enveloped.recip_infos = RecipientInfos(SetOfVec::try_from(infos).expect("one recipient"));

    let result = EncryptedToken::parse(&encode(&enveloped));

    assert_eq!(
        result.err(),
        Some(TokenError::UnsupportedAlgorithm {
            name: "RSAES-OAEP".to_owned()
        })
    );
}

#[test]
fn parse_reports_wrong_iv_length_as_malformed() {
    let mut enveloped = enveloped_for_first_key();
    let short_iv = OctetString::new(vec![0u8; 8]).expect("valid octet string");
    enveloped.encrypted_content.content_enc_alg.parameters =
        Some(Any::encode_from(&short_iv).expect("encodable"));

    let result = EncryptedToken::parse(&encode(&enveloped));

    assert!(
        matches!(result, Err(TokenError::Malformed { .. })),
        "{result:?}"
    );
}

#[test]
fn parse_skips_subject_key_identifier_recipient() {
    let mut enveloped = enveloped_for_first_key();
    let mut infos: Vec<RecipientInfo> = enveloped.recip_infos.0.iter().cloned().collect();
    if let Some(RecipientInfo::Ktri(ktri)) = infos.first_mut() {
        ktri.rid = RecipientIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(
            OctetString::new(vec![1u8; 20]).expect("valid octet string"),
        ));
    }
    enveloped.recip_infos = RecipientInfos(SetOfVec::try_from(infos).expect("one recipient"));
    let token = EncryptedToken::parse(&encode(&enveloped)).expect("a valid token");
    let candidates = [(
        KeyId::parse("k1").expect("valid key id"),
        first_key().certificate_pem.clone(),
    )];

    let result = match_recipient(
        token.recipients(),
        candidates.iter().map(|(id, pem)| (id, pem.as_str())),
    );

    assert!(token.recipients().is_empty());
    assert_eq!(
        result.err(),
        Some(TokenError::WrongRecipient {
            issuer: String::new(),
            serial_hex: String::new()
        })
    );
}

#[test]
fn match_recipient_names_token_recipient_for_other_key() {
    let token = EncryptedToken::parse(&sealed_der(first_key(), TestCbcCipher::Aes128))
        .expect("a valid token");
    let candidates = [(
        KeyId::parse("other").expect("valid key id"),
        second_key().certificate_pem.clone(),
    )];

    let result = match_recipient(
        token.recipients(),
        candidates.iter().map(|(id, pem)| (id, pem.as_str())),
    );

    assert_eq!(
        result.err(),
        Some(TokenError::WrongRecipient {
            issuer: first_key().recipient.issuer.clone(),
            serial_hex: first_key().recipient.serial_hex(),
        })
    );
}

#[test]
fn decrypt_with_unlisted_recipient_is_wrong_recipient() {
    let token = EncryptedToken::parse(&sealed_der(first_key(), TestCbcCipher::Aes128))
        .expect("a valid token");

    let result = token.decrypt(&second_key().recipient, &second_key().private_key);

    assert!(
        matches!(result, Err(TokenError::WrongRecipient { .. })),
        "{result:?}"
    );
}

#[test]
fn decrypt_with_wrong_key_is_undecryptable() {
    let token = EncryptedToken::parse(&sealed_der(first_key(), TestCbcCipher::Aes128))
        .expect("a valid token");

    let result = token.decrypt(&first_key().recipient, &second_key().private_key);

    assert_eq!(result.err(), Some(TokenError::Undecryptable));
}

#[test]
fn decrypt_key_encrypted_for_other_key_is_undecryptable() {
    // The token names the first key's certificate but its content key was encrypted for the
    // second key, so RSA decryption yields an implicit-rejection key.
    let enveloped = enveloped_data(
        APPLE_STYLE_PAYLOAD.as_bytes(),
        &certificate_of(first_key()),
        second_key(),
        TestCbcCipher::Aes128,
    );

    let result = parse_and_decrypt(&encode(&enveloped), first_key());

    assert_eq!(result.err(), Some(TokenError::Undecryptable));
}

#[test]
fn decrypt_bit_flipped_token_is_undecryptable() {
    let cases = [
        "first ciphertext block",
        "last ciphertext block",
        "encrypted key",
    ];

    for label in cases {
        let mut enveloped = enveloped_for_first_key();
        if label == "encrypted key" {
            let mut infos: Vec<RecipientInfo> = enveloped.recip_infos.0.iter().cloned().collect();
            if let Some(RecipientInfo::Ktri(ktri)) = infos.first_mut() {
                let mut bytes = ktri.enc_key.as_bytes().to_vec();
                bytes[100] ^= 0x01;
                ktri.enc_key = OctetString::new(bytes).expect("valid octet string");
            }
            enveloped.recip_infos =
                RecipientInfos(SetOfVec::try_from(infos).expect("one recipient"));
        } else {
            let content = enveloped
                .encrypted_content
                .encrypted_content
                .as_ref()
                .expect("content");
            let mut bytes = content.as_bytes().to_vec();
            let index = if label == "first ciphertext block" {
                3
            } else {
                bytes.len() - 1
            };
            bytes[index] ^= 0x01;
            enveloped.encrypted_content.encrypted_content =
                Some(OctetString::new(bytes).expect("valid octet string"));
        }

        let result = parse_and_decrypt(&encode(&enveloped), first_key());

        assert_eq!(result.err(), Some(TokenError::Undecryptable), "{label}");
    }
}

#[test]
fn decrypt_reports_invalid_json_fields_as_invalid_payload() {
    let payload = APPLE_STYLE_PAYLOAD.replace(r#""consumer_secret":"CS_test0001","#, "");
    let enveloped = enveloped_data(
        payload.as_bytes(),
        &certificate_of(first_key()),
        first_key(),
        TestCbcCipher::Aes128,
    );

    let result = parse_and_decrypt(&encode(&enveloped), first_key());

    assert_eq!(
        result.err(),
        Some(TokenError::InvalidPayload {
            reason: "field consumer_secret is missing".to_owned()
        })
    );
}

#[test]
fn decrypt_matches_negative_serial_by_raw_bytes() {
    // Make the certificate's serial negative by replacing its first content byte with 0x80,
    // because 0xFF could make the encoding non-minimal. The token must name and match the
    // serial exactly as written.
    let mut certificate_der = certificate_der_of(first_key());
    let serial = first_key().recipient.serial.clone();
    let position = certificate_der
        .windows(serial.len())
        .position(|window| window == serial.as_slice())
        .expect("serial in certificate");
    certificate_der[position] = 0x80;
    let negative_certificate =
        x509_cert::Certificate::from_der(&certificate_der).expect("a valid certificate");
    let enveloped = enveloped_data(
        APPLE_STYLE_PAYLOAD.as_bytes(),
        &negative_certificate,
        first_key(),
        TestCbcCipher::Aes128,
    );
    let token = EncryptedToken::parse(&encode(&enveloped)).expect("a valid token");
    let from_certificate =
        crate::keys::recipient_of_certificate(&certificate_der).expect("a valid certificate");

    let credentials = token.decrypt(&from_certificate, &first_key().private_key);

    assert_eq!(token.recipients(), std::slice::from_ref(&from_certificate));
    assert_eq!(from_certificate.serial[0], 0x80);
    assert!(credentials.is_ok(), "{credentials:?}");
}

#[test]
fn encrypted_token_debug_shows_no_ciphertext() {
    let enveloped = enveloped_for_first_key();
    let token = EncryptedToken::parse(&encode(&enveloped)).expect("a valid token");
    let ciphertext = enveloped
        .encrypted_content
        .encrypted_content
        .expect("content");

    let printed = format!("{token:?}");

    assert!(printed.contains("AES-128-CBC"));
    assert!(!printed.contains(&format!("{:?}", &ciphertext.as_bytes()[..8])));
}

#[test]
fn parse_reencodes_issuer_as_der() {
    let der = sealed_der(first_key(), TestCbcCipher::Aes128);

    let token = EncryptedToken::parse(&der).expect("a valid token");

    let issuer =
        x509_cert::name::Name::from_der(&token.recipients()[0].issuer_der).expect("a valid name");
    assert_eq!(
        issuer.to_der().expect("encodable"),
        token.recipients()[0].issuer_der
    );
}
