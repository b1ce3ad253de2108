//! The `token-upload` function on the AWS adapters, in-process: real API Gateway HTTP API
//! events through `lambda_http`'s request parser into the router that the production wiring
//! builds, on DynamoDB, KMS and SNS in moto server, with the DEP simulator as Apple.
//!
//! Every test makes its own table, KMS keys and topic, so the tests run in parallel on one moto.

mod function;
mod recorder;
mod secrets;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use deptoken_api::MAX_UPLOAD_BODY_BYTES;
use deptoken_dep_sim::{FaultKind, IssueRequest, TokenState};
use deptoken_shared::model::Stage;
use deptoken_shared::ports::{CredentialSealer, KeyVault, Store};
use deptoken_shared::token::MAX_TOKEN_FILE_BYTES;
use serde_json::Value;
use tokio::task::JoinSet;
use tracing_subscriber::layer::SubscriberExt as _;

use self::function::{
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, Answer, Function, Item, TENANT, fixture, invoke, server_name, tenant,
    with_binary_body, with_multipart_file, with_path,
};
use self::recorder::{DYNAMODB_TARGET_PREFIX, KMS_TARGET_PREFIX, SdkCall};
use self::secrets::Secrets;

/// The MDM server name the simulator gives tokens unless a test names another.
const SIM_SERVER: &str = "Sim MDM Server";

/// Uploads `event`, then checks the status, the error code and that every item of tenant
/// `acme` (entries, history rows, keys) is unchanged byte for byte. Returns the response.
async fn assert_rejected(function: &Function, label: &str, event: &Value, status: u16, code: &str) -> Answer {
    let before = function.raw_partition(TENANT).await;

    let answer = function.invoke(event).await;

    let after = function.raw_partition(TENANT).await;
    assert_eq!(answer.status, status, "{label}: {}", answer.text());
    assert_eq!(answer.code(), code, "{label}");
    assert_eq!(after, before, "{label}: the stored items changed");
    answer
}

#[tokio::test]
async fn lambda_aws_upload_walkthrough() {
    let Some(function) = Function::start().await else { return };
    let created = function.invoke(&fixture("create-server.json")).await;
    let certificate = function.invoke(&fixture("download-certificate.json")).await;
    let certificate_pem = certificate.text();
    let token = function.issue(&certificate_pem, SIM_SERVER);
    let expires_at = function.credentials_of(&token.consumer_key).access_token_expiry;

    let uploaded = function.invoke(&with_binary_body(fixture("upload-token.json"), &token.file)).await;
    let listed = function.invoke(&fixture("list-servers.json")).await;

    let listed_entry = &listed.json()["servers"][0];
    let stored = function.server("tokyo").await;
    let days_remaining = listed_entry["days_remaining"].as_i64().unwrap_or_default();
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(certificate.status, 200, "{}", certificate.text());
    assert_eq!(certificate.header("content-type"), Some("application/x-pem-file"));
    assert_eq!(certificate.header("content-disposition"), Some("attachment; filename=\"tokyo.pem\""));
    assert!(certificate_pem.starts_with("-----BEGIN CERTIFICATE-----"), "{certificate_pem}");
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    assert_eq!(uploaded.json()["expires_at"], Value::String(expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    assert_eq!(uploaded.json()["account"]["server_name"], SIM_SERVER);
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed_entry["name"], "tokyo");
    assert_eq!(listed_entry["status"], "ok");
    assert_eq!(listed_entry["expires_at"], uploaded.json()["expires_at"]);
    assert!((364..=366).contains(&days_remaining), "days_remaining {days_remaining}");
    assert_eq!(listed_entry["highlight"], false);
    assert_eq!(stored.version, 2, "created as 1, uploaded once");
    assert_eq!(stored.expires_at, Some(expires_at));
    assert_eq!(stored.stage, Some(Stage::Renewed), "the confirmation is recorded for the stream");
    assert_eq!(stored.notified_stage, None, "the upload function publishes nothing");
    assert_eq!(function.history("tokyo").await.len(), 1);
}

#[tokio::test]
async fn lambda_aws_upload_multipart_form() {
    let Some(function) = Function::start().await else { return };
    let certificate = function.create_entry("tokyo").await;
    let token = function.issue(&certificate, SIM_SERVER);
    let event = with_multipart_file(fixture("upload-token-multipart.json"), &token.file);

    let answer = function.invoke(&event).await;

    let history = function.history("tokyo").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["note"], "abm-admin@acme.example");
    assert_eq!(answer.json()["status"], "ok");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].note.as_deref(), Some("abm-admin@acme.example"));
    assert_eq!(
        history[0].consumer_key_fingerprint,
        function.credentials_of(&token.consumer_key).consumer_key_fingerprint()
    );
}

#[tokio::test]
async fn lambda_aws_bad_files_change_nothing() {
    let Some(function) = Function::start().await else { return };
    let certificate = function.entry_with_token("tokyo").await;
    let other_certificate = function.create_entry("osaka").await;
    let valid = function.issue(&certificate, SIM_SERVER).file;
    let for_other_entry = function.issue(&other_certificate, "Osaka MDM").file;
    let expired = function
        .issue_with(IssueRequest {
            expires_at: Some(Utc::now() - chrono::Duration::days(2)),
            ..IssueRequest::new(&certificate)
        })
        .file;
    let not_json = deptoken_dep_sim::issue_token_file(&certificate, "this is not JSON").expect("issue");
    let missing_fields = deptoken_dep_sim::issue_token_file(&certificate, r#"{"consumer_key":"CK_x"}"#).expect("issue");
    let upload = fixture("upload-token.json");
    let mut mixed = with_binary_body(upload.clone(), &valid);
    mixed["headers"]["content-type"] = Value::String("multipart/mixed; boundary=x".to_owned());
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("empty", with_binary_body(upload.clone(), &[]), 422, "empty_upload"),
        ("over the file limit", with_binary_body(upload.clone(), &vec![b'A'; MAX_TOKEN_FILE_BYTES + 1]), 413, "too_large"),
        ("over the body limit", with_binary_body(upload.clone(), &vec![b'A'; MAX_UPLOAD_BODY_BYTES + 1]), 413, "too_large"),
        ("text", with_binary_body(upload.clone(), b"hello, this is not a token file\n"), 422, "not_a_token"),
        ("certificate", with_binary_body(upload.clone(), certificate.as_bytes()), 422, "certificate_not_token"),
        ("truncated", with_binary_body(upload.clone(), &valid[..valid.len() * 2 / 3]), 422, "malformed_token"),
        ("another entry's token", with_binary_body(upload.clone(), &for_other_entry), 422, "wrong_recipient"),
        ("payload not JSON", with_binary_body(upload.clone(), not_json.as_bytes()), 422, "undecryptable"),
        ("payload fields missing", with_binary_body(upload.clone(), missing_fields.as_bytes()), 422, "invalid_payload"),
        ("expired before upload", with_binary_body(upload.clone(), &expired), 422, "token_expired"),
        ("multipart/mixed", mixed, 415, "unsupported_media_type"),
    ];

    for (label, event, status, code) in cases {
        assert_rejected(&function, label, &event, status, code).await;
    }
}

/// A change of how the simulated Apple treats one token.
enum AppleChange {
    State(TokenState),
    /// A fault for the token's next ten requests, more than the DEP client retries.
    Fault(FaultKind),
}

#[tokio::test]
async fn lambda_aws_apple_verdicts_change_nothing() {
    let Some(function) = Function::start().await else { return };
    let certificate = function.entry_with_token("tokyo").await;
    let cases = [
        ("revoked", AppleChange::State(TokenState::Revoked), 422, "token_rejected"),
        ("expired at Apple", AppleChange::State(TokenState::Expired), 422, "token_expired"),
        ("account deleted", AppleChange::State(TokenState::AccountDeleted), 422, "account_invalid"),
        ("terms not accepted", AppleChange::State(TokenState::TermsNotAccepted), 422, "terms_not_accepted"),
        ("server inactive", AppleChange::State(TokenState::ServerInactive), 422, "server_inactive"),
        ("rate limited", AppleChange::Fault(FaultKind::RateLimited), 503, "apple_rate_limited"),
        ("Apple 5xx", AppleChange::Fault(FaultKind::Unavailable), 502, "apple_unavailable"),
    ];

    for (label, change, status, code) in cases {
        let token = function.issue(&certificate, SIM_SERVER);
        let simulator = &function.sim.simulator;
        match change {
            AppleChange::State(state) => simulator.set_state(&token.consumer_key, state),
            AppleChange::Fault(kind) => simulator.set_fault(&token.consumer_key, kind, 10),
        }
        .expect("the simulator knows the token");
        let event = with_binary_body(fixture("upload-token.json"), &token.file);

        let answer = assert_rejected(&function, label, &event, status, code).await;

        match code {
            "apple_rate_limited" => assert_eq!(answer.header("retry-after"), Some("1"), "{label}: Apple's Retry-After"),
            "apple_unavailable" => assert!(answer.header("retry-after").is_some(), "{label}: Retry-After"),
            _ => assert_eq!(answer.header("retry-after"), None, "{label}: no Retry-After"),
        }
    }
}

#[tokio::test]
async fn lambda_aws_superseded_token_changes_nothing() {
    let Some(function) = Function::start().await else { return };
    let certificate = function.entry_with_token("tokyo").await;
    let older = function.issue(&certificate, SIM_SERVER);
    // ABM supersedes a server's earlier tokens when the admin downloads a new one.
    let _newer = function.issue(&certificate, SIM_SERVER);
    let event = with_binary_body(fixture("upload-token.json"), &older.file);

    assert_rejected(&function, "superseded", &event, 422, "token_superseded").await;
}

#[tokio::test]
async fn lambda_aws_other_server_needs_confirmation() {
    let Some(function) = Function::start().await else { return };
    let certificate = function.entry_with_token("tokyo").await;
    let token = function.issue(&certificate, "Osaka MDM");
    let refused = with_binary_body(fixture("upload-token.json"), &token.file);
    let mut confirmed = with_binary_body(fixture("upload-token.json"), &token.file);
    confirmed["rawQueryString"] = Value::String("confirm_server_change=true".to_owned());
    confirmed["queryStringParameters"]["confirm_server_change"] = Value::String("true".to_owned());

    let answer = assert_rejected(&function, "another ABM server", &refused, 409, "server_mismatch").await;
    let accepted = function.invoke(&confirmed).await;

    assert!(answer.json()["error"]["message"].as_str().is_some_and(|m| m.contains("Osaka MDM")), "{}", answer.text());
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert_eq!(accepted.json()["account"]["server_name"], "Osaka MDM");
}

/// Each of six admins uploads a token of a different ABM server to one new entry at once.
/// An upload that read the entry before the winner's write loses its conditional write
/// (`conflict`). One that read it after reads the winner's server, and the entry's server
/// differs from its own (`server_mismatch`). So exactly one upload can win.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_aws_concurrent_uploads_one_wins() {
    let Some(function) = Function::start().await else { return };
    let certificate = function.create_entry("tokyo").await;
    let before = function.server("tokyo").await;
    let servers: Vec<String> = (1..=6).map(|index| format!("Racing MDM {index}")).collect();
    let tokens: Vec<_> = servers.iter().map(|server| function.issue(&certificate, server)).collect();

    let mut uploads = JoinSet::new();
    for (index, token) in tokens.iter().enumerate() {
        let app = function.app.clone();
        let event = with_binary_body(fixture("upload-token.json"), &token.file);
        uploads.spawn(async move { (index, invoke(&app, &event).await) });
    }
    let answers = uploads.join_all().await;

    let outcomes: Vec<(usize, u16, String)> = answers
        .iter()
        .map(|(index, answer)| (*index, answer.status, if answer.status == 200 { String::new() } else { answer.code() }))
        .collect();
    let winners: Vec<usize> = outcomes.iter().filter(|(_, status, _)| *status == 200).map(|(index, ..)| *index).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    for (index, status, code) in outcomes.iter().filter(|(_, status, _)| *status != 200) {
        assert_eq!(*status, 409, "upload {index}: {outcomes:?}");
        assert!(code == "conflict" || code == "server_mismatch", "upload {index}: {outcomes:?}");
    }

    let winner = winners[0];
    let expected = function.credentials_of(&tokens[winner].consumer_key);
    let stored = function.server("tokyo").await;
    let history = function.history("tokyo").await;
    let sealed = stored.credentials.clone().expect("credentials stored");
    let sealer = &function.adapters.sealer;
    let open = async |value: &str| sealer.open(&tenant(), &server_name("tokyo"), value).await.expect("unseal");
    let winner_answer = answers.iter().find(|(index, _)| *index == winner).map(|(_, answer)| answer.json());
    assert_eq!(winner_answer.map(|body| body["account"]["server_name"].clone()), Some(Value::String(servers[winner].clone())));
    assert_eq!(stored.version, before.version + 1, "one write");
    assert_eq!(history.len(), 1, "one history row");
    assert_eq!(stored.account.map(|account| account.server_name), Some(servers[winner].clone()));
    assert_eq!(stored.consumer_key_fingerprint, Some(expected.consumer_key_fingerprint()));
    assert_eq!(history[0].consumer_key_fingerprint, expected.consumer_key_fingerprint());
    assert_eq!(history[0].server_name, servers[winner]);
    assert_eq!(open(&sealed.consumer_key).await.expose(), expected.consumer_key.expose(), "consumer key");
    assert_eq!(open(&sealed.consumer_secret).await.expose(), expected.consumer_secret.expose(), "consumer secret");
    assert_eq!(open(&sealed.access_token).await.expose(), expected.access_token.expose(), "access token");
    assert_eq!(open(&sealed.access_secret).await.expose(), expected.access_secret.expose(), "access secret");
}

/// Returns the subscription ARNs of `topic_arn` in moto.
async fn subscriptions_of(sns: &aws_sdk_sns::Client, topic_arn: &str) -> Vec<String> {
    let page = sns.list_subscriptions_by_topic().topic_arn(topic_arn).send().await.expect("list subscriptions");
    page.subscriptions()
        .iter()
        .filter_map(|subscription| subscription.subscription_arn())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn lambda_aws_subscribers_on_sns() {
    let Some(function) = Function::start().await else { return };
    let sns = aws_sdk_sns::Client::new(&function.moto.sdk_config);
    let topic_arn = function.config.topic_arn.clone();
    let mut other_tenant_list = fixture("list-subscribers.json");
    other_tenant_list["requestContext"]["authorizer"]["jwt"]["claims"]["tenant_id"] = Value::String("globex".to_owned());

    let added = function.invoke(&fixture("add-subscriber.json")).await;
    let listed = function.invoke(&fixture("list-subscribers.json")).await;
    let listed_by_other_tenant = function.invoke(&other_tenant_list).await;
    let subscriptions = subscriptions_of(&sns, &topic_arn).await;
    let subscription_arn = subscriptions.first().cloned().unwrap_or_default();
    let attributes = sns
        .get_subscription_attributes()
        .subscription_arn(subscription_arn)
        .send()
        .await
        .expect("read the subscription's attributes");
    let id = added.json()["id"].as_str().unwrap_or_default().to_owned();
    let remove = with_path(fixture("remove-subscriber.json"), &format!("/v1/subscribers/{id}"));
    let removed = function.invoke(&remove).await;
    let listed_after = function.invoke(&fixture("list-subscribers.json")).await;

    let filter_policy = attributes
        .attributes()
        .and_then(|attributes| attributes.get("FilterPolicy"))
        .map(|policy| serde_json::from_str::<Value>(policy).expect("a JSON filter policy"));
    let no_subscribers = Value::Array(Vec::new());
    assert_eq!(added.status, 201, "{}", added.text());
    assert_eq!(added.json()["protocol"], "email");
    assert_eq!(added.json()["endpoint"], "it-admin@acme.example");
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.json()["subscribers"][0]["id"], Value::String(id));
    assert_eq!(listed_by_other_tenant.json()["subscribers"], no_subscribers);
    assert_eq!(subscriptions.len(), 1, "one subscription on the configured topic");
    assert_eq!(filter_policy, Some(serde_json::json!({"tenant_id": [TENANT]})));
    assert_eq!(removed.status, 204, "{}", removed.text());
    assert_eq!(listed_after.json()["subscribers"], no_subscribers);
    assert_eq!(subscriptions_of(&sns, &topic_arn).await, Vec::<String>::new(), "the subscription is gone");
}

/// Returns each call's operation, and whether its body names tenant `acme`.
fn operations(calls: &[SdkCall]) -> Vec<(String, bool)> {
    calls
        .iter()
        .map(|call| (call.operation.clone(), call.body.contains(&format!("TENANT#{TENANT}"))))
        .collect()
}

#[tokio::test]
async fn lambda_aws_other_tenant_reads_nothing() {
    let Some(function) = Function::start().await else { return };
    let certificate = function.entry_with_token("tokyo").await;
    let token = function.issue(&certificate, SIM_SERVER);
    let to_existing_entry = with_binary_body(fixture("other-tenant-upload.json"), &token.file);
    let to_missing_entry = with_path(to_existing_entry.clone(), "/v1/servers/nagoya/token");
    let before = function.raw_partition(TENANT).await;
    function.recorder.take();

    let existing = function.invoke(&to_existing_entry).await;
    let existing_calls = function.recorder.take();
    let missing = function.invoke(&to_missing_entry).await;
    let missing_calls = function.recorder.take();

    let apple_requests = function.sim.simulator.token_status(&token.consumer_key).map(|status| status.requests.session_requests);
    assert_eq!(existing.status, 404, "{}", existing.text());
    assert_eq!(existing.code(), "not_found");
    assert_eq!(existing, missing, "the answer for another tenant's entry equals the one for no entry");
    assert!(!existing_calls.is_empty(), "the entry lookup is recorded");
    for call in &existing_calls {
        assert!(call.operation.starts_with(DYNAMODB_TARGET_PREFIX), "{call:?}");
        assert!(!call.operation.starts_with(KMS_TARGET_PREFIX), "{call:?}");
        assert!(call.body.contains("TENANT#globex"), "{call:?}");
        assert!(!call.body.contains(&format!("TENANT#{TENANT}")), "{call:?}");
    }
    assert_eq!(operations(&existing_calls), operations(&missing_calls));
    assert_eq!(apple_requests, Some(0), "Apple was not asked");
    assert_eq!(function.raw_partition(TENANT).await, before);
}

/// Collects every string (and number) and every binary value inside `value`.
fn collect_values<'a>(value: &'a AttributeValue, texts: &mut Vec<&'a str>, binaries: &mut Vec<&'a [u8]>) {
    match value {
        AttributeValue::S(text) | AttributeValue::N(text) => texts.push(text),
        AttributeValue::Ss(list) | AttributeValue::Ns(list) => texts.extend(list.iter().map(String::as_str)),
        AttributeValue::B(blob) => binaries.push(blob.as_ref()),
        AttributeValue::Bs(list) => binaries.extend(list.iter().map(|blob| blob.as_ref())),
        AttributeValue::L(list) => list.iter().for_each(|inner| collect_values(inner, texts, binaries)),
        AttributeValue::M(map) => map.values().for_each(|inner| collect_values(inner, texts, binaries)),
        _ => {}
    }
}

/// Adds every private key stored in the function's table, unsealed with KMS, to `secrets`.
async fn add_stored_private_keys(function: &Function, secrets: &mut Secrets) -> usize {
    let keys = function.adapters.store.list_keys(&tenant()).await.expect("list keys");
    for key in &keys {
        let der = function
            .adapters
            .key_vault
            .open_private_key(&tenant(), &key.key_id, &key.sealed_private_key)
            .await
            .expect("unseal the private key");
        secrets.add_private_key(&format!("private key {}", key.key_id), der.expose());
    }
    keys.len()
}

#[tokio::test]
async fn lambda_aws_raw_table_holds_no_secret() {
    let Some(function) = Function::start().await else { return };
    let certificate = function.create_entry("tokyo").await;
    let first = function.issue(&certificate, SIM_SERVER);
    let first_upload = function.invoke(&with_binary_body(fixture("upload-token.json"), &first.file)).await;
    let second = function.issue(&certificate, SIM_SERVER);
    let second_upload = function.invoke(&with_multipart_file(fixture("upload-token-multipart.json"), &second.file)).await;
    let check = function.invoke(&fixture("scope-admin-check.json")).await;

    let items: Vec<Item> = function.raw_table().await;

    let mut secrets = Secrets::default();
    secrets.add_credentials("first token", &function.credentials_of(&first.consumer_key));
    secrets.add_credentials("second token", &function.credentials_of(&second.consumer_key));
    let key_count = add_stored_private_keys(&function, &mut secrets).await;
    let stored = function.server("tokyo").await;
    let sealed = stored.credentials.expect("credentials stored");
    let mut texts = Vec::new();
    let mut binaries = Vec::new();
    for item in &items {
        item.values().for_each(|value| collect_values(value, &mut texts, &mut binaries));
    }
    assert_eq!(first_upload.status, 200, "{}", first_upload.text());
    assert_eq!(second_upload.status, 200, "{}", second_upload.text());
    assert_eq!(check.status, 200, "{}", check.text());
    assert_eq!(items.len(), 4, "an entry, two history rows and a key");
    assert_eq!(key_count, 1);
    assert!(texts.contains(&sealed.access_secret.as_str()), "the sealed credentials are scanned");
    assert!(!binaries.is_empty(), "the sealed private key is scanned");
    for text in &texts {
        assert_eq!(secrets.found_in_text(text), Vec::<String>::new(), "in a string attribute");
    }
    for bytes in &binaries {
        assert_eq!(secrets.found_in_bytes(bytes), Vec::<String>::new(), "in a binary attribute");
        assert_eq!(secrets.found_in_text(&String::from_utf8_lossy(bytes)), Vec::<String>::new(), "in a binary attribute");
    }
}

/// A log writer into a shared buffer.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())).into_owned()
    }
}

/// Runs the upload flow with every outcome the log check covers, and returns every secret
/// the run handled. `None` when moto is not running.
async fn run_logged_flow() -> Option<Secrets> {
    let function = Function::start().await?;
    let certificate = function.create_entry("tokyo").await;
    let mut answers = Vec::new();

    // A new token supersedes the server's earlier ones, so each is issued right before its upload.
    let first = function.issue(&certificate, SIM_SERVER);
    let first_event = with_binary_body(fixture("upload-token.json"), &first.file);
    answers.push(("raw upload", function.invoke(&first_event).await, 200));
    answers.push(("check", function.invoke(&fixture("scope-admin-check.json")).await, 200));
    let second = function.issue(&certificate, SIM_SERVER);
    let second_event = with_multipart_file(fixture("upload-token-multipart.json"), &second.file);
    answers.push(("multipart upload", function.invoke(&second_event).await, 200));
    let limited = function.issue(&certificate, SIM_SERVER);
    function
        .sim
        .simulator
        .set_fault(&limited.consumer_key, FaultKind::RateLimited, 10)
        .expect("the simulator knows the token");
    let limited_event = with_binary_body(fixture("upload-token.json"), &limited.file);
    answers.push(("rate limited", function.invoke(&limited_event).await, 503));
    answers.push(("list", function.invoke(&fixture("list-servers.json")).await, 200));
    for (label, answer, status) in &answers {
        assert_eq!(answer.status, *status, "{label}: {}", answer.text());
    }

    let mut secrets = Secrets::default();
    for (label, token) in [("first token", &first), ("second token", &second), ("rate-limited token", &limited)] {
        secrets.add_credentials(label, &function.credentials_of(&token.consumer_key));
    }
    let session_tokens = function.sim.simulator.session_tokens();
    assert!(session_tokens.len() >= 3, "sessions of two uploads and a check: {}", session_tokens.len());
    for (index, session_token) in session_tokens.iter().enumerate() {
        secrets.add_text(&format!("DEP session token {}", index + 1), session_token.expose());
    }
    add_stored_private_keys(&function, &mut secrets).await;
    secrets.add_text("AWS secret access key", AWS_SECRET_ACCESS_KEY);
    secrets.add_text("AWS session token", AWS_SESSION_TOKEN);
    let bearer = fixture("upload-token.json")["headers"]["authorization"].as_str().unwrap_or_default().to_owned();
    secrets.add_text("JWT", bearer.trim_start_matches("Bearer "));
    let event_body = first_event["body"].as_str().unwrap_or_default();
    secrets.add_text("uploaded body as base64", &event_body[64..128]);
    Some(secrets)
}

/// Runs the whole upload flow with every log event captured as the function writes it, and
/// searches the output for every secret the run handled. The capture uses the production
/// JSON layer at TRACE, so it contains the AWS SDK's DEBUG and TRACE events too. Only the
/// Lambda runtime is capped at DEBUG, and its run loop is not part of an in-process test.
///
/// The flow runs on a runtime of its own whose threads, blocking pool included, all log into
/// the buffer, so that events from spawned tasks and `spawn_blocking` are captured too.
#[test]
fn lambda_aws_logs_hold_no_secret() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::registry().with(deptoken_lambda::logging::json_layer("trace", move || writer.clone()));
    let dispatch = tracing::Dispatch::new(subscriber);
    // NOTE: while only one dispatcher is registered, tracing-core 0.1.36 takes a new callsite's
    // interest from the default of the thread that reaches it first. A parallel test's thread
    // without a subscriber would then disable the callsite for this capture as well. A second
    // live dispatcher makes tracing-core ask every registered dispatcher instead.
    let _second_dispatch = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let thread_dispatch = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            // The guard would reset the thread's default when dropped; these threads keep it.
            std::mem::forget(tracing::dispatcher::set_default(&thread_dispatch));
        })
        .build()
        .expect("build a runtime");
    let guard = tracing::dispatcher::set_default(&dispatch);

    let secrets = runtime.block_on(run_logged_flow());

    drop(guard);
    runtime.shutdown_timeout(Duration::from_secs(5));
    let Some(secrets) = secrets else { return };
    let output = logs.text();
    let leaks: Vec<(String, &str)> = output
        .lines()
        .flat_map(|line| secrets.found_in_text(line).into_iter().map(move |label| (label, line)))
        .collect();
    assert!(secrets.text_count() > 30, "{} secrets", secrets.text_count());
    assert!(output.contains("upload accepted"), "the use case's events are captured");
    assert!(output.contains("token decrypted"), "DEBUG events of the use case are captured");
    assert!(output.contains("aws_smithy_runtime"), "the AWS SDK's events are captured");
    assert!(output.contains("simulator issued a token"), "the simulator's events are captured");
    assert_eq!(leaks, Vec::<(String, &str)>::new(), "secrets in the logs");
}
