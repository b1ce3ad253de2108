//! Configuration read once at cold start, and the SDK clients built from it.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::dynamo::DynamoStore;
use crate::kms::{KmsCredentialSealer, KmsKeyVault};

const TABLE_VAR: &str = "DEPTOKEN_TABLE";
const KEYS_KMS_KEY_VAR: &str = "DEPTOKEN_KEYS_KMS_KEY_ID";
const CREDENTIALS_KMS_KEY_VAR: &str = "DEPTOKEN_CREDENTIALS_KMS_KEY_ID";
const ENDPOINT_URL_VAR: &str = "DEPTOKEN_AWS_ENDPOINT_URL";
const KEY_CACHE_TTL_VAR: &str = "DEPTOKEN_KEY_CACHE_TTL_SECONDS";

/// How long an opened private key stays cached when `DEPTOKEN_KEY_CACHE_TTL_SECONDS` is unset.
pub const DEFAULT_KEY_CACHE_TTL: Duration = Duration::from_secs(300);

/// A configuration variable that is missing or invalid.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is missing or empty")]
    Missing(&'static str),
    #[error("environment variable {variable} is invalid: {reason}")]
    Invalid { variable: &'static str, reason: String },
}

/// The AWS resources the adapters use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsConfig {
    /// The DynamoDB table (`DEPTOKEN_TABLE`).
    pub table_name: String,
    /// The KMS key that seals MDM private keys (`DEPTOKEN_KEYS_KMS_KEY_ID`): key id, ARN or alias.
    pub keys_kms_key_id: String,
    /// The KMS key that seals token credentials (`DEPTOKEN_CREDENTIALS_KMS_KEY_ID`).
    pub credentials_kms_key_id: String,
    /// An endpoint URL for every AWS service (`DEPTOKEN_AWS_ENDPOINT_URL`), such as a moto
    /// server in tests. `None` uses the regional AWS endpoints.
    pub endpoint_url: Option<String>,
    /// How long an opened private key stays in memory (`DEPTOKEN_KEY_CACHE_TTL_SECONDS`,
    /// default 300; 0 disables the cache).
    pub key_cache_ttl: Duration,
}

impl AwsConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which returns a variable's value or `None`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &'static str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let required = |name: &'static str| non_empty(name).ok_or(ConfigError::Missing(name));

        let endpoint_url = non_empty(ENDPOINT_URL_VAR);
        if let Some(url) = &endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                variable: ENDPOINT_URL_VAR,
                reason: format!("expected an http:// or https:// URL, got {url:?}"),
            });
        }

        let key_cache_ttl = match non_empty(KEY_CACHE_TTL_VAR) {
            None => DEFAULT_KEY_CACHE_TTL,
            Some(value) => value.parse::<u64>().map(Duration::from_secs).map_err(|_| ConfigError::Invalid {
                variable: KEY_CACHE_TTL_VAR,
                reason: format!("expected a whole number of seconds, got {value:?}"),
            })?,
        };

        Ok(Self {
            table_name: required(TABLE_VAR)?,
            keys_kms_key_id: required(KEYS_KMS_KEY_VAR)?,
            credentials_kms_key_id: required(CREDENTIALS_KMS_KEY_VAR)?,
            endpoint_url,
            key_cache_ttl,
        })
    }
}

/// Builds the one HTTP client of the SDK clients: hyper with rustls on the `ring` crypto
/// provider, so that no second TLS stack (aws-lc) is linked.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Loads the SDK configuration (region and credentials from the default provider chain, as
/// on Lambda) with [`https_client`] and the configured endpoint URL.
pub async fn load_sdk_config(config: &AwsConfig) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https_client());
    if let Some(url) = &config.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The AWS adapters, built once per process from one SDK configuration.
#[derive(Debug, Clone)]
pub struct AwsAdapters {
    pub store: DynamoStore,
    pub key_vault: KmsKeyVault,
    pub sealer: KmsCredentialSealer,
}

impl AwsAdapters {
    /// Loads the SDK configuration and builds the adapters.
    pub async fn load(config: &AwsConfig) -> Self {
        let sdk_config = load_sdk_config(config).await;
        Self::from_sdk_config(&sdk_config, config)
    }

    /// Builds the adapters from an SDK configuration that the caller loaded (tests pass one
    /// with static credentials aimed at moto).
    pub fn from_sdk_config(sdk_config: &SdkConfig, config: &AwsConfig) -> Self {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk_config);
        let kms = aws_sdk_kms::Client::new(sdk_config);

        Self {
            store: DynamoStore::new(dynamodb, config.table_name.clone()),
            key_vault: KmsKeyVault::new(kms.clone(), config.keys_kms_key_id.clone(), config.key_cache_ttl),
            sealer: KmsCredentialSealer::new(kms, config.credentials_kms_key_id.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup_in(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    const COMPLETE: [(&str, &str); 3] = [
        (TABLE_VAR, "deptoken"),
        (KEYS_KMS_KEY_VAR, "alias/deptoken-keys"),
        (CREDENTIALS_KMS_KEY_VAR, "alias/deptoken-credentials"),
    ];

    #[test]
    fn config_reads_required_and_defaults() {
        let config = AwsConfig::from_lookup(lookup_in(&COMPLETE)).expect("complete configuration");

        assert_eq!(config.table_name, "deptoken");
        assert_eq!(config.keys_kms_key_id, "alias/deptoken-keys");
        assert_eq!(config.credentials_kms_key_id, "alias/deptoken-credentials");
        assert_eq!(config.endpoint_url, None);
        assert_eq!(config.key_cache_ttl, DEFAULT_KEY_CACHE_TTL);
    }

    #[test]
    fn config_names_each_missing_variable() {
        for missing in [TABLE_VAR, KEYS_KMS_KEY_VAR, CREDENTIALS_KMS_KEY_VAR] {
            let vars: Vec<_> = COMPLETE.iter().copied().filter(|(name, _)| *name != missing).collect();

            let result = AwsConfig::from_lookup(lookup_in(&vars));

            assert_eq!(result, Err(ConfigError::Missing(missing)), "{missing}");
        }
    }

    #[test]
    fn config_treats_empty_as_missing() {
        let mut vars = COMPLETE.to_vec();
        vars[0] = (TABLE_VAR, "  ");

        let result = AwsConfig::from_lookup(lookup_in(&vars));

        assert_eq!(result, Err(ConfigError::Missing(TABLE_VAR)));
    }

    #[test]
    fn config_reads_endpoint_and_ttl() {
        let mut vars = COMPLETE.to_vec();
        vars.push((ENDPOINT_URL_VAR, "http://127.0.0.1:5000"));
        vars.push((KEY_CACHE_TTL_VAR, "60"));

        let config = AwsConfig::from_lookup(lookup_in(&vars)).expect("valid configuration");

        assert_eq!(config.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(config.key_cache_ttl, Duration::from_secs(60));
    }

    #[test]
    fn config_rejects_invalid_values() {
        let cases = [
            ("ttl not a number", KEY_CACHE_TTL_VAR, "5m"),
            ("ttl negative", KEY_CACHE_TTL_VAR, "-1"),
            ("endpoint without scheme", ENDPOINT_URL_VAR, "127.0.0.1:5000"),
        ];
        for (label, variable, value) in cases {
            let mut vars = COMPLETE.to_vec();
            vars.push((variable, value));

            let result = AwsConfig::from_lookup(lookup_in(&vars));

            assert!(
                matches!(result, Err(ConfigError::Invalid { variable: v, .. }) if v == variable),
                "{label}: {result:?}"
            );
        }
    }
}
