//! The admin portal's texts in Japanese and English, and the whole catalogue the portal loads
//! at start: its UI strings, a label and an action per token status, and every error code's
//! message and action.
//!
//! UI strings may contain `{name}` placeholders, which the portal fills in. Both languages of
//! one key use the same placeholders.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::error::{AppError, ErrorCode, ErrorDetail};
use crate::model::TokenStatus;

use super::{ErrorText, Lang, render_error};

/// Every token status, in the order the dashboard explains them.
pub const TOKEN_STATUSES: [TokenStatus; 7] = [
    TokenStatus::NoToken,
    TokenStatus::Ok,
    TokenStatus::Expiring,
    TokenStatus::Expired,
    TokenStatus::TokenRejected,
    TokenStatus::TermsNotAccepted,
    TokenStatus::CheckFailed,
];

/// The dashboard's text for a token status: a short label and the admin's next step (empty
/// when nothing is needed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusText {
    pub label: &'static str,
    pub action: &'static str,
}

/// Everything the portal shows in one language, served as `GET /v1/messages`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortalCatalogue {
    pub lang: Lang,
    /// The deployment's default IANA zone. The portal shows dates in the tenant's zone from
    /// `GET /v1/settings`, and in this one when the settings cannot be read.
    pub time_zone: String,
    /// UI strings by key.
    pub ui: BTreeMap<&'static str, &'static str>,
    /// Label and action by token status (`ok`, `expiring`, …).
    pub statuses: BTreeMap<&'static str, StatusText>,
    /// Message and action by error code. Facts an error carries appear as placeholders:
    /// `{issuer}`, `{serial}`, `{algorithm}`, `{stored_server_name}`, `{uploaded_server_name}`
    /// and `{field}`. Numbers (seconds, size limit) show their defaults.
    pub errors: BTreeMap<&'static str, ErrorText>,
}

/// Builds the catalogue in `lang`, with dates meant for `time_zone`.
pub fn portal_catalogue(lang: Lang, time_zone: Tz) -> PortalCatalogue {
    let ui = UI_TEXTS
        .iter()
        .map(|(key, ja, en)| (*key, if lang == Lang::Ja { *ja } else { *en }))
        .collect();
    let statuses = TOKEN_STATUSES
        .iter()
        .map(|status| (status.as_str(), status_text(*status, lang)))
        .collect();
    let errors = ErrorCode::ALL
        .iter()
        .map(|code| (code.as_str(), render_error(&error_template(*code), lang, time_zone)))
        .collect();

    PortalCatalogue {
        lang,
        time_zone: time_zone.name().to_owned(),
        ui,
        statuses,
        errors,
    }
}

/// Builds an error whose text facts are placeholders, so that the rendered text is a template.
fn error_template(code: ErrorCode) -> AppError {
    let detail = match code {
        ErrorCode::WrongRecipient => Some(ErrorDetail::Recipient {
            issuer: "{issuer}".to_owned(),
            serial_hex: "{serial}".to_owned(),
        }),
        ErrorCode::UnsupportedAlgorithm => Some(ErrorDetail::Algorithm { name: "{algorithm}".to_owned() }),
        ErrorCode::ServerMismatch => Some(ErrorDetail::ServerChanged {
            stored_server_name: "{stored_server_name}".to_owned(),
            uploaded_server_name: "{uploaded_server_name}".to_owned(),
        }),
        ErrorCode::InvalidRequest => Some(ErrorDetail::InvalidField { field: "{field}".to_owned() }),
        _ => None,
    };
    match detail {
        Some(detail) => AppError::with_detail(code, detail),
        None => AppError::new(code),
    }
}

/// Returns the dashboard's label and action for `status` in `lang`.
pub fn status_text(status: TokenStatus, lang: Lang) -> StatusText {
    let (ja, en) = match status {
        TokenStatus::NoToken => (
            ("サーバートークン未登録", "サーバートークンを登録してください。"),
            ("No server token", "Register a server token."),
        ),
        TokenStatus::Ok => (("有効", ""), ("Valid", "")),
        TokenStatus::Expiring => (
            (
                "期限間近",
                "有効期限が切れる前に、Apple Business Manager で新しいサーバートークンをダウンロードして登録してください。",
            ),
            (
                "Expiring soon",
                "Before it expires, download a new server token in Apple Business Manager and register it.",
            ),
        ),
        TokenStatus::Expired => (
            (
                "有効期限切れ",
                "自動デバイス登録を使えません。Apple Business Manager で新しいサーバートークンをダウンロードして登録してください。",
            ),
            (
                "Expired",
                "Automated Device Enrollment does not work. Download a new server token in Apple Business Manager and register it.",
            ),
        ),
        TokenStatus::TokenRejected => (
            (
                "無効 (Apple に拒否されました)",
                "Apple Business Manager で新しいサーバートークンをダウンロードして登録してください。",
            ),
            (
                "Invalid (rejected by Apple)",
                "Download a new server token in Apple Business Manager and register it.",
            ),
        ),
        TokenStatus::TermsNotAccepted => (
            (
                "利用規約への同意が必要",
                "Apple Business Manager にサインインして新しい利用規約に同意してから、「今すぐ確認」を押してください。新しいサーバートークンは必要ありません。",
            ),
            (
                "Terms not accepted",
                "Sign in to Apple Business Manager, accept the new Terms and Conditions, then press \"Check now\". No new server token is needed.",
            ),
        ),
        TokenStatus::CheckFailed => (
            (
                "確認できませんでした",
                "Apple のサーバーに接続できませんでした。登録済みのサーバートークンはそのままです。しばらくしてから「今すぐ確認」を押してください。",
            ),
            (
                "Check failed",
                "Apple's servers could not be reached. The stored server token is unchanged. Press \"Check now\" again later.",
            ),
        ),
    };
    let (label, action) = if lang == Lang::Ja { ja } else { en };
    StatusText { label, action }
}

/// The portal's UI strings: key, Japanese, English.
pub const UI_TEXTS: &[(&str, &str, &str)] = &[
    // Frame: header, navigation, language switch.
    ("app.title", "DEPサーバートークン管理", "DEP server tokens"),
    ("app.skip", "本文へ移動", "Skip to main content"),
    ("app.nav", "メインメニュー", "Main menu"),
    ("app.lang_switch", "English", "日本語"),
    ("app.lang_switch_label", "Switch to English", "日本語に切り替えます"),
    ("app.loading", "読み込んでいます…", "Loading…"),
    ("app.load_failed", "データを読み込めませんでした。", "The data could not be loaded."),
    ("app.not_set", "未登録", "Not set"),
    ("app.new_tab", "（新しいタブで開きます）", "(opens in a new tab)"),
    ("app.what_to_do", "対処方法:", "What to do:"),
    ("app.cancel", "キャンセル", "Cancel"),
    ("app.warning_icon", "注意", "Warning"),
    // Sign-in, when /portal/config.json names an identity provider. These texts show before
    // sign-in, so the catalogue must stay readable without a token.
    ("auth.title", "サインイン", "Sign in"),
    ("auth.sign_in", "サインイン", "Sign in"),
    ("auth.sign_out", "サインアウト", "Sign out"),
    ("auth.signing_in", "サインイン画面に移動しています…", "Going to the sign-in page…"),
    (
        "auth.signed_out",
        "サインアウトしました。引き続き使うには、もう一度サインインしてください。",
        "You have signed out. Sign in again to continue.",
    ),
    ("auth.failed", "サインインできませんでした。", "Sign-in failed."),
    (
        "auth.failed_action",
        "「サインイン」を押して、もう一度お試しください。何度も失敗する場合は、下の詳細を添えてシステム管理者にお問い合わせください。",
        "Press \"Sign in\" to try again. If it keeps failing, contact your system administrator with the details below.",
    ),
    ("auth.failed_detail", "詳細: {detail}", "Details: {detail}"),
    (
        "auth.config_invalid",
        "サインインの設定ファイル (/portal/config.json) が正しくないため、サインインできません。",
        "Signing in is not possible because the sign-in configuration file (/portal/config.json) is invalid.",
    ),
    (
        "auth.config_invalid_action",
        "システム管理者に、設定ファイルの確認を依頼してください。",
        "Ask your system administrator to check the configuration file.",
    ),
    // Dashboard.
    ("dashboard.title", "ダッシュボード", "Dashboard"),
    (
        "dashboard.intro",
        "登録されているすべての DEPサーバーと、サーバートークンの有効期限を表示します。有効期限の 60 日前から日付を赤で表示します。",
        "All registered DEP servers with the expiry of their server tokens. From 60 days before expiry the date is shown in red.",
    ),
    ("dashboard.caption", "DEPサーバーの一覧", "DEP servers"),
    ("dashboard.attention", "対応が必要な DEPサーバーが {count} 件あります。", "DEP servers that need action: {count}."),
    ("dashboard.empty", "DEPサーバーはまだ登録されていません。下のフォームから追加してください。", "No DEP server is registered yet. Add one with the form below."),
    ("dashboard.org", "組織", "Organisation"),
    ("dashboard.server", "DEPサーバー", "DEP server"),
    ("dashboard.abm_server", "MDMサーバ名 (ABM)", "MDM server in ABM"),
    ("dashboard.account", "Apple アカウント", "Apple Account"),
    ("dashboard.expiry", "有効期限", "Expiry"),
    ("dashboard.status", "状態", "Status"),
    ("dashboard.note", "備考", "Note"),
    ("dashboard.open", "登録・更新", "Register or renew"),
    ("days.left", "有効期限まで残り {days} 日", "{days} days left"),
    ("days.today", "本日が有効期限です", "Expires today"),
    ("days.overdue", "有効期限を {days} 日過ぎています", "Expired {days} days ago"),
    // Adding an entry.
    ("create.title", "DEPサーバーの追加", "Add a DEP server"),
    ("create.name", "名前（半角英数字）", "Name (letters and digits)"),
    (
        "create.name_help",
        "URL に使う識別子です。半角英数字と - _ . を使えます（先頭は英数字、64 文字まで）。",
        "The identifier used in URLs: ASCII letters, digits, - _ and . (starting with a letter or digit, at most 64 characters).",
    ),
    ("create.display_name", "表示名", "Display name"),
    ("create.display_name_help", "ダッシュボードに表示する名前です（例: 東京本社）。", "The name shown on the dashboard (for example, Tokyo office)."),
    ("create.submit", "追加", "Add"),
    ("create.busy", "DEPサーバーを追加しています…", "Adding the DEP server…"),
    (
        "create.done",
        "DEPサーバー「{name}」を追加しました。手順 1 から公開鍵証明書をダウンロードしてください。",
        "The DEP server \"{name}\" was added. Download the public-key certificate in step 1.",
    ),
    // Registration screen.
    ("server.title", "DEPサーバートークン登録", "DEP server token registration"),
    ("server.back", "ダッシュボードに戻る", "Back to the dashboard"),
    ("server.current", "現在のサーバートークン", "Current server token"),
    ("server.last_checked", "最終確認日時", "Last checked"),
    ("server.uploaded", "最終アップロード", "Last upload"),
    ("server.steps", "登録の手順", "Registration steps"),
    ("step1.title", "公開鍵証明書をダウンロードします", "Download the public-key certificate"),
    (
        "step1.text",
        "初めて登録するときと鍵の更新後は、この公開鍵証明書 (.pem) を Apple Business Manager の MDMサーバに登録します。それ以外の年次更新では、この手順は必要ありません。",
        "On the first registration and after a key rotation, add this public-key certificate (.pem) to the MDM server in Apple Business Manager. A yearly renewal does not need this step otherwise.",
    ),
    ("step1.link", "公開鍵証明書 (.pem) をダウンロード", "Download the public-key certificate (.pem)"),
    ("step2.title", "Apple Business Manager でサーバートークンをダウンロードします", "Download the server token in Apple Business Manager"),
    ("step2.link", "Apple Business Manager を開く", "Open Apple Business Manager"),
    (
        "step2.abm_sign_in",
        "管理者またはデバイス管理者の役割を持つ Apple アカウントでサインインします。",
        "Sign in with an Apple Account that has the Administrator or Device Manager role.",
    ),
    (
        "step2.abm_preferences",
        "左下の自分の名前をクリックし、［環境設定］を選びます。",
        "Click your name at the bottom left and choose [Preferences].",
    ),
    (
        "step2.abm_server",
        "［MDMサーバ］（新しい画面では［デバイス管理サービス］）を選び、このサーバーを選択します。",
        "Choose [MDM Servers] (on newer screens, [Device Management Services]) and select this server.",
    ),
    (
        "step2.abm_certificate",
        "初めて登録するときと鍵の更新後は、手順 1 の公開鍵証明書 (.pem) をこの MDMサーバにアップロードします。",
        "On the first registration and after a key rotation, upload the public-key certificate (.pem) from step 1 to this MDM server.",
    ),
    (
        "step2.abm_download",
        "［トークンをダウンロード］をクリックし、サーバートークンファイル (.p7m) を保存します。",
        "Click [Download Token] and save the server token file (.p7m).",
    ),
    (
        "step2.warning",
        "新しいサーバートークンをダウンロードすると、それまでのトークンはすぐに使えなくなります。ダウンロードしたら、すぐに手順 3 で登録してください。",
        "Downloading a new server token makes the previous one unusable at once. Register the new one in step 3 right away.",
    ),
    ("step2.sim_title", "DEP シミュレーターで試す", "Try it with the DEP simulator"),
    (
        "step2.sim_text",
        "この環境は Apple の代わりに DEP シミュレーターを使っています。Apple Business Manager の代わりに、シミュレーターでこの DEPサーバー用のサーバートークンファイル (.p7m) を発行できます。発行したファイルを手順 3 で選択してください。",
        "This runner uses the DEP simulator in place of Apple. Instead of Apple Business Manager, the simulator can issue a server token file (.p7m) for this DEP server. Choose that file in step 3.",
    ),
    ("step2.sim_button", "シミュレーターでサーバートークンを発行", "Issue a server token with the simulator"),
    (
        "step2.sim_done",
        "サーバートークンファイル「{file}」をダウンロードしました。手順 3 で選択してください。",
        "The server token file {file} was downloaded. Choose it in step 3.",
    ),
    (
        "step2.sim_failed",
        "シミュレーターでサーバートークンを発行できませんでした。deptoken serve のログを確認してください。",
        "The simulator could not issue a server token. Check the log of deptoken serve.",
    ),
    ("step3.title", "サーバートークンファイルを登録します", "Register the server token file"),
    ("step3.file", "サーバートークンファイル (.p7m)", "Server token file (.p7m)"),
    (
        "step3.file_help",
        "Apple Business Manager でダウンロードした、名前が _smime.p7m で終わるファイルを選択してください。",
        "Choose the file downloaded from Apple Business Manager; its name ends in _smime.p7m.",
    ),
    ("step3.note", "備考（Apple アカウント）", "Note (Apple Account)"),
    (
        "step3.note_help",
        "サーバートークンをダウンロードした Apple アカウントを記録してください。来年の更新にも同じ Apple アカウントが必要です。空欄で保存すると、登録済みの備考は変わりません。",
        "Record the Apple Account that downloaded the server token: next year's renewal needs the same Apple Account. Saving with this field empty keeps the stored note.",
    ),
    ("step3.submit", "保存", "Save"),
    (
        "step3.busy",
        "サーバートークンを Apple に確認しています。しばらくお待ちください…",
        "Checking the server token with Apple. Please wait…",
    ),
    ("step3.no_file", "サーバートークンファイル (.p7m) を選択してください。", "Choose a server token file (.p7m)."),
    (
        "step3.saved",
        "サーバートークンを登録しました。新しい有効期限は{date}です（有効期限まで残り {days} 日）。",
        "The server token was registered. The new expiry is {date} ({days} days left).",
    ),
    ("step3.note_saved", "備考を保存しました。", "The note was saved."),
    ("step3.failed", "保存できませんでした。", "Not saved."),
    ("step3.confirm_change", "MDMサーバを切り替えて保存", "Switch the MDM server and save"),
    (
        "step3.confirm_change_help",
        "この DEPサーバーで使う MDMサーバを切り替える場合だけ押してください。",
        "Press this only if this DEP server should switch to the other MDM server.",
    ),
    // Check and key rotation.
    ("check.title", "確認と鍵の更新", "Check and key rotation"),
    ("check.button", "今すぐ確認", "Check now"),
    (
        "check.help",
        "登録済みのサーバートークンの状態を、今すぐ Apple に問い合わせます。Apple Business Manager で利用規約に同意したあとなどに使います。",
        "Asks Apple about the stored server token now, for example after accepting new Terms and Conditions in Apple Business Manager.",
    ),
    ("check.busy", "Apple に問い合わせています…", "Asking Apple…"),
    ("check.done", "確認しました。状態: {status}", "Checked. Status: {status}"),
    ("rotate.button", "鍵の更新", "Rotate the key"),
    (
        "rotate.help",
        "新しい鍵ペアと公開鍵証明書を作成します。鍵が漏れたおそれがあるときや、定期的な鍵の交換に使います。",
        "Creates a new key pair and public-key certificate, for a key that may have leaked or for regular key rotation.",
    ),
    ("rotate.dialog_title", "鍵を更新しますか？", "Rotate the key?"),
    (
        "rotate.dialog_text",
        "新しい公開鍵証明書を作成します。手順 1 で新しい公開鍵証明書 (.pem) をダウンロードして Apple Business Manager の MDMサーバにアップロードし、そのあとでダウンロードしたサーバートークンを手順 3 で登録してください。それまでは、登録済みのサーバートークンをそのまま使えます。",
        "A new public-key certificate will be created. Download it (.pem) in step 1, upload it to the MDM server in Apple Business Manager, then register the server token you download there in step 3. Until then the stored server token keeps working.",
    ),
    ("rotate.confirm", "鍵を更新する", "Rotate the key"),
    ("rotate.busy", "新しい鍵を作成しています…", "Creating the new key…"),
    (
        "rotate.done",
        "新しい公開鍵証明書を作成しました。手順 1 からダウンロードして、Apple Business Manager の MDMサーバにアップロードしてください。",
        "A new public-key certificate was created. Download it in step 1 and upload it to the MDM server in Apple Business Manager.",
    ),
    // Upload history.
    ("history.title", "アップロード履歴", "Upload history"),
    ("history.empty", "まだサーバートークンは登録されていません。", "No server token has been registered yet."),
    ("history.uploaded_at", "アップロード日時", "Uploaded at"),
    ("history.uploaded_by", "実行者", "Uploaded by"),
    // Notification recipients.
    ("recipients.title", "通知先", "Notification recipients"),
    (
        "recipients.intro",
        "サーバートークンの有効期限が近づいたときや問題が見つかったときに、ここに登録したメールアドレスと電話番号 (SMS) にお知らせします。",
        "When a server token nears its expiry or a problem is found, the email addresses and phone numbers (SMS) registered here are notified.",
    ),
    ("recipients.caption", "登録済みの通知先", "Registered recipients"),
    ("recipients.empty", "通知先はまだ登録されていません。", "No recipient is registered yet."),
    ("recipients.protocol", "種類", "Type"),
    ("recipients.endpoint", "宛先", "Address"),
    ("recipients.status", "状態", "Status"),
    ("recipients.actions", "操作", "Actions"),
    ("recipients.email", "メール", "Email"),
    ("recipients.sms", "SMS", "SMS"),
    ("recipients.confirmed", "有効", "Active"),
    (
        "recipients.pending",
        "確認待ち（届いた確認メールのリンクを開くと通知が届くようになります）",
        "Pending confirmation (messages start once the link in the confirmation email is followed)",
    ),
    (
        "recipients.unsubscribed",
        "配信停止（受信者が配信を停止したか、確認の期限が切れました。通知を受け取るには、削除してから追加し直してください）",
        "Unsubscribed (the recipient stopped the messages or did not confirm in time, so remove the address and add it again to resume)",
    ),
    ("recipients.remove", "削除", "Remove"),
    ("recipients.remove_label", "「{endpoint}」を削除", "Remove {endpoint}"),
    ("recipients.remove_question", "通知先「{endpoint}」を削除しますか？", "Remove the recipient {endpoint}?"),
    ("recipients.removed", "通知先「{endpoint}」を削除しました。", "The recipient {endpoint} was removed."),
    ("recipients.add_title", "通知先の追加", "Add a recipient"),
    ("recipients.address", "メールアドレスまたは電話番号", "Email address or phone number"),
    (
        "recipients.address_help",
        "電話番号は国番号から入力してください（例: +819012345678）。",
        "Enter a phone number with its country code (for example, +819012345678).",
    ),
    ("recipients.add", "追加", "Add"),
    ("recipients.busy", "保存しています…", "Saving…"),
    ("recipients.added", "通知先「{endpoint}」を追加しました。", "The recipient {endpoint} was added."),
    // Notification settings (`/v1/settings`) on the recipients screen.
    ("settings.title", "通知の設定", "Notification settings"),
    (
        "settings.intro",
        "ここで設定した言語とタイムゾーンは、登録済みのすべての通知先に届く通知に使われます。タイムゾーンは、この管理画面の日付にも使われます。",
        "The language and time zone set here apply to the notifications sent to every registered recipient. The time zone also applies to the dates in this portal.",
    ),
    ("settings.language", "通知の言語", "Notification language"),
    (
        "settings.language_help",
        "メールと SMS の通知に使う言語です。このポータルの表示言語（画面右上の切り替え）とは別に設定します。",
        "The language of the notification emails and SMS. It is set separately from this portal's display language (the switch at the top right).",
    ),
    ("settings.language_ja", "日本語", "日本語"),
    ("settings.language_en", "English", "English"),
    ("settings.time_zone", "タイムゾーン", "Time zone"),
    (
        "settings.time_zone_help",
        "通知とダッシュボードに表示する有効期限の日付と残り日数は、このタイムゾーンで数えます。",
        "Expiry dates and days left in notifications and on the dashboard are counted in this time zone.",
    ),
    ("settings.submit", "設定を保存", "Save settings"),
    ("settings.busy", "設定を保存しています…", "Saving the settings…"),
    (
        "settings.saved",
        "通知の設定を保存しました（通知の言語: {language}、タイムゾーン: {zone}）。",
        "The notification settings were saved (notification language: {language}, time zone: {zone}).",
    ),
    ("settings.failed", "通知の設定を保存できませんでした。", "The notification settings were not saved."),
    (
        "settings.read_only",
        "通知の設定を変更できるのは管理者だけです。現在の設定を表示していますが、変更はできません。",
        "Only administrators can change the notification settings. The current settings are shown, but cannot be changed.",
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use super::*;

    const TOKYO: Tz = chrono_tz::Asia::Tokyo;

    fn has_japanese(text: &str) -> bool {
        text.chars().any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
    }

    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name)).collect()
    }

    #[test]
    fn ui_keys_are_unique() {
        let mut seen = HashSet::new();

        for (key, _, _) in UI_TEXTS {
            assert!(seen.insert(key), "{key} appears twice");
        }
    }

    #[test]
    fn ui_texts_are_in_their_language() {
        // The language switch names the other language on purpose, and the notification
        // languages are named in their own language in both catalogues.
        let switch_keys = ["app.lang_switch", "app.lang_switch_label", "settings.language_ja"];

        for (key, ja, en) in UI_TEXTS.iter().filter(|(key, _, _)| !switch_keys.contains(key)) {
            assert!(has_japanese(ja) || ja.is_ascii(), "{key} ja");
            assert!(!has_japanese(en), "{key} en: {en}");
            assert!(!ja.is_empty(), "{key} ja empty");
            assert!(!en.is_empty(), "{key} en empty");
        }
    }

    #[test]
    fn ui_placeholders_match_across_languages() {
        for (key, ja, en) in UI_TEXTS {
            assert_eq!(placeholders(ja), placeholders(en), "{key}");
        }
    }

    #[test]
    fn catalogue_covers_every_code_and_status() {
        let catalogue = portal_catalogue(Lang::Ja, TOKYO);

        assert_eq!(catalogue.errors.len(), ErrorCode::ALL.len());
        assert_eq!(catalogue.statuses.len(), TOKEN_STATUSES.len());
        assert_eq!(catalogue.ui.len(), UI_TEXTS.len());
        assert_eq!(catalogue.time_zone, "Asia/Tokyo");
    }

    #[test]
    fn catalogue_picks_the_language() {
        let ja = portal_catalogue(Lang::Ja, TOKYO);
        let en = portal_catalogue(Lang::En, TOKYO);

        assert_eq!(ja.ui.get("dashboard.title"), Some(&"ダッシュボード"));
        assert_eq!(en.ui.get("dashboard.title"), Some(&"Dashboard"));
        assert!(has_japanese(&ja.errors["not_a_token"].message));
        assert!(!has_japanese(&en.errors["not_a_token"].message));
    }

    #[test]
    fn error_templates_show_placeholders() {
        let catalogue = portal_catalogue(Lang::En, TOKYO);

        let mismatch = &catalogue.errors["server_mismatch"].message;

        assert!(mismatch.contains("{uploaded_server_name}"), "{mismatch}");
        assert!(mismatch.contains("{stored_server_name}"), "{mismatch}");
        assert!(!catalogue.errors["wrong_recipient"].message.contains('?'));
    }

    #[test]
    fn broken_statuses_say_what_to_do() {
        let needs_action = [
            TokenStatus::NoToken,
            TokenStatus::Expiring,
            TokenStatus::Expired,
            TokenStatus::TokenRejected,
            TokenStatus::TermsNotAccepted,
            TokenStatus::CheckFailed,
        ];

        for status in needs_action {
            for lang in [Lang::Ja, Lang::En] {
                assert!(!status_text(status, lang).action.is_empty(), "{status:?} {lang:?}");
            }
        }
    }
}
