//! Choosing which of a tenant's keys a token was encrypted for.

use super::certificate::recipient_of_certificate;
use crate::domain::KeyId;
use crate::token::{RecipientId, TokenError};

/// Returns the first candidate `(key id, certificate PEM)` whose certificate's issuer and
/// serial match one of the token's `recipients`, with that recipient.
///
/// Candidates are tried in the order given, so the caller puts the preferred key first.
/// A candidate whose certificate cannot be read is skipped with a warning. Without a match
/// the error names the token's first recipient; a token with no usable recipient gives a
/// `WrongRecipient` with an empty issuer and serial.
pub fn match_recipient<'a, I>(
    recipients: &[RecipientId],
    candidates: I,
) -> Result<(KeyId, RecipientId), TokenError>
where
    I: IntoIterator<Item = (&'a KeyId, &'a str)>,
{
    for (key_id, certificate_pem) in candidates {
        let certificate_recipient = match recipient_of_certificate(certificate_pem.as_bytes()) {
            Ok(recipient) => recipient,
            Err(error) => {
                tracing::warn!(key_id = %key_id, %error, "skipping a key whose certificate cannot be read");
                continue;
            }
        };
        if let Some(recipient) = recipients
            .iter()
            .find(|recipient| **recipient == certificate_recipient)
        {
            return Ok((key_id.clone(), recipient.clone()));
        }
    }

    Err(match recipients.first() {
        Some(recipient) => recipient.wrong_recipient_error(),
        // NOTE: a token whose recipients are all identified by subject key identifier, or are
        // not key transport recipients, has no issuer and serial to name.
        None => TokenError::WrongRecipient {
            issuer: String::new(),
            serial_hex: String::new(),
        },
    })
}
