//! The JSON bodies of `POST /v1/servers` and `PATCH /v1/servers/{name}` and the upload's
//! query string, sent through the whole router in-process. No input may get a 5xx response or
//! an error body in another shape than `{"error":{"code","message","action"}}`.

#![no_main]

use deptoken_fuzz::Api;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

static API: std::sync::OnceLock<Api> = std::sync::OnceLock::new();

fuzz_target!(
    init: {
        API.get_or_init(Api::start);
    },
    |data: &[u8]| {
        let Some(api) = API.get() else { return };
        let Some((route, request)) = deptoken_fuzz::json_request(data) else { return };
        let router = match route {
            deptoken_fuzz::JsonRoute::Patch => api.admin.clone(),
            _ => api.reader.clone(),
        };

        let (status, body) = api.runtime.block_on(async move {
            let response = router.oneshot(request).await.expect("the router is infallible");
            let status = response.status();
            let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            (status, body)
        });

        assert!(!status.is_server_error(), "{route:?}: status {status}");
        if status.is_client_error() {
            let text = std::str::from_utf8(&body).expect("UTF-8 error body");
            assert!(text.starts_with("{\"error\":{\"code\":\""), "{route:?}: error body {text}");
        }
    }
);
