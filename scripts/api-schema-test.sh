#!/usr/bin/env bash
# Tests the HTTP API against its OpenAPI document with schemathesis: generated requests for
# every documented operation, checked for 5xx responses and for status codes, content types,
# headers and bodies the document does not allow.
#
# Installs schemathesis into .venv when it is missing, builds deptoken and starts
# `deptoken serve --simulator` on free loopback ports with a fresh data folder. Before the run
# it creates the entry `schema-test` with a token issued by the DEP simulator, so that the
# operations on `/v1/servers/{name}` also reach an existing entry with a token, and the entry
# `schema-delete` for `DELETE /v1/servers/{name}`. Settings are in
# tests/schemathesis/schemathesis.toml. The server is stopped by its pid on exit.
#
# Usage: scripts/api-schema-test.sh [extra schemathesis run arguments]
# The report (JUnit XML) goes to target/schemathesis/. Prints "N passed, N failed"
# (operations) as its last line and exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

# 4.32.5 installs on Python 3.11 with no conflict with moto in the same .venv.
schemathesis_version=4.32.5
# The whole schemathesis run is stopped after this many seconds.
run_timeout_seconds=150

if [[ ! -x .venv/bin/python ]]; then
    echo "==> python3 -m venv .venv"
    python3 -m venv .venv
fi
if [[ $(.venv/bin/schemathesis --version 2>/dev/null) != *" $schemathesis_version" ]]; then
    echo "==> installing schemathesis $schemathesis_version into .venv"
    .venv/bin/pip install --quiet "schemathesis==$schemathesis_version"
fi

echo "==> cargo build -p deptoken"
cargo build -p deptoken --locked

work=$(mktemp -d)
server_pid=
stop_server() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop_server EXIT

# Port 0 lets the runner and its simulator pick free ports; both addresses are printed.
# The log files exist before the server starts, so that reading them below cannot race it.
: >"$work/stdout.log"
: >"$work/stderr.log"
target/debug/deptoken serve --simulator --simulator-addr 127.0.0.1:0 --addr 127.0.0.1:0 \
    --data-dir "$work/data" >"$work/stdout.log" 2>"$work/stderr.log" &
server_pid=$!

api_url=
sim_url=
deadline=$((SECONDS + 30))
while [[ -z $api_url || -z $sim_url ]] || ! curl -fs -o /dev/null "$api_url/v1/openapi.json"; do
    if ! kill -0 "$server_pid" 2>/dev/null || ((SECONDS >= deadline)); then
        echo "deptoken serve did not become ready within 30 s; its output:" >&2
        cat "$work/stdout.log" "$work/stderr.log" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
    api_url=$(sed -n 's/^deptoken API: //p' "$work/stdout.log")
    sim_url=$(sed -n 's/^DEP simulator: //p' "$work/stdout.log")
    sleep 0.2
done
echo "==> deptoken serve on $api_url, DEP simulator on $sim_url (pid $server_pid)"

# Sends one setup request with curl and fails the script unless the status is `expected`.
expect_status() {
    local expected=$1 output=$2
    shift 2
    local status
    status=$(curl -s -o "$output" -w '%{http_code}' "$@")
    if [[ $status != "$expected" ]]; then
        echo "setup request failed with HTTP $status (expected $expected): curl $*" >&2
        cat "$output" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
}

echo "==> creating the entries schema-test (with a simulator token) and schema-delete"
for name in schema-test schema-delete; do
    expect_status 201 "$work/created.json" -X POST -H 'Content-Type: application/json' \
        -d "{\"name\":\"$name\",\"display_name\":\"Schema test $name\"}" "$api_url/v1/servers"
done
expect_status 200 "$work/certificate.pem" "$api_url/v1/servers/schema-test/certificate"
expires_at=$(date -u -d '+300 days' +%Y-%m-%dT%H:%M:%SZ)
expect_status 200 "$work/token.p7m" -X POST --data-binary "@$work/certificate.pem" \
    "$sim_url/sim/tokens?server_name=MDM%20schema-test&expires_at=$expires_at"
expect_status 200 "$work/uploaded.json" -X PUT -H 'Content-Type: application/pkcs7-mime' \
    --data-binary "@$work/token.p7m" "$api_url/v1/servers/schema-test/token"

# Checks: `all` but `ignored_auth`. The local runner serves one fixed admin caller and reads
# no Authorization header. On AWS, API Gateway's JWT authorizer rejects a missing or invalid
# token before the function runs. For the same reason no Authorization header is generated.
report_dir="$root/target/schemathesis"
mkdir -p "$report_dir"
echo "==> schemathesis $schemathesis_version run $api_url/v1/openapi.json"
set +e
HYPOTHESIS_STORAGE_DIRECTORY="$report_dir/hypothesis" \
    timeout --signal=INT "$run_timeout_seconds" .venv/bin/schemathesis \
    --config-file tests/schemathesis/schemathesis.toml --no-color \
    run "$api_url/v1/openapi.json" \
    --checks all --exclude-checks ignored_auth \
    --generation-with-security-parameters false \
    --report junit --report-junit-path "$report_dir/junit.xml" \
    "$@"
status=$?
set -e
if ((status == 124)); then
    echo "schemathesis did not finish within $run_timeout_seconds s" >&2
fi

# The JUnit report has one test case per operation plus one for the stateful phase. A failed
# one has a <failure> or <error> child.
counts=$(.venv/bin/python - "$report_dir/junit.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ElementTree

try:
    cases = list(ElementTree.parse(sys.argv[1]).getroot().iter("testcase"))
except (OSError, ElementTree.ParseError):
    cases = []
failed = sum(1 for case in cases if case.find("failure") is not None or case.find("error") is not None)
print(len(cases) - failed, failed)
EOF
)
read -r passed failed <<<"$counts"
if ((status != 0 && failed == 0)); then
    failed=1
fi
echo "$passed passed, $failed failed"
exit "$status"
