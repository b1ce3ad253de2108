//! The [`KeyVault`] contract: a sealed private key opens only with the tenant and key id it
//! was sealed for, any damage is `Rejected`, and sealing is randomised.

use deptoken_shared::ports::{CredentialSealer, KeyVault};
use deptoken_shared::secret::SecretBytes;

use super::{SealedTextCodec, is_rejected, key_id, server_name, unique_tenant};

/// Returns 1,218 bytes in place of a PKCS#8 private key, which the vault treats as opaque.
fn private_key() -> SecretBytes {
    SecretBytes::new((0..=255u8).cycle().take(1_218).collect())
}

pub async fn private_key_round_trip(vault: &dyn KeyVault) {
    let tenant = unique_tenant("vault-round-trip");
    let key = key_id("tokyo-key-1");
    let sealed = vault.seal_private_key(&tenant, &key, &private_key()).await.unwrap();

    let opened = vault.open_private_key(&tenant, &key, &sealed).await.unwrap();

    assert_eq!(opened, private_key());
}

pub async fn private_key_wrong_tenant_is_rejected(vault: &dyn KeyVault) {
    let tenant = unique_tenant("vault-tenant-a");
    let other_tenant = unique_tenant("vault-tenant-b");
    let key = key_id("tokyo-key-1");
    let sealed = vault.seal_private_key(&tenant, &key, &private_key()).await.unwrap();

    let result = vault.open_private_key(&other_tenant, &key, &sealed).await;

    assert!(is_rejected(&result), "{result:?}");
}

pub async fn private_key_wrong_key_id_is_rejected(vault: &dyn KeyVault) {
    let tenant = unique_tenant("vault-key-id");
    let sealed = vault
        .seal_private_key(&tenant, &key_id("tokyo-key-1"), &private_key())
        .await
        .unwrap();

    let result = vault.open_private_key(&tenant, &key_id("tokyo-key-2"), &sealed).await;

    assert!(is_rejected(&result), "{result:?}");
}

pub async fn private_key_damaged_is_rejected(vault: &dyn KeyVault) {
    let tenant = unique_tenant("vault-damaged");
    let key = key_id("tokyo-key-1");
    let sealed = vault.seal_private_key(&tenant, &key, &private_key()).await.unwrap();

    for (label, damaged) in damaged_variants(&sealed) {
        let result = vault.open_private_key(&tenant, &key, &damaged).await;

        assert!(is_rejected(&result), "{label}: {result:?}");
    }
}

pub async fn private_key_seals_differ(vault: &dyn KeyVault) {
    let tenant = unique_tenant("vault-random");
    let key = key_id("tokyo-key-1");

    let first = vault.seal_private_key(&tenant, &key, &private_key()).await.unwrap();
    let second = vault.seal_private_key(&tenant, &key, &private_key()).await.unwrap();

    assert_ne!(first, second);
}

pub async fn private_key_sealed_hides_plaintext(vault: &dyn KeyVault) {
    let tenant = unique_tenant("vault-hides");
    let plaintext = private_key();

    let sealed = vault.seal_private_key(&tenant, &key_id("tokyo-key-1"), &plaintext).await.unwrap();

    let window = &plaintext.expose()[100..132];
    assert!(!sealed.windows(window.len()).any(|part| part == window));
}

/// Checks that a private key sealed for key id `tokyo` does not open as the credential of the
/// server `tokyo`, because the purpose is part of the context.
pub async fn private_key_not_opened_as_credential(vault: &dyn KeyVault, sealer: &dyn CredentialSealer, codec: SealedTextCodec) {
    let tenant = unique_tenant("vault-purpose");
    let sealed = vault
        .seal_private_key(&tenant, &key_id("tokyo"), &SecretBytes::new(b"CS_not_a_private_key".to_vec()))
        .await
        .unwrap();

    let result = sealer.open(&tenant, &server_name("tokyo"), &(codec.encode)(&sealed)).await;

    assert!(is_rejected(&result), "{result:?}");
}

/// Returns damaged copies of a sealed value, each with a label: single bit flips at several
/// positions, a cut, an addition and an empty value.
pub fn damaged_variants(sealed: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut variants = Vec::new();
    for position in [0, 1, sealed.len() / 2, sealed.len() - 1] {
        let mut flipped = sealed.to_vec();
        flipped[position] ^= 0x01;
        variants.push((format!("bit flipped in byte {position}"), flipped));
    }
    variants.push(("last byte cut".to_owned(), sealed[..sealed.len() - 1].to_vec()));
    variants.push(("byte appended".to_owned(), [sealed, &[0]].concat()));
    variants.push(("empty".to_owned(), Vec::new()));
    variants
}
