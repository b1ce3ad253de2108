//! The parallel Scan of the sweep index.

use deptoken_shared::model::ServerRecord;
use deptoken_shared::ports::StoreError;
use futures_util::future::try_join_all;

use super::DynamoStore;
use super::errors::{ConditionFailure, from_sdk};
use super::items::{Item, item_location, server_from_item};
use super::keys::SWEEP_INDEX;

/// Parallel Scan segments of [`Store::list_all_servers`](deptoken_shared::ports::Store::list_all_servers).
/// Each segment is one sequential chain of pages, so this many requests run at once.
pub(crate) const DEFAULT_SCAN_SEGMENTS: u32 = 8;

/// DynamoDB accepts at most this many Scan segments.
const MAX_SEGMENTS: u32 = 1_000_000;

impl DynamoStore {
    /// Reads every DEP server entry of every tenant from the sparse sweep index, with
    /// `segments` parallel Scan segments (clamped to 1..=1,000,000), each to its last page.
    ///
    /// The outer error means that the scan failed as a whole. An inner error is one item that
    /// could not be decoded (`Corrupt`, naming its `pk`/`sk`), so one bad item does not stop
    /// the sweep. Index reads are eventually consistent.
    #[tracing::instrument(skip_all, fields(table = %self.table, segments))]
    pub async fn scan_all_servers(&self, segments: u32) -> Result<Vec<Result<ServerRecord, StoreError>>, StoreError> {
        let segments = segments.clamp(1, MAX_SEGMENTS);
        tracing::Span::current().record("segments", segments);

        let pages = try_join_all((0..segments).map(|segment| self.scan_segment(segment, segments))).await?;

        let servers: Vec<_> = pages.into_iter().flatten().map(decode_entry).collect();
        tracing::info!(items = servers.len(), "sweep index scanned");
        Ok(servers)
    }

    async fn scan_segment(&self, segment: u32, total: u32) -> Result<Vec<Item>, StoreError> {
        // Segment numbers fit in i32 because `total` is at most MAX_SEGMENTS.
        let to_i32 = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
        let request = self
            .client
            .scan()
            .table_name(&self.table)
            .index_name(SWEEP_INDEX)
            .segment(to_i32(segment))
            .total_segments(to_i32(total));

        let mut items = Vec::new();
        let mut start_key: Option<Item> = None;
        loop {
            let page = request
                .clone()
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(|err| from_sdk(err, ConditionFailure::Conflict))?;
            items.extend(page.items.unwrap_or_default());

            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

fn decode_entry(item: Item) -> Result<ServerRecord, StoreError> {
    let location = item_location(&item);
    server_from_item(item).inspect_err(|err| tracing::warn!(item = %location, error = %err, "sweep index item is invalid"))
}
