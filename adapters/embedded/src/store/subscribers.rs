//! The [`Subscribers`] port of [`SqliteStore`]: one item per recipient,
//! `TENANT#<tenant>` / `SUBSCRIBER#<id>`, with the id, protocol and address in its body.
//!
//! The local runner writes every notification to the outbox and the log, whether or not
//! anyone is subscribed. These recipients are a list to manage, and each one counts as confirmed.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use deptoken_shared::domain::TenantId;
use deptoken_shared::ports::{StoreError, SubscriberError, Subscribers};
use deptoken_shared::subscriber::{Contact, Subscriber, SubscriberId, SubscriberProtocol, SubscriptionStatus};

use super::items::{self, Order, Row, decode, encode};
use super::keys::{ItemKey, ItemKind, partition_key};
use super::{SqliteStore, in_transaction};

const SUBSCRIBER_PREFIX: &str = "SUBSCRIBER#";

/// The stored body of a recipient.
#[derive(Debug, Serialize, Deserialize)]
struct StoredSubscriber {
    id: SubscriberId,
    protocol: SubscriberProtocol,
    endpoint: String,
}

impl From<StoredSubscriber> for Subscriber {
    fn from(stored: StoredSubscriber) -> Self {
        Subscriber {
            id: stored.id,
            protocol: stored.protocol,
            endpoint: stored.endpoint,
            status: SubscriptionStatus::Confirmed,
        }
    }
}

fn subscriber_key(tenant: &TenantId, id: &SubscriberId) -> ItemKey {
    ItemKey {
        pk: partition_key(tenant),
        sk: format!("{SUBSCRIBER_PREFIX}{id}"),
    }
}

fn list_stored(connection: &rusqlite::Connection, pk: &str) -> Result<Vec<StoredSubscriber>, StoreError> {
    let rows: Vec<Row> = items::list(connection, pk, ItemKind::Subscriber, SUBSCRIBER_PREFIX, Order::Ascending)?;
    rows.iter().map(decode).collect()
}

/// Maps a store error: a locked database may succeed later, everything else is unavailable.
fn from_store(error: StoreError) -> SubscriberError {
    match error {
        StoreError::Throttled => SubscriberError::Throttled,
        other => SubscriberError::Unavailable(Box::new(other)),
    }
}

#[async_trait]
impl Subscribers for SqliteStore {
    async fn list_subscribers(&self, tenant: &TenantId) -> Result<Vec<Subscriber>, SubscriberError> {
        let pk = partition_key(tenant);

        let mut stored = self.run(move |connection| list_stored(connection, &pk)).await.map_err(from_store)?;

        stored.sort_by(|a, b| (a.protocol, &a.endpoint).cmp(&(b.protocol, &b.endpoint)));
        Ok(stored.into_iter().map(Subscriber::from).collect())
    }

    async fn add_subscriber(&self, tenant: &TenantId, contact: &Contact) -> Result<Subscriber, SubscriberError> {
        let pk = partition_key(tenant);
        let candidate = StoredSubscriber {
            id: new_id(),
            protocol: contact.protocol(),
            endpoint: contact.endpoint().to_owned(),
        };
        let key = subscriber_key(tenant, &candidate.id);

        let stored = self
            .run(move |connection| {
                // One transaction, so that two concurrent adds of one address store it once.
                in_transaction(connection, |transaction| {
                    let existing = list_stored(transaction, &pk)?
                        .into_iter()
                        .find(|s| s.protocol == candidate.protocol && s.endpoint == candidate.endpoint);
                    if let Some(existing) = existing {
                        return Ok(existing);
                    }

                    if !items::insert_new(transaction, &key, ItemKind::Subscriber, 1, &encode(&candidate)?)? {
                        return Err(StoreError::AlreadyExists);
                    }
                    Ok(candidate)
                })
            })
            .await
            .map_err(from_store)?;
        Ok(stored.into())
    }

    async fn remove_subscriber(&self, tenant: &TenantId, id: &SubscriberId) -> Result<(), SubscriberError> {
        let key = subscriber_key(tenant, id);

        let existed = self.run(move |connection| items::delete(connection, &key)).await.map_err(from_store)?;

        if existed { Ok(()) } else { Err(SubscriberError::NotFound) }
    }
}

/// Makes a random subscriber id (a version 4 UUID), the same shape as the ids of SNS subscriptions.
fn new_id() -> SubscriberId {
    let id = uuid::Uuid::new_v4().to_string();
    // A hyphenated UUID has 36 characters of hex digits and hyphens, so it always parses.
    SubscriberId::parse(&id).unwrap_or_else(|| unreachable!("a UUID is a valid subscriber id: {id}"))
}
