//! The DEP client against the DEP simulator on loopback: a token file issued over the
//! control API, decrypted by the token reader, then used as Apple would see it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deptoken_dep_sim::{CONSUMER_KEY_HEADER, RunningSimulator, Simulator, SimulatorConfig, TokenStatus, start_with};
use deptoken_shared::dep::{DepClient, DepClientConfig, DepError, install_crypto_provider};
use deptoken_shared::keys::MdmPrivateKey;
use deptoken_shared::ports::DepApi as _;
use deptoken_shared::secret::SecretText;
use deptoken_shared::token::{EncryptedToken, TokenCredentials};
use serde_json::json;

/// A throwaway test MDM key pair with a negative serial number (see its README).
const CERTIFICATE_PEM: &str = include_str!("../../dep-sim/tests/fixtures/test-mdm.crt.pem");
const PRIVATE_KEY_PEM: &str = include_str!("../../dep-sim/tests/fixtures/test-mdm.key.pem");

/// A simulator with one issued token, its decrypted credentials and a client aimed at it.
struct Fixture {
    sim: RunningSimulator,
    control: reqwest::Client,
    consumer_key: String,
    credentials: TokenCredentials,
    client: DepClient,
}

impl Fixture {
    async fn new() -> Self {
        Self::with(SimulatorConfig::default(), DepClientConfig::default(), &[]).await
    }

    /// Starts a simulator with `sim_config`, issues a token with the `query` parameters and
    /// builds a client with `client_config` whose base URL is the simulator's.
    async fn with(sim_config: SimulatorConfig, client_config: DepClientConfig, query: &[(&str, &str)]) -> Self {
        install_crypto_provider();
        let sim = start_with("127.0.0.1:0", Simulator::new(sim_config)).await.unwrap();
        let control = reqwest::Client::new();

        let response = control
            .post(format!("{}/sim/tokens", sim.base_url))
            .query(query)
            .body(CERTIFICATE_PEM)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "issuing a token");
        let consumer_key = response.headers()[CONSUMER_KEY_HEADER].to_str().unwrap().to_owned();
        let token_file = response.bytes().await.unwrap();

        let credentials = decrypt(&token_file);
        let client = DepClient::new(DepClientConfig {
            base_url: sim.base_url.clone(),
            ..client_config
        })
        .unwrap();

        Self {
            sim,
            control,
            consumer_key,
            credentials,
            client,
        }
    }

    async fn change(&self, body: serde_json::Value) {
        let response = self
            .control
            .put(format!("{}/sim/tokens/{}/state", self.sim.base_url, self.consumer_key))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "changing the token with {body}");
    }

    fn status(&self) -> TokenStatus {
        self.sim.simulator.token_status(&self.consumer_key).unwrap()
    }
}

/// Reads a token file with the token reader and the test MDM key.
fn decrypt(token_file: &[u8]) -> TokenCredentials {
    let token = EncryptedToken::parse(token_file).unwrap();
    let recipient = token.recipients()[0].clone();
    let key = MdmPrivateKey::from_pem(PRIVATE_KEY_PEM).unwrap();
    token.decrypt(&recipient, &key).unwrap()
}

fn is_unavailable(result: &Result<deptoken_shared::model::AccountDetails, DepError>) -> bool {
    matches!(result, Err(DepError::Unavailable { .. }))
}

#[tokio::test]
async fn token_file_decrypts_to_issued_credentials() {
    let fixture = Fixture::new().await;

    let issued = fixture.sim.simulator.credentials_for(&fixture.consumer_key).unwrap();

    assert_eq!(fixture.credentials.consumer_key.expose(), fixture.consumer_key);
    assert_eq!(fixture.credentials.consumer_secret, issued.consumer_secret);
    assert_eq!(fixture.credentials.access_token, issued.access_token);
    assert_eq!(fixture.credentials.access_secret, issued.access_secret);
    assert_eq!(fixture.credentials.access_token_expiry, issued.access_token_expiry);
}

#[tokio::test]
async fn client_returns_account_fields() {
    let query = [
        ("server_name", "東京 MDM"),
        ("org_name", "Example KK"),
        ("admin_id", "dep-admin@example.co.jp"),
    ];
    let fixture = Fixture::with(SimulatorConfig::default(), DepClientConfig::default(), &query).await;

    let account = fixture.client.fetch_account(&fixture.credentials).await.unwrap();

    assert_eq!(account.server_name, "東京 MDM");
    assert_eq!(account.server_uuid, fixture.status().server_uuid);
    assert_eq!(account.org_name.as_deref(), Some("Example KK"));
    assert_eq!(account.admin_id.as_deref(), Some("dep-admin@example.co.jp"));
    assert_eq!(account.org_type.as_deref(), Some("org"));
    assert!(account.org_id.is_some());
}

#[tokio::test]
async fn client_maps_each_token_state() {
    let fixture = Fixture::new().await;
    let cases = [
        ("expired", DepError::TokenExpired),
        ("revoked", DepError::TokenRejected),
        ("superseded", DepError::TokenSuperseded),
        ("account_deleted", DepError::AccountInvalid),
        ("terms_not_accepted", DepError::TermsNotAccepted),
        ("server_inactive", DepError::ServerInactive),
    ];

    for (state, expected) in cases {
        fixture.change(json!({ "state": state })).await;

        let result = fixture.client.fetch_account(&fixture.credentials).await;

        assert_eq!(result.unwrap_err(), expected, "{state}");
    }
}

#[tokio::test]
async fn client_recovers_after_terms_accepted() {
    let fixture = Fixture::new().await;
    fixture.change(json!({ "state": "terms_not_accepted" })).await;
    let blocked = fixture.client.fetch_account(&fixture.credentials).await;

    fixture.change(json!({ "state": "active" })).await;
    let accepted = fixture.client.fetch_account(&fixture.credentials).await;

    assert_eq!(blocked.unwrap_err(), DepError::TermsNotAccepted);
    assert!(accepted.is_ok());
}

#[tokio::test]
async fn client_sees_expiry_by_date() {
    let query = [("expires_at", "2020-01-17T11:02:21Z")];
    let fixture = Fixture::with(SimulatorConfig::default(), DepClientConfig::default(), &query).await;

    let result = fixture.client.fetch_account(&fixture.credentials).await;

    assert_eq!(result.unwrap_err(), DepError::TokenExpired);
}

#[tokio::test]
async fn client_rejected_for_unknown_token() {
    let fixture = Fixture::new().await;
    let unknown = TokenCredentials {
        consumer_key: SecretText::new("CK_unknown"),
        ..fixture.credentials.clone()
    };

    let result = fixture.client.fetch_account(&unknown).await;

    assert_eq!(result.unwrap_err(), DepError::TokenRejected);
}

#[tokio::test]
async fn client_rate_limited_reads_retry_after() {
    let fixture = Fixture::new().await;
    fixture.change(json!({ "fault": "rate_limited", "count": 1 })).await;

    let result = fixture.client.fetch_account(&fixture.credentials).await;

    assert_eq!(result.unwrap_err(), DepError::RateLimited { retry_after: Some(1) });
}

#[tokio::test]
async fn client_unavailable_on_503() {
    let fixture = Fixture::new().await;
    fixture.change(json!({ "fault": "unavailable", "count": 1 })).await;

    let result = fixture.client.fetch_account(&fixture.credentials).await;
    let retried = fixture.client.fetch_account(&fixture.credentials).await;

    assert!(is_unavailable(&result), "{result:?}");
    assert!(retried.is_ok(), "the fault covers one request only: {retried:?}");
}

#[tokio::test]
async fn client_unavailable_on_timeout() {
    let sim_config = SimulatorConfig {
        timeout_delay: Duration::from_secs(2),
        ..SimulatorConfig::default()
    };
    let client_config = DepClientConfig {
        request_timeout: Duration::from_millis(300),
        ..DepClientConfig::default()
    };
    let fixture = Fixture::with(sim_config, client_config, &[]).await;
    fixture.change(json!({ "fault": "timeout", "count": 1 })).await;
    let started = Instant::now();

    let result = fixture.client.fetch_account(&fixture.credentials).await;

    assert!(is_unavailable(&result), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn client_reauthenticates_once_after_401() {
    let fixture = Fixture::new().await;
    fixture.change(json!({ "fault": "session_expired", "count": 1 })).await;

    let result = fixture.client.fetch_account(&fixture.credentials).await;

    let requests = fixture.status().requests;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(requests.sessions_opened, 2);
    assert_eq!(requests.account_requests, 2);
    assert_eq!(requests.accounts_served, 1);
}

#[tokio::test]
async fn client_gives_up_after_second_401() {
    let fixture = Fixture::new().await;
    fixture.change(json!({ "fault": "session_expired", "count": 2 })).await;

    let result = fixture.client.fetch_account(&fixture.credentials).await;

    let requests = fixture.status().requests;
    assert_eq!(result.unwrap_err(), DepError::TokenRejected);
    assert_eq!(requests.sessions_opened, 2);
    assert_eq!(requests.account_requests, 2);
}

#[tokio::test]
async fn client_follows_session_rotation() {
    let fixture = Fixture::new().await;
    let mut session = fixture.client.open_session(&fixture.credentials).await.unwrap();

    let first = session.account().await;
    let second = session.account().await;
    let third = session.account().await;

    let requests = fixture.status().requests;
    assert!(first.is_ok(), "{first:?}");
    assert!(second.is_ok(), "{second:?}");
    assert!(third.is_ok(), "{third:?}");
    assert_eq!(requests.sessions_opened, 1, "a rotated-out session token was reused");
    assert_eq!(requests.accounts_served, 3);
    assert_eq!(requests.stale_session_rejections, 0);
}

/// A `tracing` writer that keeps everything written to it.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// A current-thread runtime keeps the simulator's tasks on this thread, where the capturing
// subscriber is the default.
#[tokio::test(flavor = "current_thread")]
async fn logs_never_contain_credentials() {
    let log = CapturedLog::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fixture = Fixture::new().await;
    fixture.client.fetch_account(&fixture.credentials).await.unwrap();
    fixture.change(json!({ "fault": "session_expired", "count": 1 })).await;
    fixture.client.fetch_account(&fixture.credentials).await.unwrap();
    fixture.change(json!({ "state": "revoked" })).await;
    let _ = fixture.client.fetch_account(&fixture.credentials).await;

    let text = log.text();
    let credentials = &fixture.credentials;
    assert!(text.contains(&credentials.consumer_key_fingerprint()), "the log was not captured");
    assert!(!text.contains(credentials.consumer_key.expose()));
    assert!(!text.contains(credentials.consumer_secret.expose()));
    assert!(!text.contains(credentials.access_token.expose()));
    assert!(!text.contains(credentials.access_secret.expose()));
    assert!(!text.contains("OAuth realm"));
}
