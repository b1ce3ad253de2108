//! The function's settings, read once at cold start from the environment.

use std::path::PathBuf;
use std::time::Duration;

use chrono_tz::Tz;
use deptoken_shared::dep::APPLE_DEP_BASE_URL;
use deptoken_shared::policy::DEFAULT_TIME_ZONE;

/// Selects the adapters. Only `embedded` exists so far.
pub const STORE_VARIABLE: &str = "DEPTOKEN_STORE";
/// Folder of the embedded store, master key and outbox (Lambda can write only under `/tmp`).
pub const DATA_DIR_VARIABLE: &str = "DEPTOKEN_DATA_DIR";
/// Base URL of the DEP API; Apple's production URL when unset.
pub const DEP_URL_VARIABLE: &str = "DEPTOKEN_DEP_URL";
/// IANA time zone in which days left are counted; `Asia/Tokyo` when unset.
pub const TIME_ZONE_VARIABLE: &str = "DEPTOKEN_TIME_ZONE";
/// Timeout of one DEP API request, in seconds; 30 when unset.
pub const DEP_TIMEOUT_VARIABLE: &str = "DEPTOKEN_DEP_TIMEOUT_SECONDS";

/// A configuration error. Each message names the variable to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable {name}: {hint}")]
    Missing { name: &'static str, hint: &'static str },
    #[error("invalid environment variable {name}={value:?}: {hint}")]
    Invalid {
        name: &'static str,
        value: String,
        hint: &'static str,
    },
}

/// The adapters the function runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreBackend {
    /// The embedded SQLite store, local key file and outbox under `data_dir`. A placeholder
    /// for trying the function: its data lives only as long as the execution environment.
    // TODO: add the DynamoDB, KMS and SNS adapters as the production back end.
    Embedded { data_dir: PathBuf },
}

/// The function's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub store: StoreBackend,
    pub dep_base_url: String,
    pub dep_request_timeout: Duration,
    pub time_zone: Tz,
}

impl Config {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, which returns a variable's value or `None`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let store = match lookup(STORE_VARIABLE).as_deref() {
            Some("embedded") => StoreBackend::Embedded {
                data_dir: lookup(DATA_DIR_VARIABLE)
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("/tmp/deptoken")),
            },
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: STORE_VARIABLE,
                    value: other.to_owned(),
                    hint: "the only supported value is `embedded`",
                });
            }
            None => {
                return Err(ConfigError::Missing {
                    name: STORE_VARIABLE,
                    hint: "set it to `embedded` (SQLite under DEPTOKEN_DATA_DIR, default /tmp/deptoken)",
                });
            }
        };

        let time_zone = match lookup(TIME_ZONE_VARIABLE) {
            Some(value) => value.parse::<Tz>().map_err(|_| ConfigError::Invalid {
                name: TIME_ZONE_VARIABLE,
                value,
                hint: "expected an IANA time zone name such as Asia/Tokyo",
            })?,
            None => DEFAULT_TIME_ZONE,
        };

        let dep_request_timeout = match lookup(DEP_TIMEOUT_VARIABLE) {
            Some(value) => match value.parse::<u64>() {
                Ok(seconds) if seconds > 0 => Duration::from_secs(seconds),
                _ => {
                    return Err(ConfigError::Invalid {
                        name: DEP_TIMEOUT_VARIABLE,
                        value,
                        hint: "expected a whole number of seconds greater than 0",
                    });
                }
            },
            None => Duration::from_secs(30),
        };

        Ok(Self {
            store,
            dep_base_url: lookup(DEP_URL_VARIABLE).unwrap_or_else(|| APPLE_DEP_BASE_URL.to_owned()),
            dep_request_timeout,
            time_zone,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config_of(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn config_without_store_names_variable() {
        let error = config_of(&[]).unwrap_err();

        assert!(error.to_string().contains(STORE_VARIABLE), "{error}");
    }

    #[test]
    fn config_unknown_store_is_invalid() {
        let error = config_of(&[(STORE_VARIABLE, "dynamodb")]).unwrap_err();

        assert!(matches!(error, ConfigError::Invalid { name: STORE_VARIABLE, .. }), "{error}");
    }

    #[test]
    fn config_embedded_defaults() {
        let config = config_of(&[(STORE_VARIABLE, "embedded")]).unwrap();

        assert_eq!(config.store, StoreBackend::Embedded { data_dir: PathBuf::from("/tmp/deptoken") });
        assert_eq!(config.dep_base_url, APPLE_DEP_BASE_URL);
        assert_eq!(config.time_zone, DEFAULT_TIME_ZONE);
    }

    #[test]
    fn config_bad_time_zone_names_variable() {
        let error = config_of(&[(STORE_VARIABLE, "embedded"), (TIME_ZONE_VARIABLE, "Mars/Olympus")]).unwrap_err();

        assert!(error.to_string().contains(TIME_ZONE_VARIABLE), "{error}");
    }

    #[test]
    fn config_zero_timeout_is_invalid() {
        let error = config_of(&[(STORE_VARIABLE, "embedded"), (DEP_TIMEOUT_VARIABLE, "0")]).unwrap_err();

        assert!(error.to_string().contains(DEP_TIMEOUT_VARIABLE), "{error}");
    }
}
