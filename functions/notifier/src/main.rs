//! Cold start: start JSON logs, read the configuration once, build the SDK clients and the
//! adapters once, then process one stream batch per invocation.

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use deptoken_lambda::logging;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    logging::init_logging(&logging::log_directives(|name| std::env::var(name).ok()));

    let config = notifier::Config::from_env().inspect_err(|error| {
        tracing::error!(%error, "invalid configuration");
    })?;
    let sdk_config = deptoken_aws::load_sdk_config(&config.aws).await;
    let services = notifier::build_services(&config, &sdk_config).inspect_err(|error| {
        tracing::error!(%error, "cannot build the services");
    })?;
    tracing::info!(
        table = config.aws.table_name,
        topic_arn = config.topic_arn,
        lang = config.lang.as_str(),
        time_zone = %config.time_zone,
        "notifier function ready"
    );

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| {
        let services = Arc::clone(&services);
        async move { notifier::handle(event.payload, &services).await }
    }))
    .await
}
