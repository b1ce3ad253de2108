//! The SNS adapters: [`SnsNotifier`] publishes notifications to the one notification topic,
//! and [`SnsSubscribers`] manages the tenants' e-mail and SMS subscriptions to it.
//!
//! Every subscription carries the filter policy `{"tenant_id":["<tenant>"]}` on message
//! attributes, and every message the attributes `tenant_id` and `severity`, so SNS delivers
//! each tenant's messages to that tenant's recipients only.

mod errors;
mod notifier;
mod subscribers;

pub use notifier::{MAX_SUBJECT_CHARS, SnsNotifier, message_json, subject_for_sns};
pub use subscribers::SnsSubscribers;

use crate::config::ConfigError;

/// The variable naming the notification topic's ARN.
pub const TOPIC_ARN_VAR: &str = "DEPTOKEN_TOPIC_ARN";

/// The message attribute naming the tenant, which the subscriptions' filter policies match.
pub const TENANT_ATTRIBUTE: &str = "tenant_id";

/// The message attribute with the notification's severity: `info`, `warning` or `critical`.
pub const SEVERITY_ATTRIBUTE: &str = "severity";

/// Reads the notification topic's ARN (`DEPTOKEN_TOPIC_ARN`) through `lookup`, which returns
/// a variable's value or `None`. The value must be an SNS topic ARN (`arn:<partition>:sns:…`).
pub fn topic_arn_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let value = lookup(TOPIC_ARN_VAR)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .ok_or(ConfigError::Missing(TOPIC_ARN_VAR))?;

    let parts: Vec<&str> = value.split(':').collect();
    let is_topic_arn = parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns" && parts.iter().all(|part| !part.is_empty());
    if !is_topic_arn {
        return Err(ConfigError::Invalid {
            variable: TOPIC_ARN_VAR,
            reason: format!("expected an SNS topic ARN such as arn:aws:sns:ap-northeast-1:123456789012:deptoken-notifications, got {value:?}"),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic_of(value: Option<&str>) -> Result<String, ConfigError> {
        topic_arn_from_lookup(|name| (name == TOPIC_ARN_VAR).then(|| value.map(str::to_owned)).flatten())
    }

    #[test]
    fn topic_arn_accepts_topic_arns() {
        let cases = [
            ("AWS", " arn:aws:sns:ap-northeast-1:123456789012:deptoken-notifications ", "arn:aws:sns:ap-northeast-1:123456789012:deptoken-notifications"),
            ("China partition", "arn:aws-cn:sns:cn-north-1:123456789012:t", "arn:aws-cn:sns:cn-north-1:123456789012:t"),
        ];

        for (label, value, expected) in cases {
            assert_eq!(topic_of(Some(value)), Ok(expected.to_owned()), "{label}");
        }
    }

    #[test]
    fn topic_arn_rejects_other_values() {
        let cases = [
            ("missing", None, ConfigError::Missing(TOPIC_ARN_VAR)),
            ("blank", Some(" "), ConfigError::Missing(TOPIC_ARN_VAR)),
        ];
        for (label, value, expected) in cases {
            assert_eq!(topic_of(value), Err(expected), "{label}");
        }

        for value in ["deptoken-notifications", "arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:sns:us-east-1:123456789012:t:sub-id", "arn:aws:sns::123456789012:t"] {
            assert!(matches!(topic_of(Some(value)), Err(ConfigError::Invalid { variable: TOPIC_ARN_VAR, .. })), "{value}");
        }
    }
}
