//! The `deptoken` binary, run as a user runs it: `inspect` on the real Apple-issued token and
//! on bad input, and `serve --simulator` serving requests over loopback.
//!
//! This file is the `cli` test target of the `deptoken` package (see `cli/Cargo.toml`), not a
//! module of the `integration` binary, because only a test of the binary's own package gets
//! its path (`CARGO_BIN_EXE_deptoken`) and makes Cargo build it first. It cannot include
//! `support/mod.rs`, whose helpers need the AWS test dependencies, so it finds the Apple
//! fixture with the same rules itself.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const DEPTOKEN: &str = env!("CARGO_BIN_EXE_deptoken");

/// Finds the folder of the real Apple-issued token: `DEPTOKEN_APPLE_FIXTURE_DIR`, or
/// `shared/fixtures/apple-issued-token` beside the checkout. `None` after printing why when
/// it is missing; a panic under `CI=true`.
fn apple_fixture_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DEPTOKEN_APPLE_FIXTURE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/apple-issued-token"));
    if dir.join("apple-mdm-client-tests-1-server-token.p7m").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("the Apple-issued token fixture is missing at {}", dir.display());
    }
    eprintln!("SKIPPED: the Apple-issued token fixture is missing at {}; set DEPTOKEN_APPLE_FIXTURE_DIR", dir.display());
    None
}

fn run(args: &[&str]) -> Output {
    Command::new(DEPTOKEN)
        .args(args)
        .env("RUST_LOG", "debug")
        .output()
        .expect("run deptoken")
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", String::from_utf8_lossy(&output.stdout)))
}

/// Tells whether the output shows any credential value of a token, by their prefixes.
fn shows_credential(output: &Output) -> bool {
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    ["CS_", "AS_", "AT_", "CK_"].iter().any(|prefix| text.contains(prefix))
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

#[test]
fn inspect_apple_token_prints_summary() {
    let Some(dir) = apple_fixture_dir() else { return };
    let key = dir.join("apple-mdm-client-tests-1.pem");
    let cert = dir.join("apple-mdm-client-tests-1.crt");
    let token = dir.join("apple-mdm-client-tests-1-server-token.p7m");

    let output = run(&["inspect", "--key", path_text(&key), "--cert", path_text(&cert), path_text(&token)]);

    let summary = stdout_json(&output);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(summary["expires_at"], "2026-01-17T11:02:21Z");
    assert!(summary["days_remaining"].as_i64().is_some_and(|d| d < 0), "{summary}");
    assert_eq!(summary["expired"], true);
    assert_eq!(summary["recipient"]["serial"], "70FEDDC7D5AFA393");
    assert!(summary["recipient"]["issuer"].as_str().is_some_and(|i| !i.is_empty()), "{summary}");
    assert_eq!(summary["consumer_key_fingerprint"].as_str().map(str::len), Some(16));
    assert!(!shows_credential(&output));
}

#[test]
fn inspect_accepts_der_key() {
    let Some(dir) = apple_fixture_dir() else { return };
    let key = dir.join("apple-mdm-client-tests-1.der");
    let token = dir.join("apple-mdm-client-tests-1-server-token.p7m");

    let output = run(&["inspect", "--key", path_text(&key), path_text(&token)]);

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(stdout_json(&output)["expires_at"], "2026-01-17T11:02:21Z");
    assert!(!shows_credential(&output));
}

#[test]
fn inspect_garbage_prints_error_json() {
    let Some(dir) = apple_fixture_dir() else { return };
    let key = dir.join("apple-mdm-client-tests-1.pem");
    let folder = tempfile::tempdir().expect("temporary folder");
    let garbage = folder.path().join("garbage.p7m");
    std::fs::write(&garbage, b"this is not a server token\n").expect("write");
    let cases = [("japanese", "ja", false), ("english", "en", true)];

    for (label, lang, ascii) in cases {
        let output = run(&["inspect", "--lang", lang, "--key", path_text(&key), path_text(&garbage)]);

        let error = stdout_json(&output)["error"].clone();
        let message = error["message"].as_str().unwrap_or("");
        assert_eq!(output.status.code(), Some(1), "{label}");
        assert_eq!(error["code"], "not_a_token", "{label}");
        assert!(!message.is_empty(), "{label}");
        assert_eq!(message.is_ascii(), ascii, "{label}: {message}");
        assert!(error["action"].is_string(), "{label}");
    }
}

#[test]
fn inspect_other_certificate_is_wrong_recipient() {
    let Some(dir) = apple_fixture_dir() else { return };
    let folder = tempfile::tempdir().expect("temporary folder");
    let other = deptoken_shared::keys::generate_mdm_key(
        &deptoken_shared::domain::TenantId::parse("acme").expect("tenant"),
        &deptoken_shared::domain::ServerName::parse("tokyo").expect("name"),
        chrono::Utc::now(),
    )
    .expect("generate a key");
    let cert = folder.path().join("other.pem");
    std::fs::write(&cert, other.certificate_pem).expect("write");
    let key = dir.join("apple-mdm-client-tests-1.pem");
    let token = dir.join("apple-mdm-client-tests-1-server-token.p7m");

    let output = run(&["inspect", "--key", path_text(&key), "--cert", path_text(&cert), path_text(&token)]);

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout_json(&output)["error"]["code"], "wrong_recipient");
}

#[test]
fn serve_rejects_public_address() {
    let folder = tempfile::tempdir().expect("temporary folder");

    let output = run(&["serve", "--addr", "0.0.0.0:8080", "--data-dir", path_text(folder.path())]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("loopback"), "{stderr}");
}

/// Sends `GET path` over a fresh connection and returns the status code and body.
fn http_get(address: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;

    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    Ok((status, body))
}

#[test]
fn serve_simulator_answers_list() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let mut child = Command::new(DEPTOKEN)
        .args(["serve", "--simulator", "--addr", "127.0.0.1:0", "--data-dir", path_text(folder.path())])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start deptoken serve");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    let mut printed = Vec::new();
    let mut address = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while address.is_none() && Instant::now() < deadline {
        let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(1)) else { continue };
        address = line.strip_prefix("deptoken API: http://").map(str::to_owned);
        printed.push(line);
    }
    let mut answer = None;
    if let Some(address) = &address {
        for _ in 0..50 {
            if let Ok(result) = http_get(address, "/v1/servers") {
                answer = Some(result);
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    while let Ok(line) = lines_rx.recv_timeout(Duration::from_millis(200)) {
        printed.push(line);
    }
    child.kill().expect("stop deptoken serve");
    child.wait().expect("reap deptoken serve");

    let printed = printed.join("\n");
    assert!(address.is_some(), "no API address printed: {printed}");
    assert_eq!(answer, Some((200, "{\"servers\":[]}".to_owned())), "{printed}");
    assert!(printed.contains("DEP simulator: http://127.0.0.1:"), "{printed}");
    assert!(printed.contains("次の手順 / Next steps"), "{printed}");
}

#[test]
fn sweep_empty_store_prints_report() {
    let folder = tempfile::tempdir().expect("temporary folder");

    let output = run(&["sweep", "--data-dir", path_text(folder.path()), "--now", "2026-04-01T09:00:00+09:00"]);

    let report = stdout_json(&output);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(report["report"]["now"], "2026-04-01T00:00:00Z");
    assert_eq!(report["report"]["entries"], 0);
    assert_eq!(report["notifications"]["published"], 0);
    assert!(folder.path().join("outbox.jsonl").is_file(), "the outbox is created");
}

#[test]
fn sweep_rejects_invalid_now() {
    let folder = tempfile::tempdir().expect("temporary folder");

    let output = run(&["sweep", "--data-dir", path_text(folder.path()), "--now", "2026-04-01"]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("RFC 3339"), "{stderr}");
}
