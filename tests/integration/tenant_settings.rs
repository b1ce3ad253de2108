//! Per-tenant settings over the real use cases, SQLite, the outbox and the DEP simulator: two
//! tenants in one deployment, one in English and Los Angeles time and one on the defaults
//! (Japanese, Asia/Tokyo). The sweep and the messages follow each tenant's own settings, the
//! sweep reads them once per tenant, and `/v1/settings` is scoped by the caller's tenant.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use deptoken_api::IdentitySource;
use deptoken_embedded::SqliteStore;
use deptoken_shared::clock::Clock;
use deptoken_shared::domain::{Caller, TenantId};
use deptoken_shared::model::{Stage, TenantSettings};
use deptoken_shared::ports::{Notification, Store, StoreError};
use deptoken_shared::usecases::{Services, SweepOptions, UploadRequest};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::{Harness, admin, other_tenant_admin, reader};
use crate::sweep::outbox;
use crate::support::store_override::{Overridden, StoreOverride};

/// 2027-04-01 12:00 in Tokyo, which is still 2027-03-31 (20:00) in Los Angeles.
fn sweep_instant() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 4, 1, 3, 0, 0).unwrap()
}

/// Creates entry `name` of the caller's tenant with a token that expires at `expires_at`.
async fn entry_expiring_at(harness: &Harness, caller: &Caller, name: &str, expires_at: DateTime<Utc>) {
    let services = &harness.services;
    services
        .create_server(caller, name, &format!("{name} office"))
        .await
        .expect("create the entry");
    let certificate = services.certificate(caller, name).await.expect("the certificate").certificate_pem;
    let expiry = expires_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    // One MDM server per entry: a token issued for a server supersedes that server's previous one.
    let server_name = format!("{} {name}", caller.tenant);
    let token = harness.issue_token(&certificate, &[("expires_at", &expiry), ("server_name", &server_name)]).await;
    let request = UploadRequest {
        file: token.file,
        ..UploadRequest::default()
    };
    services.upload_token(caller, name, request).await.expect("upload the token");
    harness.tick();
}

/// Sets English and Los Angeles time for the tenant of `other_tenant_admin`.
async fn set_english_los_angeles(services: &Services) {
    services
        .update_settings(&other_tenant_admin(), "en", "America/Los_Angeles")
        .await
        .expect("store the settings");
}

/// Returns the countdown message (any stage but `renewed`) of `tenant` in the outbox.
fn countdown_message<'a>(messages: &'a [Notification], tenant: &Caller) -> &'a Notification {
    let found: Vec<&Notification> = messages
        .iter()
        .filter(|message| message.tenant == tenant.tenant && message.kind != "renewed")
        .collect();
    assert_eq!(found.len(), 1, "one countdown message for {}: {messages:?}", tenant.tenant);
    found[0]
}

#[tokio::test]
async fn sweep_messages_follow_tenant_settings() {
    let harness = Harness::start().await;
    set_english_los_angeles(&harness.services).await;
    // 12:00 in Tokyo and 20:00 the day before in Los Angeles: both zones count 7 days.
    let expires_at = Utc.with_ymd_and_hms(2027, 4, 8, 3, 0, 0).unwrap();
    entry_expiring_at(&harness, &admin(), "tokyo", expires_at).await;
    entry_expiring_at(&harness, &other_tenant_admin(), "tokyo", expires_at).await;
    harness.set_now(sweep_instant());

    let swept = harness.services.sweep_and_notify(&SweepOptions::default()).await.expect("sweep");

    let messages = outbox(&harness);
    let japanese = countdown_message(&messages, &admin());
    let english = countdown_message(&messages, &other_tenant_admin());
    assert_eq!(swept.notifications.published, 2, "{swept:?}");
    assert_eq!(japanese.kind, "days_7");
    assert!(japanese.subject.contains("残り 7 日"), "{}", japanese.subject);
    assert!(japanese.body.contains("2027年4月8日 12:00 (JST)"), "{}", japanese.body);
    assert_eq!(english.kind, "days_7");
    assert!(english.subject.starts_with("Action needed: DEP server token expires in 7 days"), "{}", english.subject);
    assert!(english.body.contains("2027-04-07 20:00 PDT"), "{}", english.body);
    assert!(english.sms.contains("(2027-04-07)"), "{}", english.sms);
}

#[tokio::test]
async fn renewal_message_in_tenant_language() {
    let harness = Harness::start().await;
    set_english_los_angeles(&harness.services).await;
    let expires_at = harness.clock.now() + chrono::Duration::days(200);

    entry_expiring_at(&harness, &other_tenant_admin(), "tokyo", expires_at).await;
    entry_expiring_at(&harness, &admin(), "tokyo", expires_at).await;

    let messages = outbox(&harness);
    let kinds: Vec<(&TenantId, &str)> = messages.iter().map(|m| (&m.tenant, m.kind.as_str())).collect();
    assert_eq!(kinds, [(&other_tenant_admin().tenant, "renewed"), (&admin().tenant, "renewed")]);
    assert!(messages[0].subject.is_ascii(), "English subject: {}", messages[0].subject);
    assert!(messages[1].subject.starts_with("【お知らせ】"), "Japanese subject: {}", messages[1].subject);
}

/// One expiry instant, 19:00 in Tokyo and 03:00 in Los Angeles on 2027-04-08, seen on
/// 2027-04-01 in Tokyo and 2027-03-31 in Los Angeles: 7 days left in one zone, 8 in the other,
/// which are different stages.
#[tokio::test]
async fn day_boundary_differs_per_tenant() {
    let harness = Harness::start().await;
    set_english_los_angeles(&harness.services).await;
    let expires_at = Utc.with_ymd_and_hms(2027, 4, 8, 10, 0, 0).unwrap();
    entry_expiring_at(&harness, &admin(), "tokyo", expires_at).await;
    entry_expiring_at(&harness, &other_tenant_admin(), "tokyo", expires_at).await;
    harness.set_now(sweep_instant());

    let tokyo_view = harness.services.get_server(&admin(), "tokyo").await.expect("view of acme");
    let los_angeles_view = harness.services.get_server(&other_tenant_admin(), "tokyo").await.expect("view of globex");
    harness.services.sweep_and_notify(&SweepOptions::default()).await.expect("sweep");

    let messages = outbox(&harness);
    let japanese = countdown_message(&messages, &admin());
    let english = countdown_message(&messages, &other_tenant_admin());
    assert_eq!(tokyo_view.days_remaining, Some(7), "acme counts in Asia/Tokyo");
    assert_eq!(los_angeles_view.days_remaining, Some(8), "globex counts in America/Los_Angeles");
    assert_eq!(japanese.kind, Stage::Days7.as_str());
    assert_eq!(english.kind, Stage::Days14.as_str());
    assert!(japanese.subject.contains("残り 7 日"), "{}", japanese.subject);
    assert!(english.subject.contains("expires in 8 days"), "{}", english.subject);
    assert!(english.body.contains("2027-04-08 03:00 PDT"), "{}", english.body);
}

/// A store that counts settings reads and may fail them.
struct SettingsProbe {
    inner: Arc<SqliteStore>,
    reads: AtomicUsize,
    fail_reads: bool,
}

#[async_trait]
impl StoreOverride for SettingsProbe {
    fn inner(&self) -> &dyn Store {
        &*self.inner
    }

    async fn get_settings(&self, tenant: &TenantId) -> Result<Option<TenantSettings>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.fail_reads {
            return Err(StoreError::Unavailable("settings read failed on purpose".into()));
        }
        self.inner().get_settings(tenant).await
    }
}

/// Returns the harness's services on a [`SettingsProbe`] over its store.
fn probed(harness: &Harness, fail_reads: bool) -> (Services, Arc<Overridden<SettingsProbe>>) {
    let probe = Arc::new(Overridden(SettingsProbe {
        inner: harness.store.clone(),
        reads: AtomicUsize::new(0),
        fail_reads,
    }));
    let services = Services {
        store: probe.clone(),
        ..(*harness.services).clone()
    };
    (services, probe)
}

#[tokio::test]
async fn sweep_reads_settings_once_per_tenant() {
    let harness = Harness::start().await;
    set_english_los_angeles(&harness.services).await;
    let expires_at = Utc.with_ymd_and_hms(2027, 4, 8, 10, 0, 0).unwrap();
    for name in ["tokyo", "osaka", "nagoya"] {
        entry_expiring_at(&harness, &admin(), name, expires_at).await;
    }
    for name in ["tokyo", "osaka"] {
        entry_expiring_at(&harness, &other_tenant_admin(), name, expires_at).await;
    }
    harness.set_now(sweep_instant());
    let (services, probe) = probed(&harness, false);

    let report = services.sweep(&SweepOptions::default()).await.expect("sweep");

    assert_eq!(report.entries, 5, "{report:?}");
    assert_eq!(probe.reads.load(Ordering::SeqCst), 2, "one settings read per tenant");
    let globex_stages: Vec<_> = report
        .changes
        .iter()
        .filter(|change| change.tenant == other_tenant_admin().tenant)
        .map(|change| change.new_stage)
        .collect();
    assert_eq!(globex_stages, [Some(Stage::Days14), Some(Stage::Days14)], "{report:?}");
}

/// When the settings cannot be read, the sweep still sweeps every entry, in the default time
/// zone: globex's entries get Tokyo's 7 days, not Los Angeles's 8.
#[tokio::test]
async fn sweep_settings_failure_uses_defaults() {
    let harness = Harness::start().await;
    set_english_los_angeles(&harness.services).await;
    let expires_at = Utc.with_ymd_and_hms(2027, 4, 8, 10, 0, 0).unwrap();
    entry_expiring_at(&harness, &admin(), "tokyo", expires_at).await;
    entry_expiring_at(&harness, &other_tenant_admin(), "tokyo", expires_at).await;
    harness.set_now(sweep_instant());
    let (services, probe) = probed(&harness, true);

    let report = services.sweep(&SweepOptions::default()).await.expect("the sweep does not fail");

    let stages: Vec<_> = report.changes.iter().map(|change| (change.tenant.clone(), change.new_stage)).collect();
    assert_eq!(probe.reads.load(Ordering::SeqCst), 2, "one failed read per tenant");
    assert_eq!(report.outcomes.failed, 0, "{report:?}");
    assert_eq!(
        stages,
        [
            (admin().tenant, Some(Stage::Days7)),
            (other_tenant_admin().tenant, Some(Stage::Days7)),
        ]
    );
}

async fn send(app: &Router, method: Method, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri("/v1/settings");
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let response = app.clone().oneshot(request.body(body).expect("request")).await.expect("the router answers");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("read the body").to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("JSON body ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

fn app_as(harness: &Harness, caller: Caller) -> Router {
    deptoken_api::router(harness.services.clone(), IdentitySource::Fixed(caller))
}

#[tokio::test]
async fn settings_api_defaults_then_stored() {
    let harness = Harness::start().await;
    let app = app_as(&harness, admin());

    let (before_status, before) = send(&app, Method::GET, None).await;
    let (put_status, stored) = send(
        &app,
        Method::PUT,
        Some(json!({"notification_language": "en", "time_zone": "America/Los_Angeles"})),
    )
    .await;
    let (second_status, second) = send(&app, Method::PUT, Some(json!({"notification_language": "ja", "time_zone": "UTC"}))).await;
    let (_, after) = send(&app, Method::GET, None).await;

    assert_eq!(before_status, StatusCode::OK);
    assert_eq!(before, json!({"notification_language": "ja", "time_zone": "Asia/Tokyo", "version": 0}));
    assert_eq!(put_status, StatusCode::OK);
    assert_eq!(stored, json!({"notification_language": "en", "time_zone": "America/Los_Angeles", "version": 1}));
    assert_eq!(second_status, StatusCode::OK);
    assert_eq!(second, json!({"notification_language": "ja", "time_zone": "UTC", "version": 2}));
    assert_eq!(after, second);
}

#[tokio::test]
async fn settings_api_rejects_invalid_values() {
    let harness = Harness::start().await;
    let app = app_as(&harness, admin());
    let cases = [
        ("unknown language", json!({"notification_language": "fr", "time_zone": "Asia/Tokyo"}), "notification_language"),
        ("unknown zone", json!({"notification_language": "en", "time_zone": "Mars/Olympus_Mons"}), "time_zone"),
        ("offset for zone", json!({"notification_language": "en", "time_zone": "+09:00"}), "time_zone"),
    ];

    for (label, body, field) in cases {
        let (status, answer) = send(&app, Method::PUT, Some(body)).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{label}");
        assert_eq!(answer["error"]["code"], "invalid_request", "{label}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{label}: {message}");
    }
    let (_, unchanged) = send(&app, Method::GET, None).await;
    assert_eq!(unchanged["version"], 0, "nothing was stored");
}

#[tokio::test]
async fn settings_api_reader_cannot_put() {
    let harness = Harness::start().await;
    let app = app_as(&harness, reader());

    let (put_status, put) = send(&app, Method::PUT, Some(json!({"notification_language": "en", "time_zone": "UTC"}))).await;
    let (get_status, get) = send(&app, Method::GET, None).await;

    assert_eq!(put_status, StatusCode::FORBIDDEN);
    assert_eq!(put["error"]["code"], "forbidden");
    assert_eq!(get_status, StatusCode::OK, "a reader may read the settings");
    assert_eq!(get["version"], 0, "nothing was stored");
}

#[tokio::test]
async fn settings_api_scoped_by_caller_tenant() {
    let harness = Harness::start().await;
    let acme = app_as(&harness, admin());
    let globex = app_as(&harness, other_tenant_admin());

    send(&globex, Method::PUT, Some(json!({"notification_language": "en", "time_zone": "America/Los_Angeles"}))).await;
    let (_, seen_by_acme) = send(&acme, Method::GET, None).await;
    let (_, acme_stored) = send(&acme, Method::PUT, Some(json!({"notification_language": "ja", "time_zone": "Europe/Berlin"}))).await;
    let (_, seen_by_globex) = send(&globex, Method::GET, None).await;

    let (named_status, _) = send(
        &acme,
        Method::PUT,
        Some(json!({"tenant": "globex", "notification_language": "ja", "time_zone": "UTC"})),
    )
    .await;
    assert_eq!(named_status, StatusCode::BAD_REQUEST, "a tenant in the body is rejected, never used");
    assert_eq!(seen_by_acme, json!({"notification_language": "ja", "time_zone": "Asia/Tokyo", "version": 0}));
    assert_eq!(acme_stored["version"], 1, "acme's first write creates its own item");
    assert_eq!(seen_by_globex, json!({"notification_language": "en", "time_zone": "America/Los_Angeles", "version": 1}));
    let stored_acme = harness.store.get_settings(&admin().tenant).await.expect("read").expect("stored");
    assert_eq!(stored_acme.time_zone, chrono_tz::Europe::Berlin);
}

/// The expiry date in a `token_expired` text is shown in the caller's tenant's time zone:
/// 2025-01-01 03:00 UTC is 1 January in Tokyo but still 31 December in Los Angeles.
#[tokio::test]
async fn expired_token_error_date_in_tenant_zone() {
    let harness = Harness::start().await;
    let caller = other_tenant_admin();
    set_english_los_angeles(&harness.services).await;
    harness
        .services
        .create_server(&caller, "la", "LA office")
        .await
        .expect("create the entry");
    let certificate = harness.services.certificate(&caller, "la").await.expect("the certificate").certificate_pem;
    let token = harness.issue_token(&certificate, &[("expires_at", "2025-01-01T03:00:00Z")]).await;
    let app = app_as(&harness, caller);

    let request = Request::builder()
        .method(Method::PUT)
        .uri("/v1/servers/la/token")
        .header(header::ACCEPT_LANGUAGE, "ja")
        .body(Body::from(token.file))
        .expect("request");
    let response = app.oneshot(request).await.expect("the router answers");

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bytes = response.into_body().collect().await.expect("read the body").to_bytes();
    let answer: Value = serde_json::from_slice(&bytes).expect("JSON body");
    assert_eq!(answer["error"]["code"], "token_expired");
    let message = answer["error"]["message"].as_str().expect("message");
    assert!(message.contains("2024年12月31日"), "the Los Angeles date: {message}");
    assert!(!message.contains("2025年1月1日"), "not the Tokyo date: {message}");
}
