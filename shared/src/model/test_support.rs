//! A DEP server entry for unit tests of the policy, the messages and the use cases.

use chrono::{DateTime, TimeZone, Utc};

use crate::domain::{ServerName, TenantId};
use crate::error::ErrorCode;
use crate::model::{AccountDetails, ServerRecord};

/// Builds an entry of tenant `acme` named `tokyo` whose token expires at `expires_at` and
/// whose last check ended with `last_error`, with an ABM account and a note.
pub(crate) fn record_expiring(expires_at: DateTime<Utc>, last_error: Option<ErrorCode>) -> ServerRecord {
    let created_at = Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap();
    ServerRecord {
        tenant: TenantId::parse("acme").unwrap(),
        name: ServerName::parse("tokyo").unwrap(),
        display_name: "東京本社".to_owned(),
        note: Some("abm-admin@example.co.jp".to_owned()),
        created_at,
        expires_at: Some(expires_at),
        account: Some(AccountDetails {
            server_name: "Tokyo MDM".to_owned(),
            server_uuid: "677cd7ee-5dc6-4ad4-b5f1-cd3d3f5b8fc1".to_owned(),
            admin_id: Some("abm-admin@example.co.jp".to_owned()),
            org_name: Some("株式会社サンプル".to_owned()),
            org_type: Some("org".to_owned()),
            ..AccountDetails::default()
        }),
        credentials: None,
        consumer_key_fingerprint: Some("0123456789abcdef".to_owned()),
        token_key_id: None,
        uploaded_at: Some(created_at),
        uploaded_by: Some("admin@example.co.jp".to_owned()),
        last_error,
        last_checked_at: None,
        stage: None,
        notified_stage: None,
        countdown_stage: None,
        stage_fingerprint: None,
        version: 1,
    }
}
