//! The client of Apple's DEP API: OAuth 1.0a signed `GET /session`, `GET /account`,
//! session-token rotation and the classification of Apple's answers into error codes.

mod account;
mod classify;
mod client;
pub mod oauth;

pub use classify::classify;
pub use client::{
    DepClient, DepClientConfig, DepClientError, DepSession, SERVER_PROTOCOL_VERSION, SESSION_HEADER,
    install_crypto_provider,
};

use crate::error::{AppError, ErrorCode, ErrorDetail};

/// Apple's production DEP API.
pub const APPLE_DEP_BASE_URL: &str = "https://mdmenrollment.apple.com";

/// The product User-Agent sent to Apple.
pub const USER_AGENT: &str = concat!("deptoken/", env!("CARGO_PKG_VERSION"));

/// Apple's answer to a DEP call, classified. Never holds a credential or session token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepError {
    /// 401, 403 `token_rejectedForbidden`: the token is invalid or revoked.
    #[error("Apple rejected the token")]
    TokenRejected,
    /// 403 `token_expiredForbidden`.
    #[error("Apple reports the token expired")]
    TokenExpired,
    /// 403 `signature_invalid`: a newer token was downloaded in ABM.
    #[error("the token was superseded by a newer download")]
    TokenSuperseded,
    /// 403 `FORBIDDEN`: the Apple Account that downloaded the token was deleted or its password changed.
    #[error("the Apple Account behind the token is no longer valid")]
    AccountInvalid,
    /// 403 `ACCESS_DENIED`.
    #[error("Apple denied access")]
    AccessDenied,
    /// 403 `T_C_NOT_SIGNED`.
    #[error("the ABM Terms and Conditions are not accepted")]
    TermsNotAccepted,
    /// 403 `SERVER_INACTIVE`.
    #[error("the MDM server was removed in ABM")]
    ServerInactive,
    /// 429.
    #[error("Apple rate limited the request")]
    RateLimited { retry_after: Option<u64> },
    /// 5xx, timeouts, connection failures.
    #[error("Apple is unavailable: {reason}")]
    Unavailable { reason: String },
    /// 400 and anything unexpected: our request or Apple's answer is not what the protocol says.
    #[error("unexpected DEP answer: {reason}")]
    Protocol { reason: String },
}

impl DepError {
    /// Returns a stable snake_case name of the variant for logs, without the reason text.
    pub fn label(&self) -> &'static str {
        match self {
            DepError::TokenRejected => "token_rejected",
            DepError::TokenExpired => "token_expired",
            DepError::TokenSuperseded => "token_superseded",
            DepError::AccountInvalid => "account_invalid",
            DepError::AccessDenied => "access_denied",
            DepError::TermsNotAccepted => "terms_not_accepted",
            DepError::ServerInactive => "server_inactive",
            DepError::RateLimited { .. } => "rate_limited",
            DepError::Unavailable { .. } => "unavailable",
            DepError::Protocol { .. } => "protocol_error",
        }
    }
}

impl From<DepError> for AppError {
    fn from(error: DepError) -> Self {
        match error {
            DepError::TokenRejected => AppError::new(ErrorCode::TokenRejected),
            DepError::TokenExpired => AppError::new(ErrorCode::TokenExpired),
            DepError::TokenSuperseded => AppError::new(ErrorCode::TokenSuperseded),
            DepError::AccountInvalid => AppError::new(ErrorCode::AccountInvalid),
            DepError::AccessDenied => AppError::new(ErrorCode::AccessDenied),
            DepError::TermsNotAccepted => AppError::new(ErrorCode::TermsNotAccepted),
            DepError::ServerInactive => AppError::new(ErrorCode::ServerInactive),
            DepError::RateLimited { retry_after } => AppError::with_detail(
                ErrorCode::AppleRateLimited,
                ErrorDetail::RetryAfter { seconds: retry_after.unwrap_or(60) },
            ),
            DepError::Unavailable { .. } => AppError::new(ErrorCode::AppleUnavailable),
            DepError::Protocol { .. } => AppError::new(ErrorCode::AppleProtocolError),
        }
    }
}
