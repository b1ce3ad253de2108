#!/usr/bin/env bash
# Checks infra/ offline, with no AWS account, credentials or network:
#   - `sam validate --lint` (cfn-lint after the SAM transform) accepts infra/template.yaml;
#   - the cfn-guard rules in infra/policy/*.guard pass on it;
#   - the template agrees with the Rust code (infra/tests/template_matches_code.py);
#   - infra/tests/broken-template.yaml fails the lint, fails cfn-guard with exit code 19,
#     and fails every single rule, so that no rule passes by matching nothing.
# Installs aws-sam-cli (with cfn-lint) into .venv and cfn-guard into ~/.cargo/bin when they
# are missing. Building cfn-guard takes about 2 to 3 minutes on 2 cores.
#
# Usage: scripts/check-infra.sh
# Ends with "infra: N passed, M failed" and exits non-zero when a check failed.
set -euo pipefail

cd "$(dirname "$0")/.."

SAM_CLI_VERSION=1.170.0
CFN_GUARD_VERSION=3.2.1

# sam validate needs a region but never calls AWS. Telemetry is off because it would use the network.
export AWS_DEFAULT_REGION=us-east-1
export SAM_CLI_TELEMETRY=0

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if [ ! -x .venv/bin/sam ]; then
    echo "==> installing aws-sam-cli $SAM_CLI_VERSION into .venv"
    .venv/bin/pip install --quiet "aws-sam-cli==$SAM_CLI_VERSION"
fi

cfn_guard=$(command -v cfn-guard || true)
if [ -z "$cfn_guard" ] && [ -x "$HOME/.cargo/bin/cfn-guard" ]; then
    cfn_guard="$HOME/.cargo/bin/cfn-guard"
fi
if [ -z "$cfn_guard" ]; then
    # A debug build skips the optimiser, so it compiles faster, and it still checks the template
    # in a fraction of a second.
    echo "==> installing cfn-guard $CFN_GUARD_VERSION with cargo install --debug"
    cargo install cfn-guard --locked --debug --version "$CFN_GUARD_VERSION"
    cfn_guard="$HOME/.cargo/bin/cfn-guard"
fi

template=infra/template.yaml
broken=infra/tests/broken-template.yaml
log_dir=target/check-infra
mkdir -p "$log_dir"

passed=0
failed=0
pass() {
    echo "ok - $1"
    passed=$((passed + 1))
}
fail() {
    echo "not ok - $1" >&2
    failed=$((failed + 1))
}

echo "==> sam validate --lint and cfn-guard on $template"

if .venv/bin/sam validate --lint -t "$template" >"$log_dir/lint-template.log" 2>&1; then
    pass "sam validate --lint accepts $template"
else
    cat "$log_dir/lint-template.log" >&2
    fail "sam validate --lint accepts $template"
fi

if "$cfn_guard" validate -d "$template" -r infra/policy --show-summary fail >"$log_dir/guard-template.log" 2>&1; then
    pass "cfn-guard rules pass on $template"
else
    cat "$log_dir/guard-template.log" >&2
    fail "cfn-guard rules pass on $template"
fi

if .venv/bin/python infra/tests/template_matches_code.py >"$log_dir/template-matches-code.log" 2>&1; then
    pass "template matches the code ($(grep -c '^ok' "$log_dir/template-matches-code.log") checks)"
else
    grep -v '^ok' "$log_dir/template-matches-code.log" >&2 || true
    fail "template matches the code"
fi

echo "==> the broken template must fail: $broken"

lint_status=0
.venv/bin/sam validate --lint -t "$broken" >"$log_dir/lint-broken.log" 2>&1 || lint_status=$?
if [ "$lint_status" -ne 0 ] && grep -q "Linting failed" "$log_dir/lint-broken.log"; then
    pass "sam validate --lint rejects $broken"
else
    cat "$log_dir/lint-broken.log" >&2
    fail "sam validate --lint rejects $broken (exit $lint_status)"
fi

guard_status=0
"$cfn_guard" validate -d "$broken" -r infra/policy --show-summary all >"$log_dir/guard-broken.log" 2>&1 || guard_status=$?
if [ "$guard_status" -eq 19 ]; then
    pass "cfn-guard rejects $broken with exit code 19"
else
    tail -n 20 "$log_dir/guard-broken.log" >&2
    fail "cfn-guard rejects $broken with exit code 19 (got $guard_status)"
fi

for rules in infra/policy/*.guard; do
    file=$(basename "$rules")
    for rule in $(sed -n 's/^rule \([A-Za-z0-9_]*\).*/\1/p' "$rules"); do
        if grep -Eq "^$file/$rule +FAIL\$" "$log_dir/guard-broken.log"; then
            pass "rule $file/$rule fails on the broken template"
        else
            fail "rule $file/$rule fails on the broken template"
        fi
    done
done

echo "infra: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
