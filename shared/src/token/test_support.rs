//! Builds token files for unit tests: EnvelopedData encrypted for a certificate the same way
//! ABM does (RSAES-PKCS1-v1_5 key transport, CBC content), with every field reachable so that
//! a test can change one before encoding.

use aes::{Aes128, Aes192, Aes256};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cbc::Encryptor;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockCipherEncrypt, BlockModeEncrypt, KeyInit, KeyIvInit};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use des::TdesEde3;
use x509_cert::Certificate;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::keys::GeneratedKey;

pub(crate) const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const ID_ENVELOPED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
pub(crate) const ID_SIGNED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const RSAES_OAEP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.7");
pub(crate) const RC2_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.2");
pub(crate) const AES_128_GCM: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.6");

/// The decrypted content of an Apple token, with made-up values: CRLF after the inner
/// headers, LF around the message.
pub(crate) const APPLE_STYLE_PAYLOAD: &str = "Content-Type: text/plain;charset=UTF-8\r\n\
Content-Transfer-Encoding: 7bit\r\n\
\r\n\
-----BEGIN MESSAGE-----\n\
{\"consumer_key\":\"CK_test0001\",\"consumer_secret\":\"CS_test0001\",\"access_token\":\"AT_O1234567890Otest0001O1767225600000\",\"access_secret\":\"AS_test0001\",\"access_token_expiry\":\"2027-01-01T00:00:00Z\"}\n\
-----END MESSAGE-----\n";

/// A content cipher for sealing test tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TestCbcCipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
}

impl TestCbcCipher {
    fn oid(self) -> ObjectIdentifier {
        let dotted = match self {
            Self::Aes128 => "2.16.840.1.101.3.4.1.2",
            Self::Aes192 => "2.16.840.1.101.3.4.1.22",
            Self::Aes256 => "2.16.840.1.101.3.4.1.42",
            Self::DesEde3 => "1.2.840.113549.3.7",
        };
        ObjectIdentifier::new_unwrap(dotted)
    }

    fn key_and_iv_len(self) -> (usize, usize) {
        match self {
            Self::Aes128 => (16, 16),
            Self::Aes192 => (24, 16),
            Self::Aes256 => (32, 16),
            Self::DesEde3 => (24, 8),
        }
    }

    fn encrypt(self, key: &[u8], iv: &[u8], plaintext: &[u8]) -> Vec<u8> {
        match self {
            Self::Aes128 => encrypt_cbc::<Aes128>(key, iv, plaintext),
            Self::Aes192 => encrypt_cbc::<Aes192>(key, iv, plaintext),
            Self::Aes256 => encrypt_cbc::<Aes256>(key, iv, plaintext),
            Self::DesEde3 => encrypt_cbc::<TdesEde3>(key, iv, plaintext),
        }
    }
}

fn encrypt_cbc<C: BlockCipherEncrypt + KeyInit>(
    key: &[u8],
    iv: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    Encryptor::<C>::new_from_slices(key, iv)
        .expect("valid key and IV lengths")
        .encrypt_padded_vec::<Pkcs7>(plaintext)
}

/// Parses the certificate PEM of a generated key.
pub(crate) fn certificate_of(key: &GeneratedKey) -> Certificate {
    let der = crate::keys::pem::decode_block(&key.certificate_pem, "CERTIFICATE")
        .expect("a CERTIFICATE block")
        .expect("valid base64");
    Certificate::from_der(&der).expect("a valid certificate")
}

/// Encodes a generated key's certificate as DER.
pub(crate) fn certificate_der_of(key: &GeneratedKey) -> Vec<u8> {
    certificate_of(key).to_der().expect("encodable certificate")
}

/// Builds EnvelopedData for `payload`, naming `recipient`'s issuer and serial and
/// encrypting the content key with `encrypt_for`'s public key.
pub(crate) fn enveloped_data(
    payload: &[u8],
    recipient: &Certificate,
    encrypt_for: &GeneratedKey,
    cipher: TestCbcCipher,
) -> EnvelopedData {
    let (key_len, iv_len) = cipher.key_and_iv_len();
    let content_key: Vec<u8> = (0..key_len)
        .map(|i| (i as u8).wrapping_mul(37).wrapping_add(11))
        .collect();
    let iv: Vec<u8> = (0..iv_len)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(5))
        .collect();

    let encrypted_key = encrypt_for
        .private_key
        .rsa()
        .to_public_key()
        .pkcs1v15_encrypt(&content_key)
        .expect("RSA encryption succeeds");
    let ciphertext = cipher.encrypt(&content_key, &iv, payload);

    let tbs = recipient.tbs_certificate();
    let recipient_info = RecipientInfo::Ktri(KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        enc_key: OctetString::new(encrypted_key).expect("valid octet string"),
    });

    EnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: RecipientInfos(
            SetOfVec::try_from(vec![recipient_info]).expect("one recipient"),
        ),
        encrypted_content: EncryptedContentInfo {
            content_type: ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: cipher.oid(),
                parameters: Some(
                    Any::encode_from(&OctetString::new(iv).expect("valid IV"))
                        .expect("encodable IV"),
                ),
            },
            encrypted_content: Some(OctetString::new(ciphertext).expect("valid octet string")),
        },
        unprotected_attrs: None,
    }
}

/// Wraps any value in a DER ContentInfo of `content_type`.
pub(crate) fn content_info_der<T: der::EncodeValue + der::Tagged>(
    content_type: ObjectIdentifier,
    content: &T,
) -> Vec<u8> {
    ContentInfo {
        content_type,
        content: Any::encode_from(content).expect("encodable content"),
    }
    .to_der()
    .expect("encodable ContentInfo")
}

/// Seals the Apple-style payload for `key`'s own certificate as a DER token.
pub(crate) fn sealed_der(key: &GeneratedKey, cipher: TestCbcCipher) -> Vec<u8> {
    let enveloped = enveloped_data(
        APPLE_STYLE_PAYLOAD.as_bytes(),
        &certificate_of(key),
        key,
        cipher,
    );
    content_info_der(ID_ENVELOPED_DATA, &enveloped)
}

/// Base64 in 76-character lines joined by `line_ending`, as in Apple's S/MIME files.
pub(crate) fn base64_lines(der: &[u8], line_ending: &str) -> String {
    let encoded = STANDARD.encode(der);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    lines.join(line_ending)
}

/// Formats an S/MIME file in Apple's layout with the given line ending.
pub(crate) fn smime(der: &[u8], line_ending: &str) -> String {
    let headers = [
        "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data",
        "Content-Transfer-Encoding: base64",
        "Content-Disposition: attachment; filename=\"smime.p7m\"",
        "Content-Description: S/MIME Encrypted Message",
    ];
    format!(
        "{}{le}{le}{}{le}",
        headers.join(line_ending),
        base64_lines(der, line_ending),
        le = line_ending
    )
}
