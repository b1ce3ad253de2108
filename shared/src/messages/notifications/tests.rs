//! Snapshots of every stage's texts in both languages, kept in `shared/tests/snapshots/` and
//! reviewed by reading them. `UPDATE_SNAPSHOTS=1 cargo test -p deptoken-shared` rewrites them.

use std::path::PathBuf;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::model::test_support::record_expiring;

/// 2026-04-01 09:00 in Tokyo.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap()
}

/// Returns the days left each stage's snapshot is rendered with, and Apple's verdict behind it.
fn scenario(stage: Stage) -> (i64, Option<ErrorCode>) {
    match stage {
        Stage::Renewed => (365, None),
        Stage::Days60 => (45, None),
        Stage::Days30 => (30, None),
        Stage::Days14 => (14, None),
        Stage::Days7 => (7, None),
        Stage::Days3 => (3, None),
        Stage::Days1 => (1, None),
        Stage::Expired => (-1, None),
        Stage::TokenRejected => (200, Some(ErrorCode::TokenSuperseded)),
        Stage::TermsNotAccepted => (120, Some(ErrorCode::TermsNotAccepted)),
    }
}

/// Builds the facts of the sample entry in `stage`, expiring at 20:02:21 Tokyo time.
fn facts_for(stage: Stage) -> NotificationFacts {
    let (days, last_error) = scenario(stage);
    let expires_at = now() + Duration::days(days) + Duration::seconds(11 * 3600 + 2 * 60 + 21);
    let record = record_expiring(expires_at, last_error);
    NotificationFacts::of(&record, now(), chrono_tz::Asia::Tokyo, Some("https://portal.example.jp/dep"))
}

fn snapshot_path(lang: Lang, stage: Stage) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/notifications")
        .join(lang.as_str())
        .join(format!("{stage}.txt"))
}

fn snapshot_text(text: &NotificationText) -> String {
    format!("subject: {}\nsms: {}\n---\n{}", text.subject, text.sms, text.body)
}

#[test]
fn notification_texts_match_snapshots() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|value| value == "1");
    let mut mismatches = Vec::new();

    for lang in [Lang::Ja, Lang::En] {
        for stage in Stage::ALL {
            let rendered = snapshot_text(&render_notification(stage, &facts_for(stage), lang));
            let path = snapshot_path(lang, stage);
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &rendered).unwrap();
                continue;
            }
            let stored = std::fs::read_to_string(&path).unwrap_or_default();
            if stored != rendered {
                mismatches.push(format!("{}\n--- rendered:\n{rendered}", path.display()));
            }
        }
    }

    assert!(
        mismatches.is_empty(),
        "snapshots differ (review, then rerun with UPDATE_SNAPSHOTS=1):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn japanese_sms_fits_one_segment() {
    for stage in Stage::ALL {
        let text = render_notification(stage, &facts_for(stage), Lang::Ja);

        assert!(text.sms.chars().count() <= 70, "{stage}: {} characters: {}", text.sms.chars().count(), text.sms);
        assert!(text.sms.encode_utf16().count() <= SMS_UCS2_UNITS, "{stage}: {}", text.sms);
    }
}

#[test]
fn english_sms_fits_one_segment() {
    for stage in Stage::ALL {
        let text = render_notification(stage, &facts_for(stage), Lang::En);

        assert!(sms_fits(&text.sms), "{stage}: {}", text.sms);
        assert!(text.sms.chars().count() <= SMS_GSM7_SEPTETS, "{stage}: {}", text.sms);
    }
}

#[test]
fn sms_with_long_display_name_fits() {
    let long_names = [("Japanese", "東京本社 情報システム部 端末管理グループ".repeat(3)), ("Latin", "Head office IT devices ".repeat(6))];

    for (label, name) in long_names {
        for lang in [Lang::Ja, Lang::En] {
            for stage in Stage::ALL {
                let facts = NotificationFacts {
                    display_name: name.clone(),
                    ..facts_for(stage)
                };

                let text = render_notification(stage, &facts, lang);

                assert!(sms_fits(&text.sms), "{label} {lang:?} {stage}: {}", text.sms);
            }
        }
    }
}

#[test]
fn english_sms_latin_name_is_full_sentence() {
    let facts = NotificationFacts {
        display_name: "Tokyo office".to_owned(),
        ..facts_for(Stage::Days30)
    };

    let text = render_notification(Stage::Days30, &facts, Lang::En);

    assert_eq!(
        text.sms,
        "DEP server token of Tokyo office expires in 30 days (2026-05-01). Download a new token in ABM and upload it to the portal."
    );
}

#[test]
fn texts_name_entry_and_expiry() {
    for lang in [Lang::Ja, Lang::En] {
        for stage in Stage::ALL {
            let text = render_notification(stage, &facts_for(stage), lang);

            assert!(text.subject.contains("東京本社"), "{lang:?} {stage}: subject {}", text.subject);
            assert!(text.body.contains("Tokyo MDM"), "{lang:?} {stage}: ABM server name");
            assert!(text.body.contains("株式会社サンプル"), "{lang:?} {stage}: organisation");
            assert!(text.body.contains("https://portal.example.jp/dep"), "{lang:?} {stage}: portal link");
            assert!(text.body.contains("20:02"), "{lang:?} {stage}: expiry in Tokyo time");
        }
    }
}

#[test]
fn japanese_countdown_states_days_left() {
    let countdown = [Stage::Days60, Stage::Days30, Stage::Days14, Stage::Days7, Stage::Days3, Stage::Days1];

    for stage in countdown {
        let (days, _) = scenario(stage);

        let text = render_notification(stage, &facts_for(stage), Lang::Ja);

        assert!(text.body.contains(&format!("有効期限まで残り {days} 日")), "{stage}");
    }
}

#[test]
fn japanese_renewal_steps_give_both_labels() {
    let renewal = [Stage::Days60, Stage::Days30, Stage::Days14, Stage::Days7, Stage::Days3, Stage::Days1, Stage::Expired, Stage::TokenRejected];

    for stage in renewal {
        let text = render_notification(stage, &facts_for(stage), Lang::Ja);

        assert!(text.body.contains("「MDMサーバ」"), "{stage}: older label");
        assert!(text.body.contains("「デバイス管理サービス」"), "{stage}: newer label");
        assert!(text.body.contains("「トークンをダウンロード」"), "{stage}: download button");
        assert!(text.body.contains("「環境設定」"), "{stage}: preferences");
    }
}

#[test]
fn education_uses_apple_school_manager() {
    let facts = NotificationFacts {
        education: true,
        ..facts_for(Stage::Days30)
    };

    let text = render_notification(Stage::Days30, &facts, Lang::Ja);

    assert!(text.body.contains("Apple School Manager"), "{}", text.body);
    assert!(!text.body.contains("Apple Business Manager"), "{}", text.body);
}

#[test]
fn expiry_day_says_today() {
    let expires_at = now() + Duration::hours(5);
    let facts = NotificationFacts::of(&record_expiring(expires_at, None), now(), chrono_tz::Asia::Tokyo, None);

    let ja = render_notification(Stage::Days1, &facts, Lang::Ja);
    let en = render_notification(Stage::Days1, &facts, Lang::En);

    assert!(ja.subject.contains("有効期限は本日です"), "{}", ja.subject);
    assert!(ja.sms.contains("本日 14:00"), "{}", ja.sms);
    assert!(en.subject.contains("expires today"), "{}", en.subject);
}

#[test]
fn rejection_reason_per_verdict() {
    let cases = [
        ("superseded", ErrorCode::TokenSuperseded, "新しいトークンが発行されたため無効"),
        ("account", ErrorCode::AccountInvalid, "パスワードが変更された"),
        ("server removed", ErrorCode::ServerInactive, "MDMサーバ (デバイス管理サービス) が削除"),
        ("revoked", ErrorCode::TokenRejected, "取り消された"),
    ];

    for (label, code, expected) in cases {
        let facts = NotificationFacts {
            reason: Some(code),
            ..facts_for(Stage::TokenRejected)
        };

        let text = render_notification(Stage::TokenRejected, &facts, Lang::Ja);

        assert!(text.body.contains(expected), "{label}: {}", text.body);
    }
}

#[test]
fn texts_hold_no_credential() {
    let mut record = record_expiring(now() + Duration::days(10), None);
    record.credentials = Some(crate::model::SealedCredentials {
        consumer_key: "CK_sealed".to_owned(),
        consumer_secret: "CS_sealed".to_owned(),
        access_token: "AT_sealed".to_owned(),
        access_secret: "AS_sealed".to_owned(),
    });
    let facts = NotificationFacts::of(&record, now(), chrono_tz::Asia::Tokyo, None);

    for lang in [Lang::Ja, Lang::En] {
        for stage in Stage::ALL {
            let text = render_notification(stage, &facts, lang);
            let all = format!("{}{}{}", text.subject, text.body, text.sms);

            assert!(!all.contains("_sealed"), "{lang:?} {stage}");
        }
    }
}
