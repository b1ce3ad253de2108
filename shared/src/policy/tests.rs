use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;

use super::*;

/// 2026-04-01 09:00 in Tokyo.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap()
}

fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, 0).unwrap()
}

/// Returns the stage a token seen for the first time gets.
fn first_stage(view: &StatusView) -> Option<Stage> {
    let fresh = StageFields {
        fingerprint: Some("fp".to_owned()),
        ..StageFields::default()
    };
    next_stage_fields(&fresh, Some("fp"), view).stage
}

struct StatusCase {
    label: &'static str,
    expires_at: Option<DateTime<Utc>>,
    last_error: Option<ErrorCode>,
    now: DateTime<Utc>,
    tz: Tz,
    status: TokenStatus,
    days: Option<i64>,
    highlight: bool,
    stage: Option<Stage>,
}

fn days_case(label: &'static str, days: i64, status: TokenStatus, highlight: bool, stage: Option<Stage>) -> StatusCase {
    StatusCase {
        label,
        expires_at: Some(now() + Duration::days(days)),
        last_error: None,
        now: now(),
        tz: DEFAULT_TIME_ZONE,
        status,
        days: Some(days),
        highlight,
        stage,
    }
}

fn verdict_case(label: &'static str, code: ErrorCode, days: i64, status: TokenStatus, highlight: bool, stage: Option<Stage>) -> StatusCase {
    StatusCase {
        last_error: Some(code),
        ..days_case(label, days, status, highlight, stage)
    }
}

#[test]
fn status_and_stage_boundaries() {
    use TokenStatus::*;
    let tokyo_midnight_expiry = Some(utc(2026, 4, 2, 15, 0));
    let cases = [
        days_case("61 days", 61, Ok, false, None),
        days_case("60 days", 60, Expiring, true, Some(Stage::Days60)),
        days_case("59 days", 59, Expiring, true, Some(Stage::Days60)),
        days_case("31 days", 31, Expiring, true, Some(Stage::Days60)),
        days_case("30 days", 30, Expiring, true, Some(Stage::Days30)),
        days_case("15 days", 15, Expiring, true, Some(Stage::Days30)),
        days_case("14 days", 14, Expiring, true, Some(Stage::Days14)),
        days_case("8 days", 8, Expiring, true, Some(Stage::Days14)),
        days_case("7 days", 7, Expiring, true, Some(Stage::Days7)),
        days_case("4 days", 4, Expiring, true, Some(Stage::Days7)),
        days_case("3 days", 3, Expiring, true, Some(Stage::Days3)),
        days_case("2 days", 2, Expiring, true, Some(Stage::Days3)),
        days_case("1 day", 1, Expiring, true, Some(Stage::Days1)),
        StatusCase {
            label: "0 days, expiry later today",
            expires_at: Some(now() + Duration::hours(5)),
            ..days_case("", 0, Expiring, true, Some(Stage::Days1))
        },
        StatusCase {
            label: "overdue by one hour",
            expires_at: Some(now() - Duration::hours(1)),
            ..days_case("", 0, Expired, true, Some(Stage::Expired))
        },
        days_case("overdue by ten days", -10, Expired, true, Some(Stage::Expired)),
        StatusCase {
            label: "exactly at the expiry instant",
            expires_at: Some(now()),
            ..days_case("", 0, Expired, true, Some(Stage::Expired))
        },
        StatusCase {
            label: "Tokyo 23:59 the day before the day before",
            expires_at: tokyo_midnight_expiry,
            now: utc(2026, 4, 1, 14, 59),
            ..days_case("", 2, Expiring, true, Some(Stage::Days3))
        },
        StatusCase {
            label: "Tokyo 00:00 the day before",
            expires_at: tokyo_midnight_expiry,
            now: utc(2026, 4, 1, 15, 0),
            ..days_case("", 1, Expiring, true, Some(Stage::Days1))
        },
        StatusCase {
            label: "UTC zone at 14:59Z",
            expires_at: tokyo_midnight_expiry,
            now: utc(2026, 4, 1, 14, 59),
            tz: chrono_tz::UTC,
            ..days_case("", 1, Expiring, true, Some(Stage::Days1))
        },
        verdict_case("superseded", ErrorCode::TokenSuperseded, 200, TokenRejected, true, Some(Stage::TokenRejected)),
        verdict_case("revoked", ErrorCode::TokenRejected, 200, TokenRejected, true, Some(Stage::TokenRejected)),
        verdict_case("account deleted", ErrorCode::AccountInvalid, 200, TokenRejected, true, Some(Stage::TokenRejected)),
        verdict_case("server removed", ErrorCode::ServerInactive, 200, TokenRejected, true, Some(Stage::TokenRejected)),
        verdict_case("Apple says expired early", ErrorCode::TokenExpired, 200, TokenRejected, true, Some(Stage::TokenRejected)),
        verdict_case("terms not accepted", ErrorCode::TermsNotAccepted, 200, TermsNotAccepted, true, Some(Stage::TermsNotAccepted)),
        verdict_case("broken within 60 days", ErrorCode::TermsNotAccepted, 20, TermsNotAccepted, true, Some(Stage::TermsNotAccepted)),
        verdict_case("Apple unreachable", ErrorCode::AppleUnavailable, 200, CheckFailed, false, None),
        verdict_case("Apple unreachable at 20 days", ErrorCode::AppleUnavailable, 20, CheckFailed, true, Some(Stage::Days30)),
        verdict_case("protocol error", ErrorCode::AppleProtocolError, 200, CheckFailed, false, None),
        verdict_case("rejected after expiry", ErrorCode::TokenRejected, -1, Expired, true, Some(Stage::Expired)),
        verdict_case("unrelated code", ErrorCode::InternalError, 200, Ok, false, None),
        StatusCase {
            label: "no token",
            expires_at: None,
            ..days_case("", 0, NoToken, true, None)
        },
    ];

    for case in cases {
        let view = status_at(case.expires_at, case.last_error, case.now, case.tz);
        let expected_days = case.expires_at.and(case.days);

        assert_eq!(view.status, case.status, "{}: status", case.label);
        assert_eq!(view.days_remaining, expected_days, "{}: days remaining", case.label);
        assert_eq!(view.highlight, case.highlight, "{}: highlight", case.label);
        assert_eq!(first_stage(&view), case.stage, "{}: stage", case.label);
    }
}

#[test]
fn status_of_reads_record_fields() {
    let record = crate::model::test_support::record_expiring(now() + Duration::days(10), Some(ErrorCode::TermsNotAccepted));

    let view = status_of(&record, now(), DEFAULT_TIME_ZONE);

    assert_eq!(view.status, TokenStatus::TermsNotAccepted);
}

fn fields(stage: Option<Stage>, notified: Option<Stage>, countdown: Option<Stage>) -> StageFields {
    StageFields {
        stage,
        notified_stage: notified,
        countdown_stage: countdown,
        fingerprint: Some("fp".to_owned()),
    }
}

fn at_days(days: i64, last_error: Option<ErrorCode>) -> StatusView {
    status_at(Some(now() + Duration::days(days)), last_error, now(), DEFAULT_TIME_ZONE)
}

#[test]
fn stage_transitions() {
    use Stage::*;
    let terms = Some(ErrorCode::TermsNotAccepted);
    let rejected = Some(ErrorCode::TokenSuperseded);
    let unavailable = Some(ErrorCode::AppleUnavailable);
    let cases = [
        ("first seen at 45 days", fields(None, None, None), at_days(45, None), fields(Some(Days60), None, Some(Days60))),
        (
            "same stage again",
            fields(Some(Days60), Some(Days60), Some(Days60)),
            at_days(45, None),
            fields(Some(Days60), Some(Days60), Some(Days60)),
        ),
        (
            "29 days after days_60",
            fields(Some(Days60), Some(Days60), Some(Days60)),
            at_days(29, None),
            fields(Some(Days30), Some(Days60), Some(Days30)),
        ),
        (
            "skips to the most urgent",
            fields(Some(Days60), Some(Days60), Some(Days60)),
            at_days(2, None),
            fields(Some(Days3), Some(Days60), Some(Days3)),
        ),
        ("renewed kept beyond 60 days", fields(Some(Renewed), None, None), at_days(300, None), fields(Some(Renewed), None, None)),
        (
            "renewed token within 60 days",
            fields(Some(Renewed), Some(Renewed), None),
            at_days(45, None),
            fields(Some(Days60), Some(Renewed), Some(Days60)),
        ),
        (
            "new broken state",
            fields(Some(Days30), Some(Days30), Some(Days30)),
            at_days(20, terms),
            fields(Some(TermsNotAccepted), Some(Days30), Some(Days30)),
        ),
        (
            "broken state already recorded",
            fields(Some(TermsNotAccepted), Some(TermsNotAccepted), Some(Days30)),
            at_days(10, terms),
            fields(Some(TermsNotAccepted), Some(TermsNotAccepted), Some(Days30)),
        ),
        (
            "other broken state",
            fields(Some(TermsNotAccepted), Some(TermsNotAccepted), Some(Days30)),
            at_days(10, rejected),
            fields(Some(TokenRejected), Some(TermsNotAccepted), Some(Days30)),
        ),
        (
            "recovery clears the broken stage",
            fields(Some(TermsNotAccepted), Some(TermsNotAccepted), Some(Days30)),
            at_days(20, None),
            fields(None, None, Some(Days30)),
        ),
        (
            "recovery with a countdown stage due",
            fields(Some(TermsNotAccepted), Some(TermsNotAccepted), Some(Days30)),
            at_days(10, None),
            fields(Some(Days14), None, Some(Days14)),
        ),
        (
            "check failed keeps the broken stage",
            fields(Some(TokenRejected), Some(TokenRejected), None),
            at_days(10, unavailable),
            fields(Some(TokenRejected), Some(TokenRejected), None),
        ),
        (
            "check failed continues the countdown",
            fields(Some(Days60), Some(Days60), Some(Days60)),
            at_days(25, unavailable),
            fields(Some(Days30), Some(Days60), Some(Days30)),
        ),
        (
            "expiry after a rejection",
            fields(Some(TokenRejected), Some(TokenRejected), Some(Days30)),
            at_days(-1, rejected),
            fields(Some(Expired), None, Some(Expired)),
        ),
        (
            "expired recorded once",
            fields(Some(Expired), Some(Expired), Some(Expired)),
            at_days(-30, None),
            fields(Some(Expired), Some(Expired), Some(Expired)),
        ),
    ];

    for (label, current, view, expected) in cases {
        let next = next_stage_fields(&current, Some("fp"), &view);

        assert_eq!(next, expected, "{label}");
    }
}

#[test]
fn stage_fields_of_other_token_start_over() {
    let current = StageFields {
        fingerprint: Some("old".to_owned()),
        ..fields(Some(Stage::Days7), Some(Stage::Days7), Some(Stage::Days7))
    };

    let next = next_stage_fields(&current, Some("new"), &at_days(45, None));

    let expected = StageFields {
        fingerprint: Some("new".to_owned()),
        ..fields(Some(Stage::Days60), None, Some(Stage::Days60))
    };
    assert_eq!(next, expected);
}

#[test]
fn stage_fields_nothing_due_records_no_fingerprint() {
    let current = StageFields::default();

    let next = next_stage_fields(&current, Some("fp"), &at_days(200, None));

    assert_eq!(next, current);
}

#[test]
fn stage_fields_without_token_unchanged() {
    let current = fields(Some(Stage::Days7), Some(Stage::Days7), Some(Stage::Days7));
    let view = status_at(None, None, now(), DEFAULT_TIME_ZONE);

    let next = next_stage_fields(&current, None, &view);

    assert_eq!(next, current);
}

#[test]
fn stage_pending_cases() {
    let cases = [
        ("nothing recorded", fields(None, None, None), false),
        ("recorded, not sent", fields(Some(Stage::Days30), Some(Stage::Days60), None), true),
        ("recorded and sent", fields(Some(Stage::Days30), Some(Stage::Days30), None), false),
        ("renewed after an upload", StageFields::renewed("fp"), true),
    ];

    for (label, fields, pending) in cases {
        assert_eq!(fields.is_pending(), pending, "{label}");
    }
}

#[test]
fn severity_per_stage() {
    let cases = [
        (Stage::Renewed, "info"),
        (Stage::Days60, "info"),
        (Stage::Days30, "warning"),
        (Stage::Days14, "warning"),
        (Stage::Days7, "warning"),
        (Stage::Days3, "critical"),
        (Stage::Days1, "critical"),
        (Stage::Expired, "critical"),
        (Stage::TokenRejected, "critical"),
        (Stage::TermsNotAccepted, "critical"),
    ];

    for (stage, expected) in cases {
        assert_eq!(severity(stage), expected, "{stage}");
    }
}

#[test]
fn stage_serialises_as_snake_case() {
    let names: Vec<String> = Stage::ALL
        .iter()
        .map(|stage| serde_json::to_value(stage).unwrap().as_str().unwrap_or_default().to_owned())
        .collect();

    let expected: Vec<&str> = Stage::ALL.iter().map(|stage| stage.as_str()).collect();
    assert_eq!(names, expected);
}
