//! The one error type that crosses from the use cases to the entry points: a stable code
//! and the facts its message needs. Messages are rendered by [`crate::messages`]; the HTTP
//! status is chosen here, in one place.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes. The snake_case names are part of the API contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // Token file
    NotAToken,
    CertificateNotToken,
    MalformedToken,
    WrongRecipient,
    Undecryptable,
    UnsupportedAlgorithm,
    InvalidPayload,
    TokenExpired,
    // Apple's verdict on the token
    TokenRejected,
    TokenSuperseded,
    AccountInvalid,
    AccessDenied,
    TermsNotAccepted,
    ServerInactive,
    ServerMismatch,
    AppleUnavailable,
    AppleRateLimited,
    AppleProtocolError,
    // Requests
    TooLarge,
    EmptyUpload,
    UnsupportedMediaType,
    InvalidRequest,
    NotFound,
    AlreadyExists,
    Conflict,
    Unauthorized,
    Forbidden,
    /// DynamoDB, KMS or SNS throttled the request; nothing was changed.
    ServiceBusy,
    InternalError,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 29] = [
        ErrorCode::NotAToken,
        ErrorCode::CertificateNotToken,
        ErrorCode::MalformedToken,
        ErrorCode::WrongRecipient,
        ErrorCode::Undecryptable,
        ErrorCode::UnsupportedAlgorithm,
        ErrorCode::InvalidPayload,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRejected,
        ErrorCode::TokenSuperseded,
        ErrorCode::AccountInvalid,
        ErrorCode::AccessDenied,
        ErrorCode::TermsNotAccepted,
        ErrorCode::ServerInactive,
        ErrorCode::ServerMismatch,
        ErrorCode::AppleUnavailable,
        ErrorCode::AppleRateLimited,
        ErrorCode::AppleProtocolError,
        ErrorCode::TooLarge,
        ErrorCode::EmptyUpload,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InvalidRequest,
        ErrorCode::NotFound,
        ErrorCode::AlreadyExists,
        ErrorCode::Conflict,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::ServiceBusy,
        ErrorCode::InternalError,
    ];

    /// The snake_case name used in API answers.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotAToken => "not_a_token",
            ErrorCode::CertificateNotToken => "certificate_not_token",
            ErrorCode::MalformedToken => "malformed_token",
            ErrorCode::WrongRecipient => "wrong_recipient",
            ErrorCode::Undecryptable => "undecryptable",
            ErrorCode::UnsupportedAlgorithm => "unsupported_algorithm",
            ErrorCode::InvalidPayload => "invalid_payload",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::TokenRejected => "token_rejected",
            ErrorCode::TokenSuperseded => "token_superseded",
            ErrorCode::AccountInvalid => "account_invalid",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::TermsNotAccepted => "terms_not_accepted",
            ErrorCode::ServerInactive => "server_inactive",
            ErrorCode::ServerMismatch => "server_mismatch",
            ErrorCode::AppleUnavailable => "apple_unavailable",
            ErrorCode::AppleRateLimited => "apple_rate_limited",
            ErrorCode::AppleProtocolError => "apple_protocol_error",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::EmptyUpload => "empty_upload",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::ServiceBusy => "service_busy",
            ErrorCode::InternalError => "internal_error",
        }
    }

    /// The HTTP status this code is answered with. Bad input is 4xx; Apple being unreachable
    /// is 502 or 503, and so is our own back end throttling us; only our own bugs are 500.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::NotAToken
            | ErrorCode::CertificateNotToken
            | ErrorCode::MalformedToken
            | ErrorCode::WrongRecipient
            | ErrorCode::Undecryptable
            | ErrorCode::UnsupportedAlgorithm
            | ErrorCode::InvalidPayload
            | ErrorCode::TokenExpired
            | ErrorCode::TokenRejected
            | ErrorCode::TokenSuperseded
            | ErrorCode::AccountInvalid
            | ErrorCode::AccessDenied
            | ErrorCode::TermsNotAccepted
            | ErrorCode::ServerInactive
            | ErrorCode::EmptyUpload => 422,
            ErrorCode::InvalidRequest => 400,
            ErrorCode::ServerMismatch | ErrorCode::AlreadyExists | ErrorCode::Conflict => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::NotFound => 404,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::AppleUnavailable | ErrorCode::AppleProtocolError => 502,
            ErrorCode::AppleRateLimited | ErrorCode::ServiceBusy => 503,
            ErrorCode::InternalError => 500,
        }
    }

    /// Whether the caller should retry later (the answer then carries `Retry-After`).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorCode::AppleUnavailable | ErrorCode::AppleRateLimited | ErrorCode::ServiceBusy
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The facts a message needs beyond its code. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorDetail {
    /// The token names a certificate none of the tenant's keys matches.
    Recipient { issuer: String, serial_hex: String },
    /// The token's `access_token_expiry`.
    ExpiredAt { expires_at: DateTime<Utc> },
    /// The content-encryption or key-transport algorithm, by name or OID.
    Algorithm { name: String },
    /// The upload belongs to another ABM MDM server than the stored token.
    ServerChanged { stored_server_name: String, uploaded_server_name: String },
    /// Seconds after which a retry may succeed.
    RetryAfter { seconds: u64 },
    /// The size limit in bytes.
    Limit { bytes: usize },
    /// A request field that is missing or invalid.
    InvalidField { field: String },
    /// The error is about a notification recipient, not a DEP server entry (with `not_found`
    /// and `already_exists`).
    Subscriber,
}

/// An error answered to a caller: a stable code plus the facts its message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub code: ErrorCode,
    pub detail: Option<ErrorDetail>,
}

impl AppError {
    pub fn new(code: ErrorCode) -> Self {
        Self { code, detail: None }
    }

    pub fn with_detail(code: ErrorCode, detail: ErrorDetail) -> Self {
        Self {
            code,
            detail: Some(detail),
        }
    }

    /// Seconds for the `Retry-After` header of a transient error.
    pub fn retry_after(&self) -> Option<u64> {
        match (&self.detail, self.code.is_transient()) {
            (Some(ErrorDetail::RetryAfter { seconds }), _) => Some(*seconds),
            (_, true) => Some(60),
            _ => None,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())
    }
}

impl std::error::Error for AppError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_code_serde_name_matches_as_str() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();

            assert_eq!(json, format!("\"{}\"", code.as_str()), "{code:?}");
        }
    }

    #[test]
    fn only_internal_is_500() {
        for code in ErrorCode::ALL {
            assert_eq!(code.http_status() == 500, code == ErrorCode::InternalError, "{code:?}");
        }
    }
}
