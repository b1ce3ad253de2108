//! Error messages and actions, one entry per [`ErrorCode`], in Japanese and English.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::error::{AppError, ErrorCode, ErrorDetail};

use super::Lang;

/// The text of an error for the admin: what failed and what to do next.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorText {
    pub message: String,
    pub action: String,
}

/// Formats an instant for people in `tz`: `2026年1月17日 20:02 (JST)` or `2026-01-17 20:02 JST`.
pub fn format_instant(instant: DateTime<Utc>, lang: Lang, tz: Tz) -> String {
    let local = instant.with_timezone(&tz);
    match lang {
        Lang::Ja => local.format("%Y年%-m月%-d日 %H:%M (%Z)").to_string(),
        Lang::En => local.format("%Y-%m-%d %H:%M %Z").to_string(),
    }
}

/// Renders the message and action of an error in `lang`. Dates are shown in `tz`.
pub fn render_error(error: &AppError, lang: Lang, tz: Tz) -> ErrorText {
    let detail = error.detail.as_ref();
    let (message, action) = match lang {
        Lang::Ja => japanese(error.code, detail, tz),
        Lang::En => english(error.code, detail, tz),
    };
    ErrorText { message, action }
}

fn recipient(detail: Option<&ErrorDetail>) -> (&str, &str) {
    match detail {
        Some(ErrorDetail::Recipient { issuer, serial_hex }) => (issuer, serial_hex),
        _ => ("?", "?"),
    }
}

fn expired_at(detail: Option<&ErrorDetail>) -> Option<DateTime<Utc>> {
    match detail {
        Some(ErrorDetail::ExpiredAt { expires_at }) => Some(*expires_at),
        _ => None,
    }
}

fn algorithm(detail: Option<&ErrorDetail>) -> &str {
    match detail {
        Some(ErrorDetail::Algorithm { name }) => name,
        _ => "?",
    }
}

fn servers(detail: Option<&ErrorDetail>) -> (&str, &str) {
    match detail {
        Some(ErrorDetail::ServerChanged {
            stored_server_name,
            uploaded_server_name,
        }) => (stored_server_name, uploaded_server_name),
        _ => ("?", "?"),
    }
}

fn retry_seconds(detail: Option<&ErrorDetail>) -> u64 {
    match detail {
        Some(ErrorDetail::RetryAfter { seconds }) => *seconds,
        _ => 60,
    }
}

fn limit_kib(detail: Option<&ErrorDetail>) -> usize {
    match detail {
        Some(ErrorDetail::Limit { bytes }) => bytes / 1024,
        _ => crate::token::MAX_TOKEN_FILE_BYTES / 1024,
    }
}

fn field(detail: Option<&ErrorDetail>) -> Option<&str> {
    match detail {
        Some(ErrorDetail::InvalidField { field }) => Some(field),
        _ => None,
    }
}

fn is_subscriber(detail: Option<&ErrorDetail>) -> bool {
    matches!(detail, Some(ErrorDetail::Subscriber))
}

/// The request field of a notification recipient's address.
const ENDPOINT_FIELD: &str = "endpoint";

const JA_DOWNLOAD_AGAIN: &str = "Apple Business Manager で新しいサーバートークンをダウンロードし、すぐにアップロードしてください。";
const JA_STORED_UNCHANGED: &str = "登録済みのサーバートークンは変更していません。";
const JA_RETRY_LATER: &str = "しばらく待ってから、もう一度お試しください。";
const JA_CONTACT_OPERATOR: &str = "解決しない場合は、MDM サービスの運用担当者にお問い合わせください。";

fn japanese(code: ErrorCode, detail: Option<&ErrorDetail>, tz: Tz) -> (String, String) {
    match code {
        ErrorCode::NotAToken => (
            "選択されたファイルは DEPサーバートークンではありません。".to_owned(),
            "Apple Business Manager の MDMサーバ（デバイス管理サービス）の画面でダウンロードしたサーバートークンファイル（名前が _smime.p7m で終わるファイル）を選択してください。".to_owned(),
        ),
        ErrorCode::CertificateNotToken => (
            "選択されたファイルは公開鍵証明書 (.pem) です。サーバートークンファイルではありません。".to_owned(),
            "公開鍵証明書は Apple Business Manager の MDMサーバに登録するファイルです。登録後に Apple Business Manager でダウンロードしたサーバートークンファイル (.p7m) を選択してください。".to_owned(),
        ),
        ErrorCode::MalformedToken => (
            "サーバートークンファイルが壊れているか、途中で切れています。".to_owned(),
            "ダウンロードしたファイルを開いたり保存し直したりせず、そのまま選択してください。解決しない場合は Apple Business Manager でサーバートークンをダウンロードし直してください。".to_owned(),
        ),
        ErrorCode::WrongRecipient => {
            let (issuer, serial) = recipient(detail);
            (
                format!("このサーバートークンは、この DEPサーバーのものではない公開鍵証明書（発行者: {issuer}、シリアル番号: {serial}）向けに暗号化されています。"),
                "別の MDMサーバのトークンを選択していないか確認してください。正しい場合は、この画面から公開鍵証明書をダウンロードして Apple Business Manager の MDMサーバに登録し直し、新しいサーバートークンをダウンロードしてください。".to_owned(),
            )
        }
        ErrorCode::Undecryptable => (
            "サーバートークンを復号できませんでした。".to_owned(),
            format!("ファイルが壊れている可能性があります。{JA_DOWNLOAD_AGAIN}"),
        ),
        ErrorCode::UnsupportedAlgorithm => (
            format!("サーバートークンの暗号方式（{}）には対応していません。", algorithm(detail)),
            "Apple Business Manager でダウンロードしたファイルを、ほかのツールで変換せずにそのまま選択してください。".to_owned(),
        ),
        ErrorCode::InvalidPayload => (
            "サーバートークンの内容が正しくありません。必要な項目が不足しているか、形式が誤っています。".to_owned(),
            JA_DOWNLOAD_AGAIN.to_owned(),
        ),
        ErrorCode::TokenExpired => {
            let message = match expired_at(detail) {
                Some(at) => format!(
                    "このサーバートークンは有効期限切れです（有効期限: {}）。",
                    format_instant(at, Lang::Ja, tz)
                ),
                None => "このサーバートークンは有効期限切れです。".to_owned(),
            };
            (message, JA_DOWNLOAD_AGAIN.to_owned())
        }
        ErrorCode::TokenRejected => (
            "Apple がこのサーバートークンを拒否しました。トークンは無効です。".to_owned(),
            JA_DOWNLOAD_AGAIN.to_owned(),
        ),
        ErrorCode::TokenSuperseded => (
            "新しいトークンが発行されたため、このサーバートークンは無効です。".to_owned(),
            "Apple Business Manager で最後にダウンロードしたサーバートークンファイルを選択してください。見つからない場合は、もう一度ダウンロードしてすぐにアップロードしてください。".to_owned(),
        ),
        ErrorCode::AccountInvalid => (
            "このサーバートークンをダウンロードした Apple アカウントが削除されたか、パスワードが変更されたため、トークンは無効です。".to_owned(),
            "有効な Apple アカウントで Apple Business Manager にサインインし、新しいサーバートークンをダウンロードしてアップロードしてください。使用した Apple アカウントは備考に記録しておくと、次回の更新で迷いません。".to_owned(),
        ),
        ErrorCode::AccessDenied => (
            "Apple がこのサーバートークンによるアクセスを拒否しました。".to_owned(),
            "トークンをダウンロードした Apple アカウントに、Apple Business Manager の管理者またはデバイス管理者の役割があるか確認してください。".to_owned(),
        ),
        ErrorCode::TermsNotAccepted => (
            "Apple Business Manager で新しい利用規約への同意が必要です。".to_owned(),
            "管理者の役割を持つ Apple アカウントで Apple Business Manager にサインインし、表示される利用規約に同意してから、もう一度お試しください。新しいサーバートークンは必要ありません。".to_owned(),
        ),
        ErrorCode::ServerInactive => (
            "この MDMサーバは Apple Business Manager で削除されたか、無効になっています。".to_owned(),
            "Apple Business Manager で MDMサーバ（デバイス管理サービス）を追加し直し、公開鍵証明書を登録してから、新しいサーバートークンをダウンロードしてください。".to_owned(),
        ),
        ErrorCode::ServerMismatch => {
            let (stored, uploaded) = servers(detail);
            (
                format!("このサーバートークンは MDMサーバ「{uploaded}」のものです。登録済みのトークンは MDMサーバ「{stored}」のものです。"),
                "正しい MDMサーバのトークンを選択してください。MDMサーバを切り替える場合は、置き換えを確認したうえでもう一度アップロードしてください。".to_owned(),
            )
        }
        ErrorCode::AppleUnavailable => (
            format!("Apple のサーバーに接続できず、サーバートークンを確認できませんでした。{JA_STORED_UNCHANGED}"),
            JA_RETRY_LATER.to_owned(),
        ),
        ErrorCode::AppleRateLimited => (
            format!("Apple のサーバーが混み合っているため、サーバートークンを確認できませんでした。{JA_STORED_UNCHANGED}"),
            format!("{} 秒以上待ってから、もう一度お試しください。", retry_seconds(detail)),
        ),
        ErrorCode::AppleProtocolError => (
            format!("Apple のサーバーから想定外の応答がありました。{JA_STORED_UNCHANGED}"),
            format!("{JA_RETRY_LATER}{JA_CONTACT_OPERATOR}"),
        ),
        ErrorCode::TooLarge => (
            format!("ファイルが大きすぎます（上限は {} KB です）。", limit_kib(detail)),
            "サーバートークンファイルは通常数 KB です。Apple Business Manager でダウンロードしたサーバートークンファイル (.p7m) を選択してください。".to_owned(),
        ),
        ErrorCode::EmptyUpload => (
            "ファイルが空です。".to_owned(),
            "サーバートークンファイル (.p7m) を選択してから、アップロードしてください。".to_owned(),
        ),
        ErrorCode::UnsupportedMediaType => (
            "この形式のリクエストには対応していません。".to_owned(),
            "ファイルはリクエスト本文にそのまま入れるか、multipart/form-data の file 項目で送信してください。".to_owned(),
        ),
        ErrorCode::InvalidRequest => {
            let message = match field(detail) {
                Some(field) => format!("リクエストの項目「{field}」が指定されていないか、正しくありません。"),
                None => "リクエストの内容が正しくありません。".to_owned(),
            };
            let action = match field(detail) {
                Some(ENDPOINT_FIELD) => "メールアドレスは name@example.com の形式で、電話番号は国番号から始まる国際形式（例: +819012345678）で入力してください。",
                _ => "入力内容を確認して、もう一度お試しください。",
            };
            (message, action.to_owned())
        }
        ErrorCode::NotFound if is_subscriber(detail) => (
            "指定された通知先は登録されていません。".to_owned(),
            "通知先の一覧を表示し直してください。".to_owned(),
        ),
        ErrorCode::AlreadyExists if is_subscriber(detail) => (
            "この宛先は、別の設定の通知先としてすでに登録されています。".to_owned(),
            format!("別のメールアドレスまたは電話番号を指定してください。{JA_CONTACT_OPERATOR}"),
        ),
        ErrorCode::NotFound => (
            "指定された DEPサーバーは登録されていません。".to_owned(),
            "名前を確認してください。ダッシュボードに表示されていない場合は、先に登録してください。".to_owned(),
        ),
        ErrorCode::AlreadyExists => (
            "同じ名前の DEPサーバーがすでに登録されています。".to_owned(),
            "別の名前を指定するか、登録済みの DEPサーバーを使用してください。".to_owned(),
        ),
        ErrorCode::Conflict => (
            format!("ほかの操作と同時に更新されたため、保存できませんでした。{JA_STORED_UNCHANGED}"),
            "最新の状態を表示し直してから、もう一度お試しください。".to_owned(),
        ),
        ErrorCode::Unauthorized => (
            "認証されていません。".to_owned(),
            "サインインし直してから、もう一度お試しください。".to_owned(),
        ),
        ErrorCode::Forbidden => (
            "この操作を行う権限がありません。".to_owned(),
            "管理者の権限を持つユーザーで操作してください。".to_owned(),
        ),
        ErrorCode::ServiceBusy => (
            "サービスが混み合っているため、処理できませんでした。何も変更していません。".to_owned(),
            format!("{} 秒以上待ってから、もう一度お試しください。", retry_seconds(detail)),
        ),
        ErrorCode::InternalError => (
            "サービス内部でエラーが発生しました。".to_owned(),
            format!("{JA_RETRY_LATER}{JA_CONTACT_OPERATOR}"),
        ),
    }
}

const EN_DOWNLOAD_AGAIN: &str = "Download a new server token in Apple Business Manager and upload it right away.";
const EN_STORED_UNCHANGED: &str = "The stored server token was not changed.";
const EN_RETRY_LATER: &str = "Wait a while and try again.";
const EN_CONTACT_OPERATOR: &str = "If the problem persists, contact the operator of your MDM service.";

fn english(code: ErrorCode, detail: Option<&ErrorDetail>, tz: Tz) -> (String, String) {
    match code {
        ErrorCode::NotAToken => (
            "The selected file is not a DEP server token.".to_owned(),
            "Choose the server token file (its name ends in _smime.p7m) that you downloaded from the MDM server's page in Apple Business Manager.".to_owned(),
        ),
        ErrorCode::CertificateNotToken => (
            "The selected file is the public-key certificate (.pem), not a server token file.".to_owned(),
            "The certificate is the file you add to the MDM server in Apple Business Manager. After that, choose the server token file (.p7m) that you download there.".to_owned(),
        ),
        ErrorCode::MalformedToken => (
            "The server token file is damaged or truncated.".to_owned(),
            "Choose the downloaded file as it is, without opening or re-saving it. If that fails, download the server token again in Apple Business Manager.".to_owned(),
        ),
        ErrorCode::WrongRecipient => {
            let (issuer, serial) = recipient(detail);
            (
                format!("This server token is encrypted for a public-key certificate that does not belong to this DEP server (issuer: {issuer}, serial number: {serial})."),
                "Check that you did not choose the token of another MDM server. If the file is right, download the public-key certificate from this page, add it to the MDM server in Apple Business Manager again, and download a new server token.".to_owned(),
            )
        }
        ErrorCode::Undecryptable => (
            "The server token could not be decrypted.".to_owned(),
            format!("The file may be damaged. {EN_DOWNLOAD_AGAIN}"),
        ),
        ErrorCode::UnsupportedAlgorithm => (
            format!("The server token uses an unsupported encryption algorithm ({}).", algorithm(detail)),
            "Choose the file exactly as downloaded from Apple Business Manager, without converting it with another tool.".to_owned(),
        ),
        ErrorCode::InvalidPayload => (
            "The content of the server token is invalid: a required field is missing or malformed.".to_owned(),
            EN_DOWNLOAD_AGAIN.to_owned(),
        ),
        ErrorCode::TokenExpired => {
            let message = match expired_at(detail) {
                Some(at) => format!(
                    "This server token expired on {}.",
                    format_instant(at, Lang::En, tz)
                ),
                None => "This server token has expired.".to_owned(),
            };
            (message, EN_DOWNLOAD_AGAIN.to_owned())
        }
        ErrorCode::TokenRejected => (
            "Apple rejected this server token. The token is invalid.".to_owned(),
            EN_DOWNLOAD_AGAIN.to_owned(),
        ),
        ErrorCode::TokenSuperseded => (
            "This server token is invalid because a newer token was downloaded.".to_owned(),
            "Choose the server token file you downloaded last in Apple Business Manager. If you cannot find it, download it again and upload it right away.".to_owned(),
        ),
        ErrorCode::AccountInvalid => (
            "The token is invalid because the Apple Account that downloaded it was deleted or its password was changed.".to_owned(),
            "Sign in to Apple Business Manager with a valid Apple Account, download a new server token and upload it. Record the Apple Account in the note field so that next year's renewal uses the same one.".to_owned(),
        ),
        ErrorCode::AccessDenied => (
            "Apple denied access with this server token.".to_owned(),
            "Check that the Apple Account that downloaded the token has the Administrator or Device Manager role in Apple Business Manager.".to_owned(),
        ),
        ErrorCode::TermsNotAccepted => (
            "New Terms and Conditions must be accepted in Apple Business Manager.".to_owned(),
            "Sign in to Apple Business Manager with an Apple Account that has the Administrator role, accept the Terms and Conditions shown, then try again. No new server token is needed.".to_owned(),
        ),
        ErrorCode::ServerInactive => (
            "This MDM server was removed or deactivated in Apple Business Manager.".to_owned(),
            "Add the MDM server again in Apple Business Manager, add the public-key certificate to it, and download a new server token.".to_owned(),
        ),
        ErrorCode::ServerMismatch => {
            let (stored, uploaded) = servers(detail);
            (
                format!("This server token belongs to the MDM server \"{uploaded}\", but the stored token belongs to \"{stored}\"."),
                "Choose the token of the right MDM server. To switch MDM servers, confirm the replacement and upload again.".to_owned(),
            )
        }
        ErrorCode::AppleUnavailable => (
            format!("Apple's servers could not be reached, so the server token could not be verified. {EN_STORED_UNCHANGED}"),
            EN_RETRY_LATER.to_owned(),
        ),
        ErrorCode::AppleRateLimited => (
            format!("Apple's servers are busy, so the server token could not be verified. {EN_STORED_UNCHANGED}"),
            format!("Wait at least {} seconds and try again.", retry_seconds(detail)),
        ),
        ErrorCode::AppleProtocolError => (
            format!("Apple's servers returned an unexpected answer. {EN_STORED_UNCHANGED}"),
            format!("{EN_RETRY_LATER} {EN_CONTACT_OPERATOR}"),
        ),
        ErrorCode::TooLarge => (
            format!("The file is too large (the limit is {} KB).", limit_kib(detail)),
            "A server token file is usually a few KB. Choose the server token file (.p7m) downloaded from Apple Business Manager.".to_owned(),
        ),
        ErrorCode::EmptyUpload => (
            "The file is empty.".to_owned(),
            "Choose a server token file (.p7m), then upload it.".to_owned(),
        ),
        ErrorCode::UnsupportedMediaType => (
            "This request format is not supported.".to_owned(),
            "Send the file as the request body, or as the file part of a multipart/form-data request.".to_owned(),
        ),
        ErrorCode::InvalidRequest => {
            let message = match field(detail) {
                Some(field) => format!("The request field \"{field}\" is missing or invalid."),
                None => "The request is invalid.".to_owned(),
            };
            let action = match field(detail) {
                Some(ENDPOINT_FIELD) => {
                    "Enter an e-mail address such as name@example.com, or a phone number in international format starting with the country code, such as +819012345678."
                }
                _ => "Check the input and try again.",
            };
            (message, action.to_owned())
        }
        ErrorCode::NotFound if is_subscriber(detail) => (
            "No recipient with this id is registered.".to_owned(),
            "Reload the list of recipients.".to_owned(),
        ),
        ErrorCode::AlreadyExists if is_subscriber(detail) => (
            "This address is already registered as a recipient with other settings.".to_owned(),
            format!("Use another e-mail address or phone number. {EN_CONTACT_OPERATOR}"),
        ),
        ErrorCode::NotFound => (
            "No DEP server is registered under this name.".to_owned(),
            "Check the name. If the DEP server is not on the dashboard, register it first.".to_owned(),
        ),
        ErrorCode::AlreadyExists => (
            "A DEP server with this name is already registered.".to_owned(),
            "Choose another name, or use the registered DEP server.".to_owned(),
        ),
        ErrorCode::Conflict => (
            format!("Another change was saved at the same time, so this one was not saved. {EN_STORED_UNCHANGED}"),
            "Reload the current state and try again.".to_owned(),
        ),
        ErrorCode::Unauthorized => (
            "You are not signed in.".to_owned(),
            "Sign in again and retry.".to_owned(),
        ),
        ErrorCode::Forbidden => (
            "You are not allowed to do this.".to_owned(),
            "Ask a user with administrator rights to do it.".to_owned(),
        ),
        ErrorCode::ServiceBusy => (
            "The service is busy and could not process the request. Nothing was changed.".to_owned(),
            format!("Wait at least {} seconds and try again.", retry_seconds(detail)),
        ),
        ErrorCode::InternalError => (
            "An internal error occurred in the service.".to_owned(),
            format!("{EN_RETRY_LATER} {EN_CONTACT_OPERATOR}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const TOKYO: Tz = chrono_tz::Asia::Tokyo;

    fn has_japanese(text: &str) -> bool {
        text.chars().any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
    }

    #[test]
    fn every_code_has_japanese_texts() {
        for code in ErrorCode::ALL {
            let text = render_error(&AppError::new(code), Lang::Ja, TOKYO);

            assert!(has_japanese(&text.message), "{code:?} message");
            assert!(has_japanese(&text.action), "{code:?} action");
        }
    }

    #[test]
    fn every_code_has_english_texts() {
        for code in ErrorCode::ALL {
            let text = render_error(&AppError::new(code), Lang::En, TOKYO);

            assert!(!text.message.is_empty() && !has_japanese(&text.message), "{code:?} message");
            assert!(!text.action.is_empty() && !has_japanese(&text.action), "{code:?} action");
        }
    }

    #[test]
    fn messages_differ_per_code() {
        let mut seen = std::collections::HashSet::new();

        for code in ErrorCode::ALL {
            let text = render_error(&AppError::new(code), Lang::Ja, TOKYO);
            assert!(seen.insert(text.message.clone()), "{code:?} repeats a message");
        }
    }

    #[test]
    fn wrong_recipient_names_issuer_and_serial() {
        let error = AppError::with_detail(
            ErrorCode::WrongRecipient,
            ErrorDetail::Recipient { issuer: "CN=Old MDM".into(), serial_hex: "70FEDDC7D5AFA393".into() },
        );

        for lang in [Lang::Ja, Lang::En] {
            let text = render_error(&error, lang, TOKYO);
            assert!(text.message.contains("CN=Old MDM"), "{lang:?}");
            assert!(text.message.contains("70FEDDC7D5AFA393"), "{lang:?}");
        }
    }

    #[test]
    fn token_expired_shows_date_in_tenant_zone() {
        let expires_at = Utc.with_ymd_and_hms(2026, 1, 17, 11, 2, 21).unwrap();
        let error = AppError::with_detail(ErrorCode::TokenExpired, ErrorDetail::ExpiredAt { expires_at });

        let ja = render_error(&error, Lang::Ja, TOKYO);
        let en = render_error(&error, Lang::En, TOKYO);

        assert!(ja.message.contains("2026年1月17日 20:02 (JST)"), "{}", ja.message);
        assert!(en.message.contains("2026-01-17 20:02 JST"), "{}", en.message);
    }

    #[test]
    fn subscriber_errors_name_recipients() {
        let cases = [
            ("not found, Japanese", ErrorCode::NotFound, Lang::Ja, "通知先"),
            ("not found, English", ErrorCode::NotFound, Lang::En, "recipient"),
            ("already exists, Japanese", ErrorCode::AlreadyExists, Lang::Ja, "通知先"),
            ("already exists, English", ErrorCode::AlreadyExists, Lang::En, "recipient"),
        ];

        for (label, code, lang, expected) in cases {
            let text = render_error(&AppError::with_detail(code, ErrorDetail::Subscriber), lang, TOKYO);

            assert!(text.message.contains(expected), "{label}: {}", text.message);
        }
    }

    #[test]
    fn invalid_endpoint_action_shows_formats() {
        let error = AppError::with_detail(ErrorCode::InvalidRequest, ErrorDetail::InvalidField { field: "endpoint".into() });

        for lang in [Lang::Ja, Lang::En] {
            let text = render_error(&error, lang, TOKYO);

            assert!(text.action.contains("+819012345678"), "{lang:?}: {}", text.action);
            assert!(text.action.contains("name@example.com"), "{lang:?}: {}", text.action);
        }
    }

    #[test]
    fn rate_limited_action_names_seconds() {
        let error = AppError::with_detail(ErrorCode::AppleRateLimited, ErrorDetail::RetryAfter { seconds: 120 });

        let text = render_error(&error, Lang::Ja, TOKYO);

        assert!(text.action.contains("120 秒"), "{}", text.action);
    }
}
