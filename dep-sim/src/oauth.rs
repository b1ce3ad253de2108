//! Verification of OAuth 1.0a HMAC-SHA1 signed requests (RFC 5849), as Apple's `GET /session`
//! does it.
//!
//! NOTE: this is written apart from the client's signing code in `deptoken-shared` on
//! purpose, so that a mistake in one of them makes the simulator reject the client's
//! requests instead of agreeing with it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit as _, Mac as _};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha1::Sha1;

/// Every byte except the RFC 3986 unreserved characters.
const ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The protocol parameters a signed request must carry.
const REQUIRED_PARAMETERS: [&str; 6] = [
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
];

/// Problems that make an `Authorization` header unusable. Apple responds to these with 400
/// and an `oauth_problem` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OAuthProblem {
    /// No header, another scheme, or a header that is not a list of `name="value"` pairs.
    Malformed,
    ParameterAbsent(&'static str),
    SignatureMethodRejected,
    VersionRejected,
    TimestampInvalid,
}

impl OAuthProblem {
    /// Returns the `oauth_problem` response body, with the OAuth Problem Reporting extension's names.
    pub(crate) fn body(&self) -> String {
        match self {
            OAuthProblem::Malformed => "oauth_problem=parameter_absent".to_owned(),
            OAuthProblem::ParameterAbsent(name) => {
                format!("oauth_problem=parameter_absent&oauth_parameters_absent={name}")
            }
            OAuthProblem::SignatureMethodRejected => "oauth_problem=signature_method_rejected".to_owned(),
            OAuthProblem::VersionRejected => "oauth_problem=version_rejected".to_owned(),
            OAuthProblem::TimestampInvalid => "oauth_problem=parameter_rejected&oauth_parameters_rejected=oauth_timestamp".to_owned(),
        }
    }
}

/// The decoded parameters of an OAuth `Authorization` header.
#[derive(Debug)]
pub(crate) struct OAuthHeader {
    parameters: Vec<(String, String)>,
    pub(crate) timestamp: i64,
}

impl OAuthHeader {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn consumer_key(&self) -> &str {
        self.get("oauth_consumer_key").unwrap_or_default()
    }

    pub(crate) fn token(&self) -> &str {
        self.get("oauth_token").unwrap_or_default()
    }

    pub(crate) fn nonce(&self) -> &str {
        self.get("oauth_nonce").unwrap_or_default()
    }

    /// Whether the header's signature is the HMAC-SHA1 of this request's signature base
    /// string under the given secrets. `url` is the request URL without query, as the client
    /// addressed it; `query` contains the decoded query parameters.
    pub(crate) fn signature_matches(&self, url: &str, query: &[(String, String)], consumer_secret: &str, token_secret: &str) -> bool {
        let Some(signature) = self.get("oauth_signature").and_then(|value| BASE64.decode(value).ok()) else {
            return false;
        };

        let mut signed: Vec<(String, String)> = self
            .parameters
            .iter()
            .chain(query)
            .filter(|(name, _)| name != "realm" && name != "oauth_signature")
            .map(|(name, value)| (encode(name), encode(value)))
            .collect();
        signed.sort();
        let normalized = signed
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&");
        let base_string = format!("GET&{}&{}", encode(url), encode(&normalized));

        let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
        let Ok(mut mac) = <Hmac<Sha1>>::new_from_slice(key.as_bytes()) else {
            return false;
        };
        mac.update(base_string.as_bytes());
        mac.verify_slice(&signature).is_ok()
    }
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, ENCODE_SET).to_string()
}

fn decode(value: &str) -> Option<String> {
    percent_decode_str(value).decode_utf8().ok().map(|text| text.into_owned())
}

/// Parses `OAuth name="value", ...` into decoded parameters and checks that the required
/// ones are present, that the method is HMAC-SHA1 and the version (when sent) is 1.0.
pub(crate) fn parse_authorization(value: Option<&str>) -> Result<OAuthHeader, OAuthProblem> {
    let value = value.ok_or(OAuthProblem::Malformed)?.trim();
    let (scheme, list) = value.split_once(' ').ok_or(OAuthProblem::Malformed)?;
    if !scheme.eq_ignore_ascii_case("OAuth") {
        return Err(OAuthProblem::Malformed);
    }

    let mut parameters = Vec::new();
    for item in list.split(',').map(str::trim).filter(|item| !item.is_empty()) {
        let (name, quoted) = item.split_once('=').ok_or(OAuthProblem::Malformed)?;
        let raw = quoted
            .trim()
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .ok_or(OAuthProblem::Malformed)?;
        let name = decode(name.trim()).ok_or(OAuthProblem::Malformed)?;
        let value = decode(raw).ok_or(OAuthProblem::Malformed)?;
        parameters.push((name, value));
    }

    let header = OAuthHeader { parameters, timestamp: 0 };
    if let Some(missing) = REQUIRED_PARAMETERS.iter().find(|name| header.get(name).is_none_or(str::is_empty)) {
        return Err(OAuthProblem::ParameterAbsent(missing));
    }
    if header.get("oauth_signature_method") != Some("HMAC-SHA1") {
        return Err(OAuthProblem::SignatureMethodRejected);
    }
    if header.get("oauth_version").is_some_and(|version| version != "1.0") {
        return Err(OAuthProblem::VersionRejected);
    }
    let timestamp = header
        .get("oauth_timestamp")
        .and_then(|text| text.parse::<i64>().ok())
        .ok_or(OAuthProblem::TimestampInvalid)?;

    Ok(OAuthHeader { timestamp, ..header })
}

/// Decodes a query string (`a=1&b=2`) into parameter pairs for the signature base string.
pub(crate) fn query_parameters(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let plus_as_space = |text: &str| decode(&text.replace('+', " ")).unwrap_or_default();
            (plus_as_space(name), plus_as_space(value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signed header of the test vector checked against oauthlib.
    const VECTOR_HEADER: &str = "OAuth realm=\"ADM\", oauth_consumer_key=\"CK_fake0001\", \
        oauth_token=\"AT_O1234567890Ofake0001O1767225600000\", oauth_signature_method=\"HMAC-SHA1\", \
        oauth_signature=\"i9mmq29KqzJs%2BmzllSNLl9WrDcA%3D\", oauth_timestamp=\"1767225600\", \
        oauth_nonce=\"5f3c2a1b9e8d7c6a\", oauth_version=\"1.0\"";
    const VECTOR_URL: &str = "https://mdmenrollment.apple.com/session";

    #[test]
    fn parse_reads_vector_header() {
        let header = parse_authorization(Some(VECTOR_HEADER)).unwrap();

        assert_eq!(header.consumer_key(), "CK_fake0001");
        assert_eq!(header.token(), "AT_O1234567890Ofake0001O1767225600000");
        assert_eq!(header.nonce(), "5f3c2a1b9e8d7c6a");
        assert_eq!(header.timestamp, 1_767_225_600);
    }

    #[test]
    fn signature_matches_vector() {
        let header = parse_authorization(Some(VECTOR_HEADER)).unwrap();

        let matches = header.signature_matches(VECTOR_URL, &[], "CS_fake0001", "AS_fake0001");

        assert!(matches);
    }

    #[test]
    fn signature_rejects_other_secret_or_url() {
        let header = parse_authorization(Some(VECTOR_HEADER)).unwrap();

        let other_secret = header.signature_matches(VECTOR_URL, &[], "CS_fake0001", "AS_other");
        let other_url = header.signature_matches("http://127.0.0.1:1/session", &[], "CS_fake0001", "AS_fake0001");
        let extra_query = header.signature_matches(VECTOR_URL, &[("a".into(), "1".into())], "CS_fake0001", "AS_fake0001");

        assert!(!other_secret);
        assert!(!other_url);
        assert!(!extra_query);
    }

    #[test]
    fn parse_rejects_bad_headers() {
        let cases = [
            ("absent", None, OAuthProblem::Malformed),
            ("basic scheme", Some("Basic YWJj"), OAuthProblem::Malformed),
            ("unquoted", Some("OAuth oauth_consumer_key=CK"), OAuthProblem::Malformed),
            (
                "no nonce",
                Some("OAuth oauth_consumer_key=\"CK\", oauth_token=\"AT\", oauth_signature_method=\"HMAC-SHA1\", oauth_signature=\"x\", oauth_timestamp=\"1\""),
                OAuthProblem::ParameterAbsent("oauth_nonce"),
            ),
            (
                "plaintext method",
                Some("OAuth oauth_consumer_key=\"CK\", oauth_token=\"AT\", oauth_signature_method=\"PLAINTEXT\", oauth_signature=\"x\", oauth_timestamp=\"1\", oauth_nonce=\"n\""),
                OAuthProblem::SignatureMethodRejected,
            ),
            (
                "version 2",
                Some("OAuth oauth_consumer_key=\"CK\", oauth_token=\"AT\", oauth_signature_method=\"HMAC-SHA1\", oauth_signature=\"x\", oauth_timestamp=\"1\", oauth_nonce=\"n\", oauth_version=\"2.0\""),
                OAuthProblem::VersionRejected,
            ),
            (
                "timestamp not a number",
                Some("OAuth oauth_consumer_key=\"CK\", oauth_token=\"AT\", oauth_signature_method=\"HMAC-SHA1\", oauth_signature=\"x\", oauth_timestamp=\"soon\", oauth_nonce=\"n\""),
                OAuthProblem::TimestampInvalid,
            ),
        ];

        for (label, input, expected) in cases {
            assert_eq!(parse_authorization(input).unwrap_err(), expected, "{label}");
        }
    }

    #[test]
    fn query_parameters_are_decoded() {
        let parameters = query_parameters(Some("a=1&b=x%20y&c=p+q&flag"));

        assert_eq!(
            parameters,
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "x y".to_owned()),
                ("c".to_owned(), "p q".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
    }
}
