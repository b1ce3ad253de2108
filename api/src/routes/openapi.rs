use axum::http::header;
use axum::response::IntoResponse;

use crate::OPENAPI_JSON;

/// `GET /v1/openapi.json`: the OpenAPI document kept in the repository, unchanged.
pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
