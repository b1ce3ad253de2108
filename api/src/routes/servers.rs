//! `/v1/servers` and `/v1/servers/{name}`: the dashboard list, one entry, its note, removal
//! and its upload history.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use deptoken_shared::usecases::{HistoryView, ServerView};
use serde::{Deserialize, Deserializer, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::identity::Authenticated;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateServer {
    pub name: String,
    pub display_name: String,
}

/// `PATCH` body: `{"note": "..."}` sets the note, `{"note": null}` clears it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotePatch {
    #[serde(deserialize_with = "nullable")]
    pub note: Option<String>,
}

/// Makes `note` required while still accepting `null`.
fn nullable<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(deserializer)
}

#[derive(Debug, Serialize)]
pub struct ServerList {
    pub servers: Vec<ServerView>,
}

#[derive(Debug, Serialize)]
pub struct HistoryList {
    pub uploads: Vec<HistoryView>,
}

/// `POST /v1/servers`: `201` with the new entry and its `Location`.
pub async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Json(body): Json<CreateServer>,
) -> Result<impl IntoResponse, ApiError> {
    let view = state
        .services
        .create_server(&caller, &body.name, &body.display_name)
        .await?;

    let location = format!("/v1/servers/{}", view.name);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(view)))
}

/// `GET /v1/servers`
pub async fn list(State(state): State<AppState>, Authenticated(caller): Authenticated) -> Result<Json<ServerList>, ApiError> {
    let servers = state.services.list_servers(&caller).await?;

    Ok(Json(ServerList { servers }))
}

/// `GET /v1/servers/{name}`
pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<ServerView>, ApiError> {
    Ok(Json(state.services.get_server(&caller, &name).await?))
}

/// `PATCH /v1/servers/{name}`
pub async fn set_note(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
    Json(body): Json<NotePatch>,
) -> Result<Json<ServerView>, ApiError> {
    Ok(Json(state.services.set_note(&caller, &name, body.note.as_deref()).await?))
}

/// `DELETE /v1/servers/{name}`: `204`.
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_server(&caller, &name).await?;

    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/servers/{name}/history`: newest first.
pub async fn history(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<HistoryList>, ApiError> {
    let uploads = state.services.history(&caller, &name).await?;

    Ok(Json(HistoryList { uploads }))
}
