//! Tenant isolation through the Lambda function's router, with the caller read from API
//! Gateway JWT authorizer claims: every route called by another tenant with an existing entry's
//! name gets exactly the response of a missing name, and changes nothing; a reader changes
//! nothing on any write route.

use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{BOUNDARY, multipart_body};
use crate::harness::{Harness, Snapshot, admin};

/// One request of the matrix: method, path after `/v1/servers/{name}`, content type and body.
struct Route {
    label: &'static str,
    method: &'static str,
    suffix: &'static str,
    content_type: Option<String>,
    body: Vec<u8>,
}

fn route(label: &'static str, method: &'static str, suffix: &'static str) -> Route {
    Route {
        label,
        method,
        suffix,
        content_type: None,
        body: Vec::new(),
    }
}

/// Lists every route that names an entry, with a body that would succeed for the entry's owner.
fn entry_routes(token: &[u8]) -> Vec<Route> {
    vec![
        route("get entry", "GET", ""),
        Route {
            content_type: Some("application/json".to_owned()),
            body: br#"{"note":"intruder@globex.example"}"#.to_vec(),
            ..route("patch note", "PATCH", "")
        },
        route("delete entry", "DELETE", ""),
        route("download certificate", "GET", "/certificate"),
        route("rotate key", "POST", "/certificate/rotate"),
        Route {
            content_type: Some("application/pkcs7-mime".to_owned()),
            body: token.to_vec(),
            ..route("upload raw", "PUT", "/token")
        },
        Route {
            content_type: Some(format!("multipart/form-data; boundary={BOUNDARY}")),
            body: multipart_body(&[("file", token), ("note", b"intruder@globex.example")]),
            ..route("upload form", "PUT", "/token")
        },
        route("check token", "POST", "/check"),
        route("history", "GET", "/history"),
    ]
}

/// Builds an API Gateway HTTP API (payload 2.0) event whose JWT authorizer verified `claims`.
fn event(
    method: &str,
    path: &str,
    claims: &Value,
    language: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Value {
    let mut headers = json!({"accept": "application/json", "accept-language": language, "host": "api.example.test"});
    if let Some(content_type) = content_type {
        headers["content-type"] = Value::String(content_type.to_owned());
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "isolation",
            "domainName": "api.example.test",
            "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "hostile-tests"},
            "requestId": "isolation-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "04/Dec/2026:00:00:00 +0000",
            "timeEpoch": 1796342400000u64,
            "authorizer": {"jwt": {"claims": claims, "scopes": null}}
        },
        "isBase64Encoded": true,
        "body": BASE64.encode(body)
    })
}

fn claims(tenant: &str, role: &str) -> Value {
    json!({"sub": format!("{role}@{tenant}.example"), "tenant_id": tenant, "deptoken_role": role, "token_use": "access"})
}

/// Sends `event` through `app` as the Lambda runtime would; returns status and body bytes.
async fn invoke(app: &Router, event: &Value) -> (u16, Vec<u8>) {
    let request =
        lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event");
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("read the body")
        .to_bytes()
        .to_vec();
    (status, body)
}

/// Starts the function with entry `tokyo` of tenant `acme` holding an accepted token; returns
/// the router, the certificate and a fresh token for it.
async fn function_with_token() -> (Harness, Router, Vec<u8>) {
    let harness = Harness::start().await;
    let services = &harness.services;
    services
        .create_server(&admin(), "tokyo", "Tokyo office")
        .await
        .expect("create the entry");
    let certificate = services
        .certificate(&admin(), "tokyo")
        .await
        .expect("certificate")
        .certificate_pem;
    let first = harness.issue_token(&certificate, &[]).await;
    services
        .upload_token(
            &admin(),
            "tokyo",
            deptoken_shared::usecases::UploadRequest {
                file: first.file,
                ..Default::default()
            },
        )
        .await
        .expect("upload the first token");
    harness.tick();
    let spare = harness.issue_token(&certificate, &[]).await.file;
    let app = token_upload::app(harness.services.clone());
    (harness, app, spare)
}

async fn snapshot_with_view(harness: &Harness) -> (Snapshot, String) {
    let view = harness
        .services
        .get_server(&admin(), "tokyo")
        .await
        .expect("owner reads the entry");
    (
        harness.snapshot("tokyo").await,
        serde_json::to_string(&view).expect("serialise the view"),
    )
}

#[tokio::test]
async fn isolation_other_tenant_sees_missing() {
    let (harness, app, token) = function_with_token().await;
    let intruder = claims("globex", "admin");
    let before = snapshot_with_view(&harness).await;

    let mut pairs = 0;
    let mut leaks = 0;
    for language in ["ja", "en"] {
        for route in entry_routes(&token) {
            let content_type = route.content_type.as_deref();
            let existing = event(
                route.method,
                &format!("/v1/servers/tokyo{}", route.suffix),
                &intruder,
                language,
                content_type,
                &route.body,
            );
            let missing = event(
                route.method,
                &format!("/v1/servers/nowhere{}", route.suffix),
                &intruder,
                language,
                content_type,
                &route.body,
            );

            let for_existing = invoke(&app, &existing).await;
            let for_missing = invoke(&app, &missing).await;

            let label = format!("{} ({language})", route.label);
            pairs += 1;
            leaks += usize::from(for_existing != for_missing);
            assert_eq!(
                for_existing.0,
                404,
                "{label}: {}",
                String::from_utf8_lossy(&for_existing.1)
            );
            assert_eq!(
                for_existing, for_missing,
                "{label}: status and body equal a missing entry's"
            );
            assert_eq!(
                snapshot_with_view(&harness).await,
                before,
                "{label}: owner's entry unchanged"
            );
        }
    }
    let listed = invoke(
        &app,
        &event("GET", "/v1/servers", &intruder, "ja", None, b""),
    )
    .await;

    eprintln!("hostile isolation: {pairs} route pairs, {leaks} leaks");
    assert_eq!(listed.0, 200);
    assert_eq!(
        serde_json::from_slice::<Value>(&listed.1).ok(),
        Some(json!({"servers": []})),
        "the other tenant lists nothing"
    );
}

#[tokio::test]
async fn isolation_same_name_other_tenant_is_separate() {
    let (harness, app, _token) = function_with_token().await;
    let intruder = claims("globex", "admin");
    let before = snapshot_with_view(&harness).await;
    let body = br#"{"name":"tokyo","display_name":"Globex Tokyo"}"#;

    let created = invoke(
        &app,
        &event(
            "POST",
            "/v1/servers",
            &intruder,
            "ja",
            Some("application/json"),
            body,
        ),
    )
    .await;
    let deleted = invoke(
        &app,
        &event("DELETE", "/v1/servers/tokyo", &intruder, "ja", None, b""),
    )
    .await;

    assert_eq!(created.0, 201, "{}", String::from_utf8_lossy(&created.1));
    assert_eq!(deleted.0, 204);
    assert_eq!(
        snapshot_with_view(&harness).await,
        before,
        "acme's tokyo unchanged"
    );
}

#[tokio::test]
async fn isolation_reader_cannot_write() {
    let (harness, app, token) = function_with_token().await;
    let reader = claims("acme", "reader");
    let before = snapshot_with_view(&harness).await;
    let create = Route {
        content_type: Some("application/json".to_owned()),
        body: br#"{"name":"osaka","display_name":"Osaka"}"#.to_vec(),
        ..route("create entry", "POST", "")
    };
    let writes: Vec<Route> = entry_routes(&token)
        .into_iter()
        .filter(|r| r.method != "GET")
        .chain([create])
        .collect();

    let mut rejected = 0;
    for route in &writes {
        let path = if route.label == "create entry" {
            "/v1/servers".to_owned()
        } else {
            format!("/v1/servers/tokyo{}", route.suffix)
        };

        let (status, body) = invoke(
            &app,
            &event(
                route.method,
                &path,
                &reader,
                "ja",
                route.content_type.as_deref(),
                &route.body,
            ),
        )
        .await;

        let code = serde_json::from_slice::<Value>(&body)
            .ok()
            .map(|v| v["error"]["code"].clone());
        rejected += usize::from(status == 403);
        assert_eq!(
            status,
            403,
            "{}: {}",
            route.label,
            String::from_utf8_lossy(&body)
        );
        assert_eq!(code, Some(json!("forbidden")), "{}", route.label);
        assert_eq!(
            snapshot_with_view(&harness).await,
            before,
            "{}: entry unchanged",
            route.label
        );
    }
    let read = invoke(
        &app,
        &event("GET", "/v1/servers/tokyo", &reader, "ja", None, b""),
    )
    .await;

    eprintln!(
        "hostile isolation: reader rejected on {rejected} of {} write routes",
        writes.len()
    );
    assert_eq!(read.0, 200, "a reader reads");
    assert!(
        harness
            .services
            .list_servers(&admin())
            .await
            .expect("list")
            .len()
            == 1,
        "no entry created"
    );
}

/// The `/v1/subscribers` routes: another tenant's recipient id gets the response of a missing
/// id, the other tenant lists nothing, and a reader adds and removes nothing.
#[tokio::test]
async fn isolation_subscribers_by_id() {
    let harness = Harness::start().await;
    let directory = deptoken_shared::usecases::SubscriberDirectory::new(harness.store.clone());
    let app = deptoken_api::router_with_subscribers(
        harness.services.clone(),
        deptoken_api::IdentitySource::JwtClaims,
        directory,
    );
    let owner = claims("acme", "admin");
    let intruder = claims("globex", "admin");
    let reader = claims("acme", "reader");
    let body = br#"{"protocol":"email","endpoint":"ops@acme.example"}"#;
    let added = invoke(
        &app,
        &event(
            "POST",
            "/v1/subscribers",
            &owner,
            "ja",
            Some("application/json"),
            body,
        ),
    )
    .await;
    let id = serde_json::from_slice::<Value>(&added.1)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .expect("a subscriber id");
    let list = |who: &Value| event("GET", "/v1/subscribers", who, "ja", None, b"");
    let before = invoke(&app, &list(&owner)).await;

    let mut pairs = 0;
    let mut leaks = 0;
    for language in ["ja", "en"] {
        let for_existing = invoke(
            &app,
            &event(
                "DELETE",
                &format!("/v1/subscribers/{id}"),
                &intruder,
                language,
                None,
                b"",
            ),
        )
        .await;
        let for_missing = invoke(
            &app,
            &event(
                "DELETE",
                "/v1/subscribers/0000-missing",
                &intruder,
                language,
                None,
                b"",
            ),
        )
        .await;
        pairs += 1;
        leaks += usize::from(for_existing != for_missing);
        assert_eq!(for_existing.0, 404, "{language}");
        assert_eq!(
            for_existing, for_missing,
            "{language}: status and body equal a missing id's"
        );
    }
    let intruder_list = invoke(&app, &list(&intruder)).await;
    let reader_add = invoke(
        &app,
        &event(
            "POST",
            "/v1/subscribers",
            &reader,
            "ja",
            Some("application/json"),
            br#"{"protocol":"sms","endpoint":"+819012345678"}"#,
        ),
    )
    .await;
    let reader_remove = invoke(
        &app,
        &event(
            "DELETE",
            &format!("/v1/subscribers/{id}"),
            &reader,
            "ja",
            None,
            b"",
        ),
    )
    .await;
    let after = invoke(&app, &list(&owner)).await;

    eprintln!(
        "hostile isolation: subscribers: {pairs} id pairs, {leaks} leaks, reader add {} remove {}",
        reader_add.0, reader_remove.0
    );
    assert_eq!(added.0, 201, "{}", String::from_utf8_lossy(&added.1));
    assert_eq!(
        serde_json::from_slice::<Value>(&intruder_list.1).ok(),
        Some(json!({"subscribers": []}))
    );
    assert_eq!(reader_add.0, 403);
    assert_eq!(reader_remove.0, 403);
    assert_eq!(after, before, "the owner's recipients unchanged");
}
