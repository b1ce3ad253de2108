//! `/v1/subscribers` and `/v1/subscribers/{id}`: the tenant's notification recipients. Only
//! the routers built with a [`SubscriberDirectory`] serve them.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use deptoken_shared::subscriber::Subscriber;
use deptoken_shared::usecases::SubscriberDirectory;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::identity::Authenticated;

/// `POST` body: `{"protocol": "email" | "sms", "endpoint": "..."}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddSubscriber {
    pub protocol: String,
    pub endpoint: String,
}

#[derive(Debug, Serialize)]
pub struct SubscriberList {
    pub subscribers: Vec<Subscriber>,
}

/// `GET /v1/subscribers`
pub async fn list(
    Extension(directory): Extension<SubscriberDirectory>,
    Authenticated(caller): Authenticated,
) -> Result<Json<SubscriberList>, ApiError> {
    let subscribers = directory.list(&caller).await?;

    Ok(Json(SubscriberList { subscribers }))
}

/// `POST /v1/subscribers`: `201` with the recipient, also when the tenant had it already.
pub async fn add(
    Extension(directory): Extension<SubscriberDirectory>,
    Authenticated(caller): Authenticated,
    Json(body): Json<AddSubscriber>,
) -> Result<impl IntoResponse, ApiError> {
    let subscriber = directory.add(&caller, &body.protocol, &body.endpoint).await?;

    Ok((StatusCode::CREATED, Json(subscriber)))
}

/// `DELETE /v1/subscribers/{id}`: `204`, or `404` for an id the tenant does not have.
pub async fn remove(
    Extension(directory): Extension<SubscriberDirectory>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    directory.remove(&caller, &id).await?;

    Ok(StatusCode::NO_CONTENT)
}
