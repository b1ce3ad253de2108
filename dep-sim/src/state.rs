//! The simulator's state: issued tokens with their states, faults and request counts, the
//! MDM servers they belong to, open DEP sessions and the nonces already used.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, SubsecRound as _, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use zeroize::Zeroizing;

use deptoken_shared::clock::{Clock, SystemClock};
use deptoken_shared::secret::SecretText;
use deptoken_shared::token::TokenCredentials;

use crate::credentials::{fingerprint, new_credentials, new_org_id};
use crate::token_file::{IssueError, issue_token_file};

/// How long a new token is valid when the request names no expiry: one year, as ABM issues them.
const DEFAULT_VALIDITY_DAYS: i64 = 365;

/// Settings of a [`Simulator`].
#[derive(Clone)]
pub struct SimulatorConfig {
    /// Delay the `timeout` fault adds to a response. Make it longer than the client's timeout.
    pub timeout_delay: Duration,
    /// The source of "now" for token expiry, issue times and the OAuth timestamp check.
    pub clock: Arc<dyn Clock>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            timeout_delay: Duration::from_secs(30),
            clock: Arc::new(SystemClock),
        }
    }
}

/// The treatment Apple gives a token, as set through the control API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    /// Accepted, until its expiry passes.
    Active,
    /// `GET /session` responds 403 `token_expiredForbidden`.
    Expired,
    /// `GET /session` responds 403 `token_rejectedForbidden`.
    Revoked,
    /// A newer token was issued for the server: 403 `signature_invalid`.
    Superseded,
    /// The Apple Account that downloaded the token is gone: 403 `FORBIDDEN`.
    AccountDeleted,
    /// `GET /session` succeeds and `GET /account` responds 403 `T_C_NOT_SIGNED`.
    TermsNotAccepted,
    /// The MDM server was removed in ABM: 403 `SERVER_INACTIVE`.
    ServerInactive,
}

/// A failure injected into a token's next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 `TOO_MANY_REQUESTS` with `Retry-After: 1`.
    RateLimited,
    /// 503 `SERVICE_UNAVAILABLE`.
    Unavailable,
    /// The response is delayed by [`SimulatorConfig::timeout_delay`].
    Timeout,
    /// `GET /account` responds 401 as if the session had expired; counts only `/account` requests.
    SessionExpired,
}

/// A fault and how many more requests it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fault {
    pub kind: FaultKind,
    pub remaining: u32,
}

/// How many requests the simulator attributed to a token, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    /// `GET /session` requests naming the token's consumer key and access token.
    pub session_requests: u64,
    /// `GET /session` requests that succeeded (200).
    pub sessions_opened: u64,
    /// `GET /account` requests with a session token of this token, current or rotated out.
    pub account_requests: u64,
    /// `GET /account` requests that succeeded (200).
    pub accounts_served: u64,
    /// `GET /account` requests rejected because their session token had been rotated out.
    pub stale_session_rejections: u64,
}

/// The control API's view of a token. Contains no credential.
#[derive(Debug, Clone, Serialize)]
pub struct TokenStatus {
    pub consumer_key_fingerprint: String,
    pub server_name: String,
    pub server_uuid: String,
    pub org_name: String,
    pub admin_id: String,
    /// The state as set.
    pub state: TokenState,
    /// The state Apple applies now: `expired` once `expires_at` has passed.
    pub effective_state: TokenState,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub fault: Option<Fault>,
    pub requests: RequestCounts,
}

/// The parameters of a new token. Build it with [`IssueRequest::new`] for ABM-like defaults.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    /// The MDM server's certificate, PEM.
    pub certificate_pem: String,
    pub server_name: String,
    pub org_name: String,
    pub admin_id: String,
    /// `None`: one year after issue.
    pub expires_at: Option<DateTime<Utc>>,
}

impl IssueRequest {
    /// Creates a request for `certificate_pem` with server `Sim MDM Server`, organisation
    /// `Sim Organization`, admin `admin@example.com` and a one-year validity.
    pub fn new(certificate_pem: impl Into<String>) -> Self {
        Self {
            certificate_pem: certificate_pem.into(),
            server_name: "Sim MDM Server".to_owned(),
            org_name: "Sim Organization".to_owned(),
            admin_id: "admin@example.com".to_owned(),
            expires_at: None,
        }
    }
}

/// A token file as ABM hands it out, with the consumer key that names it in the control API.
pub struct IssuedToken {
    /// The token's consumer key: the handle of the control API. A credential, so never log it.
    pub consumer_key: String,
    /// `<server>_Token_<issue time>_smime.p7m`, as ABM names downloads.
    pub file_name: String,
    pub token_file: String,
}

/// Errors of the control operations.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("no token has this consumer key")]
    UnknownToken,
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error(transparent)]
    Issue(#[from] IssueError),
}

/// The simulated Apple: shared state behind the HTTP handlers. Cloning shares the state.
#[derive(Clone)]
pub struct Simulator {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) config: SimulatorConfig,
    inner: Mutex<Inner>,
    /// Set to `true` when the server shuts down, so that delayed responses end early.
    pub(crate) shutdown: watch::Sender<bool>,
}

#[derive(Default)]
pub(crate) struct Inner {
    /// Issued tokens by consumer key.
    pub(crate) tokens: HashMap<String, SimToken>,
    /// MDM servers by name.
    pub(crate) servers: HashMap<String, ServerIdentity>,
    /// Current session tokens and the consumer key each belongs to.
    pub(crate) sessions: HashMap<String, String>,
    /// Session tokens replaced by a rotation, and the consumer key each belonged to.
    pub(crate) retired_sessions: HashMap<String, String>,
    /// `(consumer key, nonce)` pairs already used, with their OAuth timestamp.
    pub(crate) nonces: HashMap<(String, String), i64>,
}

/// The identity ABM keeps per MDM server: its identifier and organisation id stay the same
/// for every token issued for it.
pub(crate) struct ServerIdentity {
    pub(crate) server_uuid: String,
    pub(crate) org_id: String,
}

pub(crate) struct SimToken {
    pub(crate) credentials: TokenCredentials,
    pub(crate) server_name: String,
    pub(crate) org_name: String,
    pub(crate) admin_id: String,
    pub(crate) issued_at: DateTime<Utc>,
    pub(crate) state: TokenState,
    pub(crate) fault: Option<Fault>,
    pub(crate) counts: RequestCounts,
}

impl SimToken {
    /// Returns the state Apple applies at `now`: an active token past its expiry is expired.
    pub(crate) fn effective_state(&self, now: DateTime<Utc>) -> TokenState {
        let past_expiry = self.credentials.access_token_expiry <= now;
        match self.state {
            TokenState::Active | TokenState::TermsNotAccepted if past_expiry => TokenState::Expired,
            state => state,
        }
    }

    /// Consumes one request of the token's fault when `applies` accepts its kind.
    pub(crate) fn take_fault(&mut self, applies: impl Fn(FaultKind) -> bool) -> Option<FaultKind> {
        let fault = self.fault.as_mut().filter(|fault| applies(fault.kind))?;
        let kind = fault.kind;
        fault.remaining = fault.remaining.saturating_sub(1);
        if fault.remaining == 0 {
            self.fault = None;
        }
        Some(kind)
    }
}

impl Default for Simulator {
    fn default() -> Self {
        Self::new(SimulatorConfig::default())
    }
}

impl Simulator {
    pub fn new(config: SimulatorConfig) -> Self {
        let (shutdown, _) = watch::channel(false);
        Self {
            shared: Arc::new(Shared {
                config,
                inner: Mutex::new(Inner::default()),
                shutdown,
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent maps, so the poison is ignored.
        self.shared.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.shared.config.clock.now()
    }

    /// Issues a token as ABM does when an admin downloads one: new credentials, encrypted for
    /// the certificate. Every earlier token of the same server becomes `superseded`.
    pub fn issue_token(&self, request: &IssueRequest) -> Result<IssuedToken, SimError> {
        let server_name = request.server_name.trim();
        if server_name.is_empty() {
            return Err(SimError::InvalidRequest("server_name must not be empty".to_owned()));
        }

        let issued_at = self.now().trunc_subsecs(0);
        let expires_at = request
            .expires_at
            .unwrap_or(issued_at + chrono::Duration::days(DEFAULT_VALIDITY_DAYS))
            .trunc_subsecs(0);
        let credentials = new_credentials(issued_at, expires_at);
        let token_file = issue_token_file(&request.certificate_pem, &payload_json(&credentials))?;
        let consumer_key = credentials.consumer_key.expose().to_owned();

        let mut inner = self.lock();
        for token in inner.tokens.values_mut().filter(|token| token.server_name == server_name) {
            token.state = TokenState::Superseded;
        }
        inner.servers.entry(server_name.to_owned()).or_insert_with(|| ServerIdentity {
            server_uuid: uuid::Uuid::new_v4().to_string().to_uppercase(),
            org_id: new_org_id(),
        });
        inner.tokens.insert(
            consumer_key.clone(),
            SimToken {
                credentials,
                server_name: server_name.to_owned(),
                org_name: request.org_name.clone(),
                admin_id: request.admin_id.clone(),
                issued_at,
                state: TokenState::Active,
                fault: None,
                counts: RequestCounts::default(),
            },
        );
        drop(inner);

        tracing::info!(
            consumer_key_fingerprint = %fingerprint(&consumer_key),
            server_name,
            expires_at = %expires_at.to_rfc3339(),
            "simulator issued a token"
        );
        Ok(IssuedToken {
            consumer_key,
            file_name: download_file_name(server_name, issued_at),
            token_file,
        })
    }

    /// Sets how Apple treats the token from its next request on.
    pub fn set_state(&self, consumer_key: &str, state: TokenState) -> Result<TokenStatus, SimError> {
        self.update_token(consumer_key, |token| token.state = state)
    }

    /// Injects `kind` into the token's next `count` requests; `count` 0 removes the fault.
    pub fn set_fault(&self, consumer_key: &str, kind: FaultKind, count: u32) -> Result<TokenStatus, SimError> {
        self.update_token(consumer_key, |token| {
            token.fault = (count > 0).then_some(Fault { kind, remaining: count });
        })
    }

    /// Returns the token's state and request counts, or `None` for an unknown consumer key.
    pub fn token_status(&self, consumer_key: &str) -> Option<TokenStatus> {
        let now = self.now();
        let inner = self.lock();
        let token = inner.tokens.get(consumer_key)?;
        Some(status_of(&inner, token, now))
    }

    /// Returns the credentials inside the token file, as the MDM server would decrypt them.
    /// For tests in the same process: the HTTP API never returns them.
    pub fn credentials_for(&self, consumer_key: &str) -> Option<TokenCredentials> {
        self.lock().tokens.get(consumer_key).map(|token| token.credentials.clone())
    }

    /// Returns the DEP session tokens issued so far, current and rotated out, but not those a
    /// `session_expired` fault dropped. For tests in the same process that look for leaked
    /// session tokens: the HTTP API never returns them.
    pub fn session_tokens(&self) -> Vec<SecretText> {
        let inner = self.lock();
        inner
            .sessions
            .keys()
            .chain(inner.retired_sessions.keys())
            .map(|token| SecretText::new(token.clone()))
            .collect()
    }

    fn update_token(&self, consumer_key: &str, change: impl FnOnce(&mut SimToken)) -> Result<TokenStatus, SimError> {
        let now = self.now();
        let mut inner = self.lock();
        let token = inner.tokens.get_mut(consumer_key).ok_or(SimError::UnknownToken)?;
        change(token);
        let token = &inner.tokens[consumer_key];
        Ok(status_of(&inner, token, now))
    }
}

fn status_of(inner: &Inner, token: &SimToken, now: DateTime<Utc>) -> TokenStatus {
    TokenStatus {
        consumer_key_fingerprint: token.credentials.consumer_key_fingerprint(),
        server_name: token.server_name.clone(),
        server_uuid: inner
            .servers
            .get(&token.server_name)
            .map(|server| server.server_uuid.clone())
            .unwrap_or_default(),
        org_name: token.org_name.clone(),
        admin_id: token.admin_id.clone(),
        state: token.state,
        effective_state: token.effective_state(now),
        issued_at: token.issued_at,
        expires_at: token.credentials.access_token_expiry,
        fault: token.fault,
        requests: token.counts.clone(),
    }
}

/// Serializes the JSON ABM encrypts into a token file, in ABM's field order.
fn payload_json(credentials: &TokenCredentials) -> Zeroizing<String> {
    #[derive(Serialize)]
    struct Payload<'a> {
        consumer_key: &'a str,
        consumer_secret: &'a str,
        access_token: &'a str,
        access_secret: &'a str,
        access_token_expiry: String,
    }

    let payload = Payload {
        consumer_key: credentials.consumer_key.expose(),
        consumer_secret: credentials.consumer_secret.expose(),
        access_token: credentials.access_token.expose(),
        access_secret: credentials.access_secret.expose(),
        access_token_expiry: credentials.access_token_expiry.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    };
    // serde_json fails only on non-string map keys and failing Serialize impls, and this
    // struct has neither.
    Zeroizing::new(serde_json::to_string(&payload).unwrap_or_default())
}

/// `<server>_Token_<time>_smime.p7m` with the characters that do not belong in a file name
/// replaced by `_`.
fn download_file_name(server_name: &str, issued_at: DateTime<Utc>) -> String {
    let safe_name: String = server_name
        .chars()
        .map(|c| if c.is_control() || "\"\\/:*?<>|".contains(c) { '_' } else { c })
        .collect();
    format!("{safe_name}_Token_{}_smime.p7m", issued_at.format("%Y-%m-%dT%H-%M-%SZ"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use deptoken_shared::clock::FixedClock;

    use super::*;

    const CERTIFICATE_PEM: &str = include_str!("../tests/fixtures/test-mdm.crt.pem");

    fn simulator_at(now: DateTime<Utc>) -> (Simulator, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock::new(now));
        let config = SimulatorConfig {
            clock: clock.clone(),
            ..SimulatorConfig::default()
        };
        (Simulator::new(config), clock)
    }

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn issue_defaults_to_one_year() {
        let (simulator, _) = simulator_at(noon());

        let issued = simulator.issue_token(&IssueRequest::new(CERTIFICATE_PEM)).unwrap();

        let status = simulator.token_status(&issued.consumer_key).unwrap();
        assert_eq!(status.expires_at, Utc.with_ymd_and_hms(2027, 4, 1, 12, 0, 0).unwrap());
        assert_eq!(status.state, TokenState::Active);
        assert_eq!(status.server_name, "Sim MDM Server");
    }

    #[test]
    fn issue_names_file_like_abm() {
        let (simulator, _) = simulator_at(noon());
        let request = IssueRequest {
            server_name: "Tokyo/MDM".to_owned(),
            ..IssueRequest::new(CERTIFICATE_PEM)
        };

        let issued = simulator.issue_token(&request).unwrap();

        assert_eq!(issued.file_name, "Tokyo_MDM_Token_2026-04-01T12-00-00Z_smime.p7m");
    }

    #[test]
    fn issue_supersedes_previous_token_of_server() {
        let (simulator, _) = simulator_at(noon());
        let first = simulator.issue_token(&IssueRequest::new(CERTIFICATE_PEM)).unwrap();

        let second = simulator.issue_token(&IssueRequest::new(CERTIFICATE_PEM)).unwrap();

        let first_status = simulator.token_status(&first.consumer_key).unwrap();
        let second_status = simulator.token_status(&second.consumer_key).unwrap();
        assert_eq!(first_status.state, TokenState::Superseded);
        assert_eq!(second_status.state, TokenState::Active);
        assert_eq!(first_status.server_uuid, second_status.server_uuid);
    }

    #[test]
    fn issue_keeps_other_servers_active() {
        let (simulator, _) = simulator_at(noon());
        let first = simulator.issue_token(&IssueRequest::new(CERTIFICATE_PEM)).unwrap();
        let other = IssueRequest {
            server_name: "Other".to_owned(),
            ..IssueRequest::new(CERTIFICATE_PEM)
        };

        let second = simulator.issue_token(&other).unwrap();

        let first_status = simulator.token_status(&first.consumer_key).unwrap();
        let second_status = simulator.token_status(&second.consumer_key).unwrap();
        assert_eq!(first_status.state, TokenState::Active);
        assert_ne!(first_status.server_uuid, second_status.server_uuid);
    }

    #[test]
    fn issue_rejects_empty_server_name() {
        let (simulator, _) = simulator_at(noon());
        let request = IssueRequest {
            server_name: "  ".to_owned(),
            ..IssueRequest::new(CERTIFICATE_PEM)
        };

        let result = simulator.issue_token(&request);

        assert!(matches!(result, Err(SimError::InvalidRequest(_))));
    }

    #[test]
    fn token_expires_automatically() {
        let (simulator, clock) = simulator_at(noon());
        let issued = simulator.issue_token(&IssueRequest::new(CERTIFICATE_PEM)).unwrap();

        clock.set(Utc.with_ymd_and_hms(2027, 4, 1, 12, 0, 0).unwrap());

        let status = simulator.token_status(&issued.consumer_key).unwrap();
        assert_eq!(status.state, TokenState::Active);
        assert_eq!(status.effective_state, TokenState::Expired);
    }

    #[test]
    fn fault_counts_down_and_clears() {
        let (simulator, _) = simulator_at(noon());
        let issued = simulator.issue_token(&IssueRequest::new(CERTIFICATE_PEM)).unwrap();
        simulator.set_fault(&issued.consumer_key, FaultKind::Unavailable, 2).unwrap();

        let taken: Vec<Option<FaultKind>> = (0..3)
            .map(|_| {
                let mut inner = simulator.lock();
                inner.tokens.get_mut(&issued.consumer_key).unwrap().take_fault(|_| true)
            })
            .collect();

        assert_eq!(taken, vec![Some(FaultKind::Unavailable), Some(FaultKind::Unavailable), None]);
    }

    #[test]
    fn unknown_token_is_reported() {
        let (simulator, _) = simulator_at(noon());

        let result = simulator.set_state("CK_unknown", TokenState::Revoked);

        assert!(matches!(result, Err(SimError::UnknownToken)));
    }

    #[test]
    fn credentials_match_token_file_payload_shape() {
        let (simulator, _) = simulator_at(noon());
        let issued = simulator.issue_token(&IssueRequest::new(CERTIFICATE_PEM)).unwrap();

        let credentials = simulator.credentials_for(&issued.consumer_key).unwrap();

        assert_eq!(credentials.consumer_key.expose(), issued.consumer_key);
        assert_eq!(credentials.access_token_expiry, Utc.with_ymd_and_hms(2027, 4, 1, 12, 0, 0).unwrap());
    }

    #[test]
    fn payload_json_uses_abm_field_order() {
        let credentials = new_credentials(noon(), noon());

        let json = payload_json(&credentials);

        let positions: Vec<usize> = ["consumer_key", "consumer_secret", "access_token\"", "access_secret", "access_token_expiry"]
            .iter()
            .map(|name| json.find(name).unwrap())
            .collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(json.ends_with("\"access_token_expiry\":\"2026-04-01T12:00:00Z\"}"));
    }
}
