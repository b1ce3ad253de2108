//! Replays the inputs kept in `fuzz/regressions/<target>/` (crashes, hangs and large
//! allocations that fuzzing found, and hand-made inputs of the same kinds) through the same
//! code and checks as the fuzz targets, so that every run of the test suite guards them
//! without nightly flags or libFuzzer.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, header};
use bytes::Bytes;
use deptoken_shared::AppError;
use deptoken_shared::domain::ServerName;
use deptoken_shared::keys::generate_mdm_key;
use deptoken_shared::token::{
    EncryptedToken, MAX_TOKEN_FILE_BYTES, TokenError, parse_decrypted_payload,
};

use super::{admin_app, create_entry, send};
use crate::harness::{Harness, tenant};

/// The time one input may take, as `scripts/fuzz.sh` allows libFuzzer (`-timeout=5`).
const MAX_INPUT_TIME: Duration = Duration::from_secs(5);

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| (path.clone(), std::fs::read(&path).expect("read an input")))
        .collect()
}

fn assert_client_error(error: AppError, label: &str) {
    let status = error.code.http_status();
    assert!(
        (400..500).contains(&status),
        "{label}: {:?} maps to {status}",
        error.code
    );
}

#[test]
fn fuzz_regressions_token_file() {
    let server = ServerName::parse("fuzz").expect("valid name");
    let key = generate_mdm_key(&tenant(), &server, chrono::Utc::now()).expect("generate a key");
    let inputs = inputs("token_file");

    for (path, data) in &inputs {
        let label = path.display().to_string();
        let started = Instant::now();

        let outcome = EncryptedToken::parse(data);

        match outcome {
            Ok(parsed) => {
                if let Some(recipient) = parsed.recipients().first()
                    && let Err(error) = parsed.decrypt(recipient, &key.private_key)
                {
                    assert_client_error(error.into(), &label);
                }
            }
            Err(error) => assert_client_error(error.into(), &label),
        }
        assert!(
            started.elapsed() < MAX_INPUT_TIME,
            "{label}: took {:?}",
            started.elapsed()
        );
    }
    eprintln!(
        "hostile fuzz_regressions: token_file {} inputs",
        inputs.len()
    );
}

#[test]
fn fuzz_regressions_payload() {
    let inputs = inputs("payload");

    for (path, data) in &inputs {
        let outcome = parse_decrypted_payload(data);

        assert!(
            matches!(
                outcome,
                Ok(_) | Err(TokenError::Undecryptable | TokenError::InvalidPayload { .. })
            ),
            "{}: {:?}",
            path.display(),
            outcome.err()
        );
    }
    eprintln!("hostile fuzz_regressions: payload {} inputs", inputs.len());
}

#[tokio::test]
async fn fuzz_regressions_multipart() {
    let inputs = inputs("multipart");

    for (path, data) in &inputs {
        let (content_type, body) = match data.iter().position(|b| *b == b'\n') {
            Some(end) => (&data[..end], &data[end + 1..]),
            None => (data.as_slice(), &[][..]),
        };
        let content_type = String::from_utf8_lossy(content_type).into_owned();

        let outcome =
            deptoken_api::read_upload_form(&content_type, Bytes::copy_from_slice(body)).await;

        match outcome {
            Ok(upload) => assert!(
                upload.file.len() <= MAX_TOKEN_FILE_BYTES,
                "{}",
                path.display()
            ),
            Err(error) => assert_client_error(error, &path.display().to_string()),
        }
    }
    eprintln!(
        "hostile fuzz_regressions: multipart {} inputs",
        inputs.len()
    );
}

/// Inputs of the `json_requests` target: a selector byte (0 create, 1 patch, 2 upload query,
/// 3 create as text/plain), an `Accept-Language` line, then the body or query string.
#[tokio::test]
async fn fuzz_regressions_json_requests() {
    let harness = Harness::start().await;
    let app = admin_app(&harness);
    create_entry(&app, "tokyo").await;
    let inputs = inputs("json_requests");

    for (path, data) in &inputs {
        let Some(request) = json_request(data) else {
            continue;
        };

        let answer = send(&app, request).await;

        assert!(
            !answer.status.is_server_error(),
            "{}: {}",
            path.display(),
            answer.status
        );
    }
    eprintln!(
        "hostile fuzz_regressions: json_requests {} inputs",
        inputs.len()
    );
}

fn json_request(data: &[u8]) -> Option<Request<Body>> {
    let (&selector, rest) = data.split_first()?;
    let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let language = std::str::from_utf8(&rest[..end]).ok()?;
    let body = rest.get(end + 1..).unwrap_or_default().to_vec();
    let builder = Request::builder().header(header::ACCEPT_LANGUAGE, language);
    let request = match selector % 4 {
        0 => builder
            .method(Method::POST)
            .uri("/v1/servers")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body)),
        1 => builder
            .method(Method::PATCH)
            .uri("/v1/servers/tokyo")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body)),
        2 => builder
            .method(Method::PUT)
            .uri(format!(
                "/v1/servers/tokyo/token?{}",
                std::str::from_utf8(&body).ok()?
            ))
            .header(header::CONTENT_TYPE, "application/pkcs7-mime")
            .body(Body::from("not read")),
        _ => builder
            .method(Method::POST)
            .uri("/v1/servers")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(body)),
    };
    request.ok()
}
