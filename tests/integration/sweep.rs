//! The sweep and notify use cases against the DEP simulator on loopback, SQLite and the
//! outbox: idempotence, a concurrent upload that wins, a damaged entry that does not stop the
//! rest, Apple's verdicts caught by `check_apple`, retries, and the local `POST /v1/sweep`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{DateTime, SecondsFormat, Utc};
use deptoken_api::IdentitySource;
use deptoken_embedded::SqliteStore;
use deptoken_shared::clock::Clock;
use deptoken_shared::model::{ServerRecord, Stage, TokenStatus};
use deptoken_shared::dep::DepError;
use deptoken_shared::model::AccountDetails;
use deptoken_shared::token::TokenCredentials;
use deptoken_shared::ports::{DepApi, Notification, Store, StoreError};
use deptoken_shared::usecases::{RetryPolicy, Services, SweepOptions, SweepRunner, UploadRequest};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::{Harness, IssuedToken, admin, tenant};
use crate::support::store_override::{Overridden, StoreOverride};

/// Retries that wait milliseconds, so that the tests never sleep for long.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        retries: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
    }
}

pub fn with_apple() -> SweepOptions {
    SweepOptions {
        check_apple: true,
        retry: fast_retry(),
        ..SweepOptions::default()
    }
}

/// Creates entry `name` and returns its certificate PEM.
pub async fn create_entry(services: &Services, name: &str) -> String {
    services
        .create_server(&admin(), name, &format!("{name} office"))
        .await
        .expect("create the entry");
    services.certificate(&admin(), name).await.expect("download the certificate").certificate_pem
}

/// Issues a token expiring at `expires_at` for `certificate` and uploads it to entry `name`.
pub async fn upload_expiring(
    harness: &Harness,
    services: &Services,
    name: &str,
    certificate: &str,
    expires_at: DateTime<Utc>,
) -> IssuedToken {
    let expiry = expires_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let token = harness
        .issue_token(certificate, &[("expires_at", &expiry), ("server_name", name), ("org_name", "株式会社サンプル")])
        .await;
    let request = UploadRequest {
        file: token.file.clone(),
        ..UploadRequest::default()
    };
    services.upload_token(&admin(), name, request).await.expect("upload the token");
    harness.tick();
    token
}

/// Creates entry `name` with a token that expires `days` days after the harness clock.
async fn entry_expiring_in(harness: &Harness, name: &str, days: i64) -> IssuedToken {
    let certificate = create_entry(&harness.services, name).await;
    let expires_at = harness.clock.now() + chrono::Duration::days(days);
    upload_expiring(harness, &harness.services, name, &certificate, expires_at).await
}

/// Reads the outbox as notifications.
pub fn outbox(harness: &Harness) -> Vec<Notification> {
    harness
        .outbox_lines()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("outbox line is a notification ({e}): {line}")))
        .collect()
}

fn kinds(notifications: &[Notification]) -> Vec<String> {
    notifications.iter().map(|n| format!("{}:{}", n.server, n.kind)).collect()
}

async fn stored(harness: &Harness, name: &str) -> ServerRecord {
    harness.snapshot(name).await.server.expect("entry stored")
}

#[tokio::test]
async fn sweep_twice_same_instant_changes_nothing() {
    let harness = Harness::start().await;
    entry_expiring_in(&harness, "soon", 45).await;
    entry_expiring_in(&harness, "later", 200).await;
    let first = harness.services.sweep(&SweepOptions::default()).await.expect("first sweep");

    let second = harness.services.sweep(&SweepOptions::default()).await.expect("second sweep");

    assert_eq!(first.outcomes.updated, 1, "{first:?}");
    assert_eq!(first.changes.len(), 1, "{first:?}");
    assert_eq!(first.changes[0].new_stage, Some(Stage::Days60));
    assert_eq!(second.outcomes.updated, 0, "{second:?}");
    assert_eq!(second.outcomes.unchanged, 2, "{second:?}");
    assert!(second.changes.is_empty(), "{second:?}");
}

#[tokio::test]
async fn sweep_with_apple_twice_changes_nothing() {
    let harness = Harness::start().await;
    entry_expiring_in(&harness, "soon", 45).await;
    entry_expiring_in(&harness, "later", 200).await;
    let first = harness.services.sweep(&with_apple()).await.expect("first sweep");

    let second = harness.services.sweep(&with_apple()).await.expect("second sweep");

    assert_eq!(first.outcomes.apple_checked, 2, "{first:?}");
    assert_eq!(second.outcomes.apple_checked, 2, "{second:?}");
    assert_eq!(second.outcomes.updated, 0, "{second:?}");
    assert!(second.changes.is_empty(), "{second:?}");
}

#[tokio::test]
async fn sweep_counts_statuses() {
    let harness = Harness::start().await;
    entry_expiring_in(&harness, "soon", 45).await;
    entry_expiring_in(&harness, "later", 200).await;
    create_entry(&harness.services, "empty").await;

    let report = harness.services.sweep(&SweepOptions::default()).await.expect("sweep");

    assert_eq!(report.entries, 3);
    assert_eq!(report.statuses.expiring, 1);
    assert_eq!(report.statuses.ok, 1);
    assert_eq!(report.statuses.no_token, 1);
    assert_eq!(report.now, harness.clock.now());
}

#[tokio::test]
async fn sweep_and_notify_sends_stage_once() {
    let harness = Harness::start().await;
    entry_expiring_in(&harness, "soon", 45).await;

    let first = harness.services.sweep_and_notify(&SweepOptions::default()).await.expect("first sweep");
    let second = harness.services.sweep_and_notify(&SweepOptions::default()).await.expect("second sweep");

    let messages = outbox(&harness);
    let record = stored(&harness, "soon").await;
    assert_eq!(kinds(&messages), ["soon:renewed", "soon:days_60"]);
    assert_eq!(first.notifications.published, 1);
    assert_eq!(second.notifications.published, 0);
    assert_eq!(record.notified_stage, Some(Stage::Days60));
    assert!(messages[1].body.contains("有効期限まで残り 45 日"), "{}", messages[1].body);
    assert_eq!(messages[1].severity, "info");
}

#[tokio::test]
async fn notify_record_of_marked_stage_publishes_nothing() {
    let harness = Harness::start().await;
    entry_expiring_in(&harness, "soon", 45).await;
    harness.services.sweep(&SweepOptions::default()).await.expect("sweep");
    let pending_image = stored(&harness, "soon").await;
    harness.services.notify_record(&pending_image).await.expect("first delivery");

    let redelivered = harness.services.notify_record(&pending_image).await.expect("redelivery");

    assert_eq!(redelivered, deptoken_shared::usecases::NotifyOutcome::NothingPending);
    assert_eq!(kinds(&outbox(&harness)), ["soon:renewed", "soon:days_60"]);
}

/// The real store, except that `list_all_servers` returns a listing taken earlier: the sweep
/// then works on entries read before whatever happened since.
struct StaleListing {
    inner: Arc<SqliteStore>,
    listing: Mutex<Option<Vec<Result<ServerRecord, StoreError>>>>,
}

#[async_trait]
impl StoreOverride for StaleListing {
    fn inner(&self) -> &dyn Store {
        &*self.inner
    }

    async fn list_all_servers(&self) -> Result<Vec<Result<ServerRecord, StoreError>>, StoreError> {
        let stale = self.listing.lock().expect("listing lock").take();
        match stale {
            Some(listing) => Ok(listing),
            None => self.inner().list_all_servers().await,
        }
    }
}

#[tokio::test]
async fn sweep_concurrent_upload_is_not_overwritten() {
    let harness = Harness::start().await;
    let certificate = create_entry(&harness.services, "tokyo").await;
    upload_expiring(&harness, &harness.services, "tokyo", &certificate, harness.clock.now() + chrono::Duration::days(20)).await;
    let read_before_upload = harness.store.list_all_servers().await.expect("list");
    upload_expiring(&harness, &harness.services, "tokyo", &certificate, harness.clock.now() + chrono::Duration::days(365)).await;
    let after_upload = stored(&harness, "tokyo").await;
    let stale = Arc::new(Overridden(StaleListing {
        inner: harness.store.clone(),
        listing: Mutex::new(Some(read_before_upload)),
    }));
    let services = Services {
        store: stale,
        ..(*harness.services).clone()
    };

    let report = services.sweep(&SweepOptions::default()).await.expect("sweep");

    let record = stored(&harness, "tokyo").await;
    assert_eq!(report.outcomes.conflict, 1, "{report:?}");
    assert_eq!(report.outcomes.updated, 0, "{report:?}");
    assert!(report.pending.is_empty(), "{report:?}");
    assert_eq!(record, after_upload, "the upload's entry stays as written");
    assert_eq!(record.stage, Some(Stage::Renewed));
}

#[tokio::test]
async fn sweep_corrupt_entry_does_not_stop_rest() {
    let harness = Harness::start().await;
    let path = harness.dir.path().join("sweep.sqlite3");
    let file_store = Arc::new(SqliteStore::open(&path).expect("open the store file"));
    let services = Services {
        store: file_store,
        ..(*harness.services).clone()
    };
    for (name, days) in [("alpha", 45), ("broken", 45), ("gamma", 10)] {
        let certificate = create_entry(&services, name).await;
        upload_expiring(&harness, &services, name, &certificate, harness.clock.now() + chrono::Duration::days(days)).await;
    }
    let connection = rusqlite::Connection::open(&path).expect("open the store file");
    let damaged = connection
        .execute(
            "UPDATE items SET body = '{\"broken\": true}' WHERE pk = ?1 AND sk = 'SERVER#broken'",
            [format!("TENANT#{}", tenant())],
        )
        .expect("damage the entry");
    assert_eq!(damaged, 1);

    let report = services.sweep(&SweepOptions::default()).await.expect("sweep");

    let changed: Vec<(String, Option<Stage>)> = report
        .changes
        .iter()
        .map(|change| (change.name.to_string(), change.new_stage))
        .collect();
    assert_eq!(report.entries, 3);
    assert_eq!(report.outcomes.failed, 1, "{report:?}");
    assert_eq!(report.outcomes.updated, 2, "{report:?}");
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].reason, "corrupt");
    assert_eq!(changed, [("alpha".to_owned(), Some(Stage::Days60)), ("gamma".to_owned(), Some(Stage::Days14))]);
}

#[tokio::test]
async fn sweep_unopenable_credentials_counts_apple_failed() {
    let harness = Harness::start().await;
    entry_expiring_in(&harness, "alpha", 45).await;
    entry_expiring_in(&harness, "broken", 200).await;
    let mut record = stored(&harness, "broken").await;
    if let Some(credentials) = record.credentials.as_mut() {
        credentials.consumer_key = "bm90IGEgc2VhbGVkIHZhbHVl".to_owned();
    }
    record.version += 1;
    harness.store.update_server(&record, record.version - 1).await.expect("damage the credentials");

    let report = harness.services.sweep(&with_apple()).await.expect("sweep");

    assert_eq!(report.outcomes.apple_checked, 1, "{report:?}");
    assert_eq!(report.outcomes.apple_failed, 1, "{report:?}");
    assert_eq!(report.outcomes.failed, 0, "{report:?}");
    assert_eq!(report.changes.len(), 1, "alpha still gets its stage: {report:?}");
}

#[tokio::test]
async fn sweep_superseded_token_gets_rejected_stage() {
    let harness = Harness::start().await;
    let token = entry_expiring_in(&harness, "tokyo", 200).await;
    harness.services.sweep_and_notify(&with_apple()).await.expect("sweep while active");
    harness.set_sim(&token.consumer_key, json!({"state": "superseded"})).await;

    let result = harness.services.sweep_and_notify(&with_apple()).await.expect("sweep after superseding");
    let again = harness.services.sweep_and_notify(&with_apple()).await.expect("sweep again");

    let messages = outbox(&harness);
    let record = stored(&harness, "tokyo").await;
    assert_eq!(result.report.changes.len(), 1, "{:?}", result.report);
    assert_eq!(result.report.changes[0].new_status, TokenStatus::TokenRejected);
    assert_eq!(result.report.changes[0].new_stage, Some(Stage::TokenRejected));
    assert_eq!(again.report.outcomes.updated, 0, "{:?}", again.report);
    assert_eq!(kinds(&messages), ["tokyo:renewed", "tokyo:token_rejected"]);
    assert_eq!(messages[1].severity, "critical");
    assert!(messages[1].body.contains("新しいトークンが発行されたため無効"), "{}", messages[1].body);
    assert_eq!(record.notified_stage, Some(Stage::TokenRejected));
}

#[tokio::test]
async fn sweep_terms_not_accepted_then_accepted() {
    let harness = Harness::start().await;
    let token = entry_expiring_in(&harness, "tokyo", 200).await;
    harness.set_sim(&token.consumer_key, json!({"state": "terms_not_accepted"})).await;
    let broken = harness.services.sweep_and_notify(&with_apple()).await.expect("sweep with new terms");
    harness.set_sim(&token.consumer_key, json!({"state": "active"})).await;

    let fixed = harness.services.sweep_and_notify(&with_apple()).await.expect("sweep after accepting");

    let record = stored(&harness, "tokyo").await;
    assert_eq!(broken.report.statuses.terms_not_accepted, 1);
    assert_eq!(fixed.report.statuses.ok, 1);
    assert_eq!(kinds(&outbox(&harness)), ["tokyo:renewed", "tokyo:terms_not_accepted"]);
    assert_eq!(record.stage, None, "the broken stage is cleared");
    assert_eq!(record.notified_stage, None);
}

#[tokio::test]
async fn sweep_retries_rate_limited_check() {
    let harness = Harness::start().await;
    let token = entry_expiring_in(&harness, "tokyo", 200).await;
    harness.set_sim(&token.consumer_key, json!({"fault": "rate_limited", "count": 2})).await;

    let report = harness.services.sweep(&with_apple()).await.expect("sweep");

    assert_eq!(report.outcomes.apple_checked, 1, "{report:?}");
    assert_eq!(report.outcomes.apple_failed, 0, "{report:?}");
    assert_eq!(report.statuses.ok, 1, "{report:?}");
}

#[tokio::test]
async fn sweep_apple_down_keeps_previous_verdict() {
    let harness = Harness::start().await;
    let token = entry_expiring_in(&harness, "tokyo", 200).await;
    harness.set_sim(&token.consumer_key, json!({"state": "terms_not_accepted"})).await;
    harness.services.sweep_and_notify(&with_apple()).await.expect("sweep with new terms");
    harness.set_sim(&token.consumer_key, json!({"fault": "unavailable", "count": 10})).await;

    let report = harness.services.sweep_and_notify(&with_apple()).await.expect("sweep while Apple is down");

    let record = stored(&harness, "tokyo").await;
    assert_eq!(report.report.outcomes.apple_failed, 1, "{:?}", report.report);
    assert_eq!(report.report.statuses.terms_not_accepted, 1, "{:?}", report.report);
    assert_eq!(record.stage, Some(Stage::TermsNotAccepted));
    assert_eq!(kinds(&outbox(&harness)), ["tokyo:renewed", "tokyo:terms_not_accepted"]);
}

#[tokio::test]
async fn sweep_apple_down_without_verdict_is_check_failed() {
    let harness = Harness::start().await;
    let token = entry_expiring_in(&harness, "tokyo", 200).await;
    harness.set_sim(&token.consumer_key, json!({"fault": "unavailable", "count": 10})).await;

    let result = harness.services.sweep_and_notify(&with_apple()).await.expect("sweep");

    assert_eq!(result.report.statuses.check_failed, 1, "{:?}", result.report);
    assert_eq!(result.notifications.published, 0, "check_failed sends nothing");
}

async fn post_sweep(app: axum::Router) -> (StatusCode, Value) {
    let request = Request::builder().method(Method::POST).uri("/v1/sweep").body(Body::empty()).expect("request");
    let response = app.oneshot(request).await.expect("the router answers");
    let status = response.status();
    let body = response.into_body().collect().await.expect("read the body").to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn local_router_sweep_route_runs_sweep() {
    let harness = Harness::start().await;
    entry_expiring_in(&harness, "soon", 45).await;
    let app = deptoken_api::local_router(
        harness.services.clone(),
        IdentitySource::Fixed(admin()),
        SweepRunner::new(SweepOptions::default()),
    );

    let (status, body) = post_sweep(app).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report"]["entries"], 1, "{body}");
    assert_eq!(body["report"]["changes"][0]["new_stage"], "days_60", "{body}");
    assert_eq!(body["notifications"]["published"], 1, "{body}");
}

#[tokio::test]
async fn local_router_sweep_route_needs_write_role() {
    let harness = Harness::start().await;
    let app = deptoken_api::local_router(
        harness.services.clone(),
        IdentitySource::Fixed(crate::harness::reader()),
        SweepRunner::new(SweepOptions::default()),
    );

    let (status, body) = post_sweep(app).await;

    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn lambda_router_has_no_sweep_route() {
    let harness = Harness::start().await;
    let app = deptoken_api::router(harness.services.clone(), IdentitySource::Fixed(admin()));

    let (status, body) = post_sweep(app).await;

    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

/// A DEP API that returns what the real one returns, after `delay`, to make Apple checks take time.
struct SlowDep {
    inner: Arc<dyn DepApi>,
    delay: Duration,
}

#[async_trait]
impl DepApi for SlowDep {
    async fn fetch_account(&self, credentials: &TokenCredentials) -> Result<AccountDetails, DepError> {
        tokio::time::sleep(self.delay).await;
        self.inner.fetch_account(credentials).await
    }
}

#[tokio::test]
async fn sweep_past_deadline_defers_apple_checks() {
    let harness = Harness::start().await;
    let soon = entry_expiring_in(&harness, "soon", 45).await;
    entry_expiring_in(&harness, "later", 200).await;
    harness.set_sim(&soon.consumer_key, json!({"state": "superseded"})).await;
    let options = SweepOptions {
        apple_deadline: Some(Instant::now()),
        ..with_apple()
    };

    let report = harness.services.sweep(&options).await.expect("sweep");

    assert_eq!(report.outcomes.apple_checked, 0, "{report:?}");
    assert_eq!(report.outcomes.apple_deferred, 2, "{report:?}");
    assert_eq!(report.statuses.expiring, 1, "dates are still swept: {report:?}");
    assert_eq!(stored(&harness, "soon").await.stage, Some(Stage::Days60));
    assert_eq!(report.statuses.token_rejected, 0, "Apple was not asked: {report:?}");
}

#[tokio::test]
async fn sweep_checks_oldest_check_first() {
    let harness = Harness::start().await;
    // Uploaded (and so checked) in the reverse of the listing's name order.
    for name in ["zeta", "mid", "alpha"] {
        entry_expiring_in(&harness, name, 200).await;
    }
    let checked_at = |record: &ServerRecord| record.last_checked_at.expect("checked at upload");
    let before = [
        checked_at(&stored(&harness, "zeta").await),
        checked_at(&stored(&harness, "mid").await),
        checked_at(&stored(&harness, "alpha").await),
    ];
    assert!(before[0] < before[1], "uploads checked in order: {before:?}");
    assert!(before[1] < before[2], "uploads checked in order: {before:?}");
    let services = Services {
        dep: Arc::new(SlowDep {
            inner: harness.services.dep.clone(),
            delay: Duration::from_secs(3),
        }),
        ..(*harness.services).clone()
    };
    // One entry at a time: the check that starts before the deadline outlasts it.
    let options = || SweepOptions {
        concurrency: 1,
        apple_deadline: Some(Instant::now() + Duration::from_millis(1500)),
        ..with_apple()
    };

    let first_run = services.sweep(&options()).await.expect("first run");
    harness.tick();
    let second_run = services.sweep(&options()).await.expect("second run");

    assert_eq!(first_run.outcomes.apple_checked, 1, "{first_run:?}");
    assert_eq!(first_run.outcomes.apple_deferred, 2, "{first_run:?}");
    assert_eq!(second_run.outcomes.apple_checked, 1, "{second_run:?}");
    let after = [
        checked_at(&stored(&harness, "zeta").await),
        checked_at(&stored(&harness, "mid").await),
        checked_at(&stored(&harness, "alpha").await),
    ];
    assert!(after[0] > before[2], "the oldest check went first: {after:?}");
    assert!(after[1] > after[0], "the next oldest went in the second run: {after:?}");
    assert_eq!(after[2], before[2], "the newest check waits: {after:?}");
}
