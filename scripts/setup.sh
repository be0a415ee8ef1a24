#!/usr/bin/env bash
# Installs whatever this machine lacks to build, run and test the console. Each step is
# skipped when already done, so a second run takes seconds. Only the Rust, npm and Debian
# registries are used; nothing is downloaded from anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

missing_packages=()
command -v chromium >/dev/null || missing_packages+=(chromium)
command -v qemu-img >/dev/null || missing_packages+=(qemu-utils)
command -v bwrap >/dev/null || missing_packages+=(bubblewrap)  # the disk tools' sandbox
command -v psql >/dev/null || missing_packages+=(postgresql-client)
# mke2fs builds the demo catalog's disk images; debugfs reads them back in the tests.
[ -x /usr/sbin/mke2fs ] && [ -x /usr/sbin/debugfs ] || missing_packages+=(e2fsprogs)
if ((${#missing_packages[@]})); then
  step "Debian packages: ${missing_packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_packages[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
  step "cargo-leptos 0.3.10 (about 25 minutes on 2 cores)"
  # no_downloads: a missing tool is an error, never a download from outside the registries.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --locked --version 0.3.10 --features no_downloads
fi

wasm_bindgen_version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
if ! wasm-bindgen --version 2>/dev/null | grep -q " ${wasm_bindgen_version}\$"; then
  step "wasm-bindgen-cli ${wasm_bindgen_version} (must equal Cargo.lock's wasm-bindgen)"
  cargo install wasm-bindgen-cli --version "${wasm_bindgen_version}"
fi

# Debian's binaryen is too old (its wasm-opt breaks the WASM); npm's 132 works.
if ! wasm-opt --version 2>/dev/null | grep -q 'version 132'; then
  step "wasm-opt (npm binaryen@132.0.0)"
  npm install -g --no-audit --no-fund binaryen@132.0.0
fi

# moto's S3 server stands in for an S3-compatible object store in the tests.
if ! command -v moto_server >/dev/null; then
  step "moto S3 server (PyPI moto[server]) for the S3 object-store tests"
  python3 -m pip install --quiet --disable-pip-version-check "moto[server]==5.2.1"
fi

# The API's real clients (huaweicloudsdkims, the OpenStack ones), pinned, in their own virtual
# environment so they never meet the system Python's packages.
api_clients_venv="$HOME/.cache/ims-api-clients"
if ! cmp -s scripts/api-clients.txt "$api_clients_venv/installed.txt"; then
  step "API clients from PyPI (scripts/api-clients.txt) into $api_clients_venv"
  python3 -m venv "$api_clients_venv"
  "$api_clients_venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/api-clients.txt
  cp scripts/api-clients.txt "$api_clients_venv/installed.txt"
fi

if [ ! -d end2end/node_modules/@playwright/test ]; then
  step "Playwright test runner (uses Debian's Chromium, no browser download)"
  (cd end2end && npm ci --no-audit --no-fund)
fi
