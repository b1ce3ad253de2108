//! Detection of the envelope around the CMS object: S/MIME headers with a base64 body, PEM
//! armour, bare BER/DER, or bare base64. Also distinguishes certificates and other common
//! uploads from token files.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use der::Decode;
use x509_cert::Certificate;

use super::TokenError;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const DER_SEQUENCE: u8 = 0x30;
const DER_INTEGER: u8 = 0x02;

/// Media types of an S/MIME enveloped-data entity (RFC 8551 and its legacy `x-` form).
const SMIME_MEDIA_TYPES: [&str; 2] = ["application/pkcs7-mime", "application/x-pkcs7-mime"];
const CMS_PEM_LABELS: [&str; 2] = ["PKCS7", "CMS"];
const CERTIFICATE_PEM_LABELS: [&str; 3] =
    ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"];

/// Standard base64 that also accepts missing padding: truncation is then caught by the
/// BER parser, which reports it as malformed.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Wrapper format of the CMS object, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnvelopeKind {
    Smime,
    Pem,
    Binary,
    Base64,
}

impl EnvelopeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EnvelopeKind::Smime => "smime",
            EnvelopeKind::Pem => "pem",
            EnvelopeKind::Binary => "binary",
            EnvelopeKind::Base64 => "base64",
        }
    }
}

/// The CMS object taken out of its envelope; not yet checked beyond its first byte.
#[derive(Debug)]
pub(crate) struct Unwrapped<'a> {
    pub kind: EnvelopeKind,
    pub ber: Cow<'a, [u8]>,
}

/// Takes the BER-encoded CMS object out of an uploaded file.
///
/// Returns `CertificateNotToken` for a certificate, `NotAToken` for anything that is
/// recognisably something else (keys, plists, zip archives, JSON, text, empty input), and
/// `Malformed` for a file that claims to be a token but cannot be decoded.
pub(crate) fn unwrap_envelope(input: &[u8]) -> Result<Unwrapped<'_>, TokenError> {
    let input = input.strip_prefix(UTF8_BOM).unwrap_or(input);
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(TokenError::NotAToken);
    }

    if input[0] == DER_SEQUENCE {
        check_binary(input)?;
        return Ok(Unwrapped {
            kind: EnvelopeKind::Binary,
            ber: Cow::Borrowed(input),
        });
    }

    // Zip archives, binary plists and any other binary that is not UTF-8 text.
    let Ok(text) = std::str::from_utf8(input) else {
        return Err(TokenError::NotAToken);
    };
    let text = text.trim_start();

    // JSON, XML (a plist or .mobileconfig) and HTML.
    if text.starts_with(['{', '[', '<']) {
        return Err(TokenError::NotAToken);
    }
    if text.contains("-----BEGIN ") {
        return unwrap_pem(text);
    }
    if let Some(entity) = split_mime_entity(text) {
        return unwrap_smime(&entity);
    }
    unwrap_bare_base64(text)
}

/// Rejects binary inputs that are certificates or private keys rather than a CMS object.
fn check_binary(der: &[u8]) -> Result<(), TokenError> {
    if Certificate::from_der(der).is_ok() {
        return Err(TokenError::CertificateNotToken);
    }
    // PKCS#1 and PKCS#8 private keys and PKCS#12 key stores are SEQUENCEs that start with a
    // version INTEGER, while a CMS ContentInfo starts with an OBJECT IDENTIFIER.
    if first_inner_tag(der) == Some(DER_INTEGER) {
        return Err(TokenError::NotAToken);
    }
    Ok(())
}

/// Returns the tag byte of the first element inside the outer constructed value, if the
/// outer header can be read (definite or indefinite length).
fn first_inner_tag(ber: &[u8]) -> Option<u8> {
    let length_byte = *ber.get(1)?;
    let header_len = match length_byte {
        0x00..=0x80 => 2,
        0x81..=0x84 => 2 + usize::from(length_byte & 0x7F),
        _ => return None,
    };
    ber.get(header_len).copied()
}

fn unwrap_pem(text: &str) -> Result<Unwrapped<'static>, TokenError> {
    let labels: Vec<&str> = pem_labels(text).collect();

    if let Some(label) = labels.iter().find(|label| CMS_PEM_LABELS.contains(label)) {
        let body = pem_body(text, label)?;
        let ber = decode_base64(body.lines().filter(|line| !line.contains(':'))).ok_or(
            TokenError::Malformed {
                reason: "the PEM body is not valid base64",
            },
        )?;
        if ber.is_empty() {
            return Err(TokenError::Malformed {
                reason: "the PEM body is empty",
            });
        }
        return Ok(Unwrapped {
            kind: EnvelopeKind::Pem,
            ber: Cow::Owned(ber),
        });
    }
    if labels
        .iter()
        .any(|label| CERTIFICATE_PEM_LABELS.contains(label))
    {
        return Err(TokenError::CertificateNotToken);
    }
    Err(TokenError::NotAToken)
}

/// Lists the labels of every `-----BEGIN <label>-----` line, in order.
fn pem_labels(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        line.trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
    })
}

/// Returns the text between the BEGIN and END lines of the first block with `label`.
fn pem_body<'a>(text: &'a str, label: &str) -> Result<&'a str, TokenError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .map(|position| position + begin.len())
        .ok_or(TokenError::Malformed {
            reason: "the PEM BEGIN line is damaged",
        })?;
    let rest = &text[start..];
    let stop = rest.find(&end).ok_or(TokenError::Malformed {
        reason: "the PEM END line is missing",
    })?;
    Ok(&rest[..stop])
}

/// A MIME entity split into its unfolded header fields and its body.
#[derive(Debug)]
struct MimeEntity<'a> {
    /// `(name, value)` pairs with folded lines joined, names as written.
    headers: Vec<(&'a str, String)>,
    body: &'a str,
}

impl MimeEntity<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .count()
    }
}

/// Splits `text` into header fields and body if it starts with RFC 5322 header fields
/// (LF or CRLF line endings, folded lines allowed). A file with headers and no blank line
/// gets an empty body. Returns `None` when the first line is not a header field.
fn split_mime_entity(text: &str) -> Option<MimeEntity<'_>> {
    let mut headers: Vec<(&str, String)> = Vec::new();
    let mut offset = 0;

    for raw_line in text.split_inclusive('\n') {
        let line = raw_line.trim_end_matches(['\n', '\r']);
        offset += raw_line.len();

        if line.trim().is_empty() {
            return Some(MimeEntity {
                headers,
                body: &text[offset..],
            });
        }
        if line.starts_with([' ', '\t']) {
            let (_, value) = headers.last_mut()?;
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line.split_once(':')?;
        if !is_header_name(name) {
            return None;
        }
        headers.push((name, value.trim().to_owned()));
    }

    if headers.is_empty() {
        return None;
    }
    Some(MimeEntity { headers, body: "" })
}

/// Returns `true` if `name` is an RFC 5322 field name (printable ASCII other than space and colon).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && byte != b':')
}

fn unwrap_smime(entity: &MimeEntity<'_>) -> Result<Unwrapped<'static>, TokenError> {
    // RFC 2045 allows each of these fields once. With two, readers disagree on which one
    // counts, so the file is rejected rather than read by a guess.
    for name in ["Content-Type", "Content-Transfer-Encoding"] {
        if entity.header_count(name) > 1 {
            return Err(TokenError::Malformed {
                reason: "an S/MIME header field appears twice",
            });
        }
    }

    let content_type = entity.header("Content-Type").ok_or(TokenError::NotAToken)?;
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !SMIME_MEDIA_TYPES
        .iter()
        .any(|expected| media_type.eq_ignore_ascii_case(expected))
    {
        return Err(TokenError::NotAToken);
    }

    if let Some(encoding) = entity.header("Content-Transfer-Encoding")
        && !encoding.trim().eq_ignore_ascii_case("base64")
    {
        return Err(TokenError::Malformed {
            reason: "the S/MIME body is not base64-encoded",
        });
    }

    let ber = decode_base64(entity.body.lines()).ok_or(TokenError::Malformed {
        reason: "the S/MIME body is not valid base64",
    })?;
    if ber.is_empty() {
        return Err(TokenError::Malformed {
            reason: "the S/MIME body is empty",
        });
    }
    Ok(Unwrapped {
        kind: EnvelopeKind::Smime,
        ber: Cow::Owned(ber),
    })
}

/// Accepts the base64 body of a token pasted without its headers, if it decodes to a
/// SEQUENCE. Any other text is not a token.
fn unwrap_bare_base64(text: &str) -> Result<Unwrapped<'static>, TokenError> {
    let is_base64_text = text.bytes().all(|byte| {
        byte.is_ascii_alphanumeric()
            || matches!(byte, b'+' | b'/' | b'=')
            || byte.is_ascii_whitespace()
    });
    if !is_base64_text {
        return Err(TokenError::NotAToken);
    }
    let Some(ber) = decode_base64(text.lines()) else {
        return Err(TokenError::NotAToken);
    };
    if ber.first() != Some(&DER_SEQUENCE) {
        return Err(TokenError::NotAToken);
    }
    check_binary(&ber)?;
    Ok(Unwrapped {
        kind: EnvelopeKind::Base64,
        ber: Cow::Owned(ber),
    })
}

/// Decodes base64 split over lines, ignoring all ASCII whitespace.
fn decode_base64<'a>(lines: impl Iterator<Item = &'a str>) -> Option<Vec<u8>> {
    let compact: Vec<u8> = lines
        .flat_map(str::bytes)
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    BASE64.decode(compact).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(input: &[u8]) -> Result<EnvelopeKind, TokenError> {
        unwrap_envelope(input).map(|unwrapped| unwrapped.kind)
    }

    #[test]
    fn unwrap_envelope_rejects_other_files() {
        let cases: [(&str, &[u8]); 13] = [
            ("empty", b""),
            ("whitespace", b" \r\n\t\n"),
            ("bom only", b"\xEF\xBB\xBF"),
            ("plain text", b"hello world, this is not a token"),
            ("text with colon", b"Note: upload the token\nthanks"),
            ("json", br#"{"consumer_key":"CK_x"}"#),
            ("json array", b"[1, 2]"),
            (
                "xml plist",
                b"<?xml version=\"1.0\"?>\n<plist version=\"1.0\"><dict/></plist>",
            ),
            ("binary plist", b"bplist00\xD1\x01\x02"),
            ("zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00"),
            (
                "pkcs8 pem",
                b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
            ),
            (
                "pkcs1 pem",
                b"-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
            ),
            ("mail headers", b"Content-Type: text/plain\n\nhello\n"),
        ];

        for (label, input) in cases {
            assert_eq!(classify(input), Err(TokenError::NotAToken), "{label}");
        }
    }

    #[test]
    fn unwrap_envelope_rejects_binary_keys() {
        // SEQUENCE { INTEGER 0, ... }, the start of PKCS#1, PKCS#8 and PKCS#12 structures.
        let cases: [(&str, &[u8]); 2] = [
            ("definite length", b"\x30\x05\x02\x01\x00\x05\x00"),
            ("long definite length", b"\x30\x82\x01\x00\x02\x01\x00"),
        ];

        for (label, input) in cases {
            assert_eq!(classify(input), Err(TokenError::NotAToken), "{label}");
        }
    }

    #[test]
    fn unwrap_envelope_recognises_certificate_pem_labels() {
        let cases = ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"];

        for label in cases {
            let input = format!("-----BEGIN {label}-----\nMIIB\n-----END {label}-----\n");
            assert_eq!(
                classify(input.as_bytes()),
                Err(TokenError::CertificateNotToken),
                "{label}"
            );
        }
    }

    #[test]
    fn unwrap_envelope_reports_damaged_smime_as_malformed() {
        let header = "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n\
                      Content-Transfer-Encoding: base64\n";
        let cases = [
            ("bad base64", format!("{header}\nMIAG!!!*CSqGSIb3\n")),
            ("headers only", header.to_owned()),
            ("empty body", format!("{header}\n\n")),
            (
                "quoted-printable",
                "Content-Type: application/pkcs7-mime\nContent-Transfer-Encoding: quoted-printable\n\nMIAG\n"
                    .to_owned(),
            ),
        ];

        for (label, input) in cases {
            assert!(
                matches!(
                    classify(input.as_bytes()),
                    Err(TokenError::Malformed { .. })
                ),
                "{label}"
            );
        }
    }

    #[test]
    fn unwrap_envelope_rejects_duplicate_smime_headers() {
        let body = "MIAGCSqGSIb3DQEHA6CAMIACAQAx";
        let cases = [
            (
                "content type twice",
                format!("Content-Type: application/pkcs7-mime\nContent-Type: text/plain\n\n{body}\n"),
            ),
            (
                "transfer encoding twice, other case",
                format!(
                    "Content-Type: application/pkcs7-mime\nContent-Transfer-Encoding: base64\n\
                     content-transfer-encoding: 7bit\n\n{body}\n"
                ),
            ),
        ];

        for (label, input) in cases {
            assert_eq!(
                classify(input.as_bytes()),
                Err(TokenError::Malformed {
                    reason: "an S/MIME header field appears twice"
                }),
                "{label}"
            );
        }
    }

    #[test]
    fn unwrap_envelope_reports_pem_without_end_as_malformed() {
        let input = "-----BEGIN PKCS7-----\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\n";

        let result = classify(input.as_bytes());

        assert!(matches!(result, Err(TokenError::Malformed { .. })));
    }

    #[test]
    fn unwrap_envelope_finds_kind_of_each_wrapper() {
        let body = "MIAGCSqGSIb3DQEHA6CAMIACAQAx";
        let cases = [
            (
                "smime",
                format!("Content-Type: application/pkcs7-mime\n\n{body}\n"),
                EnvelopeKind::Smime,
            ),
            (
                "x-smime",
                format!("Content-Type: application/x-pkcs7-mime\n\n{body}\n"),
                EnvelopeKind::Smime,
            ),
            (
                "pem pkcs7",
                format!("-----BEGIN PKCS7-----\n{body}\n-----END PKCS7-----\n"),
                EnvelopeKind::Pem,
            ),
            (
                "pem cms",
                format!("-----BEGIN CMS-----\r\n{body}\r\n-----END CMS-----\r\n"),
                EnvelopeKind::Pem,
            ),
            ("bare base64", format!("{body}\n"), EnvelopeKind::Base64),
        ];

        for (label, input, expected) in cases {
            assert_eq!(classify(input.as_bytes()), Ok(expected), "{label}");
        }
    }

    #[test]
    fn split_mime_entity_unfolds_headers() {
        let text = "Content-Type: application/pkcs7-mime;\r\n\tsmime-type=enveloped-data\r\nX-Extra: 1\r\n\r\nBODY";

        let entity = split_mime_entity(text).expect("a MIME entity");

        assert_eq!(
            entity.header("content-type"),
            Some("application/pkcs7-mime; smime-type=enveloped-data")
        );
        assert_eq!(entity.body, "BODY");
    }
}
