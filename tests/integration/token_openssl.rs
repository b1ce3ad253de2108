//! Interoperability with OpenSSL, an independent CMS implementation: tokens that
//! `openssl cms -encrypt` makes for a key of ours decrypt with our code in every envelope, and
//! tokens from the DEP simulator decrypt with `openssl cms -decrypt`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use deptoken_shared::domain::{ServerName, TenantId};
use deptoken_shared::keys::{GeneratedKey, generate_mdm_key};
use deptoken_shared::token::{EncryptedToken, TokenCredentials, TokenError};
use tempfile::TempDir;

use crate::support::openssl_available;

const CONSUMER_KEY: &str = "CK_3f1c9e0a7b2d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607";
const CONSUMER_SECRET: &str = "CS_9a8b7c6d5e4f30211f2e3d4c5b6a79881726354a";
const ACCESS_TOKEN: &str = "AT_O4071234567O5d41402abc4b2a76b9719d911017c592O1768647741000";
const ACCESS_SECRET: &str = "AS_0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";
const EXPIRY: &str = "2027-01-17T11:02:21Z";

/// Builds a payload JSON in Apple's field order with made-up values.
fn payload_json() -> String {
    format!(
        r#"{{"consumer_key":"{CONSUMER_KEY}","consumer_secret":"{CONSUMER_SECRET}","access_token":"{ACCESS_TOKEN}","access_secret":"{ACCESS_SECRET}","access_token_expiry":"{EXPIRY}"}}"#
    )
}

/// Builds the decrypted content as ABM writes it: CRLF headers, LF around the message lines.
fn payload_with_markers() -> String {
    format!(
        "Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\
         -----BEGIN MESSAGE-----\n{}\n-----END MESSAGE-----\n",
        payload_json()
    )
}

/// Builds the decrypted content as Apple's documentation shows it, without the message lines.
fn payload_without_markers() -> String {
    format!(
        "Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n{}\n",
        payload_json()
    )
}

fn assert_expected_credentials(credentials: &TokenCredentials, label: &str) {
    let expiry = DateTime::parse_from_rfc3339(EXPIRY)
        .expect("valid timestamp")
        .with_timezone(&Utc);
    assert_eq!(credentials.consumer_key.expose(), CONSUMER_KEY, "{label}");
    assert_eq!(
        credentials.consumer_secret.expose(),
        CONSUMER_SECRET,
        "{label}"
    );
    assert_eq!(credentials.access_token.expose(), ACCESS_TOKEN, "{label}");
    assert_eq!(credentials.access_secret.expose(), ACCESS_SECRET, "{label}");
    assert_eq!(credentials.access_token_expiry, expiry, "{label}");
}

fn parse_and_decrypt(input: &[u8], key: &GeneratedKey) -> Result<TokenCredentials, TokenError> {
    let token = EncryptedToken::parse(input)?;
    let recipient = token
        .recipients()
        .first()
        .cloned()
        .expect("the token names a recipient");
    assert_eq!(recipient, key.recipient);
    token.decrypt(&recipient, &key.private_key)
}

/// Runs `openssl` with `args`, failing the test with its stderr when it exits non-zero.
fn openssl<I, S>(args: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<S> = args.into_iter().collect();
    let printable: Vec<String> = args
        .iter()
        .map(|arg| arg.as_ref().to_string_lossy().into_owned())
        .collect();
    let output = Command::new("openssl")
        .args(&args)
        .output()
        .expect("openssl starts");
    assert!(
        output.status.success(),
        "openssl {} failed: {}",
        printable.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn base64_lines(der: &[u8], line_ending: &str) -> String {
    let encoded = STANDARD.encode(der);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    lines.join(line_ending)
}

/// Wraps a CMS object in ABM's four S/MIME headers with the given line ending.
fn smime(ber: &[u8], line_ending: &str) -> String {
    let headers = [
        "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data",
        "Content-Transfer-Encoding: base64",
        "Content-Disposition: attachment; filename=\"smime.p7m\"",
        "Content-Description: S/MIME Encrypted Message",
    ];
    format!(
        "{}{le}{le}{}{le}",
        headers.join(line_ending),
        base64_lines(ber, line_ending),
        le = line_ending
    )
}

/// Wraps one binary CMS object in every envelope an admin might upload.
fn binary_envelopes(ber: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("smime lf", smime(ber, "\n").into_bytes()),
        ("smime crlf", smime(ber, "\r\n").into_bytes()),
        (
            "smime bom",
            format!("\u{FEFF}{}", smime(ber, "\n")).into_bytes(),
        ),
        (
            "smime bom crlf",
            format!("\u{FEFF}{}", smime(ber, "\r\n")).into_bytes(),
        ),
        (
            "pem pkcs7",
            format!(
                "-----BEGIN PKCS7-----\n{}\n-----END PKCS7-----\n",
                base64_lines(ber, "\n")
            )
            .into_bytes(),
        ),
        ("bare", ber.to_vec()),
    ]
}

/// A key of ours with its certificate and PKCS#8 private key written to a temporary folder.
struct KeyFiles {
    dir: TempDir,
    key: GeneratedKey,
    certificate: PathBuf,
    private_key: PathBuf,
}

fn write_key_files() -> KeyFiles {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let key = generate_mdm_key(
        &TenantId::parse("acme").expect("valid tenant"),
        &ServerName::parse("tokyo-office").expect("valid server"),
        Utc::now(),
    )
    .expect("key generation succeeds");

    let certificate = dir.path().join("mdm.pem");
    std::fs::write(&certificate, &key.certificate_pem).expect("certificate written");
    let pkcs8 = key.private_key.to_pkcs8_der().expect("encodable key");
    let private_key = dir.path().join("mdm.key");
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64_lines(pkcs8.expose(), "\n")
    );
    std::fs::write(&private_key, pem).expect("private key written");

    KeyFiles {
        dir,
        key,
        certificate,
        private_key,
    }
}

fn encrypt_with_openssl(
    files: &KeyFiles,
    payload: &Path,
    cipher: &str,
    stream: bool,
    outform: &str,
) -> Vec<u8> {
    let out = payload.with_extension(format!(
        "{}-{}-{stream}.out",
        cipher.trim_start_matches('-'),
        outform
    ));
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("cms"),
        OsStr::new("-encrypt"),
        OsStr::new("-binary"),
        OsStr::new(cipher),
    ];
    if stream {
        args.push(OsStr::new("-stream"));
    }
    args.extend([
        OsStr::new("-outform"),
        OsStr::new(outform),
        OsStr::new("-in"),
        payload.as_os_str(),
        OsStr::new("-out"),
        out.as_os_str(),
        files.certificate.as_os_str(),
    ]);
    openssl(args);
    std::fs::read(&out).expect("openssl output readable")
}

#[test]
fn openssl_reads_our_certificate_serial() {
    if !openssl_available() {
        return;
    }
    let files = write_key_files();

    let output = openssl([
        OsStr::new("x509"),
        OsStr::new("-noout"),
        OsStr::new("-serial"),
        OsStr::new("-in"),
        files.certificate.as_os_str(),
    ]);

    let text = String::from_utf8(output).expect("ASCII output");
    assert_eq!(
        text.trim(),
        format!("serial={}", files.key.recipient.serial_hex())
    );
}

#[test]
fn openssl_tokens_decrypt_in_every_envelope() {
    if !openssl_available() {
        return;
    }
    let files = write_key_files();
    let payloads = [
        (
            "with markers",
            files.dir.path().join("with-markers.txt"),
            payload_with_markers(),
        ),
        (
            "without markers",
            files.dir.path().join("without-markers.txt"),
            payload_without_markers(),
        ),
    ];
    for (_, path, content) in &payloads {
        std::fs::write(path, content).expect("payload written");
    }
    let mut checked = 0;

    for (payload_label, payload_path, _) in &payloads {
        for cipher in ["-aes128", "-aes256", "-des3"] {
            for stream in [false, true] {
                let der = encrypt_with_openssl(&files, payload_path, cipher, stream, "DER");
                let pem = encrypt_with_openssl(&files, payload_path, cipher, stream, "PEM");
                let openssl_smime =
                    encrypt_with_openssl(&files, payload_path, cipher, stream, "SMIME");
                let mut cases = binary_envelopes(&der);
                cases.push(("openssl pem", pem.clone()));
                cases.push((
                    "openssl pem bom",
                    [b"\xEF\xBB\xBF".as_slice(), &pem].concat(),
                ));
                cases.push(("openssl smime", openssl_smime));

                for (envelope, input) in cases {
                    let label = format!("{payload_label} {cipher} stream={stream} {envelope}");
                    let credentials = parse_and_decrypt(&input, &files.key)
                        .unwrap_or_else(|error| panic!("{label}: {error}"));
                    assert_expected_credentials(&credentials, &label);
                    checked += 1;
                }
            }
        }
    }

    assert_eq!(checked, 2 * 3 * 2 * 9);
}

#[test]
fn openssl_stream_output_is_chunked_ber() {
    if !openssl_available() {
        return;
    }
    let files = write_key_files();
    let payload = files.dir.path().join("payload.txt");
    std::fs::write(&payload, payload_with_markers()).expect("payload written");

    let ber = encrypt_with_openssl(&files, &payload, "-aes128", true, "DER");

    // SEQUENCE with indefinite length, as in ABM's files.
    assert_eq!(&ber[..2], &[0x30, 0x80]);
    let credentials = parse_and_decrypt(&ber, &files.key).expect("the token decrypts");
    assert_expected_credentials(&credentials, "stream");
}

#[test]
fn simulator_tokens_decrypt_with_openssl() {
    if !openssl_available() {
        return;
    }
    let files = write_key_files();
    let token = deptoken_dep_sim::issue_token_file(&files.key.certificate_pem, &payload_json())
        .expect("the simulator issues a token");
    let token_path = files.dir.path().join("simulator_Token_smime.p7m");
    std::fs::write(&token_path, &token).expect("token written");

    let output = openssl([
        OsStr::new("cms"),
        OsStr::new("-decrypt"),
        OsStr::new("-binary"),
        OsStr::new("-inform"),
        OsStr::new("SMIME"),
        OsStr::new("-in"),
        token_path.as_os_str(),
        OsStr::new("-inkey"),
        files.private_key.as_os_str(),
        OsStr::new("-recip"),
        files.certificate.as_os_str(),
    ]);

    let text = String::from_utf8(output).expect("UTF-8 content");
    let message = format!(
        "\n-----BEGIN MESSAGE-----\n{}\n-----END MESSAGE-----\n",
        payload_json()
    );
    assert!(
        text.starts_with("Content-Type: text/plain;charset=UTF-8\r\n"),
        "{text:?}"
    );
    assert!(text.contains(&message), "{text:?}");
}

#[test]
fn simulator_tokens_decrypt_with_our_code() {
    let files = write_key_files();
    let token = deptoken_dep_sim::issue_token_file(&files.key.certificate_pem, &payload_json())
        .expect("the simulator issues a token");

    let credentials = parse_and_decrypt(token.as_bytes(), &files.key).expect("the token decrypts");

    assert_expected_credentials(&credentials, "simulator");
}
