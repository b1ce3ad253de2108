//! The control API that tests use to issue tokens and to change how Apple responds to them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::credentials::fingerprint;
use crate::state::{FaultKind, IssueRequest, SimError, Simulator, TokenState};

/// The response header that carries the consumer key of a newly issued token.
pub const CONSUMER_KEY_HEADER: &str = "X-Sim-Consumer-Key";

/// Query of `POST /sim/tokens`; every field is optional.
#[derive(Deserialize)]
pub(crate) struct IssueQuery {
    expires_at: Option<String>,
    server_name: Option<String>,
    org_name: Option<String>,
    admin_id: Option<String>,
}

/// Body of `PUT /sim/tokens/{consumer_key}/state`: either a state or a fault with a count.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    state: Option<TokenState>,
    fault: Option<FaultKind>,
    count: Option<u32>,
}

/// `POST /sim/tokens`: issues a token file for the PEM certificate in the body.
pub(crate) async fn issue(State(simulator): State<Simulator>, Query(query): Query<IssueQuery>, body: Bytes) -> Response {
    let Ok(certificate_pem) = std::str::from_utf8(&body) else {
        return bad_request("the body must be a PEM certificate");
    };

    let mut request = IssueRequest::new(certificate_pem);
    if let Some(expires_at) = query.expires_at {
        match DateTime::parse_from_rfc3339(&expires_at) {
            Ok(expires_at) => request.expires_at = Some(expires_at.with_timezone(&Utc)),
            Err(_) => return bad_request("expires_at must be an RFC 3339 date and time, such as 2027-01-17T11:02:21Z"),
        }
    }
    request.server_name = query.server_name.unwrap_or(request.server_name);
    request.org_name = query.org_name.unwrap_or(request.org_name);
    request.admin_id = query.admin_id.unwrap_or(request.admin_id);

    let issued = match simulator.issue_token(&request) {
        Ok(issued) => issued,
        Err(error) => return error_response(&error),
    };

    let mut response = (StatusCode::OK, issued.token_file).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/pkcs7-mime; smime-type=enveloped-data"),
    );
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&issued.file_name)) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&issued.consumer_key) {
        headers.insert(CONSUMER_KEY_HEADER, value);
    }
    response
}

/// `PUT /sim/tokens/{consumer_key}/state`: sets the token's state or injects a fault.
pub(crate) async fn change(State(simulator): State<Simulator>, Path(consumer_key): Path<String>, body: Bytes) -> Response {
    let change: ChangeBody = match serde_json::from_slice(&body) {
        Ok(change) => change,
        Err(_) => return bad_request(CHANGE_BODY_HELP),
    };

    let result = match change {
        ChangeBody {
            state: Some(state),
            fault: None,
            count: None,
        } => simulator.set_state(&consumer_key, state),
        ChangeBody {
            state: None,
            fault: Some(fault),
            count,
        } => simulator.set_fault(&consumer_key, fault, count.unwrap_or(1)),
        _ => return bad_request(CHANGE_BODY_HELP),
    };

    match result {
        Ok(status) => {
            tracing::info!(
                consumer_key_fingerprint = %fingerprint(&consumer_key),
                state = ?status.state,
                fault = ?status.fault,
                "simulator changed a token"
            );
            Json(status).into_response()
        }
        Err(error) => error_response(&error),
    }
}

const CHANGE_BODY_HELP: &str = "the body must be {\"state\": \"active|expired|revoked|superseded|account_deleted|terms_not_accepted|server_inactive\"} \
or {\"fault\": \"rate_limited|unavailable|timeout|session_expired\", \"count\": N}";

/// `GET /sim/tokens/{consumer_key}`: the token's state and request counts.
pub(crate) async fn status(State(simulator): State<Simulator>, Path(consumer_key): Path<String>) -> Response {
    match simulator.token_status(&consumer_key) {
        Some(status) => Json(status).into_response(),
        None => error_response(&SimError::UnknownToken),
    }
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, message.to_owned()).into_response()
}

fn error_response(error: &SimError) -> Response {
    let status = match error {
        SimError::UnknownToken => StatusCode::NOT_FOUND,
        SimError::InvalidRequest(_) | SimError::Issue(_) => StatusCode::BAD_REQUEST,
    };
    (status, error.to_string()).into_response()
}

/// Bytes a `filename*` value percent-encodes: all but the RFC 5987 `attr-char` set.
const ATTR_CHAR_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="..."` with an ASCII fallback name, plus the RFC 6266 `filename*`
/// form when the name has other characters (Japanese server names, say).
fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .collect();
    if ascii == file_name {
        format!("attachment; filename=\"{file_name}\"")
    } else {
        format!(
            "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
            utf8_percent_encode(file_name, ATTR_CHAR_ENCODE_SET)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_cases() {
        let cases = [
            ("ascii", "Sim_Token_x_smime.p7m", "attachment; filename=\"Sim_Token_x_smime.p7m\""),
            (
                "japanese",
                "東京_Token_x_smime.p7m",
                "attachment; filename=\"___Token_x_smime.p7m\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC_Token_x_smime.p7m",
            ),
        ];

        for (label, input, expected) in cases {
            assert_eq!(content_disposition(input), expected, "{label}");
        }
    }
}
