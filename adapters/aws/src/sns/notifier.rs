//! [`Notifier`] on SNS: one Publish per notification to the notification topic.

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use deptoken_shared::ports::{Notification, Notifier, NotifyError};

use super::{SEVERITY_ATTRIBUTE, TENANT_ATTRIBUTE};

/// SNS takes subjects of fewer than 100 characters, without line breaks or control
/// characters (Publish API reference, `Subject`).
pub const MAX_SUBJECT_CHARS: usize = 99;

/// Publishes each notification to one SNS topic with `MessageStructure=json`: e-mail
/// subscribers get the full body with the subject, SMS subscribers the short text, and every
/// other protocol (an operator's queue, say) the full body as the `default` message.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

/// Builds the JSON message of `MessageStructure=json`: `default` and `email` carry the body,
/// `sms` the short text.
pub fn message_json(notification: &Notification) -> String {
    serde_json::json!({
        "default": notification.body,
        "email": notification.body,
        "sms": notification.sms,
    })
    .to_string()
}

/// Makes `subject` acceptable to SNS: control characters become spaces and the text is cut
/// to [`MAX_SUBJECT_CHARS`] characters.
pub fn subject_for_sns(subject: &str) -> String {
    let cleaned: String = subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.trim().chars().take(MAX_SUBJECT_CHARS).collect()
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, NotifyError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|error| NotifyError::Failed(Box::new(error)))
}

#[async_trait]
impl Notifier for SnsNotifier {
    #[tracing::instrument(skip_all, fields(tenant = %notification.tenant, server = %notification.server, kind = notification.kind))]
    async fn publish(&self, notification: &Notification) -> Result<(), NotifyError> {
        let output = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message_structure("json")
            .message(message_json(notification))
            .subject(subject_for_sns(&notification.subject))
            .message_attributes(TENANT_ATTRIBUTE, string_attribute(notification.tenant.as_str())?)
            .message_attributes(SEVERITY_ATTRIBUTE, string_attribute(&notification.severity)?)
            .send()
            .await
            .map_err(|error| NotifyError::Failed(Box::new(error)))?;

        tracing::info!(message_id = output.message_id().unwrap_or_default(), "notification published to SNS");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use deptoken_shared::domain::{ServerName, TenantId};

    use super::*;

    fn notification() -> Notification {
        Notification {
            tenant: TenantId::parse("acme").unwrap(),
            server: ServerName::parse("tokyo").unwrap(),
            kind: "days_60".to_owned(),
            severity: "info".to_owned(),
            subject: "subject".to_owned(),
            body: "本文\n\"quoted\"".to_owned(),
            sms: "短い".to_owned(),
        }
    }

    #[test]
    fn message_json_has_protocol_keys() {
        let message: serde_json::Value = serde_json::from_str(&message_json(&notification())).expect("JSON");

        assert_eq!(message["default"], "本文\n\"quoted\"");
        assert_eq!(message["email"], "本文\n\"quoted\"");
        assert_eq!(message["sms"], "短い");
        assert_eq!(message.as_object().map(|m| m.len()), Some(3));
    }

    #[test]
    fn subject_for_sns_cases() {
        let long = "あ".repeat(120);
        let cases = [
            ("plain", "トークンの有効期限まで60日", "トークンの有効期限まで60日".to_owned()),
            ("line break", "first\nsecond\r", "first second".to_owned()),
            ("tab and spaces", " a\tb ", "a b".to_owned()),
            ("too long", long.as_str(), "あ".repeat(MAX_SUBJECT_CHARS)),
        ];

        for (label, subject, expected) in cases {
            assert_eq!(subject_for_sns(subject), expected, "{label}");
        }
    }
}
