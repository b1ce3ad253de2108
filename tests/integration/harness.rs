//! A deptoken assembled from real parts for the use-case, HTTP and Lambda suites: the DEP
//! simulator on loopback, an in-memory SQLite store, a local key vault and an outbox in a
//! temporary folder, and the real token reader.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deptoken_dep_sim::{CONSUMER_KEY_HEADER, RunningSimulator};
use deptoken_embedded::{LocalKeyVault, OutboxNotifier, SqliteStore};
use deptoken_shared::clock::{Clock, FixedClock, SystemClock};
use deptoken_shared::dep::{DepClient, DepClientConfig};
use deptoken_shared::domain::{Caller, Role, ServerName, TenantId};
use deptoken_shared::model::{KeyRecord, ServerRecord, UploadRecord};
use deptoken_shared::ports::Store;
use deptoken_shared::usecases::{NotificationSettings, Services};
use tempfile::TempDir;

/// The tenant every suite acts as.
pub const TENANT: &str = "acme";

/// A running deptoken with its simulator. Dropping it stops the simulator and removes the folder.
pub struct Harness {
    pub services: Arc<Services>,
    pub store: Arc<SqliteStore>,
    pub clock: Arc<FixedClock>,
    pub sim: RunningSimulator,
    pub dir: TempDir,
    http: reqwest::Client,
}

/// Everything stored about one entry, to compare before and after a failed request.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub server: Option<ServerRecord>,
    pub history: Vec<UploadRecord>,
    pub keys: Vec<KeyRecord>,
}

/// A token file issued by the simulator, with its consumer key for the control API.
pub struct IssuedToken {
    pub file: Vec<u8>,
    pub consumer_key: String,
}

impl Harness {
    /// Starts a simulator and wires the use cases with a 5 s DEP request timeout.
    pub async fn start() -> Self {
        Self::start_with_timeout(Duration::from_secs(5)).await
    }

    /// Starts a simulator and wires the use cases with `dep_timeout` per DEP request.
    pub async fn start_with_timeout(dep_timeout: Duration) -> Self {
        deptoken_shared::dep::install_crypto_provider();
        let sim = deptoken_dep_sim::start("127.0.0.1:0").await.expect("start the simulator");
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let store = Arc::new(SqliteStore::in_memory().expect("open the SQLite store"));
        let vault = Arc::new(LocalKeyVault::open(dir.path()).expect("open the key vault"));
        let notifier = OutboxNotifier::open(&dir.path().join("outbox.jsonl")).expect("open the outbox");
        let dep = DepClient::with_clock(
            DepClientConfig {
                base_url: sim.base_url.clone(),
                request_timeout: dep_timeout,
                ..DepClientConfig::default()
            },
            Arc::new(SystemClock),
        )
        .expect("build the DEP client");
        let clock = Arc::new(FixedClock::new(Utc::now()));

        let services = Arc::new(Services {
            store: store.clone(),
            vault: vault.clone(),
            sealer: vault,
            dep: Arc::new(dep),
            notifier: Arc::new(notifier),
            clock: clock.clone(),
            time_zone: chrono_tz::Asia::Tokyo,
            notifications: NotificationSettings::default(),
        });
        Self {
            services,
            store,
            clock,
            sim,
            dir,
            http: reqwest::Client::new(),
        }
    }

    /// Issues a token for `certificate_pem` in the simulator, as ABM would; `query` adds
    /// `server_name`, `expires_at` and the like.
    pub async fn issue_token(&self, certificate_pem: &str, query: &[(&str, &str)]) -> IssuedToken {
        let response = self
            .http
            .post(format!("{}/sim/tokens", self.sim.base_url))
            .query(query)
            .body(certificate_pem.to_owned())
            .send()
            .await
            .expect("reach the simulator");
        assert_eq!(response.status(), 200, "the simulator issues a token");
        let consumer_key = response
            .headers()
            .get(CONSUMER_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .expect("consumer key header")
            .to_owned();
        let file = response.bytes().await.expect("read the token file").to_vec();
        IssuedToken { file, consumer_key }
    }

    /// Changes how the simulated Apple treats a token: `{"state": ...}` or `{"fault": ..., "count": N}`.
    pub async fn set_sim(&self, consumer_key: &str, change: serde_json::Value) {
        let response = self
            .http
            .put(format!("{}/sim/tokens/{consumer_key}/state", self.sim.base_url))
            .json(&change)
            .send()
            .await
            .expect("reach the simulator");
        assert_eq!(response.status(), 200, "the simulator accepts {change}");
    }

    /// Reads every stored item of the entry `name` of tenant `TENANT`.
    pub async fn snapshot(&self, name: &str) -> Snapshot {
        let tenant = tenant();
        let name = ServerName::parse(name).expect("valid name");
        let mut keys = self.store.list_keys(&tenant).await.expect("list keys");
        keys.retain(|k| k.server == name);
        keys.sort_by(|a, b| a.key_id.cmp(&b.key_id));
        Snapshot {
            server: self.store.get_server(&tenant, &name).await.expect("get server"),
            history: self.store.list_history(&tenant, &name).await.expect("list history"),
            keys,
        }
    }

    /// Reads the outbox file's lines, one notification each.
    pub fn outbox_lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("outbox.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Sets the use cases' clock.
    pub fn set_now(&self, now: DateTime<Utc>) {
        self.clock.set(now);
    }

    /// Advances the use cases' clock by one second. History rows are keyed by upload time,
    /// so two uploads need two instants.
    pub fn tick(&self) {
        self.clock.set(self.clock.now() + chrono::Duration::seconds(1));
    }
}

pub fn tenant() -> TenantId {
    TenantId::parse(TENANT).expect("valid tenant")
}

/// Returns an admin of tenant `TENANT`.
pub fn admin() -> Caller {
    Caller {
        tenant: tenant(),
        role: Role::Admin,
        subject: "admin@acme.example".to_owned(),
    }
}

/// Returns a reader of tenant `TENANT`.
pub fn reader() -> Caller {
    Caller {
        role: Role::Reader,
        subject: "reader@acme.example".to_owned(),
        ..admin()
    }
}

/// Returns an admin of another tenant.
pub fn other_tenant_admin() -> Caller {
    Caller {
        tenant: TenantId::parse("globex").expect("valid tenant"),
        role: Role::Admin,
        subject: "admin@globex.example".to_owned(),
    }
}

/// Tells whether `text` contains any token credential value, by their prefixes.
pub fn contains_credential(text: &str) -> bool {
    ["CS_", "AS_", "AT_", "CK_"].iter().any(|prefix| text.contains(prefix))
}
