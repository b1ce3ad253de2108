//! The deptoken HTTP API: one axum [`Router`] served by the Lambda function behind API Gateway
//! HTTP API and by the local runner on loopback.
//!
//! Handlers translate a request into one use-case call and the result into a response. Every
//! error, including axum's own rejections, leaves through [`error::render_errors`] as
//! `{"error":{"code","message","action"}}` in the language of `Accept-Language`.

mod error;
mod identity;
mod multipart;
mod portal_config;
mod routes;
mod trace;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::{Extension, Router};
use axum::middleware;
use axum::routing::{delete, get, post, put};
use deptoken_shared::usecases::{Services, SubscriberDirectory, SweepRunner};

pub use error::ApiError;
pub use identity::{Authenticated, IdentitySource};
pub use portal_config::{PortalConfig, PortalConfigError, with_portal_config};
/// The multipart upload parser, exposed for the fuzz targets only.
#[doc(hidden)]
pub use multipart::read_upload_form;

/// The OpenAPI 3.1 document of this API, as kept in the repository.
pub const OPENAPI_JSON: &str = include_str!("../../openapi/openapi.json");

/// Maximum request body of the upload route: a 64 KiB token file plus room for the
/// multipart framing and the note. Larger bodies are rejected while reading.
pub const MAX_UPLOAD_BODY_BYTES: usize = 80 * 1024;

/// Maximum request body of every other route (small JSON documents).
pub const MAX_JSON_BODY_BYTES: usize = 16 * 1024;

/// The state every handler gets: the use cases and the source of the caller's identity.
#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub identity: Arc<IdentitySource>,
}

/// Builds the API router with every route, the error rendering and the request span, except
/// the `/v1/subscribers` routes, which need a [`SubscriberDirectory`].
pub fn router(services: Arc<Services>, identity: IdentitySource) -> Router {
    build_router(services, identity, None, None)
}

/// Builds the router of [`router`] plus the `/v1/subscribers` routes on `subscribers`.
pub fn router_with_subscribers(services: Arc<Services>, identity: IdentitySource, subscribers: SubscriberDirectory) -> Router {
    build_router(services, identity, None, Some(subscribers))
}

/// Builds the local runner's router: every route of [`router`] plus `POST /v1/sweep`, which
/// runs `sweeper`, and the admin portal's pages and files. The Lambda function serves neither.
pub fn local_router(services: Arc<Services>, identity: IdentitySource, sweeper: SweepRunner) -> Router {
    build_router(services, identity, Some(sweeper), None)
}

/// Builds the router of [`local_router`] plus the `/v1/subscribers` routes on `subscribers`.
pub fn local_router_with_subscribers(
    services: Arc<Services>,
    identity: IdentitySource,
    sweeper: SweepRunner,
    subscribers: SubscriberDirectory,
) -> Router {
    build_router(services, identity, Some(sweeper), Some(subscribers))
}

fn build_router(
    services: Arc<Services>,
    identity: IdentitySource,
    sweeper: Option<SweepRunner>,
    subscribers: Option<SubscriberDirectory>,
) -> Router {
    let state = AppState {
        services,
        identity: Arc::new(identity),
    };

    let upload = put(routes::token::upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY_BYTES));
    let mut app = Router::new()
        .route("/v1/servers", post(routes::servers::create).get(routes::servers::list))
        .route(
            "/v1/servers/{name}",
            get(routes::servers::get)
                .patch(routes::servers::set_note)
                .delete(routes::servers::delete),
        )
        .route("/v1/servers/{name}/certificate", get(routes::certificate::download))
        .route("/v1/servers/{name}/certificate/rotate", post(routes::certificate::rotate))
        .route("/v1/servers/{name}/token", upload)
        .route("/v1/servers/{name}/check", post(routes::token::check))
        .route("/v1/servers/{name}/history", get(routes::servers::history))
        .route("/v1/settings", get(routes::settings::get).put(routes::settings::put))
        .route("/v1/openapi.json", get(routes::openapi::document))
        .route("/v1/messages", get(routes::messages::catalogue));
    if let Some(directory) = subscribers {
        app = app
            .route(
                "/v1/subscribers",
                get(routes::subscribers::list)
                    .post(routes::subscribers::add)
                    .layer(Extension(directory.clone())),
            )
            .route("/v1/subscribers/{id}", delete(routes::subscribers::remove).layer(Extension(directory)));
    }
    if let Some(sweeper) = sweeper {
        app = app
            .route("/v1/sweep", post(routes::sweep::run).layer(Extension(sweeper)))
            .route("/", get(routes::portal::index))
            .route("/servers/{name}", get(routes::portal::index))
            .route("/recipients", get(routes::portal::index))
            .route("/portal/{*path}", get(routes::portal::asset));
    }

    app
        .fallback(routes::fallback::not_found)
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), error::render_errors))
        .layer(middleware::from_fn(trace::request_span))
        .with_state(state)
}
