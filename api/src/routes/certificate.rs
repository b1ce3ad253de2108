//! `/v1/servers/{name}/certificate`: the certificate to upload to ABM, and key rotation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use deptoken_shared::usecases::KeyView;

use crate::AppState;
use crate::error::ApiError;
use crate::identity::Authenticated;

/// `GET /v1/servers/{name}/certificate`: the PEM as an attachment named `<name>.pem`. After a
/// rotation this is the staged key's certificate, the one ABM must encrypt the next token for.
pub async fn download(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let certificate = state.services.certificate(&caller, &name).await?;

    // The name passed ServerName's check (ASCII letters, digits, `-`, `_`, `.`), so it is
    // safe inside the quoted file name.
    let disposition = format!("attachment; filename=\"{name}.pem\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-pem-file".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        certificate.certificate_pem,
    ))
}

/// `POST /v1/servers/{name}/certificate/rotate`: `201` with the staged key.
pub async fn rotate(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<KeyView>), ApiError> {
    let key = state.services.rotate_key(&caller, &name).await?;

    Ok((StatusCode::CREATED, Json(key)))
}
