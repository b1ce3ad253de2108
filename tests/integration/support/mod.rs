//! Helpers shared by the integration suites: fixture and tool discovery.

pub mod deployment;
pub mod moto;
pub mod store_override;

use std::path::PathBuf;

/// Whether the run is in CI, where a missing fixture or tool is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The folder of the real Apple-issued token: `DEPTOKEN_APPLE_FIXTURE_DIR`, or
/// `shared/fixtures/apple-issued-token` beside the checkout. `None` (after printing why)
/// when it is missing outside CI; panics in CI.
pub fn apple_fixture_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DEPTOKEN_APPLE_FIXTURE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/apple-issued-token")
        });
    if dir.join("apple-mdm-client-tests-1-server-token.p7m").is_file() {
        return Some(dir);
    }
    if in_ci() {
        panic!("the Apple-issued token fixture is missing at {}", dir.display());
    }
    eprintln!(
        "SKIPPED: the Apple-issued token fixture is missing at {}; set DEPTOKEN_APPLE_FIXTURE_DIR",
        dir.display()
    );
    None
}

/// Whether the `openssl` command is available; prints why a test is skipped when not, and
/// panics in CI.
pub fn openssl_available() -> bool {
    let found = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if in_ci() {
            panic!("the openssl command is missing");
        }
        eprintln!("SKIPPED: the openssl command is missing");
    }
    found
}
