//! Times the sweep over many entries on the SQLite store, without Apple checks.
//!
//!     cargo bench -p deptoken-embedded --bench sweep
//!
//! `SWEEP_BENCH_ENTRIES` sets the number of entries (default 100000) and `SWEEP_BENCH_STORE`
//! the store: `file` (default, as the local runner uses it) or `memory`. The entries belong to
//! 100 tenants and expire evenly from 30 days ago to 365 days ahead, so the first sweep records
//! a stage on about a quarter of them and the second sweep, at the same instant, writes nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use deptoken_embedded::{LocalKeyVault, OutboxNotifier, SqliteStore};
use deptoken_shared::clock::FixedClock;
use deptoken_shared::dep::{DepClient, DepClientConfig};
use deptoken_shared::domain::{KeyId, ServerName, TenantId};
use deptoken_shared::model::{KeyRecord, KeyState, SealedCredentials, ServerRecord};
use deptoken_shared::ports::Store;
use deptoken_shared::usecases::{NotificationSettings, Services, SweepOptions, SweepReport};

const TENANTS: usize = 100;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let entries: usize = std::env::var("SWEEP_BENCH_ENTRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let in_memory = std::env::var("SWEEP_BENCH_STORE").is_ok_and(|v| v == "memory");
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(entries, in_memory))
}

async fn run(entries: usize, in_memory: bool) -> Result<(), Box<dyn std::error::Error>> {
    deptoken_shared::dep::install_crypto_provider();
    let dir = tempfile::tempdir()?;
    let store = Arc::new(match in_memory {
        true => SqliteStore::in_memory()?,
        false => SqliteStore::open(&dir.path().join("deptoken.sqlite3"))?,
    });
    let now = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().ok_or("valid date")?;

    let started = Instant::now();
    populate(store.as_ref(), entries, now).await?;
    let populate_time = started.elapsed();

    let vault = Arc::new(LocalKeyVault::open(dir.path())?);
    // Never called: the benchmark sweeps without Apple checks.
    let dep = DepClient::new(DepClientConfig {
        base_url: "http://127.0.0.1:9".to_owned(),
        ..DepClientConfig::default()
    })?;
    let services = Services {
        store,
        vault: vault.clone(),
        sealer: vault,
        dep: Arc::new(dep),
        notifier: Arc::new(OutboxNotifier::open(&dir.path().join("outbox.jsonl"))?),
        clock: Arc::new(FixedClock::new(now)),
        time_zone: chrono_tz::Asia::Tokyo,
        notifications: NotificationSettings::default(),
    };

    let (first, first_time) = timed_sweep(&services).await?;
    let (second, second_time) = timed_sweep(&services).await?;

    println!("store: {}", if in_memory { "SQLite in memory" } else { "SQLite file (WAL)" });
    println!("entries: {entries} in {TENANTS} tenants, populated in {:.1} s", populate_time.as_secs_f64());
    print_sweep("first sweep (records stages)", &first, first_time);
    print_sweep("second sweep (same instant)", &second, second_time);
    Ok(())
}

async fn timed_sweep(services: &Services) -> Result<(SweepReport, Duration), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let report = services.sweep(&SweepOptions::default()).await?;
    Ok((report, started.elapsed()))
}

fn print_sweep(label: &str, report: &SweepReport, elapsed: Duration) {
    let per_entry_us = elapsed.as_secs_f64() * 1e6 / report.entries.max(1) as f64;
    println!(
        "{label}: {:.2} s total, {per_entry_us:.1} µs per entry; updated {}, unchanged {}, failed {}",
        elapsed.as_secs_f64(),
        report.outcomes.updated,
        report.outcomes.unchanged,
        report.outcomes.failed
    );
}

/// Creates `entries` entries, each with its first key, through the store port.
async fn populate(store: &dyn Store, entries: usize, now: DateTime<Utc>) -> Result<(), Box<dyn std::error::Error>> {
    for index in 0..entries {
        let tenant = TenantId::parse(&format!("tenant-{:03}", index % TENANTS)).map_err(|e| e.to_string())?;
        let name = ServerName::parse(&format!("server-{index:06}")).map_err(|e| e.to_string())?;
        let key_id = KeyId::parse(&format!("key-{index:06}")).map_err(|e| e.to_string())?;
        // Expiries from 30 days ago to 365 days ahead, spread evenly over the entries.
        let offset_hours = (index as i64 * 395 * 24 / entries.max(1) as i64) - 30 * 24;
        let server = ServerRecord {
            tenant: tenant.clone(),
            name: name.clone(),
            display_name: format!("Server {index}"),
            note: Some("abm-admin@example.co.jp".to_owned()),
            created_at: now,
            expires_at: Some(now + chrono::Duration::hours(offset_hours)),
            account: None,
            credentials: Some(SealedCredentials {
                consumer_key: "sealed".to_owned(),
                consumer_secret: "sealed".to_owned(),
                access_token: "sealed".to_owned(),
                access_secret: "sealed".to_owned(),
            }),
            consumer_key_fingerprint: Some(format!("{index:016x}")),
            token_key_id: Some(key_id.clone()),
            uploaded_at: Some(now),
            uploaded_by: Some("admin@example.co.jp".to_owned()),
            last_error: None,
            last_checked_at: None,
            stage: None,
            notified_stage: None,
            countdown_stage: None,
            stage_fingerprint: None,
            version: 1,
        };
        let key = KeyRecord {
            tenant,
            key_id,
            server: name,
            state: KeyState::Current,
            certificate_pem: String::new(),
            sealed_private_key: Vec::new(),
            created_at: now,
            version: 1,
        };
        store.create_server(&server, &key).await?;
    }
    Ok(())
}
