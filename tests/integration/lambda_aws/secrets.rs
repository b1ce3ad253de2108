//! The secret values of a test run, and searches for them in text and bytes: token
//! credentials, DEP session tokens, MDM private keys and the like.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use deptoken_shared::token::TokenCredentials;

/// Characters per line of a PEM body (RFC 7468).
const PEM_LINE_CHARS: usize = 64;

/// Bytes of a private key searched for at a time in binary data.
const KEY_WINDOW_BYTES: usize = 32;

/// Values that must not appear in plain text, each with a label that a failure names.
#[derive(Default)]
pub struct Secrets {
    texts: Vec<(String, String)>,
    binaries: Vec<(String, Vec<u8>)>,
}

impl Secrets {
    /// Adds `value` in its own form and as base64, as text and as bytes.
    pub fn add_text(&mut self, label: &str, value: &str) {
        assert!(value.len() >= 16, "{label}: a needle this short could match by chance");
        self.texts.push((label.to_owned(), value.to_owned()));
        self.texts.push((format!("{label} (base64)"), BASE64.encode(value)));
        self.binaries.push((label.to_owned(), value.as_bytes().to_vec()));
    }

    /// Adds the four credential values of a token.
    pub fn add_credentials(&mut self, label: &str, credentials: &TokenCredentials) {
        self.add_text(&format!("{label} consumer key"), credentials.consumer_key.expose());
        self.add_text(&format!("{label} consumer secret"), credentials.consumer_secret.expose());
        self.add_text(&format!("{label} access token"), credentials.access_token.expose());
        self.add_text(&format!("{label} access secret"), credentials.access_secret.expose());
    }

    /// Adds a PKCS#8 DER private key: each PEM line of it (which also finds the one-line
    /// base64 form), windows of it in hex and as a Rust byte-slice `Debug` list, and windows
    /// of the raw bytes.
    pub fn add_private_key(&mut self, label: &str, der: &[u8]) {
        let base64 = BASE64.encode(der);
        // The last line is shorter and may be common padding, so it is left out.
        for (index, line) in base64.as_bytes().chunks_exact(PEM_LINE_CHARS).enumerate() {
            let line = String::from_utf8_lossy(line).into_owned();
            self.texts.push((format!("{label} PEM line {}", index + 1), line));
        }

        // The first bytes are the same ASN.1 header in every RSA key, so windows start later.
        for start in (64..der.len().saturating_sub(KEY_WINDOW_BYTES)).step_by(256) {
            let window = &der[start..start + KEY_WINDOW_BYTES];
            self.texts.push((format!("{label} bytes {start}.. (hex)"), hex_of(window)));
            let listed = format!("{window:?}");
            self.texts.push((format!("{label} bytes {start}.. (Debug)"), listed.trim_matches(['[', ']']).to_owned()));
            self.binaries.push((format!("{label} bytes {start}.."), window.to_vec()));
        }
        self.texts.push((format!("{label} PEM label"), "PRIVATE KEY-----".to_owned()));
    }

    /// Returns the labels of the secrets found in `text`.
    pub fn found_in_text(&self, text: &str) -> Vec<String> {
        self.texts
            .iter()
            .filter(|(_, needle)| text.contains(needle.as_str()))
            .map(|(label, _)| label.clone())
            .collect()
    }

    /// Returns the labels of the secrets found in `bytes`.
    pub fn found_in_bytes(&self, bytes: &[u8]) -> Vec<String> {
        self.binaries
            .iter()
            .filter(|(_, needle)| bytes.windows(needle.len()).any(|window| window == needle.as_slice()))
            .map(|(label, _)| label.clone())
            .collect()
    }

    /// Returns the number of text needles, to show that a search had something to look for.
    pub fn text_count(&self) -> usize {
        self.texts.len()
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
