#!/usr/bin/env bash
# Installs the tools the tests use: the openssl command (CMS interoperability checks), curl,
# and moto server in .venv (an AWS API implementation on loopback for the DynamoDB and KMS
# adapters; scripts/test.sh starts it).
# Idempotent: installs only what is missing. Needs root (or sudo) for Debian packages.
set -euo pipefail

cd "$(dirname "$0")/.."

missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)

if ((${#missing[@]})); then
    echo "==> installing Debian packages: ${missing[*]}"
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -q
    "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
fi

if [ ! -x .venv/bin/moto_server ]; then
    echo "==> installing moto server into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet "moto[server]>=5,<6"
fi
