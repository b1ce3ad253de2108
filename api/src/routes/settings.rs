//! `/v1/settings`: the caller's tenant's notification language and time zone.

use axum::Json;
use axum::extract::State;
use deptoken_shared::usecases::SettingsView;
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::identity::Authenticated;

/// `PUT` body: `{"notification_language": "ja" | "en", "time_zone": "<IANA name>"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutSettings {
    pub notification_language: String,
    pub time_zone: String,
}

/// `GET /v1/settings`: the tenant's settings, or the deployment's defaults with version 0.
pub async fn get(State(state): State<AppState>, Authenticated(caller): Authenticated) -> Result<Json<SettingsView>, ApiError> {
    Ok(Json(state.services.get_settings(&caller).await?))
}

/// `PUT /v1/settings`: stores both settings and returns them with the new version.
pub async fn put(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Json(body): Json<PutSettings>,
) -> Result<Json<SettingsView>, ApiError> {
    let view = state
        .services
        .update_settings(&caller, &body.notification_language, &body.time_zone)
        .await?;

    Ok(Json(view))
}
