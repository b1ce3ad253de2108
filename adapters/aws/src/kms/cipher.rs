//! KMS `Encrypt` and `Decrypt` under one key with an encryption context.

use aws_sdk_kms::Client;
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use deptoken_shared::ports::VaultError;
use zeroize::Zeroizing;

/// Error codes that mean the ciphertext does not belong to this key and context, or is
/// corrupted. KMS does not say which, by design.
const REJECTED_CODES: [&str; 2] = ["InvalidCiphertextException", "IncorrectKeyException"];

/// The error code with which KMS throttles a request (the SDK has retried it already).
const THROTTLING_CODE: &str = "ThrottlingException";

/// A KMS response lacked a field that the operation always returns.
#[derive(Debug, thiserror::Error)]
#[error("KMS {operation} response has no {field}")]
struct MissingField {
    operation: &'static str,
    field: &'static str,
}

/// Encrypts and decrypts small values (at most 4096 bytes) directly with one KMS key.
#[derive(Debug, Clone)]
pub(crate) struct KmsCipher {
    client: Client,
    key_id: String,
}

impl KmsCipher {
    pub(crate) fn new(client: Client, key_id: String) -> Self {
        Self { client, key_id }
    }

    /// Encrypts `plaintext` bound to `context`; returns the ciphertext blob.
    ///
    /// NOTE: the SDK copies the plaintext into its request body, which is not zeroized.
    pub(crate) async fn encrypt(&self, context: &[(&str, &str)], plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let mut request = self.client.encrypt().key_id(&self.key_id).plaintext(Blob::new(plaintext.to_vec()));
        for (name, value) in context {
            request = request.encryption_context(*name, *value);
        }

        let output = request.send().await.map_err(from_sdk)?;

        output.ciphertext_blob.map(Blob::into_inner).ok_or_else(|| missing("Encrypt", "CiphertextBlob"))
    }

    /// Decrypts `ciphertext`, which must have been encrypted under this key with exactly
    /// `context`; `Rejected` otherwise.
    pub(crate) async fn decrypt(
        &self,
        context: &[(&str, &str)],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        // Naming the key makes KMS reject a ciphertext of any other key.
        let mut request = self.client.decrypt().key_id(&self.key_id).ciphertext_blob(Blob::new(ciphertext.to_vec()));
        for (name, value) in context {
            request = request.encryption_context(*name, *value);
        }

        let output = request.send().await.map_err(from_sdk)?;

        output
            .plaintext
            .map(|blob| Zeroizing::new(blob.into_inner()))
            .ok_or_else(|| missing("Decrypt", "Plaintext"))
    }
}

fn missing(operation: &'static str, field: &'static str) -> VaultError {
    VaultError::Unavailable(Box::new(MissingField { operation, field }))
}

fn from_sdk<E>(err: SdkError<E, HttpResponse>) -> VaultError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err.code() {
        Some(code) if REJECTED_CODES.contains(&code) => VaultError::Rejected,
        Some(THROTTLING_CODE) => VaultError::Throttled,
        _ => VaultError::Unavailable(Box::new(err)),
    }
}
