//! Cold start: start JSON logs, read the configuration once, build the SDK clients, the
//! adapters and the DEP client once, then serve API Gateway HTTP API events.

use std::error::Error;

use deptoken_lambda::logging;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    logging::init_logging(&logging::log_directives(|name| std::env::var(name).ok()));

    let config = token_upload::Config::from_env().inspect_err(|error| {
        tracing::error!(%error, "invalid configuration");
    })?;
    let use_cases = token_upload::build_services(&config).await.inspect_err(|error| {
        tracing::error!(error = cause_chain(error), "cannot build the services");
    })?;
    tracing::info!(
        table = config.aws.table_name,
        dep_base_url = config.dep_base_url,
        time_zone = %config.time_zone,
        "token-upload function ready"
    );

    lambda_http::run(use_cases.router()).await
}

/// Joins an error and its sources into one line, such as `cannot build …: invalid DEP base URL …`.
fn cause_chain(error: &(dyn Error + 'static)) -> String {
    let messages: Vec<String> = std::iter::successors(Some(error), |error| (*error).source())
        .map(ToString::to_string)
        .collect();
    messages.join(": ")
}
