#!/usr/bin/env bash
# Benchmarks (not tests): the 100,000-image list benchmark on SQLite and PostgreSQL, and the
# release build's WASM and JS sizes. Results go to stdout and bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
bash scripts/ensure-postgres.sh

step "list benchmark: 100,000 images in one project"
cargo bench --bench list_images --no-default-features --features ssr

step "API load: Glance and IMS image lists with 100,000 images (oha from crates.io)"
command -v oha >/dev/null || cargo install oha --locked
cargo bench --bench api_load --no-default-features --features ssr

step "job claiming with 10 and 10,000 jobs waiting"
cargo bench --bench claim_jobs --no-default-features --features ssr

step "inspection time per format"
cargo bench --bench inspect --no-default-features --features ssr

step "release build: WASM and JS sizes"
cargo leptos build --release
mkdir -p bench/results
{
  echo "| File | Raw bytes | gzip -9 bytes |"
  echo "|---|---|---|"
  for file in target/site/pkg/ims_console.wasm target/site/pkg/ims_console.js target/site/pkg/ims_console.css; do
    echo "| $(basename "$file") | $(stat -c %s "$file") | $(gzip -9 -c "$file" | wc -c) |"
  done
} | tee bench/results/sizes.md

step "engine: upload vs dd, import vs bare qemu-img, peak RSS (1 GiB and 4 GiB)"
python3 bench/engine.py "$CARGO_TARGET_DIR/release/ims-console" target/site 1 4

step "compute: image from a server and a server from that image (1 GiB and 4 GiB of data)"
python3 bench/compute.py "$CARGO_TARGET_DIR/release/ims-console" target/site 1 4

step "replication: within the region and to another region vs bare cp (1 GiB and 4 GiB)"
python3 bench/replication.py "$CARGO_TARGET_DIR/release/ims-console" target/site 1 4
