#!/usr/bin/env bash
# Installs what is missing and starts the console on http://127.0.0.1:3000 with the embedded
# default: a SQLite file and an object-store folder under ./data, seeded with demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh

export IMS_DATA_DIR="${IMS_DATA_DIR:-data}"
mkdir -p "$IMS_DATA_DIR"
# The demo password is made once per data directory and kept there, so it stays valid.
password_file="$IMS_DATA_DIR/demo-password.txt"
if [ -z "${IMS_DEMO_PASSWORD:-}" ]; then
  [ -s "$password_file" ] || (umask 077; head -c 12 /dev/urandom | base64 | tr -d '/+=' > "$password_file")
  IMS_DEMO_PASSWORD=$(cat "$password_file")
fi
export IMS_DEMO_PASSWORD

cat <<MESSAGE

  Image Management Service console: http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000}
  Demo logins (account / user): acme / alice (admin), acme / bob (viewer), globex / carol (admin)
  Password: ${IMS_DEMO_PASSWORD}

MESSAGE
exec cargo leptos serve
