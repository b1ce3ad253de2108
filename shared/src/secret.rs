//! Types for values that must never be printed: token credentials, private keys, session tokens.

use std::fmt;

use zeroize::Zeroizing;

/// A secret string whose `Debug` and `Display` print a placeholder and whose buffer is
/// zeroized on drop. Read it with [`SecretText::expose`] only where the value is sent to
/// Apple or sealed for storage.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Secret bytes (key material, decrypted payloads) with the same guarantees as [`SecretText`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub fn new(value: Vec<u8>) -> Self {
        Self(Zeroizing::new(value))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[redacted {} bytes]", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_text_debug_is_placeholder() {
        let secret = SecretText::new("CS_very_secret");

        let printed = format!("{secret:?} {secret}");

        assert!(!printed.contains("CS_very_secret"));
    }

    #[test]
    fn secret_bytes_debug_is_placeholder() {
        let secret = SecretBytes::new(b"key material".to_vec());

        let printed = format!("{secret:?}");

        assert!(!printed.contains("key material"));
    }
}
