#!/usr/bin/env bash
# Runs the Playwright specs against a freshly seeded console on SQLite or PostgreSQL.
# Usage: scripts/e2e.sh sqlite|postgres [playwright args, e.g. a spec file]   (after `cargo leptos build`)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
backend="${1:-sqlite}"
shift || true
port="${IMS_E2E_PORT:-3917}"
data_dir=$(mktemp -d /tmp/ims-e2e-XXXXXX)
database=""
server_pid=""

cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "$database" ] && psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null || true
  rm -rf "$data_dir"
}
trap cleanup EXIT

case "$backend" in
  sqlite) database_url="sqlite:$data_dir/ims.db?mode=rwc" ;;
  postgres)
    database="ims_e2e_$$"
    psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $database" >/dev/null
    database_url="postgres://postgres@127.0.0.1:5432/$database" ;;
  *) echo "usage: scripts/e2e.sh sqlite|postgres" >&2; exit 2 ;;
esac

site_root="target/site"
[ -f "$site_root/pkg/ims_console.wasm" ] || site_root="$CARGO_TARGET_DIR/site"
export IMS_DEMO_PASSWORD="e2e-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
LEPTOS_SITE_ROOT="$site_root" LEPTOS_SITE_ADDR="127.0.0.1:$port" IMS_DATA_DIR="$data_dir" \
  DATABASE_URL="$database_url" RUST_LOG=warn \
  "$CARGO_TARGET_DIR/debug/ims-console" > "$data_dir/server.log" 2>&1 &
server_pid=$!

echo "Playwright against $backend on port $port"
if ! (cd end2end && IMS_BASE_URL="http://127.0.0.1:$port" npx playwright test "$@"); then
  echo "--- server log ---"; tail -n 50 "$data_dir/server.log"
  exit 1
fi
