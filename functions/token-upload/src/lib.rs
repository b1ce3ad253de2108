//! The `token-upload` Lambda function: the deptoken HTTP API behind API Gateway HTTP API, on
//! DynamoDB, KMS and SNS, with the caller taken from the JWT authorizer's claims.
//!
//! [`UseCases::router`] is the whole request handler, so tests can send API Gateway events
//! through it in-process. `main` reads the [`Config`] once, calls [`build_services`] and runs
//! the handler.

pub mod config;

use std::sync::Arc;

use aws_config::SdkConfig;
use axum::Router;
use deptoken_lambda::StreamDrivenNotifier;
use deptoken_api::IdentitySource;
use deptoken_aws::{AwsAdapters, SnsSubscribers};
use deptoken_shared::clock::SystemClock;
use deptoken_shared::dep::{DepClient, DepClientConfig, DepClientError};
use deptoken_shared::usecases::{Delivery, NotificationSettings, Services, SubscriberDirectory};

pub use config::{Config, ConfigError};

/// A cold-start failure after the configuration was read.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot build the DEP client from {} and {}", config::DEP_BASE_URL_VARIABLE, config::DEP_TIMEOUT_VARIABLE)]
    DepClient(#[source] DepClientError),
}

/// The use cases the handler serves, built once at cold start: tokens and entries, and the
/// tenants' notification recipients.
#[derive(Clone)]
pub struct UseCases {
    pub services: Arc<Services>,
    pub subscribers: SubscriberDirectory,
}

impl UseCases {
    /// Builds the request handler: every route of the HTTP API, `/v1/subscribers` included,
    /// with the caller read from the authorizer's claims.
    pub fn router(&self) -> Router {
        deptoken_api::router_with_subscribers(self.services.clone(), IdentitySource::JwtClaims, self.subscribers.clone())
    }
}

/// Builds the request handler without the `/v1/subscribers` routes, for tests that run the
/// use cases on other adapters and have no subscriber directory.
pub fn app(services: Arc<Services>) -> Router {
    deptoken_api::router(services, IdentitySource::JwtClaims)
}

/// Loads the AWS SDK configuration (region and credentials from the default provider chain,
/// as on Lambda, and the endpoint override of `config`) and builds the use cases on it. Runs
/// once at cold start.
pub async fn build_services(config: &Config) -> Result<UseCases, BuildError> {
    let sdk_config = deptoken_aws::load_sdk_config(&config.aws).await;
    build_services_on(config, &sdk_config)
}

/// Builds the use cases on the DynamoDB, KMS and SNS adapters made from `sdk_config`, a DEP
/// client and [`StreamDrivenNotifier`]. [`build_services`] calls it with the SDK configuration
/// it loaded. Tests call it with one that has static credentials, so that no credential
/// provider ever reaches for an instance metadata endpoint.
///
/// Notifications are [`Delivery::Stream`]: an accepted upload records the `renewed` stage, and
/// the notifier function publishes it from the table's stream.
pub fn build_services_on(config: &Config, sdk_config: &SdkConfig) -> Result<UseCases, BuildError> {
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
    let subscribers = SnsSubscribers::new(
        aws_sdk_sns::Client::new(sdk_config),
        aws_sdk_dynamodb::Client::new(sdk_config),
        config.aws.table_name.clone(),
        config.topic_arn.clone(),
    );

    let services = Services {
        store: Arc::new(aws.store),
        vault: Arc::new(aws.key_vault),
        sealer: Arc::new(aws.sealer),
        dep: Arc::new(dep),
        notifier: Arc::new(StreamDrivenNotifier),
        clock: Arc::new(SystemClock),
        time_zone: config.time_zone,
        // The API renders no notification; the language is the default that `GET /v1/settings` returns.
        notifications: NotificationSettings {
            lang: config.lang,
            delivery: Delivery::Stream,
            ..NotificationSettings::default()
        },
    };
    Ok(UseCases {
        services: Arc::new(services),
        subscribers: SubscriberDirectory::new(Arc::new(subscribers)),
    })
}
