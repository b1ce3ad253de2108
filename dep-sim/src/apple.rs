//! Apple's side of the simulator: `GET /session` and `GET /account` with the statuses and
//! plain-text bodies Apple responds with for each token state and fault.

use std::time::Duration;

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, RETRY_AFTER, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use deptoken_shared::secret::SecretText;

use crate::credentials::{fingerprint, new_session_token};
use crate::oauth::{parse_authorization, query_parameters};
use crate::state::{FaultKind, Inner, Simulator, SimToken, TokenState};

/// The header that carries DEP session tokens.
pub(crate) const SESSION_HEADER: &str = "X-ADM-Auth-Session";

/// Maximum difference between an OAuth timestamp and the simulator's clock, in seconds.
const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// How long a used nonce is remembered, in seconds. Older requests fail the timestamp check
/// anyway, so a nonce can never be reused within a valid timestamp window.
const NONCE_MEMORY_SECONDS: i64 = 2 * MAX_CLOCK_SKEW_SECONDS;

/// Apple's response to one request, decided under the state lock and sent after any delay.
pub(crate) struct Reply {
    status: StatusCode,
    body: String,
    json: bool,
    retry_after: Option<u32>,
    session_token: Option<SecretText>,
    delay: Option<Duration>,
    /// A short snake_case name of what happened, for the log.
    outcome: &'static str,
    /// Fingerprint of the consumer key the request was attributed to.
    fingerprint: Option<String>,
}

impl Reply {
    fn text(status: StatusCode, body: &str, outcome: &'static str) -> Self {
        Self {
            status,
            body: body.to_owned(),
            json: false,
            retry_after: None,
            session_token: None,
            delay: None,
            outcome,
            fingerprint: None,
        }
    }

    fn unauthorized(outcome: &'static str) -> Self {
        Self::text(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", outcome)
    }

    fn for_token(mut self, fingerprint: String) -> Self {
        self.fingerprint = Some(fingerprint);
        self
    }
}

/// The parts of a `/session` request the decision reads.
pub(crate) struct SessionRequest<'a> {
    pub(crate) host: Option<&'a str>,
    pub(crate) uri: &'a Uri,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) authorization: Option<&'a str>,
}

impl Simulator {
    /// Decides the response to `GET /session`: User-Agent, OAuth header, faults, timestamp,
    /// signature, nonce and token state, in this order.
    pub(crate) fn decide_session(&self, request: &SessionRequest<'_>) -> Reply {
        let now = self.now();
        let mut inner = self.lock();

        if request.user_agent.is_none_or(str::is_empty) {
            return Reply::text(StatusCode::BAD_REQUEST, "USER_AGENT_MISSING", "user_agent_missing");
        }
        let header = match parse_authorization(request.authorization) {
            Ok(header) => header,
            Err(problem) => return Reply::text(StatusCode::BAD_REQUEST, &problem.body(), "oauth_problem"),
        };
        let token_fingerprint = fingerprint(header.consumer_key());
        let Some(host) = request.host else {
            return Reply::text(StatusCode::BAD_REQUEST, "BAD_REQUEST", "host_missing").for_token(token_fingerprint);
        };

        let Inner {
            tokens,
            sessions,
            nonces,
            ..
        } = &mut *inner;
        let Some(token) = tokens.get_mut(header.consumer_key()) else {
            return Reply::unauthorized("unknown_consumer_key").for_token(token_fingerprint);
        };
        if token.credentials.access_token.expose() != header.token() {
            return Reply::unauthorized("unknown_access_token").for_token(token_fingerprint);
        }
        token.counts.session_requests += 1;

        let mut delay = None;
        match token.take_fault(|kind| kind != FaultKind::SessionExpired) {
            Some(FaultKind::RateLimited) => return rate_limited().for_token(token_fingerprint),
            Some(FaultKind::Unavailable) => return unavailable().for_token(token_fingerprint),
            Some(FaultKind::Timeout) => delay = Some(self.shared.config.timeout_delay),
            Some(FaultKind::SessionExpired) | None => {}
        }

        let reply = 'decide: {
            if (now.timestamp() - header.timestamp).abs() > MAX_CLOCK_SKEW_SECONDS {
                break 'decide Reply::unauthorized("timestamp_refused");
            }

            // The client signed the URL it sent the request to, which reached this server
            // under the Host header it sent; the simulator serves plain HTTP.
            let url = format!("http://{host}{}", request.uri.path());
            let signed = header.signature_matches(
                &url,
                &query_parameters(request.uri.query()),
                token.credentials.consumer_secret.expose(),
                token.credentials.access_secret.expose(),
            );
            if !signed {
                break 'decide Reply::unauthorized("signature_mismatch");
            }

            let nonce_key = (header.consumer_key().to_owned(), header.nonce().to_owned());
            if nonces.contains_key(&nonce_key) {
                break 'decide Reply::unauthorized("nonce_reused");
            }
            nonces.retain(|_, timestamp| *timestamp >= now.timestamp() - NONCE_MEMORY_SECONDS);
            nonces.insert(nonce_key, header.timestamp);

            match token.effective_state(now) {
                TokenState::Active | TokenState::TermsNotAccepted => {
                    let session_token = new_session_token();
                    sessions.insert(session_token.expose().to_owned(), header.consumer_key().to_owned());
                    token.counts.sessions_opened += 1;
                    session_opened(&session_token)
                }
                state => rejected_state(state),
            }
        };

        Reply { delay, ..reply }.for_token(token_fingerprint)
    }

    /// Decides the response to `GET /account`: User-Agent, session token, faults and token
    /// state. A successful response rotates the session token.
    pub(crate) fn decide_account(&self, user_agent: Option<&str>, session: Option<&str>) -> Reply {
        let now = self.now();
        let mut inner = self.lock();

        if user_agent.is_none_or(str::is_empty) {
            return Reply::text(StatusCode::BAD_REQUEST, "USER_AGENT_MISSING", "user_agent_missing");
        }
        let Some(session) = session.filter(|session| !session.is_empty()) else {
            return Reply::unauthorized("session_missing");
        };

        let Inner {
            tokens,
            servers,
            sessions,
            retired_sessions,
            ..
        } = &mut *inner;
        let (consumer_key, stale) = match (sessions.get(session), retired_sessions.get(session)) {
            (Some(consumer_key), _) => (consumer_key.clone(), false),
            (None, Some(consumer_key)) => (consumer_key.clone(), true),
            (None, None) => return Reply::unauthorized("session_unknown"),
        };
        let token_fingerprint = fingerprint(&consumer_key);
        let Some(token) = tokens.get_mut(&consumer_key) else {
            return Reply::unauthorized("session_unknown").for_token(token_fingerprint);
        };
        token.counts.account_requests += 1;
        if stale {
            token.counts.stale_session_rejections += 1;
            return Reply::unauthorized("session_stale").for_token(token_fingerprint);
        }

        let mut delay = None;
        match token.take_fault(|_| true) {
            Some(FaultKind::RateLimited) => return rate_limited().for_token(token_fingerprint),
            Some(FaultKind::Unavailable) => return unavailable().for_token(token_fingerprint),
            Some(FaultKind::SessionExpired) => {
                sessions.remove(session);
                return Reply::unauthorized("session_expired").for_token(token_fingerprint);
            }
            Some(FaultKind::Timeout) => delay = Some(self.shared.config.timeout_delay),
            None => {}
        }

        let reply = match token.effective_state(now) {
            TokenState::Active => {
                let server = servers.get(&token.server_name);
                let body = account_json(
                    token,
                    server.map(|server| server.server_uuid.as_str()).unwrap_or_default(),
                    server.map(|server| server.org_id.as_str()).unwrap_or_default(),
                );
                let rotated = new_session_token();
                sessions.remove(session);
                retired_sessions.insert(session.to_owned(), consumer_key.clone());
                sessions.insert(rotated.expose().to_owned(), consumer_key.clone());
                token.counts.accounts_served += 1;
                Reply {
                    json: true,
                    session_token: Some(rotated),
                    ..Reply::text(StatusCode::OK, &body, "ok")
                }
            }
            TokenState::TermsNotAccepted => Reply::text(StatusCode::FORBIDDEN, "T_C_NOT_SIGNED", "terms_not_accepted"),
            state => rejected_state(state),
        };

        Reply { delay, ..reply }.for_token(token_fingerprint)
    }
}

fn rate_limited() -> Reply {
    Reply {
        retry_after: Some(1),
        ..Reply::text(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", "fault_rate_limited")
    }
}

fn unavailable() -> Reply {
    Reply::text(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", "fault_unavailable")
}

fn session_opened(session_token: &SecretText) -> Reply {
    let body = serde_json::json!({ "auth_session_token": session_token.expose() }).to_string();
    Reply {
        json: true,
        ..Reply::text(StatusCode::OK, &body, "ok")
    }
}

/// Builds the 403 response for a state in which Apple rejects the token.
fn rejected_state(state: TokenState) -> Reply {
    let (body, outcome) = match state {
        TokenState::Expired => ("token_expiredForbidden", "token_expired"),
        TokenState::Revoked => ("token_rejectedForbidden", "token_revoked"),
        TokenState::Superseded => ("signature_invalid", "token_superseded"),
        TokenState::AccountDeleted => ("FORBIDDEN", "account_deleted"),
        TokenState::ServerInactive => ("SERVER_INACTIVE", "server_inactive"),
        TokenState::TermsNotAccepted => ("T_C_NOT_SIGNED", "terms_not_accepted"),
        TokenState::Active => ("FORBIDDEN", "unexpected_active"),
    };
    Reply::text(StatusCode::FORBIDDEN, body, outcome)
}

/// Builds the account JSON Apple returns for a token, with the protocol version 3 fields.
fn account_json(token: &SimToken, server_uuid: &str, org_id: &str) -> String {
    serde_json::json!({
        "server_name": token.server_name,
        "server_uuid": server_uuid,
        "admin_id": token.admin_id,
        "facilitator_id": token.admin_id,
        "org_name": token.org_name,
        "org_email": "dep-admin@example.com",
        "org_phone": "+81 3 0000 0000",
        "org_address": "1-1 Chiyoda, Chiyoda-ku, Tokyo, Japan",
        "org_id": org_id,
        "org_id_hash": fingerprint(org_id),
        "org_type": "org",
        "org_version": "v2",
        "urls": [
            { "uri": "/account", "http_method": ["GET"], "limit": { "default": 1, "maximum": 1 } },
            { "uri": "/session", "http_method": ["GET"], "limit": { "default": 1, "maximum": 1 } }
        ]
    })
    .to_string()
}

/// `GET /session`.
pub(crate) async fn session(State(simulator): State<Simulator>, headers: HeaderMap, uri: Uri) -> Response {
    let request = SessionRequest {
        host: header_text(&headers, HOST.as_str()),
        uri: &uri,
        user_agent: header_text(&headers, USER_AGENT.as_str()),
        authorization: header_text(&headers, AUTHORIZATION.as_str()),
    };
    let reply = simulator.decide_session(&request);
    send(&simulator, "/session", reply).await
}

/// `GET /account`.
pub(crate) async fn account(State(simulator): State<Simulator>, headers: HeaderMap) -> Response {
    let reply = simulator.decide_account(
        header_text(&headers, USER_AGENT.as_str()),
        header_text(&headers, SESSION_HEADER),
    );
    send(&simulator, "/account", reply).await
}

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Logs the reply, waits for its delay (cut short when the simulator shuts down) and sends it.
async fn send(simulator: &Simulator, path: &'static str, reply: Reply) -> Response {
    tracing::info!(
        consumer_key_fingerprint = reply.fingerprint.as_deref().unwrap_or("-"),
        path,
        status = reply.status.as_u16(),
        outcome = reply.outcome,
        delayed_ms = reply.delay.map(|delay| delay.as_millis() as u64),
        "simulator responded to a DEP request"
    );

    if let Some(delay) = reply.delay {
        let mut shutdown = simulator.shared.shutdown.subscribe();
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => {}
        }
    }

    let content_type = if reply.json { "application/json;charset=UTF8" } else { "text/plain;charset=UTF8" };
    let mut response = (reply.status, [(CONTENT_TYPE, content_type)], reply.body).into_response();
    if let Some(seconds) = reply.retry_after {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    if let Some(value) = reply
        .session_token
        .and_then(|token| HeaderValue::from_str(token.expose()).ok())
    {
        response.headers_mut().insert(SESSION_HEADER, value);
    }
    response
}
