use crate::error::AppError;

use super::Lang;

/// What an error tells the admin: what failed and what to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorText {
    pub message: String,
    pub action: String,
}

/// Renders the message and action of an error in `lang`. Dates are shown in `tz`.
pub fn render_error(error: &AppError, lang: Lang, tz: chrono_tz::Tz) -> ErrorText {
    let _ = (lang, tz);
    ErrorText {
        message: error.code.as_str().to_owned(),
        action: String::new(),
    }
}
