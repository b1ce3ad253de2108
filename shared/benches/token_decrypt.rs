//! Cost of reading one server token: parsing the file, and parsing plus decrypting it, next to
//! the RSA-2048 private-key operation that dominates decryption.
//!
//! The token is the real Apple-issued one when its fixture folder is present
//! (`DEPTOKEN_APPLE_FIXTURE_DIR`, or `shared/fixtures/apple-issued-token` beside the checkout).
//! Otherwise `openssl cms -encrypt` makes one for a freshly generated key. Without either,
//! only the RSA benchmark runs.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use deptoken_shared::domain::{ServerName, TenantId};
use deptoken_shared::keys::{MdmPrivateKey, generate_mdm_key};
use deptoken_shared::token::EncryptedToken;
use rsa::Pkcs1v15Encrypt;

const APPLE_TOKEN_FILE: &str = "apple-mdm-client-tests-1-server-token.p7m";
const APPLE_KEY_FILE: &str = "apple-mdm-client-tests-1.pem";

const PAYLOAD: &str = "Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\
-----BEGIN MESSAGE-----\n\
{\"consumer_key\":\"CK_bench\",\"consumer_secret\":\"CS_bench\",\"access_token\":\"AT_bench\",\"access_secret\":\"AS_bench\",\"access_token_expiry\":\"2027-01-01T00:00:00Z\"}\n\
-----END MESSAGE-----\n";

/// A token file with the key that decrypts it, and where it came from.
struct BenchToken {
    source: &'static str,
    file: Vec<u8>,
    key: MdmPrivateKey,
}

fn apple_fixture_dir() -> PathBuf {
    std::env::var_os("DEPTOKEN_APPLE_FIXTURE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/fixtures/apple-issued-token")
        })
}

fn apple_token() -> Option<BenchToken> {
    let dir = apple_fixture_dir();
    let file = std::fs::read(dir.join(APPLE_TOKEN_FILE)).ok()?;
    let pem = std::fs::read_to_string(dir.join(APPLE_KEY_FILE)).ok()?;
    let key = MdmPrivateKey::from_pem(&pem).ok()?;
    Some(BenchToken {
        source: "apple fixture",
        file,
        key,
    })
}

/// Makes a streamed AES-128-CBC token with `openssl cms -encrypt` for a generated key.
fn openssl_token() -> Option<BenchToken> {
    let generated = generate_mdm_key(
        &TenantId::parse("bench").ok()?,
        &ServerName::parse("bench").ok()?,
        Utc::now(),
    )
    .ok()?;
    let dir = tempfile::tempdir().ok()?;
    let certificate = dir.path().join("mdm.pem");
    let payload = dir.path().join("payload.txt");
    let token = dir.path().join("token.ber");
    std::fs::write(&certificate, &generated.certificate_pem).ok()?;
    std::fs::write(&payload, PAYLOAD).ok()?;

    let status = Command::new("openssl")
        .args([
            "cms", "-encrypt", "-binary", "-aes128", "-stream", "-outform", "DER", "-in",
        ])
        .arg(&payload)
        .arg("-out")
        .arg(&token)
        .arg(&certificate)
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    Some(BenchToken {
        source: "openssl cms -encrypt",
        file: std::fs::read(&token).ok()?,
        key: generated.private_key,
    })
}

fn bench_token(c: &mut Criterion) {
    let Some(token) = apple_token().or_else(openssl_token) else {
        eprintln!("SKIPPED token benchmarks: neither the Apple fixture nor openssl is available");
        return;
    };
    eprintln!("token benchmarks use the token from {}", token.source);

    let parsed = EncryptedToken::parse(&token.file).expect("the benchmark token parses");
    let recipient = parsed.recipients()[0].clone();
    parsed
        .decrypt(&recipient, &token.key)
        .expect("the benchmark token decrypts");

    c.bench_function("token/parse", |b| {
        b.iter(|| EncryptedToken::parse(black_box(&token.file)).expect("parses"))
    });
    c.bench_function("token/parse_and_decrypt", |b| {
        b.iter(|| {
            let parsed = EncryptedToken::parse(black_box(&token.file)).expect("parses");
            parsed.decrypt(&recipient, &token.key).expect("decrypts")
        })
    });
}

fn bench_rsa(c: &mut Criterion) {
    let generated = generate_mdm_key(
        &TenantId::parse("bench").expect("valid tenant"),
        &ServerName::parse("bench").expect("valid server"),
        Utc::now(),
    )
    .expect("key generation succeeds");
    let key = generated.private_key.rsa();
    let ciphertext = key
        .to_public_key()
        .pkcs1v15_encrypt(&[7u8; 16])
        .expect("RSA encryption succeeds");

    c.bench_function("rsa2048/pkcs1v15_decrypt", |b| {
        b.iter(|| {
            key.decrypt(Pkcs1v15Encrypt, black_box(&ciphertext))
                .expect("decrypts")
        })
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_token, bench_rsa
}
criterion_main!(benches);
