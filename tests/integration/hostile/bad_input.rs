//! The bad-input catalogue: malformed and misleading uploads sent through the HTTP router, raw
//! and as forms, to an entry that already has an accepted token. Every row must get its
//! documented 4xx code, a message and action in Japanese and in English, and leave the entry,
//! its history and its keys exactly as they were.

use axum::body::Body;
use axum::http::Request;
use axum::http::{Method, StatusCode, header};
use chrono::{Duration, SecondsFormat};
use deptoken_shared::clock::Clock;
use deptoken_shared::error::ErrorCode;
use deptoken_shared::keys::generate_mdm_key;
use deptoken_shared::token::MAX_TOKEN_FILE_BYTES;
use deptoken_shared::usecases::MAX_TOKEN_VALIDITY_DAYS;

use super::{
    BOUNDARY, admin_app, create_entry, der_to_pem, empty_request, entry_with_token, multipart_body,
    openssl_token, pem_to_der, send, smime_der, smime_of,
};
use crate::harness::{Harness, tenant};
use crate::support::apple_fixture_dir;

/// One malformed upload and the error codes it may get.
struct Case {
    label: String,
    content_type: String,
    query: String,
    body: Vec<u8>,
    /// The documented code; a few rows whose damage lands in varying places (truncations,
    /// bit flips) list every code their damage can produce.
    expected: Vec<ErrorCode>,
}

fn case(
    label: impl Into<String>,
    content_type: &str,
    body: Vec<u8>,
    expected: &[ErrorCode],
) -> Case {
    Case {
        label: label.into(),
        content_type: content_type.to_owned(),
        query: String::new(),
        body,
        expected: expected.to_vec(),
    }
}

const P7M: &str = "application/pkcs7-mime";

fn form_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

fn form(label: &str, parts: &[(&str, &[u8])], expected: &[ErrorCode]) -> Case {
    case(label, &form_type(), multipart_body(parts), expected)
}

fn request_of(case: &Case, language: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::PUT)
        .uri(format!("/v1/servers/tokyo/token{}", case.query))
        .header(header::CONTENT_TYPE, case.content_type.as_str());
    if let Some(language) = language {
        builder = builder.header(header::ACCEPT_LANGUAGE, language);
    }
    builder
        .body(Body::from(case.body.clone()))
        .expect("request")
}

fn payload(consumer_key: &str, expiry: &str) -> String {
    format!(
        r#"{{"consumer_key":"{consumer_key}","consumer_secret":"CS_crafted","access_token":"AT_crafted","access_secret":"AS_crafted","access_token_expiry":"{expiry}"}}"#
    )
}

/// A `.mobileconfig` profile as MDM admins have them lying around.
const MOBILECONFIG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>PayloadType</key><string>Configuration</string>
<key>PayloadIdentifier</key><string>com.acme.wifi</string><key>PayloadVersion</key><integer>1</integer></dict></plist>
"#;

/// A CMS ContentInfo holding an empty SignedData (OID 1.2.840.113549.1.7.2), the shape of a
/// `.p7b` certificate bundle or a signed profile.
const SIGNED_DATA_DER: &[u8] = &[
    0x30, 0x0F, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02, 0xA0, 0x02, 0x30,
    0x00,
];

#[tokio::test]
async fn bad_input_catalogue_changes_nothing() {
    let harness = Harness::start().await;
    let app = admin_app(&harness);
    let certificate = entry_with_token(&harness, &app, "tokyo").await;
    let other_certificate = create_entry(&app, "osaka").await;
    let cases = catalogue(&harness, &certificate, &other_certificate).await;
    let get = || empty_request(Method::GET, "/v1/servers/tokyo");
    let before_view = send(&app, get()).await.body;
    let before = harness.snapshot("tokyo").await;
    let history_before = before.history.len();

    let mut server_errors = 0;
    let mut changed = 0;
    for case in &cases {
        let ja = send(&app, request_of(case, None)).await;
        let en = send(&app, request_of(case, Some("en"))).await;

        let label = &case.label;
        let code = ja.error_code();
        let expected: Vec<&str> = case.expected.iter().map(|c| c.as_str()).collect();
        let status_of_code = case
            .expected
            .iter()
            .find(|c| c.as_str() == code)
            .map(|c| c.http_status());
        server_errors += usize::from(ja.status.is_server_error() || en.status.is_server_error());
        let after = harness.snapshot("tokyo").await;
        let after_view = send(&app, get()).await.body;
        changed += usize::from(after != before || after_view != before_view);
        eprintln!("bad_input: {label}: {} {code}", ja.status.as_u16());
        assert!(
            ja.status.is_client_error(),
            "{label}: status {} {}",
            ja.status,
            ja.text()
        );
        assert!(
            expected.contains(&code.as_str()),
            "{label}: code {code}, expected one of {expected:?}"
        );
        assert_eq!(
            Some(ja.status.as_u16()),
            status_of_code,
            "{label}: status of {code}"
        );
        assert_eq!(
            ja.headers
                .get(header::CONTENT_LANGUAGE)
                .map(|v| v.as_bytes()),
            Some(&b"ja"[..]),
            "{label}: Japanese by default"
        );
        assert_eq!(
            en.headers
                .get(header::CONTENT_LANGUAGE)
                .map(|v| v.as_bytes()),
            Some(&b"en"[..]),
            "{label}: English on request"
        );
        assert_eq!(en.status, ja.status, "{label}: same status in English");
        assert_eq!(en.error_code(), code, "{label}: same code in English");
        for field in ["message", "action"] {
            let ja_text = ja.json()["error"][field].as_str().unwrap_or("").to_owned();
            let en_text = en.json()["error"][field].as_str().unwrap_or("").to_owned();
            assert!(!ja_text.is_empty(), "{label}: Japanese {field}");
            assert!(!en_text.is_empty(), "{label}: English {field}");
            assert_ne!(
                ja_text, en_text,
                "{label}: {field} differs between languages"
            );
        }
        assert_eq!(
            after, before,
            "{label}: stored entry, history and keys unchanged"
        );
        assert_eq!(after_view, before_view, "{label}: GET answer unchanged");
        assert_eq!(
            after.history.len(),
            history_before,
            "{label}: history count"
        );
    }

    eprintln!(
        "hostile bad_input: {} cases, {server_errors} 5xx, {changed} changed entries",
        cases.len()
    );
    assert!(cases.len() >= 40, "{} cases", cases.len());
}

/// Builds every row. Tokens with crafted payloads are encrypted for the entry's own
/// certificate, so they pass recipient matching and fail later.
async fn catalogue(harness: &Harness, certificate: &str, other_certificate: &str) -> Vec<Case> {
    use ErrorCode::*;

    let valid = harness.issue_token(certificate, &[]).await.file;
    let valid_text = String::from_utf8(valid.clone()).expect("token files are text");
    let der = smime_der(&valid);
    let certificate_der = pem_to_der(certificate);
    let server = deptoken_shared::domain::ServerName::parse("keyfile").expect("valid name");
    let key = generate_mdm_key(&tenant(), &server, harness.clock.now()).expect("generate a key");
    let pkcs8 = key.private_key.to_pkcs8_der().expect("encode the key");
    // A PKCS#8 PrivateKeyInfo of RSA-2048 has a 26-byte prefix before its PKCS#1 RSAPrivateKey.
    let pkcs1 = pkcs8.expose()[26..].to_vec();
    let crafted = |json: &str| {
        deptoken_dep_sim::issue_token_file(certificate, json)
            .expect("issue a crafted token")
            .into_bytes()
    };
    let now = harness.clock.now();
    let rfc3339 = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let far_ahead = rfc3339(now + Duration::days(MAX_TOKEN_VALIDITY_DAYS + 1));
    let sim_far = harness
        .issue_token(certificate, &[("expires_at", &far_ahead)])
        .await
        .file;
    let sim_9999 = harness
        .issue_token(certificate, &[("expires_at", "9999-12-31T23:59:59Z")])
        .await
        .file;
    let headers_end = valid_text
        .find("\n\n")
        .expect("blank line after the headers")
        + 2;
    let (headers, body) = valid_text.split_at(headers_end);

    let mut cases = vec![
        case("empty", P7M, Vec::new(), &[EmptyUpload]),
        case("huge 100 KiB", P7M, vec![b'A'; 100 * 1024], &[TooLarge]),
        case(
            "one byte over the token limit",
            P7M,
            vec![b'A'; MAX_TOKEN_FILE_BYTES + 1],
            &[TooLarge],
        ),
        case(
            "garbage just under the limit",
            P7M,
            (0..MAX_TOKEN_FILE_BYTES - 1)
                .map(|i| (i * 7919 % 251) as u8 | 0x80)
                .collect(),
            &[NotAToken],
        ),
        case(
            "base64 of zeros at the limit",
            P7M,
            vec![b'A'; MAX_TOKEN_FILE_BYTES],
            &[NotAToken],
        ),
        case("whitespace only", P7M, b" \r\n\t \n".to_vec(), &[NotAToken]),
        case(
            "certificate PEM",
            P7M,
            certificate.as_bytes().to_vec(),
            &[CertificateNotToken],
        ),
        case(
            "certificate DER",
            P7M,
            certificate_der.clone(),
            &[CertificateNotToken],
        ),
        case(
            "certificate base64 without armour",
            P7M,
            pem_body(certificate).into_bytes(),
            &[CertificateNotToken],
        ),
        case(
            "private key PKCS#1 PEM",
            P7M,
            der_to_pem("RSA PRIVATE KEY", &pkcs1).into_bytes(),
            &[NotAToken],
        ),
        case(
            "private key PKCS#8 PEM",
            P7M,
            der_to_pem("PRIVATE KEY", pkcs8.expose()).into_bytes(),
            &[NotAToken],
        ),
        case(
            "private key PKCS#8 DER",
            P7M,
            pkcs8.expose().to_vec(),
            &[NotAToken],
        ),
        case(
            "mobileconfig plist",
            P7M,
            MOBILECONFIG.as_bytes().to_vec(),
            &[NotAToken],
        ),
        case(
            "binary plist",
            P7M,
            b"bplist00\xD1\x01\x02_\x10\x0FPayloadContent".to_vec(),
            &[NotAToken],
        ),
        case("VPP vpptoken", P7M, vpp_token().into_bytes(), &[NotAToken]),
        case(
            "zip archive",
            P7M,
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x8a\x9b\x00\x00token.p7m".to_vec(),
            &[NotAToken],
        ),
        case(
            "PDF",
            P7M,
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec(),
            &[NotAToken],
        ),
        case(
            "gzip of a token",
            P7M,
            b"\x1F\x8B\x08\x00\x00\x00\x00\x00\x00\x03\xCB\x48\xCD\xC9".to_vec(),
            &[NotAToken],
        ),
        case(
            "HTML login page",
            P7M,
            b"<!DOCTYPE html>\n<html><body>Sign in</body></html>\n".to_vec(),
            &[NotAToken],
        ),
        case(
            "token base64 twice",
            P7M,
            base64_of(&valid).into_bytes(),
            &[NotAToken],
        ),
        case("token in UTF-16", P7M, utf16_le(&valid_text), &[NotAToken]),
        case(
            "token for another certificate",
            P7M,
            harness.issue_token(other_certificate, &[]).await.file,
            &[WrongRecipient],
        ),
        case(
            "wrong base64",
            P7M,
            format!("{headers}MIAG!!!*CSqGSIb3DQEHA6CAMIACAQAx\n").into_bytes(),
            &[MalformedToken],
        ),
        case(
            "base64 cut mid-quantum",
            P7M,
            format!("{headers}{}", &body[..body.len() / 2 + 1]).into_bytes(),
            &[MalformedToken],
        ),
        case(
            "headers only",
            P7M,
            headers.as_bytes().to_vec(),
            &[MalformedToken],
        ),
        case(
            "duplicated Content-Type",
            P7M,
            format!("Content-Type: application/pkcs7-mime\n{valid_text}").into_bytes(),
            &[MalformedToken],
        ),
        case(
            "duplicated Content-Transfer-Encoding",
            P7M,
            valid_text
                .replacen(
                    "Content-Transfer-Encoding: base64\n",
                    "Content-Transfer-Encoding: base64\nContent-Transfer-Encoding: base64\n",
                    1,
                )
                .into_bytes(),
            &[MalformedToken],
        ),
        case(
            "quoted-printable body",
            P7M,
            valid_text
                .replacen("base64", "quoted-printable", 1)
                .into_bytes(),
            &[MalformedToken],
        ),
        case(
            "text/plain entity",
            P7M,
            valid_text
                .replacen("application/pkcs7-mime", "text/plain", 1)
                .into_bytes(),
            &[NotAToken],
        ),
        case(
            "CMS SignedData in S/MIME",
            P7M,
            smime_of(SIGNED_DATA_DER),
            &[MalformedToken],
        ),
        case(
            "CMS SignedData as PEM",
            P7M,
            der_to_pem("PKCS7", SIGNED_DATA_DER).into_bytes(),
            &[MalformedToken],
        ),
        case(
            "PEM PKCS7 without END",
            P7M,
            format!("-----BEGIN PKCS7-----\n{body}").into_bytes(),
            &[MalformedToken],
        ),
        case(
            "DER with trailing data",
            P7M,
            [der.as_slice(), b"trailing data"].concat(),
            &[MalformedToken],
        ),
        case(
            "payload missing a field",
            P7M,
            crafted(
                r#"{"consumer_key":"CK_x","consumer_secret":"CS_x","access_token":"AT_x","access_token_expiry":"2027-01-01T00:00:00Z"}"#,
            ),
            &[InvalidPayload],
        ),
        case(
            "payload null field",
            P7M,
            crafted(
                &payload("CK_null", &rfc3339(now + Duration::days(300)))
                    .replace("\"AS_crafted\"", "null"),
            ),
            &[InvalidPayload],
        ),
        case(
            "payload number field",
            P7M,
            crafted(
                &payload("CK_number", &rfc3339(now + Duration::days(300)))
                    .replace("\"AT_crafted\"", "42"),
            ),
            &[InvalidPayload],
        ),
        case(
            "payload expiry as number",
            P7M,
            crafted(&payload("CK_epoch", "X").replace("\"X\"", "1768647741")),
            &[InvalidPayload],
        ),
        case(
            "payload expiry not RFC 3339",
            P7M,
            crafted(&payload("CK_date", "17/01/2027 11:02")),
            &[InvalidPayload],
        ),
        case(
            "payload empty object",
            P7M,
            crafted("{}"),
            &[InvalidPayload],
        ),
        case(
            "payload fields nested",
            P7M,
            crafted(&format!(
                r#"{{"token":{}}}"#,
                payload("CK_nested", "2027-01-01T00:00:00Z")
            )),
            &[InvalidPayload],
        ),
        case(
            "payload JSON array",
            P7M,
            crafted("[1,2,3]"),
            &[Undecryptable],
        ),
        case(
            "payload not JSON",
            P7M,
            crafted("consumer_key=CK_x&consumer_secret=CS_x"),
            &[Undecryptable],
        ),
        case(
            "payload expired",
            P7M,
            crafted(&payload("CK_past", &rfc3339(now - Duration::days(1)))),
            &[TokenExpired],
        ),
        case(
            "payload expiry year 9999",
            P7M,
            crafted(&payload("CK_9999", "9999-12-31T23:59:59Z")),
            &[InvalidPayload],
        ),
        case(
            "payload with extra fields unknown to Apple",
            P7M,
            crafted(
                &payload("CK_extra", &rfc3339(now + Duration::days(300)))
                    .replace('}', r#","server_name":"x","extra":[1]}"#),
            ),
            &[TokenRejected],
        ),
        case(
            "Apple-accepted expiry 401 days ahead",
            P7M,
            sim_far,
            &[InvalidPayload],
        ),
        case(
            "Apple-accepted expiry in year 9999",
            P7M,
            sim_9999,
            &[InvalidPayload],
        ),
        Case {
            query: "?unknown=1".to_owned(),
            ..case(
                "unknown query parameter",
                P7M,
                valid.clone(),
                &[InvalidRequest],
            )
        },
        Case {
            query: format!("?note={}", "x".repeat(501)),
            ..case(
                "valid token with a 501-character note",
                P7M,
                valid.clone(),
                &[InvalidRequest],
            )
        },
        Case {
            query: "?note=a%00b".to_owned(),
            ..case(
                "valid token with a control character in the note",
                P7M,
                valid.clone(),
                &[InvalidRequest],
            )
        },
        form(
            "form without file",
            &[("note", "abm@acme.example".as_bytes())],
            &[InvalidRequest],
        ),
        form(
            "form with two files",
            &[("file", valid.as_slice()), ("file", valid.as_slice())],
            &[InvalidRequest],
        ),
        form("form with empty file", &[("file", b"")], &[EmptyUpload]),
        form(
            "form with the certificate",
            &[("file", certificate.as_bytes())],
            &[CertificateNotToken],
        ),
        form(
            "form with a file over the limit",
            &[("file", &vec![b'A'; MAX_TOKEN_FILE_BYTES + 10])],
            &[TooLarge],
        ),
        form(
            "form with confirm flag maybe",
            &[
                ("file", valid.as_slice()),
                ("confirm_server_change", b"maybe"),
            ],
            &[InvalidRequest],
        ),
        form(
            "form with a note over the limit",
            &[
                ("file", valid.as_slice()),
                ("note", "n".repeat(501).as_bytes()),
            ],
            &[InvalidRequest],
        ),
        case(
            "form without boundary",
            "multipart/form-data",
            multipart_body(&[("file", valid.as_slice())]),
            &[InvalidRequest],
        ),
        case(
            "form with another boundary",
            "multipart/form-data; boundary=other",
            multipart_body(&[("file", valid.as_slice())]),
            &[InvalidRequest],
        ),
        case(
            "form header with a raw token",
            &form_type(),
            valid.clone(),
            &[InvalidRequest],
        ),
        case(
            "multipart/mixed",
            &format!("multipart/mixed; boundary={BOUNDARY}"),
            multipart_body(&[("file", valid.as_slice())]),
            &[UnsupportedMediaType],
        ),
    ];

    // Truncations every 97 bytes, short of the final line so that no cut leaves a whole token.
    for offset in (97..valid.len().saturating_sub(4)).step_by(97) {
        cases.push(case(
            format!("truncated at {offset}"),
            P7M,
            valid[..offset].to_vec(),
            &[MalformedToken, NotAToken],
        ));
    }
    // Bit flips in the DER before the encrypted content: the ContentInfo and EnvelopedData
    // headers, the recipient's issuer and serial, the algorithms and the encrypted key.
    for offset in [0, 1, 3, 8, 15, 24, 40, 64, 96, 130, 170, 220, 300] {
        let mut flipped = der.clone();
        flipped[offset] ^= 0x10;
        cases.push(case(
            format!("bit flip at DER offset {offset}"),
            P7M,
            smime_of(&flipped),
            &[
                MalformedToken,
                WrongRecipient,
                Undecryptable,
                UnsupportedAlgorithm,
                NotAToken,
                CertificateNotToken,
            ],
        ));
    }

    if let Some(token) = openssl_token(
        certificate,
        b"Content-Type: text/plain\r\n\r\n\xFF\xFE{\"consumer_key\":\"CK_\xE9\"}",
    ) {
        cases.push(case("payload not UTF-8", P7M, token, &[Undecryptable]));
    }
    if let Some(token) = openssl_token(
        certificate,
        &utf16_le(&payload("CK_utf16", "2027-01-01T00:00:00Z")),
    ) {
        cases.push(case("payload in UTF-16", P7M, token, &[Undecryptable]));
    }
    if let Some(dir) = apple_fixture_dir() {
        let apple = std::fs::read(dir.join("apple-mdm-client-tests-1-server-token.p7m"))
            .expect("read the Apple token");
        cases.push(case(
            "Apple-issued token for another server",
            P7M,
            apple,
            &[WrongRecipient],
        ));
    }
    cases
}

fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|line| !line.starts_with("-----"))
        .map(|line| format!("{line}\n"))
        .collect()
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Builds a VPP content token as ABM hands it out: base64 of a JSON object.
fn vpp_token() -> String {
    base64_of(br#"{"token":"VGhpcyBpcyBub3QgYSByZWFsIHRva2Vu","expDate":"2027-01-17T11:02:21+0000","orgName":"Acme Corp"}"#)
}

/// Encodes `text` as UTF-16LE with a byte order mark, as Windows editors save it.
fn utf16_le(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

#[tokio::test]
async fn bad_input_far_expiry_rejected_before_apple() {
    let harness = Harness::start().await;
    let app = admin_app(&harness);
    let certificate = create_entry(&app, "tokyo").await;
    let far_ahead = (harness.clock.now() + Duration::days(MAX_TOKEN_VALIDITY_DAYS + 1))
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let token = harness
        .issue_token(&certificate, &[("expires_at", &far_ahead)])
        .await;

    let answer = send(
        &app,
        super::raw_upload("/v1/servers/tokyo/token", P7M, token.file),
    )
    .await;

    let requests = harness
        .sim
        .simulator
        .token_status(&token.consumer_key)
        .map(|s| s.requests);
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.error_code(), "invalid_payload");
    assert_eq!(
        requests.map(|r| r.session_requests + r.account_requests),
        Some(0),
        "Apple was not asked"
    );
}

#[tokio::test]
async fn bad_input_expiry_at_limit_accepted() {
    let harness = Harness::start().await;
    let app = admin_app(&harness);
    let certificate = create_entry(&app, "tokyo").await;
    let at_limit = (harness.clock.now() + Duration::days(MAX_TOKEN_VALIDITY_DAYS))
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let token = harness
        .issue_token(&certificate, &[("expires_at", &at_limit)])
        .await;

    let answer = send(
        &app,
        super::raw_upload("/v1/servers/tokyo/token", P7M, token.file),
    )
    .await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}
