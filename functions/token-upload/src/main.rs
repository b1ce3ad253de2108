//! Cold start: install the TLS provider, start JSON logs, read the configuration once, build
//! the adapters, then serve API Gateway HTTP API events.

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    deptoken_shared::dep::install_crypto_provider();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_current_span(false)
        .without_time()
        .init();

    let config = token_upload::Config::from_env().inspect_err(|error| {
        tracing::error!(%error, "invalid configuration");
    })?;
    let services = token_upload::build_services(&config).inspect_err(|error| {
        tracing::error!(error = format!("{error:#}"), "cannot build the adapters");
    })?;
    tracing::info!(time_zone = %config.time_zone, "token-upload function ready");

    lambda_http::run(token_upload::app(services)).await
}
