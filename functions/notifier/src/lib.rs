//! The `notifier` Lambda function: a consumer of the table's DynamoDB stream. It looks for
//! changed DEP server entries whose notification stage is not sent yet. For each, it
//! publishes the stage's message to SNS (the full text by e-mail, a short text by SMS, with
//! the `tenant_id` and `severity` attributes), then marks the stage as sent with a
//! conditional write.
//!
//! It reports partial batch failures: only the failed records are retried, and the event
//! source mapping sends what never succeeds to the dead-letter queue. A redelivered record
//! whose stage is already marked sends nothing.
//!
//! [`handle`] is a whole invocation, so tests run it in-process with a real stream batch.
//! `main` reads the [`Config`] once, calls [`build_services`] and serves invocations.

pub mod config;

use std::collections::HashMap;
use std::error::Error;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_dynamodb::types::AttributeValue;
use deptoken_aws::{AwsAdapters, SnsNotifier};
use deptoken_shared::clock::SystemClock;
use deptoken_shared::dep::{DepClient, DepClientConfig, DepClientError};
use deptoken_shared::ports::StoreError;
use deptoken_shared::usecases::{Delivery, NotificationSettings, NotifyFailure, NotifyOutcome, Services};
use lambda_runtime::Diagnostic;
use tracing::Instrument as _;

pub use config::{Config, ConfigError};

/// The result of one stream record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Not the change of a DEP server entry: a removal, or another item type.
    Skipped,
    /// The entry was handed to the notify use case.
    Notified(NotifyOutcome),
}

/// The failure of one stream record; the record is reported for a retry.
#[derive(Debug, thiserror::Error)]
pub enum RecordFailure {
    #[error("the record's new image is not a readable DEP server entry")]
    Image(#[source] StoreError),
    #[error("notifying about the entry failed")]
    Notify(#[source] NotifyFailure),
}

/// The failure of a whole invocation: Lambda retries the whole batch.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A failed record must be reported by its sequence number, which DynamoDB Streams always
    /// sets. Without it the only safe report is a failure of the whole batch.
    #[error("stream record {event_id} failed and has no sequence number to report it by")]
    MissingSequenceNumber { event_id: String },
}

impl From<BatchError> for Diagnostic {
    fn from(error: BatchError) -> Self {
        Diagnostic {
            error_type: "BatchError.MissingSequenceNumber".to_owned(),
            error_message: error.to_string(),
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

/// Processes one stream record: decodes its new image as the store does and calls
/// [`Services::notify_record`]. A new image whose stage is already marked as sent publishes
/// nothing and reads nothing.
pub async fn process_record(record: &EventRecord, services: &Services) -> Result<RecordOutcome, RecordFailure> {
    if record.event_name == "REMOVE" || record.change.new_image.is_empty() {
        return Ok(RecordOutcome::Skipped);
    }

    let image: HashMap<String, AttributeValue> = record.change.new_image.clone().into();
    let Some(entry) = deptoken_aws::dynamo::server_from_image(image).map_err(RecordFailure::Image)? else {
        return Ok(RecordOutcome::Skipped);
    };

    let outcome = services.notify_record(&entry).await.map_err(RecordFailure::Notify)?;
    Ok(RecordOutcome::Notified(outcome))
}

/// Processes the records of a stream batch in order and returns the sequence numbers of the
/// failed ones.
///
/// A failure does not stop the batch. Lambda retries from the lowest reported sequence
/// number, so the records after a failed one come again, and for them the notify use case
/// finds their stages marked and sends nothing twice.
pub async fn handle(event: Event, services: &Services) -> Result<DynamoDbEventResponse, BatchError> {
    let mut failures = Vec::new();
    let mut published = 0usize;

    for record in &event.records {
        let sequence_number = record.change.sequence_number.clone();
        let span = tracing::info_span!(
            "stream_record",
            event_id = record.event_id,
            event_name = record.event_name,
            sequence_number = sequence_number.as_deref().unwrap_or("")
        );

        let result = process_record(record, services).instrument(span.clone()).await;

        match result {
            Ok(outcome) => {
                if matches!(outcome, RecordOutcome::Notified(NotifyOutcome::Published(_))) {
                    published += 1;
                }
                span.in_scope(|| tracing::debug!(outcome = ?outcome, "stream record processed"));
            }
            Err(error) => {
                span.in_scope(|| tracing::error!(error = %cause_chain(&error), "stream record failed; reporting it for a retry"));
                let Some(sequence_number) = sequence_number else {
                    return Err(BatchError::MissingSequenceNumber {
                        event_id: record.event_id.clone(),
                    });
                };
                // The event types are `#[non_exhaustive]`, so they are filled in after `default()`.
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence_number);
                failures.push(failure);
            }
        }
    }

    tracing::info!(records = event.records.len(), published, failed = failures.len(), "stream batch processed");
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failures;
    Ok(response)
}

/// A cold-start failure after the configuration was read.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot build the DEP client")]
    DepClient(#[source] DepClientError),
}

/// Builds the use cases on the AWS adapters made from `sdk_config` (DynamoDB, SNS), with the
/// configured language, time zone and portal link. `main` passes the SDK configuration it
/// loaded, tests one aimed at moto with static credentials.
pub fn build_services(config: &Config, sdk_config: &SdkConfig) -> Result<Arc<Services>, BuildError> {
    // The notify use case never calls Apple, but `Services` needs a DEP client, and its
    // reqwest client needs a crypto provider.
    deptoken_shared::dep::install_crypto_provider();
    let dep = DepClient::new(DepClientConfig::default()).map_err(BuildError::DepClient)?;
    let aws = AwsAdapters::from_sdk_config(sdk_config, &config.aws);
    let sns = aws_sdk_sns::Client::new(sdk_config);

    Ok(Arc::new(Services {
        store: Arc::new(aws.store),
        vault: Arc::new(aws.key_vault),
        sealer: Arc::new(aws.sealer),
        dep: Arc::new(dep),
        notifier: Arc::new(SnsNotifier::new(sns, config.topic_arn.clone())),
        clock: Arc::new(SystemClock),
        time_zone: config.time_zone,
        notifications: NotificationSettings {
            lang: config.lang,
            portal_url: config.portal_url.clone(),
            delivery: Delivery::Stream,
        },
    }))
}
