//! The MDM server's RSA key pairs and the self-signed certificates ABM encrypts tokens for.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::domain::{ServerName, TenantId};
use crate::secret::SecretBytes;
use crate::token::RecipientId;

/// Why key material could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("invalid private key")]
    InvalidPrivateKey,
    #[error("invalid certificate")]
    InvalidCertificate,
    #[error("key generation failed: {0}")]
    Generation(String),
}

/// An RSA private key of an MDM server. `Debug` prints a placeholder; the key is zeroized on drop.
pub struct MdmPrivateKey(pub(crate) rsa::PrivateKey);

impl fmt::Debug for MdmPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MdmPrivateKey([redacted])")
    }
}

impl MdmPrivateKey {
    /// Reads a PKCS#8 DER private key.
    pub fn from_pkcs8_der(_der: &[u8]) -> Result<Self, KeyError> {
        todo!("keys")
    }

    /// Reads a PEM private key, PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`).
    pub fn from_pem(_pem: &str) -> Result<Self, KeyError> {
        todo!("keys")
    }

    /// Encodes the key as PKCS#8 DER in a zeroizing buffer, for sealing.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes, KeyError> {
        todo!("keys")
    }

    /// The underlying RSA key.
    pub fn rsa(&self) -> &rsa::PrivateKey {
        &self.0
    }
}

/// A new key pair with its self-signed certificate.
#[derive(Debug)]
pub struct GeneratedKey {
    pub private_key: MdmPrivateKey,
    pub certificate_pem: String,
    pub recipient: RecipientId,
}

/// Generates an RSA-2048 key pair and a self-signed certificate with a random positive
/// serial and a subject naming the tenant and the server, valid from `now` for 10 years.
pub fn generate_mdm_key(_tenant: &TenantId, _server: &ServerName, _now: DateTime<Utc>) -> Result<GeneratedKey, KeyError> {
    todo!("keys")
}

/// The issuer and serial of a certificate given as PEM or DER, as a token would name it.
pub fn recipient_of_certificate(_pem_or_der: &[u8]) -> Result<RecipientId, KeyError> {
    todo!("keys")
}
