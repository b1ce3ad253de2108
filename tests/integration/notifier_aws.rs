//! The notifier function against moto server. Stream batches follow the fixture's record
//! shape, with images read raw from the table. A record that fails is the only one reported,
//! and a redelivered batch sends nothing twice. The messages SNS delivers are read back
//! through SQS subscriptions with the tenant filter, and the e-mail and SMS texts from the
//! notifier's Publish requests. Then the renewal cycle runs through all three Lambda handlers: upload, sweep
//! and notifier.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Duration, TimeZone, Utc};
use deptoken_dep_sim::TokenState;
use deptoken_shared::clock::Clock;
use deptoken_shared::domain::{ServerName, TenantId};
use deptoken_shared::messages::sms_fits;
use deptoken_shared::model::Stage;
use deptoken_shared::ports::Store;
use deptoken_shared::usecases::{Services, UploadRequest};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::deployment::{Deployment, Envelope, Queue, StreamTap, admin_of, stream_event};

const TENANT: &str = "acme";

/// Creates entry `name` of tenant `acme` with an accepted token expiring in `days` days, for
/// the MDM server `name` in the simulator. The upload records the `renewed` stage, unsent.
async fn entry_with_token(deployment: &Deployment, services: &Services, name: &str, days: i64) -> String {
    let admin = admin_of(TENANT);
    services
        .create_server(&admin, name, &format!("{name} オフィス"))
        .await
        .expect("create the entry");
    let certificate = services.certificate(&admin, name).await.expect("the certificate").certificate_pem;
    let token = deployment.issue(&certificate, name, Some(deployment.clock.now() + Duration::days(days)));

    let request = UploadRequest {
        file: token.file,
        ..UploadRequest::default()
    };
    services.upload_token(&admin, name, request).await.expect("upload the token");
    token.consumer_key
}

async fn stored_stage(deployment: &Deployment, name: &str) -> (Option<Stage>, Option<Stage>) {
    let tenant = TenantId::parse(TENANT).expect("valid tenant");
    let name = ServerName::parse(name).expect("valid name");
    let record = deployment.store().get_server(&tenant, &name).await.expect("read").expect("stored");
    (record.stage, record.notified_stage)
}

fn failed_sequence_numbers(response: &aws_lambda_events::streams::DynamoDbEventResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn notifier_reports_only_failed_record() {
    let Some(deployment) = Deployment::start().await else { return };
    let upload = deployment.upload();
    entry_with_token(&deployment, &upload.services, "tokyo", 200).await;
    entry_with_token(&deployment, &upload.services, "osaka", 200).await;
    let acme_queue = deployment.subscribe_queue(TENANT).await;
    let globex_queue = deployment.subscribe_queue("globex").await;
    let mut tap = StreamTap::new();
    let changes = tap.changes(&deployment, &[(TENANT, "tokyo"), (TENANT, "osaka")]).await;
    let mut broken_item = deployment.raw_entry(TENANT, "tokyo").await.expect("stored");
    broken_item.insert("version".to_owned(), AttributeValue::S("two".to_owned()));
    let broken = tap.record(None, &broken_item);
    let broken_sequence = broken["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default().to_owned();
    let records = vec![changes[0].clone(), broken, changes[1].clone()];
    let services = deployment.notifier();

    let response = notifier::handle(stream_event(&records), &services).await.expect("the batch is processed");

    let envelopes = acme_queue.take_all().await;
    let published = deployment.published.requests();
    assert_eq!(failed_sequence_numbers(&response), std::slice::from_ref(&broken_sequence));
    assert_eq!(published.len(), 2, "{published:?}");
    assert_eq!(envelopes.len(), 2, "{envelopes:?}");
    assert_eq!(globex_queue.take_all().await.len(), 0, "the filter policy keeps acme's messages from globex");
    for envelope in &envelopes {
        let request = published
            .iter()
            .find(|request| request.message["default"].as_str() == Some(envelope.message.as_str()))
            .expect("the delivered message was published");
        let sms = request.message["sms"].as_str().unwrap_or_default();
        assert_eq!(envelope.attributes.get("tenant_id").map(String::as_str), Some(TENANT));
        assert_eq!(envelope.attributes.get("severity").map(String::as_str), Some("info"));
        assert!(envelope.subject.starts_with("【お知らせ】DEPサーバートークンを更新しました"), "{}", envelope.subject);
        assert_eq!(request.attributes, envelope.attributes, "SNS delivered the published attributes");
        assert_eq!(request.subject, envelope.subject);
        assert_eq!(request.message_structure, "json");
        assert_eq!(request.message["email"].as_str(), Some(envelope.message.as_str()), "e-mail gets the full text");
        assert!(envelope.message.contains("オフィス"), "{}", envelope.message);
        assert!(envelope.message.contains("https://portal.example.com/dep-tokens"), "{}", envelope.message);
        assert!(!sms.is_empty(), "an SMS text");
        assert!(sms_fits(sms), "one SMS segment: {sms}");
        assert_ne!(sms, envelope.message);
    }
    assert_eq!(stored_stage(&deployment, "tokyo").await, (Some(Stage::Renewed), Some(Stage::Renewed)));
    assert_eq!(stored_stage(&deployment, "osaka").await, (Some(Stage::Renewed), Some(Stage::Renewed)));

    let redelivered = notifier::handle(stream_event(&records), &services).await.expect("the batch is processed again");
    let marks = tap.changes(&deployment, &[(TENANT, "tokyo"), (TENANT, "osaka")]).await;
    let after_marks = notifier::handle(stream_event(&marks), &services).await.expect("the marks are processed");

    assert_eq!(failed_sequence_numbers(&redelivered), [broken_sequence]);
    assert_eq!(marks.len(), 2, "marking each stage is one more change of the entry");
    assert!(failed_sequence_numbers(&after_marks).is_empty());
    assert_eq!(acme_queue.take_all().await.len(), 0, "nothing is sent twice");
    assert_eq!(deployment.published.requests().len(), 2, "nothing is published twice");
}

#[tokio::test]
async fn notifier_skips_other_items() {
    let Some(deployment) = Deployment::start().await else { return };
    let upload = deployment.upload();
    entry_with_token(&deployment, &upload.services, "tokyo", 200).await;
    let queue = deployment.subscribe_queue(TENANT).await;
    let mut tap = StreamTap::new();
    let entry = deployment.raw_entry(TENANT, "tokyo").await.expect("stored");
    let mut history_row = entry.clone();
    history_row.insert("kind".to_owned(), AttributeValue::S("upload".to_owned()));
    history_row.insert("sk".to_owned(), AttributeValue::S("SERVER#tokyo#UPLOAD#2026-12-04T00:00:00.000000000Z".to_owned()));
    let mut removal = tap.record(Some(&entry), &entry);
    removal["eventName"] = Value::String("REMOVE".to_owned());
    let records = vec![tap.record(None, &history_row), removal];
    let services = deployment.notifier();

    let response = notifier::handle(stream_event(&records), &services).await.expect("the batch is processed");

    assert!(failed_sequence_numbers(&response).is_empty());
    assert_eq!(queue.take_all().await.len(), 0);
    assert_eq!(stored_stage(&deployment, "tokyo").await, (Some(Stage::Renewed), None));
}

/// The response of the token-upload function to an API Gateway event.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

fn apigw_fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/apigw/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {path}: {error}"))
}

fn events_fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {path}: {error}"))
}

/// Deserialises `event` as the Lambda runtime does and sends it through `app`.
async fn invoke(app: &Router, event: &Value) -> Answer {
    let request = lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event");
    let response = app.clone().oneshot(request).await.expect("the router responds");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.expect("read the body").to_bytes().to_vec();
    Answer { status, body }
}

async fn upload_through_lambda(app: &Router, file: &[u8]) -> Answer {
    let mut event = apigw_fixture("upload-token.json");
    event["body"] = Value::String(BASE64.encode(file));
    event["isBase64Encoded"] = Value::Bool(true);
    event["headers"]["content-length"] = Value::String(file.len().to_string());
    invoke(app, &event).await
}

/// The notifier's side of one table change: the stream records of entry `tokyo`'s changes
/// since the last call go through the notifier handler, and the messages that reached the
/// recipient's queue are returned.
async fn deliver(deployment: &Deployment, tap: &mut StreamTap, services: &Services, queue: &Queue) -> Vec<Envelope> {
    let records = tap.changes(deployment, &[(TENANT, "tokyo")]).await;
    if !records.is_empty() {
        let response = notifier::handle(stream_event(&records), services).await.expect("the batch is processed");
        assert!(failed_sequence_numbers(&response).is_empty(), "no record fails");
    }
    queue.take_all().await
}

fn subjects(envelopes: &[Envelope]) -> Vec<String> {
    envelopes.iter().map(|envelope| envelope.subject.clone()).collect()
}

/// A token that expires in 45 days shows up highlighted. It brings one 60-day message on the
/// first sweep and nothing on the second. Once superseded, the next sweep brings a
/// `token_rejected` message, and a fresh upload brings a renewal confirmation. Every step goes
/// through the Lambda handlers: token-upload (API Gateway events), expiry-sweep (the
/// scheduler's event) and the notifier (stream batches of the table's changes).
#[tokio::test]
async fn renewal_cycle_through_lambdas() {
    let Some(deployment) = Deployment::start().await else { return };
    let app = deployment.upload_router();
    let (sweep, _metrics) = deployment.sweep();
    let notifier = deployment.notifier();
    let queue = deployment.subscribe_queue(TENANT).await;
    let mut tap = StreamTap::new();
    let schedule = events_fixture("scheduler-default.json");
    let now = deployment.clock.now();

    let created = invoke(&app, &apigw_fixture("create-server.json")).await;
    let certificate = invoke(&app, &apigw_fixture("download-certificate.json")).await;
    let certificate = String::from_utf8(certificate.body).expect("a PEM certificate");
    let first_token = deployment.issue(&certificate, "Tokyo MDM", Some(now + Duration::days(45)));
    let uploaded = upload_through_lambda(&app, &first_token.file).await;
    let after_upload = deliver(&deployment, &mut tap, &notifier, &queue).await;
    let after_mark = deliver(&deployment, &mut tap, &notifier, &queue).await;
    let listed = invoke(&app, &apigw_fixture("list-servers.json")).await;

    let entry = &listed.json()["servers"][0];
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    assert_eq!(uploaded.status, 200, "{}", String::from_utf8_lossy(&uploaded.body));
    assert_eq!(subjects(&after_upload), ["【お知らせ】DEPサーバートークンを更新しました（東京オフィス）"]);
    assert!(after_mark.is_empty(), "{after_mark:?}");
    assert_eq!(entry["status"], "expiring");
    assert_eq!(entry["days_remaining"], 45);
    assert_eq!(entry["highlight"], true, "shown in red");

    let first_sweep = expiry_sweep::handle(&schedule, &sweep).await.expect("the first sweep");
    let after_first_sweep = deliver(&deployment, &mut tap, &notifier, &queue).await;
    let after_first_mark = deliver(&deployment, &mut tap, &notifier, &queue).await;
    let second_sweep = expiry_sweep::handle(&schedule, &sweep).await.expect("the second sweep");
    let records_after_second = tap.changes(&deployment, &[(TENANT, "tokyo")]).await;

    assert_eq!(first_sweep.changes.len(), 1, "{first_sweep:?}");
    assert_eq!(first_sweep.changes[0].new_stage, Some(Stage::Days60));
    assert_eq!(subjects(&after_first_sweep), ["【お知らせ】DEPサーバートークンの有効期限まで残り 45 日です（東京オフィス）"]);
    assert_eq!(after_first_sweep[0].attributes.get("severity").map(String::as_str), Some("info"));
    assert!(after_first_mark.is_empty(), "{after_first_mark:?}");
    assert_eq!(second_sweep.outcomes.updated, 0, "{second_sweep:?}");
    assert!(second_sweep.changes.is_empty(), "{second_sweep:?}");
    assert!(records_after_second.is_empty(), "the second sweep wrote nothing, so the stream carries nothing");

    deployment
        .sim
        .simulator
        .set_state(&first_token.consumer_key, TokenState::Superseded)
        .expect("supersede the token");
    let third_sweep = expiry_sweep::handle(&schedule, &sweep).await.expect("the sweep after the supersession");
    let after_rejection = deliver(&deployment, &mut tap, &notifier, &queue).await;
    deliver(&deployment, &mut tap, &notifier, &queue).await;

    assert_eq!(third_sweep.statuses.token_rejected, 1, "{third_sweep:?}");
    assert_eq!(subjects(&after_rejection), ["【至急】DEPサーバートークンが無効になりました（東京オフィス）"]);
    assert_eq!(after_rejection[0].attributes.get("severity").map(String::as_str), Some("critical"));

    deployment.clock.set(now + Duration::seconds(5));
    let fresh_token = deployment.issue(&certificate, "Tokyo MDM", None);
    let renewed = upload_through_lambda(&app, &fresh_token.file).await;
    let after_renewal = deliver(&deployment, &mut tap, &notifier, &queue).await;
    let fourth_sweep = expiry_sweep::handle(&schedule, &sweep).await.expect("the sweep after the renewal");
    let after_fourth_sweep = deliver(&deployment, &mut tap, &notifier, &queue).await;

    let all_subjects: HashSet<String> = deployment.published.requests().into_iter().map(|request| request.subject).collect();
    assert_eq!(renewed.status, 200, "{}", String::from_utf8_lossy(&renewed.body));
    assert_eq!(subjects(&after_renewal), ["【お知らせ】DEPサーバートークンを更新しました（東京オフィス）"]);
    assert_eq!(fourth_sweep.statuses.ok, 1, "{fourth_sweep:?}");
    assert!(after_fourth_sweep.is_empty(), "{after_fourth_sweep:?}");
    assert_eq!(all_subjects.len(), 3, "renewed, 60 days and rejected, each sent once per token: {all_subjects:?}");
    assert_eq!(deployment.published.requests().len(), 4);
}

/// Creates entry `name` of `tenant` with an accepted token that expires at `expires_at`, for
/// an MDM server of its own in the simulator.
async fn entry_expiring_at(deployment: &Deployment, services: &Services, tenant: &str, name: &str, expires_at: DateTime<Utc>) {
    let admin = admin_of(tenant);
    services
        .create_server(&admin, name, &format!("{name} office"))
        .await
        .expect("create the entry");
    let certificate = services.certificate(&admin, name).await.expect("the certificate").certificate_pem;
    let token = deployment.issue(&certificate, &format!("{tenant} {name}"), Some(expires_at));
    let request = UploadRequest {
        file: token.file,
        ..UploadRequest::default()
    };
    services.upload_token(&admin, name, request).await.expect("upload the token");
}

/// Two tenants through the expiry-sweep and notifier handlers: `globex` stored English and
/// Los Angeles time, `acme` has no settings and gets the deployment's Japanese and Asia/Tokyo.
/// The expiry instant is 19:00 in Tokyo and 03:00 in Los Angeles on 2027-04-08, and the sweep
/// runs on 2027-04-01 in Tokyo, still 2027-03-31 in Los Angeles: 7 days left against 8.
#[tokio::test]
async fn notifier_follows_tenant_settings() {
    let Some(deployment) = Deployment::start().await else { return };
    let upload = deployment.upload();
    let (sweep, _metrics) = deployment.sweep();
    let notifier = deployment.notifier();
    let schedule = events_fixture("scheduler-default.json");
    let entries = [(TENANT, "tokyo"), ("globex", "tokyo")];
    let expires_at = Utc.with_ymd_and_hms(2027, 4, 8, 10, 0, 0).unwrap();
    upload
        .services
        .update_settings(&admin_of("globex"), "en", "America/Los_Angeles")
        .await
        .expect("store globex's settings");
    for (tenant, name) in entries {
        entry_expiring_at(&deployment, &upload.services, tenant, name, expires_at).await;
    }
    let mut tap = StreamTap::new();
    let renewals = tap.changes(&deployment, &entries).await;
    notifier::handle(stream_event(&renewals), &notifier).await.expect("the renewals are processed");
    let marks = tap.changes(&deployment, &entries).await;
    notifier::handle(stream_event(&marks), &notifier).await.expect("the marks are processed");
    let acme_queue = deployment.subscribe_queue(TENANT).await;
    let globex_queue = deployment.subscribe_queue("globex").await;
    deployment.clock.set(Utc.with_ymd_and_hms(2027, 4, 1, 3, 0, 0).unwrap());

    let report = expiry_sweep::handle(&schedule, &sweep).await.expect("the sweep");
    let changes = tap.changes(&deployment, &entries).await;
    let response = notifier::handle(stream_event(&changes), &notifier).await.expect("the batch is processed");

    let acme = acme_queue.take_all().await;
    let globex = globex_queue.take_all().await;
    assert!(failed_sequence_numbers(&response).is_empty());
    assert_eq!(report.changes.len(), 2, "{report:?}");
    assert_eq!(subjects(&acme), ["【要対応】DEPサーバートークンの有効期限まで残り 7 日です（tokyo office）"]);
    assert!(acme[0].message.contains("2027年4月8日 19:00 (JST)"), "{}", acme[0].message);
    assert_eq!(subjects(&globex), ["Action needed: DEP server token expires in 8 days: tokyo office"]);
    assert!(globex[0].message.contains("2027-04-08 03:00 PDT"), "{}", globex[0].message);
    assert_eq!(globex[0].attributes.get("tenant_id").map(String::as_str), Some("globex"));
    assert_eq!(stored_stage_of(&deployment, TENANT, "tokyo").await, (Some(Stage::Days7), Some(Stage::Days7)));
    assert_eq!(stored_stage_of(&deployment, "globex", "tokyo").await, (Some(Stage::Days14), Some(Stage::Days14)));
}

async fn stored_stage_of(deployment: &Deployment, tenant: &str, name: &str) -> (Option<Stage>, Option<Stage>) {
    let tenant = TenantId::parse(tenant).expect("valid tenant");
    let name = ServerName::parse(name).expect("valid name");
    let record = deployment.store().get_server(&tenant, &name).await.expect("read").expect("stored");
    (record.stage, record.notified_stage)
}
