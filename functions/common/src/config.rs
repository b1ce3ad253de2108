//! Names and parsers of the environment variables that more than one function reads. Each
//! function reads the ones it needs in its own `config` module, with its own defaults: the DEP
//! timeout, for example, defaults to 8 s in token-upload and to 10 s in expiry-sweep.

use chrono_tz::Tz;
use deptoken_shared::Lang;
use deptoken_shared::policy::DEFAULT_TIME_ZONE;

/// Base URL of the DEP API: `https://` (or `http://` to a loopback address, for the simulator).
pub const DEP_BASE_URL_VARIABLE: &str = "DEPTOKEN_DEP_BASE_URL";
/// Timeout of one DEP API request, in whole seconds.
pub const DEP_TIMEOUT_VARIABLE: &str = "DEPTOKEN_DEP_TIMEOUT_SECONDS";
/// IANA time zone in which days left are counted, for tenants without settings of their own.
pub const TIME_ZONE_VARIABLE: &str = "DEPTOKEN_TIME_ZONE";
/// Language of notification texts, `ja` or `en`, for tenants without settings of their own.
pub const LANG_VARIABLE: &str = "DEPTOKEN_NOTIFICATION_LANG";

/// A missing or invalid environment variable. Each message names the variable to fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(transparent)]
    Aws(#[from] deptoken_aws::ConfigError),
    #[error("environment variable {variable} is invalid: {reason}")]
    Invalid { variable: &'static str, reason: String },
}

/// Reads the trimmed value of [`TIME_ZONE_VARIABLE`]: [`DEFAULT_TIME_ZONE`] when unset.
pub fn time_zone_setting(value: Option<String>) -> Result<Tz, ConfigError> {
    match value {
        None => Ok(DEFAULT_TIME_ZONE),
        Some(value) => value.parse::<Tz>().map_err(|_| ConfigError::Invalid {
            variable: TIME_ZONE_VARIABLE,
            reason: format!("expected an IANA time zone name such as Asia/Tokyo, got {value:?}"),
        }),
    }
}

/// Reads the trimmed value of [`LANG_VARIABLE`]: Japanese when unset.
pub fn lang_setting(value: Option<String>) -> Result<Lang, ConfigError> {
    match value {
        None => Ok(Lang::Ja),
        Some(value) => parse_lang(&value).ok_or_else(|| ConfigError::Invalid {
            variable: LANG_VARIABLE,
            reason: format!("expected ja or en, got {value:?}"),
        }),
    }
}

/// Parses the value of [`LANG_VARIABLE`]: `ja` or `en`, nothing else.
pub fn parse_lang(value: &str) -> Option<Lang> {
    match value {
        "ja" => Some(Lang::Ja),
        "en" => Some(Lang::En),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_lang_accepts_ja_and_en() {
        assert_eq!(parse_lang("ja"), Some(Lang::Ja));
        assert_eq!(parse_lang("en"), Some(Lang::En));
    }

    #[test]
    fn parse_lang_rejects_other_values() {
        for value in ["", "JA", "En", "fr", " ja", "ja-JP"] {
            assert_eq!(parse_lang(value), None, "{value:?}");
        }
    }
}
