//! Shared parts of the fuzz targets: the fixed MDM key that seed tokens are encrypted for, the
//! in-process API the request targets send to, and the split of one fuzz input into the parts
//! of a request. `examples/seed_corpus.rs` writes the seed corpora from the same definitions.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::{DateTime, Utc};
use deptoken_api::IdentitySource;
use deptoken_embedded::{LocalKeyVault, OutboxNotifier, SqliteStore};
use deptoken_shared::clock::FixedClock;
use deptoken_shared::dep::{DepClient, DepClientConfig};
use deptoken_shared::domain::{Caller, Role, ServerName, TenantId};
use deptoken_shared::keys::{self, GeneratedKey};
use deptoken_shared::usecases::{NotificationSettings, Services};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Seed of the RNG the fixed key is generated from. The seed corpus and the targets derive
/// the same key from it, so seed tokens made for its certificate decrypt in the targets.
const FIXED_KEY_SEED: u64 = 0x0de9_70ce_f022;

/// Returns the instant the fixed key's certificate is issued at, which is also the clock of the
/// request targets.
pub fn fixed_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
        .map(|instant| instant.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Generates the fixed MDM key pair (RSA-2048, deterministic). Takes a second or more: call it
/// once per process, in a target's `init` block.
pub fn fixed_key() -> GeneratedKey {
    let tenant = TenantId::parse("fuzz").expect("valid tenant");
    let server = ServerName::parse("fuzz").expect("valid server name");
    let mut rng = StdRng::seed_from_u64(FIXED_KEY_SEED);
    keys::generate_mdm_key_with_rng(&tenant, &server, fixed_now(), &mut rng).expect("generate the fixed key")
}

/// The entry the request targets send their requests to.
pub const ENTRY: &str = "tokyo";

/// The API over real embedded adapters, with entry [`ENTRY`] created, for the request targets.
/// The DEP client points at a closed loopback port: no fuzzed request reaches Apple's API,
/// because uploads come from a reader and are rejected before any token is read.
pub struct Api {
    pub admin: Router,
    pub reader: Router,
    pub runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Api {
    pub fn start() -> Self {
        deptoken_shared::dep::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("build the runtime");
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let vault = Arc::new(LocalKeyVault::open(dir.path()).expect("open the key vault"));
        let dep = DepClient::new(DepClientConfig {
            base_url: "http://127.0.0.1:9".to_owned(),
            ..DepClientConfig::default()
        })
        .expect("build the DEP client");
        let services = Arc::new(Services {
            store: Arc::new(SqliteStore::in_memory().expect("open the store")),
            vault: vault.clone(),
            sealer: vault,
            dep: Arc::new(dep),
            notifier: Arc::new(OutboxNotifier::open(&dir.path().join("outbox.jsonl")).expect("open the outbox")),
            clock: Arc::new(FixedClock::new(fixed_now())),
            time_zone: chrono_tz::Asia::Tokyo,
            notifications: NotificationSettings::default(),
        });

        let admin = caller(Role::Admin);
        runtime
            .block_on(services.create_server(&admin, ENTRY, "Tokyo office"))
            .expect("create the entry");
        Self {
            admin: deptoken_api::router(services.clone(), IdentitySource::Fixed(admin)),
            reader: deptoken_api::router(services, IdentitySource::Fixed(caller(Role::Reader))),
            runtime,
            _dir: dir,
        }
    }
}

fn caller(role: Role) -> Caller {
    Caller {
        tenant: TenantId::parse("acme").expect("valid tenant"),
        role,
        subject: "fuzz@acme.example".to_owned(),
    }
}

/// Splits `data` at its first LF into a header line and the rest. Without an LF, all of
/// `data` is the header line and the rest is empty.
pub fn split_first_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|byte| *byte == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[]),
    }
}

/// The requests of the `json_requests` target, chosen by the first input byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonRoute {
    /// `POST /v1/servers` as a reader: the body is parsed, then the role check rejects it
    /// before any key generation (which would take a second per input).
    Create,
    /// `PATCH /v1/servers/tokyo` as an admin: the note is parsed, checked and stored.
    Patch,
    /// `PUT /v1/servers/tokyo/token?<query>` as a reader: the query string is parsed.
    UploadQuery,
    /// `POST /v1/servers` with the body under another content type.
    CreateOtherType,
}

impl JsonRoute {
    pub const ALL: [JsonRoute; 4] = [JsonRoute::Create, JsonRoute::Patch, JsonRoute::UploadQuery, JsonRoute::CreateOtherType];

    /// Returns the selector byte a seed uses for this route.
    pub fn selector(self) -> u8 {
        match self {
            JsonRoute::Create => 0,
            JsonRoute::Patch => 1,
            JsonRoute::UploadQuery => 2,
            JsonRoute::CreateOtherType => 3,
        }
    }

    fn from_selector(byte: u8) -> Self {
        Self::ALL[usize::from(byte) % Self::ALL.len()]
    }
}

/// Builds the request of a `json_requests` input: selector byte, then an `Accept-Language`
/// value up to the first LF, then the body (or the query string). `None` when the input
/// cannot be made into an HTTP request at all (a header value with control characters, say),
/// which the HTTP server would have rejected before the router.
pub fn json_request(data: &[u8]) -> Option<(JsonRoute, Request<Body>)> {
    let (&selector, rest) = data.split_first()?;
    let route = JsonRoute::from_selector(selector);
    let (language, body) = split_first_line(rest);
    let language = std::str::from_utf8(language).ok()?;

    let builder = Request::builder().header(header::ACCEPT_LANGUAGE, language);
    let request = match route {
        JsonRoute::Create => builder
            .method(Method::POST)
            .uri("/v1/servers")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_vec())),
        JsonRoute::Patch => builder
            .method(Method::PATCH)
            .uri(format!("/v1/servers/{ENTRY}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_vec())),
        JsonRoute::UploadQuery => {
            let query = std::str::from_utf8(body).ok()?;
            builder
                .method(Method::PUT)
                .uri(format!("/v1/servers/{ENTRY}/token?{query}"))
                .header(header::CONTENT_TYPE, "application/pkcs7-mime")
                .body(Body::from("not read"))
        }
        JsonRoute::CreateOtherType => builder
            .method(Method::POST)
            .uri("/v1/servers")
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Body::from(body.to_vec())),
    };
    request.ok().map(|request| (route, request))
}
