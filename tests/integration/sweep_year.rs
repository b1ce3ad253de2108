//! A simulated year: tokens with different expiries, the sweep and the notifier run once per
//! simulated day at 09:00 Tokyo time with a fixed clock, and one token renewed mid-way with
//! the real upload use case against the DEP simulator. The outbox must then hold exactly one
//! message per stage per token, in order.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use deptoken_shared::clock::Clock;
use deptoken_shared::ports::Notification;
use deptoken_shared::usecases::SweepOptions;

use crate::harness::Harness;
use crate::sweep::{create_entry, outbox, upload_expiring};

/// Days simulated: past the last expiry, so that every `expired` message is due.
const SIMULATED_DAYS: i64 = 130;

/// The day the renewed entry gets its new token.
const RENEWAL_DAY: i64 = 50;

/// Today 09:00 in Tokyo (00:00 UTC), so that tokens the simulator issues are valid by its own
/// clock as well, which is the real time.
fn first_morning() -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    Utc.from_utc_datetime(&today.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// Groups the outbox by entry: the kinds of its messages, in the order they were sent.
fn kinds_by_server(messages: &[Notification]) -> BTreeMap<String, Vec<String>> {
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for message in messages {
        grouped.entry(message.server.to_string()).or_default().push(message.kind.clone());
    }
    grouped
}

#[tokio::test]
async fn sweep_year_sends_each_stage_once() {
    let harness = Harness::start().await;
    let start = first_morning();
    harness.set_now(start);
    // Expiries at 12:00 Tokyo time, N days after the first morning.
    let noon_after = |days: i64| start + Duration::days(days) + Duration::hours(3);
    let mut certificates = BTreeMap::new();
    for (name, days) in [("short", 45), ("long", 100), ("renewed", 70)] {
        let certificate = create_entry(&harness.services, name).await;
        upload_expiring(&harness, &harness.services, name, &certificate, noon_after(days)).await;
        certificates.insert(name, certificate);
    }

    let mut published_per_day = Vec::new();
    for day in 0..=SIMULATED_DAYS {
        harness.set_now(start + Duration::days(day));
        if day == RENEWAL_DAY {
            upload_expiring(&harness, &harness.services, "renewed", &certificates["renewed"], noon_after(RENEWAL_DAY + 365)).await;
        }

        let result = harness.services.sweep_and_notify(&SweepOptions::default()).await.expect("daily sweep");

        published_per_day.push(result.notifications.published);
    }

    let messages = outbox(&harness);
    let grouped = kinds_by_server(&messages);
    let countdown = ["renewed", "days_60", "days_30", "days_14", "days_7", "days_3", "days_1", "expired"];
    assert_eq!(grouped["short"], countdown, "short: 45 days at upload");
    assert_eq!(grouped["long"], countdown, "long: 100 days at upload");
    assert_eq!(grouped["renewed"], ["renewed", "days_60", "days_30", "renewed"], "renewed on day {RENEWAL_DAY}");
    assert_eq!(messages.len(), 20);
    assert_eq!(published_per_day.iter().sum::<usize>(), 16, "every message but the 4 upload confirmations came from a sweep");
    assert!(messages.iter().all(|m| !crate::harness::contains_credential(&m.body)), "no credential in any body");
}

#[tokio::test]
async fn sweep_year_messages_count_days_in_tokyo() {
    let harness = Harness::start().await;
    let start = first_morning();
    harness.set_now(start);
    let certificate = create_entry(&harness.services, "short").await;
    upload_expiring(&harness, &harness.services, "short", &certificate, start + Duration::days(45) + Duration::hours(3)).await;

    for day in 0..=46 {
        harness.set_now(start + Duration::days(day));
        harness.services.sweep_and_notify(&SweepOptions::default()).await.expect("daily sweep");
    }

    let messages = outbox(&harness);
    let by_kind: BTreeMap<&str, &Notification> = messages.iter().map(|m| (m.kind.as_str(), m)).collect();
    let cases = [
        ("days_60", "有効期限まで残り 45 日", "info"),
        ("days_30", "有効期限まで残り 30 日", "warning"),
        ("days_14", "有効期限まで残り 14 日", "warning"),
        ("days_7", "有効期限まで残り 7 日", "warning"),
        ("days_3", "有効期限まで残り 3 日", "critical"),
        ("days_1", "有効期限まで残り 1 日", "critical"),
        ("expired", "有効期限切れ", "critical"),
    ];
    for (kind, phrase, severity) in cases {
        let message = by_kind.get(kind).unwrap_or_else(|| panic!("{kind} was sent: {:?}", messages.len()));

        assert!(message.body.contains(phrase), "{kind}: {}", message.body);
        assert_eq!(message.severity, severity, "{kind}");
        assert!(message.sms.chars().count() <= 70, "{kind}: {}", message.sms);
    }
    assert_eq!(harness.clock.now(), start + Duration::days(46));
}
