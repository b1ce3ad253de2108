//! moto server, the AWS API implementation that `scripts/test.sh` starts on 127.0.0.1: SDK
//! clients aimed at it, and a fresh table and fresh KMS keys per test, so that tests run in
//! parallel without resetting moto.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use deptoken_aws::{AwsAdapters, AwsConfig};

use super::in_ci;

const ENDPOINT_VAR: &str = "DEPTOKEN_MOTO_ENDPOINT";

/// Returns the moto server's URL from `DEPTOKEN_MOTO_ENDPOINT`, or `None` (after printing
/// why) when the variable is unset outside CI; panics in CI.
pub fn moto_endpoint() -> Option<String> {
    match std::env::var(ENDPOINT_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if in_ci() => panic!("{ENDPOINT_VAR} is not set: run the tests with scripts/test.sh"),
        _ => {
            eprintln!("SKIPPED: moto server not running (run scripts/test.sh)");
            None
        }
    }
}

/// Returns a name for an AWS resource that no other call in this test run returns.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let sequence = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{sequence}", std::process::id())
}

/// SDK clients aimed at moto with static test credentials in `us-east-1`.
pub struct Moto {
    pub sdk_config: SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub kms: aws_sdk_kms::Client,
}

impl Moto {
    /// Connects to the moto server of this run; `None` when the test is skipped.
    pub async fn connect() -> Option<Self> {
        let endpoint = moto_endpoint()?;
        let sdk_config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(deptoken_aws::https_client())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "moto-test"))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            )
            .load()
            .await;
        Some(Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk_config),
            kms: aws_sdk_kms::Client::new(&sdk_config),
            sdk_config,
        })
    }

    /// Creates a table with the deptoken layout under a fresh name and returns the name.
    pub async fn create_table(&self) -> String {
        let name = unique_name("deptoken");
        deptoken_aws::create_table(&self.dynamodb, &name)
            .await
            .unwrap_or_else(|error| panic!("create table {name}: {error:?}"));
        name
    }

    /// Creates a symmetric KMS key and returns its key id.
    pub async fn create_kms_key(&self) -> String {
        let output = self.kms.create_key().send().await.expect("create a KMS key");
        output
            .key_metadata
            .map(|metadata| metadata.key_id)
            .expect("CreateKey returns the key metadata")
    }

    /// Creates fresh resources (a new table and two new KMS keys) and returns their configuration.
    pub async fn fresh_config(&self) -> AwsConfig {
        AwsConfig {
            table_name: self.create_table().await,
            keys_kms_key_id: self.create_kms_key().await,
            credentials_kms_key_id: self.create_kms_key().await,
            endpoint_url: None,
            key_cache_ttl: Duration::from_secs(300),
        }
    }

    /// Builds the adapters over fresh resources (see [`Moto::fresh_config`]).
    pub async fn fresh_adapters(&self) -> (AwsAdapters, AwsConfig) {
        let config = self.fresh_config().await;
        (AwsAdapters::from_sdk_config(&self.sdk_config, &config), config)
    }
}
