//! An SDK HTTP client that records every request the function's DynamoDB and KMS clients
//! send, so that a test can tell what the function read.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, SharedHttpClient, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;

/// The `X-Amz-Target` prefix of DynamoDB operations (`DynamoDB_20120810.GetItem`).
pub const DYNAMODB_TARGET_PREFIX: &str = "DynamoDB_20120810.";
/// The `X-Amz-Target` prefix of KMS operations (`TrentService.Decrypt`).
pub const KMS_TARGET_PREFIX: &str = "TrentService.";

/// One request as sent: the operation from `X-Amz-Target` and the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkCall {
    pub operation: String,
    pub body: String,
}

/// The requests recorded so far, shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct SdkRecorder {
    calls: Arc<Mutex<Vec<SdkCall>>>,
}

impl SdkRecorder {
    /// Wraps `inner` so that every request through it is recorded before it is sent.
    pub fn wrap(&self, inner: SharedHttpClient) -> SharedHttpClient {
        let recorder = self.clone();
        http_client_fn(move |settings, components| {
            SharedHttpConnector::new(RecordingConnector {
                inner: inner.http_connector(settings, components),
                recorder: recorder.clone(),
            })
        })
    }

    /// Returns the requests recorded since the last call, and clears the record.
    pub fn take(&self) -> Vec<SdkCall> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    fn record(&self, call: SdkCall) {
        self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(call);
    }
}

#[derive(Debug)]
struct RecordingConnector {
    inner: SharedHttpConnector,
    recorder: SdkRecorder,
}

impl HttpConnector for RecordingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = request.headers().get("x-amz-target").unwrap_or_default().to_owned();
        let body = request
            .body()
            .bytes()
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_default();
        self.recorder.record(SdkCall { operation, body });

        self.inner.call(request)
    }
}
