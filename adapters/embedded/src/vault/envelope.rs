//! The sealed format: `version (1 byte) || nonce (12 bytes) || AES-256-GCM ciphertext and tag`.
//!
//! The associated data binds each sealed value to its context (purpose, tenant and the key id
//! or server), so a value moved to another item, tenant or purpose fails to open.

use aes_gcm::aead::{Aead, Nonce, Payload};
use aes_gcm::Aes256Gcm;

use deptoken_shared::ports::VaultError;

/// The first byte of every sealed value; a later format gets another number.
const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 1 + NONCE_LEN;
const TAG_LEN: usize = 16;

/// The purpose of a sealed value, which is part of the associated data.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    MdmPrivateKey,
    TokenCredential,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::MdmPrivateKey => "mdm-private-key",
            Purpose::TokenCredential => "token-credential",
        }
    }

    /// Returns the name of the field that identifies the sealed item within the tenant.
    fn subject_field(self) -> &'static str {
        match self {
            Purpose::MdmPrivateKey => "key_id",
            Purpose::TokenCredential => "server",
        }
    }
}

/// The context a value is sealed in: purpose, tenant, and the key id or server name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SealContext<'a> {
    pub(crate) purpose: Purpose,
    pub(crate) tenant: &'a str,
    pub(crate) subject: &'a str,
}

impl SealContext<'_> {
    /// Encodes the context as the associated data: the format version, then each field as a
    /// length-prefixed name and a length-prefixed value, so that no two contexts encode alike.
    fn associated_data(&self) -> Vec<u8> {
        let fields = [
            ("purpose", self.purpose.as_str()),
            ("tenant", self.tenant),
            (self.purpose.subject_field(), self.subject),
        ];
        let mut encoded = vec![FORMAT_VERSION];
        for (name, value) in fields {
            for part in [name, value] {
                // Identifiers are at most 128 bytes, far below the u32 limit.
                let length = u32::try_from(part.len()).unwrap_or(u32::MAX);
                encoded.extend_from_slice(&length.to_be_bytes());
                encoded.extend_from_slice(part.as_bytes());
            }
        }
        encoded
    }
}

/// Seals `plaintext` under a fresh random nonce.
pub(crate) fn seal(cipher: &Aes256Gcm, context: SealContext<'_>, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    let mut nonce_bytes = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce_bytes).map_err(|error| VaultError::Unavailable(Box::new(error)))?;
    let nonce = Nonce::<Aes256Gcm>::from(nonce_bytes);

    let aad = context.associated_data();
    let ciphertext = cipher
        .encrypt(&nonce, Payload { msg: plaintext, aad: &aad })
        // Fails only for a plaintext beyond AES-GCM's 64 GiB limit.
        .map_err(|error| VaultError::Unavailable(Box::new(error)))?;

    let mut sealed = Vec::with_capacity(HEADER_LEN + ciphertext.len());
    sealed.push(FORMAT_VERSION);
    sealed.extend_from_slice(&nonce_bytes);
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// Opens a value sealed by [`seal`] in the same context. Any other context, format version,
/// length or a changed byte is `Rejected`, without saying which.
pub(crate) fn open(cipher: &Aes256Gcm, context: SealContext<'_>, sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
    if sealed.len() < HEADER_LEN + TAG_LEN || sealed[0] != FORMAT_VERSION {
        return Err(VaultError::Rejected);
    }
    let nonce = Nonce::<Aes256Gcm>::try_from(&sealed[1..HEADER_LEN]).map_err(|_| VaultError::Rejected)?;

    let aad = context.associated_data();
    cipher
        .decrypt(&nonce, Payload { msg: &sealed[HEADER_LEN..], aad: &aad })
        .map_err(|_| VaultError::Rejected)
}

#[cfg(test)]
mod tests {
    use aes_gcm::KeyInit;

    use super::*;

    fn cipher() -> Aes256Gcm {
        Aes256Gcm::new(&[7u8; 32].into())
    }

    fn context(purpose: Purpose, tenant: &'static str, subject: &'static str) -> SealContext<'static> {
        SealContext {
            purpose,
            tenant,
            subject,
        }
    }

    #[test]
    fn sealed_layout_is_version_nonce_ciphertext_tag() {
        let plaintext = b"private key bytes";

        let sealed = seal(&cipher(), context(Purpose::MdmPrivateKey, "acme", "k1"), plaintext).unwrap();

        assert_eq!(sealed[0], FORMAT_VERSION, "version byte");
        assert_eq!(sealed.len(), HEADER_LEN + plaintext.len() + TAG_LEN, "length");
    }

    #[test]
    fn associated_data_differs_by_purpose() {
        let key = context(Purpose::MdmPrivateKey, "acme", "tokyo").associated_data();

        let credential = context(Purpose::TokenCredential, "acme", "tokyo").associated_data();

        assert_ne!(key, credential);
    }

    #[test]
    fn associated_data_keeps_field_boundaries() {
        let split_early = context(Purpose::TokenCredential, "ab", "c").associated_data();

        let split_late = context(Purpose::TokenCredential, "a", "bc").associated_data();

        assert_ne!(split_early, split_late);
    }

    #[test]
    fn unknown_format_version_is_rejected() {
        let context = context(Purpose::MdmPrivateKey, "acme", "k1");
        let mut sealed = seal(&cipher(), context, b"private key bytes").unwrap();
        sealed[0] = FORMAT_VERSION + 1;

        let result = open(&cipher(), context, &sealed);

        assert!(matches!(result, Err(VaultError::Rejected)), "{result:?}");
    }
}
