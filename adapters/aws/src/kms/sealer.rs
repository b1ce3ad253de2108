//! [`CredentialSealer`] on KMS.

use async_trait::async_trait;
use aws_sdk_kms::Client;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use deptoken_shared::domain::{ServerName, TenantId};
use deptoken_shared::ports::{CredentialSealer, VaultError};
use deptoken_shared::secret::SecretText;
use zeroize::Zeroize;

use super::cipher::KmsCipher;

/// The `purpose` in the encryption context of token credentials.
const PURPOSE: &str = "token-credential";

/// Seals each token credential with KMS `Encrypt` under the encryption context
/// `{tenant, server, purpose: "token-credential"}`; the sealed form is the base64 (standard
/// alphabet, padded) of the ciphertext blob.
#[derive(Debug, Clone)]
pub struct KmsCredentialSealer {
    cipher: KmsCipher,
}

impl KmsCredentialSealer {
    /// Creates a sealer that encrypts with `key_id` (key id, ARN or alias).
    pub fn new(client: Client, key_id: String) -> Self {
        Self { cipher: KmsCipher::new(client, key_id) }
    }
}

fn context<'a>(tenant: &'a TenantId, server: &'a ServerName) -> [(&'static str, &'a str); 3] {
    [("tenant", tenant.as_str()), ("server", server.as_str()), ("purpose", PURPOSE)]
}

#[async_trait]
impl CredentialSealer for KmsCredentialSealer {
    #[tracing::instrument(skip_all, fields(tenant = %tenant, server = %server))]
    async fn seal(&self, tenant: &TenantId, server: &ServerName, value: &SecretText) -> Result<String, VaultError> {
        let ciphertext = self.cipher.encrypt(&context(tenant, server), value.expose().as_bytes()).await?;

        Ok(STANDARD.encode(ciphertext))
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, server = %server))]
    async fn open(&self, tenant: &TenantId, server: &ServerName, sealed: &str) -> Result<SecretText, VaultError> {
        let ciphertext = STANDARD.decode(sealed).map_err(|_| VaultError::Rejected)?;

        let mut plaintext = self.cipher.decrypt(&context(tenant, server), &ciphertext).await?;

        match String::from_utf8(std::mem::take(&mut *plaintext)) {
            Ok(text) => Ok(SecretText::new(text)),
            Err(err) => {
                err.into_bytes().zeroize();
                Err(VaultError::Rejected)
            }
        }
    }
}
