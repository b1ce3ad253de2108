//! `deptoken serve`: the HTTP API on loopback for one tenant, on embedded adapters.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::NaiveTime;
use chrono_tz::Tz;
use clap::{ArgAction, Args};
use deptoken_api::{IdentitySource, PortalConfig};
use deptoken_embedded::{LocalKeyVault, OutboxNotifier, SqliteStore};
use deptoken_shared::Lang;
use deptoken_shared::clock::{Clock, SystemClock};
use deptoken_shared::dep::{APPLE_DEP_BASE_URL, DepClient, DepClientConfig};
use deptoken_shared::domain::{Caller, Role, TenantId};
use deptoken_shared::usecases::{NotificationSettings, Services, SubscriberDirectory, SweepOptions, SweepRunner};

use crate::loopback::parse_loopback;
use crate::simulator;
use crate::sweep::{parse_lang, parse_time_of_day, spawn_daily};

/// The SQLite store's file name inside the data folder.
const STORE_FILE: &str = "deptoken.sqlite3";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Loopback address and port to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_loopback)]
    addr: SocketAddr,
    /// Folder of the SQLite store, the master key and the outbox; created when missing.
    #[arg(long, default_value = "./.deptoken")]
    data_dir: PathBuf,
    /// The one tenant this runner serves.
    #[arg(long, default_value = "demo")]
    tenant: String,
    /// IANA time zone in which days left are counted for a tenant without settings of its own.
    #[arg(long, default_value = "Asia/Tokyo")]
    time_zone: Tz,
    /// Base URL of the DEP API (Apple's production API when neither this nor --simulator is given).
    #[arg(long, conflicts_with = "simulator")]
    dep_url: Option<String>,
    /// Start the DEP simulator in-process on 127.0.0.1 and use it instead of Apple.
    #[arg(long)]
    simulator: bool,
    /// Loopback address of the in-process DEP simulator (port 0 picks a free port); when the
    /// port is taken, a free one is used. The address in use is printed at start.
    #[arg(long, default_value = "127.0.0.1:8090", value_parser = parse_loopback, requires = "simulator")]
    simulator_addr: SocketAddr,
    /// Timeout of one DEP API request, in seconds.
    #[arg(long, default_value_t = 30)]
    dep_timeout_seconds: u64,
    /// Local time (HH:MM, in --time-zone) of the daily sweep.
    #[arg(long, default_value = "09:00", value_parser = parse_time_of_day)]
    sweep_at: NaiveTime,
    /// Whether the sweep asks the DEP API about every unexpired token (true or false).
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    sweep_check_apple: bool,
    /// Language of the notification texts for a tenant without settings of its own: ja or en.
    #[arg(long, default_value = "ja", value_parser = parse_lang)]
    lang: Lang,
    /// Admin portal address linked from the e-mail texts (this runner's address when not given).
    #[arg(long)]
    portal_url: Option<String>,
    /// JSON file served as the admin portal's /portal/config.json, to try the portal's sign-in
    /// against an identity provider (docs/portal.md). The origin of its token endpoint (and of
    /// its issuer, when the portal reads the endpoints from discovery) joins the portal's
    /// Content-Security-Policy connect-src. The runner still ignores the Authorization header
    /// and serves --tenant as an admin.
    #[arg(long)]
    portal_config: Option<PathBuf>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let tenant = TenantId::parse(&args.tenant)
        .map_err(|_| anyhow::anyhow!("invalid --tenant {:?}: use ASCII letters, digits, '-', '_' and '.'", args.tenant))?;
    let portal_config = args.portal_config.as_deref().map(read_portal_config).transpose()?;

    let simulator = match args.simulator {
        true => Some(simulator::start_in_process(&args.simulator_addr.to_string()).await?),
        false => None,
    };
    let dep_url = match (&simulator, &args.dep_url) {
        (Some(running), _) => running.base_url.clone(),
        (None, Some(url)) => url.clone(),
        (None, None) => APPLE_DEP_BASE_URL.to_owned(),
    };

    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let api_url = format!("http://{}", listener.local_addr()?);

    let notifications = NotificationSettings {
        lang: args.lang,
        portal_url: Some(args.portal_url.clone().unwrap_or_else(|| api_url.clone())),
        ..NotificationSettings::default()
    };
    let services = build_services(
        &args.data_dir,
        &dep_url,
        args.dep_timeout_seconds,
        args.time_zone,
        Arc::new(SystemClock),
        notifications,
    )?;
    let caller = Caller {
        tenant,
        role: Role::Admin,
        subject: "local".to_owned(),
    };
    let sweeper = SweepRunner::new(SweepOptions {
        check_apple: args.sweep_check_apple,
        ..SweepOptions::default()
    });
    let daily = spawn_daily(services.clone(), sweeper.clone(), args.sweep_at);
    // The notification recipients live in the same SQLite file, on a second connection.
    let subscribers = SubscriberDirectory::new(Arc::new(SqliteStore::open(&args.data_dir.join(STORE_FILE))?));
    let mut app = deptoken_api::local_router_with_subscribers(
        services,
        IdentitySource::Fixed(caller.clone()),
        sweeper,
        subscribers,
    );
    if let Some(config) = portal_config {
        tracing::info!(connect_origins = ?config.connect_origins(), "serving the portal configuration");
        app = deptoken_api::with_portal_config(app, config);
    }
    if let Some(running) = &simulator {
        app = app.nest("/simulator", simulator::same_origin_routes(running));
    }

    tracing::info!(%api_url, tenant = %caller.tenant, data_dir = %args.data_dir.display(), %dep_url, "local runner started");
    println!("deptoken API: {api_url}");
    println!("管理画面 / Admin portal: {api_url}/");
    if let Some(running) = &simulator {
        println!("DEP simulator: {}", running.base_url);
        println!("{}", next_steps(&api_url, &running.base_url));
    }

    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
    daily.abort();
    tracing::info!("local runner stopped");
    Ok(())
}

/// Reads and checks the file of `--portal-config`.
fn read_portal_config(path: &Path) -> anyhow::Result<PortalConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read --portal-config {}", path.display()))?;
    PortalConfig::from_json(&text).with_context(|| format!("invalid --portal-config {}", path.display()))
}

/// Wires the use cases on the SQLite store, the local key vault and the outbox under `dir`.
pub(crate) fn build_services(
    dir: &Path,
    dep_url: &str,
    dep_timeout_seconds: u64,
    time_zone: Tz,
    clock: Arc<dyn Clock>,
    notifications: NotificationSettings,
) -> anyhow::Result<Arc<Services>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the data folder {}", dir.display()))?;
    let vault = Arc::new(LocalKeyVault::open(dir)?);
    let dep = DepClient::new(DepClientConfig {
        base_url: dep_url.to_owned(),
        request_timeout: Duration::from_secs(dep_timeout_seconds),
        ..DepClientConfig::default()
    })?;

    Ok(Arc::new(Services {
        store: Arc::new(SqliteStore::open(&dir.join(STORE_FILE))?),
        vault: vault.clone(),
        sealer: vault,
        dep: Arc::new(dep),
        notifier: Arc::new(OutboxNotifier::open(&dir.join("outbox.jsonl"))?),
        clock,
        time_zone,
        notifications,
    }))
}

/// Formats the renewal walk-through printed when the simulator runs, in Japanese and English.
fn next_steps(api: &str, sim: &str) -> String {
    format!(
        r#"
次の手順 / Next steps:
  1. DEPサーバーのエントリを作成します / Create a DEP server entry:
     curl -s -X POST {api}/v1/servers -H 'Content-Type: application/json' -d '{{"name":"tokyo","display_name":"Tokyo office"}}'
  2. 公開鍵証明書 (.pem) をダウンロードします / Download the public-key certificate:
     curl -s -o tokyo.pem {api}/v1/servers/tokyo/certificate
  3. シミュレーターでサーバートークンを発行します (ABM の代わり) / Get a server token from the simulator (in place of ABM):
     curl -s -X POST --data-binary @tokyo.pem '{sim}/sim/tokens?server_name=Tokyo%20MDM' -o tokyo_Token_smime.p7m
  4. ABM で使った Apple アカウントを備考にしてアップロードします / Upload it, with the Apple Account used in ABM as the note:
     curl -s -X PUT {api}/v1/servers/tokyo/token -F file=@tokyo_Token_smime.p7m -F note=abm-admin@example.com
  5. ダッシュボードで有効期限を確認します / See the expiry on the dashboard:
     curl -s {api}/v1/servers
"#
    )
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}
