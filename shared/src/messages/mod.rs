//! User-facing texts in Japanese and English: error messages with the action to take.
//! One catalogue serves the API, the command-line program and the admin portal.

mod errors;
mod notifications;
mod portal;

pub use errors::{ErrorText, format_instant, render_error};
pub use notifications::{
    NotificationFacts, NotificationText, SMS_GSM7_SEPTETS, SMS_UCS2_UNITS, render_notification, sms_fits,
};
pub use portal::{PortalCatalogue, StatusText, TOKEN_STATUSES, UI_TEXTS, portal_catalogue, status_text};

/// The language of user-facing text. Japanese unless the caller prefers English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    /// Picks the language from an `Accept-Language` header value: the first of `ja` and `en`
    /// with the highest q-value; Japanese when neither appears or the header is absent.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::Ja;
        };

        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("ja") => Lang::Ja,
                Some("en") => Lang::En,
                _ => continue,
            };
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang).unwrap_or(Lang::Ja)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_cases() {
        let cases = [
            ("absent", None, Lang::Ja),
            ("english", Some("en-US,en;q=0.9"), Lang::En),
            ("japanese first", Some("ja,en;q=0.8"), Lang::Ja),
            ("english preferred by q", Some("ja;q=0.5,en;q=0.9"), Lang::En),
            ("unknown only", Some("fr-FR,de"), Lang::Ja),
            ("english refused", Some("en;q=0"), Lang::Ja),
            ("wildcard", Some("*"), Lang::Ja),
        ];

        for (label, header, expected) in cases {
            assert_eq!(Lang::from_accept_language(header), expected, "{label}");
        }
    }
}
