//! `GET /v1/messages`: the admin portal's message catalogue (UI strings, status labels and
//! every error's message and action) in one language.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use deptoken_shared::messages::{Lang, PortalCatalogue, portal_catalogue};
use serde::Deserialize;

use crate::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// `ja` or `en`; the `Accept-Language` header decides when absent.
    pub lang: Option<Lang>,
}

/// `GET /v1/messages?lang=ja|en`. Needs no caller identity: the texts are the same for every
/// tenant, and only the time zone comes from the runner's configuration.
pub async fn catalogue(
    State(state): State<AppState>,
    Query(query): Query<MessagesQuery>,
    headers: HeaderMap,
) -> Json<PortalCatalogue> {
    let lang = query.lang.unwrap_or_else(|| {
        let accept_language = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        Lang::from_accept_language(accept_language)
    });

    Json(portal_catalogue(lang, state.services.time_zone))
}
