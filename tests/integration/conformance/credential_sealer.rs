//! The [`CredentialSealer`] contract: a sealed credential opens only with the tenant and
//! server it was sealed for, any damage is `Rejected`, and sealing is randomised.

use deptoken_shared::ports::{CredentialSealer, KeyVault};
use deptoken_shared::secret::SecretText;

use super::key_vault::damaged_variants;
use super::{SealedTextCodec, is_rejected, key_id, server_name, unique_tenant};

/// Returns a consumer secret shaped like Apple's (`CS_` and 40 hex digits).
fn credential() -> SecretText {
    SecretText::new("CS_3e8f0c2ab5d74e61f9c0a1b2c3d4e5f60718293a")
}

pub async fn credential_round_trip(sealer: &dyn CredentialSealer) {
    let tenant = unique_tenant("sealer-round-trip");
    let server = server_name("tokyo");
    let values = [
        ("consumer secret", credential()),
        ("access token", SecretText::new(format!("AT_{}", "7".repeat(160)))),
        ("non-ASCII text", SecretText::new("資格情報-ß-✓")),
    ];

    for (label, value) in values {
        let sealed = sealer.seal(&tenant, &server, &value).await.unwrap();

        let opened = sealer.open(&tenant, &server, &sealed).await.unwrap();

        assert_eq!(opened, value, "{label}");
    }
}

pub async fn credential_wrong_tenant_is_rejected(sealer: &dyn CredentialSealer) {
    let tenant = unique_tenant("sealer-tenant-a");
    let other_tenant = unique_tenant("sealer-tenant-b");
    let server = server_name("tokyo");
    let sealed = sealer.seal(&tenant, &server, &credential()).await.unwrap();

    let result = sealer.open(&other_tenant, &server, &sealed).await;

    assert!(is_rejected(&result), "{result:?}");
}

pub async fn credential_wrong_server_is_rejected(sealer: &dyn CredentialSealer) {
    let tenant = unique_tenant("sealer-server");
    let sealed = sealer.seal(&tenant, &server_name("tokyo"), &credential()).await.unwrap();

    let result = sealer.open(&tenant, &server_name("osaka"), &sealed).await;

    assert!(is_rejected(&result), "{result:?}");
}

pub async fn credential_damaged_is_rejected(sealer: &dyn CredentialSealer, codec: SealedTextCodec) {
    let tenant = unique_tenant("sealer-damaged");
    let server = server_name("tokyo");
    let sealed = sealer.seal(&tenant, &server, &credential()).await.unwrap();
    let bytes = (codec.decode)(&sealed).expect("sealed credential decodes with the adapter's codec");

    for (label, damaged) in damaged_variants(&bytes) {
        let result = sealer.open(&tenant, &server, &(codec.encode)(&damaged)).await;

        assert!(is_rejected(&result), "{label}: {result:?}");
    }
}

pub async fn credential_garbage_is_rejected(sealer: &dyn CredentialSealer) {
    let tenant = unique_tenant("sealer-garbage");
    let server = server_name("tokyo");
    let inputs = [
        ("empty", String::new()),
        ("plain text", "CS_3e8f0c2ab5d74e61f9c0a1b2c3d4e5f60718293a".to_owned()),
        ("not base64", "%%% not sealed %%%".to_owned()),
        ("short base64", "AAAA".to_owned()),
    ];

    for (label, input) in inputs {
        let result = sealer.open(&tenant, &server, &input).await;

        assert!(is_rejected(&result), "{label}: {result:?}");
    }
}

pub async fn credential_seals_differ(sealer: &dyn CredentialSealer) {
    let tenant = unique_tenant("sealer-random");
    let server = server_name("tokyo");

    let first = sealer.seal(&tenant, &server, &credential()).await.unwrap();
    let second = sealer.seal(&tenant, &server, &credential()).await.unwrap();

    assert_ne!(first, second);
}

pub async fn credential_sealed_hides_value(sealer: &dyn CredentialSealer) {
    let tenant = unique_tenant("sealer-hides");

    let sealed = sealer.seal(&tenant, &server_name("tokyo"), &credential()).await.unwrap();

    assert!(!sealed.contains("3e8f0c2ab5d74e61"));
}

/// Checks that a credential sealed for the server `tokyo` does not open as the private key of
/// key id `tokyo`, because the purpose is part of the context.
pub async fn credential_not_opened_as_private_key(sealer: &dyn CredentialSealer, vault: &dyn KeyVault, codec: SealedTextCodec) {
    let tenant = unique_tenant("sealer-purpose");
    let sealed = sealer.seal(&tenant, &server_name("tokyo"), &credential()).await.unwrap();
    let bytes = (codec.decode)(&sealed).expect("sealed credential decodes with the adapter's codec");

    let result = vault.open_private_key(&tenant, &key_id("tokyo"), &bytes).await;

    assert!(is_rejected(&result), "{result:?}");
}
