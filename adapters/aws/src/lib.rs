//! AWS adapters of the deptoken ports: [`DynamoStore`] (DynamoDB, single table),
//! [`KmsKeyVault`] and [`KmsCredentialSealer`] (KMS with encryption contexts), and
//! [`SnsNotifier`] and [`SnsSubscribers`] (one SNS topic with a `tenant_id` filter policy).
//!
//! Binaries read an [`AwsConfig`] once at cold start, build the SDK clients once with
//! [`AwsAdapters::load`] and share the adapters behind `Arc<dyn Port>`. All SDK traffic goes
//! through one HTTP stack: hyper with rustls on `ring` (see [`https_client`]).

mod config;
pub mod dynamo;
pub mod kms;
pub mod sns;

pub use config::{AwsAdapters, AwsConfig, ConfigError, https_client, load_sdk_config};
pub use dynamo::{DynamoStore, SWEEP_INDEX, SWEEP_SHARDS, create_table};
pub use kms::{KmsCredentialSealer, KmsKeyVault};
pub use sns::{SnsNotifier, SnsSubscribers};
