//! Reading an upload sent as `multipart/form-data` (a browser form): the `file` part, and the
//! optional `note` and `confirm_server_change` parts. The body is already buffered and
//! limited when this runs.

use std::convert::Infallible;

use bytes::Bytes;
use deptoken_shared::error::{AppError, ErrorCode, ErrorDetail};
use deptoken_shared::token::MAX_TOKEN_FILE_BYTES;
use deptoken_shared::usecases::UploadRequest;

/// Reads the parts of an upload form.
pub async fn read_upload_form(content_type: &str, body: Bytes) -> Result<UploadRequest, AppError> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| invalid("file"))?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, Infallible>(body) });
    let mut form = multer::Multipart::new(stream, boundary);

    let mut file = None;
    let mut upload = UploadRequest::default();
    while let Some(field) = form.next_field().await.map_err(|_| invalid("file"))? {
        match field.name() {
            Some("file") if file.is_none() => {
                let bytes = field.bytes().await.map_err(|_| invalid("file"))?;
                if bytes.len() > MAX_TOKEN_FILE_BYTES {
                    return Err(AppError::with_detail(
                        ErrorCode::TooLarge,
                        ErrorDetail::Limit { bytes: MAX_TOKEN_FILE_BYTES },
                    ));
                }
                file = Some(bytes.to_vec());
            }
            Some("file") => return Err(invalid("file")),
            Some("note") => upload.note = Some(field.text().await.map_err(|_| invalid("note"))?),
            Some("confirm_server_change") => {
                let text = field.text().await.map_err(|_| invalid("confirm_server_change"))?;
                upload.confirm_server_change = parse_flag(&text).ok_or_else(|| invalid("confirm_server_change"))?;
            }
            // Other form fields (a submit button, say) carry nothing for us.
            _ => {}
        }
    }

    upload.file = file.ok_or_else(|| invalid("file"))?;
    Ok(upload)
}

/// Parses a form checkbox or flag value: `true`, `on`, `1` or `false`, `off`, `0`, empty.
fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "1" => Some(true),
        "false" | "off" | "0" | "" => Some(false),
        _ => None,
    }
}

fn invalid(field: &str) -> AppError {
    AppError::with_detail(ErrorCode::InvalidRequest, ErrorDetail::InvalidField { field: field.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_flag_cases() {
        let cases = [
            ("true", "true", Some(true)),
            ("checkbox on", "on", Some(true)),
            ("one", "1", Some(true)),
            ("false", "false", Some(false)),
            ("empty", "", Some(false)),
            ("upper case", "TRUE", Some(true)),
            ("other", "yes please", None),
        ];

        for (label, text, expected) in cases {
            assert_eq!(parse_flag(text), expected, "{label}");
        }
    }
}
