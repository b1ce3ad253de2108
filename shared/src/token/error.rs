use crate::error::{AppError, ErrorCode, ErrorDetail};

/// Why a token file could not be read. Each variant maps to one stable error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the file is not a server token")]
    NotAToken,
    #[error("the file is a certificate, not a server token")]
    CertificateNotToken,
    #[error("the token file is malformed: {reason}")]
    Malformed { reason: &'static str },
    #[error("the token is encrypted for another certificate (issuer {issuer}, serial {serial_hex})")]
    WrongRecipient { issuer: String, serial_hex: String },
    #[error("the token could not be decrypted")]
    Undecryptable,
    #[error("unsupported algorithm {name}")]
    UnsupportedAlgorithm { name: String },
    #[error("the decrypted token content is invalid: {reason}")]
    InvalidPayload { reason: String },
}

impl From<TokenError> for AppError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::NotAToken => AppError::new(ErrorCode::NotAToken),
            TokenError::CertificateNotToken => AppError::new(ErrorCode::CertificateNotToken),
            TokenError::Malformed { .. } => AppError::new(ErrorCode::MalformedToken),
            TokenError::WrongRecipient { issuer, serial_hex } => {
                AppError::with_detail(ErrorCode::WrongRecipient, ErrorDetail::Recipient { issuer, serial_hex })
            }
            TokenError::Undecryptable => AppError::new(ErrorCode::Undecryptable),
            TokenError::UnsupportedAlgorithm { name } => {
                AppError::with_detail(ErrorCode::UnsupportedAlgorithm, ErrorDetail::Algorithm { name })
            }
            TokenError::InvalidPayload { .. } => AppError::new(ErrorCode::InvalidPayload),
        }
    }
}
