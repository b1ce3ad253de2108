#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, the integration suites against OpenSSL, the
# DEP simulator, SQLite and moto server (DynamoDB and KMS on loopback), and the doc tests.
# Then the schemathesis run against the OpenAPI document, the infrastructure checks and the
# browser tests.
# Installs what the tests need when it is missing.
#
# Usage: scripts/test.sh [extra cargo test arguments]
# Under CI=true a missing fixture or tool fails the run instead of skipping tests.
set -euo pipefail

cd "$(dirname "$0")/.."

scripts/install-test-tools.sh

# moto server for the AWS adapter tests: a free port on 127.0.0.1, stopped on exit.
moto_port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >target/moto-server.log 2>&1 &
moto_pid=$!
moto_running() {
    local state
    state=$(ps -o stat= -p "$moto_pid") || return 1
    [[ $state != Z* ]]
}
stop_moto() {
    kill "$moto_pid" 2>/dev/null || return 0
    # moto exits on SIGTERM once its main thread runs again; a busy one gets SIGKILL after 5 s.
    for _ in $(seq 50); do
        moto_running || return 0
        sleep 0.1
    done
    kill -9 "$moto_pid" 2>/dev/null || true
}
trap stop_moto EXIT

deadline=$((SECONDS + 10))
until curl -fs -o /dev/null "http://127.0.0.1:$moto_port/moto-api/data.json"; do
    if ! moto_running || ((SECONDS >= deadline)); then
        echo "moto server did not start on 127.0.0.1:$moto_port; see target/moto-server.log" >&2
        exit 1
    fi
    sleep 0.2
done
export DEPTOKEN_MOTO_ENDPOINT="http://127.0.0.1:$moto_port"
echo "==> moto server on $DEPTOKEN_MOTO_ENDPOINT (pid $moto_pid)"

echo "==> cargo test --workspace"
cargo test --workspace --locked "$@"

echo "==> scripts/api-schema-test.sh (schemathesis against the OpenAPI document)"
scripts/api-schema-test.sh

echo "==> scripts/check-infra.sh (SAM lint and cfn-guard rules, offline)"
scripts/check-infra.sh

echo "==> scripts/browser-test.sh (admin portal in headless Chromium)"
scripts/browser-test.sh

echo "==> scripts/audit.sh (dependency licenses, bans and sources; advisories when available)"
scripts/audit.sh
