//! Cross-crate integration tests against real components: OpenSSL, the real Apple-issued
//! token, the DEP simulator on loopback and the SQLite store. One binary keeps link time down.

mod aws;
mod conformance;
mod dep_client;
mod dep_sim;
mod embedded;
mod harness;
mod hostile;
mod http_api;
mod lambda;
mod lambda_aws;
mod notifier_aws;
mod portal;
mod subscribers;
mod support;
mod sweep;
mod sweep_aws;
mod sweep_year;
mod tenant_settings;
mod token_apple;
mod token_openssl;
mod upload;
