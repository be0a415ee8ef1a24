#!/usr/bin/env bash
# Fuzzes the image inspector with cargo-fuzz (libFuzzer) for SECONDS (default 300), seeded with
# small images of every format made by qemu-img. RUSTC_BOOTSTRAP lets the stable toolchain
# build with the sanitizer flags cargo-fuzz needs (no nightly toolchain can be fetched here).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
seconds="${1:-300}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
corpus=fuzz/corpus/inspect
mkdir -p "$corpus"
seed_dir=$(mktemp -d)
trap 'rm -rf "$seed_dir"' EXIT
for spec in "qcow2:-o compat=1.1" "qcow2:-o compat=0.10" "qcow:" "vmdk:-o subformat=monolithicSparse" \
            "vmdk:-o subformat=streamOptimized" "vpc:-o subformat=dynamic" "vdi:" "qed:"; do
  format=${spec%%:*}
  options=${spec#*:}
  name="$seed_dir/seed-${format}-$RANDOM"
  # shellcheck disable=SC2086
  qemu-img create -q -f "$format" $options "$name" 1M
  if [ "$(stat -c %s "$name")" -le 1048576 ]; then cp "$name" "$corpus/"; fi
done
head -c 65536 /dev/zero > "$corpus/seed-raw"
unset CARGO_TARGET_DIR
cd fuzz
RUSTC_BOOTSTRAP=1 cargo fuzz run inspect "../$corpus" -- -max_total_time="$seconds" -max_len=1048576 -rss_limit_mb=2048 2>&1 | tail -n 25
