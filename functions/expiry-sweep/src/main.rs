//! Cold start: start JSON logs, read the configuration once, build the SDK clients, the
//! adapters and the DEP client once, then run one sweep per scheduled invocation.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use deptoken_lambda::logging;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    logging::init_logging(&logging::log_directives(|name| std::env::var(name).ok()));

    let config = expiry_sweep::Config::from_env().inspect_err(|error| {
        tracing::error!(%error, "invalid configuration");
    })?;
    let sdk_config = deptoken_aws::load_sdk_config(&config.aws).await;
    let function = expiry_sweep::build_function(&config, &sdk_config).inspect_err(|error| {
        tracing::error!(%error, "cannot build the sweep function");
    })?;
    tracing::info!(
        table = config.aws.table_name,
        check_apple = config.options.check_apple,
        concurrency = config.options.concurrency,
        metrics_namespace = config.metrics_namespace,
        dep_base_url = config.dep_base_url,
        time_zone = %config.time_zone,
        "expiry-sweep function ready"
    );

    let function = Arc::new(function);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let function = Arc::clone(&function);
        async move {
            let deadline = invocation_deadline(event.context.deadline);
            expiry_sweep::handle_until(&event.payload, &function, Some(deadline)).await
        }
    }))
    .await
}

/// Converts the invocation's deadline, in milliseconds since the Unix epoch, into an instant
/// of the monotonic clock.
fn invocation_deadline(deadline_epoch_ms: u64) -> Instant {
    let deadline = UNIX_EPOCH + Duration::from_millis(deadline_epoch_ms);
    let left = deadline.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
    Instant::now() + left
}
