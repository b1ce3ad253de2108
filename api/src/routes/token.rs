//! `/v1/servers/{name}/token` and `/v1/servers/{name}/check`: uploading a token file and
//! asking Apple about the stored one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use deptoken_shared::error::ErrorCode;
use deptoken_shared::usecases::{ServerView, UploadRequest};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::identity::Authenticated;
use crate::multipart::read_upload_form;

/// Query parameters of an upload, for clients that send the raw file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    #[serde(default)]
    pub confirm_server_change: bool,
    pub note: Option<String>,
}

/// `PUT /v1/servers/{name}/token`: the raw file in the body (any content type but
/// multipart), or a `multipart/form-data` form with `file`, `note` and
/// `confirm_server_change`. A flag or note in the query applies to both.
pub async fn upload(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ServerView>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();

    let mut request = if media_type == "multipart/form-data" {
        read_upload_form(&content_type, body).await?
    } else if media_type.starts_with("multipart/") {
        return Err(ApiError::code(ErrorCode::UnsupportedMediaType));
    } else {
        UploadRequest {
            file: body.to_vec(),
            ..UploadRequest::default()
        }
    };
    request.confirm_server_change |= query.confirm_server_change;
    if request.note.is_none() {
        request.note = query.note;
    }

    Ok(Json(state.services.upload_token(&caller, &name, request).await?))
}

/// `POST /v1/servers/{name}/check`
pub async fn check(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<ServerView>, ApiError> {
    Ok(Json(state.services.check_token(&caller, &name).await?))
}
