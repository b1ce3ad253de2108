//! The mapping of SNS and DynamoDB errors to [`SubscriberError`], in one place.

use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use deptoken_shared::ports::SubscriberError;

/// Error codes with which SNS throttles a request (the SDK has retried them already).
const THROTTLING_CODES: [&str; 4] = ["Throttling", "Throttled", "ThrottlingException", "KMSThrottling"];

/// The message part of SNS's `InvalidParameter` error when the topic has a subscription of
/// this protocol and endpoint with other attributes, such as another tenant's filter policy.
const ALREADY_SUBSCRIBED: &str = "already exists with different attributes";

/// Error codes with which DynamoDB throttles a request.
const DYNAMODB_THROTTLING_CODES: [&str; 3] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
];

/// Maps a failed SNS call.
pub(crate) fn from_sns<E, R>(err: SdkError<E, R>) -> SubscriberError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match (err.code(), err.message()) {
        (Some("NotFound"), _) => SubscriberError::NotFound,
        (Some("InvalidParameter"), Some(message)) if message.contains(ALREADY_SUBSCRIBED) => SubscriberError::AlreadyExists,
        // The message may quote the address, which stays out of logs, so only the code is kept.
        (Some(code @ ("InvalidParameter" | "ParameterValueInvalid")), _) => SubscriberError::Rejected(code.to_owned()),
        (Some(code), _) if THROTTLING_CODES.contains(&code) => SubscriberError::Throttled,
        _ => SubscriberError::Unavailable(Box::new(err)),
    }
}

/// Maps a failed DynamoDB call on a subscriber item. Callers handle a failed condition
/// before this mapping.
pub(crate) fn from_dynamodb<E, R>(err: SdkError<E, R>) -> SubscriberError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.code() {
        Some(code) if DYNAMODB_THROTTLING_CODES.contains(&code) => SubscriberError::Throttled,
        _ => SubscriberError::Unavailable(Box::new(err)),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sns::config::http::HttpResponse;
    use aws_sdk_sns::error::ErrorMetadata;
    use aws_sdk_sns::operation::subscribe::SubscribeError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn subscribe_error(code: &str, message: &str) -> SdkError<SubscribeError, HttpResponse> {
        let error = SubscribeError::generic(ErrorMetadata::builder().code(code).message(message).build());
        SdkError::service_error(error, HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::empty()))
    }

    fn label(error: &SubscriberError) -> &'static str {
        match error {
            SubscriberError::NotFound => "not_found",
            SubscriberError::AlreadyExists => "already_exists",
            SubscriberError::Rejected(_) => "rejected",
            SubscriberError::Throttled => "throttled",
            SubscriberError::Unavailable(_) => "unavailable",
        }
    }

    #[test]
    fn from_sns_maps_codes() {
        let cases = [
            ("missing subscription", "NotFound", "Subscription does not exist", "not_found"),
            (
                "other tenant's subscription",
                "InvalidParameter",
                "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
                "already_exists",
            ),
            ("invalid endpoint", "InvalidParameter", "Invalid parameter: Endpoint", "rejected"),
            ("invalid value", "ParameterValueInvalid", "Invalid value", "rejected"),
            ("throttled", "Throttled", "Rate exceeded", "throttled"),
            ("throttling", "Throttling", "Rate exceeded", "throttled"),
            ("authorization", "AuthorizationError", "not authorized", "unavailable"),
        ];

        for (label_of_case, code, message, expected) in cases {
            let mapped = from_sns(subscribe_error(code, message));

            assert_eq!(label(&mapped), expected, "{label_of_case}");
        }
    }

    #[test]
    fn rejection_keeps_only_the_code() {
        let mapped = from_sns(subscribe_error("InvalidParameter", "Invalid parameter: Endpoint +819012345678"));

        assert!(matches!(&mapped, SubscriberError::Rejected(reason) if reason == "InvalidParameter"), "{mapped:?}");
    }
}
