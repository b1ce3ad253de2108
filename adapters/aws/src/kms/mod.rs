//! KMS adapters: the key vault for MDM private keys and the sealer for token credentials.
//! Both bind every ciphertext to an encryption context, so a ciphertext copied to another
//! tenant, key or server fails to decrypt.

mod cache;
mod cipher;
mod key_vault;
mod sealer;

pub use key_vault::KmsKeyVault;
pub use sealer::KmsCredentialSealer;
