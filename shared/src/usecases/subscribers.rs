//! The tenant's notification recipients: list, add and remove them over a [`Subscribers`] port.

use std::sync::Arc;

use crate::domain::{Caller, TenantId};
use crate::error::{AppError, ErrorCode, ErrorDetail};
use crate::ports::{SubscriberError, Subscribers};
use crate::subscriber::{Contact, Subscriber, SubscriberId};

use super::failure::{cause_chain, service_busy};

/// The recipient management of the API. Reading needs any caller of the tenant; adding and
/// removing need a caller who may write. Every call is scoped by the caller's tenant.
#[derive(Clone)]
pub struct SubscriberDirectory {
    subscribers: Arc<dyn Subscribers>,
}

impl SubscriberDirectory {
    pub fn new(subscribers: Arc<dyn Subscribers>) -> Self {
        Self { subscribers }
    }

    /// Lists the caller's tenant's recipients, ordered by protocol and address.
    #[tracing::instrument(skip_all, fields(tenant = %caller.tenant))]
    pub async fn list(&self, caller: &Caller) -> Result<Vec<Subscriber>, AppError> {
        self.subscribers
            .list_subscribers(&caller.tenant)
            .await
            .map_err(|error| from_subscribers(error, "list subscribers", &caller.tenant))
    }

    /// Subscribes `endpoint` on `protocol` (`email` or `sms`) to the tenant's notifications.
    /// Adding an address the tenant has already returns the existing recipient.
    #[tracing::instrument(skip_all, fields(tenant = %caller.tenant, protocol))]
    pub async fn add(&self, caller: &Caller, protocol: &str, endpoint: &str) -> Result<Subscriber, AppError> {
        caller.require_write()?;
        let contact = Contact::parse(protocol, endpoint)?;
        tracing::Span::current().record("protocol", contact.protocol().as_str());

        let subscriber = self
            .subscribers
            .add_subscriber(&caller.tenant, &contact)
            .await
            .map_err(|error| from_subscribers(error, "add subscriber", &caller.tenant))?;
        tracing::info!(subscriber = %subscriber.id, "subscriber added");
        Ok(subscriber)
    }

    /// Removes the tenant's recipient `id`. An id the tenant does not have, including a
    /// malformed one and another tenant's, is `not_found`.
    #[tracing::instrument(skip_all, fields(tenant = %caller.tenant))]
    pub async fn remove(&self, caller: &Caller, id: &str) -> Result<(), AppError> {
        caller.require_write()?;
        let Some(id) = SubscriberId::parse(id) else {
            return Err(not_found());
        };

        self.subscribers
            .remove_subscriber(&caller.tenant, &id)
            .await
            .map_err(|error| from_subscribers(error, "remove subscriber", &caller.tenant))?;
        tracing::info!(subscriber = %id, "subscriber removed");
        Ok(())
    }
}

fn not_found() -> AppError {
    AppError::with_detail(ErrorCode::NotFound, ErrorDetail::Subscriber)
}

/// Maps a subscriber directory error. Failures the caller cannot act on are logged here once.
fn from_subscribers(error: SubscriberError, operation: &'static str, tenant: &TenantId) -> AppError {
    match error {
        SubscriberError::NotFound => not_found(),
        SubscriberError::AlreadyExists => AppError::with_detail(ErrorCode::AlreadyExists, ErrorDetail::Subscriber),
        SubscriberError::Rejected(reason) => {
            tracing::info!(operation, %tenant, reason, "the delivery service rejected the address");
            AppError::with_detail(ErrorCode::InvalidRequest, ErrorDetail::InvalidField { field: "endpoint".to_owned() })
        }
        SubscriberError::Throttled => {
            tracing::warn!(operation, %tenant, "subscriber directory throttled the request");
            service_busy()
        }
        SubscriberError::Unavailable(_) => {
            tracing::error!(operation, %tenant, error = %cause_chain(&error), "subscriber directory operation failed");
            AppError::new(ErrorCode::InternalError)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::domain::Role;
    use crate::subscriber::{SubscriberProtocol, SubscriptionStatus};

    /// The answer of every port call, as a function because `SubscriberError` is not `Clone`.
    type Answer = fn() -> Result<(), SubscriberError>;

    /// Records the calls that reach the port and answers each with `answer`.
    struct Recording {
        calls: Mutex<Vec<String>>,
        answer: Answer,
    }

    #[async_trait]
    impl Subscribers for Recording {
        async fn list_subscribers(&self, tenant: &TenantId) -> Result<Vec<Subscriber>, SubscriberError> {
            self.calls.lock().unwrap().push(format!("list {tenant}"));
            (self.answer)().map(|()| Vec::new())
        }

        async fn add_subscriber(&self, tenant: &TenantId, contact: &Contact) -> Result<Subscriber, SubscriberError> {
            self.calls.lock().unwrap().push(format!("add {tenant} {}", contact.endpoint()));
            (self.answer)().map(|()| Subscriber {
                id: SubscriberId::parse("s1").unwrap(),
                protocol: contact.protocol(),
                endpoint: contact.endpoint().to_owned(),
                status: SubscriptionStatus::Confirmed,
            })
        }

        async fn remove_subscriber(&self, tenant: &TenantId, id: &SubscriberId) -> Result<(), SubscriberError> {
            self.calls.lock().unwrap().push(format!("remove {tenant} {id}"));
            (self.answer)()
        }
    }

    fn directory(answer: Answer) -> (SubscriberDirectory, Arc<Recording>) {
        let port = Arc::new(Recording {
            calls: Mutex::new(Vec::new()),
            answer,
        });
        (SubscriberDirectory::new(port.clone()), port)
    }

    fn caller(role: Role) -> Caller {
        Caller {
            tenant: TenantId::parse("acme").unwrap(),
            role,
            subject: "someone".to_owned(),
        }
    }

    #[tokio::test]
    async fn add_normalizes_before_the_port() {
        let (directory, port) = directory(|| Ok(()));

        let added = directory.add(&caller(Role::Admin), "email", " IT@Example.JP ").await.expect("added");

        assert_eq!(added.endpoint, "IT@example.jp");
        assert_eq!(added.protocol, SubscriberProtocol::Email);
        assert_eq!(*port.calls.lock().unwrap(), ["add acme IT@example.jp"]);
    }

    #[tokio::test]
    async fn reader_cannot_add_or_remove() {
        let (directory, port) = directory(|| Ok(()));
        let reader = caller(Role::Reader);

        let added = directory.add(&reader, "email", "it@example.jp").await;
        let removed = directory.remove(&reader, "s1").await;
        let listed = directory.list(&reader).await;

        assert_eq!(added.map(|_| ()), Err(AppError::new(ErrorCode::Forbidden)));
        assert_eq!(removed, Err(AppError::new(ErrorCode::Forbidden)));
        assert!(listed.is_ok());
        assert_eq!(*port.calls.lock().unwrap(), ["list acme"]);
    }

    #[tokio::test]
    async fn invalid_input_never_reaches_port() {
        let (directory, port) = directory(|| Ok(()));
        let admin = caller(Role::Admin);

        let bad_protocol = directory.add(&admin, "fax", "+81312345678").await;
        let bad_number = directory.add(&admin, "sms", "03-1234-5678").await;
        let bad_id = directory.remove(&admin, "arn:aws:sns:us-east-1:1:t:x").await;

        assert_eq!(
            bad_protocol.map(|_| ()),
            Err(AppError::with_detail(ErrorCode::InvalidRequest, ErrorDetail::InvalidField { field: "protocol".into() }))
        );
        assert_eq!(
            bad_number.map(|_| ()),
            Err(AppError::with_detail(ErrorCode::InvalidRequest, ErrorDetail::InvalidField { field: "endpoint".into() }))
        );
        assert_eq!(bad_id, Err(not_found()));
        assert!(port.calls.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn port_errors_map_to_codes() {
        let cases: [(&str, Answer, ErrorCode); 5] = [
            ("not found", || Err(SubscriberError::NotFound), ErrorCode::NotFound),
            ("already exists", || Err(SubscriberError::AlreadyExists), ErrorCode::AlreadyExists),
            ("rejected", || Err(SubscriberError::Rejected("unsupported country".into())), ErrorCode::InvalidRequest),
            ("throttled", || Err(SubscriberError::Throttled), ErrorCode::ServiceBusy),
            (
                "unavailable",
                || Err(SubscriberError::Unavailable("connection reset".into())),
                ErrorCode::InternalError,
            ),
        ];

        for (label, answer, expected) in cases {
            let (directory, _port) = directory(answer);

            let result = directory.remove(&caller(Role::Admin), "s1").await;

            assert_eq!(result.map_err(|error| error.code), Err(expected), "{label}");
        }
    }
}
