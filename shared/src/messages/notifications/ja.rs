//! Japanese notification texts: polite です/ます sentences with the terms of the Japanese
//! glossary (DEPサーバートークン, 有効期限, 利用規約, 備考, …) and ABM's own screen labels,
//! older (MDMサーバ) and newer (デバイス管理サービス).

use std::fmt::Write as _;

use crate::error::ErrorCode;
use crate::model::Stage;

use super::sms::fit;
use super::{NotificationFacts, NotificationText};

/// The marker that opens every SMS, so that recipients see at once what it is about.
const SMS_PREFIX: &str = "【DEPサーバートークン】";

pub(super) fn render(stage: Stage, facts: &NotificationFacts) -> NotificationText {
    NotificationText {
        subject: subject(stage, facts),
        body: body(stage, facts),
        sms: sms(stage, facts),
    }
}

fn subject(stage: Stage, facts: &NotificationFacts) -> String {
    let name = &facts.display_name;
    let (manager, _, _) = facts.manager();
    match stage {
        Stage::Renewed => format!("【お知らせ】DEPサーバートークンを更新しました（{name}）"),
        Stage::Days60 => format!("【お知らせ】DEPサーバートークンの{}（{name}）", days_left(facts)),
        Stage::Days30 | Stage::Days14 | Stage::Days7 => {
            format!("【要対応】DEPサーバートークンの{}（{name}）", days_left(facts))
        }
        Stage::Days3 | Stage::Days1 => format!("【至急】DEPサーバートークンの{}（{name}）", days_left(facts)),
        Stage::Expired => format!("【至急】DEPサーバートークンの有効期限が切れました（{name}）"),
        Stage::TokenRejected => format!("【至急】DEPサーバートークンが無効になりました（{name}）"),
        Stage::TermsNotAccepted => format!("【至急】{manager} で新しい利用規約への同意が必要です（{name}）"),
    }
}

/// `有効期限まで残り N 日です`, or `有効期限は本日です` on the expiry date.
fn days_left(facts: &NotificationFacts) -> String {
    match facts.days_remaining {
        Some(days) if days > 0 => format!("有効期限まで残り {days} 日です"),
        _ => "有効期限は本日です".to_owned(),
    }
}

fn expiry(facts: &NotificationFacts) -> String {
    facts
        .expires_at
        .map(|at| crate::messages::format_instant(at, crate::Lang::Ja, facts.time_zone))
        .unwrap_or_else(|| "不明".to_owned())
}

fn body(stage: Stage, facts: &NotificationFacts) -> String {
    let mut text = String::new();
    text.push_str(&opening(stage, facts));
    text.push_str("\n\n");
    text.push_str(&facts_block(stage, facts));
    text.push('\n');
    match stage {
        Stage::Renewed => text.push_str(&renewed_advice(facts)),
        Stage::TermsNotAccepted => text.push_str(&terms_steps(facts)),
        _ => text.push_str(&renewal_steps(facts)),
    }
    text.push('\n');
    if let Some(url) = &facts.portal_url {
        let _ = writeln!(text, "ポータル: {url}");
    }
    text.push_str("このメッセージは deptoken が自動で送信しています。\n");
    text
}

/// Renders the first paragraph: what happened and what it means for device enrollment.
fn opening(stage: Stage, facts: &NotificationFacts) -> String {
    let name = &facts.display_name;
    let (manager, _, _) = facts.manager();
    match stage {
        Stage::Renewed => format!(
            "「{name}」の DEPサーバートークンを更新しました。新しい有効期限は {} です。",
            expiry(facts)
        ),
        Stage::Days60 | Stage::Days30 | Stage::Days14 | Stage::Days7 | Stage::Days3 | Stage::Days1 => format!(
            "「{name}」の DEPサーバートークンの有効期限は {} です。{}。\n\
             有効期限を過ぎると、このサーバーに割り当てたデバイスを自動デバイス登録 (ADE、旧DEP) で\
             登録できなくなります。下記の手順で早めに更新してください。",
            expiry(facts),
            days_left(facts)
        ),
        Stage::Expired => format!(
            "「{name}」の DEPサーバートークンは {} に有効期限切れになりました。\n\
             新しいデバイスを自動デバイス登録 (ADE、旧DEP) で登録できません。\
             下記の手順で新しいトークンをダウンロードし、アップロードしてください。",
            expiry(facts)
        ),
        Stage::TokenRejected => format!(
            "「{name}」の DEPサーバートークンが Apple に拒否され、無効になりました。\n\
             原因: {}\n\
             新しいデバイスを自動デバイス登録 (ADE、旧DEP) で登録できません。\
             下記の手順で新しいトークンをダウンロードし、アップロードしてください。",
            rejection_reason(facts)
        ),
        Stage::TermsNotAccepted => format!(
            "{manager} で新しい利用規約への同意が必要です。\n\
             同意されるまで、「{name}」の DEPサーバートークンで Apple のデバイス登録サービスを利用できず、\
             新しいデバイスを自動デバイス登録 (ADE、旧DEP) で登録できません。"
        ),
    }
}

/// Explains why Apple rejected the token, from the verdict of the last check.
fn rejection_reason(facts: &NotificationFacts) -> String {
    let (manager, short, _) = facts.manager();
    match facts.reason {
        Some(ErrorCode::TokenSuperseded) => format!(
            "{short} で新しいトークンが発行されたため無効になりました。\
             そのときに保存したサーバートークンファイルがあれば、それをアップロードしてください。"
        ),
        Some(ErrorCode::AccountInvalid) => {
            "トークンをダウンロードした Apple アカウントが削除されたか、パスワードが変更されたため無効になりました。"
                .to_owned()
        }
        Some(ErrorCode::ServerInactive) => format!(
            "{manager} で MDMサーバ (デバイス管理サービス) が削除されたか、無効になっています。"
        ),
        Some(ErrorCode::TokenExpired) => "Apple はこのトークンを有効期限切れとして扱っています。".to_owned(),
        _ => "トークンが取り消されたか、Apple で受け付けられなくなりました。".to_owned(),
    }
}

/// Lists the entry, the ABM server, the organisation and the expiry, one per line.
fn facts_block(stage: Stage, facts: &NotificationFacts) -> String {
    let (manager, _, _) = facts.manager();
    let mut text = String::from("■ 対象\n");
    let _ = writeln!(text, "DEPサーバー: {} ({})", facts.display_name, facts.server);
    if let Some(server) = &facts.abm_server_name {
        let _ = writeln!(text, "{manager} の MDMサーバ: {server}");
    }
    if let Some(org) = &facts.org_name {
        let _ = writeln!(text, "組織: {org}");
    }
    let _ = writeln!(text, "有効期限: {}", expiry(facts));
    match facts.days_remaining {
        Some(days) if days > 0 => {
            let _ = writeln!(text, "有効期限まで残り {days} 日");
        }
        Some(0) if stage != Stage::Expired => text.push_str("有効期限は本日です\n"),
        Some(_) => text.push_str("有効期限切れ\n"),
        None => {}
    }
    if let Some(account) = &facts.apple_account {
        let _ = writeln!(text, "トークンをダウンロードした Apple アカウント: {account}");
    }
    if let Some(note) = facts.note.as_ref().filter(|note| Some(*note) != facts.apple_account.as_ref()) {
        let _ = writeln!(text, "備考: {note}");
    }
    text
}

/// Renders the renewal steps in ABM's labels, older and newer, and the upload in the portal.
fn renewal_steps(facts: &NotificationFacts) -> String {
    let (manager, _, url) = facts.manager();
    let server = facts
        .abm_server_name
        .as_ref()
        .map(|name| format!("「{name}」"))
        .unwrap_or_else(|| "対象のMDMサーバ".to_owned());
    let portal = portal_place(facts);

    format!(
        "■ 更新の手順\n\
         1. 管理者またはデバイスマネージャの役割を持つ Apple アカウントで {manager} ({url}) にサインインします。\n\
         2. 画面左下の自分の名前をクリックし、「環境設定」を選択します。\n\
         3. 「MDMサーバ」(新しい画面では「デバイス管理サービス」) を選択し、一覧から{server}を選択します。\n\
         4. 「トークンをダウンロード」をクリックし、サーバートークンファイル (.p7m) を保存します。\n   \
            新しいトークンをダウンロードすると、それまでのトークンはすぐに使えなくなります。続けてすぐに手順 5 に進んでください。\n\
         5. {portal}で「{}」のサーバートークンファイルを選択し、備考に {manager} で使用した Apple アカウントを入力して保存します。\n",
        facts.display_name
    )
}

/// Renders the steps for new Terms and Conditions: accept them, then check again.
fn terms_steps(facts: &NotificationFacts) -> String {
    let (manager, _, url) = facts.manager();
    let portal = portal_place(facts);

    format!(
        "■ 対応の手順\n\
         1. 管理者の役割を持つ Apple アカウントで {manager} ({url}) にサインインします。\n\
         2. 表示される新しい利用規約を確認し、同意します。\n\
         3. {portal}で「{}」の状態を再確認します。再確認しない場合も、翌日の定期確認で反映されます。\n\
         サーバートークンを再度アップロードする必要はありません。\n",
        facts.display_name
    )
}

/// Renders the advice after a renewal: when the next reminder comes, and the account to renew with.
fn renewed_advice(facts: &NotificationFacts) -> String {
    let mut text = String::from("■ 次回の更新\n");
    let _ = writeln!(
        text,
        "有効期限の 60 日前から、更新のお知らせを送信します。{}",
        match &facts.apple_account {
            Some(account) => format!("次回の更新も同じ Apple アカウント ({account}) で行うことをおすすめします。"),
            None => "次回の更新も同じ Apple アカウントで行うことをおすすめします。".to_owned(),
        }
    );
    text
}

fn portal_place(facts: &NotificationFacts) -> String {
    match &facts.portal_url {
        Some(url) => format!("ポータル ({url}) の DEPサーバートークンの画面"),
        None => "ポータルの DEPサーバートークンの画面".to_owned(),
    }
}

fn sms(stage: Stage, facts: &NotificationFacts) -> String {
    let (_, short, _) = facts.manager();
    let date = |format: &str| {
        facts
            .expires_at
            .map(|at| at.with_timezone(&facts.time_zone).format(format).to_string())
            .unwrap_or_default()
    };
    let month_day = date("%-m/%-d");
    let full_date = date("%Y/%-m/%-d");
    let time = date("%H:%M");
    let days = facts.days_remaining.unwrap_or(0);

    fit(&facts.display_name, "…", |name| match stage {
        Stage::Renewed => format!("{SMS_PREFIX}{name}: 更新しました。新しい有効期限は {full_date} です。"),
        Stage::Days60 | Stage::Days30 | Stage::Days14 | Stage::Days7 | Stage::Days3 | Stage::Days1 if days > 0 => {
            format!("{SMS_PREFIX}{name}: 有効期限まで残り {days} 日 ({month_day})。{short} で更新してください。")
        }
        Stage::Days60 | Stage::Days30 | Stage::Days14 | Stage::Days7 | Stage::Days3 | Stage::Days1 => {
            format!("{SMS_PREFIX}{name}: 有効期限は本日 {time} です。{short} で更新してください。")
        }
        Stage::Expired => format!("{SMS_PREFIX}{name}: 有効期限切れです ({month_day})。{short} で更新してください。"),
        Stage::TokenRejected => format!("{SMS_PREFIX}{name}: Apple に拒否され無効です。新しいトークンを登録してください。"),
        Stage::TermsNotAccepted => format!("{SMS_PREFIX}{name}: {short} で新しい利用規約への同意が必要です。"),
    })
}
