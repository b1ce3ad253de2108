//! Batch deletes in chunks of 25 (the `BatchWriteItem` maximum), retrying `UnprocessedItems`.

use std::time::Duration;

use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use deptoken_shared::ports::StoreError;

use super::DynamoStore;
use super::errors::{ConditionFailure, from_build, from_sdk};
use super::items::Item;

/// `BatchWriteItem` accepts at most 25 requests.
const BATCH_SIZE: usize = 25;

/// Attempts per chunk before unprocessed items are reported as throttling.
const MAX_ATTEMPTS: u32 = 8;

/// The first wait before resending unprocessed items; it doubles on each attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

impl DynamoStore {
    /// Deletes the items with the primary keys `keys`. Items already gone are no error.
    pub(crate) async fn delete_all(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(keys.len());
        for key in keys {
            let delete = DeleteRequest::builder().set_key(Some(key)).build().map_err(from_build)?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }

        let mut remaining = requests.into_iter().peekable();
        while remaining.peek().is_some() {
            let chunk: Vec<WriteRequest> = remaining.by_ref().take(BATCH_SIZE).collect();
            self.write_chunk(chunk).await?;
        }
        Ok(())
    }

    /// Sends one chunk and resends what DynamoDB leaves unprocessed, with exponential backoff.
    async fn write_chunk(&self, mut chunk: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=MAX_ATTEMPTS {
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, chunk)
                .send()
                .await
                .map_err(|err| from_sdk(err, ConditionFailure::Conflict))?;

            chunk = output
                .unprocessed_items
                .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                .unwrap_or_default();
            if chunk.is_empty() {
                return Ok(());
            }
            if attempt == MAX_ATTEMPTS {
                break;
            }

            tracing::warn!(
                table = %self.table,
                unprocessed = chunk.len(),
                attempt,
                "batch delete left items unprocessed; retrying"
            );
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        tracing::warn!(table = %self.table, unprocessed = chunk.len(), "batch delete gave up on unprocessed items");
        Err(StoreError::Throttled)
    }
}
