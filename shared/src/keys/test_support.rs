//! Keys shared by the unit tests of this crate. RSA key generation takes a noticeable time,
//! so each key is generated once per test binary.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use super::{GeneratedKey, generate_mdm_key};
use crate::domain::{ServerName, TenantId};

/// Returns the instant test keys are generated at, 2026-01-01T00:00:00Z.
pub(crate) fn test_now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("a valid timestamp")
}

fn generate(tenant: &str, server: &str) -> GeneratedKey {
    let tenant = TenantId::parse(tenant).expect("a valid tenant id");
    let server = ServerName::parse(server).expect("a valid server name");
    generate_mdm_key(&tenant, &server, test_now()).expect("key generation succeeds")
}

/// Returns the key most tests encrypt tokens for (tenant `acme`, server `tokyo-office`).
pub(crate) fn first_key() -> &'static GeneratedKey {
    static KEY: OnceLock<GeneratedKey> = OnceLock::new();
    KEY.get_or_init(|| generate("acme", "tokyo-office"))
}

/// Returns another key, for wrong-recipient and wrong-key cases (tenant `acme`, server `osaka`).
pub(crate) fn second_key() -> &'static GeneratedKey {
    static KEY: OnceLock<GeneratedKey> = OnceLock::new();
    KEY.get_or_init(|| generate("acme", "osaka"))
}
