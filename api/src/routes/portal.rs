//! The admin portal's static files, compiled into the binary: `index.html` for every page the
//! portal's client-side router shows (`/`, `/servers/{name}`, `/recipients`), and the scripts
//! and style sheet under `/portal/`, and `/portal/config.json` when the runner was given one.
//! Served by the local runner only.

use std::sync::Arc;

use axum::Extension;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deptoken_shared::error::ErrorCode;

use crate::error::ApiError;
use crate::portal_config::PortalConfig;

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
    ("views/settings.js", JAVASCRIPT, include_str!("../../../portal/views/settings.js")),
    ("views/signin.js", JAVASCRIPT, include_str!("../../../portal/views/signin.js")),
    ("lib/auth.js", JAVASCRIPT, include_str!("../../../portal/lib/auth.js")),
];

/// The runtime configuration's path under `/portal/`.
const CONFIG_PATH: &str = "config.json";

/// Only this origin's scripts, styles and API, plus the identity provider's origins of a
/// runtime configuration in `connect-src`. Links to Apple Business Manager and the redirects
/// to the identity provider's sign-in page are plain navigation, which the policy does not
/// restrict.
fn content_security_policy(config: Option<&PortalConfig>) -> String {
    let mut connect_src = String::from("'self'");
    for origin in config.map(PortalConfig::connect_origins).unwrap_or_default() {
        connect_src.push(' ');
        connect_src.push_str(origin);
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src {connect_src}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
         form-action 'self'"
    )
}

/// The configuration the runner serves, if it was given one (see `with_portal_config`).
type ServedConfig = Option<Extension<Arc<PortalConfig>>>;

/// `GET /`, `/servers/{name}` and `/recipients`: the portal's one HTML page.
pub async fn index(config: ServedConfig) -> Response {
    let config = config.as_ref().map(|Extension(config)| config.as_ref());
    file_response("text/html; charset=utf-8", INDEX_HTML.to_owned(), config)
}

/// `GET /portal/{*path}`: a script, the style sheet, or the runtime configuration when the
/// runner has one; `not_found` for any other path.
pub async fn asset(config: ServedConfig, Path(path): Path<String>) -> Result<Response, ApiError> {
    let config = config.as_ref().map(|Extension(config)| config.as_ref());
    if path == CONFIG_PATH {
        let config = config.ok_or_else(|| ApiError::code(ErrorCode::NotFound))?;
        return Ok(file_response("application/json", config.json().to_owned(), Some(config)));
    }

    let (_, content_type, content) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == path)
        .ok_or_else(|| ApiError::code(ErrorCode::NotFound))?;

    Ok(file_response(content_type, (*content).to_owned(), config))
}

fn file_response(content_type: &'static str, content: String, config: Option<&PortalConfig>) -> Response {
    let policy = HeaderValue::from_str(&content_security_policy(config))
        .expect("the policy is ASCII: PortalConfig checked every origin in it");
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        // The files change with the binary, so the browser revalidates on every load.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::CONTENT_SECURITY_POLICY, policy),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    ];
    (StatusCode::OK, headers, content).into_response()
}
