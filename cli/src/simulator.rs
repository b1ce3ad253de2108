//! `deptoken dep-sim`, and the in-process simulator of `deptoken serve --simulator`.

use std::net::SocketAddr;

use anyhow::Context;
use axum::routing::get;
use axum::{Json, Router};
use clap::Args;
use deptoken_dep_sim::RunningSimulator;

use crate::loopback::parse_loopback;

#[derive(Debug, Args)]
pub struct DepSimArgs {
    /// Loopback address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8090", value_parser = parse_loopback)]
    addr: SocketAddr,
}

pub async fn run(args: DepSimArgs) -> anyhow::Result<()> {
    tracing::info!(addr = %args.addr, "DEP simulator starting");
    deptoken_dep_sim::serve(&args.addr.to_string())
        .await
        .with_context(|| format!("the DEP simulator on {} failed", args.addr))
}

/// Starts the simulator on `preferred`, or on any free loopback port when that one is taken.
pub async fn start_in_process(preferred: &str) -> anyhow::Result<RunningSimulator> {
    match deptoken_dep_sim::start(preferred).await {
        Ok(running) => Ok(running),
        Err(error) => {
            tracing::info!(preferred, %error, "simulator address taken; using a free port");
            deptoken_dep_sim::start("127.0.0.1:0")
                .await
                .context("cannot start the DEP simulator")
        }
    }
}

/// Builds the routes that `deptoken serve --simulator` nests under `/simulator` on the API's own
/// address. `GET /simulator` returns `{"base_url"}`, and the admin portal shows its simulator
/// step only when that request succeeds. `/simulator/sim/tokens` is the simulator's control
/// API on the same origin, so that the portal can issue a token in place of ABM.
pub fn same_origin_routes(running: &RunningSimulator) -> Router {
    let base_url = running.base_url.clone();
    let describe = get(move || {
        let base_url = base_url.clone();
        async move { Json(serde_json::json!({ "base_url": base_url })) }
    });

    Router::new()
        .route("/", describe)
        .merge(deptoken_dep_sim::router(running.simulator.clone()))
}
