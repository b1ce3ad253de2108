//! The function's settings, read once at cold start from the environment.
//!
//! | variable | default | sets |
//! |---|---|---|
//! | `DEPTOKEN_TABLE` | required | the DynamoDB table |
//! | `DEPTOKEN_KEYS_KMS_KEY_ID` | required | the KMS key that seals MDM private keys |
//! | `DEPTOKEN_CREDENTIALS_KMS_KEY_ID` | required | the KMS key that seals token credentials |
//! | `DEPTOKEN_KEY_CACHE_TTL_SECONDS` | 300 | how long an opened private key stays cached |
//! | `DEPTOKEN_AWS_ENDPOINT_URL` | AWS | one endpoint URL for DynamoDB, KMS and SNS (an emulator) |
//! | `DEPTOKEN_TOPIC_ARN` | required | the SNS topic whose subscriptions `/v1/subscribers` manages |
//! | `DEPTOKEN_DEP_BASE_URL` | Apple's | the DEP API |
//! | `DEPTOKEN_DEP_TIMEOUT_SECONDS` | 8 | the timeout of one DEP request |
//! | `DEPTOKEN_TIME_ZONE` | `Asia/Tokyo` | the default IANA time zone in which days left are counted |
//! | `DEPTOKEN_NOTIFICATION_LANG` | `ja` | the default notification language that `GET /v1/settings` returns |
//!
//! The first five are read by [`AwsConfig::from_lookup`], the topic by
//! [`deptoken_aws::sns::topic_arn_from_lookup`].

use std::time::Duration;

use chrono_tz::Tz;
use deptoken_aws::AwsConfig;
pub use deptoken_lambda::config::{
    ConfigError, DEP_BASE_URL_VARIABLE, DEP_TIMEOUT_VARIABLE, LANG_VARIABLE, TIME_ZONE_VARIABLE, parse_lang,
};
use deptoken_lambda::config::{lang_setting, time_zone_setting};
use deptoken_shared::Lang;
use deptoken_shared::dep::APPLE_DEP_BASE_URL;
use lambda_http::http::Uri;

/// Timeout of one DEP request when [`DEP_TIMEOUT_VARIABLE`] is unset.
///
/// API Gateway HTTP API ends an integration after 30 s. An upload makes two DEP requests
/// (`/session`, `/account`), and a third and fourth when Apple rejects the session once, so 8 s
/// per request keeps a normal upload under that limit even when Apple is slow.
pub const DEFAULT_DEP_TIMEOUT: Duration = Duration::from_secs(8);

/// Timeout of establishing one TCP and TLS connection to the DEP API.
pub const DEP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The function's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The table, the KMS keys, the key cache and the optional endpoint override.
    pub aws: AwsConfig,
    /// The notification topic, whose subscriptions are the tenants' recipients.
    pub topic_arn: String,
    /// Scheme, host and optional port of the DEP API.
    pub dep_base_url: String,
    pub dep_request_timeout: Duration,
    /// The default time zone in which days left and dates are counted.
    pub time_zone: Tz,
    /// The default notification language.
    pub lang: Lang,
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
        let topic_arn = deptoken_aws::sns::topic_arn_from_lookup(&lookup)?;
        let value_of = |name: &str| lookup(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());

        let dep_base_url = match value_of(DEP_BASE_URL_VARIABLE) {
            Some(url) => dep_base_url(url)?,
            None => APPLE_DEP_BASE_URL.to_owned(),
        };

        let dep_request_timeout = match value_of(DEP_TIMEOUT_VARIABLE) {
            Some(value) => match value.parse::<u64>() {
                Ok(seconds) if seconds > 0 => Duration::from_secs(seconds),
                _ => {
                    return Err(ConfigError::Invalid {
                        variable: DEP_TIMEOUT_VARIABLE,
                        reason: format!("expected a whole number of seconds greater than 0, got {value:?}"),
                    });
                }
            },
            None => DEFAULT_DEP_TIMEOUT,
        };

        let time_zone = time_zone_setting(value_of(TIME_ZONE_VARIABLE))?;

        let lang = lang_setting(value_of(LANG_VARIABLE))?;

        Ok(Self {
            aws,
            topic_arn,
            dep_base_url,
            dep_request_timeout,
            time_zone,
            lang,
        })
    }
}

/// Validates a DEP base URL and removes a trailing slash. It must be `https://host[:port]`, or
/// `http://` to a loopback host only, because DEP requests carry the consumer key, the access
/// token and the session token in their headers.
fn dep_base_url(url: String) -> Result<String, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        variable: DEP_BASE_URL_VARIABLE,
        reason: format!("{reason}, got {url:?}"),
    };

    let uri: Uri = url.parse().map_err(|_| invalid("expected a URL such as https://mdmenrollment.apple.com"))?;
    let host = uri.host().unwrap_or_default();
    let loopback = matches!(host, "localhost" | "[::1]") || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback());
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if loopback => {}
        Some("http") => return Err(invalid("plain http is allowed only to a loopback address; use https")),
        _ => return Err(invalid("expected an https:// URL")),
    }
    if host.is_empty() {
        return Err(invalid("expected a host name"));
    }
    if uri.path_and_query().is_some_and(|path| path.as_str() != "/") {
        return Err(invalid("expected no path or query after the host"));
    }

    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const TABLE: &str = "DEPTOKEN_TABLE";
    const KEYS_KMS_KEY: &str = "DEPTOKEN_KEYS_KMS_KEY_ID";
    const CREDENTIALS_KMS_KEY: &str = "DEPTOKEN_CREDENTIALS_KMS_KEY_ID";
    const TOPIC: &str = "DEPTOKEN_TOPIC_ARN";
    const TOPIC_ARN: &str = "arn:aws:sns:ap-northeast-1:123456789012:deptoken-notifications";

    const REQUIRED: [(&str, &str); 4] = [
        (TABLE, "deptoken"),
        (KEYS_KMS_KEY, "alias/deptoken-keys"),
        (CREDENTIALS_KMS_KEY, "alias/deptoken-credentials"),
        (TOPIC, TOPIC_ARN),
    ];

    /// Parses the required variables plus `extra`, in a map standing in for the environment.
    fn config_of(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = REQUIRED
            .iter()
            .chain(extra)
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    fn invalid_variable(result: Result<Config, ConfigError>) -> Option<&'static str> {
        match result {
            Err(ConfigError::Invalid { variable, .. }) => Some(variable),
            _ => None,
        }
    }

    #[test]
    fn config_required_only_uses_defaults() {
        let config = config_of(&[]).expect("valid configuration");

        assert_eq!(config.aws.table_name, "deptoken");
        assert_eq!(config.aws.keys_kms_key_id, "alias/deptoken-keys");
        assert_eq!(config.aws.credentials_kms_key_id, "alias/deptoken-credentials");
        assert_eq!(config.aws.endpoint_url, None);
        assert_eq!(config.topic_arn, TOPIC_ARN);
        assert_eq!(config.dep_base_url, APPLE_DEP_BASE_URL);
        assert_eq!(config.dep_request_timeout, DEFAULT_DEP_TIMEOUT);
        assert_eq!(config.time_zone, chrono_tz::Asia::Tokyo);
        assert_eq!(config.lang, Lang::Ja);
    }

    #[test]
    fn config_reads_default_language() {
        let english = config_of(&[(LANG_VARIABLE, "en")]).expect("valid configuration");
        let invalid = config_of(&[(LANG_VARIABLE, "fr")]);

        assert_eq!(english.lang, Lang::En);
        assert_eq!(invalid_variable(invalid), Some(LANG_VARIABLE));
    }

    #[test]
    fn config_missing_variable_is_named() {
        for missing in [TABLE, KEYS_KMS_KEY, CREDENTIALS_KMS_KEY, TOPIC] {
            let vars: HashMap<&str, &str> = REQUIRED.iter().copied().filter(|(name, _)| *name != missing).collect();

            let error = Config::from_lookup(|name| vars.get(name).map(|v| v.to_string())).expect_err("missing variable");

            assert_eq!(error, ConfigError::Aws(deptoken_aws::ConfigError::Missing(missing)), "{missing}");
            assert!(error.to_string().contains(missing), "{missing}: {error}");
        }
    }

    #[test]
    fn config_reads_optional_variables() {
        let config = config_of(&[
            (DEP_BASE_URL_VARIABLE, "http://127.0.0.1:8090/"),
            (DEP_TIMEOUT_VARIABLE, "3"),
            (TIME_ZONE_VARIABLE, " Europe/Berlin "),
            ("DEPTOKEN_AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ])
        .expect("valid configuration");

        assert_eq!(config.dep_base_url, "http://127.0.0.1:8090");
        assert_eq!(config.dep_request_timeout, Duration::from_secs(3));
        assert_eq!(config.time_zone, chrono_tz::Europe::Berlin);
        assert_eq!(config.aws.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
    }

    #[test]
    fn config_blank_optional_means_default() {
        let config = config_of(&[(TIME_ZONE_VARIABLE, " "), (DEP_BASE_URL_VARIABLE, "")]).expect("valid configuration");

        assert_eq!(config.time_zone, deptoken_shared::policy::DEFAULT_TIME_ZONE);
        assert_eq!(config.dep_base_url, APPLE_DEP_BASE_URL);
    }

    #[test]
    fn config_accepts_dep_urls() {
        let cases = [
            ("Apple", "https://mdmenrollment.apple.com", "https://mdmenrollment.apple.com"),
            ("https with port", "https://dep.example.com:8443/", "https://dep.example.com:8443"),
            ("loopback IPv4", "http://127.0.0.1:8090", "http://127.0.0.1:8090"),
            ("localhost", "http://localhost:8090", "http://localhost:8090"),
            ("loopback IPv6", "http://[::1]:8090", "http://[::1]:8090"),
        ];

        for (label, url, expected) in cases {
            let config = config_of(&[(DEP_BASE_URL_VARIABLE, url)]);

            assert_eq!(config.map(|c| c.dep_base_url), Ok(expected.to_owned()), "{label}");
        }
    }

    #[test]
    fn config_rejects_invalid_values() {
        let cases = [
            ("plain http to another host", DEP_BASE_URL_VARIABLE, "http://mdmenrollment.apple.com"),
            ("plain http to a private address", DEP_BASE_URL_VARIABLE, "http://10.0.0.8:8090"),
            ("no scheme", DEP_BASE_URL_VARIABLE, "mdmenrollment.apple.com"),
            ("other scheme", DEP_BASE_URL_VARIABLE, "ftp://mdmenrollment.apple.com"),
            ("path", DEP_BASE_URL_VARIABLE, "https://mdmenrollment.apple.com/session"),
            ("query", DEP_BASE_URL_VARIABLE, "https://mdmenrollment.apple.com/?a=b"),
            ("not a URL", DEP_BASE_URL_VARIABLE, "https://exa mple.com"),
            ("zero timeout", DEP_TIMEOUT_VARIABLE, "0"),
            ("timeout with unit", DEP_TIMEOUT_VARIABLE, "8s"),
            ("negative timeout", DEP_TIMEOUT_VARIABLE, "-1"),
            ("unknown time zone", TIME_ZONE_VARIABLE, "Mars/Olympus"),
            ("offset instead of a zone", TIME_ZONE_VARIABLE, "+09:00"),
        ];

        for (label, variable, value) in cases {
            let result = config_of(&[(variable, value)]);

            assert_eq!(invalid_variable(result), Some(variable), "{label}");
        }
    }

    #[test]
    fn config_rejects_queue_as_topic() {
        let result = config_of(&[(TOPIC, "arn:aws:sqs:ap-northeast-1:123456789012:deptoken-dead-letters")]);

        assert!(
            matches!(result, Err(ConfigError::Aws(deptoken_aws::ConfigError::Invalid { variable: TOPIC, .. }))),
            "{result:?}"
        );
    }

    #[test]
    fn config_error_message_names_variable() {
        let error = config_of(&[(TIME_ZONE_VARIABLE, "Mars/Olympus")]).expect_err("invalid time zone");

        assert_eq!(
            error.to_string(),
            "environment variable DEPTOKEN_TIME_ZONE is invalid: expected an IANA time zone name such as Asia/Tokyo, got \"Mars/Olympus\""
        );
    }
}
