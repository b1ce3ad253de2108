//! The admin portal's routes in-process: the page and its files from the local runner only,
//! and the message catalogue `GET /v1/messages` in both languages.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use deptoken_api::IdentitySource;
use deptoken_shared::usecases::{SweepOptions, SweepRunner};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::harness::{Harness, admin};

struct Answer {
    status: StatusCode,
    content_type: String,
    csp: String,
    body: String,
}

async fn get(app: &Router, uri: &str, accept_language: Option<&str>) -> Answer {
    let mut request = Request::builder().method(Method::GET).uri(uri);
    if let Some(lang) = accept_language {
        request = request.header(header::ACCEPT_LANGUAGE, lang);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("the router answers");
    let header_text = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };

    Answer {
        status: response.status(),
        content_type: header_text(header::CONTENT_TYPE),
        csp: header_text(header::CONTENT_SECURITY_POLICY),
        body: String::from_utf8_lossy(&response.into_body().collect().await.expect("body").to_bytes()).into_owned(),
    }
}

fn local_app(harness: &Harness) -> Router {
    deptoken_api::local_router(
        harness.services.clone(),
        IdentitySource::Fixed(admin()),
        SweepRunner::new(SweepOptions::default()),
    )
}

fn lambda_app(harness: &Harness) -> Router {
    deptoken_api::router(harness.services.clone(), IdentitySource::Fixed(admin()))
}

#[tokio::test]
async fn portal_pages_serve_index_html() {
    let harness = Harness::start().await;
    let app = local_app(&harness);

    for path in ["/", "/servers/tokyo", "/recipients"] {
        let answer = get(&app, path, None).await;

        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.content_type, "text/html; charset=utf-8", "{path}");
        assert!(answer.body.contains(r#"<script type="module" src="/portal/app.js">"#), "{path}");
        assert!(answer.csp.contains("script-src 'self'"), "{path}: {}", answer.csp);
    }
}

#[tokio::test]
async fn portal_assets_have_their_types() {
    let harness = Harness::start().await;
    let app = local_app(&harness);
    let cases = [
        ("script", "/portal/app.js", "text/javascript; charset=utf-8"),
        ("view module", "/portal/views/server.js", "text/javascript; charset=utf-8"),
        ("settings view", "/portal/views/settings.js", "text/javascript; charset=utf-8"),
        ("style sheet", "/portal/styles.css", "text/css; charset=utf-8"),
    ];

    for (label, path, content_type) in cases {
        let answer = get(&app, path, None).await;

        assert_eq!(answer.status, StatusCode::OK, "{label}");
        assert_eq!(answer.content_type, content_type, "{label}");
        assert!(!answer.body.is_empty(), "{label}");
    }
}

#[tokio::test]
async fn portal_unknown_asset_is_json_404() {
    let harness = Harness::start().await;
    let app = local_app(&harness);

    let answer = get(&app, "/portal/../Cargo.toml", None).await;

    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.content_type.starts_with("application/json"), "{}", answer.content_type);
}

#[tokio::test]
async fn portal_config_is_404_without_option() {
    let harness = Harness::start().await;
    let app = local_app(&harness);

    let answer = get(&app, "/portal/config.json", None).await;
    let page = get(&app, "/", None).await;

    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(page.csp.contains("connect-src 'self';"), "{}", page.csp);
}

#[tokio::test]
async fn portal_config_extends_connect_src() {
    let harness = Harness::start().await;
    let text = r#"{"oidc":{"client_id":"portal","scope":"openid",
        "authorization_endpoint":"https://auth.example.com/oauth2/authorize",
        "token_endpoint":"https://auth.example.com/oauth2/token"}}"#;
    let config = deptoken_api::PortalConfig::from_json(text).expect("valid configuration");
    let app = deptoken_api::with_portal_config(local_app(&harness), config);

    let served = get(&app, "/portal/config.json", None).await;
    let page = get(&app, "/servers/tokyo", None).await;
    let script = get(&app, "/portal/lib/auth.js", None).await;

    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.content_type, "application/json");
    assert_eq!(served.body, text);
    assert!(page.csp.contains("connect-src 'self' https://auth.example.com;"), "{}", page.csp);
    assert!(page.csp.contains("script-src 'self'"), "{}", page.csp);
    assert_eq!(script.status, StatusCode::OK);
}

#[tokio::test]
async fn lambda_router_serves_no_portal() {
    let harness = Harness::start().await;
    let app = lambda_app(&harness);

    let page = get(&app, "/", None).await;
    let script = get(&app, "/portal/app.js", None).await;

    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(script.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn messages_follow_query_then_header() {
    let harness = Harness::start().await;
    let app = lambda_app(&harness);
    let cases = [
        ("default", "/v1/messages", None, "ダッシュボード"),
        ("query en", "/v1/messages?lang=en", None, "Dashboard"),
        ("query ja beats header", "/v1/messages?lang=ja", Some("en"), "ダッシュボード"),
        ("header en", "/v1/messages", Some("en-US,en;q=0.9"), "Dashboard"),
    ];

    for (label, uri, accept_language, title) in cases {
        let answer = get(&app, uri, accept_language).await;
        let catalogue: Value = serde_json::from_str(&answer.body).expect("JSON body");

        assert_eq!(answer.status, StatusCode::OK, "{label}");
        assert_eq!(catalogue["ui"]["dashboard.title"], title, "{label}");
        assert_eq!(catalogue["time_zone"], "Asia/Tokyo", "{label}");
    }
}

#[tokio::test]
async fn messages_hold_every_error_and_status() {
    let harness = Harness::start().await;
    let app = lambda_app(&harness);

    let answer = get(&app, "/v1/messages?lang=ja", None).await;
    let catalogue: Value = serde_json::from_str(&answer.body).expect("JSON body");

    for code in deptoken_shared::error::ErrorCode::ALL {
        assert!(catalogue["errors"][code.as_str()]["message"].is_string(), "{code:?} message");
        assert!(catalogue["errors"][code.as_str()]["action"].is_string(), "{code:?} action");
    }
    for status in deptoken_shared::messages::TOKEN_STATUSES {
        assert!(catalogue["statuses"][status.as_str()]["label"].is_string(), "{status:?}");
    }
}

#[tokio::test]
async fn messages_reject_unknown_language() {
    let harness = Harness::start().await;
    let app = lambda_app(&harness);

    let answer = get(&app, "/v1/messages?lang=fr", None).await;
    let error: Value = serde_json::from_str(&answer.body).expect("JSON body");

    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["code"], "invalid_request");
}
