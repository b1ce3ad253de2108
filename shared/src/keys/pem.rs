//! Lenient reading of one PEM block: text around it, a BOM, CRLF line endings and trailing
//! whitespace are accepted, and RFC 1421 header lines inside the block are skipped.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// Error for a PEM block that was found but could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidPem;

/// Decodes the first block labelled exactly `label`. Returns `None` when there is no such
/// BEGIN line, and `Some(Err)` when the END line is missing or the body is not base64.
pub(crate) fn decode_block(
    text: &str,
    label: &str,
) -> Option<Result<Zeroizing<Vec<u8>>, InvalidPem>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");

    let mut lines = text
        .lines()
        .map(|line| line.trim().trim_start_matches('\u{FEFF}'))
        .skip_while(|line| *line != begin);
    lines.next()?;

    let mut body = Zeroizing::new(Vec::new());
    for line in lines {
        if line == end {
            let der = STANDARD
                .decode(&*body)
                .map(Zeroizing::new)
                .map_err(|_| InvalidPem);
            return Some(der);
        }
        if !line.contains(':') {
            body.extend_from_slice(line.as_bytes());
        }
    }
    Some(Err(InvalidPem))
}
