//! Attacks on the running product: malformed and misleading uploads, injected faults,
//! concurrent writers, cross-tenant requests and secrets in logs and responses. Each suite prints
//! its counts (`hostile <suite>: ...`) so that `docs/reliability.md` quotes a run.

mod bad_input;
mod concurrency;
mod faults;
mod fuzz_regressions;
mod isolation;
mod secrets;

use std::process::Command;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use deptoken_api::IdentitySource;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::{Harness, admin};
use crate::support::{in_ci, openssl_available};

/// A response, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Returns the `error.code` of an error body, or `""`.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("read the body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

pub fn empty_request(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request")
}

pub fn json_request(method: Method, uri: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

/// The boundary of the multipart bodies built here.
pub const BOUNDARY: &str = "hostile-boundary";

/// Builds a `multipart/form-data` body from `(name, value)` parts; a part named `file` gets a
/// file name, as a browser sends it.
pub fn multipart_body(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in parts {
        let filename = if *name == "file" {
            "; filename=\"tokyo_smime.p7m\""
        } else {
            ""
        };
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Builds the admin router of `harness` (the local runner's shape: a fixed caller).
pub fn admin_app(harness: &Harness) -> Router {
    deptoken_api::router(harness.services.clone(), IdentitySource::Fixed(admin()))
}

/// Creates entry `name` through `app` and returns its certificate PEM.
pub async fn create_entry(app: &Router, name: &str) -> String {
    let created = send(
        app,
        json_request(
            Method::POST,
            "/v1/servers",
            &json!({"name": name, "display_name": format!("{name} office")}),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let certificate = send(
        app,
        empty_request(Method::GET, &format!("/v1/servers/{name}/certificate")),
    )
    .await;
    certificate.text()
}

/// Creates entry `name` and uploads an accepted token; returns the certificate PEM.
pub async fn entry_with_token(harness: &Harness, app: &Router, name: &str) -> String {
    let certificate = create_entry(app, name).await;
    let token = harness.issue_token(&certificate, &[]).await;
    let uploaded = send(
        app,
        raw_upload(
            &format!("/v1/servers/{name}/token"),
            "application/pkcs7-mime",
            token.file,
        ),
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.text());
    harness.tick();
    certificate
}

pub fn raw_upload(uri: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method(Method::PUT)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("request")
}

/// Returns the DER bytes of a PEM block's body.
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    BASE64.decode(body.trim()).expect("PEM base64")
}

/// Writes `der` as a PEM block with `label`, 64 characters a line.
pub fn der_to_pem(label: &str, der: &[u8]) -> String {
    let encoded = BASE64.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// Returns the DER of the CMS object inside an S/MIME token file.
pub fn smime_der(token: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(token);
    let body: String = text
        .split_once("\n\n")
        .map(|(_, body)| body)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    BASE64.decode(body).expect("token base64")
}

/// Wraps DER as an S/MIME token file, as ABM writes it.
pub fn smime_of(der: &[u8]) -> Vec<u8> {
    let mut file = String::from(
        "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data\n\
         Content-Transfer-Encoding: base64\n\
         Content-Disposition: attachment; filename=\"smime.p7m\"\n\
         Content-Description: S/MIME Encrypted Message\n\n",
    );
    let encoded = BASE64.encode(der);
    for line in encoded.as_bytes().chunks(76) {
        file.push_str(&String::from_utf8_lossy(line));
        file.push('\n');
    }
    file.into_bytes()
}

/// Encrypts `content` for `certificate_pem` with `openssl cms` (AES-128-CBC, BER as Apple
/// writes it) and wraps it as an S/MIME token file. `None` (after printing why) without the
/// openssl command outside CI.
pub fn openssl_token(certificate_pem: &str, content: &[u8]) -> Option<Vec<u8>> {
    if !openssl_available() {
        return None;
    }
    let dir = tempfile::tempdir().expect("create a temporary folder");
    let certificate = dir.path().join("certificate.pem");
    let input = dir.path().join("content.bin");
    let output = dir.path().join("token.ber");
    std::fs::write(&certificate, certificate_pem).expect("write the certificate");
    std::fs::write(&input, content).expect("write the content");

    let status = Command::new("openssl")
        .args([
            "cms", "-encrypt", "-binary", "-aes128", "-stream", "-outform", "DER", "-in",
        ])
        .arg(&input)
        .arg("-out")
        .arg(&output)
        .arg(&certificate)
        .status()
        .expect("run openssl");
    if !status.success() {
        assert!(!in_ci(), "openssl cms -encrypt failed");
        eprintln!("SKIPPED: openssl cms -encrypt failed");
        return None;
    }
    Some(smime_of(
        &std::fs::read(&output).expect("read the OpenSSL token"),
    ))
}

/// A store whose writes run one at a time while reads run freely.
///
/// NOTE: moto 5 runs requests on parallel threads, and its TransactWriteItems snapshots the
/// table, writes, and on a failed condition restores the snapshot, undoing a transaction
/// that committed in between. DynamoDB isolates transactions, so the concurrency suites
/// serialise writes to moto to stand in for that isolation. The use cases still race:
/// every writer reads, calls Apple and writes conditionally as in production.
pub struct SerializedWrites {
    pub inner: std::sync::Arc<dyn deptoken_shared::ports::Store>,
    lock: tokio::sync::Mutex<()>,
}

impl SerializedWrites {
    pub fn new(inner: std::sync::Arc<dyn deptoken_shared::ports::Store>) -> Self {
        Self {
            inner,
            lock: tokio::sync::Mutex::new(()),
        }
    }
}

mod serialized {
    use async_trait::async_trait;
    use deptoken_shared::domain::{ServerName, TenantId};
    use deptoken_shared::model::{KeyRecord, ServerRecord, TenantSettings, UploadRecord};
    use deptoken_shared::ports::{Store, StoreError};

    use super::SerializedWrites;

    #[async_trait]
    impl Store for SerializedWrites {
        async fn get_server(
            &self,
            tenant: &TenantId,
            name: &ServerName,
        ) -> Result<Option<ServerRecord>, StoreError> {
            self.inner.get_server(tenant, name).await
        }
        async fn list_servers(&self, tenant: &TenantId) -> Result<Vec<ServerRecord>, StoreError> {
            self.inner.list_servers(tenant).await
        }
        async fn create_server(
            &self,
            server: &ServerRecord,
            first_key: &KeyRecord,
        ) -> Result<(), StoreError> {
            let _write = self.lock.lock().await;
            self.inner.create_server(server, first_key).await
        }
        async fn update_server(
            &self,
            server: &ServerRecord,
            expected_version: u64,
        ) -> Result<(), StoreError> {
            let _write = self.lock.lock().await;
            self.inner.update_server(server, expected_version).await
        }
        async fn commit_upload(
            &self,
            server: &ServerRecord,
            expected_version: u64,
            history: &UploadRecord,
            key_changes: &[KeyRecord],
        ) -> Result<(), StoreError> {
            let _write = self.lock.lock().await;
            self.inner
                .commit_upload(server, expected_version, history, key_changes)
                .await
        }
        async fn delete_server(
            &self,
            tenant: &TenantId,
            name: &ServerName,
        ) -> Result<(), StoreError> {
            let _write = self.lock.lock().await;
            self.inner.delete_server(tenant, name).await
        }
        async fn list_history(
            &self,
            tenant: &TenantId,
            name: &ServerName,
        ) -> Result<Vec<UploadRecord>, StoreError> {
            self.inner.list_history(tenant, name).await
        }
        async fn list_keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError> {
            self.inner.list_keys(tenant).await
        }
        async fn put_key(
            &self,
            key: &KeyRecord,
            expected_version: Option<u64>,
        ) -> Result<(), StoreError> {
            let _write = self.lock.lock().await;
            self.inner.put_key(key, expected_version).await
        }
        async fn list_all_servers(
            &self,
        ) -> Result<Vec<Result<ServerRecord, StoreError>>, StoreError> {
            self.inner.list_all_servers().await
        }

        async fn get_settings(&self, tenant: &TenantId) -> Result<Option<TenantSettings>, StoreError> {
            self.inner.get_settings(tenant).await
        }

        async fn put_settings(&self, settings: &TenantSettings, expected_version: Option<u64>) -> Result<(), StoreError> {
            self.inner.put_settings(settings, expected_version).await
        }
    }
}
