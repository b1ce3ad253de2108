//! The HTTP API in-process (`tower::ServiceExt::oneshot`) over the real use cases, the DEP
//! simulator and SQLite: every route's happy path, uploads in both body forms, limits, and
//! the one error format in Japanese and English.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use deptoken_api::IdentitySource;
use deptoken_shared::usecases::{SubscriberDirectory, SweepOptions, SweepRunner};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::{Harness, admin, contains_credential, reader};

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("JSON body ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(&name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or("").to_owned()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("read the body").to_bytes().to_vec();
    Answer { status, headers, body }
}

fn request(method: Method, uri: &str) -> Request<Body> {
    Request::builder().method(method).uri(uri).body(Body::empty()).expect("request")
}

fn json_request(method: Method, uri: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

fn raw_upload(uri: &str, file: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method(Method::PUT)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/pkcs7-mime")
        .body(Body::from(file))
        .expect("request")
}

const BOUNDARY: &str = "deptoken-test-boundary";

/// Builds a `multipart/form-data` upload with the given text parts and a `file` part.
fn multipart_upload(uri: &str, file: &[u8], parts: &[(&str, &str)]) -> Request<Body> {
    let mut body = Vec::new();
    for (name, value) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"tokyo_smime.p7m\"\r\n\
             Content-Type: application/pkcs7-mime\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());

    Request::builder()
        .method(Method::PUT)
        .uri(uri)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(body))
        .expect("request")
}

fn app_for(harness: &Harness) -> Router {
    deptoken_api::router(harness.services.clone(), IdentitySource::Fixed(admin()))
}

/// Creates entry `name` through the API and returns its certificate PEM.
async fn create_entry(app: &Router, name: &str) -> String {
    let created = send(app, json_request(Method::POST, "/v1/servers", json!({"name": name, "display_name": "Tokyo office"}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&created.body));
    let certificate = send(app, request(Method::GET, &format!("/v1/servers/{name}/certificate"))).await;
    String::from_utf8(certificate.body).expect("PEM text")
}

/// Creates entry `name` and uploads an accepted token; returns the certificate PEM.
async fn entry_with_token(harness: &Harness, app: &Router, name: &str) -> String {
    let certificate = create_entry(app, name).await;
    let token = harness.issue_token(&certificate, &[]).await;
    let uploaded = send(app, raw_upload(&format!("/v1/servers/{name}/token"), token.file)).await;
    assert_eq!(uploaded.status, StatusCode::OK, "{}", String::from_utf8_lossy(&uploaded.body));
    harness.tick();
    certificate
}

#[tokio::test]
async fn create_answers_201_with_location() {
    let harness = Harness::start().await;
    let app = app_for(&harness);

    let answer = send(&app, json_request(Method::POST, "/v1/servers", json!({"name": "tokyo", "display_name": "東京オフィス"}))).await;

    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.header(header::LOCATION), "/v1/servers/tokyo");
    assert_eq!(answer.json()["name"], "tokyo");
    assert_eq!(answer.json()["display_name"], "東京オフィス");
    assert_eq!(answer.json()["status"], "no_token");
}

#[tokio::test]
async fn list_and_get_show_entry() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    entry_with_token(&harness, &app, "tokyo").await;

    let list = send(&app, request(Method::GET, "/v1/servers")).await;
    let one = send(&app, request(Method::GET, "/v1/servers/tokyo")).await;

    let entry = one.json();
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["servers"].as_array().map(Vec::len), Some(1));
    assert_eq!(list.json()["servers"][0], entry);
    assert_eq!(one.status, StatusCode::OK);
    for field in [
        "name", "display_name", "status", "expires_at", "days_remaining", "highlight", "note", "account",
        "last_checked_at", "last_error", "uploaded_at", "uploaded_by",
    ] {
        assert!(entry.get(field).is_some(), "field {field} in {entry}");
    }
    for field in ["server_name", "server_uuid", "org_name", "admin_id", "org_email", "org_type"] {
        assert!(entry["account"].get(field).is_some(), "account field {field} in {entry}");
    }
    assert_eq!(entry["status"], "ok");
    assert!(!contains_credential(&entry.to_string()), "{entry}");
}

#[tokio::test]
async fn patch_sets_and_clears_note() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    create_entry(&app, "tokyo").await;

    let set = send(&app, json_request(Method::PATCH, "/v1/servers/tokyo", json!({"note": "abm@acme.example"}))).await;
    let cleared = send(&app, json_request(Method::PATCH, "/v1/servers/tokyo", json!({"note": null}))).await;
    let missing = send(&app, json_request(Method::PATCH, "/v1/servers/tokyo", json!({}))).await;

    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(set.json()["note"], "abm@acme.example");
    assert_eq!(cleared.json()["note"], Value::Null);
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.error_code(), "invalid_request");
}

#[tokio::test]
async fn delete_answers_204_then_404() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    create_entry(&app, "tokyo").await;

    let deleted = send(&app, request(Method::DELETE, "/v1/servers/tokyo")).await;
    let after = send(&app, request(Method::GET, "/v1/servers/tokyo")).await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(after.status, StatusCode::NOT_FOUND);
    assert_eq!(after.error_code(), "not_found");
}

#[tokio::test]
async fn certificate_downloads_as_pem_file() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    create_entry(&app, "tokyo").await;

    let answer = send(&app, request(Method::GET, "/v1/servers/tokyo/certificate")).await;

    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(header::CONTENT_TYPE), "application/x-pem-file");
    assert_eq!(answer.header(header::CONTENT_DISPOSITION), "attachment; filename=\"tokyo.pem\"");
    assert!(answer.body.starts_with(b"-----BEGIN CERTIFICATE-----"));
}

#[tokio::test]
async fn rotate_stages_served_certificate() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    let first = create_entry(&app, "tokyo").await;

    let rotated = send(&app, request(Method::POST, "/v1/servers/tokyo/certificate/rotate")).await;
    let served = send(&app, request(Method::GET, "/v1/servers/tokyo/certificate")).await;

    let staged_pem = rotated.json()["certificate_pem"].as_str().unwrap_or("").to_owned();
    assert_eq!(rotated.status, StatusCode::CREATED);
    assert_eq!(rotated.json()["state"], "staged");
    assert_eq!(String::from_utf8_lossy(&served.body), staged_pem);
    assert_ne!(staged_pem, first);
}

#[tokio::test]
async fn upload_raw_body_accepted() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    let certificate = create_entry(&app, "tokyo").await;
    let token = harness.issue_token(&certificate, &[]).await;

    let answer = send(&app, raw_upload("/v1/servers/tokyo/token?note=abm%40acme.example", token.file)).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", String::from_utf8_lossy(&answer.body));
    assert!(answer.json()["expires_at"].is_string());
    assert_eq!(answer.json()["note"], "abm@acme.example");
    assert_eq!(answer.json()["account"]["server_name"], "Sim MDM Server");
    assert!(!answer.body.windows(token.consumer_key.len()).any(|w| w == token.consumer_key.as_bytes()));
}

#[tokio::test]
async fn upload_multipart_with_note() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    let certificate = create_entry(&app, "tokyo").await;
    let token = harness.issue_token(&certificate, &[]).await;

    let answer = send(&app, multipart_upload("/v1/servers/tokyo/token", &token.file, &[("note", "abm@acme.example")])).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json()["note"], "abm@acme.example");
    assert_eq!(answer.json()["status"], "ok");
}

#[tokio::test]
async fn upload_server_change_confirmed() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    let certificate = entry_with_token(&harness, &app, "tokyo").await;
    let token = harness.issue_token(&certificate, &[("server_name", "Osaka MDM")]).await;

    let refused = send(&app, raw_upload("/v1/servers/tokyo/token", token.file.clone())).await;
    let by_form = send(&app, multipart_upload("/v1/servers/tokyo/token", &token.file, &[("confirm_server_change", "true")])).await;
    harness.tick();
    let by_query = send(&app, raw_upload("/v1/servers/tokyo/token?confirm_server_change=true", token.file)).await;

    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.error_code(), "server_mismatch");
    assert_eq!(by_form.status, StatusCode::OK, "{}", String::from_utf8_lossy(&by_form.body));
    assert_eq!(by_query.status, StatusCode::OK, "{}", String::from_utf8_lossy(&by_query.body));
}

#[tokio::test]
async fn upload_over_limit_is_413() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    create_entry(&app, "tokyo").await;
    let cases = [
        ("raw file over 64 KiB", raw_upload("/v1/servers/tokyo/token", vec![b'A'; 64 * 1024 + 1])),
        ("multipart file over 64 KiB", multipart_upload("/v1/servers/tokyo/token", &vec![b'A'; 64 * 1024 + 1], &[])),
        ("body over 80 KiB", raw_upload("/v1/servers/tokyo/token", vec![b'A'; 81 * 1024])),
    ];

    for (label, request) in cases {
        let answer = send(&app, request).await;

        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{label}");
        assert_eq!(answer.error_code(), "too_large", "{label}");
    }
}

#[tokio::test]
async fn upload_bad_bodies_rejected() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    create_entry(&app, "tokyo").await;
    let mixed = Request::builder()
        .method(Method::PUT)
        .uri("/v1/servers/tokyo/token")
        .header(header::CONTENT_TYPE, "multipart/mixed; boundary=x")
        .body(Body::from("--x--\r\n"))
        .expect("request");
    let cases = [
        ("empty body", raw_upload("/v1/servers/tokyo/token", Vec::new()), StatusCode::UNPROCESSABLE_ENTITY, "empty_upload"),
        ("garbage", raw_upload("/v1/servers/tokyo/token", b"hello".to_vec()), StatusCode::UNPROCESSABLE_ENTITY, "not_a_token"),
        ("form without file", multipart_upload_without_file(), StatusCode::BAD_REQUEST, "invalid_request"),
        ("multipart/mixed", mixed, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("unknown query", raw_upload("/v1/servers/tokyo/token?force=1", b"x".to_vec()), StatusCode::BAD_REQUEST, "invalid_request"),
    ];

    for (label, request, status, code) in cases {
        let answer = send(&app, request).await;

        assert_eq!(answer.status, status, "{label}");
        assert_eq!(answer.error_code(), code, "{label}");
    }
}

fn multipart_upload_without_file() -> Request<Body> {
    let body = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n--{BOUNDARY}--\r\n");
    Request::builder()
        .method(Method::PUT)
        .uri("/v1/servers/tokyo/token")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(body))
        .expect("request")
}

#[tokio::test]
async fn check_and_history_after_upload() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    entry_with_token(&harness, &app, "tokyo").await;

    let checked = send(&app, request(Method::POST, "/v1/servers/tokyo/check")).await;
    let history = send(&app, request(Method::GET, "/v1/servers/tokyo/history")).await;

    let uploads = history.json()["uploads"].clone();
    assert_eq!(checked.status, StatusCode::OK);
    assert_eq!(checked.json()["last_error"], Value::Null);
    assert_eq!(history.status, StatusCode::OK);
    assert_eq!(uploads.as_array().map(Vec::len), Some(1));
    assert_eq!(uploads[0]["uploaded_by"], "admin@acme.example");
    assert!(!contains_credential(&uploads.to_string()), "{uploads}");
}

#[tokio::test]
async fn apple_rate_limit_is_503_with_retry_after() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    let certificate = create_entry(&app, "tokyo").await;
    let token = harness.issue_token(&certificate, &[]).await;
    harness.set_sim(&token.consumer_key, json!({"fault": "rate_limited", "count": 10})).await;

    let answer = send(&app, raw_upload("/v1/servers/tokyo/token", token.file)).await;

    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.error_code(), "apple_rate_limited");
    assert!(answer.header(header::RETRY_AFTER).parse::<u64>().is_ok(), "{:?}", answer.headers);
}

#[tokio::test]
async fn errors_japanese_by_default() {
    let harness = Harness::start().await;
    let app = app_for(&harness);

    let answer = send(&app, request(Method::GET, "/v1/servers/missing")).await;

    let error = answer.json()["error"].clone();
    let message = error["message"].as_str().unwrap_or("");
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.header(header::CONTENT_LANGUAGE), "ja");
    assert!(!message.is_ascii(), "{message}");
}

#[tokio::test]
async fn errors_english_on_request() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    let english = Request::builder()
        .uri("/v1/servers/missing")
        .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
        .body(Body::empty())
        .expect("request");

    let answer = send(&app, english).await;

    let message = answer.json()["error"]["message"].as_str().unwrap_or("").to_owned();
    assert_eq!(answer.header(header::CONTENT_LANGUAGE), "en");
    assert!(message.is_ascii(), "{message}");
    assert!(!message.is_empty());
}

#[tokio::test]
async fn error_shape_for_every_rejection() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    create_entry(&app, "tokyo").await;
    let no_content_type = Request::builder()
        .method(Method::POST)
        .uri("/v1/servers")
        .body(Body::from(r#"{"name":"osaka","display_name":"Osaka"}"#))
        .expect("request");
    let cases = [
        ("unknown route", request(Method::GET, "/v2/nothing"), StatusCode::NOT_FOUND, "not_found"),
        ("unknown method", request(Method::PUT, "/v1/servers"), StatusCode::METHOD_NOT_ALLOWED, "invalid_request"),
        ("bad JSON", json_request(Method::POST, "/v1/servers", json!("not an object")), StatusCode::BAD_REQUEST, "invalid_request"),
        ("missing field", json_request(Method::POST, "/v1/servers", json!({"name": "osaka"})), StatusCode::BAD_REQUEST, "invalid_request"),
        ("no content type", no_content_type, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("invalid name", request(Method::GET, "/v1/servers/a%23b"), StatusCode::BAD_REQUEST, "invalid_request"),
        ("taken name", json_request(Method::POST, "/v1/servers", json!({"name": "tokyo", "display_name": "T"})), StatusCode::CONFLICT, "already_exists"),
    ];

    for (label, request, status, code) in cases {
        let answer = send(&app, request).await;

        let body = answer.json();
        let error = body["error"].as_object().cloned().unwrap_or_default();
        let mut keys: Vec<_> = error.keys().cloned().collect();
        keys.sort();
        assert_eq!(answer.status, status, "{label}");
        assert_eq!(answer.header(header::CONTENT_TYPE), "application/json", "{label}");
        assert_eq!(keys, ["action", "code", "message"], "{label}");
        assert!(answer.body.starts_with(br#"{"error":{"code":""#), "{label}: code comes first");
        assert_eq!(error["code"], code, "{label}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{label}");
        assert!(error["action"].is_string(), "{label}");
    }
}

#[tokio::test]
async fn reader_gets_403() {
    let harness = Harness::start().await;
    let admin_app = app_for(&harness);
    create_entry(&admin_app, "tokyo").await;
    let app = deptoken_api::router(harness.services.clone(), IdentitySource::Fixed(reader()));

    let write = send(&app, request(Method::POST, "/v1/servers/tokyo/certificate/rotate")).await;
    let read = send(&app, request(Method::GET, "/v1/servers/tokyo")).await;

    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert_eq!(write.error_code(), "forbidden");
    assert_eq!(read.status, StatusCode::OK);
}

#[tokio::test]
async fn openapi_served_equals_file() {
    let harness = Harness::start().await;
    let app = app_for(&harness);
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json")).expect("read the file");

    let answer = send(&app, request(Method::GET, "/v1/openapi.json")).await;

    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(String::from_utf8_lossy(&answer.body), file);
}

/// Every documented path and method is served by the local runner's router with subscribers
/// (a superset of the Lambda router), and every method it serves on a documented path is
/// documented, because an undocumented one returns 405.
#[tokio::test]
async fn openapi_documents_every_route() {
    let harness = Harness::start().await;
    let app = deptoken_api::local_router_with_subscribers(
        harness.services.clone(),
        IdentitySource::Fixed(admin()),
        SweepRunner::new(SweepOptions::default()),
        SubscriberDirectory::new(harness.store.clone()),
    );
    entry_with_token(&harness, &app, "tokyo").await;
    let subscriber = send(
        &app,
        json_request(Method::POST, "/v1/subscribers", json!({"protocol": "email", "endpoint": "it@example.jp"})),
    )
    .await
    .json();
    let subscriber_id = subscriber["id"].as_str().expect("a subscriber id").to_owned();
    let document: Value = serde_json::from_str(deptoken_api::OPENAPI_JSON).expect("valid JSON");
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    let expected_paths = [
        "/v1/servers",
        "/v1/servers/{name}",
        "/v1/servers/{name}/certificate",
        "/v1/servers/{name}/certificate/rotate",
        "/v1/servers/{name}/token",
        "/v1/servers/{name}/check",
        "/v1/servers/{name}/history",
        "/v1/subscribers",
        "/v1/subscribers/{id}",
        "/v1/settings",
        "/v1/sweep",
        "/v1/openapi.json",
        "/v1/messages",
    ];
    let mut documented_paths: Vec<_> = paths.keys().cloned().collect();
    documented_paths.sort();
    let mut sorted_expected: Vec<_> = expected_paths.iter().map(|p| p.to_string()).collect();
    sorted_expected.sort();
    assert_eq!(documented_paths, sorted_expected);

    // DELETE goes last so that the entry exists for every other probe.
    let methods = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
    for method in methods {
        for (path, item) in &paths {
            let documented = item.get(method.as_str().to_ascii_lowercase()).is_some();
            let probe = Request::builder()
                .method(method.clone())
                .uri(path.replace("{name}", "tokyo").replace("{id}", &subscriber_id))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .expect("request");

            let answer = send(&app, probe).await;

            let served = answer.status != StatusCode::METHOD_NOT_ALLOWED && answer.status != StatusCode::NOT_FOUND;
            assert_eq!(served, documented, "{method} {path}: {}", answer.status);
        }
    }
}

#[test]
fn openapi_error_codes_match_enum() {
    let document: Value = serde_json::from_str(deptoken_api::OPENAPI_JSON).expect("valid JSON");
    let documented: Vec<String> = document["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .map(|codes| codes.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();

    let expected: Vec<String> = deptoken_shared::error::ErrorCode::ALL
        .iter()
        .map(|code| code.as_str().to_owned())
        .collect();

    assert_eq!(documented, expected);
}
