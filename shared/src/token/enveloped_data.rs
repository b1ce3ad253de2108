//! Parsing of the BER-encoded CMS EnvelopedData (RFC 5652 section 6): the recipients and the
//! encrypted content with its algorithm.
//!
//! Apple encodes the object with indefinite lengths and a constructed OCTET STRING for the
//! encrypted content. Strict DER parsing rejects that, so the object is read with BER rules.

use cms::content_info::ContentInfo;
use cms::enveloped_data::{EnvelopedData, RecipientIdentifier, RecipientInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, EncodingRules, Reader, SliceReader};
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::{RecipientId, TokenError};

const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const AES_128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES_192_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES_256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
const DES_EDE3_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.7");

/// Names of algorithms that appear in CMS objects but are not accepted here, for messages.
/// Any other unsupported algorithm is named by its dotted OID.
const UNSUPPORTED_ALGORITHM_NAMES: [(&str, &str); 8] = [
    ("1.2.840.113549.1.1.7", "RSAES-OAEP"),
    ("1.2.840.113549.3.2", "RC2-CBC"),
    ("1.2.840.113549.3.4", "RC4"),
    ("1.3.14.3.2.7", "DES-CBC"),
    ("2.16.840.1.101.3.4.1.6", "AES-128-GCM"),
    ("2.16.840.1.101.3.4.1.26", "AES-192-GCM"),
    ("2.16.840.1.101.3.4.1.46", "AES-256-GCM"),
    ("1.2.840.113549.1.9.16.3.18", "ChaCha20-Poly1305"),
];

/// A CBC content encryption algorithm this crate can decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CbcCipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
}

impl CbcCipher {
    fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            AES_128_CBC => Some(Self::Aes128),
            AES_192_CBC => Some(Self::Aes192),
            AES_256_CBC => Some(Self::Aes256),
            DES_EDE3_CBC => Some(Self::DesEde3),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Aes128 => "AES-128-CBC",
            Self::Aes192 => "AES-192-CBC",
            Self::Aes256 => "AES-256-CBC",
            Self::DesEde3 => "DES-EDE3-CBC",
        }
    }

    /// Block size in bytes, which is also the IV size.
    pub(crate) fn block_len(self) -> usize {
        match self {
            Self::Aes128 | Self::Aes192 | Self::Aes256 => 16,
            Self::DesEde3 => 8,
        }
    }
}

/// Key transport algorithm of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyTransport {
    /// `rsaEncryption`, which CMS uses for RSAES-PKCS1-v1_5.
    RsaPkcs1v15,
    /// Any other algorithm, by name or dotted OID.
    Unsupported(String),
}

/// One KeyTransRecipientInfo identified by issuer and serial number.
#[derive(Debug)]
pub(crate) struct RecipientEntry {
    pub id: RecipientId,
    pub key_transport: KeyTransport,
    pub encrypted_key: Vec<u8>,
}

/// Encrypted content with its CBC cipher and IV.
#[derive(Debug)]
pub(crate) struct EnvelopeContent {
    pub cipher: CbcCipher,
    pub iv: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct ParsedEnvelope {
    pub recipients: Vec<RecipientEntry>,
    pub content: EnvelopeContent,
}

/// Parses a BER ContentInfo holding EnvelopedData.
///
/// Recipients identified by SubjectKeyIdentifier and recipients of other kinds than
/// KeyTransRecipientInfo are left out because no MDM certificate can be matched to them.
/// Returns `UnsupportedAlgorithm` when the content cipher is not AES-CBC or DES-EDE3-CBC,
/// or when no listed recipient uses `rsaEncryption`.
pub(crate) fn parse_enveloped_data(ber: &[u8]) -> Result<ParsedEnvelope, TokenError> {
    let content_info = decode_content_info(ber)?;
    if content_info.content_type != ID_ENVELOPED_DATA {
        return Err(TokenError::Malformed {
            reason: "the CMS object is not EnvelopedData",
        });
    }
    let enveloped: EnvelopedData = content_info
        .content
        .decode_as_encoding(EncodingRules::Ber)
        .map_err(|_| TokenError::Malformed {
            reason: "the EnvelopedData is not valid BER",
        })?;

    let recipients = collect_recipients(&enveloped)?;
    let content = read_content(&enveloped)?;
    Ok(ParsedEnvelope {
        recipients,
        content,
    })
}

/// Decodes the ContentInfo, tolerating trailing whitespace or NUL bytes after it (a newline
/// appended by an editor, zero padding of a block device).
fn decode_content_info(ber: &[u8]) -> Result<ContentInfo, TokenError> {
    const INVALID: TokenError = TokenError::Malformed {
        reason: "the CMS object is not valid BER",
    };

    let mut reader =
        SliceReader::new_with_encoding_rules(ber, EncodingRules::Ber).map_err(|_| INVALID)?;
    let content_info = ContentInfo::decode(&mut reader).map_err(|_| INVALID)?;
    let consumed = usize::try_from(reader.position()).map_err(|_| INVALID)?;

    let trailing = ber.get(consumed..).unwrap_or_default();
    if !trailing
        .iter()
        .all(|byte| byte.is_ascii_whitespace() || *byte == 0)
    {
        return Err(TokenError::Malformed {
            reason: "the CMS object is followed by unexpected data",
        });
    }
    Ok(content_info)
}

fn collect_recipients(enveloped: &EnvelopedData) -> Result<Vec<RecipientEntry>, TokenError> {
    let mut recipients = Vec::new();
    for info in enveloped.recip_infos.0.iter() {
        let RecipientInfo::Ktri(ktri) = info else {
            continue;
        };
        let RecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial) = &ktri.rid else {
            continue;
        };
        let id = RecipientId::from_issuer_and_serial(
            &issuer_and_serial.issuer,
            &issuer_and_serial.serial_number,
        )
        .map_err(|_| TokenError::Malformed {
            reason: "the recipient issuer cannot be encoded",
        })?;
        let key_transport = if ktri.key_enc_alg.oid == RSA_ENCRYPTION {
            KeyTransport::RsaPkcs1v15
        } else {
            KeyTransport::Unsupported(algorithm_name(ktri.key_enc_alg.oid))
        };
        recipients.push(RecipientEntry {
            id,
            key_transport,
            encrypted_key: ktri.enc_key.as_bytes().to_vec(),
        });
    }

    let any_rsa = recipients
        .iter()
        .any(|entry| entry.key_transport == KeyTransport::RsaPkcs1v15);
    if !any_rsa
        && let Some(KeyTransport::Unsupported(name)) =
            recipients.first().map(|entry| &entry.key_transport)
    {
        return Err(TokenError::UnsupportedAlgorithm { name: name.clone() });
    }
    Ok(recipients)
}

fn read_content(enveloped: &EnvelopedData) -> Result<EnvelopeContent, TokenError> {
    let info = &enveloped.encrypted_content;
    let cipher = CbcCipher::from_oid(info.content_enc_alg.oid).ok_or_else(|| {
        TokenError::UnsupportedAlgorithm {
            name: algorithm_name(info.content_enc_alg.oid),
        }
    })?;
    let iv = read_iv(&info.content_enc_alg, cipher)?;

    let ciphertext = info
        .encrypted_content
        .as_ref()
        .map(|content| content.as_bytes().to_vec())
        .ok_or(TokenError::Malformed {
            reason: "the EnvelopedData has no encrypted content",
        })?;
    if ciphertext.is_empty() || ciphertext.len() % cipher.block_len() != 0 {
        return Err(TokenError::Malformed {
            reason: "the encrypted content length is not a multiple of the cipher block size",
        });
    }
    Ok(EnvelopeContent {
        cipher,
        iv,
        ciphertext,
    })
}

/// Reads the IV, which CBC algorithm identifiers carry as an OCTET STRING parameter.
fn read_iv(algorithm: &AlgorithmIdentifierOwned, cipher: CbcCipher) -> Result<Vec<u8>, TokenError> {
    const INVALID_IV: TokenError = TokenError::Malformed {
        reason: "the content encryption IV is missing or has the wrong length",
    };

    let parameters = algorithm.parameters.as_ref().ok_or(INVALID_IV)?;
    let iv: OctetString = parameters.decode_as().map_err(|_| INVALID_IV)?;
    if iv.as_bytes().len() != cipher.block_len() {
        return Err(INVALID_IV);
    }
    Ok(iv.as_bytes().to_vec())
}

fn algorithm_name(oid: ObjectIdentifier) -> String {
    let dotted = oid.to_string();
    UNSUPPORTED_ALGORITHM_NAMES
        .iter()
        .find(|(known, _)| *known == dotted)
        .map_or(dotted.clone(), |(_, name)| (*name).to_owned())
}
