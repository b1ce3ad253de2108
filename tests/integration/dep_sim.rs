//! The DEP simulator at the wire: hand-signed `/session` requests, session rotation on
//! `/account`, the control API, and its token files read by OpenSSL.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, TimeZone as _, Utc};
use deptoken_dep_sim::{CONSUMER_KEY_HEADER, RunningSimulator, Simulator, SimulatorConfig, start_with};
use deptoken_shared::clock::FixedClock;
use deptoken_shared::dep::{SESSION_HEADER, install_crypto_provider, oauth};
use deptoken_shared::domain::{ServerName, TenantId};
use deptoken_shared::keys::generate_mdm_key;
use deptoken_shared::secret::SecretText;
use deptoken_shared::token::TokenCredentials;
use serde_json::{Value, json};

use crate::support::openssl_available;

const CERTIFICATE_PEM: &str = include_str!("../../dep-sim/tests/fixtures/test-mdm.crt.pem");
const USER_AGENT: &str = "deptoken-tests/1";

/// Returns the simulator's fixed time in these tests. OAuth timestamps are chosen relative to it.
fn sim_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 3, 0, 0).unwrap()
}

fn now_seconds() -> u64 {
    sim_now().timestamp() as u64
}

/// A simulator on loopback with a fixed clock and a plain HTTP client (no User-Agent).
struct Sim {
    running: RunningSimulator,
    http: reqwest::Client,
}

impl Sim {
    async fn start() -> Self {
        install_crypto_provider();
        let config = SimulatorConfig {
            clock: Arc::new(FixedClock::new(sim_now())),
            ..SimulatorConfig::default()
        };
        let running = start_with("127.0.0.1:0", Simulator::new(config)).await.unwrap();
        Self {
            running,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url)
    }

    /// Issues a token for `server_name` over the control API and returns its consumer key.
    async fn issue(&self, certificate_pem: &str, server_name: &str) -> String {
        let response = self
            .http
            .post(self.url("/sim/tokens"))
            .query(&[("server_name", server_name)])
            .body(certificate_pem.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "issuing a token");
        response.headers()[CONSUMER_KEY_HEADER].to_str().unwrap().to_owned()
    }

    fn credentials(&self, consumer_key: &str) -> TokenCredentials {
        self.running.simulator.credentials_for(consumer_key).unwrap()
    }

    /// `GET /session` signed with `credentials` for `signed_url`, sent to the simulator.
    async fn session_signed_for(
        &self,
        credentials: &TokenCredentials,
        signed_url: &str,
        timestamp: u64,
        nonce: &str,
    ) -> (u16, String) {
        let authorization = oauth::authorization_header(credentials, signed_url, timestamp, nonce);
        let response = self
            .http
            .get(self.url("/session"))
            .header("Authorization", authorization.expose())
            .header("User-Agent", USER_AGENT)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn session(&self, credentials: &TokenCredentials, timestamp: u64, nonce: &str) -> (u16, String) {
        self.session_signed_for(credentials, &self.url("/session"), timestamp, nonce).await
    }

    /// Opens a session and returns its token.
    async fn session_token(&self, credentials: &TokenCredentials) -> String {
        let (status, body) = self.session(credentials, now_seconds(), &oauth::new_nonce()).await;
        assert_eq!(status, 200, "opening a session: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        body["auth_session_token"].as_str().unwrap().to_owned()
    }

    /// `GET /account` with `session`; returns the status and the rotated session token.
    async fn account(&self, session: &str) -> (u16, Option<String>) {
        let response = self
            .http
            .get(self.url("/account"))
            .header(SESSION_HEADER, session)
            .header("User-Agent", USER_AGENT)
            .send()
            .await
            .unwrap();
        let rotated = response
            .headers()
            .get(SESSION_HEADER)
            .map(|value| value.to_str().unwrap().to_owned());
        (response.status().as_u16(), rotated)
    }

    async fn put_state(&self, consumer_key: &str, body: &str) -> u16 {
        let response = self
            .http
            .put(self.url(&format!("/sim/tokens/{consumer_key}/state")))
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }

    async fn get_status(&self, consumer_key: &str) -> (u16, String) {
        let response = self
            .http
            .get(self.url(&format!("/sim/tokens/{consumer_key}")))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

#[tokio::test]
async fn session_accepts_signed_request() {
    let sim = Sim::start().await;
    let credentials = sim.credentials(&sim.issue(CERTIFICATE_PEM, "Sim").await);

    let (status, body) = sim.session(&credentials, now_seconds(), "nonce-accepted-0001").await;

    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200);
    assert!(body["auth_session_token"].as_str().is_some_and(|token| !token.is_empty()));
}

#[tokio::test]
async fn session_rejects_reused_nonce() {
    let sim = Sim::start().await;
    let credentials = sim.credentials(&sim.issue(CERTIFICATE_PEM, "Sim").await);

    let (first, _) = sim.session(&credentials, now_seconds(), "nonce-reused-0001").await;
    let (second, body) = sim.session(&credentials, now_seconds(), "nonce-reused-0001").await;

    assert_eq!(first, 200);
    assert_eq!(second, 401);
    assert_eq!(body, "UNAUTHORIZED");
}

#[tokio::test]
async fn session_checks_timestamp_skew() {
    let sim = Sim::start().await;
    let credentials = sim.credentials(&sim.issue(CERTIFICATE_PEM, "Sim").await);
    let cases = [
        ("10 minutes behind", now_seconds() - 600, 401),
        ("301 seconds behind", now_seconds() - 301, 401),
        ("301 seconds ahead", now_seconds() + 301, 401),
        ("300 seconds behind", now_seconds() - 300, 200),
        ("300 seconds ahead", now_seconds() + 300, 200),
    ];

    for (label, timestamp, expected) in cases {
        let (status, _) = sim.session(&credentials, timestamp, &oauth::new_nonce()).await;

        assert_eq!(status, expected, "{label}");
    }
}

#[tokio::test]
async fn session_rejects_wrong_signature() {
    let sim = Sim::start().await;
    let credentials = sim.credentials(&sim.issue(CERTIFICATE_PEM, "Sim").await);
    let wrong_consumer_secret = TokenCredentials {
        consumer_secret: SecretText::new("CS_wrong"),
        ..credentials.clone()
    };
    let wrong_access_secret = TokenCredentials {
        access_secret: SecretText::new("AS_wrong"),
        ..credentials.clone()
    };
    let other_host_url = sim.url("/session").replace("127.0.0.1", "localhost");

    let (consumer_status, _) = sim.session(&wrong_consumer_secret, now_seconds(), &oauth::new_nonce()).await;
    let (access_status, _) = sim.session(&wrong_access_secret, now_seconds(), &oauth::new_nonce()).await;
    let (url_status, _) = sim
        .session_signed_for(&credentials, &other_host_url, now_seconds(), &oauth::new_nonce())
        .await;

    assert_eq!(consumer_status, 401);
    assert_eq!(access_status, 401);
    assert_eq!(url_status, 401);
}

#[tokio::test]
async fn session_rejects_unknown_consumer_key() {
    let sim = Sim::start().await;
    let credentials = sim.credentials(&sim.issue(CERTIFICATE_PEM, "Sim").await);
    let unknown = TokenCredentials {
        consumer_key: SecretText::new("CK_unknown"),
        ..credentials
    };

    let (status, body) = sim.session(&unknown, now_seconds(), &oauth::new_nonce()).await;

    assert_eq!(status, 401);
    assert_eq!(body, "UNAUTHORIZED");
}

#[tokio::test]
async fn session_requires_user_agent() {
    let sim = Sim::start().await;
    let credentials = sim.credentials(&sim.issue(CERTIFICATE_PEM, "Sim").await);
    let authorization = oauth::authorization_header(&credentials, &sim.url("/session"), now_seconds(), &oauth::new_nonce());

    let response = sim
        .http
        .get(sim.url("/session"))
        .header("Authorization", authorization.expose())
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 400);
    assert_eq!(response.text().await.unwrap(), "USER_AGENT_MISSING");
}

#[tokio::test]
async fn session_rejects_malformed_oauth_header() {
    let sim = Sim::start().await;

    let response = sim
        .http
        .get(sim.url("/session"))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .header("User-Agent", USER_AGENT)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("oauth_problem"));
}

#[tokio::test]
async fn account_rotates_session_token() {
    let sim = Sim::start().await;
    let credentials = sim.credentials(&sim.issue(CERTIFICATE_PEM, "Sim").await);
    let first_session = sim.session_token(&credentials).await;

    let (first_status, rotated) = sim.account(&first_session).await;
    let rotated = rotated.expect("a rotated session token");
    let (stale_status, _) = sim.account(&first_session).await;
    let (rotated_status, _) = sim.account(&rotated).await;

    assert_eq!(first_status, 200);
    assert_ne!(rotated, first_session);
    assert_eq!(stale_status, 401);
    assert_eq!(rotated_status, 200);
}

#[tokio::test]
async fn account_requires_session() {
    let sim = Sim::start().await;

    let missing = sim
        .http
        .get(sim.url("/account"))
        .header("User-Agent", USER_AGENT)
        .send()
        .await
        .unwrap()
        .status();
    let (unknown, _) = sim.account("not-a-session").await;

    assert_eq!(missing, 401);
    assert_eq!(unknown, 401);
}

#[tokio::test]
async fn second_token_supersedes_first() {
    let sim = Sim::start().await;
    let first = sim.issue(CERTIFICATE_PEM, "Tokyo").await;

    let second = sim.issue(CERTIFICATE_PEM, "Tokyo").await;

    let (_, first_status) = sim.get_status(&first).await;
    let first_status: Value = serde_json::from_str(&first_status).unwrap();
    let (first_session, body) = sim.session(&sim.credentials(&first), now_seconds(), &oauth::new_nonce()).await;
    let (second_session, _) = sim.session(&sim.credentials(&second), now_seconds(), &oauth::new_nonce()).await;
    assert_eq!(first_status["state"], "superseded");
    assert_eq!(first_session, 403);
    assert_eq!(body, "signature_invalid");
    assert_eq!(second_session, 200);
}

#[tokio::test]
async fn state_changes_apple_responses() {
    let sim = Sim::start().await;
    let consumer_key = sim.issue(CERTIFICATE_PEM, "Sim").await;
    let credentials = sim.credentials(&consumer_key);
    let cases = [
        ("expired", 403, "token_expiredForbidden"),
        ("revoked", 403, "token_rejectedForbidden"),
        ("superseded", 403, "signature_invalid"),
        ("account_deleted", 403, "FORBIDDEN"),
        ("server_inactive", 403, "SERVER_INACTIVE"),
        ("terms_not_accepted", 200, ""),
        ("active", 200, ""),
    ];

    for (state, expected_status, expected_body) in cases {
        let changed = sim.put_state(&consumer_key, &json!({ "state": state }).to_string()).await;

        let (status, body) = sim.session(&credentials, now_seconds(), &oauth::new_nonce()).await;

        assert_eq!(changed, 200, "{state}");
        assert_eq!(status, expected_status, "{state}");
        if expected_status == 403 {
            assert_eq!(body, expected_body, "{state}");
        }
    }
}

#[tokio::test]
async fn faults_respond_then_clear() {
    let sim = Sim::start().await;
    let consumer_key = sim.issue(CERTIFICATE_PEM, "Sim").await;
    let credentials = sim.credentials(&consumer_key);
    sim.put_state(&consumer_key, r#"{"fault": "rate_limited", "count": 2}"#).await;

    let (first, _) = sim.session(&credentials, now_seconds(), &oauth::new_nonce()).await;
    let (second, _) = sim.session(&credentials, now_seconds(), &oauth::new_nonce()).await;
    let (third, _) = sim.session(&credentials, now_seconds(), &oauth::new_nonce()).await;

    assert_eq!(first, 429);
    assert_eq!(second, 429);
    assert_eq!(third, 200);
}

#[tokio::test]
async fn control_unknown_consumer_key_is_404() {
    let sim = Sim::start().await;

    let (get_status, _) = sim.get_status("CK_unknown").await;
    let put_status = sim.put_state("CK_unknown", r#"{"state": "revoked"}"#).await;

    assert_eq!(get_status, 404);
    assert_eq!(put_status, 404);
}

#[tokio::test]
async fn control_rejects_bad_state_bodies() {
    let sim = Sim::start().await;
    let consumer_key = sim.issue(CERTIFICATE_PEM, "Sim").await;
    let cases = [
        ("not json", "revoked"),
        ("empty object", "{}"),
        ("unknown state", r#"{"state": "melted"}"#),
        ("unknown fault", r#"{"fault": "meteor"}"#),
        ("state and fault", r#"{"state": "active", "fault": "timeout"}"#),
        ("count with state", r#"{"state": "active", "count": 2}"#),
        ("negative count", r#"{"fault": "timeout", "count": -1}"#),
        ("unknown field", r#"{"state": "active", "extra": 1}"#),
    ];

    for (label, body) in cases {
        let status = sim.put_state(&consumer_key, body).await;

        assert_eq!(status, 400, "{label}");
    }
}

#[tokio::test]
async fn control_rejects_bad_issue_requests() {
    let sim = Sim::start().await;
    let cases = [
        ("not a certificate", "hello", vec![]),
        ("bad expiry", CERTIFICATE_PEM, vec![("expires_at", "next year")]),
        ("empty server name", CERTIFICATE_PEM, vec![("server_name", "")]),
    ];

    for (label, body, query) in cases {
        let response = sim
            .http
            .post(sim.url("/sim/tokens"))
            .query(&query)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 400, "{label}");
    }
}

#[tokio::test]
async fn control_issue_responds_like_abm_download() {
    let sim = Sim::start().await;

    let response = sim
        .http
        .post(sim.url("/sim/tokens"))
        .query(&[("server_name", "Tokyo")])
        .body(CERTIFICATE_PEM)
        .send()
        .await
        .unwrap();

    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    assert_eq!(headers["content-type"], "application/pkcs7-mime; smime-type=enveloped-data");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"Tokyo_Token_2026-04-01T03-00-00Z_smime.p7m\""
    );
    assert!(body.starts_with("Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data\n"));
}

#[tokio::test]
async fn control_status_has_no_secrets() {
    let sim = Sim::start().await;
    let consumer_key = sim.issue(CERTIFICATE_PEM, "Sim").await;
    let credentials = sim.credentials(&consumer_key);

    let (status, body) = sim.get_status(&consumer_key).await;

    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200);
    assert_eq!(json["state"], "active");
    assert_eq!(json["consumer_key_fingerprint"], credentials.consumer_key_fingerprint());
    assert!(!body.contains(credentials.consumer_key.expose()));
    assert!(!body.contains(credentials.consumer_secret.expose()));
    assert!(!body.contains(credentials.access_token.expose()));
    assert!(!body.contains(credentials.access_secret.expose()));
}

/// PEM armour for a PKCS#8 DER private key.
fn private_key_pem(pkcs8_der: &[u8]) -> String {
    let encoded = BASE64.encode(pkcs8_der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

#[tokio::test]
async fn token_file_decrypts_with_openssl() {
    if !openssl_available() {
        return;
    }
    let sim = Sim::start().await;
    let generated = generate_mdm_key(
        &TenantId::parse("acme").unwrap(),
        &ServerName::parse("tokyo").unwrap(),
        Utc::now(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.pem");
    let cert_path = dir.path().join("cert.pem");
    let token_path = dir.path().join("token_smime.p7m");
    std::fs::write(&key_path, private_key_pem(generated.private_key.to_pkcs8_der().unwrap().expose())).unwrap();
    std::fs::write(&cert_path, &generated.certificate_pem).unwrap();
    let response = sim
        .http
        .post(sim.url("/sim/tokens"))
        .body(generated.certificate_pem.clone())
        .send()
        .await
        .unwrap();
    let consumer_key = response.headers()[CONSUMER_KEY_HEADER].to_str().unwrap().to_owned();
    std::fs::write(&token_path, response.bytes().await.unwrap()).unwrap();

    let output = std::process::Command::new("openssl")
        .args(["cms", "-decrypt", "-in"])
        .arg(&token_path)
        .arg("-inkey")
        .arg(&key_path)
        .arg("-recip")
        .arg(&cert_path)
        .output()
        .unwrap();

    let decrypted = String::from_utf8(output.stdout).unwrap();
    let json_line = decrypted
        .lines()
        .skip_while(|line| *line != "-----BEGIN MESSAGE-----")
        .nth(1)
        .unwrap_or_default();
    let payload: Value = serde_json::from_str(json_line).unwrap_or(Value::Null);
    assert!(output.status.success(), "openssl: {}", String::from_utf8_lossy(&output.stderr));
    assert!(decrypted.starts_with("Content-Type: text/plain;charset=UTF-8\r\n"));
    assert!(decrypted.ends_with("-----END MESSAGE-----\n"));
    assert_eq!(payload["consumer_key"], consumer_key.as_str());
    assert_eq!(payload["access_token_expiry"], "2027-04-01T03:00:00Z");
}
