//! The `token-upload` Lambda function: the deptoken HTTP API behind API Gateway HTTP API,
//! with the caller taken from the JWT authorizer's claims.
//!
//! [`app`] is the whole request handler, so tests can send API Gateway events through it
//! in-process. `main` only reads the [`Config`], calls [`build_services`] and runs the handler.

pub mod config;

use std::sync::Arc;

use axum::Router;
use deptoken_api::IdentitySource;
use deptoken_embedded::{LocalKeyVault, OutboxNotifier, SqliteStore};
use deptoken_shared::clock::SystemClock;
use deptoken_shared::dep::{DepClient, DepClientConfig};
use deptoken_shared::usecases::{NotificationSettings, Services};

pub use config::{Config, ConfigError, StoreBackend};

/// The request handler: the API router reading the caller from the authorizer's claims.
pub fn app(services: Arc<Services>) -> Router {
    deptoken_api::router(services, IdentitySource::JwtClaims)
}

/// Builds the use cases on the adapters `config` selects. Runs once at cold start.
pub fn build_services(config: &Config) -> anyhow::Result<Arc<Services>> {
    let dep = DepClient::new(DepClientConfig {
        base_url: config.dep_base_url.clone(),
        request_timeout: config.dep_request_timeout,
        ..DepClientConfig::default()
    })?;

    let services = match &config.store {
        StoreBackend::Embedded { data_dir } => {
            std::fs::create_dir_all(data_dir)?;
            let vault = Arc::new(LocalKeyVault::open(data_dir)?);
            Services {
                store: Arc::new(SqliteStore::open(&data_dir.join("deptoken.sqlite3"))?),
                vault: vault.clone(),
                sealer: vault,
                dep: Arc::new(dep),
                notifier: Arc::new(OutboxNotifier::open(&data_dir.join("outbox.jsonl"))?),
                clock: Arc::new(SystemClock),
                time_zone: config.time_zone,
                notifications: NotificationSettings::default(),
            }
        }
    };
    Ok(Arc::new(services))
}
