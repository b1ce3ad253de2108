//! A simulator of Apple's DEP API and of the token download in Apple Business Manager, for
//! tests and the local runner. No Apple endpoint is reachable from test machines, so this
//! server replaces both.
//!
//! Apple's side: `GET /session` verifies the OAuth 1.0a HMAC-SHA1 signature, nonce and
//! timestamp, and returns a session token; `GET /account` returns the account JSON and
//! rotates the session token. Both respond to each token state with Apple's status and body.
//!
//! The control API for tests:
//!
//! | route | does |
//! |---|---|
//! | `POST /sim/tokens?expires_at=&server_name=&org_name=&admin_id=` | body: a PEM certificate; returns a token file encrypted for it, the consumer key in `X-Sim-Consumer-Key`; supersedes the server's earlier tokens |
//! | `PUT /sim/tokens/{consumer_key}/state` | `{"state": "active" \| "expired" \| "revoked" \| "superseded" \| "account_deleted" \| "terms_not_accepted" \| "server_inactive"}` or `{"fault": "rate_limited" \| "unavailable" \| "timeout" \| "session_expired", "count": N}` |
//! | `GET /sim/tokens/{consumer_key}` | the token's state and request counts, never its secrets |
//!
//! Logs name tokens by the fingerprint of their consumer key, never by a credential.

mod apple;
mod control;
mod credentials;
mod oauth;
mod state;
mod token_file;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::{get, post, put};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use control::CONSUMER_KEY_HEADER;
pub use state::{
    Fault, FaultKind, IssueRequest, IssuedToken, RequestCounts, SimError, Simulator, SimulatorConfig, TokenState,
    TokenStatus,
};
pub use token_file::{IssueError, issue_token_file};

/// Builds the simulator's routes over `simulator`'s state.
pub fn router(simulator: Simulator) -> Router {
    Router::new()
        .route("/session", get(apple::session))
        .route("/account", get(apple::account))
        .route("/sim/tokens", post(control::issue))
        .route("/sim/tokens/{consumer_key}", get(control::status))
        .route("/sim/tokens/{consumer_key}/state", put(control::change))
        .with_state(simulator)
}

/// A simulator serving on a local port. Dropping it stops the server.
pub struct RunningSimulator {
    /// `http://<address>:<port>`, the base URL to configure a DEP client with.
    pub base_url: String,
    pub address: SocketAddr,
    /// The served state, for in-process tests.
    pub simulator: Simulator,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningSimulator {
    /// Stops accepting connections, ends delayed responses early and waits for open
    /// connections to finish.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        self.simulator.shared.shutdown.send_replace(true);
        match self.server.take() {
            Some(server) => server.await.unwrap_or_else(|error| Err(std::io::Error::other(error))),
            None => Ok(()),
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        self.simulator.shared.shutdown.send_replace(true);
    }
}

/// Starts a simulator with the default settings on `addr` (such as `127.0.0.1:0` for any
/// free port) in a background task.
pub async fn start(addr: &str) -> std::io::Result<RunningSimulator> {
    start_with(addr, Simulator::default()).await
}

/// Starts `simulator` on `addr` in a background task.
pub async fn start_with(addr: &str, simulator: Simulator) -> std::io::Result<RunningSimulator> {
    let listener = TcpListener::bind(addr).await?;
    let address = listener.local_addr()?;

    let mut stopping = simulator.shared.shutdown.subscribe();
    let app = router(simulator.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                // An error means the sender is gone, which also means "stop".
                let _ = stopping.wait_for(|stopping| *stopping).await;
            })
            .await
    });

    tracing::info!(%address, "DEP simulator listening");
    Ok(RunningSimulator {
        base_url: format!("http://{address}"),
        address,
        simulator,
        server: Some(server),
    })
}

/// Serves a simulator with the default settings on `addr` until Ctrl-C.
pub async fn serve(addr: &str) -> std::io::Result<()> {
    let running = start(addr).await?;
    tracing::info!(base_url = %running.base_url, "DEP simulator ready; press Ctrl-C to stop");

    tokio::signal::ctrl_c().await?;
    tracing::info!("DEP simulator stopping");
    running.shutdown().await
}
