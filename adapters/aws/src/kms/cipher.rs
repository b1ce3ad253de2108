//! KMS `Encrypt` and `Decrypt` under one key with an encryption context.

use aws_sdk_kms::Client;
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use deptoken_shared::ports::VaultError;
use zeroize::Zeroizing;

/// `Decrypt` error codes that mean the ciphertext does not belong to this key and context, or
/// is corrupted. KMS does not say which, by design.
const REJECTED_CODES: [&str; 2] = ["InvalidCiphertextException", "IncorrectKeyException"];

/// `Decrypt` fails with this code when a key policy condition on the encryption context does
/// not match, which is a rejected context too. A role that lacks `kms:Decrypt` altogether
/// gets the same code, so it is logged.
const ACCESS_DENIED_CODE: &str = "AccessDeniedException";

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

        let output = request.send().await.map_err(|err| from_sdk(err, Operation::Encrypt))?;

        output.ciphertext_blob.map(Blob::into_inner).ok_or_else(|| missing("Encrypt", "CiphertextBlob"))
    }

    /// Decrypts `ciphertext`, which must have been encrypted under this key with exactly
    /// `context`; `Rejected` otherwise.
    pub(crate) async fn decrypt(
        &self,
        context: &[(&str, &str)],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if ciphertext.is_empty() {
            return Err(VaultError::Rejected);
        }

        // Naming the key makes KMS reject a ciphertext of any other key.
        let mut request = self.client.decrypt().key_id(&self.key_id).ciphertext_blob(Blob::new(ciphertext.to_vec()));
        for (name, value) in context {
            request = request.encryption_context(*name, *value);
        }

        let output = request.send().await.map_err(|err| from_sdk(err, Operation::Decrypt))?;

        output
            .plaintext
            .map(|blob| Zeroizing::new(blob.into_inner()))
            .ok_or_else(|| missing("Decrypt", "Plaintext"))
    }
}

fn missing(operation: &'static str, field: &'static str) -> VaultError {
    VaultError::Unavailable(Box::new(MissingField { operation, field }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Encrypt,
    Decrypt,
}

/// Maps a KMS error. Only `Decrypt` can reject a value; for `Encrypt` every error but
/// throttling means that KMS or its configuration is unavailable.
fn from_sdk<E>(err: SdkError<E, HttpResponse>, operation: Operation) -> VaultError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match (operation, err.code()) {
        (_, Some(THROTTLING_CODE)) => VaultError::Throttled,
        (Operation::Decrypt, Some(code)) if REJECTED_CODES.contains(&code) => VaultError::Rejected,
        (Operation::Decrypt, Some(ACCESS_DENIED_CODE)) => {
            tracing::warn!(code = ACCESS_DENIED_CODE, "KMS denied Decrypt: wrong encryption context or missing permission");
            VaultError::Rejected
        }
        _ => VaultError::Unavailable(Box::new(err)),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_kms::error::ErrorMetadata;
    use aws_sdk_kms::operation::decrypt::DecryptError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn decrypt_error(code: &str) -> SdkError<DecryptError, HttpResponse> {
        let error = DecryptError::generic(ErrorMetadata::builder().code(code).build());
        SdkError::service_error(error, HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::empty()))
    }

    fn label(error: &VaultError) -> &'static str {
        match error {
            VaultError::Rejected => "rejected",
            VaultError::Throttled => "throttled",
            VaultError::Unavailable(_) => "unavailable",
        }
    }

    #[test]
    fn from_sdk_maps_codes() {
        let cases = [
            ("invalid ciphertext", "InvalidCiphertextException", Operation::Decrypt, "rejected"),
            ("incorrect key", "IncorrectKeyException", Operation::Decrypt, "rejected"),
            ("denied decrypt", "AccessDeniedException", Operation::Decrypt, "rejected"),
            ("denied encrypt", "AccessDeniedException", Operation::Encrypt, "unavailable"),
            ("throttled decrypt", "ThrottlingException", Operation::Decrypt, "throttled"),
            ("throttled encrypt", "ThrottlingException", Operation::Encrypt, "throttled"),
            ("disabled key", "DisabledException", Operation::Decrypt, "unavailable"),
            ("missing key", "NotFoundException", Operation::Encrypt, "unavailable"),
        ];

        for (case, code, operation, expected) in cases {
            let mapped = from_sdk(decrypt_error(code), operation);

            assert_eq!(label(&mapped), expected, "{case}");
        }
    }
}
