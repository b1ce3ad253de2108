//! The one place where errors become HTTP responses.
//!
//! Handlers return [`ApiError`], whose response carries the [`AppError`] in an extension.
//! The [`render_errors`] middleware, which reads the request's `Accept-Language`, turns it
//! into `{"error":{"code","message","action"}}`. It also rewrites axum's own plain-text
//! rejections (bad JSON, wrong content type, body too large, unknown route or method) into
//! the same shape, so that no client ever sees another error format.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use deptoken_shared::error::{AppError, ErrorCode, ErrorDetail};
use deptoken_shared::messages::{self, Lang};
use deptoken_shared::token::MAX_TOKEN_FILE_BYTES;
use serde::Serialize;

use crate::AppState;
use crate::identity::caller_of;

/// An error returned to the client, rendered by [`render_errors`].
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl ApiError {
    pub fn code(code: ErrorCode) -> Self {
        Self(AppError::new(code))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = status_of(self.0.code).into_response();
        response.extensions_mut().insert(self.0);
        response
    }
}

fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Middleware rendering every error response in the error format and the caller's language.
pub async fn render_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let lang = language_of(request.headers());
    let (parts, body) = request.into_parts();
    let tenant = caller_of(&parts, &state.identity).map(|caller| caller.tenant);

    let response = next.run(Request::from_parts(parts, body)).await;

    let (error, status) = match response.extensions().get::<AppError>() {
        Some(error) => (error.clone(), status_of(error.code)),
        None if is_foreign_error(&response) => foreign_error(response.status()),
        None => return response,
    };
    let allow = response.headers().get(header::ALLOW).cloned();

    // Only a text with a date needs the tenant's zone, so only then are its settings read.
    let time_zone = match (&error.detail, &tenant) {
        (Some(ErrorDetail::ExpiredAt { .. }), Some(tenant)) => state.services.view_time_zone(tenant).await,
        _ => state.services.time_zone,
    };
    let mut rendered = render(&error, status, lang, time_zone);
    if let Some(allow) = allow {
        rendered.headers_mut().insert(header::ALLOW, allow);
    }
    rendered
}

/// The error body: `{"error":{"code","message","action"}}`.
#[derive(Serialize)]
struct ErrorBody {
    error: ErrorFields,
}

#[derive(Serialize)]
struct ErrorFields {
    code: &'static str,
    message: String,
    action: String,
}

/// Builds the error body and headers.
fn render(error: &AppError, status: StatusCode, lang: Lang, tz: chrono_tz::Tz) -> Response {
    let text = messages::render_error(error, lang, tz);
    let body = ErrorBody {
        error: ErrorFields {
            code: error.code.as_str(),
            message: text.message,
            action: text.action,
        },
    };

    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.as_str()));
    if let Some(seconds) = error.retry_after() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn language_of(headers: &HeaderMap) -> Lang {
    let value = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::from_accept_language(value)
}

/// Tells whether `response` is an error that did not come from [`ApiError`], which makes it
/// one of axum's own rejections.
fn is_foreign_error(response: &Response) -> bool {
    let status = response.status();
    (status.is_client_error() || status.is_server_error()) && !is_json(response)
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Maps a rejection axum responded with `status` to an error and status. A method a route
/// does not serve stays `405`, with code `invalid_request` because no code is specific to it.
fn foreign_error(status: StatusCode) -> (AppError, StatusCode) {
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::with_detail(ErrorCode::TooLarge, ErrorDetail::Limit { bytes: MAX_TOKEN_FILE_BYTES })
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::new(ErrorCode::UnsupportedMediaType),
        StatusCode::NOT_FOUND => AppError::new(ErrorCode::NotFound),
        StatusCode::UNAUTHORIZED => AppError::new(ErrorCode::Unauthorized),
        StatusCode::FORBIDDEN => AppError::new(ErrorCode::Forbidden),
        s if s.is_server_error() => {
            tracing::error!(status = s.as_u16(), "axum returned a server error response");
            AppError::new(ErrorCode::InternalError)
        }
        // 400 and 422 (JSON syntax and data errors), 405 and anything else from the client.
        _ => AppError::new(ErrorCode::InvalidRequest),
    };
    let status = match status {
        StatusCode::METHOD_NOT_ALLOWED => status,
        _ => status_of(error.code),
    };
    (error, status)
}
