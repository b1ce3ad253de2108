//! Identifiers that validate on construction, so that invalid values never reach the
//! use cases or the store keys built from them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorCode, ErrorDetail};

/// Checks an identifier: 1 to `max` characters of ASCII letters, digits, `-`, `_` and `.`,
/// starting with a letter or digit. `#` in particular is excluded because store keys use it
/// as a separator.
fn validate_identifier(value: &str, max: usize) -> bool {
    let first_ok = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    first_ok
        && value.len() <= max
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $max:expr, $field:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Maximum length in bytes.
            pub const MAX_LEN: usize = $max;

            pub fn parse(value: &str) -> Result<Self, AppError> {
                if validate_identifier(value, $max) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(AppError::with_detail(
                        ErrorCode::InvalidRequest,
                        ErrorDetail::InvalidField { field: $field.to_owned() },
                    ))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = AppError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

identifier!(
    /// A tenant (customer organisation of the MDM service). Comes from authenticated claims only.
    TenantId, 128, "tenant_id"
);
identifier!(
    /// The name of a DEP server entry, unique within a tenant, used in URLs.
    ServerName, 64, "name"
);
identifier!(
    /// The id of one MDM key pair of a tenant.
    KeyId, 64, "key_id"
);

/// What the authenticated caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May read everything of the tenant and change nothing.
    Reader,
    /// May create, upload, rotate, check, annotate and delete.
    Admin,
}

/// The authenticated caller: tenant and role, taken from the JWT authorizer's claims on AWS
/// or from the local runner's configuration. Never built from a request body or path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant: TenantId,
    pub role: Role,
    /// The subject (user id or e-mail) recorded as `uploaded_by`.
    pub subject: String,
}

impl Caller {
    /// Returns `forbidden` unless the caller may change data.
    pub fn require_write(&self) -> Result<(), AppError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Reader => Err(AppError::new(ErrorCode::Forbidden)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_name_accepts_plain_names() {
        for name in ["tokyo-office", "a", "MDM_1.main"] {
            assert!(ServerName::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn server_name_rejects_separators_and_empty() {
        for name in ["", "a#b", "-lead", "a/b", "日本", &"x".repeat(65)] {
            assert!(ServerName::parse(name).is_err(), "{name}");
        }
    }
}
