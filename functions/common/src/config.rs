//! Names and parsers of the environment variables that more than one function reads. Each
//! function reads the ones it needs in its own `config` module, with its own defaults: the DEP
//! timeout, for example, defaults to 8 s in token-upload and to 10 s in expiry-sweep.

use deptoken_shared::Lang;

/// Base URL of the DEP API: `https://` (or `http://` to a loopback address, for the simulator).
pub const DEP_BASE_URL_VARIABLE: &str = "DEPTOKEN_DEP_BASE_URL";
/// Timeout of one DEP API request, in whole seconds.
pub const DEP_TIMEOUT_VARIABLE: &str = "DEPTOKEN_DEP_TIMEOUT_SECONDS";
/// IANA time zone in which days left are counted, for tenants without settings of their own.
pub const TIME_ZONE_VARIABLE: &str = "DEPTOKEN_TIME_ZONE";
/// Language of notification texts, `ja` or `en`, for tenants without settings of their own.
pub const LANG_VARIABLE: &str = "DEPTOKEN_NOTIFICATION_LANG";

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
