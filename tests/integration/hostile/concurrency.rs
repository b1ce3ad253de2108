//! Many writers on the same entries at once: uploads (some for the staged key of a rotation),
//! rotations, checks and sweeps that ask Apple, in parallel, on SQLite and on DynamoDB (moto). Every final entry must
//! be one accepted upload in full, versions only grow, and the history contains exactly one row
//! per accepted upload.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use deptoken_shared::clock::Clock;
use deptoken_shared::domain::ServerName;
use deptoken_shared::error::ErrorCode;
use deptoken_shared::model::KeyState;
use deptoken_shared::ports::Store;
use deptoken_shared::usecases::{Services, SweepOptions, UploadRequest};

use super::SerializedWrites;
use crate::harness::{Harness, admin, tenant};
use crate::support::moto::Moto;

/// A clock that moves one millisecond forward on every reading, so that concurrent uploads
/// get distinct history keys, as they do with the system clock.
struct TickingClock {
    start: DateTime<Utc>,
    ticks: AtomicI64,
}

impl Clock for TickingClock {
    fn now(&self) -> DateTime<Utc> {
        self.start + Duration::milliseconds(self.ticks.fetch_add(1, Ordering::SeqCst))
    }
}

const ENTRIES: [&str; 2] = ["alpha", "beta"];
const UPLOADS_PER_ENTRY: usize = 8;
const ROTATIONS_PER_ENTRY: usize = 2;
const CHECKS_PER_ENTRY: usize = 2;
/// Sweeps over all entries, each asking Apple about every token.
const SWEEPS: usize = 2;
/// Attempts of one upload job while it gets `conflict` responses.
const MAX_UPLOAD_ATTEMPTS: usize = 20;

/// What identifies an upload in the stored entry: fingerprint, expiry and ABM server name.
type Identity = (String, DateTime<Utc>, String);

#[derive(Default)]
struct Outcome {
    accepted: BTreeMap<String, Vec<Identity>>,
    conflicts: usize,
    gave_up: usize,
    rotations: usize,
    checks: usize,
    sweeps: usize,
    /// Entries a sweep skipped because a concurrent writer changed them first.
    sweep_conflicts: usize,
}

/// Creates the entries with a first token and a staged key, then runs every writer at once.
async fn run_workload(
    harness: &Harness,
    services: Arc<Services>,
    store: Arc<dyn Store>,
) -> Outcome {
    let start = harness.clock.now();
    let mut certificates = HashMap::new();
    let mut staged = HashMap::new();
    let mut outcome = Outcome::default();
    for name in ENTRIES {
        services
            .create_server(&admin(), name, "Busy office")
            .await
            .expect("create the entry");
        let certificate = services
            .certificate(&admin(), name)
            .await
            .expect("certificate")
            .certificate_pem;
        let first = harness
            .issue_token(&certificate, &[("server_name", &format!("{name} first"))])
            .await;
        let view = services
            .upload_token(
                &admin(),
                name,
                UploadRequest {
                    file: first.file,
                    ..Default::default()
                },
            )
            .await
            .expect("upload the first token");
        let fingerprint = view.consumer_key_fingerprint.clone().unwrap_or_default();
        let identity = (
            fingerprint,
            view.expires_at.expect("expiry"),
            format!("{name} first"),
        );
        outcome
            .accepted
            .entry(name.to_owned())
            .or_default()
            .push(identity);
        let rotated = services
            .rotate_key(&admin(), name)
            .await
            .expect("stage a key");
        certificates.insert(name, certificate);
        staged.insert(name, rotated.certificate_pem);
    }

    // Tokens are issued up front, each with its own expiry and ABM server name, so that none
    // supersedes another. Every third one is for the staged key.
    let mut jobs = Vec::new();
    for name in ENTRIES {
        for index in 0..UPLOADS_PER_ENTRY {
            let server_name = format!("{name} upload {index}");
            let expiry = (start + Duration::days(300) + Duration::hours(index as i64 + 1))
                .to_rfc3339_opts(SecondsFormat::Secs, true);
            let expires_at = DateTime::parse_from_rfc3339(&expiry)
                .expect("valid expiry")
                .with_timezone(&Utc);
            let certificate = if index % 3 == 2 {
                &staged[name]
            } else {
                &certificates[name]
            };
            let token = harness
                .issue_token(
                    certificate,
                    &[("server_name", &server_name), ("expires_at", &expiry)],
                )
                .await;
            let credentials = harness
                .sim
                .simulator
                .credentials_for(&token.consumer_key)
                .expect("credentials");
            let identity = (
                credentials.consumer_key_fingerprint(),
                expires_at,
                server_name,
            );
            jobs.push(Job::Upload {
                name,
                file: token.file,
                identity,
            });
        }
        jobs.extend((0..ROTATIONS_PER_ENTRY).map(|_| Job::Rotate { name }));
        jobs.extend((0..CHECKS_PER_ENTRY).map(|_| Job::Check { name }));
    }
    jobs.extend((0..SWEEPS).map(|_| Job::Sweep));

    let watching = Arc::new(AtomicBool::new(true));
    let watcher = tokio::spawn(watch_versions(store.clone(), watching.clone()));
    let mut tasks = Vec::new();
    for job in jobs {
        let services = services.clone();
        tasks.push(tokio::spawn(async move { job.run(&services).await }));
    }
    for task in tasks {
        match task.await.expect("join a writer") {
            Done::Accepted(name, identity, conflicts) => {
                outcome
                    .accepted
                    .entry(name.to_owned())
                    .or_default()
                    .push(identity);
                outcome.conflicts += conflicts;
            }
            Done::GaveUp(conflicts) => {
                outcome.conflicts += conflicts;
                outcome.gave_up += 1;
            }
            Done::Conflict => outcome.conflicts += 1,
            Done::Rotated => outcome.rotations += 1,
            Done::Checked => outcome.checks += 1,
            Done::Swept {
                conflicts,
                failures,
            } => {
                outcome.sweeps += 1;
                outcome.sweep_conflicts += conflicts;
                assert_eq!(failures, 0, "a sweep failed on an entry");
            }
        }
    }
    watching.store(false, Ordering::SeqCst);
    let decreases = watcher.await.expect("join the watcher");
    assert_eq!(decreases, 0, "a reader saw a version go down");
    outcome
}

enum Job {
    Upload {
        name: &'static str,
        file: Vec<u8>,
        identity: Identity,
    },
    Rotate {
        name: &'static str,
    },
    Check {
        name: &'static str,
    },
    Sweep,
}

enum Done {
    /// Accepted after this many 409 responses.
    Accepted(&'static str, Identity, usize),
    /// Still 409 after every attempt.
    GaveUp(usize),
    Conflict,
    Rotated,
    Checked,
    /// A sweep finished: entries it skipped because a concurrent writer changed them first, and
    /// entries it failed on.
    Swept {
        conflicts: usize,
        failures: usize,
    },
}

impl Job {
    async fn run(self, services: &Services) -> Done {
        match self {
            Job::Upload {
                name,
                file,
                identity,
            } => {
                // An admin whose upload got 409 sends the same file again.
                let mut conflicts = 0;
                for _ in 0..MAX_UPLOAD_ATTEMPTS {
                    let request = UploadRequest {
                        file: file.clone(),
                        confirm_server_change: true,
                        ..Default::default()
                    };
                    match services.upload_token(&admin(), name, request).await {
                        Ok(_) => return Done::Accepted(name, identity, conflicts),
                        Err(error) if error.code == ErrorCode::Conflict => conflicts += 1,
                        Err(error) => panic!("upload to {name}: unexpected {error:?}"),
                    }
                }
                Done::GaveUp(conflicts)
            }
            Job::Rotate { name } => match services.rotate_key(&admin(), name).await {
                Ok(_) => Done::Rotated,
                Err(error) if error.code == ErrorCode::Conflict => Done::Conflict,
                Err(error) => panic!("rotation of {name}: unexpected {error:?}"),
            },
            Job::Check { name } => match services.check_token(&admin(), name).await {
                Ok(_) => Done::Checked,
                Err(error) if error.code == ErrorCode::Conflict => Done::Conflict,
                Err(error) => panic!("check of {name}: unexpected {error:?}"),
            },
            Job::Sweep => {
                let options = SweepOptions {
                    check_apple: true,
                    ..SweepOptions::default()
                };
                let report = services
                    .sweep(&options)
                    .await
                    .expect("the sweep lists the entries");
                Done::Swept {
                    conflicts: report.outcomes.conflict,
                    failures: report.outcomes.failed,
                }
            }
        }
    }
}

/// Reads every entry in a loop while the writers run; returns how often a version went down.
async fn watch_versions(store: Arc<dyn Store>, running: Arc<AtomicBool>) -> usize {
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut decreases = 0;
    while running.load(Ordering::SeqCst) {
        for name in ENTRIES {
            let server = ServerName::parse(name).expect("valid name");
            if let Ok(Some(record)) = store.get_server(&tenant(), &server).await {
                let last = seen.insert(name.to_owned(), record.version).unwrap_or(0);
                decreases += usize::from(record.version < last);
            }
        }
        tokio::task::yield_now().await;
    }
    decreases
}

/// Checks the stored entries against the accepted uploads; returns the number of torn entries.
async fn check_results(store: &dyn Store, outcome: &Outcome) -> usize {
    let mut torn = 0;
    for name in ENTRIES {
        let server = ServerName::parse(name).expect("valid name");
        let record = store
            .get_server(&tenant(), &server)
            .await
            .expect("read")
            .expect("entry");
        let history = store
            .list_history(&tenant(), &server)
            .await
            .expect("history");
        let keys: Vec<_> = store
            .list_keys(&tenant())
            .await
            .expect("keys")
            .into_iter()
            .filter(|k| k.server == server)
            .collect();
        let accepted = &outcome.accepted[name];
        let stored: Identity = (
            record.consumer_key_fingerprint.clone().unwrap_or_default(),
            record.expires_at.expect("expiry"),
            record
                .account
                .as_ref()
                .map(|a| a.server_name.clone())
                .unwrap_or_default(),
        );
        let whole = accepted.contains(&stored);
        torn += usize::from(!whole);
        let history_identities: Vec<Identity> = history
            .iter()
            .map(|row| {
                (
                    row.consumer_key_fingerprint.clone(),
                    row.expires_at,
                    row.server_name.clone(),
                )
            })
            .collect();
        let token_key = keys
            .iter()
            .find(|k| Some(&k.key_id) == record.token_key_id.as_ref());
        let current_keys = keys.iter().filter(|k| k.state == KeyState::Current).count();

        let missing: Vec<&Identity> = accepted
            .iter()
            .filter(|identity| !history_identities.contains(identity))
            .collect();
        assert!(
            whole,
            "{name}: stored {stored:?} is not one accepted upload of {accepted:?}"
        );
        assert_eq!(
            missing,
            Vec::<&Identity>::new(),
            "{name}: accepted uploads without a history row; history {history_identities:?}"
        );
        assert_eq!(
            history.len(),
            accepted.len(),
            "{name}: one history row per accepted upload"
        );
        for identity in accepted {
            assert!(
                history_identities.contains(identity),
                "{name}: history row for {identity:?}"
            );
        }
        assert_eq!(
            history
                .first()
                .map(|row| row.consumer_key_fingerprint.clone()),
            Some(stored.0.clone()),
            "{name}: newest history row is the stored token"
        );
        assert!(token_key.is_some(), "{name}: the stored token's key exists");
        assert_eq!(current_keys, 1, "{name}: exactly one current key");
    }
    torn
}

fn print_outcome(store: &str, outcome: &Outcome, torn: usize) {
    let accepted: usize = outcome.accepted.values().map(|a| a.len() - 1).sum();
    let uploads = ENTRIES.len() * UPLOADS_PER_ENTRY;
    eprintln!(
        "hostile concurrency ({store}): {uploads} uploads, {} rotations, {} checks, {SWEEPS} sweeps in parallel on {} \
         entries; {accepted} uploads accepted ({} gave up), {} rotations, {} checks and {} sweeps done, {} conflicts \
         (409), {} sweep write-backs skipped after a race, {torn} torn writes",
        ENTRIES.len() * ROTATIONS_PER_ENTRY,
        ENTRIES.len() * CHECKS_PER_ENTRY,
        ENTRIES.len(),
        outcome.gave_up,
        outcome.rotations,
        outcome.checks,
        outcome.sweeps,
        outcome.conflicts,
        outcome.sweep_conflicts
    );
}

fn ticking_services(harness: &Harness) -> Services {
    Services {
        clock: Arc::new(TickingClock {
            start: harness.clock.now(),
            ticks: AtomicI64::new(0),
        }),
        ..(*harness.services).clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_sqlite_no_torn_writes() {
    let harness = Harness::start().await;
    let services = Arc::new(ticking_services(&harness));

    let outcome = run_workload(&harness, services, harness.store.clone()).await;

    let torn = check_results(harness.store.as_ref(), &outcome).await;
    print_outcome("SQLite", &outcome, torn);
    assert_eq!(torn, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_dynamodb_no_torn_writes() {
    let Some(moto) = Moto::connect().await else {
        return;
    };
    let harness = Harness::start().await;
    let (adapters, _config) = moto.fresh_adapters().await;
    let store: Arc<dyn Store> = Arc::new(SerializedWrites::new(Arc::new(adapters.store.clone())));
    let services = Arc::new(Services {
        store: store.clone(),
        vault: Arc::new(adapters.key_vault.clone()),
        sealer: Arc::new(adapters.sealer.clone()),
        ..ticking_services(&harness)
    });

    let outcome = run_workload(&harness, services, store.clone()).await;

    let torn = check_results(store.as_ref(), &outcome).await;
    print_outcome("DynamoDB", &outcome, torn);
    assert_eq!(torn, 0);
}
