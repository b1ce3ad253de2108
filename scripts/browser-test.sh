#!/usr/bin/env bash
# Runs the admin portal's end-to-end tests in headless Chromium against a local runner with
# the DEP simulator. Installs what is missing: Debian's chromium, Japanese fonts (for the
# screenshots), node and npm with apt-get, and playwright-core with npm. Then builds deptoken
# and starts `deptoken serve --simulator` on free loopback ports with a fresh data folder. It runs
# tests/browser/portal.test.mjs with node's test runner and stops the server by its pid. Then it
# runs tests/browser/signin.test.mjs, which starts its own stand-in OpenID provider and a second
# runner with --portal-config.
#
# Screenshots go to target/screenshots/, or to docs/screenshots/ (the reviewed ones the docs
# show) with UPDATE_SCREENSHOTS=1. Prints "N passed, N failed" as its last line.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

# Debian packages need root: sudo when not running as root.
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

if [[ ! -x /usr/bin/chromium ]] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    echo "==> apt-get install chromium fonts-noto-cjk"
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "==> apt-get install nodejs npm"
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

if [[ ! -d tests/browser/node_modules/playwright-core ]]; then
    echo "==> npm ci (tests/browser)"
    (cd tests/browser && npm ci --no-audit --no-fund)
fi

echo "==> cargo build -p deptoken"
cargo build -p deptoken --locked
# cargo builds into CARGO_TARGET_DIR when it is set (relative to the repository root).
target_dir=${CARGO_TARGET_DIR:-target}
[[ $target_dir == /* ]] || target_dir="$root/$target_dir"

work=$(mktemp -d)
# A copy, so that a build of another checkout into a shared target folder cannot swap the
# binary under the tests.
deptoken_bin="$work/deptoken"
cp "$target_dir/debug/deptoken" "$deptoken_bin"
server_pid=
stop_server() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop_server EXIT

# Port 0 lets the runner and its simulator pick free ports; both addresses are printed. The log
# files exist before the server starts, so the wait loop below can read them at once.
: >"$work/stdout.log"
: >"$work/stderr.log"
"$deptoken_bin" serve --simulator --simulator-addr 127.0.0.1:0 --addr 127.0.0.1:0 \
    --data-dir "$work/data" >"$work/stdout.log" 2>"$work/stderr.log" &
server_pid=$!

api_url=
sim_url=
deadline=$((SECONDS + 30))
while [[ -z $api_url || -z $sim_url ]] || ! curl -fs -o /dev/null "$api_url/v1/messages"; do
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

screenshot_dir="$root/target/screenshots"
if [[ ${UPDATE_SCREENSHOTS:-} == 1 ]]; then
    screenshot_dir="$root/docs/screenshots"
fi
mkdir -p "$screenshot_dir"
set +e
(cd tests/browser && DEPTOKEN_URL="$api_url" DEPTOKEN_SIM_URL="$sim_url" DEPTOKEN_BIN="$deptoken_bin" \
    SCREENSHOT_DIR="$screenshot_dir" \
    node --test --test-concurrency=1 --test-reporter=spec portal.test.mjs signin.test.mjs) | tee "$work/node-test.log"
status=${PIPESTATUS[0]}
set -e

passed=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$work/node-test.log")
failed=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$work/node-test.log")
skipped=$(sed -n 's/^ℹ skipped \([0-9]*\)$/\1/p' "$work/node-test.log")
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit "$status"
