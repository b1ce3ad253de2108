#!/usr/bin/env bash
# Installs the tools the tests use: the openssl command (CMS interoperability checks).
# Idempotent: installs only what is missing. Needs root (or sudo) for Debian packages.
set -euo pipefail

missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if ((${#missing[@]})); then
    echo "==> installing Debian packages: ${missing[*]}"
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -q
    "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
fi
