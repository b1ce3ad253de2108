//! The confirmation sent to the tenant's recipients after an accepted upload.

use chrono_tz::Tz;

use crate::model::ServerRecord;
use crate::ports::Notification;

/// Builds the `renewed` notification for an entry that has just stored a new token.
// TODO: move these texts into the message catalogue once it renders notifications.
pub(crate) fn renewed(record: &ServerRecord, tz: Tz) -> Notification {
    let expiry = record
        .expires_at
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let server = &record.display_name;

    Notification {
        tenant: record.tenant.clone(),
        server: record.name.clone(),
        kind: "renewed".to_owned(),
        severity: "info".to_owned(),
        subject: format!("DEPサーバートークンを更新しました: {server} / DEP server token renewed: {server}"),
        body: format!(
            "{server} のDEPサーバートークンを更新しました。新しい有効期限は {expiry} です。\n\
             The DEP server token of {server} was renewed. It now expires on {expiry}.\n"
        ),
        sms: format!("{server} のサーバートークンを更新しました。有効期限 {expiry}"),
    }
}
