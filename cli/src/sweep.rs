//! The local runner's sweep: `deptoken sweep` runs one over the local store, and `deptoken
//! serve` runs one every day at a wall-clock time in the tenant's time zone.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use clap::Args;
use deptoken_shared::Lang;
use deptoken_shared::clock::{Clock, FixedClock, SystemClock};
use deptoken_shared::dep::APPLE_DEP_BASE_URL;
use deptoken_shared::usecases::{NotificationSettings, Services, SweepOptions, SweepRunner, next_daily_run};
use tokio::task::JoinHandle;

use crate::serve::build_services;

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Folder of the SQLite store, the master key and the outbox, as given to `serve`.
    #[arg(long, default_value = "./.deptoken")]
    data_dir: PathBuf,
    /// Evaluate every entry at this instant (RFC 3339, e.g. 2026-04-01T09:00:00+09:00) instead of now.
    #[arg(long, value_parser = parse_instant)]
    now: Option<DateTime<Utc>>,
    /// Ask the DEP API about every unexpired token (open a session, read /account).
    #[arg(long)]
    check_apple: bool,
    /// Base URL of the DEP API for --check-apple (Apple's production API when not given).
    #[arg(long)]
    dep_url: Option<String>,
    /// Timeout of one DEP API request, in seconds.
    #[arg(long, default_value_t = 30)]
    dep_timeout_seconds: u64,
    /// IANA time zone in which days left are counted and dates are shown, for a tenant
    /// without settings of its own.
    #[arg(long, default_value = "Asia/Tokyo")]
    time_zone: Tz,
    /// Language of the notification texts for a tenant without settings of its own: ja or en.
    #[arg(long, default_value = "ja", value_parser = parse_lang)]
    lang: Lang,
    /// Admin portal address linked from the e-mail texts.
    #[arg(long)]
    portal_url: Option<String>,
    /// Entries processed at once (Apple checks in flight).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

/// Runs one sweep, publishes the messages it made due to the outbox, and prints the report
/// and the notification counts as JSON on standard output.
pub async fn run(args: SweepArgs) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = match args.now {
        Some(now) => Arc::new(FixedClock::new(now)),
        None => Arc::new(SystemClock),
    };
    let dep_url = args.dep_url.as_deref().unwrap_or(APPLE_DEP_BASE_URL);
    let notifications = NotificationSettings {
        lang: args.lang,
        portal_url: args.portal_url,
        ..NotificationSettings::default()
    };
    let services = build_services(&args.data_dir, dep_url, args.dep_timeout_seconds, args.time_zone, clock, notifications)?;
    let options = SweepOptions {
        check_apple: args.check_apple,
        concurrency: args.concurrency,
        ..SweepOptions::default()
    };

    let result = services
        .sweep_and_notify(&options)
        .await
        .context("the sweep could not list the entries of the store")?;

    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}

/// Starts a task that runs `runner` every day when the clock in the services' time zone shows
/// `at`. Each wait is computed again from the clock, so a run never drifts by a day.
///
/// NOTE: the wait is a monotonic timer; after the machine sleeps through the time, the run
/// happens late (on wake-up) rather than being skipped.
pub fn spawn_daily(services: Arc<Services>, runner: SweepRunner, at: NaiveTime) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now = services.clock.now();
            let next = next_daily_run(now, at, services.time_zone);
            tracing::info!(next_run = %next, "daily sweep scheduled");
            tokio::time::sleep((next - now).to_std().unwrap_or_default()).await;

            match runner.run(&services).await {
                Ok(result) => tracing::info!(
                    entries = result.report.entries,
                    changes = result.report.changes.len(),
                    published = result.notifications.published,
                    notify_failed = result.notifications.failed,
                    "daily sweep done"
                ),
                // The sweep logged the cause; the next day's run tries again.
                Err(error) => tracing::error!(code = %error.code, "daily sweep failed"),
            }
        }
    })
}

/// Parses an RFC 3339 date and time.
fn parse_instant(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|_| format!("invalid instant {value:?}: expected RFC 3339 such as 2026-04-01T09:00:00+09:00"))
}

/// Parses a notification language, `ja` or `en`.
pub fn parse_lang(value: &str) -> Result<Lang, String> {
    match value {
        "ja" => Ok(Lang::Ja),
        "en" => Ok(Lang::En),
        _ => Err(format!("invalid language {value:?}: use ja or en")),
    }
}

/// Parses a time of day as `HH:MM`.
pub fn parse_time_of_day(value: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(value, "%H:%M").map_err(|_| format!("invalid time {value:?}: expected HH:MM such as 09:00"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_instant_cases() {
        let cases = [
            ("Tokyo offset", "2026-04-01T09:00:00+09:00", true),
            ("UTC", "2026-04-01T00:00:00Z", true),
            ("date only", "2026-04-01", false),
            ("no offset", "2026-04-01T09:00:00", false),
        ];

        for (label, value, accepted) in cases {
            assert_eq!(parse_instant(value).is_ok(), accepted, "{label}");
        }
    }

    #[test]
    fn parse_time_of_day_cases() {
        let cases = [("nine", "09:00", true), ("late", "23:59", true), ("seconds", "09:00:00", false), ("hour 24", "24:00", false)];

        for (label, value, accepted) in cases {
            assert_eq!(parse_time_of_day(value).is_ok(), accepted, "{label}");
        }
    }

    #[test]
    fn parse_lang_cases() {
        let cases = [("japanese", "ja", Some(Lang::Ja)), ("english", "en", Some(Lang::En)), ("other", "fr", None)];

        for (label, value, expected) in cases {
            assert_eq!(parse_lang(value).ok(), expected, "{label}");
        }
    }
}
