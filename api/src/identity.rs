//! The caller's identity: a fixed caller for the local runner, or the claims that API
//! Gateway's JWT authorizer verified, on Lambda. Never anything from the path or the body.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use deptoken_shared::domain::{Caller, Role, TenantId};
use deptoken_shared::error::ErrorCode;
use lambda_http::request::RequestContext;

use crate::AppState;
use crate::error::ApiError;

/// The claim naming the caller's tenant.
pub const TENANT_CLAIM: &str = "tenant_id";

/// The claim naming the caller's role, `admin` or `reader`.
pub const ROLE_CLAIM: &str = "deptoken_role";

/// The OAuth scope that grants writes when no role claim is present.
pub const WRITE_SCOPE: &str = "deptoken:write";

/// The source of the caller's identity.
#[derive(Debug, Clone)]
pub enum IdentitySource {
    /// Every request acts as this caller (the local runner, which binds to loopback).
    Fixed(Caller),
    /// The claims of API Gateway HTTP API's JWT authorizer (`requestContext.authorizer.jwt`).
    /// `tenant_id` names the tenant and `sub` the subject. `deptoken_role` (`admin` or
    /// `reader`) names the role. Without it, a `scope` claim or authorizer scope
    /// `deptoken:write` makes an admin and anything else a reader. A request without valid
    /// claims is `unauthorized`.
    JwtClaims,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match state.identity.as_ref() {
            IdentitySource::Fixed(caller) => Ok(Self(caller.clone())),
            IdentitySource::JwtClaims => caller_from_claims(parts).map(Self).ok_or_else(|| {
                tracing::info!("request without valid authorizer claims");
                ApiError::code(ErrorCode::Unauthorized)
            }),
        }
    }
}

/// Returns the request's authenticated caller, or `None` when it has none, without rejecting
/// the request (for the error renderer, which runs whether or not a handler did).
pub(crate) fn caller_of(parts: &Parts, identity: &IdentitySource) -> Option<Caller> {
    match identity {
        IdentitySource::Fixed(caller) => Some(caller.clone()),
        IdentitySource::JwtClaims => caller_from_claims(parts),
    }
}

fn caller_from_claims(parts: &Parts) -> Option<Caller> {
    let Some(RequestContext::ApiGatewayV2(context)) = parts.extensions.get::<RequestContext>() else {
        return None;
    };
    let jwt = context.authorizer.as_ref()?.jwt.as_ref()?;
    let claims = &jwt.claims;

    let tenant = TenantId::parse(claims.get(TENANT_CLAIM)?).ok()?;
    let subject = claims.get("sub").filter(|s| !s.is_empty())?.clone();
    let role = match claims.get(ROLE_CLAIM).map(String::as_str) {
        Some("admin") => Role::Admin,
        Some("reader") => Role::Reader,
        Some(_) => return None,
        None => {
            let in_claim = claims
                .get("scope")
                .is_some_and(|scope| scope.split_whitespace().any(|s| s == WRITE_SCOPE));
            let in_scopes = jwt
                .scopes
                .as_ref()
                .is_some_and(|scopes| scopes.iter().any(|s| s == WRITE_SCOPE));
            if in_claim || in_scopes { Role::Admin } else { Role::Reader }
        }
    };

    Some(Caller { tenant, role, subject })
}
