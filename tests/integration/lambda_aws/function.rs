//! The `token-upload` function as Lambda runs it, in-process: a `Config` parsed from
//! variables, `build_services_on` and `UseCases::router` as at cold start, on a fresh table,
//! fresh KMS keys and a fresh SNS topic in moto server, with the DEP simulator as Apple. Events from `tests/fixtures/apigw/`
//! go through `lambda_http`'s request parser, as the runtime hands them to the function.

use std::collections::HashMap;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::AttributeValue;
use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use deptoken_aws::AwsAdapters;
use deptoken_dep_sim::{IssueRequest, RunningSimulator};
use deptoken_shared::domain::{ServerName, TenantId};
use deptoken_shared::model::{ServerRecord, UploadRecord};
use deptoken_shared::ports::Store;
use deptoken_shared::token::TokenCredentials;
use http::HeaderMap;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use token_upload::Config;
use tower::ServiceExt;

use super::recorder::SdkRecorder;
use crate::support::moto::Moto;

/// The tenant of the fixture events' admin.
pub const TENANT: &str = "acme";

/// The static AWS credentials the function's SDK clients sign with. moto accepts any; these
/// are distinctive so that the log check can search for them.
pub const AWS_ACCESS_KEY_ID: &str = "AKIALAMBDAAWSTEST0001";
pub const AWS_SECRET_ACCESS_KEY: &str = "lambda-aws-test-secret-access-key-4f1c9e";
pub const AWS_SESSION_TOKEN: &str = "lambda-aws-test-session-token-8d2b7a6e5c4f";

/// The placeholder that `upload-token-multipart.json` carries where the file part goes.
const MULTIPART_PLACEHOLDER: &[u8] = b"REPLACED BY THE TEST: a token file for the entry's certificate";

/// A function instance, the emulated AWS resources it runs on and the simulator it calls.
pub struct Function {
    pub app: Router,
    pub sim: RunningSimulator,
    /// The test's own SDK clients for moto, which the recorder does not see.
    pub moto: Moto,
    pub config: Config,
    /// Adapters over the function's table and keys, for the test's own reads and unsealing.
    pub adapters: AwsAdapters,
    /// The requests the function's SDK clients sent.
    pub recorder: SdkRecorder,
}

/// A response as API Gateway would receive it from the function.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// Parses the body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("JSON body ({error}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Returns the `error.code` of an error body, or `""`.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Returns the body as text, for failure messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A token file the simulator issued, with the consumer key that names it there.
pub struct Issued {
    pub file: Vec<u8>,
    pub consumer_key: String,
}

impl Function {
    /// Starts the simulator, creates a table, two KMS keys and an SNS topic in moto and builds
    /// the function from environment variables naming them. `None` when moto is not running (the test is
    /// skipped, except in CI where [`Moto::connect`] fails it).
    pub async fn start() -> Option<Self> {
        let moto = Moto::connect().await?;
        deptoken_shared::dep::install_crypto_provider();
        let sim = deptoken_dep_sim::start("127.0.0.1:0").await.expect("start the simulator");
        let resources = moto.fresh_config().await;
        let topic_arn = create_topic(&moto).await;
        let endpoint = crate::support::moto::moto_endpoint()?;

        let variables: HashMap<&str, String> = HashMap::from([
            ("DEPTOKEN_TABLE", resources.table_name.clone()),
            ("DEPTOKEN_KEYS_KMS_KEY_ID", resources.keys_kms_key_id.clone()),
            ("DEPTOKEN_CREDENTIALS_KMS_KEY_ID", resources.credentials_kms_key_id.clone()),
            ("DEPTOKEN_TOPIC_ARN", topic_arn),
            ("DEPTOKEN_AWS_ENDPOINT_URL", endpoint),
            ("DEPTOKEN_DEP_BASE_URL", sim.base_url.clone()),
            ("DEPTOKEN_DEP_TIMEOUT_SECONDS", "5".to_owned()),
            ("DEPTOKEN_TIME_ZONE", "Asia/Tokyo".to_owned()),
        ]);
        let config = Config::from_lookup(|name| variables.get(name).cloned()).expect("valid configuration");

        // Production loads region and credentials from the default provider chain. Here they
        // are static, so that no provider reaches for an instance metadata endpoint. The
        // endpoint override comes from the configuration, as in production.
        let recorder = SdkRecorder::default();
        let endpoint_url = config.aws.endpoint_url.clone().expect("the endpoint override is configured");
        let sdk_config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(recorder.wrap(deptoken_aws::https_client()))
            .endpoint_url(endpoint_url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                AWS_ACCESS_KEY_ID,
                AWS_SECRET_ACCESS_KEY,
                Some(AWS_SESSION_TOKEN.to_owned()),
                None,
                "lambda-aws-test",
            ))
            .load()
            .await;
        let use_cases = token_upload::build_services_on(&config, &sdk_config).expect("build the services");

        Some(Self {
            app: use_cases.router(),
            sim,
            adapters: AwsAdapters::from_sdk_config(&moto.sdk_config, &config.aws),
            moto,
            config,
            recorder,
        })
    }

    /// Sends `event` through the function.
    pub async fn invoke(&self, event: &Value) -> Answer {
        invoke(&self.app, event).await
    }

    /// Creates entry `name` of tenant `acme` through the function and returns its certificate PEM.
    pub async fn create_entry(&self, name: &str) -> String {
        let mut create = fixture("create-server.json");
        create["body"] = Value::String(json!({"name": name, "display_name": format!("{name} office")}).to_string());
        let created = self.invoke(&create).await;
        assert_eq!(created.status, 201, "create {name}: {}", created.text());

        let download = with_path(fixture("download-certificate.json"), &format!("/v1/servers/{name}/certificate"));
        let certificate = self.invoke(&download).await;
        assert_eq!(certificate.status, 200, "certificate of {name}: {}", certificate.text());
        String::from_utf8(certificate.body).expect("a PEM certificate")
    }

    /// Creates entry `name` and stores an accepted token for it; returns the certificate PEM.
    pub async fn entry_with_token(&self, name: &str) -> String {
        let certificate = self.create_entry(name).await;
        let token = self.issue(&certificate, "Sim MDM Server");
        let upload = with_path(fixture("upload-token.json"), &format!("/v1/servers/{name}/token"));

        let uploaded = self.invoke(&with_binary_body(upload, &token.file)).await;

        assert_eq!(uploaded.status, 200, "first upload to {name}: {}", uploaded.text());
        certificate
    }

    /// Issues a one-year token for `certificate_pem` and MDM server `server_name`, as ABM does.
    pub fn issue(&self, certificate_pem: &str, server_name: &str) -> Issued {
        self.issue_with(IssueRequest {
            server_name: server_name.to_owned(),
            ..IssueRequest::new(certificate_pem)
        })
    }

    pub fn issue_with(&self, request: IssueRequest) -> Issued {
        let issued = self.sim.simulator.issue_token(&request).expect("the simulator issues a token");
        Issued {
            file: issued.token_file.into_bytes(),
            consumer_key: issued.consumer_key,
        }
    }

    /// Returns the credentials inside a token the simulator issued.
    pub fn credentials_of(&self, consumer_key: &str) -> TokenCredentials {
        self.sim.simulator.credentials_for(consumer_key).expect("an issued token")
    }

    /// Reads every item of `tenant`'s partition raw, with consistent reads, in key order.
    pub async fn raw_partition(&self, tenant: &str) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let page = self
                .moto
                .dynamodb
                .query()
                .table_name(&self.config.aws.table_name)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(format!("TENANT#{tenant}")))
                .consistent_read(true)
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .expect("raw query");
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => return items,
            }
        }
    }

    /// Reads every item of the table raw with a paginated Scan.
    pub async fn raw_table(&self) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let page = self
                .moto
                .dynamodb
                .scan()
                .table_name(&self.config.aws.table_name)
                .consistent_read(true)
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .expect("raw scan");
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => return items,
            }
        }
    }

    /// Reads entry `name` of tenant `acme` through the store port.
    pub async fn server(&self, name: &str) -> ServerRecord {
        self.adapters
            .store
            .get_server(&tenant(), &server_name(name))
            .await
            .expect("read the entry")
            .expect("the entry exists")
    }

    /// Reads the history rows of entry `name` of tenant `acme` through the store port.
    pub async fn history(&self, name: &str) -> Vec<UploadRecord> {
        self.adapters
            .store
            .list_history(&tenant(), &server_name(name))
            .await
            .expect("read the history")
    }
}

/// Creates an SNS topic with a fresh name and returns its ARN.
async fn create_topic(moto: &Moto) -> String {
    let sns = aws_sdk_sns::Client::new(&moto.sdk_config);
    let name = crate::support::moto::unique_name("deptoken-notifications");
    let created = sns.create_topic().name(&name).send().await.expect("create an SNS topic");
    created.topic_arn.expect("CreateTopic returns the ARN")
}

/// A raw DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

pub fn tenant() -> TenantId {
    TenantId::parse(TENANT).expect("valid tenant")
}

pub fn server_name(name: &str) -> ServerName {
    ServerName::parse(name).expect("valid name")
}

/// Deserialises `event` as the Lambda runtime does and sends it through `app`.
pub async fn invoke(app: &Router, event: &Value) -> Answer {
    let request = lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event");

    let response = app.clone().oneshot(request).await.expect("the router responds");

    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("read the body").to_bytes().to_vec();
    Answer { status, headers, body }
}

/// Reads the fixture event `name`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/apigw/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {path}: {error}"))
}

/// Points `event` at `path`, in both places API Gateway puts it.
pub fn with_path(mut event: Value, path: &str) -> Value {
    event["rawPath"] = Value::String(path.to_owned());
    event["requestContext"]["http"]["path"] = Value::String(path.to_owned());
    event
}

/// Replaces an event's body with `file`, base64-encoded as API Gateway sends binary bodies.
pub fn with_binary_body(mut event: Value, file: &[u8]) -> Value {
    event["body"] = Value::String(BASE64.encode(file));
    event["isBase64Encoded"] = Value::Bool(true);
    event["headers"]["content-length"] = Value::String(file.len().to_string());
    event
}

/// Puts `file` into the `file` part of the form in `upload-token-multipart.json`.
pub fn with_multipart_file(mut event: Value, file: &[u8]) -> Value {
    let encoded = event["body"].as_str().expect("the fixture has a body");
    let form = BASE64.decode(encoded).expect("the fixture body is base64");
    let at = form
        .windows(MULTIPART_PLACEHOLDER.len())
        .position(|window| window == MULTIPART_PLACEHOLDER)
        .expect("the fixture form has the placeholder");

    let mut body = form[..at].to_vec();
    body.extend_from_slice(file);
    body.extend_from_slice(&form[at + MULTIPART_PLACEHOLDER.len()..]);

    event["body"] = Value::String(BASE64.encode(&body));
    event["headers"]["content-length"] = Value::String(body.len().to_string());
    event
}
