//! The notifier function's settings, read once at cold start from the environment.
//!
//! | variable | default | sets |
//! |---|---|---|
//! | `DEPTOKEN_TABLE`, `DEPTOKEN_KEYS_KMS_KEY_ID`, `DEPTOKEN_CREDENTIALS_KMS_KEY_ID` | required | the table (the keys are required by [`AwsConfig::from_lookup`] but unused here) |
//! | `DEPTOKEN_TOPIC_ARN` | required | the SNS topic the notifications go to |
//! | `DEPTOKEN_TIME_ZONE` | `Asia/Tokyo` | the default IANA time zone of dates and days left in the texts |
//! | `DEPTOKEN_NOTIFICATION_LANG` | `ja` | the default language of the texts: `ja` or `en` |
//!
//! The time zone and the language are the defaults for tenants without settings of their own.
//! | `DEPTOKEN_PORTAL_URL` | none | the admin portal's address, linked from e-mails |

use chrono_tz::Tz;
use deptoken_aws::AwsConfig;
pub use deptoken_lambda::config::LANG_VARIABLE;
pub use deptoken_lambda::config::ConfigError;
use deptoken_lambda::config::{TIME_ZONE_VARIABLE, lang_setting, time_zone_setting};
use deptoken_shared::Lang;

/// The admin portal's address, linked from e-mail bodies.
pub const PORTAL_URL_VARIABLE: &str = "DEPTOKEN_PORTAL_URL";

/// The notifier function's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The table, the KMS keys and the optional endpoint override.
    pub aws: AwsConfig,
    pub topic_arn: String,
    /// The default time zone of dates and days left in the texts.
    pub time_zone: Tz,
    /// The default language of the texts.
    pub lang: Lang,
    pub portal_url: Option<String>,
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

        let time_zone = time_zone_setting(value_of(TIME_ZONE_VARIABLE))?;

        let lang = lang_setting(value_of(LANG_VARIABLE))?;

        let portal_url = value_of(PORTAL_URL_VARIABLE);
        if let Some(url) = &portal_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(ConfigError::Invalid {
                variable: PORTAL_URL_VARIABLE,
                reason: format!("expected an https:// (or http://) URL, got {url:?}"),
            });
        }

        Ok(Self {
            aws,
            topic_arn,
            time_zone,
            lang,
            portal_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const TOPIC: &str = "arn:aws:sns:ap-northeast-1:123456789012:deptoken-notifications";

    const REQUIRED: [(&str, &str); 4] = [
        ("DEPTOKEN_TABLE", "deptoken"),
        ("DEPTOKEN_KEYS_KMS_KEY_ID", "alias/deptoken-keys"),
        ("DEPTOKEN_CREDENTIALS_KMS_KEY_ID", "alias/deptoken-credentials"),
        ("DEPTOKEN_TOPIC_ARN", TOPIC),
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
        assert_eq!(config.topic_arn, TOPIC);
        assert_eq!(config.time_zone, chrono_tz::Asia::Tokyo);
        assert_eq!(config.lang, Lang::Ja);
        assert_eq!(config.portal_url, None);
    }

    #[test]
    fn config_reads_optional_variables() {
        let config = config_of(&[
            (LANG_VARIABLE, "en"),
            (PORTAL_URL_VARIABLE, " https://portal.example.com/dep "),
            (TIME_ZONE_VARIABLE, "America/New_York"),
        ])
        .expect("valid configuration");

        assert_eq!(config.lang, Lang::En);
        assert_eq!(config.time_zone, chrono_tz::America::New_York);
        assert_eq!(config.portal_url.as_deref(), Some("https://portal.example.com/dep"));
    }

    #[test]
    fn config_rejects_invalid_values() {
        let cases = [
            ("unknown language", LANG_VARIABLE, "fr"),
            ("language in capitals", LANG_VARIABLE, "JA"),
            ("portal without scheme", PORTAL_URL_VARIABLE, "portal.example.com"),
            ("unknown time zone", TIME_ZONE_VARIABLE, "Mars/Olympus"),
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
    fn config_requires_topic() {
        let vars: HashMap<&str, &str> = REQUIRED.iter().copied().filter(|(name, _)| *name != "DEPTOKEN_TOPIC_ARN").collect();

        let error = Config::from_lookup(|name| vars.get(name).map(|v| v.to_string())).expect_err("topic missing");

        assert!(error.to_string().contains("DEPTOKEN_TOPIC_ARN"), "{error}");
    }
}
