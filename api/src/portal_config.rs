//! The admin portal's runtime configuration, `/portal/config.json`, as the local runner serves
//! it with `deptoken serve --portal-config FILE`.
//!
//! The file's `oidc` section turns on the portal's sign-in (OAuth 2.0 authorization code flow
//! with PKCE, see `portal/lib/auth.js`). The page then calls the identity provider's token
//! endpoint, and the discovery document when only `issuer` is given, with `fetch`. So the
//! origins of those URLs join `connect-src` in the page's Content-Security-Policy.

use std::sync::Arc;

use axum::http::Uri;
use axum::{Extension, Router};
use serde::Deserialize;

/// The `token` values the portal accepts: which token of the token response it sends as
/// `Authorization: Bearer`.
const TOKEN_KINDS: [&str; 2] = ["access_token", "id_token"];

/// The portal's configuration file, validated, with the Content-Security-Policy that lets the
/// page reach the identity provider.
#[derive(Debug, Clone)]
pub struct PortalConfig {
    json: Arc<str>,
    connect_origins: Vec<String>,
}

/// A reason why a portal configuration file is not usable.
#[derive(Debug, thiserror::Error)]
pub enum PortalConfigError {
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("oidc.client_id is missing or empty")]
    MissingClientId,
    #[error("oidc.scope is missing or empty")]
    MissingScope,
    #[error("oidc needs either issuer or both authorization_endpoint and token_endpoint")]
    MissingEndpoints,
    #[error("oidc.token is {0:?}: use \"access_token\" or \"id_token\"")]
    InvalidTokenKind(String),
    #[error("oidc.{field} is {value:?}: use an absolute https:// URL (http:// only for a loopback host) without user name or password")]
    InvalidUrl { field: &'static str, value: String },
}

#[derive(Debug, Deserialize)]
struct ConfigFile {
    oidc: Option<OidcSection>,
}

/// The fields of `oidc` that the server checks; the portal reads the others.
#[derive(Debug, Deserialize)]
struct OidcSection {
    issuer: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    scope: Option<String>,
    token: Option<String>,
}

impl PortalConfig {
    /// Parses and checks the text of a configuration file. A file without `oidc` is valid and
    /// keeps the portal without sign-in.
    pub fn from_json(text: &str) -> Result<Self, PortalConfigError> {
        let file: ConfigFile = serde_json::from_str(text)?;
        let connect_origins = match &file.oidc {
            Some(oidc) => check_oidc(oidc)?,
            None => Vec::new(),
        };

        Ok(Self {
            json: Arc::from(text),
            connect_origins,
        })
    }

    /// Returns the file as given, which the runner serves as `/portal/config.json`.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The origins the page calls besides its own: the token endpoint's, and the issuer's when
    /// the portal must fetch the discovery document.
    pub fn connect_origins(&self) -> &[String] {
        &self.connect_origins
    }
}

/// Adds `config` to a local runner's router (`local_router…`), which then serves it as
/// `/portal/config.json` and adds its origins to the portal's `connect-src`.
pub fn with_portal_config(router: Router, config: PortalConfig) -> Router {
    router.layer(Extension(Arc::new(config)))
}

/// Checks the section and returns the origins the page will call.
fn check_oidc(oidc: &OidcSection) -> Result<Vec<String>, PortalConfigError> {
    if oidc.client_id.as_deref().is_none_or(|id| id.trim().is_empty()) {
        return Err(PortalConfigError::MissingClientId);
    }
    if oidc.scope.as_deref().is_none_or(|scope| scope.trim().is_empty()) {
        return Err(PortalConfigError::MissingScope);
    }
    if let Some(kind) = &oidc.token
        && !TOKEN_KINDS.contains(&kind.as_str())
    {
        return Err(PortalConfigError::InvalidTokenKind(kind.clone()));
    }

    let urls = [
        ("issuer", &oidc.issuer),
        ("authorization_endpoint", &oidc.authorization_endpoint),
        ("token_endpoint", &oidc.token_endpoint),
        ("end_session_endpoint", &oidc.end_session_endpoint),
        ("redirect_uri", &oidc.redirect_uri),
    ];
    for (field, value) in urls {
        if let Some(value) = value {
            origin_of(field, value)?;
        }
    }

    let explicit = oidc.authorization_endpoint.is_some() && oidc.token_endpoint.is_some();
    let mut origins = Vec::new();
    if let Some(token_endpoint) = &oidc.token_endpoint {
        origins.push(origin_of("token_endpoint", token_endpoint)?);
    }
    if !explicit {
        // Without both endpoints the portal reads them from the issuer's discovery document.
        let issuer = oidc.issuer.as_ref().ok_or(PortalConfigError::MissingEndpoints)?;
        origins.push(origin_of("issuer", issuer)?);
    }
    origins.dedup();
    Ok(origins)
}

/// Returns `scheme://host[:port]` of an absolute URL, the form a CSP source expression takes.
fn origin_of(field: &'static str, value: &str) -> Result<String, PortalConfigError> {
    let invalid = || PortalConfigError::InvalidUrl {
        field,
        value: value.to_owned(),
    };
    let uri: Uri = value.parse().map_err(|_| invalid())?;
    let authority = uri.authority().ok_or_else(invalid)?;
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return Err(invalid());
    }
    let host = authority.host().to_ascii_lowercase();
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if loopback => {}
        _ => return Err(invalid()),
    }

    let scheme = uri.scheme_str().unwrap_or_default();
    Ok(match authority.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc(fields: &str) -> String {
        format!(r#"{{"oidc":{{"client_id":"portal","scope":"openid",{fields}}}}}"#)
    }

    #[test]
    fn config_without_oidc_adds_no_origin() {
        let config = PortalConfig::from_json(r#"{"note":"local"}"#).expect("valid");

        assert!(config.connect_origins().is_empty());
        assert_eq!(config.json(), r#"{"note":"local"}"#);
    }

    #[test]
    fn explicit_endpoints_add_token_origin() {
        let text = oidc(
            r#""authorization_endpoint":"https://auth.example.com/oauth2/authorize",
               "token_endpoint":"https://Auth.Example.com:8443/oauth2/token""#,
        );

        let config = PortalConfig::from_json(&text).expect("valid");

        assert_eq!(config.connect_origins(), ["https://auth.example.com:8443"]);
    }

    #[test]
    fn issuer_alone_adds_issuer_origin() {
        let text = oidc(r#""issuer":"https://idp.example.com/realms/mdm""#);

        let config = PortalConfig::from_json(&text).expect("valid");

        assert_eq!(config.connect_origins(), ["https://idp.example.com"]);
    }

    #[test]
    fn loopback_http_is_accepted() {
        let text = oidc(r#""issuer":"http://127.0.0.1:4000","token_endpoint":"http://127.0.0.1:4000/token""#);

        let config = PortalConfig::from_json(&text).expect("valid");

        assert_eq!(config.connect_origins(), ["http://127.0.0.1:4000"]);
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let cases = [
            ("not JSON", "{".to_owned()),
            ("no client id", r#"{"oidc":{"scope":"openid","issuer":"https://idp.example.com"}}"#.to_owned()),
            ("empty scope", r#"{"oidc":{"client_id":"p","scope":" ","issuer":"https://idp.example.com"}}"#.to_owned()),
            ("no endpoints", oidc(r#""token_endpoint":"https://idp.example.com/token""#)),
            ("plain http", oidc(r#""issuer":"http://idp.example.com""#)),
            ("relative URL", oidc(r#""issuer":"/idp""#)),
            ("user in URL", oidc(r#""issuer":"https://user@idp.example.com""#)),
            ("unknown token", oidc(r#""issuer":"https://idp.example.com","token":"refresh_token""#)),
        ];

        for (label, text) in cases {
            assert!(PortalConfig::from_json(&text).is_err(), "{label}");
        }
    }
}
