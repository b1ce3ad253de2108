#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, the integration suites against OpenSSL, the
# DEP simulator and SQLite, and the doc tests. Installs what the tests need when it is missing.
#
# Usage: scripts/test.sh [extra cargo test arguments]
# Under CI=true a missing fixture or tool fails the run instead of skipping tests.
set -euo pipefail

cd "$(dirname "$0")/.."

scripts/install-test-tools.sh

echo "==> cargo test --workspace"
cargo test --workspace --locked "$@"
