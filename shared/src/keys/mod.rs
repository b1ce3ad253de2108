//! The MDM server's RSA key pairs and the self-signed certificates ABM encrypts tokens for.

mod certificate;
mod matching;
pub(crate) mod pem;

use std::fmt;

use chrono::{DateTime, Utc};
use rand::CryptoRng;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};

use crate::domain::{ServerName, TenantId};
use crate::secret::SecretBytes;
use crate::token::RecipientId;

pub use certificate::recipient_of_certificate;
pub use matching::match_recipient;

/// Size of the RSA modulus of generated keys. ABM encrypts with the certificate's RSA key, and
/// 2048 bits is what MDM vendors use.
pub const MDM_KEY_BITS: usize = 2048;

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
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        rsa::PrivateKey::from_pkcs8_der(der)
            .map(Self)
            .map_err(|_| KeyError::InvalidPrivateKey)
    }

    /// Reads a DER private key, PKCS#8 (`PrivateKeyInfo`) or PKCS#1 (`RSAPrivateKey`).
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::from_pkcs8_der(der).or_else(|_| {
            rsa::PrivateKey::from_pkcs1_der(der)
                .map(Self)
                .map_err(|_| KeyError::InvalidPrivateKey)
        })
    }

    /// Reads a PEM private key, PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`).
    /// Text around the block, a UTF-8 BOM and CRLF line endings are accepted.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        if let Some(der) = pem::decode_block(pem, "RSA PRIVATE KEY") {
            let der = der.map_err(|_| KeyError::InvalidPrivateKey)?;
            return rsa::PrivateKey::from_pkcs1_der(&der)
                .map(Self)
                .map_err(|_| KeyError::InvalidPrivateKey);
        }
        if let Some(der) = pem::decode_block(pem, "PRIVATE KEY") {
            let der = der.map_err(|_| KeyError::InvalidPrivateKey)?;
            return Self::from_pkcs8_der(&der);
        }
        Err(KeyError::InvalidPrivateKey)
    }

    /// Encodes the key as PKCS#8 DER in a zeroizing buffer, for sealing.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes, KeyError> {
        let document = self
            .0
            .to_pkcs8_der()
            .map_err(|_| KeyError::InvalidPrivateKey)?;
        Ok(SecretBytes::new(document.as_bytes().to_vec()))
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
/// serial and a subject naming the tenant and the server, valid from one hour before `now`
/// until 10 years after it. Uses the thread-local CSPRNG of `rand`.
pub fn generate_mdm_key(
    tenant: &TenantId,
    server: &ServerName,
    now: DateTime<Utc>,
) -> Result<GeneratedKey, KeyError> {
    generate_mdm_key_with_rng(tenant, server, now, &mut rand::rng())
}

/// [`generate_mdm_key`] with the random number generator passed in.
///
/// The certificate's validity starts one hour before `now`, to tolerate clock skew on the
/// machine that checks it, and ends 10 years after `now`.
pub fn generate_mdm_key_with_rng<R: CryptoRng + ?Sized>(
    tenant: &TenantId,
    server: &ServerName,
    now: DateTime<Utc>,
    rng: &mut R,
) -> Result<GeneratedKey, KeyError> {
    let private_key = rsa::PrivateKey::new(rng, MDM_KEY_BITS)
        .map_err(|error| KeyError::Generation(error.to_string()))?;
    let issued = certificate::issue_self_signed(&private_key, tenant, server, now, rng)?;

    Ok(GeneratedKey {
        private_key: MdmPrivateKey(private_key),
        certificate_pem: issued.pem,
        recipient: issued.recipient,
    })
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
