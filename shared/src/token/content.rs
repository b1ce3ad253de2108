//! Content key unwrapping (RSAES-PKCS1-v1_5) and CBC decryption of the content.
//!
//! `rsa` 0.10 decrypts PKCS#1 v1.5 with implicit rejection: a wrong key or damaged key
//! ciphertext yields a random content key instead of an error. Every failure here is
//! therefore reported as the same `Undecryptable`, so that no step leaks which check failed.

use aes::{Aes128, Aes192, Aes256};
use cbc::Decryptor;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockCipherDecrypt, BlockModeDecrypt, KeyInit, KeyIvInit};
use des::TdesEde3;
use rsa::Pkcs1v15Encrypt;
use zeroize::Zeroizing;

use super::TokenError;
use super::enveloped_data::{CbcCipher, EnvelopeContent};
use crate::keys::MdmPrivateKey;

/// Decrypts the content encryption key with the recipient's RSA private key.
pub(crate) fn unwrap_content_key(
    key: &MdmPrivateKey,
    encrypted_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TokenError> {
    key.rsa()
        .decrypt(Pkcs1v15Encrypt, encrypted_key)
        .map(Zeroizing::new)
        .map_err(|_| TokenError::Undecryptable)
}

/// Decrypts the content with the content key and removes the PKCS#7 padding.
pub(crate) fn decrypt_content(
    content: &EnvelopeContent,
    content_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TokenError> {
    match content.cipher {
        CbcCipher::Aes128 => decrypt_cbc::<Aes128>(content, content_key),
        CbcCipher::Aes192 => decrypt_cbc::<Aes192>(content, content_key),
        CbcCipher::Aes256 => decrypt_cbc::<Aes256>(content, content_key),
        CbcCipher::DesEde3 => decrypt_cbc::<TdesEde3>(content, content_key),
    }
}

fn decrypt_cbc<C>(
    content: &EnvelopeContent,
    content_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TokenError>
where
    C: BlockCipherDecrypt + KeyInit,
{
    let decryptor = Decryptor::<C>::new_from_slices(content_key, &content.iv)
        .map_err(|_| TokenError::Undecryptable)?;

    let mut buffer = Zeroizing::new(content.ciphertext.clone());
    let plaintext_len = decryptor
        .decrypt_padded::<Pkcs7>(&mut buffer)
        .map_err(|_| TokenError::Undecryptable)?
        .len();
    buffer.truncate(plaintext_len);
    Ok(buffer)
}
