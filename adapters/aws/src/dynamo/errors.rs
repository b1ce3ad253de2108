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
