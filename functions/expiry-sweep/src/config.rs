//! The sweep function's settings, read once at cold start from the environment.
//!
//! | variable | default | sets |
//! |---|---|---|
//! | `DEPTOKEN_TABLE`, `DEPTOKEN_KEYS_KMS_KEY_ID`, `DEPTOKEN_CREDENTIALS_KMS_KEY_ID` | required | the table and the KMS keys, read by [`AwsConfig::from_lookup`] with its optional variables |
//! | `DEPTOKEN_DEP_BASE_URL` | Apple's | the DEP API |
//! | `DEPTOKEN_DEP_TIMEOUT_SECONDS` | 10 | the timeout of one DEP request |
//! | `DEPTOKEN_TIME_ZONE` | `Asia/Tokyo` | the IANA time zone in which days left are counted |
//! | `DEPTOKEN_SWEEP_CHECK_APPLE` | `true` | whether every unexpired token is checked with Apple |
//! | `DEPTOKEN_SWEEP_CONCURRENCY` | 8 | entries processed at once, which bounds the Apple checks in flight |
//! | `DEPTOKEN_METRICS_NAMESPACE` | `deptoken` | the CloudWatch namespace of the sweep's metrics |

use std::time::Duration;

use chrono_tz::Tz;
use deptoken_aws::AwsConfig;
pub use deptoken_lambda::config::ConfigError;
use deptoken_lambda::config::{DEP_BASE_URL_VARIABLE, DEP_TIMEOUT_VARIABLE, TIME_ZONE_VARIABLE, time_zone_setting};
use deptoken_shared::dep::APPLE_DEP_BASE_URL;
use deptoken_shared::usecases::{RetryPolicy, SweepOptions};

use crate::metrics::DEFAULT_NAMESPACE;

/// Whether the sweep checks every unexpired token with Apple: `true` or `false`.
pub const CHECK_APPLE_VARIABLE: &str = "DEPTOKEN_SWEEP_CHECK_APPLE";
/// Entries processed at once, 1 to [`MAX_CONCURRENCY`].
pub const CONCURRENCY_VARIABLE: &str = "DEPTOKEN_SWEEP_CONCURRENCY";
/// The CloudWatch namespace of the embedded metric format lines.
pub const METRICS_NAMESPACE_VARIABLE: &str = "DEPTOKEN_METRICS_NAMESPACE";

/// The upper limit of [`CONCURRENCY_VARIABLE`]. Each entry in flight may hold a DEP session,
/// and Apple rate-limits a busy client with 429.
pub const MAX_CONCURRENCY: usize = 64;

/// Timeout of one DEP request when [`DEP_TIMEOUT_VARIABLE`] is unset. The sweep retries a
/// request that timed out, so one request need not wait long.
pub const DEFAULT_DEP_TIMEOUT: Duration = Duration::from_secs(10);

/// The sweep function's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The table, the KMS keys and the optional endpoint override.
    pub aws: AwsConfig,
    /// Scheme, host and optional port of the DEP API.
    pub dep_base_url: String,
    pub dep_request_timeout: Duration,
    /// The time zone in which days left are counted.
    pub time_zone: Tz,
    pub options: SweepOptions,
    pub metrics_namespace: String,
}

impl Config {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, which returns a variable's value or `None`. An
    /// empty or blank value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let aws = AwsConfig::from_lookup(&lookup)?;
        let value_of = |name: &str| lookup(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        let invalid = |variable: &'static str, reason: String| ConfigError::Invalid { variable, reason };

        let dep_base_url = match value_of(DEP_BASE_URL_VARIABLE) {
            Some(url) => dep_base_url(&url).ok_or_else(|| {
                invalid(
                    DEP_BASE_URL_VARIABLE,
                    format!("expected https://host[:port], or http:// to a loopback address, with no path, got {url:?}"),
                )
            })?,
            None => APPLE_DEP_BASE_URL.to_owned(),
        };

        let dep_request_timeout = match value_of(DEP_TIMEOUT_VARIABLE) {
            None => DEFAULT_DEP_TIMEOUT,
            Some(value) => match value.parse::<u64>() {
                Ok(seconds) if seconds > 0 => Duration::from_secs(seconds),
                _ => {
                    return Err(invalid(
                        DEP_TIMEOUT_VARIABLE,
                        format!("expected a whole number of seconds greater than 0, got {value:?}"),
                    ));
                }
            },
        };

        let time_zone = time_zone_setting(value_of(TIME_ZONE_VARIABLE))?;

        let check_apple = match value_of(CHECK_APPLE_VARIABLE).as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => return Err(invalid(CHECK_APPLE_VARIABLE, format!("expected true or false, got {other:?}"))),
        };

        let concurrency = match value_of(CONCURRENCY_VARIABLE) {
            None => SweepOptions::default().concurrency,
            Some(value) => match value.parse::<usize>() {
                Ok(count) if (1..=MAX_CONCURRENCY).contains(&count) => count,
                _ => {
                    return Err(invalid(
                        CONCURRENCY_VARIABLE,
                        format!("expected a whole number from 1 to {MAX_CONCURRENCY}, got {value:?}"),
                    ));
                }
            },
        };

        let metrics_namespace = value_of(METRICS_NAMESPACE_VARIABLE).unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());

        Ok(Self {
            aws,
            dep_base_url,
            dep_request_timeout,
            time_zone,
            options: SweepOptions {
                check_apple,
                concurrency,
                retry: RetryPolicy::default(),
                // Set per invocation from Lambda's deadline.
                apple_deadline: None,
            },
            metrics_namespace,
        })
    }
}

/// Returns the DEP base URL without a trailing slash when it is `https://host[:port]`, or
/// `http://` to a loopback host (the simulator). DEP requests carry the token's credentials
/// and session token in their headers, so plain http to any other host is rejected.
// NOTE: the token-upload function applies the same rule to the same variable in its own
// configuration; a change here belongs there too.
fn dep_base_url(url: &str) -> Option<String> {
    let trimmed = url.trim_end_matches('/');
    let (scheme, authority) = trimmed.split_once("://")?;
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }

    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map(|(inside, _)| format!("[{inside}]"))?,
        None => authority.split(':').next().unwrap_or_default().to_owned(),
    };
    let loopback = host == "localhost" || host == "[::1]" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback());
    match scheme {
        "https" => Some(trimmed.to_owned()),
        "http" if loopback => Some(trimmed.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const REQUIRED: [(&str, &str); 3] = [
        ("DEPTOKEN_TABLE", "deptoken"),
        ("DEPTOKEN_KEYS_KMS_KEY_ID", "alias/deptoken-keys"),
        ("DEPTOKEN_CREDENTIALS_KMS_KEY_ID", "alias/deptoken-credentials"),
    ];

    fn config_of(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = REQUIRED
            .iter()
            .chain(extra)
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn config_required_only_uses_defaults() {
        let config = config_of(&[]).expect("valid configuration");

        assert_eq!(config.aws.table_name, "deptoken");
        assert_eq!(config.dep_base_url, APPLE_DEP_BASE_URL);
        assert_eq!(config.dep_request_timeout, DEFAULT_DEP_TIMEOUT);
        assert_eq!(config.time_zone, chrono_tz::Asia::Tokyo);
        assert!(config.options.check_apple);
        assert_eq!(config.options.concurrency, 8);
        assert_eq!(config.metrics_namespace, "deptoken");
    }

    #[test]
    fn config_reads_optional_variables() {
        let config = config_of(&[
            (DEP_BASE_URL_VARIABLE, "http://127.0.0.1:8090/"),
            (DEP_TIMEOUT_VARIABLE, "3"),
            (TIME_ZONE_VARIABLE, "Europe/Berlin"),
            (CHECK_APPLE_VARIABLE, "false"),
            (CONCURRENCY_VARIABLE, " 16 "),
            (METRICS_NAMESPACE_VARIABLE, "deptoken/production"),
        ])
        .expect("valid configuration");

        assert_eq!(config.dep_base_url, "http://127.0.0.1:8090");
        assert_eq!(config.dep_request_timeout, Duration::from_secs(3));
        assert_eq!(config.time_zone, chrono_tz::Europe::Berlin);
        assert!(!config.options.check_apple);
        assert_eq!(config.options.concurrency, 16);
        assert_eq!(config.metrics_namespace, "deptoken/production");
    }

    #[test]
    fn dep_base_url_cases() {
        let cases = [
            ("Apple", "https://mdmenrollment.apple.com", Some("https://mdmenrollment.apple.com")),
            ("https with port", "https://dep.example.com:8443/", Some("https://dep.example.com:8443")),
            ("loopback IPv4", "http://127.0.0.1:8090", Some("http://127.0.0.1:8090")),
            ("localhost", "http://localhost:8090", Some("http://localhost:8090")),
            ("loopback IPv6", "http://[::1]:8090", Some("http://[::1]:8090")),
            ("plain http to another host", "http://mdmenrollment.apple.com", None),
            ("plain http to a private address", "http://10.0.0.8:8090", None),
            ("no scheme", "mdmenrollment.apple.com", None),
            ("other scheme", "ftp://mdmenrollment.apple.com", None),
            ("path", "https://mdmenrollment.apple.com/session", None),
            ("query", "https://mdmenrollment.apple.com?a=b", None),
            ("user info", "https://user@mdmenrollment.apple.com", None),
        ];

        for (label, url, expected) in cases {
            assert_eq!(dep_base_url(url).as_deref(), expected, "{label}");
        }
    }

    #[test]
    fn config_rejects_invalid_values() {
        let cases = [
            ("plain http to another host", DEP_BASE_URL_VARIABLE, "http://dep.example.com"),
            ("zero timeout", DEP_TIMEOUT_VARIABLE, "0"),
            ("unknown time zone", TIME_ZONE_VARIABLE, "Mars/Olympus"),
            ("check not a boolean", CHECK_APPLE_VARIABLE, "yes"),
            ("check in capitals", CHECK_APPLE_VARIABLE, "TRUE"),
            ("zero concurrency", CONCURRENCY_VARIABLE, "0"),
            ("concurrency over the limit", CONCURRENCY_VARIABLE, "65"),
            ("concurrency not a number", CONCURRENCY_VARIABLE, "eight"),
        ];

        for (label, variable, value) in cases {
            let result = config_of(&[(variable, value)]);

            assert!(
                matches!(&result, Err(ConfigError::Invalid { variable: named, .. }) if *named == variable),
                "{label}: {result:?}"
            );
        }
    }

    #[test]
    fn config_names_missing_table() {
        let error = Config::from_lookup(|_| None).expect_err("nothing set");

        assert!(error.to_string().contains("DEPTOKEN_TABLE"), "{error}");
    }
}
