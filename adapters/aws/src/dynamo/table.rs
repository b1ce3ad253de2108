//! The table definition, for tests and as the reference for the infrastructure template.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use deptoken_shared::ports::StoreError;

use super::errors::{ConditionFailure, from_build, from_sdk};
use super::keys::{PK, SK, SWEEP_INDEX, SWEEP_SHARD};

/// How long [`create_table`] waits for the table to become active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// Creates the deptoken table `name` and waits until it is active:
///
/// - key `pk` (string, partition) and `sk` (string, sort); on-demand billing;
/// - a stream with new and old images (the notifier's input);
/// - the sparse global secondary index `sweep` with partition key `sweep_shard` (number) and
///   sort key `pk`, projecting all attributes. Only DEP server entries carry `sweep_shard`,
///   so the index contains entries and nothing else.
pub async fn create_table(client: &Client, name: &str) -> Result<(), StoreError> {
    let key = |attribute: &str, key_type: KeyType| {
        KeySchemaElement::builder().attribute_name(attribute).key_type(key_type).build().map_err(from_build)
    };
    let attribute = |attribute: &str, kind: ScalarAttributeType| {
        AttributeDefinition::builder().attribute_name(attribute).attribute_type(kind).build().map_err(from_build)
    };

    let sweep_index = GlobalSecondaryIndex::builder()
        .index_name(SWEEP_INDEX)
        .key_schema(key(SWEEP_SHARD, KeyType::Hash)?)
        .key_schema(key(PK, KeyType::Range)?)
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .map_err(from_build)?;
    let stream = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewAndOldImages)
        .build()
        .map_err(from_build)?;

    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attribute(PK, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(SK, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(SWEEP_SHARD, ScalarAttributeType::N)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .global_secondary_indexes(sweep_index)
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(stream)
        .send()
        .await
        .map_err(|err| from_sdk(err, ConditionFailure::AlreadyExists))?;

    client
        .wait_until_table_exists()
        .table_name(name)
        .wait(ACTIVE_TIMEOUT)
        .await
        .map_err(|err| StoreError::Unavailable(Box::new(err)))?;
    Ok(())
}
