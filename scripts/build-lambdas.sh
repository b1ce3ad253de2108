#!/usr/bin/env bash
# Builds the deployable Lambda artefacts: a release x86_64 `bootstrap` for each function
# (token-upload, expiry-sweep, notifier) that has its binary in the workspace, and a zip of
# each as Lambda takes it. By default one `cargo lambda build --release --x86-64` builds them
# all. With --sam it runs `sam build` on infra/template.yaml instead, the deployment's build,
# which calls cargo lambda once per function. Each call resolves the dependencies' features
# for its own package, so shared dependencies can compile once per function.
# Records the sizes and the build time in docs/benchmarks.md, section "Lambda artefacts".
#
# Installs cargo-lambda and ziglang (its linker) into .venv when missing. arm64 is not built:
# the aarch64 standard library is not installed on these machines.
#
# Usage: scripts/build-lambdas.sh [--sam | --tools-only]
# --tools-only installs cargo-lambda, ziglang and SAM into .venv and builds nothing.
# Output: target/sam-build/<Function>/bootstrap (sam build) or <cargo target dir>/lambda/<function>/bootstrap
# (cargo lambda; target/ unless CARGO_TARGET_DIR is set), and target/lambda-zips/<function>.zip.
set -euo pipefail

cd "$(dirname "$0")/.."

use_sam=false
tools_only=false
case "${1:-}" in
    "") ;;
    --sam) use_sam=true ;;
    --tools-only) tools_only=true ;;
    *)
        echo "usage: scripts/build-lambdas.sh [--sam | --tools-only]" >&2
        exit 2
        ;;
esac

CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.17.1
SAM_CLI_VERSION=1.170.0
FUNCTIONS=(token-upload expiry-sweep notifier)
# The logical ids of the functions in infra/template.yaml.
declare -A SAM_FUNCTION_IDS=(
    [token-upload]=TokenUploadFunction
    [expiry-sweep]=ExpirySweepFunction
    [notifier]=NotifierFunction
)

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if [ ! -x .venv/bin/cargo-lambda ]; then
    echo "==> installing cargo-lambda $CARGO_LAMBDA_VERSION and ziglang $ZIGLANG_VERSION into .venv"
    .venv/bin/pip install --quiet "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
fi
if [ ! -x .venv/bin/sam ]; then
    echo "==> installing aws-sam-cli $SAM_CLI_VERSION into .venv"
    .venv/bin/pip install --quiet "aws-sam-cli==$SAM_CLI_VERSION"
fi
export PATH="$PWD/.venv/bin:$PATH"
if $tools_only; then
    exit 0
fi

# The function packages of the workspace that have a binary target of the same name now.
members=$(cargo metadata --no-deps --format-version 1 --locked | .venv/bin/python -c '
import json, sys
for package in json.load(sys.stdin)["packages"]:
    if any(t["name"] == package["name"] and "bin" in t["kind"] for t in package["targets"]):
        print(package["name"])
')
present=()
missing=()
for function in "${FUNCTIONS[@]}"; do
    if grep -qx "$function" <<<"$members"; then
        present+=("$function")
    else
        missing+=("$function")
    fi
done
if ((${#present[@]} == 0)); then
    echo "no function package of ${FUNCTIONS[*]} has a binary of its name in the workspace" >&2
    exit 1
fi

# cargo lambda writes into CARGO_TARGET_DIR when it is set (relative to the repository root).
cargo_target_dir=${CARGO_TARGET_DIR:-target}
# "cold" when the target directory holds no release build for Lambda's target yet, as in CI.
if [ -d "$cargo_target_dir/x86_64-unknown-linux-gnu/release" ]; then
    start_state=warm
else
    start_state=cold
fi
load_average=$(cut -d ' ' -f 1 /proc/loadavg)

if ((${#missing[@]})); then
    echo "==> not built, no package with a binary of that name yet: ${missing[*]}"
fi

declare -A binaries
started=$SECONDS
if $use_sam; then
    if ((${#missing[@]})); then
        echo "sam build needs all of ${FUNCTIONS[*]}; missing: ${missing[*]}" >&2
        exit 1
    fi
    echo "==> sam build --template-file infra/template.yaml"
    export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
    .venv/bin/sam build --template-file infra/template.yaml --build-dir target/sam-build
    built_with="sam build"
    for function in "${present[@]}"; do
        binaries[$function]="target/sam-build/${SAM_FUNCTION_IDS[$function]}/bootstrap"
    done
else
    package_args=()
    for function in "${present[@]}"; do
        package_args+=(-p "$function")
    done
    echo "==> cargo lambda build --release --x86-64 ${package_args[*]}"
    cargo lambda build --release --x86-64 --locked "${package_args[@]}"
    built_with="cargo lambda build"
    if ((${#missing[@]})); then
        built_with="cargo lambda build (${missing[*]} had no binary)"
    fi
    for function in "${present[@]}"; do
        binaries[$function]="$cargo_target_dir/lambda/$function/bootstrap"
    done
fi
build_seconds=$((SECONDS - started))

# The zips go beside SAM's artefact folders, not into them, because sam deploy uploads a
# function's folder whole.
mkdir -p target/lambda-zips
artefacts=()
for function in "${present[@]}"; do
    binary="${binaries[$function]}"
    if [ ! -f "$binary" ]; then
        echo "the build did not produce $binary" >&2
        exit 1
    fi
    # Lambda runs the zip's `bootstrap` entry, which must be executable.
    .venv/bin/python - "$binary" "target/lambda-zips/$function.zip" <<'PYTHON'
import sys, zipfile
source, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
    entry = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
    entry.external_attr = 0o100755 << 16
    entry.compress_type = zipfile.ZIP_DEFLATED
    with open(source, "rb") as binary:
        archive.writestr(entry, binary.read())
PYTHON
    artefacts+=("$function=$binary=target/lambda-zips/$function.zip")
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- 2>/dev/null; then
    commit="$commit+changes"
fi
echo "==> Lambda artefacts (${built_with}, ${build_seconds} s)"
.venv/bin/python - "$commit" "$build_seconds s ($start_state, load $load_average)" "$built_with" "${artefacts[@]}" <<'PYTHON'
import datetime, os, sys
from pathlib import Path

commit, build_time, built_with = sys.argv[1:4]
date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")

def mebibytes(path):
    return f"{os.path.getsize(path) / 1048576:.1f} MiB"

rows = []
for artefact in sys.argv[4:]:
    function, binary, archive = artefact.split("=")
    row = f"| {date} | `{commit}` | {function} | {mebibytes(binary)} | {mebibytes(archive)} | {build_time} | {built_with} |"
    print(row)
    rows.append(row)

HEADING = "## Lambda artefacts"
INTRO = f"""{HEADING}

What it measures: the release x86_64 `bootstrap` of each Lambda function, the zip that
Lambda takes (deflate), and the wall time of the whole build in seconds. "cold" means a
target directory without a release build for Lambda's target, as in CI; "warm" is a
rebuild. The load average (1 minute) at the start shows how busy the machine was. "cargo
lambda build" is one `cargo lambda build --release --x86-64` of every function that has a
binary (what CI runs); "sam build" is `scripts/build-lambdas.sh --sam`, the deployment's
build, which calls cargo lambda once per function. One row per function and run; scripts/build-lambdas.sh appends the rows. A
`+changes` commit had uncommitted changes in the work tree.

Command: `scripts/build-lambdas.sh`. Machine: 2 vCPUs, rustc 1.95, cargo-lambda 1.9.2 with
zig 0.17.1 as the linker. Other builds may share the machine, so times are upper bounds.

| date (UTC) | commit | function | bootstrap | zip | build time (all functions) | built with |
|---|---|---|---|---|---|---|
"""

path = Path("docs/benchmarks.md")
text = path.read_text()
if HEADING not in text:
    text = text.rstrip("\n") + "\n\n" + INTRO + "\n".join(rows) + "\n"
else:
    start = text.index(HEADING)
    following = text.find("\n## ", start + len(HEADING))
    end = len(text) if following == -1 else following + 1
    section = text[start:end].rstrip("\n").split("\n")
    last_row = max(i for i, line in enumerate(section) if line.startswith("|"))
    section[last_row + 1:last_row + 1] = rows
    text = text[:start] + "\n".join(section) + "\n" + ("\n" if following != -1 else "") + text[end:]
path.write_text(text)
PYTHON
