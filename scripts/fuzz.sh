#!/usr/bin/env bash
# Fuzzes the token reader and the HTTP request parsing with cargo fuzz (libFuzzer) for a
# bounded time per target, and prints executions, time and the outcome of each target.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 60
#   TARGET              token_file, payload, multipart, json_requests (default: all four)
#
# libFuzzer needs nightly compiler flags (-Zsanitizer=address, sancov). The project builds with
# stable Rust, so the script sets RUSTC_BOOTSTRAP=1 to let the stable compiler accept them.
# Seeds are written fresh on every run. They are tokens made by the DEP simulator's issuer and,
# when the openssl command exists, by OpenSSL, all for a fixed key the targets also derive,
# with truncations and bit flips of them. The real Apple-issued token is added when its
# fixture folder exists, copied into the git-ignored corpus only, never into the repository.
# A crash, timeout (-timeout=5) or out-of-memory (-rss_limit_mb=2048) leaves its input in
# fuzz/artifacts/<target>/ and makes the script exit 1 after all targets ran. Fixed inputs
# belong in fuzz/regressions/<target>/, which the integration tests replay on every run.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(token_file payload multipart json_requests)
fi

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1

cd fuzz
corpus=$root/fuzz/corpus
work=$root/fuzz/target/seed-work
mkdir -p "$corpus" "$work"

echo "==> writing seed corpora"
cargo run --quiet --release --example seed_corpus -- "$work"
for target in token_file payload multipart json_requests; do
    mkdir -p "$corpus/$target"
    cp "$work/$target"/* "$corpus/$target/"
done

if command -v openssl >/dev/null 2>&1; then
    printf 'Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n-----BEGIN MESSAGE-----\n{"consumer_key":"CK_ossl","consumer_secret":"CS_ossl","access_token":"AT_ossl","access_secret":"AS_ossl","access_token_expiry":"2027-03-01T00:00:00Z"}\n-----END MESSAGE-----\n' >"$work/payload.txt"
    for cipher in aes128 aes256 des3; do
        # -stream writes BER with indefinite lengths and a chunked OCTET STRING, as Apple does.
        openssl cms -encrypt -binary "-$cipher" -stream -outform DER -in "$work/payload.txt" \
            -out "$corpus/token_file/openssl-$cipher.ber" "$work/fixed-certificate.pem"
        {
            printf 'Content-Type: application/pkcs7-mime; name="smime.p7m"; smime-type=enveloped-data\n'
            printf 'Content-Transfer-Encoding: base64\n\n'
            base64 -w 76 "$corpus/token_file/openssl-$cipher.ber"
        } >"$corpus/token_file/openssl-$cipher.p7m"
    done
    echo "==> added OpenSSL tokens (AES-128, AES-256, DES-EDE3)"
else
    echo "==> openssl missing: no OpenSSL-made seeds"
fi

apple_dir=${DEPTOKEN_APPLE_FIXTURE_DIR:-$root/../shared/fixtures/apple-issued-token}
if [ -f "$apple_dir/apple-mdm-client-tests-1-server-token.p7m" ]; then
    cp "$apple_dir/apple-mdm-client-tests-1-server-token.p7m" "$corpus/token_file/apple-issued.p7m"
    echo "==> added the Apple-issued token to the token_file corpus"
else
    echo "==> Apple-issued token not found at $apple_dir: not seeded"
fi

summary=$root/fuzz/target/fuzz-summary.txt
: >"$summary"
failed=0
for target in "${targets[@]}"; do
    log=$root/fuzz/target/fuzz-$target.log
    echo "==> cargo fuzz run $target for ${seconds}s (log: fuzz/target/fuzz-$target.log)"
    mkdir -p "$root/fuzz/artifacts/$target"
    status=ok
    if ! cargo fuzz run "$target" "$corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=5 \
        -max_len=16384 -print_final_stats=1 >"$log" 2>&1; then
        status=FAILED
        failed=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    elapsed=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    corpus_size=$(find "$corpus/$target" -type f | wc -l)
    line="$target: ${runs:-?} executions in ${elapsed:-?} s, corpus $corpus_size files, $status"
    echo "$line" | tee -a "$summary"
    if [ "$status" = FAILED ]; then
        tail -40 "$log"
    fi
done

echo "==> summary (fuzz/target/fuzz-summary.txt)"
cat "$summary"
exit "$failed"
