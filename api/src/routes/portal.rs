//! The admin portal's static files, compiled into the binary: `index.html` for every page the
//! portal's client-side router shows (`/`, `/servers/{name}`, `/recipients`), and the scripts
//! and style sheet under `/portal/`. Served by the local runner only.

use axum::extract::Path;
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deptoken_shared::error::ErrorCode;

use crate::error::ApiError;

const INDEX_HTML: &str = include_str!("../../../portal/index.html");

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// Every file under `/portal/`: path, content type and content.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.js", JAVASCRIPT, include_str!("../../../portal/app.js")),
    ("styles.css", "text/css; charset=utf-8", include_str!("../../../portal/styles.css")),
    ("lib/api.js", JAVASCRIPT, include_str!("../../../portal/lib/api.js")),
    ("lib/dom.js", JAVASCRIPT, include_str!("../../../portal/lib/dom.js")),
    ("lib/i18n.js", JAVASCRIPT, include_str!("../../../portal/lib/i18n.js")),
    ("views/dashboard.js", JAVASCRIPT, include_str!("../../../portal/views/dashboard.js")),
    ("views/server.js", JAVASCRIPT, include_str!("../../../portal/views/server.js")),
    ("views/recipients.js", JAVASCRIPT, include_str!("../../../portal/views/recipients.js")),
];

/// Only this origin's scripts, styles and API; links to Apple Business Manager are plain
/// navigation, which the policy does not restrict.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

/// `GET /`, `/servers/{name}` and `/recipients`: the portal's one HTML page.
pub async fn index() -> Response {
    file_response("text/html; charset=utf-8", INDEX_HTML)
}

/// `GET /portal/{*path}`: a script or the style sheet; `not_found` for any other path.
pub async fn asset(Path(path): Path<String>) -> Result<Response, ApiError> {
    let (_, content_type, content) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == path)
        .ok_or_else(|| ApiError::code(ErrorCode::NotFound))?;

    Ok(file_response(content_type, content))
}

fn file_response(content_type: &'static str, content: &'static str) -> Response {
    let headers: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_TYPE, content_type),
        // The files change with the binary, so the browser revalidates on every load.
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    (StatusCode::OK, headers, content).into_response()
}
