//! Classification of Apple's error responses into [`DepError`].
//!
//! Apple's error bodies are short plain-text codes, sometimes with more text around them, so
//! they are matched with "contains". Several codes contain others (`token_rejectedForbidden`
//! contains `Forbidden`, and a body could carry `FORBIDDEN` next to a more specific code), so
//! the specific codes are checked before the generic `FORBIDDEN`.

use super::DepError;

/// The 403 body codes in the order they are checked, with their meaning. Matching is
/// case-sensitive: `FORBIDDEN` does not match the `Forbidden` suffix of the token codes.
const FORBIDDEN_CODES: [(&str, DepError); 7] = [
    ("token_expiredForbidden", DepError::TokenExpired),
    ("token_rejectedForbidden", DepError::TokenRejected),
    ("signature_invalid", DepError::TokenSuperseded),
    ("T_C_NOT_SIGNED", DepError::TermsNotAccepted),
    ("SERVER_INACTIVE", DepError::ServerInactive),
    ("ACCESS_DENIED", DepError::AccessDenied),
    ("FORBIDDEN", DepError::AccountInvalid),
];

/// Classifies an error response of the DEP API from its status, its plain-text body and its
/// `Retry-After` header. The returned error names the status but never repeats the body.
///
/// A status Apple does not use for errors (2xx, 3xx, an unexpected 4xx) and a 403 with an
/// unknown body are [`DepError::Protocol`].
pub fn classify(status: u16, body: &str, retry_after: Option<&str>) -> DepError {
    match status {
        400 => classify_bad_request(body),
        401 => DepError::TokenRejected,
        403 => classify_forbidden(body),
        429 => DepError::RateLimited {
            retry_after: retry_after.and_then(parse_retry_after),
        },
        500..=599 => DepError::Unavailable {
            reason: format!("Apple responded with HTTP {status}"),
        },
        _ => DepError::Protocol {
            reason: format!("unexpected HTTP {status} from the DEP API"),
        },
    }
}

fn classify_bad_request(body: &str) -> DepError {
    let reason = if body.contains("USER_AGENT_MISSING") || body.contains("USER_AGENT_INVALID") {
        "HTTP 400: Apple rejected the User-Agent"
    } else if body.contains("oauth") {
        "HTTP 400: Apple rejected the OAuth parameters"
    } else {
        "HTTP 400: Apple rejected the request"
    };

    DepError::Protocol { reason: reason.to_owned() }
}

fn classify_forbidden(body: &str) -> DepError {
    FORBIDDEN_CODES
        .iter()
        .find(|(code, _)| body.contains(code))
        .map(|(_, error)| error.clone())
        .unwrap_or_else(|| DepError::Protocol {
            reason: "HTTP 403 with an unknown error code".to_owned(),
        })
}

/// Reads a `Retry-After` value in delta-seconds. An HTTP-date is not used by Apple and
/// yields `None`, as does anything unparsable.
fn parse_retry_after(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_protocol(error: &DepError) -> bool {
        matches!(error, DepError::Protocol { .. })
    }

    fn is_unavailable(error: &DepError) -> bool {
        matches!(error, DepError::Unavailable { .. })
    }

    #[test]
    fn classify_maps_every_documented_response() {
        let cases: [(&str, u16, &str, Option<&str>, DepError); 16] = [
            ("401 unauthorized", 401, "UNAUTHORIZED", None, DepError::TokenRejected),
            ("401 token_rejected", 401, "token_rejected", None, DepError::TokenRejected),
            ("401 empty body", 401, "", None, DepError::TokenRejected),
            ("403 expired", 403, "token_expiredForbidden", None, DepError::TokenExpired),
            ("403 revoked", 403, "token_rejectedForbidden", None, DepError::TokenRejected),
            ("403 superseded", 403, "signature_invalid", None, DepError::TokenSuperseded),
            ("403 account deleted", 403, "FORBIDDEN", None, DepError::AccountInvalid),
            ("403 account deleted with newline", 403, "FORBIDDEN\n", None, DepError::AccountInvalid),
            ("403 access denied", 403, "ACCESS_DENIED", None, DepError::AccessDenied),
            ("403 terms", 403, "T_C_NOT_SIGNED", None, DepError::TermsNotAccepted),
            ("403 server removed", 403, "SERVER_INACTIVE", None, DepError::ServerInactive),
            (
                "403 code inside text",
                403,
                "{\"code\":\"T_C_NOT_SIGNED\",\"message\":\"FORBIDDEN\"}",
                None,
                DepError::TermsNotAccepted,
            ),
            ("429 with seconds", 429, "TOO_MANY_REQUESTS", Some("1"), DepError::RateLimited { retry_after: Some(1) }),
            ("429 padded seconds", 429, "TOO_MANY_REQUESTS", Some(" 120 "), DepError::RateLimited { retry_after: Some(120) }),
            ("429 without header", 429, "TOO_MANY_REQUESTS", None, DepError::RateLimited { retry_after: None }),
            (
                "429 with http date",
                429,
                "TOO_MANY_REQUESTS",
                Some("Wed, 21 Oct 2026 07:28:00 GMT"),
                DepError::RateLimited { retry_after: None },
            ),
        ];

        for (label, status, body, retry_after, expected) in cases {
            assert_eq!(classify(status, body, retry_after), expected, "{label}");
        }
    }

    #[test]
    fn classify_bad_requests_are_protocol_errors() {
        let cases = [
            ("oauth problem", "oauth_problem_advice=signature_method"),
            ("user agent missing", "USER_AGENT_MISSING"),
            ("user agent invalid", "USER_AGENT_INVALID"),
            ("unknown", "BAD_REQUEST"),
        ];

        for (label, body) in cases {
            assert!(is_protocol(&classify(400, body, None)), "{label}");
        }
    }

    #[test]
    fn classify_server_errors_are_unavailable() {
        for status in [500, 502, 503, 504] {
            assert!(is_unavailable(&classify(status, "", None)), "HTTP {status}");
        }
    }

    #[test]
    fn classify_unexpected_responses_are_protocol_errors() {
        let cases = [
            ("403 unknown code", 403, "SOMETHING_NEW"),
            ("403 lower-case forbidden", 403, "Forbidden"),
            ("404", 404, "NOT_FOUND"),
            ("200", 200, "{}"),
            ("302", 302, ""),
        ];

        for (label, status, body) in cases {
            assert!(is_protocol(&classify(status, body, None)), "{label}");
        }
    }

    #[test]
    fn classify_error_omits_body() {
        let error = classify(400, "oauth_problem_advice=CK_secret", None);

        let printed = format!("{error} {error:?}");

        assert!(!printed.contains("CK_secret"));
    }
}
