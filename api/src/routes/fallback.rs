use deptoken_shared::error::ErrorCode;

use crate::error::ApiError;

/// Any path no route serves.
pub async fn not_found() -> ApiError {
    ApiError::code(ErrorCode::NotFound)
}
