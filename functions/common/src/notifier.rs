//! The notifier port of the functions that leave publishing to the notifier function.

use async_trait::async_trait;
use deptoken_shared::ports::{Notification, Notifier, NotifyError};

/// The notifier of a function whose notifications are delivered from the table's stream.
///
/// With [`Delivery::Stream`](deptoken_shared::usecases::Delivery::Stream) the use cases only
/// record a new notification stage, and the notifier function publishes it when the DynamoDB
/// stream delivers the change. [`Services`](deptoken_shared::usecases::Services) still needs a
/// notifier, so this one takes its place and publishes nothing.
///
/// A call means the wiring is wrong, so it returns an error instead of `Ok`: a notifier that
/// reported success would let the caller mark the stage as sent, and the stream consumer would
/// then skip the message. After the error the stage stays pending for the stream consumer.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamDrivenNotifier;

/// The error [`StreamDrivenNotifier`] returns.
#[derive(Debug, thiserror::Error)]
#[error("this function does not publish notifications: the notifier function publishes them from the table's stream")]
pub struct PublishedFromStream;

#[async_trait]
impl Notifier for StreamDrivenNotifier {
    async fn publish(&self, notification: &Notification) -> Result<(), NotifyError> {
        tracing::error!(
            tenant = %notification.tenant,
            server = %notification.server,
            kind = notification.kind,
            "publish called on the stream-driven notifier; the stage stays pending for the stream consumer"
        );
        Err(NotifyError::Failed(Box::new(PublishedFromStream)))
    }
}

#[cfg(test)]
mod tests {
    use deptoken_shared::domain::{ServerName, TenantId};

    use super::*;

    #[tokio::test]
    async fn stream_driven_notifier_refuses_publish() {
        let notification = Notification {
            tenant: TenantId::parse("acme").expect("valid tenant"),
            server: ServerName::parse("tokyo").expect("valid name"),
            kind: "renewed".to_owned(),
            severity: "info".to_owned(),
            subject: "subject".to_owned(),
            body: "body".to_owned(),
            sms: "sms".to_owned(),
        };

        let result = StreamDrivenNotifier.publish(&notification).await;

        assert!(matches!(result, Err(NotifyError::Failed(_))), "{result:?}");
    }
}
