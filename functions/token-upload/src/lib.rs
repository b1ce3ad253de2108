//! The `token-upload` Lambda function: the deptoken HTTP API behind API Gateway HTTP API, on
//! DynamoDB and KMS, with the caller taken from the JWT authorizer's claims.
//!
//! [`app`] is the whole request handler, so tests can send API Gateway events through it
//! in-process. `main` reads the [`Config`] once, calls [`build_services`] and runs the handler.

pub mod config;
pub mod logging;
pub mod notifier;

use std::sync::Arc;

use aws_config::SdkConfig;
use axum::Router;
use deptoken_api::IdentitySource;
use deptoken_aws::AwsAdapters;
use deptoken_shared::clock::SystemClock;
use deptoken_shared::dep::{DepClient, DepClientConfig, DepClientError};
use deptoken_shared::usecases::{Delivery, NotificationSettings, Services};

pub use config::{Config, ConfigError};
pub use notifier::StreamDrivenNotifier;

/// A cold-start failure after the configuration was read.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot build the DEP client from {} and {}", config::DEP_BASE_URL_VARIABLE, config::DEP_TIMEOUT_VARIABLE)]
    DepClient(#[source] DepClientError),
}

/// The request handler: the API router reading the caller from the authorizer's claims.
pub fn app(services: Arc<Services>) -> Router {
    deptoken_api::router(services, IdentitySource::JwtClaims)
}

/// Loads the AWS SDK configuration (region and credentials from the default provider chain,
/// as on Lambda, and the endpoint override of `config`) and builds the use cases on it. Runs
/// once at cold start.
pub async fn build_services(config: &Config) -> Result<Arc<Services>, BuildError> {
    let sdk_config = deptoken_aws::load_sdk_config(&config.aws).await;
    build_services_on(config, &sdk_config)
}

/// Builds the use cases on the DynamoDB and KMS adapters made from `sdk_config`, a DEP client
/// and [`StreamDrivenNotifier`]. [`build_services`] calls it with the SDK configuration it
/// loaded. Tests call it with one that has static credentials, so that no credential
/// provider ever reaches for an instance metadata endpoint.
///
/// Notifications are [`Delivery::Stream`]: an accepted upload records the `renewed` stage, and
/// the notifier function publishes it from the table's stream.
pub fn build_services_on(config: &Config, sdk_config: &SdkConfig) -> Result<Arc<Services>, BuildError> {
    // reqwest is built without a default crypto provider, and the DEP client needs one.
    deptoken_shared::dep::install_crypto_provider();
    let dep = DepClient::new(DepClientConfig {
        base_url: config.dep_base_url.clone(),
        connect_timeout: config::DEP_CONNECT_TIMEOUT,
        request_timeout: config.dep_request_timeout,
        ..DepClientConfig::default()
    })
    .map_err(BuildError::DepClient)?;

    let aws = AwsAdapters::from_sdk_config(sdk_config, &config.aws);

    Ok(Arc::new(Services {
        store: Arc::new(aws.store),
        vault: Arc::new(aws.key_vault),
        sealer: Arc::new(aws.sealer),
        dep: Arc::new(dep),
        notifier: Arc::new(StreamDrivenNotifier),
        clock: Arc::new(SystemClock),
        time_zone: config.time_zone,
        notifications: NotificationSettings {
            delivery: Delivery::Stream,
            ..NotificationSettings::default()
        },
    }))
}
