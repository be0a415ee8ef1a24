#!/usr/bin/env bash
# Installs what is missing, then runs every check and test:
#   1. unit tests and HTTP integration tests (real servers on loopback), on SQLite and PostgreSQL;
#   2. the cargo-leptos build (server + hydrated WASM);
#   3. Playwright in Debian's Chromium, JavaScript on and off, against a SQLite server and
#      against a PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
bash scripts/ensure-postgres.sh

step "unit and integration tests (SQLite and PostgreSQL)"
# Same flags as cargo-leptos's debug build, so the two share compiled dependencies.
RUSTFLAGS="--cfg erase_components" cargo test --no-default-features --features ssr

step "cargo leptos build (server and WASM front end)"
cargo leptos build

step "Playwright end-to-end tests"
bash scripts/e2e.sh sqlite
bash scripts/e2e.sh postgres
step "all tests passed"
