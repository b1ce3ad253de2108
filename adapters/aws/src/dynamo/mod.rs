//! The DynamoDB store: one table holding DEP server entries, their upload history and the
//! tenants' MDM keys (layout in [`keys`]), and a sparse index over the entries for the sweep.

mod batch;
mod errors;
mod items;
pub mod keys;
mod query;
mod store;
mod sweep;
mod table;

pub use keys::{SWEEP_INDEX, SWEEP_SHARDS};
pub use table::create_table;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use deptoken_shared::model::ServerRecord;
use deptoken_shared::ports::StoreError;

/// Encodes a DEP server entry as the store writes it, with the table's attributes (`pk`, `sk`,
/// `kind`, and `sweep_shard` for the sweep index), for writing many entries at once with
/// `BatchWriteItem` outside the store, such as when seeding a table.
pub fn server_to_item(record: &ServerRecord) -> Result<HashMap<String, AttributeValue>, StoreError> {
    items::server_item(record)
}

/// Decodes a DEP server entry from an item in the table's layout, such as the new image of a
/// stream record, as the store reads one. Returns `Ok(None)` for any other item (a history row,
/// a key, a subscriber). A damaged entry is `Corrupt`, naming its `pk` and `sk`.
pub fn server_from_image(item: HashMap<String, AttributeValue>) -> Result<Option<ServerRecord>, StoreError> {
    let is_server = matches!(item.get(keys::KIND), Some(AttributeValue::S(kind)) if kind == items::SERVER_KIND);
    if !is_server {
        return Ok(None);
    }
    items::server_from_item(item).map(Some)
}

/// [`deptoken_shared::ports::Store`] on one DynamoDB table.
///
/// Every write is conditional on the item's `version` (or on its absence for creates). Reads
/// from the table are strongly consistent, so a write is visible to the next request.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// Returns the table name.
    pub fn table(&self) -> &str {
        &self.table
    }
}
