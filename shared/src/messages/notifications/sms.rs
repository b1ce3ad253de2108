//! SMS segment limits (3GPP TS 23.038): a single segment carries 160 characters of the GSM
//! 7-bit default alphabet, or 70 UTF-16 units (UCS-2) as soon as one character is outside it,
//! which every Japanese text is.

/// Characters of one UCS-2 segment.
pub const SMS_UCS2_UNITS: usize = 70;

/// Septets of one GSM 7-bit segment.
pub const SMS_GSM7_SEPTETS: usize = 160;

/// The GSM 7-bit default alphabet: one septet each.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: an escape septet plus one, so two septets each.
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// Counts the septets `text` needs in the GSM 7-bit alphabet, or `None` when a character is
/// outside it and the text must be sent as UCS-2.
pub(crate) fn gsm7_septets(text: &str) -> Option<usize> {
    text.chars().try_fold(0, |septets, c| {
        if GSM7_BASIC.contains(c) {
            Some(septets + 1)
        } else if GSM7_EXTENSION.contains(c) {
            Some(septets + 2)
        } else {
            None
        }
    })
}

/// Returns whether `text` fits one SMS segment in the encoding it needs.
pub fn sms_fits(text: &str) -> bool {
    match gsm7_septets(text) {
        Some(septets) => septets <= SMS_GSM7_SEPTETS,
        None => text.encode_utf16().count() <= SMS_UCS2_UNITS,
    }
}

/// Renders `template` with `name`, shortening the name and ending it with `ellipsis` until the
/// text fits one segment. The templates are written so that they fit with an empty name.
pub(crate) fn fit(name: &str, ellipsis: &str, template: impl Fn(&str) -> String) -> String {
    let full = template(name);
    if sms_fits(&full) {
        return full;
    }

    let chars: Vec<char> = name.chars().collect();
    for keep in (0..chars.len()).rev() {
        let mut short: String = chars[..keep].iter().collect();
        short.push_str(ellipsis);
        let text = template(&short);
        if sms_fits(&text) {
            return text;
        }
    }
    template("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_encoding_cases() {
        let cases = [
            ("plain ASCII", "Renew the token", Some(15)),
            ("extension characters", "a{b}€", Some(8)),
            ("Japanese", "更新", None),
            ("ellipsis character", "a…", None),
        ];

        for (label, text, expected) in cases {
            assert_eq!(gsm7_septets(text), expected, "{label}");
        }
    }

    #[test]
    fn sms_fits_limits() {
        let cases = [
            ("160 GSM characters", "a".repeat(160), true),
            ("161 GSM characters", "a".repeat(161), false),
            ("70 Japanese characters", "あ".repeat(70), true),
            ("71 Japanese characters", "あ".repeat(71), false),
            ("emoji counts two units", format!("{}😀", "あ".repeat(69)), false),
        ];

        for (label, text, expected) in cases {
            assert_eq!(sms_fits(&text), expected, "{label}");
        }
    }

    #[test]
    fn fit_shortens_long_name() {
        let name = "とても長い表示名".repeat(10);

        let text = fit(&name, "…", |name| format!("【通知】{name}の有効期限まで残り 3 日です。"));

        assert!(sms_fits(&text), "{text}");
        assert!(text.contains("…の有効期限"), "{text}");
    }
}
