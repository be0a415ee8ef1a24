#!/usr/bin/env bash
# Installs what is missing, then runs every check and test:
#   1. the gates: cargo fmt --check, the layer rule (scripts/check_layers.py), and clippy with
#      warnings as errors for the server (ssr) and the browser (hydrate, WASM) builds;
#   2. unit tests and HTTP integration tests (real servers on loopback), on SQLite and PostgreSQL,
#      and on an S3-compatible object store (moto's S3 server);
#   3. the cargo-leptos build (server + hydrated WASM);
#   4. Playwright in Debian's Chromium, JavaScript on and off, against a SQLite server and
#      against a PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh

step "format, layers and lints (ssr and hydrate builds)"
cargo fmt --check
python3 scripts/check_layers.py --self-test
# Same flags as cargo-leptos's debug build (which sets them itself), so the builds share
# compiled dependencies.
leptos_flags="--cfg erase_components"
RUSTFLAGS="$leptos_flags" cargo clippy --no-default-features --features ssr --all-targets -- -D warnings
RUSTFLAGS="$leptos_flags" cargo clippy --no-default-features --features hydrate --lib --target wasm32-unknown-unknown \
  -- -D warnings

bash scripts/ensure-postgres.sh
# An S3-compatible server on loopback for the object-store tests (stopped when this script ends).
s3_port="${IMS_TEST_S3_PORT:-5999}"
moto_server -H 127.0.0.1 -p "$s3_port" > /tmp/ims-moto-$$.log 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$s3_port/" >/dev/null 2>&1 && break
  sleep 0.2
done
export IMS_TEST_S3_ENDPOINT="http://127.0.0.1:$s3_port"

step "unit and integration tests (SQLite and PostgreSQL)"
RUSTFLAGS="$leptos_flags" cargo test --no-default-features --features ssr

step "cargo leptos build (server and WASM front end)"
# Several checkouts share one target folder, and cargo judges the crate's own build fresh by
# its files' times: sources edited before another checkout's build would look built. Touching
# them makes this checkout's front end and server always the ones tested.
find src -name '*.rs' -exec touch {} +
cargo leptos build

step "Playwright end-to-end tests"
bash scripts/e2e.sh sqlite
bash scripts/e2e.sh postgres
step "all tests passed"
