#!/usr/bin/env bash
# Checks the dependency tree of the workspace:
# - cargo-deny's licenses, bans and sources checks (deny.toml), which need no network;
# - cargo-audit's RustSec advisory check, when an advisory database is on this machine.
#
# The RustSec advisory database is a git repository that cargo-audit clones from GitHub. This
# machine and CI reach only the package registries, and no PyPI or npm package ships the
# database (their package lists were searched). So the advisory check is skipped with that
# reason unless a copy exists at $DEPTOKEN_ADVISORY_DB (default ~/.cargo/advisory-db).
# cargo-audit is installed only then, because without a database it has nothing to check.
#
# Usage: scripts/audit.sh
set -euo pipefail

cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2

if ! command -v cargo-deny >/dev/null 2>&1; then
    # A debug build skips the optimiser, so it compiles faster, and it still checks this
    # workspace in seconds.
    echo "==> installing cargo-deny $CARGO_DENY_VERSION (debug build)"
    cargo install --locked --debug cargo-deny --version "$CARGO_DENY_VERSION"
fi
# cargo-deny reads `cargo metadata`, which needs the sources of every crate in Cargo.lock,
# those of other targets (Android, Windows, wasm) too. `cargo build` fetched only this one's.
echo "==> cargo fetch --locked"
cargo fetch --locked
echo "==> cargo deny check licenses bans sources"
cargo deny --offline --log-level error check licenses bans sources
echo "licenses, bans and sources: ok"

advisory_db=${DEPTOKEN_ADVISORY_DB:-$HOME/.cargo/advisory-db}
if [ -d "$advisory_db/crates" ]; then
    if ! command -v cargo-audit >/dev/null 2>&1; then
        echo "==> installing cargo-audit"
        cargo install --locked cargo-audit
    fi
    echo "==> cargo audit (advisory database at $advisory_db)"
    cargo audit --no-fetch --stale --db "$advisory_db" --file Cargo.lock
else
    echo "SKIPPED advisories: the RustSec advisory database is unavailable offline (no copy at" \
        "$advisory_db; it is cloned from GitHub, which this machine cannot reach, and no registry" \
        "package ships it). Set DEPTOKEN_ADVISORY_DB to a copy to run cargo audit."
fi
