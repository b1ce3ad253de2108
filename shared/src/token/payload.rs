//! Parsing of the decrypted content: an optional inner MIME header block, optional
//! `-----BEGIN MESSAGE-----` / `-----END MESSAGE-----` lines, and the JSON object with the
//! five credential fields.
//!
//! Apple's content uses CRLF after the inner headers and LF around the message, so lines are
//! split on LF with a trailing CR removed.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::{TokenCredentials, TokenError};
use crate::secret::SecretText;

const BEGIN_MESSAGE: &str = "-----BEGIN MESSAGE-----";
const END_MESSAGE: &str = "-----END MESSAGE-----";

/// Parses decrypted content into credentials.
///
/// Content that is not UTF-8 or contains no JSON object is `Undecryptable`, because a wrong
/// content key produces exactly such garbage. A JSON object with a missing, null or wrongly
/// typed field, or an expiry that is not RFC 3339, is `InvalidPayload`; the reason names
/// the field and never its value.
pub(crate) fn parse_payload(plaintext: &[u8]) -> Result<TokenCredentials, TokenError> {
    let text = std::str::from_utf8(plaintext).map_err(|_| TokenError::Undecryptable)?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);

    let json = extract_json(skip_mime_headers(text));
    let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(json.trim()) else {
        return Err(TokenError::Undecryptable);
    };

    let consumer_key = take_text(&mut fields, "consumer_key")?;
    let consumer_secret = take_text(&mut fields, "consumer_secret")?;
    let access_token = take_text(&mut fields, "access_token")?;
    let access_secret = take_text(&mut fields, "access_secret")?;
    let expiry = take_text(&mut fields, "access_token_expiry")?;
    let access_token_expiry = DateTime::parse_from_rfc3339(&expiry)
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|_| TokenError::InvalidPayload {
            reason: "field access_token_expiry is not an RFC 3339 timestamp".to_owned(),
        })?;

    Ok(TokenCredentials {
        consumer_key: SecretText::new(consumer_key),
        consumer_secret: SecretText::new(consumer_secret),
        access_token: SecretText::new(access_token),
        access_secret: SecretText::new(access_secret),
        access_token_expiry,
    })
}

/// Returns the text after an inner MIME header block, or all of `text` when its first line
/// is not a header field. A header block without the blank line after it leaves nothing.
fn skip_mime_headers(text: &str) -> &str {
    let first_line = text.lines().next().unwrap_or_default();
    if !is_header_line(first_line) {
        return text;
    }

    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        offset += line.len();
        if line.trim().is_empty() {
            return &text[offset..];
        }
    }
    ""
}

/// Returns `true` if `line` looks like `Name: value` with an RFC 5322 field name.
fn is_header_line(line: &str) -> bool {
    line.split_once(':').is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    })
}

/// Removes whole BEGIN/END MESSAGE lines and keeps every other line as it is, so that JSON
/// spread over several lines stays intact.
fn extract_json(body: &str) -> Zeroizing<String> {
    let mut json = Zeroizing::new(String::with_capacity(body.len()));
    for line in body.lines() {
        let marker = line.trim();
        if marker == BEGIN_MESSAGE || marker == END_MESSAGE {
            continue;
        }
        json.push_str(line);
        json.push('\n');
    }
    json
}

/// Moves a required string field out of the JSON object, so that the secret value ends up
/// in a zeroizing buffer without another copy.
fn take_text(fields: &mut Map<String, Value>, name: &'static str) -> Result<String, TokenError> {
    match fields.remove(name) {
        Some(Value::String(value)) => Ok(value),
        Some(Value::Null) => Err(TokenError::InvalidPayload {
            reason: format!("field {name} is null"),
        }),
        Some(_) => Err(TokenError::InvalidPayload {
            reason: format!("field {name} is not a string"),
        }),
        None => Err(TokenError::InvalidPayload {
            reason: format!("field {name} is missing"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"consumer_key":"CK_1","consumer_secret":"CS_1","access_token":"AT_1","access_secret":"AS_1","access_token_expiry":"2026-01-17T11:02:21Z"}"#;

    fn expected_expiry() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-17T11:02:21Z")
            .expect("valid timestamp")
            .with_timezone(&Utc)
    }

    #[test]
    fn parse_payload_accepts_every_layout() {
        let headers =
            "Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n";
        let multi_line_json = JSON.replace(",", ",\n  ");
        let cases = [
            (
                "apple layout",
                format!("{headers}-----BEGIN MESSAGE-----\n{JSON}\n-----END MESSAGE-----\n"),
            ),
            ("headers without markers", format!("{headers}{JSON}\n")),
            (
                "markers without headers",
                format!("-----BEGIN MESSAGE-----\n{JSON}\n-----END MESSAGE-----\n"),
            ),
            ("json only", JSON.to_owned()),
            (
                "crlf everywhere",
                format!("{headers}-----BEGIN MESSAGE-----\r\n{JSON}\r\n-----END MESSAGE-----\r\n"),
            ),
            ("lf headers", format!("Content-Type: text/plain\n\n{JSON}")),
            ("bom", format!("\u{FEFF}{JSON}")),
            (
                "multi-line json in markers",
                format!("-----BEGIN MESSAGE-----\n{multi_line_json}\n-----END MESSAGE-----"),
            ),
            (
                "indented markers",
                format!("  -----BEGIN MESSAGE-----  \n{JSON}\n\t-----END MESSAGE-----\n"),
            ),
        ];

        for (label, text) in cases {
            let credentials =
                parse_payload(text.as_bytes()).unwrap_or_else(|error| panic!("{label}: {error}"));
            assert_eq!(credentials.consumer_key.expose(), "CK_1", "{label}");
            assert_eq!(credentials.consumer_secret.expose(), "CS_1", "{label}");
            assert_eq!(credentials.access_token.expose(), "AT_1", "{label}");
            assert_eq!(credentials.access_secret.expose(), "AS_1", "{label}");
            assert_eq!(
                credentials.access_token_expiry,
                expected_expiry(),
                "{label}"
            );
        }
    }

    #[test]
    fn parse_payload_ignores_extra_fields() {
        let text = JSON.replace('}', r#","extra":{"nested":[1,2]},"server_name":"x"}"#);

        let credentials = parse_payload(text.as_bytes()).expect("valid payload");

        assert_eq!(credentials.consumer_key.expose(), "CK_1");
    }

    #[test]
    fn parse_payload_converts_offset_expiry_to_utc() {
        let text = JSON.replace("2026-01-17T11:02:21Z", "2026-01-17T20:02:21+09:00");

        let credentials = parse_payload(text.as_bytes()).expect("valid payload");

        assert_eq!(credentials.access_token_expiry, expected_expiry());
    }

    #[test]
    fn parse_payload_keeps_value_shapes_unchecked() {
        let text = JSON
            .replace(r#""CK_1""#, r#""""#)
            .replace(r#""AT_1""#, r#""no prefix at all""#);

        let credentials = parse_payload(text.as_bytes()).expect("valid payload");

        assert_eq!(credentials.consumer_key.expose(), "");
        assert_eq!(credentials.access_token.expose(), "no prefix at all");
    }

    #[test]
    fn parse_payload_names_invalid_field_without_value() {
        let cases = [
            (
                "missing",
                JSON.replace(r#""consumer_secret":"CS_1","#, ""),
                "field consumer_secret is missing",
            ),
            (
                "null",
                JSON.replace(r#""AS_1""#, "null"),
                "field access_secret is null",
            ),
            (
                "number",
                JSON.replace(r#""AT_1""#, "42"),
                "field access_token is not a string",
            ),
            (
                "object",
                JSON.replace(r#""CK_1""#, r#"{"v":"CK_1"}"#),
                "field consumer_key is not a string",
            ),
            (
                "expiry not rfc 3339",
                JSON.replace("2026-01-17T11:02:21Z", "17/01/2026 11:02"),
                "field access_token_expiry is not an RFC 3339 timestamp",
            ),
            (
                "expiry as number",
                JSON.replace(r#""2026-01-17T11:02:21Z""#, "1768647741"),
                "field access_token_expiry is not a string",
            ),
            (
                "empty object",
                "{}".to_owned(),
                "field consumer_key is missing",
            ),
        ];

        for (label, text, expected) in cases {
            let result = parse_payload(text.as_bytes());
            assert_eq!(
                result.as_ref().err(),
                Some(&TokenError::InvalidPayload {
                    reason: expected.to_owned()
                }),
                "{label}"
            );
            let printed = result
                .err()
                .map(|error| error.to_string())
                .unwrap_or_default();
            assert!(!printed.contains("CK_1"), "{label}: {printed}");
            assert!(!printed.contains("17/01/2026"), "{label}: {printed}");
        }
    }

    #[test]
    fn parse_payload_treats_garbage_as_undecryptable() {
        let cases: [(&str, &[u8]); 8] = [
            ("not utf-8", b"\xFF\xFE\x00garbage\x80"),
            ("empty", b""),
            ("text", b"hello"),
            ("json array", b"[1,2,3]"),
            ("json number", b"123"),
            (
                "headers only",
                b"Content-Type: text/plain\r\nContent-Transfer-Encoding: 7bit\r\n",
            ),
            (
                "markers only",
                b"-----BEGIN MESSAGE-----\n-----END MESSAGE-----\n",
            ),
            ("json with trailing text", b"{\"a\":1} trailing"),
        ];

        for (label, plaintext) in cases {
            assert_eq!(
                parse_payload(plaintext).err(),
                Some(TokenError::Undecryptable),
                "{label}"
            );
        }
    }

    #[test]
    fn extract_json_removes_only_whole_marker_lines() {
        let body =
            "-----BEGIN MESSAGE-----\n{\"a\":\"-----BEGIN MESSAGE-----\"}\n-----END MESSAGE-----\n";

        let json = extract_json(body);

        assert_eq!(json.trim(), "{\"a\":\"-----BEGIN MESSAGE-----\"}");
    }

    #[test]
    fn credentials_debug_shows_no_secret() {
        let credentials = parse_payload(JSON.as_bytes()).expect("valid payload");

        let printed = format!("{credentials:?}");

        for secret in ["CK_1", "CS_1", "AT_1", "AS_1"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
    }
}
