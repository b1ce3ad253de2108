//! The `expiry-sweep` Lambda function. EventBridge Scheduler invokes it daily. It sweeps
//! every DEP server entry of every tenant (read in parallel segments of the table's sweep
//! index), checks each unexpired token with Apple unless configured off, writes back what
//! changed, and prints the counts as CloudWatch embedded metric format. It records new
//! notification stages only: the notifier function publishes them from the table's stream.
//!
//! [`handle`] is a whole invocation, so tests run it in-process with a real event. `main`
//! reads the [`Config`] once, calls [`build_function`] and serves invocations.

pub mod config;
pub mod metrics;

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use deptoken_aws::AwsAdapters;
use deptoken_lambda::StreamDrivenNotifier;
use deptoken_shared::clock::SystemClock;
use deptoken_shared::dep::{DepClient, DepClientConfig, DepClientError};
use deptoken_shared::ports::StoreError;
use deptoken_shared::usecases::{Delivery, NotificationSettings, Services, SweepOptions, SweepReport};
use lambda_runtime::Diagnostic;
use serde_json::Value;

pub use config::{Config, ConfigError};
pub use metrics::EmfWriter;

/// The function: the use cases, the sweep's settings and the metrics output, built once at
/// cold start.
#[derive(Clone)]
pub struct SweepFunction {
    pub services: Arc<Services>,
    pub options: SweepOptions,
    pub metrics: EmfWriter,
}

/// The failure of a whole invocation. Lambda then retries the event (a sweep is idempotent)
/// and finally sends it to the dead-letter queue.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("the sweep could not list the entries")]
    Listing(#[source] StoreError),
}

impl From<SweepError> for Diagnostic {
    fn from(error: SweepError) -> Self {
        let error_type = match error {
            SweepError::Listing(_) => "SweepError.Listing",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: cause_chain(&error),
        }
    }
}

/// Joins an error and its sources into one line.
fn cause_chain(error: &(dyn Error + 'static)) -> String {
    let messages: Vec<String> = std::iter::successors(Some(error), |error| (*error).source())
        .map(ToString::to_string)
        .collect();
    messages.join(": ")
}

/// Time left after the last Apple check starts, for that check, the write-back of the
/// remaining entries and the report. An estimate: a check with retries takes seconds, and the
/// write-back of 100,000 entries on DynamoDB was not measured.
pub const APPLE_CHECK_MARGIN: Duration = Duration::from_secs(120);

/// Runs one sweep for the scheduled `event` and returns its report.
///
/// The event's content does not change what is swept: EventBridge Scheduler's default
/// notification, an EventBridge rule's scheduled event and a hand-made `{}` all run the same
/// sweep. Its `id`, `time` and `source`, when present, are logged. Only a failure to list the
/// entries fails the invocation: the sweep counts a bad entry and goes on.
pub async fn handle(event: &Value, function: &SweepFunction) -> Result<SweepReport, SweepError> {
    handle_until(event, function, None).await
}

/// Runs [`handle`] in an invocation that Lambda ends at `invocation_deadline`: Apple checks
/// stop [`APPLE_CHECK_MARGIN`] before it, so that the sweep writes back every entry and
/// returns its report instead of timing out.
pub async fn handle_until(
    event: &Value,
    function: &SweepFunction,
    invocation_deadline: Option<Instant>,
) -> Result<SweepReport, SweepError> {
    let field = |name: &str| event.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
    tracing::info!(event_id = field("id"), scheduled_time = field("time"), source = field("source"), "sweep invoked");

    let mut options = function.options.clone();
    options.apple_deadline = invocation_deadline.map(|deadline| {
        deadline
            .checked_sub(APPLE_CHECK_MARGIN)
            .unwrap_or_else(Instant::now)
    });
    let report = function.services.sweep(&options).await.map_err(SweepError::Listing)?;

    if let Err(error) = function.metrics.write(&report) {
        tracing::error!(%error, "cannot write the sweep's metrics line");
    }
    tracing::info!(
        changes = report.changes.len(),
        failures = report.failures.len(),
        pending = report.pending.len(),
        "sweep function finished"
    );
    Ok(report)
}

/// A cold-start failure after the configuration was read.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot build the DEP client from the configured base URL and timeout")]
    DepClient(#[source] DepClientError),
}

/// Builds the function on the AWS adapters made from `sdk_config` (DynamoDB and KMS), a DEP
/// client and metrics on standard output. Notifications are only recorded
/// ([`Delivery::Stream`]): the notifier function publishes them from the table's stream.
/// `main` passes the SDK configuration it loaded, tests one aimed at moto with static credentials.
pub fn build_function(config: &Config, sdk_config: &SdkConfig) -> Result<SweepFunction, BuildError> {
    // reqwest is built without a default crypto provider, and the DEP client needs one.
    deptoken_shared::dep::install_crypto_provider();
    let dep = DepClient::new(DepClientConfig {
        base_url: config.dep_base_url.clone(),
        request_timeout: config.dep_request_timeout,
        ..DepClientConfig::default()
    })
    .map_err(BuildError::DepClient)?;
    let aws = AwsAdapters::from_sdk_config(sdk_config, &config.aws);

    let services = Services {
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
    };
    Ok(SweepFunction {
        services: Arc::new(services),
        options: config.options.clone(),
        metrics: EmfWriter::stdout(config.metrics_namespace.clone()),
    })
}
