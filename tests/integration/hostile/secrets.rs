//! Secrets never leave through logs, API responses or `Debug`: every log line of an upload, a check,
//! a rotation and failed uploads (TRACE for deptoken crates, DEBUG for dependencies) and every
//! API response is searched for each credential, session token and private key the test made.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use deptoken_shared::clock::Clock;
use deptoken_shared::dep::DepClient;
use deptoken_shared::domain::{KeyId, ServerName};
use deptoken_shared::keys::{MdmPrivateKey, generate_mdm_key};
use deptoken_shared::ports::Store;
use deptoken_shared::secret::{SecretBytes, SecretText};
use deptoken_shared::token::TokenCredentials;
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

use super::{
    Answer, BOUNDARY, admin_app, der_to_pem, empty_request, json_request, multipart_body,
    raw_upload, send,
};
use crate::harness::{Harness, admin, tenant};
use crate::support::moto::Moto;

/// A log sink shared by every thread of the test binary. It keeps what is written until
/// [`Buffer::stop`], then drops further writes so that later suites do not fill memory.
#[derive(Clone, Default)]
struct Buffer {
    bytes: Arc<Mutex<Vec<u8>>>,
    stopped: Arc<AtomicBool>,
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }
}

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if !self.stopped.load(Ordering::SeqCst) {
            self.bytes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// TRACE for every deptoken crate, DEBUG for the dependencies (hyper, reqwest, rustls, axum…).
const LOG_FILTER: &str = "debug,deptoken_shared=trace,deptoken_api=trace,deptoken_embedded=trace,\
                          deptoken_dep_sim=trace,deptoken_aws=trace,deptoken_lambda=trace,token_upload=trace";

/// Installs, once per test binary, a global subscriber that writes every event and span (with
/// its fields, on open and close) into one buffer, in the plain and the JSON format, and
/// returns that buffer. A global subscriber sees every thread of every suite running in the
/// binary; per-thread subscribers miss events of callsites other threads registered first.
fn global_capture() -> &'static Buffer {
    static CAPTURE: OnceLock<Buffer> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        use tracing_subscriber::layer::SubscriberExt as _;

        let buffer = Buffer::default();
        let plain = tracing_subscriber::fmt::layer()
            .with_writer(buffer.clone())
            .with_ansi(false)
            .with_span_events(FmtSpan::FULL);
        let json = tracing_subscriber::fmt::layer()
            .json()
            .with_writer(buffer.clone())
            .with_current_span(true)
            .with_span_list(true);
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new(LOG_FILTER))
            .with(plain)
            .with(json);
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the test binary");
        buffer
    })
}

/// A credential prefix, the length of what follows it, and the bytes allowed there.
type CredentialShape = (&'static str, usize, fn(u8) -> bool);

/// Finds credential-shaped text as the DEP simulator makes it (`CK_` + 96 hex digits,
/// `CS_`/`AS_` + 40, `AT_O` + 10 digits), whatever suite's token it came from.
fn credential_shapes(text: &str) -> usize {
    let shapes: [CredentialShape; 4] = [
        ("CK_", 96, |b| b.is_ascii_hexdigit()),
        ("CS_", 40, |b| b.is_ascii_hexdigit()),
        ("AS_", 40, |b| b.is_ascii_hexdigit()),
        ("AT_O", 10, |b| b.is_ascii_digit()),
    ];
    let mut found = 0;
    for (prefix, length, accepts) in shapes {
        for (position, _) in text.match_indices(prefix) {
            let rest = &text.as_bytes()[position + prefix.len()..];
            found +=
                usize::from(rest.len() >= length && rest[..length].iter().all(|b| accepts(*b)));
        }
    }
    found
}

/// Every form of a secret that could appear in text: the value itself, and for key material
/// its base64 (whole and per PEM line) and hex.
#[derive(Default)]
struct Secrets {
    values: Vec<(String, String)>,
}

impl Secrets {
    fn text(&mut self, label: &str, value: &str) {
        if value.len() >= 8 {
            self.values.push((label.to_owned(), value.to_owned()));
        }
    }

    fn credentials(&mut self, label: &str, credentials: &TokenCredentials) {
        self.text(
            &format!("{label} consumer_key"),
            credentials.consumer_key.expose(),
        );
        self.text(
            &format!("{label} consumer_secret"),
            credentials.consumer_secret.expose(),
        );
        self.text(
            &format!("{label} access_token"),
            credentials.access_token.expose(),
        );
        self.text(
            &format!("{label} access_secret"),
            credentials.access_secret.expose(),
        );
    }

    fn key(&mut self, label: &str, pkcs8_der: &[u8]) {
        let pem = der_to_pem("PRIVATE KEY", pkcs8_der);
        for (index, line) in pem.lines().filter(|l| !l.starts_with("-----")).enumerate() {
            self.text(&format!("{label} PEM line {index}"), line);
        }
        let encoded = BASE64.encode(pkcs8_der);
        self.text(&format!("{label} base64"), &encoded);
        // Any 48-byte window of the key as hex, upper and lower case.
        for (index, chunk) in pkcs8_der.chunks(48).enumerate() {
            let lower: String = chunk.iter().map(|b| format!("{b:02x}")).collect();
            self.text(&format!("{label} hex chunk {index}"), &lower);
            self.text(&format!("{label} HEX chunk {index}"), &lower.to_uppercase());
        }
    }

    /// Returns the labels of the secrets found in `text`.
    fn found_in(&self, text: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(_, value)| text.contains(value.as_str()))
            .map(|(label, _)| label.clone())
            .collect()
    }
}

struct Run {
    answers: Vec<Answer>,
    consumer_keys: Vec<String>,
    key_ids: Vec<String>,
}

/// The scenario whose logs are searched: uploads raw and as a form, a check, a rotation with
/// an upload for the staged key, and uploads Apple rejects, rate-limits or fails.
async fn scenario(harness: &Harness, app: &Router) -> Run {
    let mut answers = Vec::new();
    let mut consumer_keys = Vec::new();

    answers.push(
        send(
            app,
            json_request(
                Method::POST,
                "/v1/servers",
                &json!({"name": "tokyo", "display_name": "Tokyo"}),
            ),
        )
        .await,
    );
    let certificate = send(
        app,
        empty_request(Method::GET, "/v1/servers/tokyo/certificate"),
    )
    .await;
    let certificate = certificate.text();

    let first = harness.issue_token(&certificate, &[]).await;
    consumer_keys.push(first.consumer_key.clone());
    answers.push(
        send(
            app,
            raw_upload(
                "/v1/servers/tokyo/token?note=abm%40acme.example",
                "application/pkcs7-mime",
                first.file,
            ),
        )
        .await,
    );
    harness.tick();

    let second = harness.issue_token(&certificate, &[]).await;
    consumer_keys.push(second.consumer_key.clone());
    let form = multipart_body(&[
        ("file", second.file.as_slice()),
        ("note", b"abm@acme.example"),
    ]);
    answers.push(
        send(
            app,
            raw_upload(
                "/v1/servers/tokyo/token",
                &format!("multipart/form-data; boundary={BOUNDARY}"),
                form,
            ),
        )
        .await,
    );
    harness.tick();

    answers.push(send(app, empty_request(Method::POST, "/v1/servers/tokyo/check")).await);
    harness.tick();

    let rotated = send(
        app,
        empty_request(Method::POST, "/v1/servers/tokyo/certificate/rotate"),
    )
    .await;
    let staged_certificate = rotated.json()["certificate_pem"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    answers.push(rotated);
    let for_staged = harness.issue_token(&staged_certificate, &[]).await;
    consumer_keys.push(for_staged.consumer_key.clone());
    answers.push(
        send(
            app,
            raw_upload(
                "/v1/servers/tokyo/token",
                "application/pkcs7-mime",
                for_staged.file,
            ),
        )
        .await,
    );
    harness.tick();

    for change in [
        json!({"state": "revoked"}),
        json!({"fault": "rate_limited", "count": 5}),
        json!({"fault": "unavailable", "count": 5}),
    ] {
        let token = harness.issue_token(&staged_certificate, &[]).await;
        consumer_keys.push(token.consumer_key.clone());
        harness.set_sim(&token.consumer_key, change).await;
        answers.push(
            send(
                app,
                raw_upload(
                    "/v1/servers/tokyo/token",
                    "application/pkcs7-mime",
                    token.file,
                ),
            )
            .await,
        );
    }
    let crafted = deptoken_dep_sim::issue_token_file(
        &staged_certificate,
        r#"{"consumer_key":"CK_crafted_secret_1","consumer_secret":"CS_crafted_secret_1","access_token":"AT_crafted_secret_1","access_secret":"AS_crafted_secret_1","access_token_expiry":"bad date"}"#,
    )
    .expect("issue a crafted token");
    answers.push(
        send(
            app,
            raw_upload(
                "/v1/servers/tokyo/token",
                "application/pkcs7-mime",
                crafted.into_bytes(),
            ),
        )
        .await,
    );
    answers.push(send(app, empty_request(Method::GET, "/v1/servers")).await);
    answers.push(send(app, empty_request(Method::GET, "/v1/servers/tokyo")).await);
    answers.push(send(app, empty_request(Method::GET, "/v1/servers/tokyo/history")).await);

    let keys = harness.store.list_keys(&tenant()).await;
    let key_ids = keys
        .map(|keys| {
            keys.into_iter()
                .map(|k| k.key_id.as_str().to_owned())
                .collect()
        })
        .unwrap_or_default();
    Run {
        answers,
        consumer_keys,
        key_ids,
    }
}

/// Collects every secret of the run: the four credentials of each token, the DEP session
/// tokens the simulator handed out, and each MDM private key, opened from the vault.
async fn secrets_of(harness: &Harness, run: &Run) -> Secrets {
    let mut secrets = Secrets::default();
    for (index, consumer_key) in run.consumer_keys.iter().enumerate() {
        let credentials = harness
            .sim
            .simulator
            .credentials_for(consumer_key)
            .expect("the simulator knows the token");
        secrets.credentials(&format!("token {index}"), &credentials);
    }
    for (index, session) in harness.sim.simulator.session_tokens().iter().enumerate() {
        secrets.text(&format!("session token {index}"), session.expose());
    }
    for suffix in [
        "CK_crafted_secret_1",
        "CS_crafted_secret_1",
        "AT_crafted_secret_1",
        "AS_crafted_secret_1",
    ] {
        secrets.text("crafted payload", suffix);
    }
    for key in harness.store.list_keys(&tenant()).await.expect("list keys") {
        let opened = harness
            .services
            .vault
            .open_private_key(&tenant(), &key.key_id, &key.sealed_private_key)
            .await
            .expect("open a key");
        secrets.key(&format!("private key {}", key.key_id), opened.expose());
    }
    secrets
}

#[tokio::test]
async fn secrets_absent_from_logs_and_answers() {
    let buffer = global_capture();
    let harness = Harness::start().await;
    let app = admin_app(&harness);

    let run = scenario(&harness, &app).await;

    let secrets = secrets_of(&harness, &run).await;
    let logs = buffer.text();
    buffer.stop();
    if let Some(path) = std::env::var_os("DEPTOKEN_SECRETS_LOG") {
        std::fs::write(path, &logs).expect("write the captured log");
    }
    let in_logs = secrets.found_in(&logs);
    let mut in_answers = Vec::new();
    for answer in &run.answers {
        in_answers.extend(secrets.found_in(&answer.text()));
    }
    let log_lines = logs.lines().count();
    let shapes = credential_shapes(&logs);
    eprintln!(
        "hostile secrets: {} secrets, {log_lines} log lines of all suites so far, {} answers, {} hits in logs, \
         {} hits in answers, {shapes} credential-shaped strings",
        secrets.values.len(),
        run.answers.len(),
        in_logs.len(),
        in_answers.len()
    );
    assert!(
        secrets.values.len() > 40,
        "the scan has secrets to look for"
    );
    assert!(
        logs.contains("upload accepted"),
        "the capture saw the upload use case"
    );
    assert!(
        logs.contains("DEBUG") || logs.contains("\"level\":\"DEBUG\""),
        "the capture saw DEBUG events"
    );
    assert!(run.key_ids.len() >= 2, "a rotation made a second key");
    assert_eq!(in_logs, Vec::<String>::new(), "secrets in the logs");
    assert_eq!(in_answers, Vec::<String>::new(), "secrets in API answers");
    assert_eq!(shapes, 0, "credential-shaped text in the logs");
}

#[tokio::test]
async fn secrets_debug_prints_placeholders() {
    let harness = Harness::start().await;
    let server = ServerName::parse("debug").expect("valid name");
    let generated =
        generate_mdm_key(&tenant(), &server, harness.clock.now()).expect("generate a key");
    let pkcs8 = generated
        .private_key
        .to_pkcs8_der()
        .expect("encode the key");
    let reread = MdmPrivateKey::from_pkcs8_der(pkcs8.expose()).expect("read the key back");
    let certificate = {
        harness
            .services
            .create_server(&admin(), "tokyo", "Tokyo")
            .await
            .expect("create");
        harness
            .services
            .certificate(&admin(), "tokyo")
            .await
            .expect("certificate")
            .certificate_pem
    };
    let token = harness.issue_token(&certificate, &[]).await;
    let credentials = harness
        .sim
        .simulator
        .credentials_for(&token.consumer_key)
        .expect("credentials");
    let mut secrets = Secrets::default();
    secrets.credentials("token", &credentials);
    secrets.key("generated key", pkcs8.expose());
    secrets.text("secret text", "CS_debug_placeholder_check");
    let secret_text = SecretText::new("CS_debug_placeholder_check");
    let secret_bytes = SecretBytes::new(pkcs8.expose().to_vec());
    let local_vault =
        deptoken_embedded::LocalKeyVault::open(harness.dir.path()).expect("open the vault");
    let dep_client = DepClient::new(deptoken_shared::dep::DepClientConfig {
        base_url: harness.sim.base_url.clone(),
        ..Default::default()
    })
    .expect("DEP client");
    let mut session = dep_client
        .open_session(&credentials)
        .await
        .expect("open a DEP session");
    session.account().await.expect("read the account");
    for (index, session_token) in harness.sim.simulator.session_tokens().iter().enumerate() {
        secrets.text(&format!("session token {index}"), session_token.expose());
    }
    let mut printed = vec![
        ("TokenCredentials", format!("{credentials:?}")),
        ("MdmPrivateKey", format!("{:?}", generated.private_key)),
        ("MdmPrivateKey read back", format!("{reread:?}")),
        ("GeneratedKey", format!("{generated:?}")),
        ("SecretText", format!("{secret_text:?} {secret_text}")),
        ("SecretBytes", format!("{secret_bytes:?}")),
        ("LocalKeyVault", format!("{local_vault:?}")),
        ("DepSession", format!("{session:?}")),
    ];
    if let Some(moto) = Moto::connect().await {
        let (adapters, _config) = moto.fresh_adapters().await;
        let key_id = KeyId::parse("debug-key").expect("valid key id");
        let sealed = deptoken_shared::ports::KeyVault::seal_private_key(
            &adapters.key_vault,
            &tenant(),
            &key_id,
            &pkcs8,
        )
        .await
        .expect("seal");
        deptoken_shared::ports::KeyVault::open_private_key(
            &adapters.key_vault,
            &tenant(),
            &key_id,
            &sealed,
        )
        .await
        .expect("open into the cache");
        printed.push((
            "KmsKeyVault with a cached key",
            format!("{:?}", adapters.key_vault),
        ));
        printed.push(("KmsCredentialSealer", format!("{:?}", adapters.sealer)));
    }

    for (label, text) in &printed {
        assert_eq!(
            secrets.found_in(text),
            Vec::<String>::new(),
            "{label}: {text}"
        );
    }
    eprintln!(
        "hostile secrets: Debug of {} secret-bearing values, 0 secrets printed",
        printed.len()
    );
}
