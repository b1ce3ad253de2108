//! The stored items. The embedded store and the DynamoDB store keep the same shapes:
//! a DEP server entry, its upload history rows, the tenant's MDM keys and the tenant's settings.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::Lang;
use crate::domain::{KeyId, ServerName, TenantId};
use crate::error::ErrorCode;

#[cfg(test)]
pub(crate) mod test_support;

/// What Apple's `GET /account` returned for a token. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AccountDetails {
    pub server_name: String,
    /// Identifies the MDM server in ABM; an upload for another `server_uuid` needs confirmation.
    pub server_uuid: String,
    /// The Apple Account that downloaded the token (`admin_id`, or `facilitator_id` from older answers).
    pub admin_id: Option<String>,
    pub org_name: Option<String>,
    pub org_email: Option<String>,
    pub org_phone: Option<String>,
    pub org_address: Option<String>,
    pub org_id: Option<String>,
    /// `edu` or `org`.
    pub org_type: Option<String>,
}

/// The token status shown on the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// An entry without an accepted token yet.
    NoToken,
    Ok,
    Expiring,
    Expired,
    TokenRejected,
    TermsNotAccepted,
    CheckFailed,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::NoToken => "no_token",
            TokenStatus::Ok => "ok",
            TokenStatus::Expiring => "expiring",
            TokenStatus::Expired => "expired",
            TokenStatus::TokenRejected => "token_rejected",
            TokenStatus::TermsNotAccepted => "terms_not_accepted",
            TokenStatus::CheckFailed => "check_failed",
        }
    }
}

/// The four OAuth credentials of a token, each sealed by the credential sealer
/// (KMS on AWS, the local master key in the embedded runner). Opaque strings here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedCredentials {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_secret: String,
}

/// A DEP server entry (`TENANT#<tenant>` / `SERVER#<name>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRecord {
    pub tenant: TenantId,
    pub name: ServerName,
    pub display_name: String,
    /// The Apple Account used in ABM, as the admin wrote it down.
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `access_token_expiry` of the stored token.
    pub expires_at: Option<DateTime<Utc>>,
    pub account: Option<AccountDetails>,
    pub credentials: Option<SealedCredentials>,
    /// SHA-256 of the consumer key, hex, first 16 characters: tells tokens apart without revealing one.
    pub consumer_key_fingerprint: Option<String>,
    /// The key the stored token was encrypted for.
    pub token_key_id: Option<KeyId>,
    pub uploaded_at: Option<DateTime<Utc>>,
    pub uploaded_by: Option<String>,
    /// Apple's verdict at the last check: `None` when Apple accepted the token.
    pub last_error: Option<ErrorCode>,
    pub last_checked_at: Option<DateTime<Utc>>,
    /// The notification stage last recorded for the current token: written by the sweep
    /// (and reset to `renewed` by an upload), it is the change that triggers a notification.
    #[serde(default)]
    pub stage: Option<Stage>,
    /// The stage whose notification was last published; the notifier sets it after publishing.
    /// A notification is pending while it differs from `stage`.
    #[serde(default)]
    pub notified_stage: Option<Stage>,
    /// The most urgent countdown stage (`days_60` … `expired`) recorded for the current token,
    /// kept while a broken state takes `stage`, so that no countdown stage is sent twice.
    #[serde(default)]
    pub countdown_stage: Option<Stage>,
    /// The `consumer_key_fingerprint` of the token the stage fields belong to. When it differs
    /// from the stored token's, the stages start again for that token.
    #[serde(default)]
    pub stage_fingerprint: Option<String>,
    /// Increases by one on every write; every write is conditional on the previous value.
    pub version: u64,
}

/// A notification stage: the reason to tell the tenant's recipients about a token. Each stage
/// is sent once per token (see [`crate::policy`] for when each is reached).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stage {
    /// A new token was accepted: the confirmation after an upload.
    #[serde(rename = "renewed")]
    Renewed,
    #[serde(rename = "days_60")]
    Days60,
    #[serde(rename = "days_30")]
    Days30,
    #[serde(rename = "days_14")]
    Days14,
    #[serde(rename = "days_7")]
    Days7,
    #[serde(rename = "days_3")]
    Days3,
    #[serde(rename = "days_1")]
    Days1,
    /// The expiry has passed.
    #[serde(rename = "expired")]
    Expired,
    /// Apple rejects the token: revoked, superseded, account deleted or password changed,
    /// server removed in ABM.
    #[serde(rename = "token_rejected")]
    TokenRejected,
    /// Apple reports Terms and Conditions that nobody has accepted in ABM yet.
    #[serde(rename = "terms_not_accepted")]
    TermsNotAccepted,
}

impl Stage {
    /// Every stage, the countdown in order of urgency first.
    pub const ALL: [Stage; 10] = [
        Stage::Renewed,
        Stage::Days60,
        Stage::Days30,
        Stage::Days14,
        Stage::Days7,
        Stage::Days3,
        Stage::Days1,
        Stage::Expired,
        Stage::TokenRejected,
        Stage::TermsNotAccepted,
    ];

    /// Returns the stable snake_case name, as stored and as the notification `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Renewed => "renewed",
            Stage::Days60 => "days_60",
            Stage::Days30 => "days_30",
            Stage::Days14 => "days_14",
            Stage::Days7 => "days_7",
            Stage::Days3 => "days_3",
            Stage::Days1 => "days_1",
            Stage::Expired => "expired",
            Stage::TokenRejected => "token_rejected",
            Stage::TermsNotAccepted => "terms_not_accepted",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One accepted upload (`TENANT#<tenant>` / `SERVER#<name>#UPLOAD#<time>`). Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub tenant: TenantId,
    pub server: ServerName,
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by: String,
    pub expires_at: DateTime<Utc>,
    pub server_uuid: String,
    pub server_name: String,
    pub admin_id: Option<String>,
    pub consumer_key_fingerprint: String,
    pub note: Option<String>,
    pub key_id: KeyId,
}

/// The life cycle of an MDM key pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Made by a rotation; becomes current when a token encrypted for it is accepted.
    Staged,
    /// The key whose certificate the entry serves for download.
    Current,
    /// Replaced by a newer key; still decrypts tokens made for it.
    Retired,
}

/// An MDM key pair (`TENANT#<tenant>` / `KEY#<key id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub tenant: TenantId,
    pub key_id: KeyId,
    /// The DEP server entry the key belongs to.
    pub server: ServerName,
    pub state: KeyState,
    pub certificate_pem: String,
    /// The PKCS#8 private key sealed by the key vault; opaque here.
    pub sealed_private_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

/// A tenant's own settings (`TENANT#<tenant>` / `SETTINGS`). A tenant without this item gets
/// the deployment's configured language and time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    pub tenant: TenantId,
    /// The language of notification texts.
    pub notification_language: Lang,
    /// The time zone in which days left are counted and dates are shown, stored by its IANA name.
    #[serde(with = "time_zone_name")]
    pub time_zone: Tz,
    /// Increases by one on every write; every write is conditional on the previous value.
    pub version: u64,
}

/// Serializes a [`Tz`] as its IANA name, such as `Asia/Tokyo`.
mod time_zone_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time_zone: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(time_zone.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse::<Tz>()
            .map_err(|_| serde::de::Error::custom(format!("unknown IANA time zone {name:?}")))
    }
}

#[cfg(test)]
mod tenant_settings_tests {
    use super::*;

    #[test]
    fn settings_json_uses_zone_name() {
        let settings = TenantSettings {
            tenant: TenantId::parse("acme").unwrap(),
            notification_language: Lang::En,
            time_zone: chrono_tz::America::Los_Angeles,
            version: 2,
        };

        let json = serde_json::to_value(&settings).unwrap();
        let decoded: TenantSettings = serde_json::from_value(json.clone()).unwrap();

        assert_eq!(json["time_zone"], "America/Los_Angeles");
        assert_eq!(json["notification_language"], "en");
        assert_eq!(decoded, settings);
    }

    #[test]
    fn settings_with_unknown_zone_rejected() {
        let json = serde_json::json!({
            "tenant": "acme",
            "notification_language": "ja",
            "time_zone": "Mars/Olympus_Mons",
            "version": 1,
        });

        let error = serde_json::from_value::<TenantSettings>(json).unwrap_err();

        assert!(error.to_string().contains("Mars/Olympus_Mons"), "{error}");
    }
}
