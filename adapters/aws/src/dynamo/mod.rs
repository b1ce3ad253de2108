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
