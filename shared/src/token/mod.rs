//! Reading the server token file an admin downloads from Apple Business Manager.
//!
//! Steps: detect the envelope (S/MIME headers + base64, PEM armour, bare BER/DER) →
//! parse the BER CMS EnvelopedData → pick the recipient by issuer and raw serial bytes →
//! unwrap the content key with RSAES-PKCS1-v1_5 → decrypt the content (AES-CBC or
//! DES-EDE3-CBC) → parse the inner MIME part and its JSON into [`TokenCredentials`].

mod credentials;
mod error;

pub use credentials::TokenCredentials;
pub use error::TokenError;

use crate::keys::MdmPrivateKey;

/// Maximum size of an upload in bytes; larger bodies are rejected before parsing.
pub const MAX_TOKEN_FILE_BYTES: usize = 64 * 1024;

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
}

/// A parsed, still encrypted token file.
pub struct EncryptedToken {
    // Filled by the implementation: the recipients and the encrypted content.
    _private: (),
}

impl EncryptedToken {
    /// Detects the envelope and parses the CMS EnvelopedData. Never decrypts.
    pub fn parse(_input: &[u8]) -> Result<Self, TokenError> {
        todo!("token reading")
    }

    /// The recipients named in the file (Apple names exactly one).
    pub fn recipients(&self) -> &[RecipientId] {
        todo!("token reading")
    }

    /// Decrypts the content for `recipient` (one of [`EncryptedToken::recipients`]) with its
    /// private key and parses the credentials. Everything that fails after the recipient
    /// matched is `Undecryptable`, except a decrypted payload that is a JSON object with
    /// missing or invalid fields (`InvalidPayload`).
    pub fn decrypt(&self, _recipient: &RecipientId, _key: &MdmPrivateKey) -> Result<TokenCredentials, TokenError> {
        todo!("token reading")
    }
}
