//! The `token-upload` Lambda handler in-process: API Gateway HTTP API events (payload 2.0)
//! from `tests/fixtures/apigw/`, deserialised as the runtime does and sent through the
//! function's router, with the caller read from the JWT authorizer's claims.

use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::harness::{Harness, admin};

struct Answer {
    status: u16,
    language: String,
    body: Value,
}

/// Reads the fixture event `name`.
fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/apigw/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"))
}

/// Replaces an event's body with `file`, base64-encoded as API Gateway sends binary bodies.
fn with_binary_body(mut event: Value, file: &[u8]) -> Value {
    event["body"] = Value::String(BASE64.encode(file));
    event["isBase64Encoded"] = Value::Bool(true);
    event["headers"]["content-length"] = Value::String(file.len().to_string());
    event
}

/// Deserialises `event` as the Lambda runtime does and sends it through `app`.
async fn invoke(app: &Router, event: &Value) -> Answer {
    let request = lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event");

    let response = app.clone().oneshot(request).await.expect("the router answers");

    let status = response.status().as_u16();
    let language = response
        .headers()
        .get("content-language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = response.into_body().collect().await.expect("read the body").to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("JSON body ({e}): {}", String::from_utf8_lossy(&bytes)))
    };
    Answer { status, language, body }
}

/// Starts a harness and the function's router, and creates entry `tokyo` of tenant `acme`.
async fn function_with_entry() -> (Harness, Router) {
    let harness = Harness::start().await;
    let app = token_upload::app(harness.services.clone());
    let created = invoke(&app, &fixture("create-server.json")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    (harness, app)
}

async fn token_for_tokyo(harness: &Harness) -> Vec<u8> {
    let certificate = harness
        .services
        .certificate(&admin(), "tokyo")
        .await
        .expect("certificate")
        .certificate_pem;
    harness.issue_token(&certificate, &[]).await.file
}

#[tokio::test]
async fn lambda_create_and_list() {
    let (_harness, app) = function_with_entry().await;

    let answer = invoke(&app, &fixture("list-servers.json")).await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["servers"][0]["name"], "tokyo");
    assert_eq!(answer.body["servers"][0]["display_name"], "東京オフィス");
}

#[tokio::test]
async fn lambda_upload_base64_body() {
    let (harness, app) = function_with_entry().await;
    let event = with_binary_body(fixture("upload-token.json"), &token_for_tokyo(&harness).await);

    let answer = invoke(&app, &event).await;

    let stored = harness.snapshot("tokyo").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body["expires_at"].is_string());
    assert_eq!(answer.body["uploaded_by"], "5f2a9c1e-7b3d-4e8a-9c0f-1a2b3c4d5e6f");
    assert_eq!(stored.history.len(), 1);
}

#[tokio::test]
async fn lambda_other_tenant_is_404() {
    let (harness, app) = function_with_entry().await;
    let upload = with_binary_body(fixture("other-tenant-upload.json"), &token_for_tokyo(&harness).await);
    let before = harness.snapshot("tokyo").await;

    let uploaded = invoke(&app, &upload).await;
    let deleted = invoke(&app, &fixture("other-tenant-delete.json")).await;

    assert_eq!(uploaded.status, 404);
    assert_eq!(uploaded.body["error"]["code"], "not_found");
    assert_eq!(deleted.status, 404);
    assert_eq!(deleted.body["error"]["code"], "not_found");
    assert_eq!(harness.snapshot("tokyo").await, before);
}

#[tokio::test]
async fn lambda_missing_claims_is_401() {
    let (_harness, app) = function_with_entry().await;

    let answer = invoke(&app, &fixture("no-claims.json")).await;

    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"]["code"], "unauthorized");
    assert_eq!(answer.language, "ja");
}

#[tokio::test]
async fn lambda_invalid_tenant_claim_is_401() {
    let (_harness, app) = function_with_entry().await;
    let mut event = fixture("list-servers.json");
    event["requestContext"]["authorizer"]["jwt"]["claims"]["tenant_id"] = Value::String("TENANT#acme".to_owned());

    let answer = invoke(&app, &event).await;

    assert_eq!(answer.status, 401);
}

#[tokio::test]
async fn lambda_reader_scope_is_403() {
    let (harness, app) = function_with_entry().await;
    let before = harness.snapshot("tokyo").await;

    let answer = invoke(&app, &fixture("reader-rotate.json")).await;

    assert_eq!(answer.status, 403);
    assert_eq!(answer.body["error"]["code"], "forbidden");
    assert_eq!(answer.language, "en");
    assert_eq!(harness.snapshot("tokyo").await, before);
}

#[tokio::test]
async fn lambda_write_scope_is_admin() {
    let (harness, app) = function_with_entry().await;
    let upload = with_binary_body(fixture("upload-token.json"), &token_for_tokyo(&harness).await);
    assert_eq!(invoke(&app, &upload).await.status, 200);
    harness.tick();

    let answer = invoke(&app, &fixture("scope-admin-check.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["last_error"], Value::Null);
}
