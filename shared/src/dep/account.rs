//! Parsing of the `GET /account` response into [`AccountDetails`].

use serde::Deserialize;

use super::DepError;
use crate::model::AccountDetails;

/// The fields of Apple's account JSON that deptoken keeps. Unknown fields are ignored.
#[derive(Deserialize)]
struct AccountBody {
    server_name: Option<String>,
    server_uuid: Option<String>,
    admin_id: Option<String>,
    /// Older name of `admin_id`, still sent by some API versions.
    facilitator_id: Option<String>,
    org_name: Option<String>,
    org_email: Option<String>,
    org_phone: Option<String>,
    org_address: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    org_id: Option<String>,
    org_type: Option<String>,
}

/// Parses the JSON body of `GET /account`.
///
/// `server_uuid` is required because it identifies the MDM server; a missing `server_name`
/// becomes the empty string. `admin_id` falls back to `facilitator_id`.
pub(crate) fn parse_account(body: &[u8]) -> Result<AccountDetails, DepError> {
    let account: AccountBody = serde_json::from_slice(body).map_err(|error| DepError::Protocol {
        reason: format!("the account response is not the expected JSON object: {error}"),
    })?;

    let server_uuid = account
        .server_uuid
        .filter(|uuid| !uuid.trim().is_empty())
        .ok_or_else(|| DepError::Protocol {
            reason: "the account response has no server_uuid".to_owned(),
        })?;

    Ok(AccountDetails {
        server_name: account.server_name.unwrap_or_default(),
        server_uuid,
        admin_id: account.admin_id.or(account.facilitator_id),
        org_name: account.org_name,
        org_email: account.org_email,
        org_phone: account.org_phone,
        org_address: account.org_address,
        org_id: account.org_id,
        org_type: account.org_type,
    })
}

/// Accepts `org_id` as a JSON string or number, because its type is not fixed across
/// API versions.
fn string_or_number<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text)),
        Some(serde_json::Value::Number(number)) => Ok(Some(number.to_string())),
        Some(_) => Err(serde::de::Error::custom("org_id is neither a string nor a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL_ACCOUNT: &str = r#"{
        "server_name": "Tokyo MDM",
        "server_uuid": "8c3f4e0a-5a2b-4a5e-9f57-1f0f3b2a6d11",
        "admin_id": "admin@example.co.jp",
        "facilitator_id": "old@example.co.jp",
        "org_name": "Example KK",
        "org_email": "it@example.co.jp",
        "org_phone": "+81 3 1234 5678",
        "org_address": "Chiyoda, Tokyo",
        "org_id": "1234567",
        "org_id_hash": "ab12",
        "org_type": "org",
        "org_version": "v2",
        "urls": [{"uri": "/account", "http_method": ["GET"], "limit": {"default": 1, "maximum": 1}}]
    }"#;

    #[test]
    fn parse_account_reads_every_field() {
        let account = parse_account(FULL_ACCOUNT.as_bytes()).unwrap();

        assert_eq!(account.server_name, "Tokyo MDM");
        assert_eq!(account.server_uuid, "8c3f4e0a-5a2b-4a5e-9f57-1f0f3b2a6d11");
        assert_eq!(account.admin_id.as_deref(), Some("admin@example.co.jp"));
        assert_eq!(account.org_name.as_deref(), Some("Example KK"));
        assert_eq!(account.org_email.as_deref(), Some("it@example.co.jp"));
        assert_eq!(account.org_phone.as_deref(), Some("+81 3 1234 5678"));
        assert_eq!(account.org_address.as_deref(), Some("Chiyoda, Tokyo"));
        assert_eq!(account.org_id.as_deref(), Some("1234567"));
        assert_eq!(account.org_type.as_deref(), Some("org"));
    }

    #[test]
    fn parse_account_falls_back_to_facilitator_id() {
        let body = r#"{"server_name":"s","server_uuid":"u","facilitator_id":"old@example.com"}"#;

        let account = parse_account(body.as_bytes()).unwrap();

        assert_eq!(account.admin_id.as_deref(), Some("old@example.com"));
    }

    #[test]
    fn parse_account_accepts_numeric_org_id() {
        let body = r#"{"server_uuid":"u","org_id":1234567}"#;

        let account = parse_account(body.as_bytes()).unwrap();

        assert_eq!(account.org_id.as_deref(), Some("1234567"));
    }

    #[test]
    fn parse_account_rejects_invalid_bodies() {
        let cases = [
            ("missing server_uuid", r#"{"server_name":"s"}"#),
            ("empty server_uuid", r#"{"server_name":"s","server_uuid":" "}"#),
            ("not json", "<html>maintenance</html>"),
            ("json array", "[]"),
            ("org_id object", r#"{"server_uuid":"u","org_id":{}}"#),
        ];

        for (label, body) in cases {
            let result = parse_account(body.as_bytes());

            assert!(matches!(result, Err(DepError::Protocol { .. })), "{label}: {result:?}");
        }
    }
}
