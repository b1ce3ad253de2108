//! Reading the server token file an admin downloads from Apple Business Manager.
//!
//! Steps: detect the envelope (S/MIME headers + base64, PEM armour, bare BER/DER) →
//! parse the BER CMS EnvelopedData → pick the recipient by issuer and raw serial bytes →
//! unwrap the content key with RSAES-PKCS1-v1_5 → decrypt the content (AES-CBC or
//! DES-EDE3-CBC) → parse the inner MIME part and its JSON into [`TokenCredentials`].

mod content;
mod credentials;
mod envelope;
mod enveloped_data;
mod error;
mod payload;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

pub use credentials::TokenCredentials;
pub use error::TokenError;

use der::Encode;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use crate::keys::MdmPrivateKey;

use self::enveloped_data::{EnvelopeContent, KeyTransport};

/// Maximum size of an upload in bytes; larger bodies are rejected before parsing.
pub const MAX_TOKEN_FILE_BYTES: usize = 64 * 1024;

/// Parses decrypted token content (the inner MIME part and its JSON) into credentials, as
/// [`EncryptedToken::decrypt`] does after decryption. Exposed for the fuzz targets only.
#[doc(hidden)]
pub fn parse_decrypted_payload(plaintext: &[u8]) -> Result<TokenCredentials, TokenError> {
    payload::parse_payload(plaintext)
}

/// The recipient a token was encrypted for: the issuer and serial number of an MDM certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientId {
    /// The issuer `Name`, DER-encoded, as compared.
    pub issuer_der: Vec<u8>,
    /// The issuer in RFC 4514 form, for messages.
    pub issuer: String,
    /// The serial number's raw content bytes (two's complement, possibly negative), as compared.
    pub serial: Vec<u8>,
}

impl RecipientId {
    /// The serial as upper-case hex of its raw bytes.
    pub fn serial_hex(&self) -> String {
        hex::encode_upper(&self.serial)
    }

    /// Builds the identifier from a decoded issuer and serial number. The issuer is
    /// re-encoded as DER so that a certificate and a token naming the same issuer compare equal.
    pub(crate) fn from_issuer_and_serial(
        issuer: &Name,
        serial: &SerialNumber,
    ) -> Result<Self, der::Error> {
        Ok(Self {
            issuer_der: issuer.to_der()?,
            issuer: issuer.to_string(),
            serial: serial.as_bytes().to_vec(),
        })
    }

    /// Builds the `WrongRecipient` error naming this recipient.
    pub(crate) fn wrong_recipient_error(&self) -> TokenError {
        TokenError::WrongRecipient {
            issuer: self.issuer.clone(),
            serial_hex: self.serial_hex(),
        }
    }
}

/// A parsed, still encrypted token file.
pub struct EncryptedToken {
    recipients: Vec<RecipientId>,
    /// The key transport and encrypted content key of each entry of `recipients`, same order.
    encrypted_keys: Vec<(KeyTransport, Vec<u8>)>,
    content: EnvelopeContent,
}

impl std::fmt::Debug for EncryptedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedToken")
            .field("recipients", &self.recipients)
            .field("cipher", &self.content.cipher.name())
            .field("ciphertext_len", &self.content.ciphertext.len())
            .finish()
    }
}

impl EncryptedToken {
    /// Detects the envelope and parses the CMS EnvelopedData. Never decrypts.
    pub fn parse(input: &[u8]) -> Result<Self, TokenError> {
        let unwrapped = envelope::unwrap_envelope(input)?;
        let parsed = enveloped_data::parse_enveloped_data(&unwrapped.ber)?;

        tracing::debug!(
            envelope = unwrapped.kind.as_str(),
            cipher = parsed.content.cipher.name(),
            recipients = parsed.recipients.len(),
            "parsed token file"
        );

        let (recipients, encrypted_keys) = parsed
            .recipients
            .into_iter()
            .map(|entry| (entry.id, (entry.key_transport, entry.encrypted_key)))
            .unzip();
        Ok(Self {
            recipients,
            encrypted_keys,
            content: parsed.content,
        })
    }

    /// The recipients named in the file (Apple names exactly one). Only recipients identified
    /// by issuer and serial number in a KeyTransRecipientInfo are listed, because no other kind
    /// can be matched to an MDM certificate.
    pub fn recipients(&self) -> &[RecipientId] {
        &self.recipients
    }

    /// Decrypts the content for `recipient` (one of [`EncryptedToken::recipients`]) with its
    /// private key and parses the credentials. Everything that fails after the recipient
    /// matched is `Undecryptable`, except a decrypted payload that is a JSON object with
    /// missing or invalid fields (`InvalidPayload`).
    pub fn decrypt(
        &self,
        recipient: &RecipientId,
        key: &MdmPrivateKey,
    ) -> Result<TokenCredentials, TokenError> {
        let Some(index) = self
            .recipients
            .iter()
            .position(|candidate| candidate == recipient)
        else {
            return Err(recipient.wrong_recipient_error());
        };
        let (key_transport, encrypted_key) = &self.encrypted_keys[index];
        if let KeyTransport::Unsupported(name) = key_transport {
            return Err(TokenError::UnsupportedAlgorithm { name: name.clone() });
        }

        let content_key = content::unwrap_content_key(key, encrypted_key)?;
        let plaintext = content::decrypt_content(&self.content, &content_key)?;
        payload::parse_payload(&plaintext)
    }
}
