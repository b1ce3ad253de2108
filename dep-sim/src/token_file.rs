//! Server token files as Apple Business Manager issues them: an S/MIME entity whose body is
//! the base64 of a CMS EnvelopedData encrypted for the MDM server's certificate.
//!
//! Steps:
//! 1. Wrap the JSON payload in the inner MIME part (CRLF headers, LF around the
//!    `-----BEGIN MESSAGE-----` lines).
//! 2. Encrypt it with a random AES-128-CBC key and IV, with PKCS#7 padding.
//! 3. Encrypt that key with the certificate's RSA key (RSAES-PKCS1-v1_5) in one
//!    KeyTransRecipientInfo that names the certificate's issuer and serial number.
//! 4. DER-encode the ContentInfo and write it as base64 in 76-character lines after the four
//!    S/MIME headers.
//!
//! ABM encodes the CMS object as BER with indefinite lengths; this module writes DER, which is
//! valid BER, so readers see the same structure with definite lengths.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cms::builder::{ContentEncryptionAlgorithm, EnvelopedDataBuilder, KeyEncryptionInfo, KeyTransRecipientInfoBuilder};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::ContentInfo;
use cms::enveloped_data::RecipientIdentifier;
use der::asn1::ObjectIdentifier;
use der::{Any, Decode as _, DecodePem as _, Encode as _, Reader as _, SliceReader, Tag};
use rsa::pkcs8::DecodePublicKey as _;
use x509_cert::Certificate;
use x509_cert::name::Name;

/// `id-envelopedData` (RFC 5652 section 6.1).
const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");

/// The S/MIME headers of an ABM token file, in ABM's order.
const SMIME_HEADERS: &str = "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data\n\
Content-Transfer-Encoding: base64\n\
Content-Disposition: attachment; filename=\"smime.p7m\"\n\
Content-Description: S/MIME Encrypted Message\n";

/// Length of the base64 lines of the token file body.
const BASE64_LINE_LENGTH: usize = 76;

/// Errors issuing a token file for a certificate.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("the certificate is not a PEM X.509 certificate: {0}")]
    InvalidCertificate(#[source] der::Error),
    #[error("the certificate's public key is not an RSA key")]
    NotAnRsaKey,
    #[error("the certificate's issuer or serial number is not in DER form and cannot be copied byte for byte")]
    NonCanonicalIssuer,
    #[error("the CMS EnvelopedData could not be built: {0}")]
    Cms(String),
}

/// Builds a server token file for the certificate `certificate_pem` whose encrypted content is
/// `payload_json` between `-----BEGIN MESSAGE-----` and `-----END MESSAGE-----` lines, exactly
/// as ABM does. The content key and IV are random, so two calls never return the same file.
pub fn issue_token_file(certificate_pem: &str, payload_json: &str) -> Result<String, IssueError> {
    let certificate = Certificate::from_pem(certificate_pem.as_bytes()).map_err(IssueError::InvalidCertificate)?;
    let recipient = recipient_of(&certificate)?;
    let public_key = public_key_of(&certificate)?;

    let content = inner_mime_part(payload_json);
    let mut rng = rand::rng();
    let mut builder = EnvelopedDataBuilder::new(None, content.as_bytes(), ContentEncryptionAlgorithm::Aes128Cbc, None)
        .map_err(|error| IssueError::Cms(error.to_string()))?;
    let recipient_info = KeyTransRecipientInfoBuilder::new(recipient, KeyEncryptionInfo::Rsa(public_key))
        .map_err(|error| IssueError::Cms(error.to_string()))?;
    builder
        .add_recipient_info(recipient_info)
        .map_err(|error| IssueError::Cms(error.to_string()))?;
    let enveloped_data = builder
        .build_with_rng(&mut rng)
        .map_err(|error| IssueError::Cms(error.to_string()))?;

    let content_info = ContentInfo {
        content_type: ID_ENVELOPED_DATA,
        content: Any::encode_from(&enveloped_data).map_err(|error| IssueError::Cms(error.to_string()))?,
    };
    let der = content_info.to_der().map_err(|error| IssueError::Cms(error.to_string()))?;

    Ok(smime_entity(&der))
}

/// Builds the inner MIME part ABM encrypts: CRLF header lines, then the JSON between LF-terminated
/// marker lines.
fn inner_mime_part(payload_json: &str) -> String {
    format!(
        "Content-Type: text/plain;charset=UTF-8\r\n\
         Content-Transfer-Encoding: 7bit\r\n\
         \r\n\
         -----BEGIN MESSAGE-----\n\
         {payload_json}\n\
         -----END MESSAGE-----\n"
    )
}

/// Writes the four S/MIME headers, a blank line and the base64 body in 76-character lines, LF-terminated.
fn smime_entity(der: &[u8]) -> String {
    let encoded = BASE64.encode(der);
    let mut file = String::with_capacity(SMIME_HEADERS.len() + encoded.len() + encoded.len() / BASE64_LINE_LENGTH + 2);
    file.push_str(SMIME_HEADERS);
    file.push('\n');

    // Base64 output is ASCII, so splitting at any byte offset keeps characters whole.
    for line in encoded.as_bytes().chunks(BASE64_LINE_LENGTH) {
        file.push_str(&String::from_utf8_lossy(line));
        file.push('\n');
    }
    file
}

/// Builds the recipient identifier from the certificate's issuer and serial number. It is
/// checked to re-encode to the certificate's own bytes, because readers compare them raw
/// (a negative serial number included).
fn recipient_of(certificate: &Certificate) -> Result<RecipientIdentifier, IssueError> {
    let certificate_der = certificate.to_der().map_err(IssueError::InvalidCertificate)?;
    let (raw_serial, raw_issuer) = raw_serial_and_issuer(&certificate_der).map_err(IssueError::InvalidCertificate)?;

    let issuer = Name::from_der(raw_issuer).map_err(IssueError::InvalidCertificate)?;
    let serial_number = certificate.tbs_certificate().serial_number().clone();

    let issuer_copied = issuer.to_der().is_ok_and(|der| der == raw_issuer);
    let serial_copied = serial_number.to_der().is_ok_and(|der| der == raw_serial);
    if !issuer_copied || !serial_copied {
        return Err(IssueError::NonCanonicalIssuer);
    }

    Ok(RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber { issuer, serial_number }))
}

/// Finds the raw TLV bytes of the serial number and the issuer inside a DER certificate.
fn raw_serial_and_issuer(certificate_der: &[u8]) -> der::Result<(&[u8], &[u8])> {
    let mut reader = SliceReader::new(certificate_der)?;
    reader.sequence(|certificate| {
        let fields = certificate.sequence(|tbs| {
            // The version is an optional [0] EXPLICIT field before the serial number INTEGER.
            if Tag::peek(tbs)? != Tag::Integer {
                tbs.tlv_bytes()?;
            }
            let serial = tbs.tlv_bytes()?;
            let _signature_algorithm = tbs.tlv_bytes()?;
            let issuer = tbs.tlv_bytes()?;
            tbs.read_slice(tbs.remaining_len())?;
            Ok::<_, der::Error>((serial, issuer))
        })?;
        certificate.read_slice(certificate.remaining_len())?;
        Ok(fields)
    })
}

fn public_key_of(certificate: &Certificate) -> Result<rsa::PublicKey, IssueError> {
    let spki_der = certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(IssueError::InvalidCertificate)?;
    rsa::PublicKey::from_public_key_der(&spki_der).map_err(|_| IssueError::NotAnRsaKey)
}

#[cfg(test)]
mod tests {
    use aes::cipher::{BlockModeDecrypt as _, KeyIvInit as _};
    use cms::enveloped_data::{EnvelopedData, RecipientInfo};
    use rsa::pkcs8::DecodePrivateKey as _;

    use super::*;

    /// A test MDM certificate with a negative serial number; see `tests/fixtures/README.md`.
    const CERTIFICATE_PEM: &str = include_str!("../tests/fixtures/test-mdm.crt.pem");
    const PRIVATE_KEY_PEM: &str = include_str!("../tests/fixtures/test-mdm.key.pem");
    const PAYLOAD: &str = r#"{"consumer_key":"CK_1","consumer_secret":"CS_1","access_token":"AT_1","access_secret":"AS_1","access_token_expiry":"2027-01-17T11:02:21Z"}"#;

    fn cms_of(file: &str) -> Vec<u8> {
        let (_, body) = file.split_once("\n\n").unwrap();
        let joined: String = body.lines().collect();
        BASE64.decode(joined).unwrap()
    }

    fn enveloped_data_of(file: &str) -> EnvelopedData {
        let content_info = ContentInfo::from_der(&cms_of(file)).unwrap();
        assert_eq!(content_info.content_type, ID_ENVELOPED_DATA);
        content_info.content.decode_as::<EnvelopedData>().unwrap()
    }

    fn decrypt(enveloped_data: &EnvelopedData) -> Vec<u8> {
        let key = rsa::PrivateKey::from_pkcs8_pem(PRIVATE_KEY_PEM).unwrap();
        let RecipientInfo::Ktri(recipient) = enveloped_data.recip_infos.0.get(0).unwrap() else {
            panic!("expected a KeyTransRecipientInfo");
        };
        let content_key = key.decrypt(rsa::Pkcs1v15Encrypt, recipient.enc_key.as_bytes()).unwrap();
        let algorithm = &enveloped_data.encrypted_content.content_enc_alg;
        let iv = algorithm.parameters.as_ref().unwrap().decode_as::<der::asn1::OctetString>().unwrap();
        let ciphertext = enveloped_data.encrypted_content.encrypted_content.as_ref().unwrap();

        cbc::Decryptor::<aes::Aes128>::new_from_slices(&content_key, iv.as_bytes())
            .unwrap()
            .decrypt_padded_vec::<aes::cipher::block_padding::Pkcs7>(ciphertext.as_bytes())
            .unwrap()
    }

    #[test]
    fn token_file_has_abm_headers() {
        let file = issue_token_file(CERTIFICATE_PEM, PAYLOAD).unwrap();

        let (headers, _) = file.split_once("\n\n").unwrap();

        assert_eq!(format!("{headers}\n"), SMIME_HEADERS);
    }

    #[test]
    fn token_file_body_is_76_column_base64() {
        let file = issue_token_file(CERTIFICATE_PEM, PAYLOAD).unwrap();

        let (_, body) = file.split_once("\n\n").unwrap();
        let lines: Vec<&str> = body.lines().collect();

        assert!(lines.len() > 2);
        assert!(lines[..lines.len() - 1].iter().all(|line| line.len() == BASE64_LINE_LENGTH));
        assert!(lines.last().unwrap().len() <= BASE64_LINE_LENGTH);
        assert!(file.ends_with('\n'));
    }

    #[test]
    fn token_file_names_certificate_issuer_and_serial() {
        let certificate = Certificate::from_pem(CERTIFICATE_PEM.as_bytes()).unwrap();
        let certificate_der = certificate.to_der().unwrap();
        let (raw_serial, raw_issuer) = raw_serial_and_issuer(&certificate_der).unwrap();

        let enveloped_data = enveloped_data_of(&issue_token_file(CERTIFICATE_PEM, PAYLOAD).unwrap());
        let RecipientInfo::Ktri(recipient) = enveloped_data.recip_infos.0.get(0).unwrap() else {
            panic!("expected a KeyTransRecipientInfo");
        };
        let RecipientIdentifier::IssuerAndSerialNumber(id) = &recipient.rid else {
            panic!("expected issuerAndSerialNumber");
        };

        assert_eq!(enveloped_data.recip_infos.0.len(), 1);
        assert_eq!(id.issuer.to_der().unwrap(), raw_issuer);
        assert_eq!(id.serial_number.to_der().unwrap(), raw_serial);
        assert_eq!(raw_serial[2] & 0x80, 0x80, "the fixture's serial number is negative");
    }

    #[test]
    fn token_file_uses_rsa_pkcs1_and_aes128_cbc() {
        let enveloped_data = enveloped_data_of(&issue_token_file(CERTIFICATE_PEM, PAYLOAD).unwrap());
        let RecipientInfo::Ktri(recipient) = enveloped_data.recip_infos.0.get(0).unwrap() else {
            panic!("expected a KeyTransRecipientInfo");
        };

        assert_eq!(recipient.key_enc_alg.oid.to_string(), "1.2.840.113549.1.1.1");
        assert_eq!(
            enveloped_data.encrypted_content.content_enc_alg.oid.to_string(),
            "2.16.840.1.101.3.4.1.2"
        );
    }

    #[test]
    fn token_file_decrypts_to_abm_mime_part() {
        let enveloped_data = enveloped_data_of(&issue_token_file(CERTIFICATE_PEM, PAYLOAD).unwrap());

        let content = decrypt(&enveloped_data);

        let expected = format!(
            "Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\
             -----BEGIN MESSAGE-----\n{PAYLOAD}\n-----END MESSAGE-----\n"
        );
        assert_eq!(String::from_utf8(content).unwrap(), expected);
    }

    #[test]
    fn token_files_differ_per_call() {
        let first = issue_token_file(CERTIFICATE_PEM, PAYLOAD).unwrap();
        let second = issue_token_file(CERTIFICATE_PEM, PAYLOAD).unwrap();

        assert_ne!(first, second);
    }

    #[test]
    fn issue_rejects_non_certificates() {
        let cases = [
            ("empty", ""),
            ("private key", PRIVATE_KEY_PEM),
            ("garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        ];

        for (label, input) in cases {
            let result = issue_token_file(input, PAYLOAD);

            assert!(matches!(result, Err(IssueError::InvalidCertificate(_))), "{label}");
        }
    }
}
