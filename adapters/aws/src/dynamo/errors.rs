//! The mapping of DynamoDB errors to [`StoreError`], in one place.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use deptoken_shared::ports::StoreError;

/// The meaning of a failed condition for the operation that set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConditionFailure {
    /// A create found the item already there.
    AlreadyExists,
    /// An update found another version, or no item.
    Conflict,
    /// A delete found no item.
    NotFound,
}

impl ConditionFailure {
    fn into_error(self) -> StoreError {
        match self {
            ConditionFailure::AlreadyExists => StoreError::AlreadyExists,
            ConditionFailure::Conflict => StoreError::Conflict,
            ConditionFailure::NotFound => StoreError::NotFound,
        }
    }
}

/// Error codes with which DynamoDB throttles a request (the SDK has retried them already).
const THROTTLING_CODES: [&str; 3] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
];

/// Cancellation reason codes of a transaction that mean throttling.
const THROTTLING_REASONS: [&str; 2] = ["ProvisionedThroughputExceeded", "ThrottlingError"];

/// Maps the error of a single-item or batch operation.
pub(crate) fn from_sdk<E>(err: SdkError<E, HttpResponse>, on_condition: ConditionFailure) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err.code() {
        Some("ConditionalCheckFailedException") => on_condition.into_error(),
        Some(code) if THROTTLING_CODES.contains(&code) => StoreError::Throttled,
        _ => StoreError::Unavailable(Box::new(err)),
    }
}

/// Maps the error of `TransactWriteItems`. A cancelled transaction is classified by its
/// cancellation reasons: a failed condition first, then a conflict with another transaction
/// (retryable as [`StoreError::Conflict`]), then throttling.
pub(crate) fn from_transaction(
    err: SdkError<TransactWriteItemsError, HttpResponse>,
    on_condition: ConditionFailure,
) -> StoreError {
    let reasons: Vec<&str> = match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .iter()
            .filter_map(|reason| reason.code())
            .collect(),
        _ => return from_sdk(err, on_condition),
    };

    if reasons.contains(&"ConditionalCheckFailed") {
        on_condition.into_error()
    } else if reasons.contains(&"TransactionConflict") {
        StoreError::Conflict
    } else if reasons.iter().any(|code| THROTTLING_REASONS.contains(code)) {
        StoreError::Throttled
    } else {
        StoreError::Unavailable(Box::new(err))
    }
}

/// Maps an error raised while building a request (a required field left unset: our bug).
pub(crate) fn from_build(err: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Unavailable(Box::new(err))
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::CancellationReason;
    use aws_sdk_dynamodb::types::error::TransactionCanceledException;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn response() -> HttpResponse {
        HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::empty())
    }

    fn put_error(code: &str) -> SdkError<PutItemError, HttpResponse> {
        let error = PutItemError::generic(ErrorMetadata::builder().code(code).build());
        SdkError::service_error(error, response())
    }

    fn cancelled(reasons: &[&str]) -> SdkError<TransactWriteItemsError, HttpResponse> {
        let mut exception = TransactionCanceledException::builder().message("cancelled");
        for reason in reasons {
            exception = exception.cancellation_reasons(CancellationReason::builder().code(*reason).build());
        }
        let error = TransactWriteItemsError::TransactionCanceledException(exception.build());
        SdkError::service_error(error, response())
    }

    fn label(error: &StoreError) -> &'static str {
        match error {
            StoreError::NotFound => "not_found",
            StoreError::AlreadyExists => "already_exists",
            StoreError::Conflict => "conflict",
            StoreError::Throttled => "throttled",
            StoreError::Corrupt(_) => "corrupt",
            StoreError::Unavailable(_) => "unavailable",
        }
    }

    #[test]
    fn from_sdk_maps_codes() {
        let cases = [
            ("condition on create", "ConditionalCheckFailedException", ConditionFailure::AlreadyExists, "already_exists"),
            ("condition on update", "ConditionalCheckFailedException", ConditionFailure::Conflict, "conflict"),
            ("condition on delete", "ConditionalCheckFailedException", ConditionFailure::NotFound, "not_found"),
            ("provisioned throughput", "ProvisionedThroughputExceededException", ConditionFailure::Conflict, "throttled"),
            ("throttling", "ThrottlingException", ConditionFailure::Conflict, "throttled"),
            ("request limit", "RequestLimitExceeded", ConditionFailure::Conflict, "throttled"),
            ("missing table", "ResourceNotFoundException", ConditionFailure::Conflict, "unavailable"),
        ];

        for (case, code, on_condition, expected) in cases {
            let mapped = from_sdk(put_error(code), on_condition);

            assert_eq!(label(&mapped), expected, "{case}");
        }
    }

    #[test]
    fn from_sdk_keeps_source() {
        let mapped = from_sdk(put_error("ResourceNotFoundException"), ConditionFailure::Conflict);

        let source = std::error::Error::source(&mapped).expect("a source");
        let metadata = source.downcast_ref::<SdkError<PutItemError, HttpResponse>>().map(|err| err.code());
        assert_eq!(metadata, Some(Some("ResourceNotFoundException")));
    }

    #[test]
    fn from_transaction_maps_reasons() {
        let cases: [(&str, &[&str], &str); 5] = [
            ("failed condition", &["None", "ConditionalCheckFailed"], "already_exists"),
            ("condition before conflict", &["TransactionConflict", "ConditionalCheckFailed"], "already_exists"),
            ("conflict", &["TransactionConflict", "None"], "conflict"),
            ("throttled", &["ThrottlingError", "None"], "throttled"),
            ("validation", &["ValidationError"], "unavailable"),
        ];

        for (case, reasons, expected) in cases {
            let mapped = from_transaction(cancelled(reasons), ConditionFailure::AlreadyExists);

            assert_eq!(label(&mapped), expected, "{case}");
        }
    }
}
