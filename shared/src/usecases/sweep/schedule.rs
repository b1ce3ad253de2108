//! When the daily sweep runs next: a wall-clock time in the tenant's time zone.

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Returns the first instant strictly after `after` at which the clock in `tz` shows `at`.
///
/// On a day when `at` does not exist (a daylight-saving gap) the run moves one hour later;
/// when it exists twice, the earlier instant counts.
pub fn next_daily_run(after: DateTime<Utc>, at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let today = after.with_timezone(&tz).date_naive();
    (0..=2)
        .filter_map(|offset| today.checked_add_days(Days::new(offset)))
        .filter_map(|date| local_instant(date, at, tz))
        .find(|candidate| *candidate > after)
        // Two days ahead always holds a later run; this only guards the end of chrono's range.
        .unwrap_or_else(|| after + chrono::Duration::days(1))
}

fn local_instant(date: NaiveDate, at: NaiveTime, tz: Tz) -> Option<DateTime<Utc>> {
    let local = date.and_time(at);
    let instant = match tz.from_local_datetime(&local) {
        LocalResult::Single(instant) | LocalResult::Ambiguous(instant, _) => Some(instant),
        LocalResult::None => tz.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest(),
    };
    instant.map(|instant| instant.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn next_daily_run_cases() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let cases = [
            ("Tokyo before nine", "2026-04-01T08:59:00+09:00", chrono_tz::Asia::Tokyo, "2026-04-01T09:00:00+09:00"),
            ("Tokyo at nine", "2026-04-01T09:00:00+09:00", chrono_tz::Asia::Tokyo, "2026-04-02T09:00:00+09:00"),
            ("Tokyo late evening", "2026-04-01T23:30:00+09:00", chrono_tz::Asia::Tokyo, "2026-04-02T09:00:00+09:00"),
            ("Tokyo new year's eve", "2026-12-31T10:00:00+09:00", chrono_tz::Asia::Tokyo, "2027-01-01T09:00:00+09:00"),
            ("UTC", "2026-04-01T10:00:00Z", chrono_tz::UTC, "2026-04-02T09:00:00Z"),
        ];

        for (label, after, tz, expected) in cases {
            assert_eq!(next_daily_run(utc(after), nine, tz), utc(expected), "{label}");
        }
    }

    #[test]
    fn next_daily_run_skips_daylight_saving_gap() {
        let half_past_two = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        // New York moved from 02:00 EST to 03:00 EDT on 2026-03-08.
        let after = utc("2026-03-08T01:00:00-05:00");

        let next = next_daily_run(after, half_past_two, chrono_tz::America::New_York);

        assert_eq!(next, utc("2026-03-08T03:30:00-04:00"));
    }
}
