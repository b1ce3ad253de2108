//! The expiry-sweep function against moto server and the DEP simulator. The table holds 1,000
//! entries of 8 tenants, read from the sweep index in parallel segments, and an item that
//! cannot be read. Real tokens get Apple's verdicts (revoked, unaccepted Terms, a 429 that is
//! retried), and an upload lands between the sweep's read and its write. The handler runs on
//! the scheduler's event, and its report and metrics line are checked. A second sweep at the same
//! instant only catches up the entry it yielded to, and a third changes nothing.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chrono::{DateTime, Duration, Utc};
use deptoken_aws::DynamoStore;
use deptoken_dep_sim::{FaultKind, TokenState};
use deptoken_shared::clock::{Clock, FixedClock};
use deptoken_shared::domain::{ServerName, TenantId};
use deptoken_shared::model::{ServerRecord, TokenStatus};
use deptoken_shared::policy;
use deptoken_shared::ports::{Store, StoreError};
use deptoken_shared::usecases::{Services, UploadRequest};
use serde_json::Value;

use crate::support::deployment::{Deployment, METRICS_NAMESPACE, admin_of};
use crate::support::store_override::{Overridden, StoreOverride};

/// Entries in the table besides the unreadable one.
const ENTRIES: usize = 1_000;

/// Tenants the entries are spread over.
const TENANTS: usize = 8;

/// `BatchWriteItem` takes at most 25 requests.
const BATCH_WRITE_ITEMS: usize = 25;

/// Apple's verdict on a real token in the simulator.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    Active,
    Set(TokenState),
    /// One 429 before the token is accepted.
    RateLimitedOnce,
}

/// The entries with real tokens: tenant, name, days until expiry, Apple's verdict.
const TOKENS: [(&str, &str, i64, Verdict); 8] = [
    ("tenant-0", "active-long", 200, Verdict::Active),
    ("tenant-1", "revoked-long", 200, Verdict::Set(TokenState::Revoked)),
    ("tenant-2", "revoked-soon", 45, Verdict::Set(TokenState::Revoked)),
    ("tenant-3", "terms-long", 200, Verdict::Set(TokenState::TermsNotAccepted)),
    ("tenant-4", "terms-soon", 45, Verdict::Set(TokenState::TermsNotAccepted)),
    ("tenant-5", "rate-limited", 200, Verdict::RateLimitedOnce),
    ("tenant-6", "uploaded-meanwhile", 45, Verdict::Active),
    ("tenant-7", "active-soon", 45, Verdict::Active),
];

/// The entry that an admin uploads a new token for while the sweep runs.
const UPLOADED_MEANWHILE: (&str, &str) = ("tenant-6", "uploaded-meanwhile");

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).expect("valid tenant")
}

fn server(name: &str) -> ServerName {
    ServerName::parse(name).expect("valid name")
}

/// Builds synthetic entry number `index`: no credentials, so the sweep decides by date alone.
/// By `index % 4` it is expired 3 days ago, expires in 45 days, in 200 days, or has no token.
fn synthetic_entry(index: usize, now: DateTime<Utc>) -> ServerRecord {
    let tenant = tenant(&format!("tenant-{}", index % TENANTS));
    let name = server(&format!("server-{index:04}"));
    let expires_at = match index % 4 {
        0 => Some(now - Duration::days(3)),
        1 => Some(now + Duration::days(45)),
        2 => Some(now + Duration::days(200)),
        _ => None,
    };
    ServerRecord {
        tenant,
        name,
        display_name: format!("拠点 {index}"),
        note: None,
        created_at: now - Duration::days(400),
        expires_at,
        account: None,
        credentials: None,
        consumer_key_fingerprint: None,
        token_key_id: None,
        uploaded_at: expires_at.map(|_| now - Duration::days(320)),
        uploaded_by: expires_at.map(|_| "admin@example.com".to_owned()),
        last_error: None,
        last_checked_at: None,
        stage: None,
        notified_stage: None,
        countdown_stage: None,
        stage_fingerprint: None,
        version: 1,
    }
}

/// Writes the synthetic entries `first..ENTRIES`, encoded as the store encodes them, with
/// `BatchWriteItem` (25 items per request). moto copies the whole table for each transaction,
/// so the store's own transactional create is too slow for a thousand entries.
async fn write_synthetic_entries(deployment: &Deployment, first: usize, now: DateTime<Utc>) {
    let requests: Vec<WriteRequest> = (first..ENTRIES)
        .map(|index| {
            let item = deptoken_aws::dynamo::server_to_item(&synthetic_entry(index, now)).expect("encode an entry");
            let put = PutRequest::builder().set_item(Some(item)).build().expect("a put request");
            WriteRequest::builder().put_request(put).build()
        })
        .collect();

    for chunk in requests.chunks(BATCH_WRITE_ITEMS) {
        let mut pending = chunk.to_vec();
        while !pending.is_empty() {
            let output = deployment
                .moto
                .dynamodb
                .batch_write_item()
                .request_items(&deployment.table, pending)
                .send()
                .await
                .expect("write a batch of entries");
            pending = output
                .unprocessed_items
                .and_then(|mut unprocessed| unprocessed.remove(&deployment.table))
                .unwrap_or_default();
        }
    }
}

/// Creates the entries of [`TOKENS`] through the upload use cases and sets Apple's verdicts.
/// Returns the certificate of the entry uploaded to meanwhile.
async fn write_token_entries(deployment: &Deployment, services: &Services) -> String {
    let now = deployment.clock.now();
    let mut meanwhile_certificate = String::new();
    for (tenant_name, name, days, verdict) in TOKENS {
        let admin = admin_of(tenant_name);
        services.create_server(&admin, name, name).await.expect("create the entry");
        let certificate = services.certificate(&admin, name).await.expect("the certificate").certificate_pem;
        let token = deployment.issue(&certificate, name, Some(now + Duration::days(days)));
        let request = UploadRequest {
            file: token.file,
            ..UploadRequest::default()
        };
        services.upload_token(&admin, name, request).await.expect("upload the token");

        let simulator = &deployment.sim.simulator;
        match verdict {
            Verdict::Active => {}
            Verdict::Set(state) => {
                simulator.set_state(&token.consumer_key, state).expect("set the token's state");
            }
            Verdict::RateLimitedOnce => {
                simulator.set_fault(&token.consumer_key, FaultKind::RateLimited, 1).expect("set a fault");
            }
        }
        if (tenant_name, name) == UPLOADED_MEANWHILE {
            meanwhile_certificate = certificate;
        }
    }
    meanwhile_certificate
}

/// Writes an item with the sweep index's attributes but a body the store cannot decode.
async fn write_unreadable_item(deployment: &Deployment) {
    deployment
        .moto
        .dynamodb
        .put_item()
        .table_name(&deployment.table)
        .item("pk", AttributeValue::S("TENANT#tenant-0".to_owned()))
        .item("sk", AttributeValue::S("SERVER#unreadable".to_owned()))
        .item("kind", AttributeValue::S("server".to_owned()))
        .item("sweep_shard", AttributeValue::N("3".to_owned()))
        .item("display_name", AttributeValue::N("7".to_owned()))
        .item("version", AttributeValue::S("one".to_owned()))
        .send()
        .await
        .expect("write the unreadable item");
}

/// The real store, except that the first listing for the sweep is followed by an upload of a
/// new token to [`UPLOADED_MEANWHILE`], before the sweep gets to write anything.
struct UploadDuringSweep {
    inner: DynamoStore,
    upload: Mutex<Option<(Arc<Services>, Vec<u8>)>>,
}

#[async_trait]
impl StoreOverride for UploadDuringSweep {
    fn inner(&self) -> &dyn Store {
        &self.inner
    }

    async fn list_all_servers(&self) -> Result<Vec<Result<ServerRecord, StoreError>>, StoreError> {
        let listing = self.inner().list_all_servers().await?;

        let upload = self.upload.lock().expect("upload lock").take();
        if let Some((services, file)) = upload {
            let (tenant_name, name) = UPLOADED_MEANWHILE;
            let request = UploadRequest {
                file,
                ..UploadRequest::default()
            };
            services.upload_token(&admin_of(tenant_name), name, request).await.expect("the concurrent upload");
        }
        Ok(listing)
    }
}

/// Reads the last metrics line the function wrote.
fn last_metrics_line(buffer: &Mutex<Vec<u8>>) -> Value {
    let text = String::from_utf8(buffer.lock().expect("metrics lock").clone()).expect("UTF-8 metrics");
    let line = text.lines().last().expect("a metrics line");
    serde_json::from_str(line).expect("the metrics line is one JSON object")
}

fn events_fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {path}: {error}"))
}

#[tokio::test]
async fn sweep_aws_thousand_entries() {
    let Some(deployment) = Deployment::start().await else { return };
    let started = Instant::now();
    let upload = deployment.upload();
    let now = deployment.clock.now();
    let meanwhile_certificate = write_token_entries(&deployment, &upload.services).await;
    write_synthetic_entries(&deployment, TOKENS.len(), now).await;
    write_unreadable_item(&deployment).await;
    let (tenant_name, name) = UPLOADED_MEANWHILE;
    let before_upload = deployment.store().get_server(&tenant(tenant_name), &server(name)).await.expect("read").expect("stored");
    let new_token = deployment.issue(&meanwhile_certificate, name, Some(now + Duration::days(365)));
    let new_token_expiry = deployment.sim.simulator.token_status(&new_token.consumer_key).expect("issued").expires_at;
    let (mut function, metrics) = deployment.sweep();
    // The admin uploads a second later: history rows are keyed by upload time.
    let admin_services = Arc::new(Services {
        clock: Arc::new(FixedClock::new(now + Duration::seconds(1))),
        ..(*upload.services).clone()
    });
    let store = Arc::new(Overridden(UploadDuringSweep {
        inner: deployment.store(),
        upload: Mutex::new(Some((admin_services, new_token.file))),
    }));
    function.services = Arc::new(Services {
        store,
        ..(*function.services).clone()
    });
    let arranged = started.elapsed();

    let report = expiry_sweep::handle(&events_fixture("scheduler-default.json"), &function).await.expect("the sweep");
    let first_sweep = started.elapsed() - arranged;

    let metrics_line = last_metrics_line(&metrics);
    let directive = &metrics_line["_aws"]["CloudWatchMetrics"][0];
    let after_upload = deployment.store().get_server(&tenant(tenant_name), &server(name)).await.expect("read").expect("stored");
    eprintln!("sweep_aws: arranged {ENTRIES} entries in {arranged:?}, first sweep {first_sweep:?}");
    assert_eq!(report.entries, ENTRIES + 1, "every entry and the unreadable item");
    assert_eq!(report.statuses.ok, 250, "{:?}", report.statuses);
    assert_eq!(report.statuses.expiring, 249, "{:?}", report.statuses);
    assert_eq!(report.statuses.expired, 248, "{:?}", report.statuses);
    assert_eq!(report.statuses.no_token, 248, "{:?}", report.statuses);
    assert_eq!(report.statuses.token_rejected, 3, "revoked twice, and the token superseded by the upload");
    assert_eq!(report.statuses.terms_not_accepted, 2, "{:?}", report.statuses);
    assert_eq!(report.statuses.check_failed, 0, "the 429 was retried: {:?}", report.statuses);
    assert_eq!(report.outcomes.apple_checked, TOKENS.len(), "{:?}", report.outcomes);
    assert_eq!(report.outcomes.apple_failed, 0, "{:?}", report.outcomes);
    assert_eq!(report.outcomes.failed, 1, "only the unreadable item: {:?}", report.outcomes);
    assert_eq!(report.outcomes.conflict, 1, "the entry uploaded to meanwhile: {:?}", report.outcomes);
    // Written: the expired and the expiring synthetic entries (a new stage), and the real
    // entries whose verdict or stage changed. The upload checked each token at this instant
    // already, so the two that stay `ok` need no write, and one entry conflicted.
    assert_eq!(report.outcomes.updated, 248 + 248 + TOKENS.len() - 3, "{:?}", report.outcomes);
    assert_eq!(report.outcomes.unchanged, 248 + 248 + 2, "{:?}", report.outcomes);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].reason, "corrupt");
    assert_eq!(after_upload.version, before_upload.version + 1, "only the upload wrote the entry");
    assert_eq!(after_upload.expires_at, Some(new_token_expiry), "the upload's token is kept");
    assert_eq!(after_upload.last_error, None, "the sweep's verdict on the old token was not written");
    assert_eq!(after_upload.last_checked_at, Some(now + Duration::seconds(1)), "the upload's check");
    assert_eq!(directive["Namespace"], METRICS_NAMESPACE);
    assert_eq!(metrics_line["SweepSucceeded"], 1);
    assert_eq!(metrics_line["SweepEntries"], ENTRIES + 1);
    assert_eq!(metrics_line["TokensExpired"], report.statuses.expired);
    assert_eq!(metrics_line["TokensExpiring"], report.statuses.expiring);
    assert_eq!(metrics_line["TokensRejected"], report.statuses.token_rejected);
    assert_eq!(metrics_line["TokensTermsNotAccepted"], report.statuses.terms_not_accepted);
    assert_eq!(metrics_line["SweepFailures"], 1);
    assert_eq!(metrics_line["SweepConflicts"], 1);

    let stored_status = |tenant_name: &'static str, name: &'static str| {
        let store = deployment.store();
        async move {
            let record = store.get_server(&tenant(tenant_name), &server(name)).await.expect("read").expect("stored");
            policy::status_of(&record, now, chrono_tz::Asia::Tokyo).status
        }
    };
    assert_eq!(stored_status("tenant-1", "revoked-long").await, TokenStatus::TokenRejected);
    assert_eq!(stored_status("tenant-4", "terms-soon").await, TokenStatus::TermsNotAccepted);
    assert_eq!(stored_status("tenant-5", "rate-limited").await, TokenStatus::Ok);
    assert_eq!(stored_status("tenant-7", "active-soon").await, TokenStatus::Expiring);

    let rule_event = events_fixture("eventbridge-scheduled-rule.json");
    let second = expiry_sweep::handle(&rule_event, &function).await.expect("the second sweep");
    let third = expiry_sweep::handle(&rule_event, &function).await.expect("the third sweep");

    assert!(second.changes.is_empty(), "{:?}", second.changes);
    assert_eq!(second.outcomes.updated, 1, "only the check of the entry uploaded to meanwhile: {:?}", second.outcomes);
    assert_eq!(second.outcomes.conflict, 0, "{:?}", second.outcomes);
    assert_eq!(second.outcomes.failed, 1, "the unreadable item again: {:?}", second.outcomes);
    assert_eq!(third.outcomes.updated, 0, "{:?}", third.outcomes);
    assert!(third.changes.is_empty(), "{:?}", third.changes);
    assert_eq!(third.statuses, second.statuses);
    eprintln!("sweep_aws: whole test {:?}", started.elapsed());
}
