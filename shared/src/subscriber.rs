//! Notification recipients: the e-mail addresses and phone numbers that receive a tenant's
//! notifications. [`Contact`] validates an address on construction, so an invalid one never
//! reaches SNS or the store.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorCode, ErrorDetail};

/// The channel a recipient is reached on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberProtocol {
    /// The full message by e-mail.
    Email,
    /// The short message by SMS.
    Sms,
}

impl SubscriberProtocol {
    /// Parses `email` or `sms`. Anything else is `invalid_request` on the field `protocol`.
    pub fn parse(value: &str) -> Result<Self, AppError> {
        match value {
            "email" => Ok(Self::Email),
            "sms" => Ok(Self::Sms),
            _ => Err(invalid_field("protocol")),
        }
    }

    /// Returns the name used in the API and as the SNS subscription protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }
}

impl fmt::Display for SubscriberProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated recipient address: an e-mail address or an E.164 phone number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Contact {
    protocol: SubscriberProtocol,
    endpoint: String,
}

impl Contact {
    /// Maximum length of an e-mail address (RFC 5321 path limit minus the angle brackets).
    pub const MAX_EMAIL_LEN: usize = 254;

    /// Parses a recipient. Surrounding whitespace is ignored. E-mail addresses get a
    /// lower-case domain; phone numbers lose the spaces and hyphens between their digits.
    ///
    /// An invalid protocol is `invalid_request` on the field `protocol`, an invalid address
    /// `invalid_request` on the field `endpoint`.
    pub fn parse(protocol: &str, endpoint: &str) -> Result<Self, AppError> {
        let protocol = SubscriberProtocol::parse(protocol)?;
        let endpoint = endpoint.trim();
        let normalized = match protocol {
            SubscriberProtocol::Email => normalize_email(endpoint),
            SubscriberProtocol::Sms => normalize_phone(endpoint),
        };

        match normalized {
            Some(endpoint) => Ok(Self { protocol, endpoint }),
            None => Err(invalid_field("endpoint")),
        }
    }

    pub fn protocol(&self) -> SubscriberProtocol {
        self.protocol
    }

    /// Returns the normalized address.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

fn invalid_field(field: &str) -> AppError {
    AppError::with_detail(ErrorCode::InvalidRequest, ErrorDetail::InvalidField { field: field.to_owned() })
}

/// Characters allowed in the local part besides ASCII letters and digits (RFC 5322 `atext`).
/// Quoted local parts are not accepted.
const LOCAL_PART_SYMBOLS: &str = "!#$%&'*+-/=?^_`{|}~.";

/// Returns the address with a lower-case domain when it is a plain ASCII e-mail address.
/// That is at most 254 characters with one `@` and a dot-atom local part of at most 64
/// characters. The domain needs at least two labels, and the last one must not be numeric.
fn normalize_email(text: &str) -> Option<String> {
    if text.is_empty() || text.len() > Contact::MAX_EMAIL_LEN || !text.is_ascii() {
        return None;
    }
    let (local, domain) = text.split_once('@')?;

    let local_ok = (1..=64).contains(&local.len())
        && local.chars().all(|c| c.is_ascii_alphanumeric() || LOCAL_PART_SYMBOLS.contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return None;
    }

    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    // A numeric last label would make an IPv4 address rather than a domain name.
    let top_level_ok = labels.last().is_some_and(|label| !label.chars().all(|c| c.is_ascii_digit()));
    if !labels_ok || !top_level_ok {
        return None;
    }

    Some(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// The country code of Japan.
const JAPAN: &str = "81";

/// Returns the number as `+` and digits when it is an E.164 number: `+`, then 8 to 15 digits
/// not starting with 0, optionally separated by spaces or hyphens. A Japanese number (`+81`)
/// must drop the domestic trunk prefix 0 and have 9 or 10 digits after the country code.
fn normalize_phone(text: &str) -> Option<String> {
    let rest = text.strip_prefix('+')?;
    if !rest.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-') {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();

    let e164_ok = (8..=15).contains(&digits.len()) && !digits.starts_with('0');
    let japan_ok = match digits.strip_prefix(JAPAN) {
        Some(national) => (9..=10).contains(&national.len()) && !national.starts_with('0'),
        None => true,
    };
    (e164_ok && japan_ok).then(|| format!("+{digits}"))
}

/// The id of one subscriber, as used in `DELETE /v1/subscribers/{id}`: 1 to 64 ASCII
/// letters, digits and hyphens (a UUID on both back ends).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SubscriberId(String);

impl SubscriberId {
    pub const MAX_LEN: usize = 64;

    /// Returns the id, or `None` when `value` cannot be an id.
    pub fn parse(value: &str) -> Option<Self> {
        let valid = (1..=Self::MAX_LEN).contains(&value.len())
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        valid.then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SubscriberId {
    type Error = AppError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| invalid_field("id"))
    }
}

impl From<SubscriberId> for String {
    fn from(value: SubscriberId) -> String {
        value.0
    }
}

impl fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a recipient receives messages yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Confirmed,
    /// SNS sent a confirmation e-mail and delivers nothing until the recipient follows its link.
    PendingConfirmation,
    /// SNS no longer has the subscription: the recipient unsubscribed through the link in a
    /// message, or did not confirm in time. Nothing is delivered until it is added again.
    Unsubscribed,
}

/// One recipient of a tenant's notifications, as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    pub id: SubscriberId,
    pub protocol: SubscriberProtocol,
    /// The e-mail address or phone number.
    pub endpoint: String,
    pub status: SubscriptionStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint_of(protocol: &str, endpoint: &str) -> Option<String> {
        Contact::parse(protocol, endpoint).ok().map(|contact| contact.endpoint().to_owned())
    }

    fn invalid_field_of(protocol: &str, endpoint: &str) -> Option<String> {
        match Contact::parse(protocol, endpoint) {
            Err(AppError {
                code: ErrorCode::InvalidRequest,
                detail: Some(ErrorDetail::InvalidField { field }),
            }) => Some(field),
            _ => None,
        }
    }

    /// Builds a valid-looking address of `length` characters (200 to 260) with a 64-character
    /// local part and labels of at most 63 characters.
    fn address_of_length(length: usize) -> String {
        let last_label = length - "@".len() - 64 - ".".len() * 2 - 63 * 2 - ".com".len();
        let address = format!("{}@{}.{}.{}.com", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(last_label));
        assert_eq!(address.len(), length);
        address
    }

    #[test]
    fn email_accepted_cases() {
        let longest_local = "a".repeat(64);
        let longest = address_of_length(254);
        let cases = [
            ("plain", "admin@example.com", "admin@example.com"),
            ("domain lower-cased", "Admin@Example.CO.JP", "Admin@example.co.jp"),
            ("surrounding spaces", "  it@example.jp ", "it@example.jp"),
            ("plus and dots", "first.last+mdm@mail.example.com", "first.last+mdm@mail.example.com"),
            ("symbols", "o'neil_{x}@example.org", "o'neil_{x}@example.org"),
            ("punycode domain", "info@xn--wgv71a119e.jp", "info@xn--wgv71a119e.jp"),
            ("64-character local part", &format!("{longest_local}@example.com"), &format!("{longest_local}@example.com")),
            ("254 characters", &longest, &longest),
        ];

        for (label, input, expected) in cases {
            assert_eq!(endpoint_of("email", input).as_deref(), Some(expected), "{label}");
        }
    }

    #[test]
    fn email_rejected_cases() {
        let too_long = address_of_length(255);
        let cases = [
            ("empty", ""),
            ("no at sign", "admin.example.com"),
            ("two at signs", "a@b@example.com"),
            ("empty local part", "@example.com"),
            ("65-character local part", &format!("{}@example.com", "a".repeat(65))),
            ("255 characters", &too_long),
            ("single-label domain", "admin@localhost"),
            ("leading dot", ".admin@example.com"),
            ("double dot", "ad..min@example.com"),
            ("trailing dot in domain", "admin@example.com."),
            ("hyphen at label start", "admin@-example.com"),
            ("space inside", "ad min@example.com"),
            ("IP address", "admin@192.168.0.1"),
            ("quoted local part", "\"admin\"@example.com"),
            ("Japanese characters", "管理者@example.jp"),
            ("full-width at sign", "admin＠example.jp"),
        ];

        for (label, input) in cases {
            assert_eq!(invalid_field_of("email", input).as_deref(), Some("endpoint"), "{label}");
        }
    }

    #[test]
    fn phone_accepted_cases() {
        let cases = [
            ("Japanese mobile", "+819012345678", "+819012345678"),
            ("Japanese landline", "+81312345678", "+81312345678"),
            ("spaces and hyphens", "+81 90-1234-5678", "+819012345678"),
            ("United States", "+12065550100", "+12065550100"),
            ("eight digits", "+35312345", "+35312345"),
            ("fifteen digits", "+123456789012345", "+123456789012345"),
        ];

        for (label, input, expected) in cases {
            assert_eq!(endpoint_of("sms", input).as_deref(), Some(expected), "{label}");
        }
    }

    #[test]
    fn phone_rejected_cases() {
        let cases = [
            ("domestic Japanese format", "090-1234-5678"),
            ("trunk prefix kept after +81", "+81 090-1234-5678"),
            ("Japanese number too short", "+8112345678"),
            ("Japanese number too long", "+81901234567890"),
            ("seven digits", "+1234567"),
            ("sixteen digits", "+1234567890123456"),
            ("country code 0", "+0123456789"),
            ("letters", "+81ABCDEFGHIJ"),
            ("parentheses", "+1 (206) 555-0100"),
            ("full-width digits", "+８１９０１２３４５６７８"),
            ("e-mail address", "admin@example.com"),
        ];

        for (label, input) in cases {
            assert_eq!(invalid_field_of("sms", input).as_deref(), Some("endpoint"), "{label}");
        }
    }

    #[test]
    fn contact_rejects_unknown_protocol() {
        for protocol in ["", "EMAIL", "http", "email-json"] {
            assert_eq!(invalid_field_of(protocol, "admin@example.com").as_deref(), Some("protocol"), "{protocol:?}");
        }
    }

    #[test]
    fn subscriber_id_cases() {
        let cases = [
            ("UUID", "0673d287-1899-42cf-9e16-f2aea1ce7ecb", true),
            ("letters", "abc", true),
            ("empty", "", false),
            ("ARN", "arn:aws:sns:us-east-1:123456789012:topic:abc", false),
            ("path", "../abc", false),
            ("65 characters", &"a".repeat(65), false),
        ];

        for (label, input, valid) in cases {
            assert_eq!(SubscriberId::parse(input).is_some(), valid, "{label}");
        }
    }

    #[test]
    fn subscriber_serializes_api_fields() {
        let subscriber = Subscriber {
            id: SubscriberId::parse("abc-1").expect("valid id"),
            protocol: SubscriberProtocol::Sms,
            endpoint: "+819012345678".to_owned(),
            status: SubscriptionStatus::PendingConfirmation,
        };

        let json = serde_json::to_value(&subscriber).expect("serializable");

        assert_eq!(
            json,
            serde_json::json!({"id": "abc-1", "protocol": "sms", "endpoint": "+819012345678", "status": "pending_confirmation"})
        );
    }
}
