//! Writes the seed corpora of the fuzz targets into `OUT_DIR/<target>/`, and the fixed key's
//! certificate as `OUT_DIR/fixed-certificate.pem` so that `scripts/fuzz.sh` can add OpenSSL-made
//! tokens for it. The real Apple-issued token is never written here: the script copies it into
//! the corpus at run time.
//!
//! Usage: `cargo run --release --example seed_corpus -- OUT_DIR`

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use deptoken_fuzz::JsonRoute;

const BOUNDARY: &str = "seed-boundary";

fn main() {
    let out: PathBuf = std::env::args_os().nth(1).map(PathBuf::from).expect("usage: seed_corpus OUT_DIR");
    let key = deptoken_fuzz::fixed_key();
    let certificate = key.certificate_pem.as_str();
    std::fs::create_dir_all(&out).expect("create the output folder");
    std::fs::write(out.join("fixed-certificate.pem"), certificate).expect("write the certificate");

    let token = issue(certificate, &payload_json("2027-03-01T00:00:00Z"));
    write_token_seeds(&out.join("token_file"), certificate, &token);
    write_payload_seeds(&out.join("payload"));
    write_multipart_seeds(&out.join("multipart"), &token);
    write_json_seeds(&out.join("json_requests"));
}

fn payload_json(expiry: &str) -> String {
    format!(
        r#"{{"consumer_key":"CK_seed","consumer_secret":"CS_seed","access_token":"AT_seed","access_secret":"AS_seed","access_token_expiry":"{expiry}"}}"#
    )
}

fn issue(certificate: &str, payload: &str) -> String {
    deptoken_dep_sim::issue_token_file(certificate, payload).expect("issue a seed token")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("create the corpus folder");
    std::fs::write(dir.join(name), bytes).expect("write a seed");
}

/// Returns the base64 body of an S/MIME token file (the lines after the blank line).
fn smime_body(token: &str) -> String {
    token.split_once("\n\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

fn write_token_seeds(dir: &Path, certificate: &str, token: &str) {
    let body = smime_body(token);
    let der = BASE64.decode(body.split_whitespace().collect::<String>()).expect("seed token base64");
    let certificate_der = BASE64
        .decode(certificate.lines().filter(|line| !line.starts_with("-----")).collect::<String>())
        .expect("certificate base64");

    write(dir, "smime.p7m", token.as_bytes());
    write(dir, "smime-crlf.p7m", token.replace('\n', "\r\n").as_bytes());
    write(dir, "smime-bom.p7m", format!("\u{FEFF}{token}").as_bytes());
    write(dir, "smime-x-pkcs7.p7m", token.replace("application/pkcs7-mime", "application/x-pkcs7-mime").as_bytes());
    write(dir, "pem-pkcs7.p7m", format!("-----BEGIN PKCS7-----\n{body}-----END PKCS7-----\n").as_bytes());
    write(dir, "pem-cms.p7m", format!("-----BEGIN CMS-----\n{body}-----END CMS-----\n").as_bytes());
    write(dir, "bare-base64.p7m", body.as_bytes());
    write(dir, "bare-der.p7m", &der);
    write(dir, "certificate.pem", certificate.as_bytes());
    write(dir, "certificate.der", &certificate_der);
    write(dir, "payload-not-json.p7m", issue(certificate, "not JSON at all").as_bytes());
    write(dir, "payload-missing-fields.p7m", issue(certificate, r#"{"consumer_key":"CK_x"}"#).as_bytes());
    write(dir, "payload-expired.p7m", issue(certificate, &payload_json("2020-01-01T00:00:00Z")).as_bytes());
    for offset in (0..der.len()).step_by(211) {
        write(dir, &format!("der-truncated-{offset}.p7m"), &der[..offset]);
    }
    for offset in [0, 1, 5, 20, 60, 200, 400, der.len() - 1] {
        let mut flipped = der.clone();
        flipped[offset] ^= 0x41;
        write(dir, &format!("der-flipped-{offset}.p7m"), &flipped);
    }
}

fn write_payload_seeds(dir: &Path) {
    let json = payload_json("2027-03-01T00:00:00Z");
    let headers = "Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n";
    write(dir, "apple-layout", format!("{headers}-----BEGIN MESSAGE-----\n{json}\n-----END MESSAGE-----\n").as_bytes());
    write(dir, "json-only", json.as_bytes());
    write(dir, "markers-only", format!("-----BEGIN MESSAGE-----\n{json}\n-----END MESSAGE-----").as_bytes());
    write(dir, "multi-line", json.replace(',', ",\n  ").as_bytes());
    write(dir, "null-field", json.replace("\"AS_seed\"", "null").as_bytes());
    write(dir, "number-field", json.replace("\"AT_seed\"", "42").as_bytes());
    write(dir, "offset-expiry", json.replace("Z\"", "+09:00\"").as_bytes());
    write(dir, "bom", format!("\u{FEFF}{json}").as_bytes());
    write(dir, "empty-object", b"{}");
}

fn multipart_body(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in parts {
        let filename = if *name == "file" { "; filename=\"tokyo_smime.p7m\"" } else { "" };
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n").as_bytes());
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn write_multipart_seeds(dir: &Path, token: &str) {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}\n");
    let cases: [(&str, Vec<(&str, &[u8])>); 5] = [
        ("file-only", vec![("file", token.as_bytes())]),
        ("file-and-note", vec![("note", "abm@acme.example".as_bytes()), ("file", token.as_bytes())]),
        ("confirm", vec![("file", b"x"), ("confirm_server_change", b"on")]),
        ("two-files", vec![("file", b"a"), ("file", b"b")]),
        ("no-file", vec![("note", "メモ".as_bytes())]),
    ];
    for (name, parts) in cases {
        let mut input = content_type.clone().into_bytes();
        input.extend_from_slice(&multipart_body(&parts));
        write(dir, name, &input);
    }
}

fn write_json_seeds(dir: &Path) {
    let cases: [(&str, JsonRoute, &str, &str); 9] = [
        ("create", JsonRoute::Create, "ja", r#"{"name":"osaka","display_name":"大阪"}"#),
        ("create-extra", JsonRoute::Create, "en", r#"{"name":"osaka","display_name":"x","extra":1}"#),
        ("create-types", JsonRoute::Create, "en-US,ja;q=0.5", r#"{"name":7,"display_name":null}"#),
        ("patch", JsonRoute::Patch, "ja", r#"{"note":"abm@acme.example"}"#),
        ("patch-null", JsonRoute::Patch, "en", r#"{"note":null}"#),
        ("patch-control", JsonRoute::Patch, "", "{\"note\":\"a\\u0000b\\u202e\"}"),
        ("query", JsonRoute::UploadQuery, "ja", "note=abm%40acme.example&confirm_server_change=true"),
        ("query-unknown", JsonRoute::UploadQuery, "en", "unknown=1"),
        ("create-text", JsonRoute::CreateOtherType, "ja", r#"{"name":"osaka","display_name":"x"}"#),
    ];
    for (name, route, language, body) in cases {
        let mut input = vec![route.selector()];
        input.extend_from_slice(format!("{language}\n{body}").as_bytes());
        write(dir, name, &input);
    }
}
