//! The HTTP client of Apple's DEP API: `GET /session` signed with OAuth 1.0a, then
//! `GET /account` with the session token, following session-token rotation.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::account::parse_account;
use super::classify::classify;
use super::{APPLE_DEP_BASE_URL, DepError, USER_AGENT, oauth};
use crate::clock::{Clock, SystemClock};
use crate::model::AccountDetails;
use crate::ports::DepApi;
use crate::secret::SecretText;
use crate::token::TokenCredentials;

/// The header that carries the DEP session token, in requests and in responses that rotate it.
pub const SESSION_HEADER: &str = "X-ADM-Auth-Session";

/// The DEP protocol version sent in `X-Server-Protocol-Version`. Apple returns the `org_*`
/// account fields from version 3 on.
pub const SERVER_PROTOCOL_VERSION: &str = "7";

/// Maximum size of a response body read from the DEP API. Apple's responses are a few hundred bytes.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Settings of a [`DepClient`], read once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepClientConfig {
    /// Scheme, host and optional port of the DEP API, without a trailing path.
    pub base_url: String,
    /// Maximum time to establish a TCP and TLS connection.
    pub connect_timeout: Duration,
    /// Maximum time for one request, from sending it to reading the whole response.
    pub request_timeout: Duration,
    /// The product `User-Agent`; Apple rejects requests without one.
    pub user_agent: String,
}

impl Default for DepClientConfig {
    fn default() -> Self {
        Self {
            base_url: APPLE_DEP_BASE_URL.to_owned(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            user_agent: USER_AGENT.to_owned(),
        }
    }
}

/// Errors building a [`DepClient`]: start-up configuration errors, never Apple's verdict.
#[derive(Debug, thiserror::Error)]
pub enum DepClientError {
    #[error("no rustls crypto provider is installed: call install_crypto_provider() at start-up")]
    NoCryptoProvider,
    #[error("invalid DEP base URL {url:?}: expected an http or https URL without a path")]
    InvalidBaseUrl { url: String },
    #[error("invalid User-Agent {user_agent:?}")]
    InvalidUserAgent { user_agent: String },
    #[error("the HTTP client could not be built")]
    Http(#[source] reqwest::Error),
}

/// Installs rustls' `ring` crypto provider as the process default, which [`DepClient::new`]
/// requires. Does nothing when a provider is already installed.
pub fn install_crypto_provider() {
    // An error only means that a provider is already installed, which is what is needed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The DEP API client. Build it once at start-up and share it, because it owns one connection pool.
pub struct DepClient {
    http: reqwest::Client,
    base_url: String,
    clock: Arc<dyn Clock>,
}

impl DepClient {
    /// Builds the client with the system clock.
    ///
    /// A rustls crypto provider must be installed first, for example with
    /// [`install_crypto_provider`] (which runs
    /// `rustls::crypto::ring::default_provider().install_default()`), because the workspace
    /// builds reqwest with `rustls-no-provider`. Without one this returns
    /// [`DepClientError::NoCryptoProvider`].
    pub fn new(config: DepClientConfig) -> Result<Self, DepClientError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// Builds the client with `clock` as the source of OAuth timestamps. Same requirements as
    /// [`DepClient::new`].
    pub fn with_clock(config: DepClientConfig, clock: Arc<dyn Clock>) -> Result<Self, DepClientError> {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            return Err(DepClientError::NoCryptoProvider);
        }

        let base_url = validated_base_url(&config.base_url)?;
        let user_agent = HeaderValue::from_str(&config.user_agent)
            .ok()
            .filter(|value| !value.is_empty())
            .ok_or_else(|| DepClientError::InvalidUserAgent {
                user_agent: config.user_agent.clone(),
            })?;

        let mut headers = HeaderMap::new();
        headers.insert("X-Server-Protocol-Version", HeaderValue::from_static(SERVER_PROTOCOL_VERSION));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF8"));

        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(user_agent)
            .default_headers(headers)
            // Never send credentials or a session token anywhere but the configured host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(DepClientError::Http)?;

        Ok(Self { http, base_url, clock })
    }

    /// Opens a DEP session (`GET /session`) with the token's credentials.
    pub async fn open_session<'a>(&'a self, credentials: &'a TokenCredentials) -> Result<DepSession<'a>, DepError> {
        let fingerprint = credentials.consumer_key_fingerprint();
        let token = self.request_session_token(credentials, &fingerprint).await?;

        Ok(DepSession {
            client: self,
            credentials,
            fingerprint,
            token,
        })
    }

    async fn request_session_token(&self, credentials: &TokenCredentials, fingerprint: &str) -> Result<SecretText, DepError> {
        let url = format!("{}/session", self.base_url);
        let timestamp = u64::try_from(self.clock.now().timestamp()).unwrap_or(0);
        let authorization = oauth::authorization_header(credentials, &url, timestamp, &oauth::new_nonce());
        let mut authorization = HeaderValue::from_str(authorization.expose()).map_err(|_| DepError::Protocol {
            reason: "the token's credentials contain characters not allowed in a header".to_owned(),
        })?;
        authorization.set_sensitive(true);

        let response = self.send(self.http.get(&url).header(AUTHORIZATION, authorization)).await;
        let response = check_response(response, "/session", fingerprint)?;

        let body: SessionBody = serde_json::from_slice(&response.body).map_err(|_| DepError::Protocol {
            reason: "the session response is not the expected JSON object".to_owned(),
        })?;
        body.auth_session_token
            .filter(|token| !token.is_empty())
            .map(SecretText::new)
            .ok_or_else(|| DepError::Protocol {
                reason: "the session response has no auth_session_token".to_owned(),
            })
    }

    /// Sends a request and reads the whole response. Transport failures are `Unavailable`.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<DepResponse, DepError> {
        let mut response = request.send().await.map_err(transport_error)?;

        let status = response.status().as_u16();
        let retry_after = header_text(response.headers(), RETRY_AFTER.as_str());
        let rotated_session = header_text(response.headers(), SESSION_HEADER)
            .filter(|token| !token.is_empty())
            .map(SecretText::new);

        let mut body = Zeroizing::new(Vec::new());
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(DepError::Protocol {
                    reason: format!("the response is larger than {MAX_RESPONSE_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }

        Ok(DepResponse {
            status,
            retry_after,
            rotated_session,
            body,
        })
    }
}

#[async_trait]
impl DepApi for DepClient {
    async fn fetch_account(&self, credentials: &TokenCredentials) -> Result<AccountDetails, DepError> {
        let mut session = self.open_session(credentials).await?;
        session.account().await
    }
}

/// An open DEP session. It follows every session-token rotation Apple sends, and
/// re-authenticates once when Apple rejects the session.
pub struct DepSession<'a> {
    client: &'a DepClient,
    credentials: &'a TokenCredentials,
    fingerprint: String,
    token: SecretText,
}

impl std::fmt::Debug for DepSession<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DepSession")
            .field("consumer_key_fingerprint", &self.fingerprint)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl DepSession<'_> {
    /// Reads `GET /account`. When Apple responds 401 (an expired or invalidated session), opens
    /// a new session once and retries once; a second 401 is [`DepError::TokenRejected`].
    pub async fn account(&mut self) -> Result<AccountDetails, DepError> {
        if let Some(account) = self.request_account().await? {
            return Ok(account);
        }

        tracing::info!(
            consumer_key_fingerprint = %self.fingerprint,
            "DEP session rejected, opening a new session and retrying once"
        );
        self.token = self
            .client
            .request_session_token(self.credentials, &self.fingerprint)
            .await?;

        self.request_account().await?.ok_or(DepError::TokenRejected)
    }

    /// Returns `Ok(None)` when Apple responded 401 to the session token.
    async fn request_account(&mut self) -> Result<Option<AccountDetails>, DepError> {
        let url = format!("{}/account", self.client.base_url);
        let mut session = HeaderValue::from_str(self.token.expose()).map_err(|_| DepError::Protocol {
            reason: "the session token contains characters not allowed in a header".to_owned(),
        })?;
        session.set_sensitive(true);

        let response = self
            .client
            .send(self.client.http.get(&url).header(SESSION_HEADER, session))
            .await
            .inspect_err(|error| log_failure(error, "/account", &self.fingerprint, None))?;

        if let Some(rotated) = &response.rotated_session {
            self.token = rotated.clone();
        }
        if response.status == 401 {
            tracing::info!(
                consumer_key_fingerprint = %self.fingerprint,
                path = "/account",
                status = 401,
                outcome = "session_rejected",
                "DEP request rejected the session"
            );
            return Ok(None);
        }

        let response = check_response(Ok(response), "/account", &self.fingerprint)?;
        parse_account(&response.body).map(Some)
    }
}

/// The `GET /session` response body.
#[derive(Deserialize)]
struct SessionBody {
    auth_session_token: Option<String>,
}

/// A DEP response read in full.
struct DepResponse {
    status: u16,
    retry_after: Option<String>,
    rotated_session: Option<SecretText>,
    body: Zeroizing<Vec<u8>>,
}

/// Logs the outcome of one DEP request and turns a non-200 response into its [`DepError`].
fn check_response(response: Result<DepResponse, DepError>, path: &'static str, fingerprint: &str) -> Result<DepResponse, DepError> {
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            log_failure(&error, path, fingerprint, None);
            return Err(error);
        }
    };

    if response.status == 200 {
        tracing::info!(consumer_key_fingerprint = %fingerprint, path, status = 200, outcome = "ok", "DEP request succeeded");
        return Ok(response);
    }

    let body = String::from_utf8_lossy(&response.body);
    let error = classify(response.status, &body, response.retry_after.as_deref());
    log_failure(&error, path, fingerprint, Some(response.status));
    Err(error)
}

/// Logs a failed DEP request: Apple's verdicts on the token at info, failures that are
/// Apple's or ours at warn.
fn log_failure(error: &DepError, path: &'static str, fingerprint: &str, status: Option<u16>) {
    match error {
        DepError::Unavailable { reason } | DepError::Protocol { reason } => tracing::warn!(
            consumer_key_fingerprint = %fingerprint,
            path,
            status,
            outcome = error.label(),
            reason = %reason,
            "DEP request failed"
        ),
        _ => tracing::info!(
            consumer_key_fingerprint = %fingerprint,
            path,
            status,
            outcome = error.label(),
            "DEP request failed"
        ),
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn transport_error(error: reqwest::Error) -> DepError {
    let reason = if error.is_timeout() {
        "the request to the DEP API timed out"
    } else if error.is_connect() {
        "the connection to the DEP API failed"
    } else {
        "the request to the DEP API failed"
    };
    DepError::Unavailable { reason: reason.to_owned() }
}

fn validated_base_url(base_url: &str) -> Result<String, DepClientError> {
    let trimmed = base_url.trim_end_matches('/');
    let invalid = || DepClientError::InvalidBaseUrl { url: base_url.to_owned() };

    let parsed = reqwest::Url::parse(trimmed).map_err(|_| invalid())?;
    let has_path = parsed.path() != "/" && !parsed.path().is_empty();
    if !matches!(parsed.scheme(), "http" | "https") || has_path || parsed.query().is_some() {
        return Err(invalid());
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_validation() {
        let cases = [
            ("apple", "https://mdmenrollment.apple.com", Some("https://mdmenrollment.apple.com")),
            ("trailing slash", "http://127.0.0.1:8090/", Some("http://127.0.0.1:8090")),
            ("with path", "https://example.com/dep", None),
            ("with query", "https://example.com?x=1", None),
            ("ftp", "ftp://example.com", None),
            ("not a url", "mdmenrollment.apple.com", None),
        ];

        for (label, input, expected) in cases {
            assert_eq!(validated_base_url(input).ok().as_deref(), expected, "{label}");
        }
    }

    #[test]
    fn new_builds_with_provider() {
        install_crypto_provider();

        let client = DepClient::new(DepClientConfig::default());

        assert!(client.is_ok());
    }

    #[test]
    fn new_rejects_empty_user_agent() {
        install_crypto_provider();
        let config = DepClientConfig {
            user_agent: String::new(),
            ..DepClientConfig::default()
        };

        let client = DepClient::new(config);

        assert!(matches!(client, Err(DepClientError::InvalidUserAgent { .. })));
    }
}
