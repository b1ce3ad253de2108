//! Paginated Query over one partition: every page, following `LastEvaluatedKey`.

use aws_sdk_dynamodb::types::AttributeValue;
use deptoken_shared::ports::StoreError;

use super::DynamoStore;
use super::errors::{ConditionFailure, from_sdk};
use super::items::{Item, string};
use super::keys::{PK, SK};

/// A Query of the items of `pk` whose `sk` starts with `sk_prefix`.
pub(crate) struct PrefixQuery<'a> {
    pub pk: String,
    pub sk_prefix: String,
    /// An attribute that must equal a string value, such as `kind = server`.
    pub filter: Option<(&'a str, String)>,
    /// Only `pk` and `sk` are read when true.
    pub keys_only: bool,
    /// Descending `sk` order when true.
    pub newest_first: bool,
}

impl DynamoStore {
    /// Runs `query` to the last page and returns every matching item.
    pub(crate) async fn query_all(&self, query: PrefixQuery<'_>) -> Result<Vec<Item>, StoreError> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", string(query.pk))
            .expression_attribute_values(":prefix", string(query.sk_prefix))
            .scan_index_forward(!query.newest_first);
        if let Some((attribute, value)) = query.filter {
            request = request
                .filter_expression("#filter = :filter")
                .expression_attribute_names("#filter", attribute)
                .expression_attribute_values(":filter", string(value));
        }
        if query.keys_only {
            request = request.projection_expression("#pk, #sk");
        }

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

/// Returns the `pk` and `sk` of an item, for a delete request.
pub(crate) fn primary_key(item: &Item) -> Item {
    item.iter()
        .filter(|(name, _)| name.as_str() == PK || name.as_str() == SK)
        .map(|(name, value): (&String, &AttributeValue)| (name.clone(), value.clone()))
        .collect()
}
