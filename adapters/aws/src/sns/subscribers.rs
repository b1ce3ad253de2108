//! [`Subscribers`] on SNS: e-mail and SMS subscriptions to the notification topic, each with
//! the filter policy `{"tenant_id":["<tenant>"]}` on message attributes.
//!
//! Each subscription also has an index item in the table, `TENANT#<tenant>` /
//! `SUBSCRIBER#<id>`, with its protocol, address and ARN. Listing a tenant's recipients is a
//! Query of its partition instead of a walk over the whole topic. The walk would not work
//! anyway: `ListSubscriptionsByTopic` shows an unconfirmed e-mail subscription as
//! `PendingConfirmation` without its ARN, so its filter policy cannot be read and it could
//! not be attributed to a tenant or removed. `Subscribe` with `ReturnSubscriptionArn` returns
//! the ARN at once, and the index item keeps it.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sns::error::ProvideErrorMetadata;
use deptoken_shared::domain::TenantId;
use deptoken_shared::ports::{SubscriberError, Subscribers};
use deptoken_shared::subscriber::{Contact, Subscriber, SubscriberId, SubscriberProtocol, SubscriptionStatus};
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde::{Deserialize, Serialize};

use super::TENANT_ATTRIBUTE;
use super::errors::{from_dynamodb, from_sns};
use crate::dynamo::keys::partition_key;

const SUBSCRIBER_PREFIX: &str = "SUBSCRIBER#";
const SUBSCRIBER_KIND: &str = "subscriber";

/// Subscription status reads in flight while listing; a tenant has a handful of recipients.
const STATUS_READS_IN_FLIGHT: usize = 4;

/// The index item of one subscription, without the table's key attributes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IndexItem {
    id: SubscriberId,
    protocol: SubscriberProtocol,
    endpoint: String,
    subscription_arn: String,
}

impl IndexItem {
    fn into_subscriber(self, status: SubscriptionStatus) -> Subscriber {
        Subscriber {
            id: self.id,
            protocol: self.protocol,
            endpoint: self.endpoint,
            status,
        }
    }
}

type Item = HashMap<String, AttributeValue>;

/// The tenants' recipients as SNS subscriptions to one topic, indexed in the DynamoDB table.
#[derive(Debug, Clone)]
pub struct SnsSubscribers {
    sns: aws_sdk_sns::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    topic_arn: String,
}

impl SnsSubscribers {
    /// Manages subscriptions to `topic_arn`, with their index items in `table`.
    pub fn new(
        sns: aws_sdk_sns::Client,
        dynamodb: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        topic_arn: impl Into<String>,
    ) -> Self {
        Self {
            sns,
            dynamodb,
            table: table.into(),
            topic_arn: topic_arn.into(),
        }
    }

    /// Returns the subscriber id of a subscription ARN of this topic, which is the topic ARN
    /// followed by `:` and a UUID.
    fn id_of(&self, subscription_arn: &str) -> Option<SubscriberId> {
        let suffix = subscription_arn.strip_prefix(&self.topic_arn)?.strip_prefix(':')?;
        SubscriberId::parse(suffix)
    }

    fn key(tenant: &TenantId, id: &SubscriberId) -> Item {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(partition_key(tenant))),
            ("sk".to_owned(), AttributeValue::S(format!("{SUBSCRIBER_PREFIX}{id}"))),
        ])
    }

    /// Reads every index item of the tenant, page by page.
    async fn index_items(&self, tenant: &TenantId) -> Result<Vec<IndexItem>, SubscriberError> {
        let request = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(partition_key(tenant)))
            .expression_attribute_values(":prefix", AttributeValue::S(SUBSCRIBER_PREFIX.to_owned()));

        let mut items = Vec::new();
        let mut start_key: Option<Item> = None;
        loop {
            let page = request
                .clone()
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(from_dynamodb)?;
            for item in page.items.unwrap_or_default() {
                items.push(decode(item)?);
            }

            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Reads whether SNS still waits for the recipient to confirm the subscription.
    async fn status_of(&self, subscription_arn: &str) -> Result<SubscriptionStatus, SubscriberError> {
        let output = self
            .sns
            .get_subscription_attributes()
            .subscription_arn(subscription_arn)
            .send()
            .await;

        match output {
            Ok(output) => {
                let pending = output
                    .attributes()
                    .and_then(|attributes| attributes.get("PendingConfirmation"))
                    .is_some_and(|value| value == "true");
                Ok(if pending { SubscriptionStatus::PendingConfirmation } else { SubscriptionStatus::Confirmed })
            }
            Err(error) if error.code() == Some("NotFound") => Ok(SubscriptionStatus::Unsubscribed),
            Err(error) => Err(from_sns(error)),
        }
    }

    /// Subscribes `contact` with the tenant's filter policy. SNS keeps one subscription per
    /// protocol and address on a topic, so an address another tenant subscribed already is
    /// `AlreadyExists` (SNS rejects attributes that differ from the existing subscription's).
    // NOTE: moto 5.2 does not reject it: it returns the existing subscription and replaces its
    // filter policy. The tests therefore never subscribe one address for two tenants.
    async fn subscribe(&self, tenant: &TenantId, contact: &Contact) -> Result<String, SubscriberError> {
        let filter_policy = serde_json::json!({ TENANT_ATTRIBUTE: [tenant.as_str()] }).to_string();

        let output = self
            .sns
            .subscribe()
            .topic_arn(&self.topic_arn)
            .protocol(contact.protocol().as_str())
            .endpoint(contact.endpoint())
            .attributes("FilterPolicy", filter_policy)
            .attributes("FilterPolicyScope", "MessageAttributes")
            .return_subscription_arn(true)
            .send()
            .await
            .map_err(from_sns)?;

        output
            .subscription_arn()
            .map(str::to_owned)
            .ok_or_else(|| SubscriberError::Unavailable("Subscribe returned no subscription ARN".into()))
    }

    /// Removes a subscription that SNS made but the index never recorded, so that no
    /// recipient receives messages it cannot see in the list. A failure is logged only.
    async fn unsubscribe_orphan(&self, tenant: &TenantId, id: &SubscriberId, subscription_arn: &str) {
        if let Err(error) = self.sns.unsubscribe().subscription_arn(subscription_arn).send().await {
            tracing::error!(
                %tenant,
                subscriber = %id,
                error = %error,
                "cannot remove a subscription whose index item was not written; remove it in SNS by hand"
            );
        }
    }
}

fn decode(mut item: Item) -> Result<IndexItem, SubscriberError> {
    for table_attribute in ["pk", "sk", "kind"] {
        item.remove(table_attribute);
    }
    serde_dynamo::from_item(item).map_err(|error| SubscriberError::Unavailable(Box::new(error)))
}

fn encode(tenant: &TenantId, index: &IndexItem) -> Result<Item, SubscriberError> {
    let mut item: Item = serde_dynamo::to_item(index).map_err(|error| SubscriberError::Unavailable(Box::new(error)))?;
    item.extend(SnsSubscribers::key(tenant, &index.id));
    item.insert("kind".to_owned(), AttributeValue::S(SUBSCRIBER_KIND.to_owned()));
    Ok(item)
}

fn is_condition_failure<E: ProvideErrorMetadata>(error: &E) -> bool {
    error.code() == Some("ConditionalCheckFailedException")
}

#[async_trait]
impl Subscribers for SnsSubscribers {
    #[tracing::instrument(skip_all, fields(%tenant))]
    async fn list_subscribers(&self, tenant: &TenantId) -> Result<Vec<Subscriber>, SubscriberError> {
        let items = self.index_items(tenant).await?;

        let mut subscribers: Vec<Subscriber> = futures_util::stream::iter(items)
            .map(|item| async move {
                let status = self.status_of(&item.subscription_arn).await?;
                Ok::<_, SubscriberError>(item.into_subscriber(status))
            })
            .buffer_unordered(STATUS_READS_IN_FLIGHT)
            .try_collect()
            .await?;

        subscribers.sort_by(|a, b| (a.protocol, &a.endpoint).cmp(&(b.protocol, &b.endpoint)));
        Ok(subscribers)
    }

    #[tracing::instrument(skip_all, fields(%tenant, protocol = %contact.protocol()))]
    async fn add_subscriber(&self, tenant: &TenantId, contact: &Contact) -> Result<Subscriber, SubscriberError> {
        let existing = self
            .index_items(tenant)
            .await?
            .into_iter()
            .find(|item| item.protocol == contact.protocol() && item.endpoint == contact.endpoint());
        if let Some(item) = existing {
            let status = self.status_of(&item.subscription_arn).await?;
            return Ok(item.into_subscriber(status));
        }

        let subscription_arn = self.subscribe(tenant, contact).await?;
        let id = self.id_of(&subscription_arn).ok_or_else(|| {
            SubscriberError::Unavailable(format!("subscription ARN {subscription_arn} is not of topic {}", self.topic_arn).into())
        })?;
        let index = IndexItem {
            id: id.clone(),
            protocol: contact.protocol(),
            endpoint: contact.endpoint().to_owned(),
            subscription_arn,
        };

        let written = self
            .dynamodb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(tenant, &index)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match written {
            Ok(_) => {}
            // A concurrent add of the same address wrote the same item first.
            Err(error) if is_condition_failure(&error) => {}
            Err(error) => {
                self.unsubscribe_orphan(tenant, &id, &index.subscription_arn).await;
                return Err(from_dynamodb(error));
            }
        }

        let status = self.status_of(&index.subscription_arn).await?;
        Ok(index.into_subscriber(status))
    }

    #[tracing::instrument(skip_all, fields(%tenant, subscriber = %id))]
    async fn remove_subscriber(&self, tenant: &TenantId, id: &SubscriberId) -> Result<(), SubscriberError> {
        let stored = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(tenant, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_dynamodb)?;
        let Some(item) = stored.item else {
            return Err(SubscriberError::NotFound);
        };
        let index = decode(item)?;
        if self.id_of(&index.subscription_arn).as_ref() != Some(id) {
            return Err(SubscriberError::Unavailable(
                format!("index item {id} names a subscription of another topic").into(),
            ));
        }

        // Unsubscribing first: when the delete below fails, the item stays listed and a
        // repeated removal finishes the job.
        match self.sns.unsubscribe().subscription_arn(&index.subscription_arn).send().await {
            Ok(_) => {}
            Err(error) if error.code() == Some("NotFound") => {}
            Err(error) => return Err(from_sns(error)),
        }

        let deleted = self
            .dynamodb
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(tenant, id)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            // A concurrent removal deleted it first.
            Err(error) if is_condition_failure(&error) => Ok(()),
            Err(error) => Err(from_dynamodb(error)),
        }
    }
}
